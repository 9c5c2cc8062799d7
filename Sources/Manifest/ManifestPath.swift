/// A path into the manifest's data model, printed as `components[1].limits.fuel`.
public struct ManifestPath: Hashable, Sendable, CustomStringConvertible {
    /// One step: a table key or an array index.
    public enum Component: Hashable, Sendable {
        case key(String)
        case index(Int)
    }

    public private(set) var components: [Component]

    public init(_ components: [Component] = []) {
        self.components = components
    }

    public var isEmpty: Bool { components.isEmpty }

    public mutating func append(_ component: Component) { components.append(component) }

    public mutating func removeLast() { components.removeLast() }

    /// This path with one more step.
    public func appending(_ component: Component) -> ManifestPath {
        ManifestPath(components + [component])
    }

    /// This path with a key appended.
    public func key(_ name: String) -> ManifestPath { appending(.key(name)) }

    /// This path with an index appended.
    public func index(_ i: Int) -> ManifestPath { appending(.index(i)) }

    public var description: String {
        var out = ""
        for component in components {
            switch component {
            case let .key(name):
                if !out.isEmpty { out += "." }
                out += name
            case let .index(i):
                out += "[\(i)]"
            }
        }
        return out
    }
}

import WAT
import WasmParser

/// A WebAssembly core module as the sandbox admits it: read from a binary or from WebAssembly
/// text (converted to binary here), refused if it is a Component Model component, and parsed
/// once into a ``ModuleSummary`` that the checks use.
public struct WasmModule: Sendable {
    /// The file or component name used in every message about the module.
    public let name: String
    /// The binary the engine runs (the text format converted, if that is what was given).
    public let binary: [UInt8]
    /// Imports, memory and exports, as parsed.
    public let summary: ModuleSummary

    /// The largest module source accepted.
    public static let maxSourceBytes = 64 << 20

    /// Reads `source`, a Wasm binary or WebAssembly text, named `name` in messages.
    public init(source: [UInt8], name: String) throws(SandboxError) {
        guard source.count <= Self.maxSourceBytes else {
            throw .tooLarge(module: name, size: source.count, limit: Self.maxSourceBytes)
        }
        self.name = name
        if source.starts(with: [0x00, 0x61, 0x73, 0x6D]) {
            binary = source
        } else {
            binary = try Self.convertText(source, name: name)
        }
        guard binary.count >= 8 else { throw .malformed(module: name, reason: "shorter than the 8-byte header") }
        let header = (binary[0], binary[1], binary[2], binary[3], binary[4], binary[5], binary[6], binary[7])
        switch detectWasmFileType(header) {
        case .coreModule: break
        case .component: throw .componentModel(module: name)
        case .unknown:
            throw .malformed(module: name, reason: "unknown version \(binary[4...7].map { String($0) }.joined(separator: " "))")
        }
        summary = try ModuleSummary(parsing: binary, name: name)
    }

    /// Converts WebAssembly text to a binary; a `(component …)` is refused by name.
    private static func convertText(_ source: [UInt8], name: String) throws(SandboxError) -> [UInt8] {
        guard let text = String(validating: source, as: UTF8.self) else { throw .notWebAssembly(module: name) }
        let start = firstToken(of: text)
        if start.hasPrefix("(component") { throw .componentModel(module: name) }
        guard start.hasPrefix("(module") || start.hasPrefix("(") else { throw .notWebAssembly(module: name) }
        do {
            return try wat2wasm(text)
        } catch {
            throw .textSyntax(module: name, reason: String(describing: error))
        }
    }

    /// The text from its first token on, skipping whitespace and comments, with `( component`
    /// normalised to `(component`.
    private static func firstToken(of text: String) -> String {
        var rest = Substring(text)
        while true {
            rest = rest.drop { $0.isWhitespace }
            if rest.hasPrefix(";;") {
                rest = rest.drop { $0 != "\n" }
            } else if rest.hasPrefix("(;") {
                // Block comment: skip to the first ";)" (nesting is rare; the parser sees the rest).
                var scan = rest.dropFirst(2)
                while !scan.isEmpty && !scan.hasPrefix(";)") { scan = scan.dropFirst() }
                rest = scan.dropFirst(2)
            } else {
                break
            }
        }
        guard rest.hasPrefix("(") else { return String(rest.prefix(32)) }
        let keyword = rest.dropFirst().drop { $0.isWhitespace }.prefix { $0.isLetter }
        return "(" + keyword
    }
}

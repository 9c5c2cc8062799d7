/// Host capabilities a component may use beyond its files (the manifest's `wasi` list).
public struct SandboxCapabilities: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Clocks: `clock_res_get`, `clock_time_get`, `poll_oneoff` on clocks.
    public static let clock = SandboxCapabilities(rawValue: 1 << 0)
    /// Randomness: `random_get`.
    public static let random = SandboxCapabilities(rawValue: 1 << 1)

    /// The WASI groups these capabilities open, always including the base group.
    public var groups: Set<WASIGroup> {
        var groups: Set<WASIGroup> = [.base]
        if contains(.clock) { groups.insert(.clock) }
        if contains(.random) { groups.insert(.random) }
        return groups
    }
}

/// The resource limits of one run.
public struct SandboxLimits: Sendable, Equatable {
    /// Fuel: roughly one unit per executed Wasm instruction; the run stops when it is spent.
    public var fuel: UInt64
    /// The most linear memory the module may have, in bytes (rounded down to whole 64 KiB pages).
    public var memoryBytes: Int
    /// The most bytes kept of each of stdout and stderr; anything beyond is counted and dropped.
    public var capturedStreamBytes: Int

    public init(fuel: UInt64, memoryBytes: Int, capturedStreamBytes: Int = 64 << 10) {
        self.fuel = fuel
        self.memoryBytes = memoryBytes
        self.capturedStreamBytes = capturedStreamBytes
    }

    /// The memory ceiling in whole Wasm pages (at least one page is never implied: 0 is allowed).
    public var memoryPages: UInt64 { UInt64(max(0, memoryBytes)) / WasmPage.size }
}

/// The size of a WebAssembly linear-memory page.
public enum WasmPage {
    public static let size: UInt64 = 65_536
}

/// Everything one run gets: exactly these inputs, these declared outputs, these limits.
public struct SandboxRequest: Sendable {
    /// The module, already loaded and checked.
    public var module: WasmModule
    /// `argv`: by convention the component id alone.
    public var arguments: [String]
    /// Files visible read-only as `/in/<name>`.
    public var inputs: [String: [UInt8]]
    /// Names the module may create as `/out/<name>`, each with its size limit in bytes.
    public var outputs: [String: Int]
    public var capabilities: SandboxCapabilities
    public var limits: SandboxLimits

    public init(module: WasmModule, arguments: [String], inputs: [String: [UInt8]], outputs: [String: Int],
                capabilities: SandboxCapabilities, limits: SandboxLimits) {
        self.module = module
        self.arguments = arguments
        self.inputs = inputs
        self.outputs = outputs
        self.capabilities = capabilities
        self.limits = limits
    }
}

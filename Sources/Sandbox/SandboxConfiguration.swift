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
    /// The wall-clock limit an engine that can interrupt running code enforces itself
    /// (wasmtime, checked each time the guest yields on fuel); nil for none. WasmKit cannot
    /// interrupt: there the component's process is killed at the limit
    /// (``SandboxOutcome/timedOut(seconds:)`` is then never the outcome).
    public var wallClockSeconds: Int?

    public init(fuel: UInt64, memoryBytes: Int, capturedStreamBytes: Int = 64 << 10, wallClockSeconds: Int? = nil) {
        self.fuel = fuel
        self.memoryBytes = memoryBytes
        self.capturedStreamBytes = capturedStreamBytes
        self.wallClockSeconds = wallClockSeconds
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
    /// More of them, read from files the caller opened (a component's child: sealed memfds).
    public var inputFiles: [String: SandboxInputFile]
    /// Names the module may create as `/out/<name>`, each with its size limit in bytes.
    public var outputs: [String: Int]
    public var capabilities: SandboxCapabilities
    public var limits: SandboxLimits
    /// How WasmKit runs it (speed only; the guarantees are the same for every setting).
    public var engine: SandboxEngineSettings
    /// The engine that runs it.
    public var runtime: SandboxRuntime
    /// Where a compiling engine keeps what it compiled (nil: compile every time).
    public var compiledModuleCache: CompiledModuleCache?

    public init(module: WasmModule, arguments: [String], inputs: [String: [UInt8]], outputs: [String: Int],
                capabilities: SandboxCapabilities, limits: SandboxLimits, engine: SandboxEngineSettings = .default,
                runtime: SandboxRuntime = .wasmkit, compiledModuleCache: CompiledModuleCache? = nil,
                inputFiles: [String: SandboxInputFile] = [:]) {
        self.module = module
        self.arguments = arguments
        self.inputs = inputs
        self.inputFiles = inputFiles
        self.outputs = outputs
        self.capabilities = capabilities
        self.limits = limits
        self.engine = engine
        self.runtime = runtime
        self.compiledModuleCache = compiledModuleCache
    }
}

/// An input the host reads from an open file at offsets, never holding its bytes: a sealed
/// memfd the broker filled (Docs/sandbox.md). The file must not change while the run lasts.
public struct SandboxInputFile: Sendable, Equatable {
    public let descriptor: Int32
    public let size: Int

    public init(descriptor: Int32, size: Int) {
        self.descriptor = descriptor
        self.size = size
    }
}

/// The WebAssembly engine a run uses. Both give a component the same WASI host, the same
/// limits and the same outcomes; they differ in speed and in what they add to the trusted
/// base (Docs/sandbox.md).
public enum SandboxRuntime: Sendable {
    /// WasmKit, the interpreter built into twocvm.
    case wasmkit
    /// wasmtime (Cranelift) from its pinned, verified C library.
    case wasmtime(WasmtimeLibrary)

    /// The name the manifest uses for it.
    public var name: String {
        switch self {
        case .wasmkit: return "wasmkit"
        case .wasmtime: return "wasmtime"
        }
    }

    /// Starts opening the wasmtime library on a thread of its own (``WasmtimeLibrary/startOpening()``);
    /// nothing for WasmKit. The engine (``engine(for:)``) or ``finishOpening()`` waits for it.
    public func startOpening() {
        if case let .wasmtime(library) = self { library.startOpening() }
    }

    /// Waits for what ``startOpening()`` started.
    public func finishOpening() {
        if case let .wasmtime(library) = self { library.finishOpening() }
    }

    /// The engine, opening the wasmtime library on first use.
    func engine(for module: String) throws(SandboxError) -> any SandboxEngine {
        switch self {
        case .wasmkit: return WasmKitEngine()
        case let .wasmtime(library):
            do {
                try library.open()
            } catch {
                throw .engineUnavailable(module: module, reason: error.description)
            }
            return WasmtimeEngine(library: library)
        }
    }
}

/// How the engine runs a module. Every setting keeps the same guarantees (fuel metering on,
/// every memory access bounds-checked, every function body validated before it first runs);
/// they differ only in speed. `twocvm run` uses ``default``; the others exist so that
/// `make bench` can measure the choice (Docs/performance.md, "Engine tuning").
public struct SandboxEngineSettings: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// When function bodies are validated and translated to the interpreter's code.
    public enum Compilation: String, Sendable {
        /// All of them at instantiation.
        case eager
        /// Each on its first call (compose has validated every body already; a body is still
        /// validated before it first runs).
        case lazy
    }

    /// How the interpreter dispatches instructions.
    public enum Dispatch: String, Sendable {
        /// Direct threading: each handler tail-calls the next (the platform default on x86-64
        /// and AArch64).
        case direct
        /// Token threading: a dispatch loop over an opcode table.
        case token
    }

    /// How linear-memory accesses are bounds-checked.
    public enum BoundsChecking: String, Sendable {
        /// Guard pages around a reserved region and a trap on the fault (Linux, macOS).
        case guardPages
        /// An explicit comparison before every access.
        case software
    }

    public var compilation: Compilation
    public var dispatch: Dispatch
    public var boundsChecking: BoundsChecking

    public init(compilation: Compilation, dispatch: Dispatch, boundsChecking: BoundsChecking) {
        self.compilation = compilation
        self.dispatch = dispatch
        self.boundsChecking = boundsChecking
    }

    /// What `twocvm run` uses: lazy translation (a run translates only the functions it calls),
    /// direct threading, guard-page bounds checks.
    public static let `default` = SandboxEngineSettings(compilation: .lazy, dispatch: .direct, boundsChecking: .guardPages)

    /// The configuration before the tuning of issue #7: every function translated eagerly at
    /// instantiation.
    public static let baseline = SandboxEngineSettings(compilation: .eager, dispatch: .direct, boundsChecking: .guardPages)

    /// The settings by name, for the benchmarks: `default`, `baseline`, or `default` with one
    /// change: `eager`, `token`, `software-bounds`.
    public static let named: [String: SandboxEngineSettings] = [
        "default": .default,
        "baseline": .baseline,
        "eager": .baseline,
        "token": SandboxEngineSettings(compilation: .lazy, dispatch: .token, boundsChecking: .guardPages),
        "software-bounds": SandboxEngineSettings(compilation: .lazy, dispatch: .direct, boundsChecking: .software),
    ]

    /// `compilation/dispatch/bounds`, e.g. `lazy/direct/guardPages`; ``init(_:)`` reads it back.
    public var description: String { "\(compilation.rawValue)/\(dispatch.rawValue)/\(boundsChecking.rawValue)" }

    /// Parses ``description``'s form or one of ``named``.
    public init?(_ text: String) {
        if let settings = Self.named[text] { self = settings; return }
        let parts = text.split(separator: "/").map(String.init)
        guard parts.count == 3, let compilation = Compilation(rawValue: parts[0]), let dispatch = Dispatch(rawValue: parts[1]),
              let bounds = BoundsChecking(rawValue: parts[2]) else { return nil }
        self.init(compilation: compilation, dispatch: dispatch, boundsChecking: bounds)
    }
}

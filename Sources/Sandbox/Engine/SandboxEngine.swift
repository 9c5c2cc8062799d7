/// The engine boundary: what the sandbox needs from a WebAssembly engine, and nothing more.
///
/// Two engines fill it: WasmKit, the interpreter built in (``WasmKitEngine``), and wasmtime,
/// the compiling engine loaded from its pinned C library (``WasmtimeEngine``). Both run over
/// the same ``WASIHost``; nothing outside this target sees which engine runs a module beyond
/// the ``SandboxRuntime`` a caller picks. The sandbox hands an engine a binary that has already
/// been checked (imports, ceilings written in by ``ModuleRewriter``), so an engine's job is
/// only to validate, compile, link the host's functions, meter fuel, and report how execution
/// ended.
protocol SandboxEngine: Sendable {
    /// Validates every part of `binary` (types, function bodies, segments) without running any
    /// of its code. `binary` has no start section; `imports` are its declared imports.
    func validate(binary: [UInt8], imports: [ModuleSummary.Import], module: String) throws(SandboxError)

    /// Parses or compiles `binary` for one run without executing any of it. A component's
    /// child process loads before it locks itself down (a compiler needs executable memory),
    /// and runs after. A compiling engine takes an unchanged module from `cache` instead of
    /// compiling it again, and files what it compiles there.
    func load(binary: [UInt8], imports: [ModuleSummary.Import], module: String,
              settings: SandboxEngineSettings, cache: CompiledModuleCache?) throws(SandboxError) -> any LoadedModule
}

/// A module an engine has loaded: ready to instantiate and run once.
protocol LoadedModule {
    /// Instantiates the module with the host's WASI functions linked, then runs `_start` with
    /// the budget of `limits` (fuel; memory; wall clock where the engine can interrupt).
    func run(host: WASIHost, limits: SandboxLimits) -> EngineRun
}

/// How execution ended, as the engine saw it.
struct EngineRun {
    enum Ending {
        /// `_start` returned.
        case returned
        /// A host function stopped the run (`proc_exit`, a sandbox rule).
        case stopped(HostStop)
        case trap(String)
        case outOfFuel
        /// The wall-clock limit interrupted the run (engines that support interruption).
        case interrupted
        /// The module did not link or instantiate (already refused by the checks, so rare).
        case notInstantiated(String)
    }

    var ending: Ending
    var fuelUsed: UInt64
    /// The size of the module's memory when execution ended.
    var memoryBytes: Int
}

/// The engine boundary: what the sandbox needs from a WebAssembly engine, and nothing more.
///
/// WasmKit fills it (``WasmKitEngine``). A second engine (wasmtime through its C API, say) would
/// implement the same two operations over the same ``WASIHost``; nothing outside this target
/// sees which engine runs a module. The sandbox hands an engine a binary that has already been
/// checked (imports, ceilings written in by ``ModuleRewriter``), so an engine's job is only to
/// validate, link the host's functions, meter fuel, and report how execution ended.
protocol SandboxEngine: Sendable {
    /// Validates every part of `binary` (types, function bodies, segments) without running any
    /// of its code. `binary` has no start section; `imports` are linked to stand-ins that are
    /// never called.
    func validate(binary: [UInt8], imports: [ModuleSummary.Import], module: String) throws(SandboxError)

    /// Instantiates `binary` with the host's WASI functions linked, then runs `_start` with a
    /// budget of `fuel`, configured by `settings`.
    func run(binary: [UInt8], module: String, host: WASIHost, fuel: UInt64, settings: SandboxEngineSettings) -> EngineRun
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
        /// The module did not link or instantiate (already refused by the checks, so rare).
        case notInstantiated(String)
    }

    var ending: Ending
    var fuelUsed: UInt64
    /// The size of the module's memory when execution ended.
    var memoryBytes: Int
}

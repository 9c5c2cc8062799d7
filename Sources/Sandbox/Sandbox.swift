/// The WebAssembly sandbox: the second wall of a Two-Way Confidential VM (SPEC §8, §10).
///
/// One run executes one wasm32-wasi (preview 1) command module with exactly the inputs it is
/// given, as read-only files under `/in`, and lets it create exactly its declared outputs under
/// `/out`, in a filesystem that lives in memory. It has no host files, no environment, no
/// network, clocks and randomness only when granted; fuel, memory and output sizes are bounded.
/// Everything the engine does goes through the ``SandboxEngine`` boundary; callers see only the
/// types of this module.
///
/// Typical use:
/// ```swift
/// let module = try WasmModule(source: bytes, name: "yield-model.wasm")
/// try Sandbox.check(module, capabilities: [], memoryBytes: 64 << 20)       // compose
/// let result = try Sandbox.run(SandboxRequest(module: module, arguments: ["yield-model"],
///     inputs: ["features": data], outputs: ["report": 1 << 20], capabilities: [],
///     limits: SandboxLimits(fuel: 1_000_000_000, memoryBytes: 64 << 20)))
/// ```
public enum Sandbox {
    /// Every check `compose` needs before admitting a module: imports allowed under
    /// `capabilities`, a WASI command (`_start`, exported `memory`), initial memory within
    /// `memoryBytes`, and a module that validates in full (all function bodies).
    public static func check(_ module: WasmModule, capabilities: SandboxCapabilities, memoryBytes: Int,
                             runtime: SandboxRuntime = .wasmkit) throws(SandboxError) {
        let binary = try prepare(module, capabilities: capabilities, memoryBytes: memoryBytes, dropStart: true)
        try runtime.engine(for: module.name).validate(binary: binary, imports: module.summary.imports, module: module.name)
    }

    /// Runs `request.module` once: ``load(_:)`` then ``LoadedRun/run()``. Throws if the module
    /// is refused before it starts (the same checks as ``check(_:capabilities:memoryBytes:runtime:)``
    /// short of full validation on WasmKit: with its default lazy setting each function body is
    /// validated when it is first called, and an invalid one ends the run as a trap, before any
    /// of its code runs; `check` has validated every body at compose); everything that happens
    /// once it runs is the result's outcome.
    public static func run(_ request: SandboxRequest) throws(SandboxError) -> SandboxResult {
        try load(request).run()
    }

    /// Checks, parses or compiles the request's module without running any of it. A component's
    /// child process calls this before it locks itself down (wasmtime compiles to executable
    /// memory, which the lockdown forbids), then ``LoadedRun/run()``.
    public static func load(_ request: SandboxRequest) throws(SandboxError) -> LoadedRun {
        let module = request.module
        let binary = try prepare(module, capabilities: request.capabilities, memoryBytes: request.limits.memoryBytes,
                                 dropStart: false)
        let loaded = try request.runtime.engine(for: module.name).load(binary: binary, imports: module.summary.imports, module: module.name,
                                                     settings: request.engine, cache: request.compiledModuleCache)
        return LoadedRun(request: request, loaded: loaded)
    }

    /// A request whose module is loaded and ready to run once.
    public struct LoadedRun {
        let request: SandboxRequest
        let loaded: any LoadedModule

        /// Runs the module with exactly the request's inputs, outputs, capabilities and limits.
        public func run() -> SandboxResult {
            let host = WASIHost(arguments: request.arguments, inputs: request.inputs, inputFiles: request.inputFiles,
                                outputLimits: request.outputs,
                                capabilities: request.capabilities, streamLimit: request.limits.capturedStreamBytes)
            let execution = LargeStack.run { loaded.run(host: host, limits: request.limits) }
            let outcome = Sandbox.outcome(of: execution, limits: request.limits)
            return SandboxResult(outcome: outcome, outputs: outcome.isSuccess ? host.fileSystem.outputs : [:],
                                 fuelUsed: execution.fuelUsed, peakMemoryBytes: execution.memoryBytes,
                                 stdout: host.stdout.bytes, stderr: host.stderr.bytes)
        }
    }

    /// The checks shared by `check` and `run`, returning the binary with the ceilings written in.
    private static func prepare(_ module: WasmModule, capabilities: SandboxCapabilities, memoryBytes: Int,
                                dropStart: Bool) throws(SandboxError) -> [UInt8] {
        let violations = ImportPolicy.violations(of: module.summary, capabilities: capabilities)
        guard violations.isEmpty else { throw .importsRefused(module: module.name, violations: violations) }
        guard module.summary.exportsStart else { throw .notACommand(module: module.name) }
        guard module.summary.exportsMemory else { throw .noExportedMemory(module: module.name) }
        let pages = UInt64(max(0, memoryBytes)) / WasmPage.size
        return try ModuleRewriter.apply(to: module.binary, memoryPages: pages, module: module.name, dropStart: dropStart)
    }

    /// Maps how the engine stopped onto the outcome. A failure with the memory at its ceiling is
    /// reported as the memory limit it almost certainly is (growth beyond it returned -1).
    fileprivate static func outcome(of execution: EngineRun, limits: SandboxLimits) -> SandboxOutcome {
        let ceiling = Int(limits.memoryPages * WasmPage.size)
        let atCeiling = ceiling > 0 && execution.memoryBytes + Int(WasmPage.size) > ceiling
        func failure(_ detail: String, otherwise outcome: SandboxOutcome) -> SandboxOutcome {
            atCeiling ? .memoryLimit(limitBytes: ceiling, detail: detail) : outcome
        }
        switch execution.ending {
        case .returned, .stopped(.exit(0)): return .ok
        case let .stopped(.exit(code)): return failure("exited with status \(code)", otherwise: .exit(code: code))
        case let .stopped(.violation(outcome)): return outcome
        case let .trap(message): return failure("trapped: \(message)", otherwise: .trap(message: message))
        case .outOfFuel: return .outOfFuel(limit: limits.fuel)
        case .interrupted: return .timedOut(seconds: limits.wallClockSeconds ?? 0)
        case let .notInstantiated(message): return .trap(message: "instantiation failed: \(message)")
        }
    }
}

import Glibc
import Manifest
import Sandbox

/// Runs an execution plan on plaintext held in memory: the orchestration shared by
/// `run --dev` and sealed runs (which open inputs before and seal outputs after).
///
/// Components run one at a time in plan order, each launched through the ``ComponentLauncher``
/// (a child process per component in `twocvm run`) with exactly the inputs its channels bring:
/// datasets by id, and the outputs earlier components wrote under the channel's name. Any
/// failure stops the run with an error naming the component; only a complete run returns
/// outputs, so nothing is released from a failed one.
public struct PlanRunner: Sendable {
    public let plan: ExecutionPlan
    public let launcher: any ComponentLauncher
    /// Where the engines the plan names come from.
    public let engines: EngineLibraries

    public init(plan: ExecutionPlan, launcher: any ComponentLauncher, engines: EngineLibraries = EngineLibraries()) {
        self.plan = plan
        self.launcher = launcher
        self.engines = engines
    }

    /// Reads and checks the plan at `path` (``PlanCoding/load(_:named:)``), as `run` does: once
    /// its CBOR has decoded, and before the checks, `launcher` is told about the wasmtime library
    /// if a component names that engine, so that the first component's child opens it while the
    /// plan is checked.
    public static func loadPlan(_ path: String, launcher: any ComponentLauncher,
                                engines: EngineLibraries) throws(PlanError) -> ExecutionPlan {
        try PlanCoding.load(path) { named in
            if named.contains(.wasmtime), let runtime = try? engines.runtime(for: .wasmtime) { launcher.prepare(for: runtime) }
        }
    }

    /// The runtime of every step, resolved before any component starts: a run never stops
    /// halfway because a later component's engine is missing.
    public func runtimes() throws(PlanRunError) -> [String: SandboxRuntime] {
        var runtimes: [String: SandboxRuntime] = [:]
        for step in plan.steps {
            do {
                runtimes[step.id] = try engines.runtime(for: step.engine)
            } catch {
                throw .component(.engineUnavailable(component: step.id, error))
            }
        }
        return runtimes
    }

    /// Runs the plan on `inputs` (data id → plaintext) and `inputFiles` (data id → plaintext in
    /// a sealed memory file the caller owns and closes afterwards, ``SealedInputFile``), each
    /// checked against the digest the manifest pins for it. `knownDigests` holds the SHA-256 of
    /// an input where the caller has already established it over exactly those bytes (a sealed
    /// run: the plaintext digest its sealed file carries, which the open verified), so it is not
    /// computed again; any other input is hashed here. `progress` is called after each component
    /// with its statistics.
    public func run(inputs: [String: [UInt8]] = [:], inputFiles: [String: SandboxInputFile] = [:],
                    knownDigests: [String: ContentDigest] = [:],
                    progress: (ComponentStatistics) -> Void = { _ in }) throws(PlanRunError) -> PlanRunResult {
        for item in plan.data {
            let bytes = inputs[item.id], file = inputFiles[item.id]
            guard bytes != nil || file != nil else { throw .missingInput(data: item.id) }
            guard let pinned = item.digest else { continue }
            let actual: ContentDigest
            if let known = knownDigests[item.id] {
                actual = known
            } else if let bytes {
                actual = ContentDigest(of: bytes)
            } else {
                do { actual = try file!.contentDigest() } catch { throw .inputUnreadable(data: item.id, errno: error.errno) }
            }
            if actual != pinned { throw .inputDigestMismatch(data: item.id, expected: pinned, actual: actual) }
        }
        let runtimes = try runtimes()
        var produced: [String: [String: [UInt8]]] = [:]  // component → output name → bytes
        var statistics: [ComponentStatistics] = []
        for step in plan.steps {
            var stepInputs: [String: [UInt8]] = [:]
            var stepInputFiles: [String: SandboxInputFile] = [:]
            for input in step.inputs {
                switch input.source {
                case let .data(id):
                    if let file = inputFiles[id] { stepInputFiles[input.name] = file } else { stepInputs[input.name] = inputs[id] }
                case let .component(source, name): stepInputs[input.name] = produced[source]?[name]
                }
            }
            var job = ComponentJob(component: step.id, moduleFile: step.moduleFile, moduleSource: step.module,
                                   digest: step.digest, inputs: stepInputs,
                                   outputs: Dictionary(uniqueKeysWithValues: step.outputs.map { ($0.name, $0.maxBytes) }),
                                   capabilities: step.capabilities, limits: step.sandboxLimits,
                                   timeoutSeconds: step.limits.timeoutSeconds, runtime: runtimes[step.id] ?? .wasmkit)
            job.inputFiles = stepInputFiles
            let stats: ComponentStatistics
            do {
                stats = try launcher.launch(job)
            } catch {
                throw .component(error)
            }
            let result = stats.result
            statistics.append(stats)
            progress(stats)
            guard result.outcome.isSuccess else { throw .failed(component: step.id, outcome: result.outcome, statistics: stats) }
            for output in step.outputs where result.outputs[output.name] == nil {
                throw .missingOutput(component: step.id, name: output.name)
            }
            produced[step.id] = result.outputs
        }
        var released: [String: [UInt8]] = [:]
        for output in plan.outputs {
            released[output.id] = produced[output.from]?[output.id]
        }
        return PlanRunResult(outputs: released, statistics: statistics)
    }
}

/// A complete run: the released outputs (output id → plaintext) and what each component used.
public struct PlanRunResult: Sendable {
    public let outputs: [String: [UInt8]]
    public let statistics: [ComponentStatistics]
}

/// One component's run, the one result type from the launcher to `run --json`: the sandbox's
/// result as the engine gave it (outcome, outputs, fuel, linear memory, the first bytes of stdout
/// and stderr), with what only the broker knows: which component, on which engine, how long the
/// launch took and the child's peak resident set.
public struct ComponentStatistics: Sendable {
    public let component: String
    /// The engine that ran it (`wasmkit` or `wasmtime`).
    public let engine: String
    /// SHA-256 of the engine's library (wasmtime); nil for the built-in WasmKit.
    public let engineLibrary: [UInt8]?
    /// What the sandbox returned. Its outputs are meaningful only when the outcome is ok.
    public let result: SandboxResult
    /// Wall-clock time from the launch to its complete answer.
    public let seconds: Double
    /// Its child process's peak resident set (the kernel's `VmHWM`), when it ran in one.
    public let peakResidentBytes: Int?

    /// The result of `job`, launched on its runtime.
    public init(job: ComponentJob, result: SandboxResult, seconds: Double, peakResidentBytes: Int?) {
        component = job.component
        engine = job.runtime.name
        engineLibrary = job.runtime.libraryDigest
        self.result = result
        self.seconds = seconds
        self.peakResidentBytes = peakResidentBytes
    }

    public var outcome: SandboxOutcome { result.outcome }
    public var fuelUsed: UInt64 { result.fuelUsed }
    /// Its linear memory at the end (the largest it had).
    public var peakMemoryBytes: Int { result.peakMemoryBytes }
    /// The first bytes of its stdout and stderr: diagnostics for `--dev`, never released.
    public var stdout: [UInt8] { result.stdout }
    public var stderr: [UInt8] { result.stderr }
}

/// Why a run stopped. Nothing is released from a stopped run.
public enum PlanRunError: TwoCVMError, Sendable {
    case missingInput(data: String)
    case inputDigestMismatch(data: String, expected: ContentDigest, actual: ContentDigest)
    /// An input's sealed memory file could not be mapped to check its digest (the environment).
    case inputUnreadable(data: String, errno: Int32)
    /// The component could not be run (refused, timed out, crashed).
    case component(ComponentRunError)
    /// The component ran and failed (trap, fuel, memory, undeclared or oversized output, exit status).
    case failed(component: String, outcome: SandboxOutcome, statistics: ComponentStatistics)
    /// The component succeeded without writing a declared output.
    case missingOutput(component: String, name: String)

    /// Inputs the run cannot start with exit 2; an engine this machine cannot load exits 3; a
    /// component that was refused, failed or wrote too little exits 1.
    public var exitStatus: ExitStatus {
        switch self {
        case .missingInput, .inputDigestMismatch: return .badInput
        case .inputUnreadable: return .environment
        case let .component(error): return error.exitStatus
        case .failed, .missingOutput: return .checkFailed
        }
    }

    public var description: String {
        switch self {
        case let .missingInput(data): return "no input for data item \(data)"
        case let .inputDigestMismatch(data, expected, actual):
            return "input \(data) has digest \(actual), but the manifest pins \(expected)"
        case let .inputUnreadable(data, errno):
            return "input \(data): cannot map its sealed memory file to check its digest: \(String(cString: strerror(errno)))"
        case let .component(error): return error.description
        case let .failed(component, outcome, _): return "component \(component) \(outcome)"
        case let .missingOutput(component, name): return "component \(component) did not write its output /out/\(name)"
        }
    }
}

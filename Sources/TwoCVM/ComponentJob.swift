import Manifest
import Sandbox

/// One component run as the broker hands it to a launcher: the module source, exactly this
/// component's inputs, its declared outputs, capabilities and limits.
public struct ComponentJob: Sendable {
    public let component: String
    /// The module file's name (`<id>.wasm` or `<id>.wat`), for messages.
    public let moduleFile: String
    /// The module source as pinned by the manifest digest.
    public let moduleSource: [UInt8]
    public let digest: ContentDigest
    public let inputs: [String: [UInt8]]
    /// Declared output names and their size limits.
    public let outputs: [String: Int]
    public let capabilities: SandboxCapabilities
    public let limits: SandboxLimits
    /// The wall-clock limit; a child past it is killed.
    public let timeoutSeconds: Int
    /// How WasmKit runs the module (speed only; see ``SandboxEngineSettings``).
    public var engine: SandboxEngineSettings
    /// The engine that runs it (the manifest's `engine`).
    public let runtime: SandboxRuntime
    /// Where a compiling engine keeps what it compiled (see ``CompiledModuleCache``).
    public var compiledModuleCache: CompiledModuleCache?
    /// Inputs held as sealed files rather than bytes (in a component's child: ``SealedInputFile``).
    public var inputFiles: [String: SandboxInputFile] = [:]

    /// Every input's name and size, held as bytes or as a file: what the request tells the child
    /// to expect, and (in name order) the order the launcher hands the files over in.
    var inputSizes: [String: Int] {
        inputs.mapValues(\.count).merging(inputFiles.mapValues(\.size)) { $1 }
    }

    public init(component: String, moduleFile: String, moduleSource: [UInt8], digest: ContentDigest,
                inputs: [String: [UInt8]], outputs: [String: Int], capabilities: SandboxCapabilities,
                limits: SandboxLimits, timeoutSeconds: Int, engine: SandboxEngineSettings = .default,
                runtime: SandboxRuntime = .wasmkit, compiledModuleCache: CompiledModuleCache? = nil) {
        self.component = component
        self.moduleFile = moduleFile
        self.moduleSource = moduleSource
        self.digest = digest
        self.inputs = inputs
        self.outputs = outputs
        self.capabilities = capabilities
        self.limits = limits
        self.timeoutSeconds = timeoutSeconds
        self.engine = engine
        self.runtime = runtime
        self.compiledModuleCache = compiledModuleCache
    }

    /// Runs the job in this process (tests, and ``InProcessLauncher``): ``load()``, then run.
    public func runHere() throws(ComponentRunError) -> SandboxResult {
        try load().run()
    }

    /// Checks the module digest again, then parses or compiles the module without running any
    /// of it. The child of ``ChildProcessLauncher`` loads before it locks itself down.
    public func load() throws(ComponentRunError) -> Sandbox.LoadedRun {
        // The engine library opens on a second thread while the module is checked and parsed
        // here; whatever happens below, that thread has ended when this returns.
        runtime.startOpening()
        defer { runtime.finishOpening() }
        guard ContentDigest(of: moduleSource) == digest else {
            throw .digestMismatch(component: component, expected: digest, actual: ContentDigest(of: moduleSource))
        }
        do {
            let module = try WasmModule(source: moduleSource, name: moduleFile)
            return try Sandbox.load(SandboxRequest(module: module, arguments: [component], inputs: inputs, outputs: outputs,
                                                   capabilities: capabilities, limits: limits, engine: engine, runtime: runtime,
                                                   compiledModuleCache: compiledModuleCache, inputFiles: inputFiles))
        } catch {
            throw .refused(component: component, error)
        }
    }

    /// An engine that interrupted the run at the wall-clock limit ends it the way the broker's
    /// kill does, so that both engines give the same error.
    func checkInterruption(_ result: SandboxResult) throws(ComponentRunError) {
        if case .timedOut = result.outcome { throw .timedOut(component: component, seconds: timeoutSeconds) }
    }
}

/// Why a component did not produce a result.
public enum ComponentRunError: TwoCVMError, Sendable {
    case digestMismatch(component: String, expected: ContentDigest, actual: ContentDigest)
    /// The sandbox refused the module before it ran.
    case refused(component: String, SandboxError)
    /// The engine the manifest names for it cannot be loaded on this machine.
    case engineUnavailable(component: String, EngineLibraryError)
    /// The child exceeded its wall-clock limit and was killed.
    case timedOut(component: String, seconds: Int)
    /// The child died (signal, or exit without a valid response); `detail` says how, with the
    /// end of its stderr.
    case crashed(component: String, detail: String)
    /// The child could not be started (`reason`: the system's).
    case launchFailed(component: String, reason: String)
    /// An input could not be put in a sealed file for the child.
    case inputFile(component: String, SealedInputFileError)
    /// The child refused the request before running anything (its message, as it sent it;
    /// `environment`: because its machine lacks something, such as its engine library).
    case refusedInChild(component: String, message: String, environment: Bool)
    /// The child answered something that is not a valid response.
    case badResponse(component: String, WireError)

    /// An unknown `TWOCVM_ENGINE` value (benchmarks only).
    public struct EngineChoice: Error, Sendable {
        public let value: String
    }

    public var description: String {
        switch self {
        case let .digestMismatch(component, expected, actual):
            return "component \(component): module digest is \(actual), the manifest pins \(expected)"
        case let .refused(component, error): return "component \(component): refused: \(error)"
        case let .engineUnavailable(component, error): return "component \(component): engine wasmtime unavailable: \(error)"
        case let .timedOut(component, seconds):
            return "component \(component): killed after its wall-clock limit of \(seconds) s (timeout_s)"
        case let .crashed(component, detail): return "component \(component): its sandbox process crashed (\(detail))"
        case let .launchFailed(component, reason): return "component \(component): cannot start its sandbox process: \(reason)"
        case let .inputFile(component, error): return "component \(component): \(error)"
        case let .refusedInChild(component, message, _):
            // The child's message names the component already (it is a ComponentRunError there).
            return message.hasPrefix("component \(component):") ? message : "component \(component): refused in its sandbox process: \(message)"
        case let .badResponse(component, error): return "component \(component): invalid answer from its sandbox process: \(error)"
        }
    }

    /// A machine that cannot start or feed the child, or load its engine: the environment (3);
    /// everything about the component itself: a failed check (1).
    public var exitStatus: ExitStatus {
        switch self {
        case .engineUnavailable, .launchFailed, .inputFile, .refusedInChild(_, _, true), .refused(_, .engineUnavailable):
            return .environment
        case .digestMismatch, .refused, .timedOut, .crashed, .refusedInChild, .badResponse: return .checkFailed
        }
    }
}

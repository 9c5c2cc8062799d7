import Glibc
import Manifest
import Sandbox

/// `twocvm run PLAN --inputs DIR --out DIR --dev`: local development mode. The plan's inputs are
/// plaintext files `DIR/<data-id>`, its outputs plaintext files `OUT/<output-id>` (mode 0600); the
/// components run with the same isolation and limits as in a sealed run (``PlanRunner``), and
/// nothing is written unless the whole run succeeded.
public enum DevRunWorkflow {
    /// The largest plaintext input read.
    public static let maxInputBytes = 1 << 30

    /// One output file written.
    public struct WrittenOutput: Sendable {
        public let id: String
        public let path: String
        public let length: Int
        public let digest: ContentDigest
    }

    /// What a development run did.
    public struct Outcome: Sendable {
        /// In output id order.
        public let outputs: [WrittenOutput]
        public let statistics: [ComponentStatistics]
    }

    /// Loads the plan, reads every input, calls `willRun` (the components are about to start),
    /// runs the plan and writes its outputs.
    public static func run(planPath: String, inputsDirectory: String, outputDirectory: String, launcher: any ComponentLauncher,
                           engines: EngineLibraries = EngineLibraries(), willRun: () -> Void = {},
                           progress: (ComponentStatistics) -> Void = { _ in }) throws(DevRunError) -> Outcome {
        let plan: ExecutionPlan
        do { plan = try PlanRunner.loadPlan(planPath, launcher: launcher, engines: engines) } catch { throw .plan(error) }
        // Each input copied by the kernel into a sealed memory file, which the components'
        // children read from: the plaintext never passes through this process's memory.
        var data: [String: SandboxInputFile] = [:]
        defer { data.values.forEach { _ = close($0.descriptor) } }
        for item in plan.data {
            do {
                data[item.id] = try SealedInputFile.copy(fromFile: "\(inputsDirectory)/\(item.id)", limit: maxInputBytes, name: item.id)
            } catch {
                switch error {
                case let .file(error): throw .input(data: item.id, error)
                case let .memory(error): throw .inputFile(error)
                }
            }
        }
        willRun()
        let result: PlanRunResult
        do {
            result = try PlanRunner(plan: plan, launcher: launcher, engines: engines).run(inputFiles: data, progress: progress)
        } catch {
            throw .run(error, outputDirectory: outputDirectory)
        }
        var written: [WrittenOutput] = []
        do {
            try FileIO.makeDirectory(outputDirectory)
            for (id, bytes) in result.outputs.sorted(by: { $0.key < $1.key }) {
                let path = "\(outputDirectory)/\(id)"
                try FileIO.writeAtomically(bytes, to: path, mode: 0o600)
                written.append(WrittenOutput(id: id, path: path, length: bytes.count, digest: ContentDigest(of: bytes)))
            }
        } catch {
            throw .write(error)
        }
        return Outcome(outputs: written, statistics: result.statistics)
    }
}

/// Why a development run stopped. Nothing is written to the output directory when it does
/// (except `write`, which stops at the first file that cannot be written).
public enum DevRunError: TwoCVMError {
    case plan(PlanError)
    case input(data: String, FileIOError)
    /// An input could not be put in a sealed memory file (the machine's memory or limits).
    case inputFile(SealedInputFileError)
    case run(PlanRunError, outputDirectory: String)
    case write(FileIOError)

    public var exitStatus: ExitStatus {
        switch self {
        case let .plan(error): return error.exitStatus
        case .input: return .badInput
        case .inputFile: return .environment
        case let .run(error, _): return error.exitStatus
        case let .write(error): return error.exitStatus
        }
    }

    public var description: String {
        switch self {
        case let .plan(error): return error.description
        case let .input(data, error): return "input \(data): \(error)"
        case let .inputFile(error): return error.description
        case let .run(error, outputDirectory): return "run failed, nothing written to \(outputDirectory): \(error)"
        case let .write(error): return error.description
        }
    }
}

/// A component's statistics as `run --json` prints them (dev and sealed runs alike):
/// `{"id", "engine", "engineLibrary" (`sha256:<hex>`, wasmtime only), "outcome", "fuel",
/// "seconds", "memoryBytes", "residentBytes" (when it ran in a child process)}`. The streams
/// are never part of it.
extension ComponentStatistics: Encodable {
    private enum CodingKeys: String, CodingKey {
        case id, engine, engineLibrary, outcome, fuel, seconds, memoryBytes, residentBytes
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(component, forKey: .id)
        try container.encode(engine, forKey: .engine)
        try container.encodeIfPresent(engineLibrary.map { HexDigest(.sha256, bytes: $0) }, forKey: .engineLibrary)
        try container.encode("\(outcome)", forKey: .outcome)
        try container.encode(fuelUsed, forKey: .fuel)
        try container.encode(seconds, forKey: .seconds)
        try container.encode(peakMemoryBytes, forKey: .memoryBytes)
        try container.encodeIfPresent(peakResidentBytes, forKey: .residentBytes)
    }
}

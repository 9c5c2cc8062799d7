import ArgumentParser
import Foundation
import Manifest
import SNP
import TwoCVM

/// `twocvm run PLAN --inputs DIR --out DIR [--dev]`
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an execution plan: one sandboxed process per component.",
        discussion: """
            Components run in the plan's order, each in its own child process with exactly the
            inputs its channels bring, its fuel, memory and wall-clock limits. A failing
            component stops the run and nothing is written to --out.

            Sealed run (inside the confidential VM): checks that the VM is locked to the plan's
            manifest (HOST_DATA, or the runtime lock in --state), opens every
            DIR/<data-id>.sealed with the TEE key (sealed to this VM, for this manifest and data
            id, signed by the data's owner, the pinned digest) before any component starts,
            then seals each output to each recipient as OUT/<output-id>.<recipient>.sealed and
            writes OUT/receipt.cose, signed by the TEE signing key. Plaintext never leaves memory.

            --dev is local development mode: plaintext inputs DIR/<data-id>, plaintext outputs
            DIR/<output-id>, the same isolation and limits, and per-component fuel, time and
            memory. Never use it for production data.

            Each component runs on the engine its manifest entry names (wasmkit or wasmtime);
            wasmtime comes from its pinned library (--engine-library, else
            TWOCVM_WASMTIME_LIBRARY, else lib/twocvm/libwasmtime.so beside the installed binary,
            else a development checkout's .venv); a missing or wrong library exits 3 before any
            component starts.

            Examples:
              twocvm run plan.cbor --inputs sealed/ --out results/ --state /run/twocvm
              twocvm run plan.cbor --inputs data/ --out results/ --dev
            """)

    @Argument(help: ArgumentHelp("The plan written by `twocvm compose`.", valueName: "PLAN"))
    var plan: String

    @Option(name: .long, help: ArgumentHelp("Directory holding the inputs.", valueName: "DIR"))
    var inputs: String

    @Option(name: .long, help: ArgumentHelp("Directory to write the outputs to.", valueName: "DIR"))
    var out: String

    @Option(name: .long, help: ArgumentHelp("State directory of the confidential VM (sealed runs).", valueName: "DIR"))
    var state: String = StateDirectory.defaultPath

    @Option(name: .long, help: ArgumentHelp("Sealed runs: where reports come from: auto, snp or simulated.", valueName: "PLATFORM"))
    var platform: String = "auto"

    @Option(name: .long, help: ArgumentHelp("The pinned wasmtime C library (wasmtime components).", valueName: "PATH"))
    var engineLibrary: String?

    @Flag(name: .long, help: "Development mode: plaintext inputs and outputs, no keys.")
    var dev = false

    @Flag(name: .long, help: "With --dev: also print each component's stdout and stderr (never released otherwise).")
    var showOutput = false

    @Flag(name: .long, help: "Print the per-component statistics and outputs as JSON.")
    var json = false

    @OptionGroup var progress: ProgressOptions

    func run() throws {
        progress.apply()
        guard dev else { return try runSealed() }
        let loaded: ExecutionPlan
        do {
            loaded = try PlanCoding.load(plan)
        } catch {
            throw CommandFailure(error.isCheckFailure ? .checkFailed : .badInput, error.description)
        }
        var data: [String: [UInt8]] = [:]
        for item in loaded.data {
            do {
                data[item.id] = try FileIO.read("\(inputs)/\(item.id)", limit: 1 << 30)
            } catch {
                throw CommandFailure(.badInput, "input \(item.id): \(error)")
            }
        }
        Console.warning("--dev: plaintext inputs and outputs; not for production data")
        let runner = PlanRunner(plan: loaded, launcher: ChildProcessLauncher.currentExecutable(),
                                engines: EngineLibraries(explicitLibrary: engineLibrary))
        let result: PlanRunResult
        do {
            result = try runner.run(inputs: data) { stats in
                if !json { Console.out(Self.line(stats)) }
                if showOutput || !stats.outcome.isSuccess { Self.printStreams(stats) }
            }
        } catch {
            throw CommandFailure(error.isEnvironment ? .environment : error.isBadInput ? .badInput : .checkFailed,
                                 "run failed, nothing written to \(out): \(error)")
        }
        try write(result)
    }

    private func write(_ result: PlanRunResult) throws {
        do {
            try FileIO.makeDirectory(out)
            for (id, bytes) in result.outputs.sorted(by: { $0.key < $1.key }) {
                try FileIO.writeAtomically(bytes, to: "\(out)/\(id)", mode: 0o600)
            }
        } catch {
            throw CommandFailure(.environment, String(describing: error))
        }
        if json {
            try Console.json(Report(
                ok: true,
                components: result.statistics.map(Report.Component.init),
                outputs: result.outputs.sorted { $0.key < $1.key }.map {
                    .init(id: $0.key, path: "\(out)/\($0.key)", bytes: $0.value.count, digest: ContentDigest(of: $0.value).description)
                }))
        } else {
            for (id, bytes) in result.outputs.sorted(by: { $0.key < $1.key }) {
                Console.out("wrote \(out)/\(id) (\(bytes.count) bytes, \(ContentDigest(of: bytes)))")
            }
        }
    }

    private func runSealed() throws {
        guard let kind = AttestWorkflow.Platform(rawValue: platform) else {
            throw CommandFailure(.badInput, "--platform must be auto, snp or simulated; got \(platform)")
        }
        let outcome: SealedRunWorkflow.Outcome
        do {
            outcome = try SealedRunWorkflow.run(planPath: plan, inputsDirectory: inputs, outputDirectory: out, statePath: state,
                                                platform: kind, launcher: ChildProcessLauncher.currentExecutable(),
                                                engines: EngineLibraries(explicitLibrary: engineLibrary)) { stats in
                if !json { Console.progress(Self.line(stats)) }
            }
        } catch let error as PlanError {
            throw CommandFailure(error.isCheckFailure ? .checkFailed : .badInput, error.description)
        } catch let error as SealedRunError {
            switch error {
            case .missingInput, .unknownOwner, .unknownRecipient: throw CommandFailure(.badInput, error.description)
            case let .run(runError) where runError.isBadInput: throw CommandFailure(.badInput, "run failed, nothing written to \(out): \(error)")
            case let .run(runError) where runError.isEnvironment:
                throw CommandFailure(.environment, "run failed, nothing written to \(out): \(error)")
            case .run: throw CommandFailure(.checkFailed, "run failed, nothing written to \(out): \(error)")
            default: throw CommandFailure(.checkFailed, error.description)
            }
        } catch let error as StateError {
            if case .noTEEKeys = error { throw CommandFailure(.environment, error.description) }
            throw CommandFailure(.checkFailed, error.description)
        } catch let error as GuestDeviceError {
            throw CommandFailure(.environment, "sealed runs happen inside the confidential VM: \(error)")
        } catch let error as SimulatorWorkflowError {
            throw CommandFailure(.environment, error.description)
        }
        let label = outcome.platform == .simulated ? " (SIMULATED platform)" : ""
        if json {
            try Console.json(SealedReport(
                ok: true, platform: outcome.platform.rawValue, lock: outcome.lock.rawValue, receipt: outcome.receiptPath,
                components: outcome.statistics.map(Report.Component.init),
                inputs: outcome.receipt.inputs.map { .init(id: $0.id, recipient: nil, path: nil, sha256: "sha256:" + Hex.encode($0.sha256)) },
                outputs: outcome.outputs.map { .init(id: $0.id, recipient: $0.recipient, path: $0.path, sha256: "sha256:" + Hex.encode($0.sha256)) }))
        } else {
            Console.out("\(outcome.lock.rawValue) lock holds for manifest \(outcome.receipt.manifest)\(label); "
                + "opened \(outcome.receipt.inputs.count) sealed input(s) before any component ran")
            for output in outcome.outputs {
                Console.out("wrote \(output.path) (\(output.length) bytes for \(output.recipient), sealed sha256:\(Hex.encode(output.sha256)))")
            }
            Console.out("wrote \(outcome.receiptPath) (signed by the TEE signing key)")
        }
    }

    static func line(_ stats: ComponentStatistics) -> String {
        let rss = stats.peakResidentBytes.map { ", process peak RSS \(mib($0))" } ?? ""
        return "\(stats.component) [\(stats.engine)]: \(stats.outcome), fuel \(stats.fuelUsed), time \(String(format: "%.3f", stats.seconds)) s, "
            + "peak memory \(mib(stats.peakMemoryBytes))\(rss)"
    }

    private static func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }

    private static func printStreams(_ stats: ComponentStatistics) {
        for (name, bytes) in [("stdout", stats.stdout), ("stderr", stats.stderr)] where !bytes.isEmpty {
            Console.progress("\(stats.component) \(name):\n" + String(decoding: bytes, as: UTF8.self))
        }
    }

    struct SealedReport: Encodable {
        struct File: Encodable {
            let id: String
            let recipient: String?
            let path: String?
            let sha256: String
        }

        let ok: Bool
        let platform: String
        let lock: String
        let receipt: String
        let components: [Report.Component]
        let inputs: [File]
        let outputs: [File]
    }

    struct Report: Encodable {
        struct Component: Encodable {
            let id: String
            let engine: String
            /// `sha256:<hex>` of the engine's library (wasmtime only).
            let engineLibrary: String?
            let outcome: String
            let fuel: UInt64
            let seconds: Double
            let memoryBytes: Int
            let residentBytes: Int?

            init(_ stats: ComponentStatistics) {
                id = stats.component
                engine = stats.engine
                engineLibrary = stats.engineLibrary.map { "sha256:" + Hex.encode($0) }
                outcome = "\(stats.outcome)"
                fuel = stats.fuelUsed
                seconds = stats.seconds
                memoryBytes = stats.peakMemoryBytes
                residentBytes = stats.peakResidentBytes
            }
        }

        struct Output: Encodable {
            let id: String
            let path: String
            let bytes: Int
            let digest: String
        }

        let ok: Bool
        let components: [Component]
        let outputs: [Output]
    }
}

extension PlanRunError {
    /// True when this machine lacks an engine the plan needs (exit 3).
    var isEnvironment: Bool {
        if case .component(.engineUnavailable) = self { return true }
        return false
    }

    /// True when the run could not start because of its inputs (exit 2).
    var isBadInput: Bool {
        switch self {
        case .missingInput, .inputDigestMismatch: return true
        default: return false
        }
    }
}

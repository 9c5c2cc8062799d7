import ArgumentParser
import Foundation
import Manifest
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

            --dev is local development mode: plaintext inputs DIR/<data-id>, plaintext outputs
            DIR/<output-id>, the same isolation and limits, and per-component fuel, time and
            memory. Never use it for production data. Sealed runs (inputs DIR/<data-id>.sealed,
            sealed outputs and a signed receipt) need attestation and sealing.

            Example:
              twocvm run plan.cbor --inputs data/ --out results/ --dev
            """)

    @Argument(help: ArgumentHelp("The plan written by `twocvm compose`.", valueName: "PLAN"))
    var plan: String

    @Option(name: .long, help: ArgumentHelp("Directory holding the inputs.", valueName: "DIR"))
    var inputs: String

    @Option(name: .long, help: ArgumentHelp("Directory to write the outputs to.", valueName: "DIR"))
    var out: String

    @Option(name: .long, help: ArgumentHelp("State directory of the confidential VM (sealed runs).", valueName: "DIR"))
    var state: String?

    @Flag(name: .long, help: "Development mode: plaintext inputs and outputs, no keys.")
    var dev = false

    @Flag(name: .long, help: "With --dev: also print each component's stdout and stderr (never released otherwise).")
    var showOutput = false

    @Flag(name: .long, help: "Print the per-component statistics and outputs as JSON.")
    var json = false

    func run() throws {
        guard dev else {
            throw CommandFailure(.badInput, """
                sealed runs need the end-to-end work (attest/seal), which this build does not have yet; \
                for local development with plaintext data use: twocvm run \(plan) --inputs \(inputs) --out \(out) --dev
                """)
        }
        let loaded: ExecutionPlan
        do {
            loaded = try PlanCoding.load(plan)
        } catch {
            throw CommandFailure(.badInput, error.description)
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
        let runner = PlanRunner(plan: loaded, launcher: ChildProcessLauncher.currentExecutable())
        let result: PlanRunResult
        do {
            result = try runner.run(inputs: data) { stats in
                if !json { Console.out(Self.line(stats)) }
                if showOutput || !stats.outcome.isSuccess { Self.printStreams(stats) }
            }
        } catch {
            throw CommandFailure(error.isBadInput ? .badInput : .checkFailed, "run failed, nothing written to \(out): \(error)")
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
                components: result.statistics.map {
                    .init(id: $0.component, outcome: "\($0.outcome)", fuel: $0.fuelUsed, seconds: $0.seconds,
                          memoryBytes: $0.peakMemoryBytes, residentBytes: $0.peakResidentBytes)
                },
                outputs: result.outputs.sorted { $0.key < $1.key }.map {
                    .init(id: $0.key, path: "\(out)/\($0.key)", bytes: $0.value.count, digest: ContentDigest(of: $0.value).description)
                }))
        } else {
            for (id, bytes) in result.outputs.sorted(by: { $0.key < $1.key }) {
                Console.out("wrote \(out)/\(id) (\(bytes.count) bytes, \(ContentDigest(of: bytes)))")
            }
        }
    }

    static func line(_ stats: ComponentStatistics) -> String {
        let rss = stats.peakResidentBytes.map { ", process peak RSS \(mib($0))" } ?? ""
        return "\(stats.component): \(stats.outcome), fuel \(stats.fuelUsed), time \(String(format: "%.3f", stats.seconds)) s, "
            + "peak memory \(mib(stats.peakMemoryBytes))\(rss)"
    }

    private static func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }

    private static func printStreams(_ stats: ComponentStatistics) {
        for (name, bytes) in [("stdout", stats.stdout), ("stderr", stats.stderr)] where !bytes.isEmpty {
            Console.progress("\(stats.component) \(name):\n" + String(decoding: bytes, as: UTF8.self))
        }
    }

    struct Report: Encodable {
        struct Component: Encodable {
            let id: String
            let outcome: String
            let fuel: UInt64
            let seconds: Double
            let memoryBytes: Int
            let residentBytes: Int?
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
    /// True when the run could not start because of its inputs (exit 2).
    var isBadInput: Bool {
        switch self {
        case .missingInput, .inputDigestMismatch: return true
        default: return false
        }
    }
}

import ArgumentParser
import Foundation
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
        // (`main` has already started the first component's process for this launcher: it
        // waits for its job while the plan is decoded and the inputs prepared.)
        let launcher = ChildProcessLauncher.currentExecutable()
        guard dev else { return try runSealed(launcher: launcher) }
        let outcome = try DevRunWorkflow.run(
            planPath: plan, inputsDirectory: inputs, outputDirectory: out, launcher: launcher,
            engines: EngineLibraries(explicitLibrary: engineLibrary),
            willRun: { Console.warning("--dev: plaintext inputs and outputs; not for production data") }
        ) { stats in
            if !json { Console.out(Self.line(stats)) }
            if showOutput || !stats.outcome.isSuccess { Self.printStreams(stats) }
        }
        if json {
            try Console.json(Report(
                ok: true,
                components: outcome.statistics,
                outputs: outcome.outputs.map { .init(id: $0.id, path: $0.path, bytes: $0.length, digest: $0.digest.description) }))
        } else {
            for output in outcome.outputs {
                Console.out("wrote \(output.path) (\(output.length) bytes, \(output.digest))")
            }
        }
    }

    private func runSealed(launcher: ChildProcessLauncher) throws {
        guard let kind = AttestWorkflow.Platform(rawValue: platform) else {
            throw CommandFailure(.badInput, "--platform must be auto, snp or simulated; got \(platform)")
        }
        let outcome = try SealedRunWorkflow.run(planPath: plan, inputsDirectory: inputs, outputDirectory: out, statePath: state,
                                                platform: kind, launcher: launcher,
                                                engines: EngineLibraries(explicitLibrary: engineLibrary)) { stats in
            if !json { Console.progress(Self.line(stats)) }
        }
        let label = outcome.platform == .simulated ? " (SIMULATED platform)" : ""
        if json {
            try Console.json(SealedReport(
                ok: true, platform: outcome.platform.rawValue, lock: outcome.lock.rawValue, receipt: outcome.receiptPath,
                components: outcome.statistics,
                inputs: outcome.receipt.inputs.map { .init(id: $0.id, recipient: nil, path: nil, sha256: HexDigest(.sha256, bytes: $0.sha256).description) },
                outputs: outcome.outputs.map { .init(id: $0.id, recipient: $0.recipient, path: $0.path, sha256: HexDigest(.sha256, bytes: $0.sha256).description) }))
        } else {
            Console.out("\(outcome.lock.rawValue) lock holds for manifest \(outcome.receipt.manifest)\(label); "
                + "opened \(outcome.receipt.inputs.count) sealed input(s) before any component ran")
            for output in outcome.outputs {
                Console.out("wrote \(output.path) (\(output.length) bytes for \(output.recipient), sealed \(HexDigest(.sha256, bytes: output.sha256)))")
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
        let components: [ComponentStatistics]
        let inputs: [File]
        let outputs: [File]
    }

    struct Report: Encodable {
        struct Output: Encodable {
            let id: String
            let path: String
            let bytes: Int
            let digest: String
        }

        let ok: Bool
        let components: [ComponentStatistics]
        let outputs: [Output]
    }
}

import ArgumentParser
import TwoCVM

/// `twocvm receipt verify`
struct ReceiptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receipt",
        abstract: "Check a run's receipt offline (auditors, recipients).",
        subcommands: [Verify.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Verify a receipt against the VM's evidence and show what ran on what.",
            discussion: """
                Checks the evidence (AMD chain, report, manifest lock, REPORT_DATA, evidence
                signature; with --manifest and --reference also the manifest and the launch
                values), then that the receipt is signed by the TEE signing key the evidence binds
                and names the same manifest. Prints the plan digest, the component digests in run
                order, the sealed inputs and outputs and the run's times. Each FILE given (a
                plan, sealed inputs, sealed outputs) must be one the receipt lists. Exit 0 only
                if everything holds.

                Example:
                  twocvm receipt verify results/receipt.cose --evidence evidence.cbor \\
                    --manifest manifest.toml --reference ref.json plan.cbor sealed/*.sealed results/*.sealed
                """)

        @Argument(help: ArgumentHelp("The receipt (OUT/receipt.cose).", valueName: "RECEIPT")) var receipt: String
        @Argument(help: ArgumentHelp("Files that must be listed in the receipt: the plan, sealed inputs and outputs.", valueName: "FILE"))
        var files: [String] = []
        @Option(name: .long, help: ArgumentHelp("The VM's evidence file (twocvm attest).", valueName: "EVIDENCE")) var evidence: String
        @Option(name: .long, help: ArgumentHelp("Also require this manifest (TOML).", valueName: "MANIFEST")) var manifest: String?
        @Option(name: .long, help: ArgumentHelp("Also check the launch measurement and policy.", valueName: "REF")) var reference: String?
        @Option(name: .long, help: ArgumentHelp("Trust this (simulated) ARK; never needed for real AMD evidence.", valueName: "ARK.pem"))
        var trustRoot: String?
        @OptionGroup var policy: PolicyOptions
        @Flag(name: .long, help: "Print the result as JSON.") var json = false

        func run() throws {
            let verified = try ReceiptWorkflow.verify(receipt: receipt, evidence: evidence, manifest: manifest,
                                                      reference: reference, trustRoot: trustRoot,
                                                      options: try policy.validationOptions())
            let matches = try ReceiptWorkflow.match(files, against: verified.receipt)
            let allListed = matches.allSatisfy { $0.listedAs != nil }
            let r = verified.receipt
            if json {
                try Console.json(Report(
                    ok: allListed, manifest: r.manifest.description, plan: HexDigest(.sha384, bytes: r.plan).description, start: r.start, end: r.end,
                    components: r.components.map {
                        .init(id: $0.id, digest: HexDigest(.sha256, bytes: $0.digest).description, engine: $0.engine,
                              engineLibrary: $0.engineLibrary.map { HexDigest(.sha256, bytes: $0).description })
                    },
                    inputs: r.inputs.map { .init(id: $0.id, recipient: nil, digest: HexDigest(.sha256, bytes: $0.sha256).description) },
                    outputs: r.outputs.map { .init(id: $0.id, recipient: $0.recipient, digest: HexDigest(.sha256, bytes: $0.sha256).description) },
                    files: matches.map { .init(path: $0.path, sha256: HexDigest(.sha256, bytes: $0.sha256).description, listedAs: $0.listedAs) },
                    notChecked: verified.verdict.notChecked.map(\.description)))
            } else {
                let label = verified.verdict.platform == .simulated ? " (SIMULATED platform)" : ""
                Console.out("receipt signed by the TEE signing key of verified evidence\(label)")
                Console.out("manifest   \(r.manifest)")
                Console.out("plan       \(HexDigest(.sha384, bytes: r.plan))")
                Console.out("run        \(r.start) .. \(r.end)")
                for c in r.components {
                    let library = c.engineLibrary.map { " (library \(HexDigest(.sha256, bytes: $0)))" } ?? ""
                    Console.out("component  \(c.id) \(HexDigest(.sha256, bytes: c.digest)) on \(c.engine)\(library)")
                }
                for i in r.inputs { Console.out("input      \(i.id) sealed \(HexDigest(.sha256, bytes: i.sha256))") }
                for o in r.outputs { Console.out("output     \(o.id) -> \(o.recipient ?? "?") sealed \(HexDigest(.sha256, bytes: o.sha256))") }
                for m in matches {
                    Console.out("\(m.listedAs == nil ? "NOT LISTED" : "listed    ") \(m.path)\(m.listedAs.map { " (\($0))" } ?? "")")
                }
                let unchecked = verified.verdict.notChecked.filter { $0 != .nonce }.map(\.description)
                if !unchecked.isEmpty { Console.warning("not checked (no --manifest/--reference given): \(unchecked.joined(separator: ", "))") }
            }
            if !allListed { throw ExitCode(ExitStatus.checkFailed.rawValue) }
        }

        struct Report: Encodable {
            struct Entry: Encodable {
                let id: String
                let recipient: String?
                let digest: String
            }

            struct Component: Encodable {
                let id: String
                let digest: String
                let engine: String
                let engineLibrary: String?
            }

            struct File: Encodable {
                let path: String
                let sha256: String
                let listedAs: String?
            }

            let ok: Bool
            let manifest: String
            let plan: String
            let start: String
            let end: String
            let components: [Component]
            let inputs: [Entry]
            let outputs: [Entry]
            let files: [File]
            let notChecked: [String]
        }
    }
}

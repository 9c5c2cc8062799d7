import ArgumentParser
import TwoCVM

/// `twocvm open`
struct OpenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open",
        abstract: "Open a sealed output as its recipient, after checking the evidence and the run's receipt.",
        discussion: """
            In order, refusing at the first failure and writing nothing: the evidence verifies
            (AMD chain, report signature, manifest lock, REPORT_DATA, evidence signature; add
            --manifest and --reference to check the manifest and the launch measurement too);
            the receipt is signed by the TEE signing key that evidence binds, for the same
            manifest; this exact sealed file (its SHA-256) is listed in the receipt for its
            recipient; the file decrypts with your key and was signed by the TEE.

            Example:
              twocvm open results/yield-report.designer.sealed --key keys/designer \\
                --receipt results/receipt.cose --evidence evidence.cbor -o yield-report.csv
            """)

    @Argument(help: ArgumentHelp("The sealed output (OUT/<output-id>.<recipient>.sealed).", valueName: "FILE.sealed"))
    var sealed: String
    @Option(name: .long, help: ArgumentHelp("Your key directory (twocvm keygen).", valueName: "DIR")) var key: String
    @Option(name: .long, help: ArgumentHelp("The run's receipt (OUT/receipt.cose).", valueName: "RECEIPT")) var receipt: String
    @Option(name: .long, help: ArgumentHelp("The VM's evidence file (twocvm attest).", valueName: "EVIDENCE")) var evidence: String
    @Option(name: .long, help: ArgumentHelp("Also require this manifest (TOML) and that it releases the output to you.", valueName: "MANIFEST"))
    var manifest: String?
    @Option(name: .long, help: ArgumentHelp("Also check the launch measurement and policy against these reference values.", valueName: "REF"))
    var reference: String?
    @Option(name: .long, help: ArgumentHelp("Trust this (simulated) ARK; never needed for real AMD evidence.", valueName: "ARK.pem"))
    var trustRoot: String?
    @OptionGroup var policy: PolicyOptions
    @OptionGroup var progress: ProgressOptions
    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the plaintext (mode 0600).", valueName: "FILE")) var output: String
    @Flag(name: .long, help: "Print the result as JSON.") var json = false

    func run() throws {
        progress.apply()
        let outcome = try OpenWorkflow.open(sealedPath: sealed, keyDirectory: key, receiptPath: receipt, evidencePath: evidence,
                                            manifestPath: manifest, referencePath: reference, trustRootPath: trustRoot,
                                            options: try policy.validationOptions(), output: output)
        let label = outcome.verdict.platform == .simulated ? " (SIMULATED platform)" : ""
        // The nonce is never checked here: evidence verified earlier is replayed.
        let unchecked = outcome.verdict.notChecked.filter { $0 != .nonce }.map(\.description)
        if json {
            try Console.json(Report(ok: true, output: output, id: outcome.header.id, recipient: outcome.header.recipient,
                                    bytes: outcome.header.length, sha256: outcome.header.sha256.map { HexDigest(.sha256, bytes: $0).description },
                                    sealedSHA256: HexDigest(.sha256, bytes: outcome.sealedSHA256).description,
                                    manifest: outcome.receipt.manifest.description, platform: outcome.verdict.platform.rawValue,
                                    runStart: outcome.receipt.start, runEnd: outcome.receipt.end, notChecked: unchecked))
            return
        }
        Console.out("evidence verified\(label); receipt signed by its TEE key lists this file for '\(outcome.header.recipient)'")
        Console.out("opened '\(outcome.header.id)' (\(outcome.header.length) bytes, sealed file \(HexDigest(.sha256, bytes: outcome.sealedSHA256))) -> \(output)")
        if !unchecked.isEmpty {
            Console.warning("not checked (no --manifest/--reference given): \(unchecked.joined(separator: ", "))")
        }
    }

    struct Report: Encodable {
        let ok: Bool
        let output: String
        let id: String
        let recipient: String
        let bytes: UInt64
        /// The plaintext's SHA-256 a version 1 file declares (checked); absent for version 2.
        let sha256: String?
        /// The sealed file's SHA-256, as the receipt lists it.
        let sealedSHA256: String
        let manifest: String
        let platform: String
        let runStart: String
        let runEnd: String
        let notChecked: [String]
    }
}

import ArgumentParser
import TwoCVM

/// `twocvm seal`
struct SealCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seal",
        abstract: "Verify the VM's evidence, then seal an input to its TEE key, signed as the data's owner.",
        discussion: """
            Runs every `verify` check first and refuses to seal unless all pass: data is only ever
            sealed to a TEE key bound in verified evidence. The file is HPKE-encrypted
            (DHKEM(P-384), HKDF-SHA384, AES-256-GCM) in chunks bound to the manifest, the data id
            and their order, and signed with the owner's key (Docs/formats.md).

            Example:
              twocvm seal evidence.cbor --manifest manifest.toml --reference ref.json --nonce $NONCE \\
                --data wafer-maps --in wafer-maps.csv --key keys/fab -o inputs/wafer-maps.sealed
            """)

    @Argument(help: ArgumentHelp("The evidence file (twocvm attest).", valueName: "EVIDENCE")) var evidence: String
    @Option(name: .long, help: ArgumentHelp("The manifest (TOML).", valueName: "MANIFEST")) var manifest: String
    @Option(name: .long, help: ArgumentHelp("Reference values.", valueName: "REF")) var reference: String
    @Option(name: .long, help: ArgumentHelp("The nonce the evidence was made for, in hex.", valueName: "HEX")) var nonce: String
    @Option(name: .long, help: ArgumentHelp("The manifest's data id.", valueName: "ID")) var data: String
    @Option(name: .customLong("in"), help: ArgumentHelp("The plaintext file.", valueName: "FILE")) var input: String
    @Option(name: .long, help: ArgumentHelp("The owner's key directory (twocvm keygen).", valueName: "DIR")) var key: String
    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the sealed file.", valueName: "FILE.sealed")) var output: String
    @Option(name: .long, help: ArgumentHelp("Trust this (simulated) ARK.", valueName: "ARK.pem")) var trustRoot: String?
    @OptionGroup var policy: PolicyOptions
    @OptionGroup var progress: ProgressOptions
    @Flag(name: .long, help: "Print the result as JSON.") var json = false

    func run() throws {
        progress.apply()
        guard let nonceBytes = Hex.decode(input: nonce) else { throw CommandFailure(.badInput, "--nonce is not hex") }
        let outcome = try SealWorkflow.seal(evidencePath: evidence, manifestPath: manifest, referencePath: reference, nonce: nonceBytes,
                                            dataID: data, inputPath: input, keyDirectory: key, output: output,
                                            trustRootPath: trustRoot, options: try policy.validationOptions())
        let label = outcome.verdict.platform == .simulated ? " (SIMULATED platform)" : ""
        if json {
            var report = ["sealed": output, "data": data, "owner": outcome.owner, "bytes": "\(outcome.header.length)",
                          "sealedSHA256": HexDigest(.sha256, bytes: outcome.sealedSHA256).description,
                          "platform": outcome.verdict.platform.rawValue]
            report["sha256"] = outcome.plaintextSHA256.map { HexDigest(.sha256, bytes: $0).description }
            try Console.json(report)
        } else {
            Console.out("evidence verified\(label); sealed \(outcome.header.length) bytes of '\(data)' as \(outcome.owner) -> \(output)")
        }
    }
}

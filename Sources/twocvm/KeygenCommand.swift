import ArgumentParser
import TwoCVM

/// `twocvm keygen --out DIR`
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create a participant's signing and encryption key pairs.",
        discussion: """
            Writes DIR/signing.key and DIR/encryption.key (P-384 private keys, PKCS#8 PEM, mode 0600)
            and DIR/signing.pub.pem, DIR/encryption.pub.pem (SPKI PEM) for the manifest's
            signing_key and encryption_key. Refuses to overwrite existing keys.

            Example:
              twocvm keygen --out keys/fab
            """)

    @Option(name: .long, help: ArgumentHelp("Directory to write the keys into (created 0700).", valueName: "DIR"))
    var out: String

    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

    func run() throws {
        try ParticipantKeys.generate(into: out)
        let files = [ParticipantKeys.signingKeyFile, ParticipantKeys.signingPublicFile,
                     ParticipantKeys.encryptionKeyFile, ParticipantKeys.encryptionPublicFile].map { "\(out)/\($0)" }
        if json {
            try Console.json(["directory": out, "signing_public_key": files[1], "encryption_public_key": files[3]])
        } else {
            Console.out("wrote \(files.joined(separator: ", "))")
            Console.out("put the contents of \(files[1]) and \(files[3]) into the manifest's signing_key and encryption_key")
        }
    }
}

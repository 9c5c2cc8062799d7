import ArgumentParser

struct ManifestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest", abstract: "Lint, hash, sign and check approvals of a Commitment Manifest.")
}

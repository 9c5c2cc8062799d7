import ArgumentParser

/// `twocvm launch-measure` (issue: launch digest). Placeholder.
struct LaunchMeasureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launch-measure", abstract: "Compute the expected SEV-SNP launch MEASUREMENT.")
}

import ArgumentParser

/// `twocvm report show|verify` (issue: SEV-SNP report parser and verifier). Placeholder.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Show and verify raw SEV-SNP attestation reports.")
}

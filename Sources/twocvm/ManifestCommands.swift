import ArgumentParser
import Foundation
import TwoCVM

/// `twocvm manifest lint|hash|sign|approvals`
struct ManifestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest",
        abstract: "Lint, hash, sign and check approvals of a Commitment Manifest.",
        subcommands: [ManifestLintCommand.self, ManifestHashCommand.self, ManifestSignCommand.self, ManifestApprovalsCommand.self])
}

struct ManifestLintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Check a manifest against every rule; print findings as file:line:col.",
        discussion: """
            Exit status: 0 no errors (warnings allowed), 1 errors found, 2 the file is not a
            readable TOML manifest (too large, not UTF-8, syntax error, nesting too deep).

            Example:
              twocvm manifest lint Examples/two-party/manifest.toml
            """)

    @Argument(help: ArgumentHelp("The manifest (TOML).", valueName: "MANIFEST"))
    var manifest: String

    @Flag(name: .long, help: "Print findings as JSON.")
    var json = false

    func run() throws {
        let document = try ManifestWorkflow.lint(manifest)
        let errors = document.diagnostics.filter { $0.severity == .error }.count
        let warnings = document.diagnostics.count - errors
        if json {
            try Console.json(LintReport(file: manifest, ok: errors == 0, errors: errors, warnings: warnings,
                                        digest: document.digest?.description, diagnostics: document.diagnostics))
        } else {
            for diagnostic in document.diagnostics { Console.out(diagnostic.description) }
            if errors == 0 {
                Console.out("\(manifest): ok (\(warnings) warning\(warnings == 1 ? "" : "s")), digest \(document.digest!)")
            } else {
                Console.out("\(manifest): \(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
            }
        }
        if document.isUnreadable { throw ExitCode(ExitStatus.badInput.rawValue) }
        if errors > 0 { throw ExitCode(ExitStatus.checkFailed.rawValue) }
    }

    struct LintReport: Encodable {
        let file: String
        let ok: Bool
        let errors: Int
        let warnings: Int
        let digest: String?
        let diagnostics: [Diagnostic]
    }
}

struct ManifestHashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash",
        abstract: "Print the manifest digest (sha384 of its canonical CBOR), or HOST_DATA.",
        discussion: """
            The digest depends only on the manifest's values: comments, whitespace, key order and
            inline-vs-standard tables never change it. HOST_DATA is its first 32 bytes, given to
            the VMM at launch (QEMU: -object sev-snp-guest,...,host-data=<base64>).
            A manifest with lint errors has no digest (exit 2).

            Examples:
              twocvm manifest hash manifest.toml
              twocvm manifest hash manifest.toml --host-data --encoding base64
            """)

    enum Encoding: String, ExpressibleByArgument, CaseIterable {
        case hex, base64
    }

    @Argument(help: ArgumentHelp("The manifest (TOML).", valueName: "MANIFEST"))
    var manifest: String

    @Flag(name: .long, help: "Print the 32-byte HOST_DATA instead of the digest.")
    var hostData = false

    @Option(name: .long, help: "Encoding of --host-data output.")
    var encoding: Encoding = .hex

    @Flag(name: .long, help: "Print digest and HOST_DATA (hex and base64) as JSON.")
    var json = false

    func run() throws {
        let digest = try ManifestWorkflow.load(manifest).digest
        let hostHex = Hex.encode(digest.hostData)
        let hostBase64 = Data(digest.hostData).base64EncodedString()
        if json {
            try Console.json(["file": manifest, "digest": digest.description,
                              "host_data_hex": hostHex, "host_data_base64": hostBase64])
        } else if hostData {
            Console.out(encoding == .hex ? hostHex : hostBase64)
        } else {
            Console.out(digest.description)
        }
    }
}

struct ManifestSignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Approve a manifest: sign its digest as one participant (COSE_Sign1, ES384).",
        discussion: """
            The key in DIR must be the signing_key the manifest lists for the participant.

            Example:
              twocvm manifest sign manifest.toml --key keys/fab --participant fab -o approvals/fab.cose
            """)

    @Argument(help: ArgumentHelp("The manifest (TOML).", valueName: "MANIFEST"))
    var manifest: String

    @Option(name: .long, help: ArgumentHelp("Key directory written by `twocvm keygen`.", valueName: "DIR"))
    var key: String

    @Option(name: .long, help: ArgumentHelp("The participant id signing.", valueName: "ID"))
    var participant: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the approval.", valueName: "APPROVAL.cose"))
    var output: String

    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

    func run() throws {
        let digest = try ManifestWorkflow.sign(manifest, keyDirectory: key, participant: participant, output: output)
        if json {
            try Console.json(["approval": output, "participant": participant, "digest": digest.description])
        } else {
            Console.out("\(participant) approved \(digest) -> \(output)")
        }
    }
}

struct ManifestApprovalsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approvals",
        abstract: "Check that every participant approved the manifest.",
        discussion: """
            Exit status: 0 every participant has a valid approval; 1 someone is missing or an
            approval is invalid (named in the output); 2 unreadable input.

            Example:
              twocvm manifest approvals manifest.toml approvals/*.cose
            """)

    @Argument(help: ArgumentHelp("The manifest (TOML).", valueName: "MANIFEST"))
    var manifest: String

    @Argument(help: ArgumentHelp("Approval files (COSE_Sign1).", valueName: "APPROVAL"))
    var approvals: [String] = []

    @Flag(name: .long, help: "Print the verdict as JSON.")
    var json = false

    func run() throws {
        let (verdict, digest) = try ManifestWorkflow.approvals(manifest, approvalFiles: approvals)
        let ok = verdict.complete && verdict.invalid.isEmpty
        if json {
            try Console.json(ApprovalsReport(ok: ok, digest: digest.description, verdict: verdict))
        } else {
            for (participant, file) in verdict.approvedBy.sorted(by: { $0.key < $1.key }) {
                Console.out("approved  \(participant)  (\(file))")
            }
            for invalid in verdict.invalid {
                Console.out("INVALID   \(invalid.participant ?? "?")  \(invalid.file): \(invalid.reason)")
            }
            for participant in verdict.missing {
                Console.out("MISSING   \(participant)")
            }
            if ok {
                Console.out("all \(verdict.approvedBy.count) participants approved \(digest)")
            } else if !verdict.missing.isEmpty {
                Console.out("not approved by: \(verdict.missing.joined(separator: ", "))")
            } else {
                Console.out("every participant approved, but \(verdict.invalid.count) approval file(s) are invalid")
            }
        }
        if !ok { throw ExitCode(ExitStatus.checkFailed.rawValue) }
    }

    struct ApprovalsReport: Encodable {
        let ok: Bool
        let digest: String
        let verdict: ApprovalVerdict
    }
}

import ArgumentParser
import Foundation
import TwoCVM

/// `twocvm report show|verify`: raw SEV-SNP reports from any tool (SPEC §5, §6).
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Show and verify raw SEV-SNP attestation reports.",
        subcommands: [ReportShowCommand.self, ReportVerifyCommand.self])
}

struct ReportShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print every field of a raw SEV-SNP report, decoded.",
        discussion: """
            Reads snpguest's raw 1184-byte report files and the same bytes as hex. The TCB fields
            are decoded with the layout of the product named by the CPUID fields (version 3+),
            else of --product, else the Milan/Genoa layout.

            Exit status: 0 shown, 2 the file is not a readable report.

            Example:
              twocvm report show report.bin --json
            """)

    @Argument(help: ArgumentHelp("The report: raw 1184 bytes or hex; - for stdin.", valueName: "FILE"))
    var file: String

    @Option(name: .long, help: ArgumentHelp("Decode TCBs for this product (Milan, Genoa, Turin) when the report does not name one.", valueName: "PRODUCT"))
    var product: String?

    @Flag(name: .long, help: "Print the fields as JSON.")
    var json = false

    func run() throws {
        let shown = try ReportWorkflow.show(file, product: try ReportWorkflow.product(named: product))
        if let bundle = shown.evidence {
            Console.progress("\(file): \(bundle.platform == .simulated ? "SIMULATED " : "")evidence (\(bundle.lock.rawValue) lock, \(bundle.tool))")
        }
        if json {
            try Console.json(shown.report)
        } else {
            Console.out(ReportText.render(shown.report))
        }
    }
}

struct ReportVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a raw SEV-SNP report with its VCEK/VLEK against AMD's embedded roots.",
        discussion: """
            Runs every check of SPEC §6 and prints each by name with pass or FAIL and the reason:
            report-parses, product, chain, signature, tcb-extensions, hwid, policy, [min-abi],
            [vmpl], tcb, provisional, [measurement, host-data, report-data, family-id, image-id,
            id-block] (bracketed checks run only with their flag). Docs/verification.md explains
            each.

            --cert is the VCEK or VLEK (DER or PEM; a PEM bundle may also carry the ASK and ARK).
            --chain is an ASK/ASVK + ARK bundle; without it, AMD's embedded certificates are used.
            A supplied ARK must be AMD's pinned root.

            Exit status: 0 every check passed, 1 a check failed, 2 an input is unreadable.

            Example:
              twocvm report verify report.bin --cert vcek.der --allow-provisional --json
              twocvm report verify --files-from reports.tsv --jobs 2
            """)

    @Argument(help: ArgumentHelp("The report: raw 1184 bytes or hex; - for stdin. Several: a batch.", valueName: "REPORT"))
    var reports: [String] = []

    @Option(name: .customLong("cert"), help: ArgumentHelp("The VCEK or VLEK certificate (DER or PEM); once, or once per REPORT.", valueName: "VEK"))
    var certificates: [String] = []

    @Option(name: .customLong("files-from"),
            help: ArgumentHelp("A batch from a list file (- for stdin): one report per line, REPORT or REPORT<tab>VEK or REPORT<tab>VEK<tab>ASK_ARK.pem; --cert and --chain, given once, fill in what a line leaves out. For batches of thousands.",
                               valueName: "LIST"))
    var filesFrom: String?

    @Option(name: .customLong("chain"), help: ArgumentHelp("ASK/ASVK and ARK certificates (PEM bundle); once, or once per REPORT.", valueName: "ASK_ARK.pem"))
    var chains: [String] = []

    @Option(name: .long, help: ArgumentHelp("The product (Milan, Genoa, Turin) when neither report nor certificate names it.", valueName: "PRODUCT"))
    var product: String?

    @OptionGroup(title: "Policy")
    var policy: PolicyOptions

    @Flag(name: .long, help: "Print {ok, checks, report} as JSON (several REPORTs: an array of them, each with its file).")
    var json = false

    @OptionGroup(title: "Batch")
    var batch: BatchOptions

    private var report: String { reports[0] }
    private var certificate: String { certificates[0] }
    private var chain: String? { chains.first }

    mutating func validate() throws {
        if filesFrom != nil {
            guard reports.isEmpty else { throw ValidationError("give reports either as arguments or with --files-from, not both") }
            guard certificates.count <= 1, chains.count <= 1 else {
                throw ValidationError("with --files-from, --cert and --chain may be given once (for every line that names none)")
            }
            return
        }
        guard !reports.isEmpty else { throw ValidationError("missing REPORT (or --files-from LIST)") }
        try BatchOptions.pairing("--cert", certificates.count, with: reports.count, required: true)
        try BatchOptions.pairing("--chain", chains.count, with: reports.count, required: false)
    }

    func run() throws {
        if let filesFrom {
            return try runBatch(ReportWorkflow.items(fromList: filesFrom, certificate: certificates.first, chain: chains.first))
        }
        if reports.count > 1 {
            return try runBatch(reports.indices.map { index in
                BatchVerify.ReportItem(report: reports[index], certificate: certificates[certificates.count == 1 ? 0 : index],
                                       chain: chains.isEmpty ? nil : chains[chains.count == 1 ? 0 : index])
            })
        }
        let verification = try ReportWorkflow.verify(report, certificate: certificate, chain: chain,
                                                     product: try ReportWorkflow.product(named: product),
                                                     options: try policy.validationOptions())
        if json {
            try Console.json(VerifyOutput(verification))
        } else {
            Console.out(ReportText.render(verification, file: report))
        }
        if !verification.ok { throw ExitCode(ExitStatus.checkFailed.rawValue) }
    }

    /// Several reports: checked in parallel (BatchVerify), one result each in input order.
    private func runBatch(_ items: [BatchVerify.ReportItem]) throws {
        let outcomes = ReportWorkflow.verify(items, product: try ReportWorkflow.product(named: product),
                                             options: try policy.validationOptions(), jobs: batch.workers)
        let status = try BatchOutput.print(outcomes, files: items.map(\.report), json: json, jobs: batch.workers, ok: \.ok,
                                           text: { ReportText.render($0, file: $1) }, object: { VerifyOutput($0) })
        if status != .success { throw ExitCode(status.rawValue) }
    }
}

/// The `--json` shape of `report verify` (SPEC §6): `{"ok", "checks", "report"}`.
struct VerifyOutput: Encodable {
    let verification: ReportVerification

    init(_ verification: ReportVerification) { self.verification = verification }

    enum CodingKeys: String, CodingKey { case ok, checks, report }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(verification.ok, forKey: .ok)
        try container.encode(verification.checks, forKey: .checks)
        if let report = verification.report {
            try container.encode(report, forKey: .report)
        } else {
            try container.encodeNil(forKey: .report)
        }
    }
}

import Evidence
import SNP

/// `twocvm report show|verify`: raw SEV-SNP reports from any tool (SPEC §5, §6). `show` also
/// takes an evidence file and shows the report it carries; `verify` checks a report with its
/// VCEK/VLEK (and optionally the ASK/ARK) against AMD's embedded roots.
public enum ReportWorkflow {
    /// Largest report file accepted: a 1184-byte report as hex with generous whitespace.
    public static let reportFileLimit = 64 * 1024
    /// Largest certificate file accepted: a PEM bundle of a few certificates.
    public static let certificateFileLimit = 256 * 1024

    /// A report read for `show`, and the evidence file it came out of, if it did.
    public struct Shown: Sendable {
        public let report: AttestationReport
        public let evidence: EvidenceBundle?
    }

    /// The product named on the command line (`--product`), or nil when none is named.
    public static func product(named name: String?) throws(ReportWorkflowError) -> Product? {
        guard let name else { return nil }
        guard let product = Product(userName: name) else { throw .unknownProduct(name) }
        return product
    }

    /// Reads the report at `path` (raw bytes or hex; `-` is stdin), or the report an evidence
    /// file carries. `product` decodes TCBs when the report does not name its product.
    public static func show(_ path: String, product: Product?) throws(ReportWorkflowError) -> Shown {
        var input: [UInt8]
        do { input = try FileIO.read(path, limit: EvidenceBundle.maxBytes) } catch { throw .file(error) }
        // An evidence file (a CBOR map) shows the report it carries.
        var evidence: EvidenceBundle? = nil
        var evidenceError: EvidenceError? = nil
        if let first = input.first, (0xA0...0xBF).contains(first), input.count != AttestationReport.byteCount {
            do throws(EvidenceError) {
                let bundle = try EvidenceBundle.decode(input)
                input = bundle.report
                evidence = bundle
            } catch {
                evidenceError = error
            }
        }
        guard input.count <= reportFileLimit else { throw .tooLarge(path: path, size: input.count, limit: reportFileLimit) }
        do {
            return Shown(report: try AttestationReport(input: input, product: product), evidence: evidence)
        } catch {
            throw .report(path: path, error, asEvidence: evidenceError)
        }
    }

    /// Verifies the report at `path` with the endorsement key at `certificate` and the optional
    /// ASK/ARK bundle at `chain` (else AMD's embedded certificates).
    public static func verify(_ path: String, certificate: String, chain: String?, product: Product?,
                              options: ValidationOptions) throws(ReportWorkflowError) -> ReportVerification {
        let report: [UInt8], endorsement: [UInt8], chainBytes: [UInt8]?
        do {
            report = try FileIO.read(path, limit: reportFileLimit)
            endorsement = try FileIO.read(certificate, limit: certificateFileLimit)
            chainBytes = try chain.map { path throws(FileIOError) in try FileIO.read(path, limit: certificateFileLimit) }
        } catch {
            throw .file(error)
        }
        let files = EndorsementFiles(endorsementKey: endorsement, endorsementKeySource: certificate,
                                     chain: chainBytes, chainSource: chain ?? "--chain")
        do {
            return try ReportVerifier().verify(reportInput: report, files: files, product: product, options: options)
        } catch {
            throw .verification(path: path, error)
        }
    }

    /// The largest `--files-from` list (about a hundred thousand lines of paths).
    public static let listFileLimit = 16 << 20

    /// The batch a `--files-from` list names: one report per line, `REPORT`, `REPORT<tab>VEK` or
    /// `REPORT<tab>VEK<tab>ASK_ARK.pem` (tabs, so that paths may hold spaces; blank lines are
    /// skipped); a line without its own VEK or chain takes `certificate` and `chain` (the
    /// flags given once), and a line without a VEK when there is no `certificate` is refused.
    /// Lines beyond argv's limits and without the argument parser's cost per argument.
    public static func items(fromList path: String, certificate: String?, chain: String?) throws(ReportWorkflowError)
        -> [BatchVerify.ReportItem] {
        let text: [UInt8]
        do {
            text = try FileIO.read(path, limit: listFileLimit)
        } catch {
            throw .file(error)
        }
        var items: [BatchVerify.ReportItem] = []
        for (index, rawLine) in text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.last == UInt8(ascii: "\r") ? rawLine.dropLast() : rawLine  // CRLF lists
            let fields = line.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false)
                .map { String(decoding: $0, as: UTF8.self) }
            if fields.allSatisfy({ $0.allSatisfy(\.isWhitespace) }) { continue }
            guard fields.count <= 3, !fields.contains(where: \.isEmpty) else {
                throw .listLine(path: path, line: index + 1, reason: "expected REPORT, REPORT<tab>VEK or REPORT<tab>VEK<tab>ASK_ARK.pem")
            }
            guard let vek = fields.count > 1 ? fields[1] : certificate else {
                throw .listLine(path: path, line: index + 1, reason: "no VEK for \(fields[0]): give it on the line or once with --cert")
            }
            items.append(BatchVerify.ReportItem(report: fields[0], certificate: vek, chain: fields.count > 2 ? fields[2] : chain))
        }
        guard !items.isEmpty else { throw .listLine(path: path, line: 0, reason: "names no report") }
        return items
    }

    /// Verifies several reports on `jobs` workers (``BatchVerify/reports(_:product:options:jobs:reportLimit:certificateLimit:verifier:)``).
    public static func verify(_ items: [BatchVerify.ReportItem], product: Product?, options: ValidationOptions,
                              jobs: Int) -> [BatchVerify.Outcome<ReportVerification>] {
        BatchVerify.reports(items, product: product, options: options, jobs: jobs, reportLimit: reportFileLimit,
                            certificateLimit: certificateFileLimit)
    }
}

/// Why a report could not be shown or checked at all (exit 2). A report that reads but fails
/// a check is a ``ReportVerification`` that is not `ok`, not an error.
public enum ReportWorkflowError: TwoCVMError {
    case file(FileIOError)
    /// A line of a `--files-from` list that is not `REPORT[<tab>VEK[<tab>ASK_ARK]]`.
    case listLine(path: String, line: Int, reason: String)
    case tooLarge(path: String, size: Int, limit: Int)
    /// Not a report; `asEvidence` says why it is not an evidence file either, when it looked like one.
    case report(path: String, ReportError, asEvidence: EvidenceError?)
    /// The report or its certificates are not readable as such.
    case verification(path: String, VerificationInputError)
    case unknownProduct(String)

    public var exitStatus: ExitStatus { .badInput }

    public var description: String {
        switch self {
        case let .file(error): return error.description
        case let .listLine(path, line, reason): return "\(path):\(line): \(reason)"
        case let .tooLarge(path, size, limit): return "\(path): \(size) bytes is over the limit of \(limit) bytes for a report"
        case let .report(path, error, asEvidence):
            return "\(path): \(error)" + (asEvidence.map { "; read as an evidence file: \($0)" } ?? "")
        // Certificate errors carry their file already, report errors do not.
        case let .verification(path, .report(error)): return "\(path): \(error)"
        case let .verification(_, .certificate(error)): return error.description
        case let .unknownProduct(name): return "--product must be Milan, Genoa (Bergamo, Siena) or Turin; got \"\(name)\""
        }
    }
}

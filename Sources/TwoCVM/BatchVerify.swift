import Dispatch
import Evidence
import Foundation
import Manifest
import SNP
import Synchronization

/// Batch verification: many reports (`report verify`) or evidence files (`verify`) checked on a
/// bounded pool of workers, one outcome per file in input order. A file that cannot be read is an
/// outcome of its own, so one bad file never stops the others. Every worker shares the process's
/// `ChainCache` (its entries are behind a `Mutex`), so each certificate file set is parsed and
/// its RSA chain verified about once per batch, whatever the number of reports it signs.
public enum BatchVerify {
    /// The workers used unless told otherwise: one per core.
    public static var defaultJobs: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// One report of a `report verify` batch and the certificate files it is checked with.
    public struct ReportItem: Sendable, Equatable {
        public let report: String
        public let certificate: String
        public let chain: String?

        public init(report: String, certificate: String, chain: String?) {
            self.report = report
            self.certificate = certificate
            self.chain = chain
        }
    }

    /// The result for one file: its verdict, or why it could not be checked at all.
    public enum Outcome<Verdict: Sendable>: Sendable {
        case checked(Verdict)
        case unreadable(BatchInputError)

        /// Whether the file was read and every check passed.
        public func ok(_ passed: (Verdict) -> Bool) -> Bool {
            if case let .checked(verdict) = self { return passed(verdict) }
            return false
        }
    }

    /// Verifies every report of `items` with `verifier` on at most `jobs` workers. Certificate
    /// files named by several items are read once; results are in the order of `items`.
    public static func reports(_ items: [ReportItem], product: Product?, options: ValidationOptions, jobs: Int,
                               reportLimit: Int, certificateLimit: Int,
                               verifier: ReportVerifier = ReportVerifier()) -> [Outcome<ReportVerification>] {
        // Read each distinct certificate file once, before the workers start.
        var certificates: [String: Result<[UInt8], BatchInputError>] = [:]
        for path in Set(items.flatMap { [$0.certificate] + ($0.chain.map { [$0] } ?? []) }) {
            certificates[path] = read(path, limit: certificateLimit)
        }
        let files = certificates
        return map(count: items.count, jobs: jobs) { index in
            let item = items[index]
            do throws(BatchInputError) {
                let report = try read(item.report, limit: reportLimit).get()
                let endorsement = EndorsementFiles(
                    endorsementKey: try files[item.certificate]!.get(), endorsementKeySource: item.certificate,
                    chain: try item.chain.map { path throws(BatchInputError) in try files[path]!.get() },
                    chainSource: item.chain ?? "--chain")
                do throws(VerificationInputError) {
                    return .checked(try verifier.verify(reportInput: report, files: endorsement, product: product, options: options))
                } catch {
                    throw .verification(file: item.report, error)
                }
            } catch {
                return .unreadable(error)
            }
        }
    }

    /// Verifies every evidence file of `paths` against one manifest digest, reference values,
    /// nonce and trust root (already loaded: an unreadable one of those stops the whole batch
    /// before it starts), on at most `jobs` workers; results in the order of `paths`.
    public static func evidence(_ paths: [String], digest: ManifestDigest, reference: ReferenceValues, nonce: [UInt8],
                                trustRoot: [UInt8]?, options: ValidationOptions, jobs: Int) -> [Outcome<VerifyWorkflow.Verdict>] {
        map(count: paths.count, jobs: jobs) { index in
            let path = paths[index]
            let bytes: [UInt8]
            do throws(FileIOError) {
                bytes = try FileIO.read(path, limit: EvidenceBundle.maxBytes)
            } catch {
                return .unreadable(.file(error))
            }
            let bundle: EvidenceBundle
            do throws(EvidenceError) {
                bundle = try EvidenceBundle.decode(bytes)
            } catch {
                return .unreadable(.evidence(file: path, error))
            }
            return .checked(VerifyWorkflow.verify(bundle, digest: digest, reference: reference, nonce: nonce,
                                                  trustRoot: trustRoot, options: options))
        }
    }

    /// `body(index)` for every index in `0..<count` on at most `jobs` workers (never more than
    /// `count`), the results in index order. Workers take the next index from a shared counter,
    /// so a slow file does not hold up a fixed share of the others.
    public static func map<Value: Sendable>(count: Int, jobs: Int, _ body: @Sendable (Int) -> Value) -> [Value] {
        let workers = min(max(1, jobs), count)
        if workers <= 1 { return (0..<count).map(body) }
        let next = Atomic<Int>(0)
        let results = Mutex<[Value?]>(Array(repeating: nil, count: count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard index < count else { return }
                let value = body(index)
                results.withLock { $0[index] = value }
            }
        }
        return results.withLock { $0.map { $0! } }
    }

    private static func read(_ path: String, limit: Int) -> Result<[UInt8], BatchInputError> {
        do {
            return .success(try FileIO.read(path, limit: limit))
        } catch {
            return .failure(.file(error))
        }
    }
}

/// Why one file of a batch could not be checked at all (the single-file commands exit 2 for
/// these). Each case names the file.
public enum BatchInputError: TwoCVMError, Sendable {
    /// The file (report, certificate, evidence) cannot be read or is over its size limit.
    case file(FileIOError)
    /// The report or its certificates are not readable as such.
    case verification(file: String, VerificationInputError)
    /// The evidence file is not an evidence bundle.
    case evidence(file: String, EvidenceError)

    /// A file that cannot be checked at all is bad input (2).
    public var exitStatus: ExitStatus { .badInput }

    public var description: String {
        switch self {
        case let .file(error): return error.description
        // Certificate errors carry their file already, report errors do not.
        case let .verification(file, .report(error)): return "\(file): \(error)"
        case let .verification(_, .certificate(error)): return error.description
        case let .evidence(file, error): return "\(file): \(error)"
        }
    }
}

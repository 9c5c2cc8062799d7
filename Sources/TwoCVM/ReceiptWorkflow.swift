import Crypto
import Evidence
import Foundation
import Manifest
import SNP

/// Receipts as recipients and auditors check them (SPEC §8): the evidence verifies, the receipt
/// is signed by the TEE signing key that evidence binds and names the same manifest; then,
/// `twocvm receipt verify`, the plan and sealed files at hand are the ones it lists.
public enum ReceiptWorkflow {
    /// A receipt whose signature and manifest were checked against verified evidence.
    public struct Verified: Sendable {
        public let verdict: VerifyWorkflow.Verdict
        public let runtime: RuntimeData
        public let receipt: Receipt
        /// The manifest, when the caller pinned one.
        public let manifest: Manifest?
    }

    /// One file compared with the receipt.
    public struct FileMatch: Sendable {
        public let path: String
        public let sha256: [UInt8]
        /// What the receipt lists for these bytes: `input <id>`, `output <id> for <recipient>`, `plan`; nil if nothing.
        public let listedAs: String?
    }

    /// The largest receipt read.
    public static let maxReceiptBytes = 1 << 20

    /// Verifies `evidence` (without a nonce: evidence checked earlier is replayed; with
    /// `manifest`/`reference` also the manifest and the launch values) and `receipt` against it.
    /// Throws ``ReceiptWorkflowError/check(_:)`` when either does not hold,
    /// ``ReceiptWorkflowError/input(_:)`` when a file cannot be used at all.
    public static func verify(receipt receiptPath: String, evidence evidencePath: String, manifest manifestPath: String? = nil,
                              reference referencePath: String? = nil, trustRoot trustRootPath: String?,
                              options: ValidationOptions) throws(ReceiptWorkflowError) -> Verified {
        let manifest: (manifest: Manifest, digest: ManifestDigest, document: ManifestDocument)?
        do {
            manifest = try manifestPath.map { path throws(ManifestWorkflowError) in try ManifestWorkflow.load(path) }
        } catch {
            throw .input(.manifest(error))
        }
        let verdict: VerifyWorkflow.Verdict
        do {
            verdict = try VerifyWorkflow.verify(evidencePath: evidencePath, digest: manifest?.digest, referencePath: referencePath,
                                                nonce: nil, trustRootPath: trustRootPath, options: options)
        } catch {
            throw .input(error)
        }
        guard verdict.ok, let runtime = verdict.runtimeData else {
            throw .check(.evidenceNotVerified(failed: verdict.checks.filter { !$0.ok }.map(\.name.description)))
        }
        let bytes: [UInt8]
        do { bytes = try FileIO.read(receiptPath, limit: maxReceiptBytes) } catch { throw .input(.file(error)) }
        let receipt: Receipt
        do { receipt = try Receipt.verify(bytes, signer: runtime.teeSigningKey) } catch {
            throw .check(.receipt(path: receiptPath, reason: error))
        }
        guard receipt.manifest == runtime.manifest else {
            throw .check(.anotherManifest(receipt: receipt.manifest.description, evidence: runtime.manifest.description))
        }
        return Verified(verdict: verdict, runtime: runtime, receipt: receipt, manifest: manifest?.manifest)
    }

    /// What `receipt` lists for each of `paths` (sealed inputs, sealed outputs, the plan).
    public static func match(_ paths: [String], against receipt: Receipt) throws(ReceiptWorkflowError) -> [FileMatch] {
        try paths.map { path throws(ReceiptWorkflowError) in
            let (sha256, sha384) = try digests(of: path)
            var listedAs: String? = nil
            if let input = receipt.inputs.first(where: { $0.sha256 == sha256 }) {
                listedAs = "input \(input.id)"
            } else if let output = receipt.outputs.first(where: { $0.sha256 == sha256 }) {
                listedAs = "output \(output.id) for \(output.recipient ?? "?")"
            } else if sha384 == receipt.plan {
                listedAs = "plan"
            }
            return FileMatch(path: path, sha256: sha256, listedAs: listedAs)
        }
    }

    /// The file's SHA-256 and SHA-384.
    private static func digests(of path: String) throws(ReceiptWorkflowError) -> (sha256: [UInt8], sha384: [UInt8]) {
        do {
            return try SealedFileOnDisk(path: path).digests()
        } catch {
            throw .input(.file(error))
        }
    }
}

/// Why `receipt verify` (and `open`, which starts with it) stopped: a file that cannot be used
/// at all, or evidence or a receipt that does not hold. Exits and reads as the error inside.
public enum ReceiptWorkflowError: TwoCVMError {
    /// The manifest, evidence, reference values, receipt or a file to match cannot be read or decoded.
    case input(VerifyInputError)
    /// The evidence or the receipt does not hold.
    case check(ReceiptCheckError)

    public var exitStatus: ExitStatus {
        switch self {
        case let .input(error): return error.exitStatus
        case let .check(error): return error.exitStatus
        }
    }

    public var description: String {
        switch self {
        case let .input(error): return error.description
        case let .check(error): return error.description
        }
    }
}

/// Why a receipt (or the evidence behind it) was refused.
public enum ReceiptCheckError: TwoCVMError {
    case evidenceNotVerified(failed: [String])
    case receipt(path: String, reason: ReceiptError)
    case anotherManifest(receipt: String, evidence: String)

    /// The evidence or the receipt does not hold: a check failed (1).
    public var exitStatus: ExitStatus { .checkFailed }

    public var description: String {
        switch self {
        case let .evidenceNotVerified(failed):
            return "the evidence does not verify (failed: \(failed.joined(separator: ", "))); run `twocvm verify` for details"
        case let .receipt(path, reason):
            return "\(path): \(reason)"
        case let .anotherManifest(receipt, evidence):
            return "the receipt is for manifest \(receipt), the evidence for \(evidence)"
        }
    }
}

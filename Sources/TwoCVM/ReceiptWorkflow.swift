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

    /// Verifies `evidencePath` (without a nonce: evidence checked earlier is replayed; with
    /// `manifestPath`/`referencePath` also the manifest and the launch values) and the receipt
    /// against it. Throws ``ReceiptCheckError`` when either does not hold.
    public static func verify(receiptPath: String, evidencePath: String, manifestPath: String? = nil,
                              referencePath: String? = nil, trustRootPath: String?, options: ValidationOptions) throws -> Verified {
        let manifest = try manifestPath.map { try ManifestWorkflow.load($0) }
        let verdict = try VerifyWorkflow.verify(evidencePath: evidencePath, digest: manifest?.digest, referencePath: referencePath,
                                                nonce: nil, trustRootPath: trustRootPath, options: options)
        guard verdict.ok, let runtime = verdict.runtimeData else {
            throw ReceiptCheckError.evidenceNotVerified(failed: verdict.checks.filter { !$0.ok }.map(\.name.description))
        }
        let receipt: Receipt
        do {
            receipt = try Receipt.verify(try FileIO.read(receiptPath, limit: maxReceiptBytes), signer: runtime.teeSigningKey)
        } catch let error as ReceiptError {
            throw ReceiptCheckError.receipt(path: receiptPath, reason: error)
        }
        guard receipt.manifest == runtime.manifest else {
            throw ReceiptCheckError.anotherManifest(receipt: receipt.manifest.description, evidence: runtime.manifest.description)
        }
        return Verified(verdict: verdict, runtime: runtime, receipt: receipt, manifest: manifest?.manifest)
    }

    /// What `receipt` lists for each of `paths` (sealed inputs, sealed outputs, the plan).
    public static func match(_ paths: [String], against receipt: Receipt) throws -> [FileMatch] {
        try paths.map { path in
            let (sha256, sha384) = try SealedFileOnDisk(path: path).digests()
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

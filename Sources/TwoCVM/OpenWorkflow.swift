import Crypto
import Evidence
import Foundation
import Manifest
import SNP

/// `twocvm open`: a recipient opens a sealed output (SPEC §5, §8). In order: the evidence
/// verifies (chain, report signature, manifest lock, REPORT_DATA, evidence signature; with
/// `--manifest`/`--reference` also the manifest and the reference measurement and policy); the
/// receipt is signed by the TEE signing key that evidence binds; this exact sealed file is
/// listed in the receipt for its recipient; only then is it decrypted, with the recipient's key,
/// checking that the TEE signed it for this manifest and output id.
public enum OpenWorkflow {
    /// What `open` checked and produced.
    public struct Outcome: Sendable {
        public let verdict: VerifyWorkflow.Verdict
        public let receipt: Receipt
        public let header: SealedFileHeader
        /// The SHA-256 of the sealed file, as the receipt lists it.
        public let sealedSHA256: [UInt8]
    }

    /// Opens `sealedPath` into `output` (atomically, mode 0600) after the checks above.
    public static func open(sealedPath: String, keyDirectory: String, receiptPath: String, evidencePath: String,
                            manifestPath: String? = nil, referencePath: String? = nil, trustRootPath: String?,
                            options: ValidationOptions, output: String) throws -> Outcome {
        // 1, 2. The evidence that names the TEE signing key; the receipt, signed by it, for that manifest.
        let verified: ReceiptWorkflow.Verified
        do {
            verified = try ReceiptWorkflow.verify(receiptPath: receiptPath, evidencePath: evidencePath, manifestPath: manifestPath,
                                                  referencePath: referencePath, trustRootPath: trustRootPath, options: options)
        } catch let error as ReceiptCheckError {
            throw OpenError.receipt(error)
        }
        let receipt = verified.receipt

        // 3. This sealed file, byte for byte, is one the run wrote for its recipient. Its SHA-256
        // comes from the pass that checks its framing and signature (decrypting nothing yet).
        let file = SealedFileOnDisk(path: sealedPath)
        let claimed: SealedFileHeader
        do { claimed = try file.header() } catch { throw OpenError.sealed(path: sealedPath, reason: error) }
        let expect = SealedFile.Expectation(manifest: receipt.manifest, purpose: .output, id: claimed.id, recipient: claimed.recipient,
                                            sender: SealedRunWorkflow.teeName, senderKey: verified.runtime.teeSigningKey)
        let task = "open \(URL(fileURLWithPath: sealedPath).lastPathComponent)"
        let checked: CheckedSealedFile
        do { checked = try file.check(expect: expect, task: task) } catch { throw OpenError.sealed(path: sealedPath, reason: error) }
        let sha256 = checked.fileSHA256!
        guard receipt.outputs.contains(where: { $0.sha256 == sha256 && $0.id == claimed.id && $0.recipient == claimed.recipient }) else {
            throw OpenError.notInReceipt(path: sealedPath, sha256: Hex.encode(sha256), id: claimed.id, recipient: claimed.recipient)
        }

        // 4. The recipient's key; with the manifest at hand, it must be the one it lists.
        let key = try ParticipantKeys.loadEncryptionKey(from: keyDirectory)
        if let manifest = verified.manifest {
            guard let output = manifest.outputs.first(where: { $0.id == claimed.id }), output.to.contains(claimed.recipient),
                  let participant = manifest.participant(claimed.recipient) else {
                throw OpenError.notARecipient(id: claimed.id, recipient: claimed.recipient)
            }
            guard participant.encryptionKey.rawRepresentation == key.publicKey.rawRepresentation else {
                throw OpenError.wrongKey(keyDirectory: keyDirectory, recipient: claimed.recipient)
            }
        }

        // 5. Decrypt to a temporary file, renamed only if every check passed: the header and
        // signature checks (kept by `check`) first, then every chunk, length and SHA-256.
        try FileIO.streamAtomically(to: output, mode: 0o600) { write in
            do {
                try file.decrypt(checked, recipientKey: key, task: task, write: write)
            } catch let error as SealError {
                switch error {
                case .keyAgreement, .chunk: throw OpenError.wrongKey(keyDirectory: keyDirectory, recipient: claimed.recipient)
                default: throw OpenError.sealed(path: sealedPath, reason: error)
                }
            }
        }
        let header = checked.header
        return Outcome(verdict: verified.verdict, receipt: receipt, header: header, sealedSHA256: sha256)
    }
}

/// Why `open` refused. Nothing is written when it does.
public enum OpenError: TwoCVMError {
    /// The evidence or the receipt does not hold.
    case receipt(ReceiptCheckError)
    case sealed(path: String, reason: SealError)
    case notInReceipt(path: String, sha256: String, id: String, recipient: String)
    case notARecipient(id: String, recipient: String)
    case wrongKey(keyDirectory: String, recipient: String)

    /// Every refusal of `open` is a check that failed (1).
    public var exitStatus: ExitStatus { .checkFailed }

    public var description: String { "refusing to open: " + reason }

    /// What failed, without the leading "refusing to open".
    public var reason: String {
        switch self {
        case let .receipt(error):
            return error.description
        case let .sealed(path, reason):
            return "\(path): \(reason)"
        case let .notInReceipt(path, sha256, id, recipient):
            return "\(path) (sha256:\(sha256), output '\(id)' for '\(recipient)') is not a file the receipt lists; refusing"
        case let .notARecipient(id, recipient):
            return "the manifest does not release output '\(id)' to '\(recipient)'"
        case let .wrongKey(directory, recipient):
            return "\(directory)/\(ParticipantKeys.encryptionKeyFile) cannot open this file: it was sealed to '\(recipient)'"
        }
    }
}

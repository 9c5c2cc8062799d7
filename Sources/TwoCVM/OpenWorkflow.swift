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
    ///
    /// When the recipient's key loads and the temporary output can be created, the sealed file
    /// is read once: the signature pass and the decryption run together, the plaintext going
    /// to the temporary file (`FileIO.streamAtomically`), which is renamed only after the
    /// framing, header, signature, receipt listing, recipient and every chunk, the length and
    /// the SHA-256 all passed, and removed otherwise; the same checks refuse in the same order
    /// as the two passes (`openInTwoPasses`), which run when the key or the output is not
    /// there, so that the file's own refusals still come first.
    public static func open(sealedPath: String, keyDirectory: String, receiptPath: String, evidencePath: String,
                            manifestPath: String? = nil, referencePath: String? = nil, trustRootPath: String?,
                            options: ValidationOptions, output: String) throws(OpenError) -> Outcome {
        // 1, 2. The evidence that names the TEE signing key; the receipt, signed by it, for that manifest.
        let verified: ReceiptWorkflow.Verified
        do {
            verified = try ReceiptWorkflow.verify(receipt: receiptPath, evidence: evidencePath, manifest: manifestPath,
                                                  reference: referencePath, trustRoot: trustRootPath, options: options)
        } catch {
            switch error {
            case let .check(error): throw .receipt(error)
            case let .input(error): throw .verification(error)
            }
        }
        let receipt = verified.receipt

        // 3. What the file claims to be (checked below: framing, header, signature).
        let file = SealedFileOnDisk(path: sealedPath)
        let claimed: SealedFileHeader
        do { claimed = try file.header() } catch { throw .sealed(path: sealedPath, reason: error) }
        let expect = SealedFile.Expectation(manifest: receipt.manifest, purpose: .output, id: claimed.id, recipient: claimed.recipient,
                                            sender: SealedRunWorkflow.teeName, senderKey: verified.runtime.teeSigningKey)
        let task = "open \(URL(fileURLWithPath: sealedPath).lastPathComponent)"
        let steps = Steps(sealedPath: sealedPath, keyDirectory: keyDirectory, claimed: claimed, receipt: receipt, manifest: verified.manifest)

        let outcome = { (checked: CheckedSealedFile) in
            Outcome(verdict: verified.verdict, receipt: receipt, header: checked.header, sealedSHA256: checked.fileSHA256!)
        }
        guard let key = try? ParticipantKeys.loadEncryptionKey(from: keyDirectory) else {
            return outcome(try openInTwoPasses(file, expect: expect, task: task, steps: steps, output: output))
        }
        var started = false
        var opened: CheckedSealedFile? = nil
        do throws(OpenError) {
            try FileIO.streamAtomically(to: output, mode: 0o600, fileError: OpenError.file) { (write) throws(OpenError) in
                started = true
                let pass: OpenedSealedFile
                do throws(SealError) { pass = try file.openInOnePass(recipientKey: key, expect: expect, claimed: claimed, task: task, write: write) } catch {
                    throw .sealed(path: sealedPath, reason: error)
                }
                try steps.requireListed(pass.checked)
                try steps.requireRelease(to: key)
                do throws(SealError) { try pass.result() } catch { throw steps.refusal(error) }
                opened = pass.checked
            }
        } catch {
            // The temporary output could not be made: the two passes refuse in the old order.
            guard started else { return outcome(try openInTwoPasses(file, expect: expect, task: task, steps: steps, output: output)) }
            throw error
        }
        return outcome(opened!)
    }

    /// The checks of `open` after the file's own, in their order.
    private struct Steps {
        let sealedPath: String, keyDirectory: String
        let claimed: SealedFileHeader
        let receipt: Receipt
        let manifest: Manifest?

        /// This sealed file, byte for byte (the SHA-256 from the pass that checked its
        /// signature), is one the run wrote for its recipient.
        func requireListed(_ checked: CheckedSealedFile) throws(OpenError) {
            let sha256 = checked.fileSHA256!
            guard receipt.outputs.contains(where: { $0.sha256 == sha256 && $0.id == claimed.id && $0.recipient == claimed.recipient }) else {
                throw .notInReceipt(path: sealedPath, sha256: Hex.encode(sha256), id: claimed.id, recipient: claimed.recipient)
            }
        }

        /// With the manifest at hand, the key must be the one it lists for a recipient of the output.
        func requireRelease(to key: P384.KeyAgreement.PrivateKey) throws(OpenError) {
            guard let manifest else { return }
            guard let output = manifest.outputs.first(where: { $0.id == claimed.id }), output.to.contains(claimed.recipient),
                  let participant = manifest.participant(claimed.recipient) else {
                throw .notARecipient(id: claimed.id, recipient: claimed.recipient)
            }
            guard participant.encryptionKey.rawRepresentation == key.publicKey.rawRepresentation else {
                throw .wrongKey(keyDirectory: keyDirectory, recipient: claimed.recipient)
            }
        }

        /// What a refusal of the header, signature or decryption means here: a key that does
        /// not open the file is the wrong key, unless the manifest has confirmed it is the
        /// recipient's (``requireRelease(to:)``), in which case the file is at fault.
        func refusal(_ error: SealError) -> OpenError {
            switch error {
            case .keyAgreement, .chunk:
                return manifest == nil ? .wrongKey(keyDirectory: keyDirectory, recipient: claimed.recipient)
                                       : .sealed(path: sealedPath, reason: error)
            default: return .sealed(path: sealedPath, reason: error)
            }
        }
    }

    /// The two passes: framing, header and signature (nothing decrypted), the receipt listing,
    /// the key and the recipient; then decryption into the temporary output.
    private static func openInTwoPasses(_ file: SealedFileOnDisk, expect: SealedFile.Expectation, task: String, steps: Steps,
                                        output: String) throws(OpenError) -> CheckedSealedFile {
        let checked: CheckedSealedFile
        do { checked = try file.check(expect: expect, claimed: steps.claimed, task: task) } catch { throw .sealed(path: steps.sealedPath, reason: error) }
        try steps.requireListed(checked)
        let key: P384.KeyAgreement.PrivateKey
        do { key = try ParticipantKeys.loadEncryptionKey(from: steps.keyDirectory) } catch { throw .key(error) }
        try steps.requireRelease(to: key)
        try FileIO.streamAtomically(to: output, mode: 0o600, fileError: OpenError.file) { (write) throws(OpenError) in
            do throws(SealError) { try file.decrypt(checked, recipientKey: key, task: task, write: write) } catch { throw steps.refusal(error) }
        }
        return checked
    }
}

/// Why `open` refused. Nothing is written when it does. The errors of the steps it takes are
/// kept as they are (their own exit statuses and messages).
public enum OpenError: TwoCVMError {
    /// The evidence or the receipt does not hold.
    case receipt(ReceiptCheckError)
    case sealed(path: String, reason: SealError)
    case notInReceipt(path: String, sha256: String, id: String, recipient: String)
    case notARecipient(id: String, recipient: String)
    case wrongKey(keyDirectory: String, recipient: String)
    /// The manifest, evidence, reference values, trust root or receipt cannot be read or decoded.
    case verification(VerifyInputError)
    /// The recipient's key cannot be loaded.
    case key(KeyFileError)
    /// The output cannot be created, synced or renamed.
    case file(FileIOError)

    /// Every refusal of `open` is a check that failed (1); a step's own error keeps its status.
    public var exitStatus: ExitStatus {
        switch self {
        case .receipt, .sealed, .notInReceipt, .notARecipient, .wrongKey: return .checkFailed
        case let .verification(error): return error.exitStatus
        case let .key(error): return error.exitStatus
        case let .file(error): return error.exitStatus
        }
    }

    /// A step's own error reads as that error; a refusal says so.
    public var description: String {
        switch self {
        case .verification, .key, .file: return reason
        default: return "refusing to open: " + reason
        }
    }

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
        case let .verification(error): return error.description
        case let .key(error): return error.description
        case let .file(error): return error.description
        }
    }
}

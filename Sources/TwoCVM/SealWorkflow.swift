import Crypto
import Evidence
import Foundation
import Manifest
import SNP

/// `twocvm seal`: a data owner seals an input to the TEE key of a VM it has just verified
/// (SPEC §5): the evidence is verified first, with every `verify` check, and only a key bound in
/// verified evidence is ever sealed to.
public enum SealWorkflow {
    /// What `seal` produced.
    public struct Outcome: Sendable {
        public let verdict: VerifyWorkflow.Verdict
        public let header: SealedFileHeader
        public let owner: String
        /// The SHA-256 of the sealed file written (what a run's receipt will list).
        public let sealedSHA256: [UInt8]
        /// The SHA-256 of the plaintext, when the manifest pins it (checked against the pin).
        public let plaintextSHA256: [UInt8]?
    }

    /// Verifies `evidencePath`, then seals `inputPath` as data item `dataID` with the owner's
    /// key from `keyDirectory`, writing `output` atomically. The plaintext, a regular file, is
    /// read once, chunk by chunk into reused buffers, and refused if it changes meanwhile; the
    /// sealed file's hash for the signature runs on a second thread (Docs/formats.md
    /// "Streaming"). The plaintext's own SHA-256 is taken only when the manifest pins it.
    public static func seal(evidencePath: String, manifestPath: String, referencePath: String, nonce: [UInt8],
                            dataID: String, inputPath: String, keyDirectory: String, output: String,
                            trustRootPath: String?, options: ValidationOptions) throws(SealWorkflowError) -> Outcome {
        let manifest: Manifest, digest: ManifestDigest
        do { (manifest, digest, _) = try ManifestWorkflow.load(manifestPath) } catch { throw .manifest(error) }
        let verdict: VerifyWorkflow.Verdict
        do {
            verdict = try VerifyWorkflow.verify(evidencePath: evidencePath, digest: digest, referencePath: referencePath,
                                                nonce: nonce, trustRootPath: trustRootPath, options: options)
        } catch { throw .verification(error) }
        guard verdict.ok, let runtime = verdict.runtimeData else {
            throw .evidenceNotVerified(failed: verdict.checks.filter { !$0.ok }.map(\.name.description))
        }
        guard let item = manifest.dataItem(dataID) else {
            throw .unknownData(id: dataID, known: manifest.data.map(\.id))
        }
        guard let owner = manifest.participant(item.owner) else { throw .unknownData(id: dataID, known: []) }
        let key: P384.Signing.PrivateKey
        do { key = try ParticipantKeys.loadSigningKey(from: keyDirectory) } catch { throw .key(error) }
        guard key.publicKey.rawRepresentation == owner.signingKey.rawRepresentation else {
            throw .notTheOwner(dataID: dataID, owner: owner.id, keyDirectory: keyDirectory)
        }
        guard let size = FileIO.size(of: inputPath) else {
            throw .file(.unreadable(path: inputPath, reason: "not a readable regular file (seal needs its length before it reads it)"))
        }
        var sealed: SealedFile.Sealed? = nil
        let progress = ProgressReporting.sealedFile(task: "seal \(URL(fileURLWithPath: inputPath).lastPathComponent)", length: size)
        defer { if progress != nil { ProgressReporting.finish() } }
        try FileIO.streamAtomically(to: output, mode: 0o644, fileError: SealWorkflowError.file) { (write) throws(SealWorkflowError) in
            let written: SealedFile.Sealed
            do throws(SealError) {
                written = try SealedFile.seal(reading: FileIO.stableBufferReader(inputPath), length: size, manifest: digest, purpose: .input,
                                              id: dataID, recipientName: "tee", recipientKey: runtime.teePublicKey, sender: owner.id,
                                              senderKey: key, digestingPlaintext: item.digest != nil, progress: progress, write: write)
            } catch { throw .sealed(error) }
            if let pinned = item.digest, let plaintext = written.plaintextSHA256, pinned.hexDigest != HexDigest(.sha256, bytes: plaintext) {
                throw .digestMismatch(dataID: dataID, pinned: pinned.hexDigest, found: HexDigest(.sha256, bytes: plaintext))
            }
            sealed = written
        }
        return Outcome(verdict: verdict, header: sealed!.header, owner: owner.id, sealedSHA256: sealed!.fileSHA256,
                       plaintextSHA256: sealed!.plaintextSHA256)
    }
}

/// Why `seal` refused. The errors of the steps it takes are kept as they are (their own exit
/// statuses and messages).
public enum SealWorkflowError: TwoCVMError {
    case evidenceNotVerified(failed: [String])
    case unknownData(id: String, known: [String])
    case notTheOwner(dataID: String, owner: String, keyDirectory: String)
    case digestMismatch(dataID: String, pinned: HexDigest, found: HexDigest)
    /// The manifest cannot be loaded.
    case manifest(ManifestWorkflowError)
    /// The evidence, reference values or trust root cannot be used.
    case verification(VerifyInputError)
    /// The owner's signing key cannot be loaded.
    case key(KeyFileError)
    /// The input cannot be read or sealed, or a chunk not written (the library's error).
    case sealed(SealError)
    /// The output cannot be created, synced or renamed.
    case file(FileIOError)

    /// Evidence that does not verify: a check failed (1); the wrong data, key or file: the
    /// input (2); a step's own error: its own status.
    public var exitStatus: ExitStatus {
        switch self {
        case .evidenceNotVerified: return .checkFailed
        case .unknownData, .notTheOwner, .digestMismatch: return .badInput
        case let .manifest(error): return error.exitStatus
        case let .verification(error): return error.exitStatus
        case let .key(error): return error.exitStatus
        case let .sealed(error): return error.exitStatus
        case let .file(error): return error.exitStatus
        }
    }

    public var description: String {
        switch self {
        case let .evidenceNotVerified(failed):
            return "refusing to seal: the evidence does not verify (failed: \(failed.joined(separator: ", "))); run `twocvm verify` for details"
        case let .unknownData(id, known):
            return "the manifest has no data item '\(id)' (data: \(known.joined(separator: ", ")))"
        case let .notTheOwner(dataID, owner, directory):
            return "\(directory)/\(ParticipantKeys.signingKeyFile) is not the signing key of '\(owner)', who owns '\(dataID)'"
        case let .digestMismatch(dataID, pinned, found):
            return "the input is not the '\(dataID)' the manifest pins (\(pinned)); it is \(found)"
        case let .manifest(error): return error.description
        case let .verification(error): return error.description
        case let .key(error): return error.description
        case let .sealed(error): return error.description
        case let .file(error): return error.description
        }
    }
}

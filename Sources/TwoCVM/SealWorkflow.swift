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
    }

    /// Verifies `evidencePath`, then seals `inputPath` as data item `dataID` with the owner's
    /// key from `keyDirectory`, writing `output` atomically. The plaintext is read twice (its
    /// SHA-256 goes into the header that every chunk's AAD binds), each time in blocks into
    /// reused buffers, with the hashing on a second thread (Docs/formats.md "Streaming").
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
        var header: SealedFileHeader? = nil
        let size = FileIO.size(of: inputPath)
        let progress = ProgressReporting.sealedFile(task: "seal \(URL(fileURLWithPath: inputPath).lastPathComponent)", length: size)
        defer { if progress != nil { ProgressReporting.finish() } }
        try FileIO.streamAtomically(to: output, mode: 0o644, fileError: SealWorkflowError.file) { (write) throws(SealWorkflowError) in
            let written: SealedFileHeader
            do throws(SealError) {
                written = try SealedFile.seal(reading: FileIO.stableBufferReader(inputPath), sizeHint: size, manifest: digest, purpose: .input,
                                              id: dataID, recipientName: "tee", recipientKey: runtime.teePublicKey, sender: owner.id,
                                              senderKey: key, progress: progress, write: write)
            } catch { throw .sealed(error) }
            let found = HexDigest(.sha256, bytes: written.sha256)
            if let pinned = item.digest, pinned.hexDigest != found {
                throw .digestMismatch(dataID: dataID, pinned: pinned.hexDigest, found: found)
            }
            header = written
        }
        return Outcome(verdict: verdict, header: header!, owner: owner.id)
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

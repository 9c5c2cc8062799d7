import Crypto
import Foundation
import Manifest

/// A manifest that could not be used, with the findings that say why.
public enum ManifestWorkflowError: TwoCVMError {
    /// The file cannot be read.
    case file(FileIOError)
    /// The file has lint errors (the diagnostics say which).
    case notClean(file: String, diagnostics: [Diagnostic])
    case unknownParticipant(file: String, id: String, known: [String])
    case keyMismatch(participant: String, keyDirectory: String)
    /// The participant's key cannot be used.
    case key(KeyFileError)
    case signing(any Error)

    /// A manifest that cannot be used, a participant or key that is not in it: the input (2).
    public var exitStatus: ExitStatus {
        switch self {
        case let .file(error): return error.exitStatus
        case let .key(error): return error.exitStatus
        case .notClean, .unknownParticipant, .keyMismatch, .signing: return .badInput
        }
    }

    public var description: String {
        switch self {
        case let .file(error):
            return error.description
        case let .key(error):
            return error.description
        case let .signing(error):
            return "signing the approval: \(error)"
        case let .notClean(file, diagnostics):
            let errors = diagnostics.filter { $0.severity == .error }
            let shown = errors.prefix(5).map { "  \($0)" }.joined(separator: "\n")
            let more = errors.count > 5 ? "\n  … and \(errors.count - 5) more (run `twocvm manifest lint \(file)`)" : ""
            return "\(file) is not a valid manifest (\(errors.count) error\(errors.count == 1 ? "" : "s")):\n\(shown)\(more)"
        case let .unknownParticipant(file, id, known):
            return "\(file): no participant '\(id)' (participants: \(known.joined(separator: ", ")))"
        case let .keyMismatch(participant, directory):
            return "\(directory)/\(ParticipantKeys.signingKeyFile) is not the signing key the manifest lists for '\(participant)'"
        }
    }
}

/// Workflows over manifest files: lint, digest, sign, check approvals.
public enum ManifestWorkflow {
    /// Reads and lints the manifest at `path`, never throwing for problems inside the file
    /// (they are diagnostics); throws only if the file cannot be read at all.
    public static func lint(_ path: String) throws(ManifestWorkflowError) -> ManifestDocument {
        try read(path).document
    }

    /// Reads a manifest that must be free of errors; returns it with its digest.
    public static func load(_ path: String) throws(ManifestWorkflowError) -> (manifest: Manifest, digest: ManifestDigest, document: ManifestDocument) {
        let clean = try loadClean(path)
        return (clean.manifest, clean.digest, clean.document)
    }

    /// A manifest read once and free of errors, with the exact bytes its digest was taken of
    /// (what a plan embeds).
    public struct CleanManifest: Sendable {
        public let manifest: Manifest
        public let digest: ManifestDigest
        public let document: ManifestDocument
        public let source: [UInt8]
    }

    /// Reads the manifest at `path` once; it must be free of errors.
    public static func loadClean(_ path: String) throws(ManifestWorkflowError) -> CleanManifest {
        let (document, source) = try read(path)
        guard let manifest = document.manifest, let digest = document.digest else {
            throw .notClean(file: path, diagnostics: document.diagnostics)
        }
        return CleanManifest(manifest: manifest, digest: digest, document: document, source: source)
    }

    /// Reads and parses the file at `path` once (a file over the size limit is the lint finding
    /// it is, without reading it).
    private static func read(_ path: String) throws(ManifestWorkflowError) -> (document: ManifestDocument, source: [UInt8]) {
        do {
            let bytes = try FileIO.read(path, limit: ManifestDocument.maxFileBytes)
            return (ManifestDocument.parse(bytes, fileName: path), bytes)
        } catch let .tooLarge(_, size, _) {
            return (ManifestDocument.tooLarge(fileName: path, size: size), [])
        } catch {
            throw .file(error)
        }
    }

    /// Signs the manifest at `path` as `participant` with the key in `keyDirectory` and writes
    /// the approval to `output` atomically. The key must be the one the manifest lists.
    public static func sign(_ path: String, keyDirectory: String, participant: String,
                            output: String) throws(ManifestWorkflowError) -> ManifestDigest {
        let (manifest, digest, _) = try load(path)
        guard let entry = manifest.participant(participant) else {
            throw .unknownParticipant(file: path, id: participant, known: manifest.participants.map(\.id))
        }
        let key: P384.Signing.PrivateKey
        do { key = try ParticipantKeys.loadSigningKey(from: keyDirectory) } catch { throw .key(error) }
        guard key.publicKey.rawRepresentation == entry.signingKey.rawRepresentation else {
            throw .keyMismatch(participant: participant, keyDirectory: keyDirectory)
        }
        let approval: [UInt8]
        do { approval = try Approval.sign(digest, participantID: participant, key: key) } catch { throw .signing(error) }
        do { try FileIO.writeAtomically(approval, to: output) } catch { throw .file(error) }
        return digest
    }

    /// Checks the approval files against the manifest at `path`.
    public static func approvals(_ path: String, approvalFiles: [String]) throws(ManifestWorkflowError) -> (ApprovalVerdict, ManifestDigest) {
        let (manifest, digest, _) = try load(path)
        var files: [(name: String, bytes: [UInt8])] = []
        for file in approvalFiles {
            do { files.append((file, try FileIO.read(file, limit: 1 << 20))) } catch { throw .file(error) }
        }
        return (Approval.verify(files, manifest: manifest, digest: digest), digest)
    }

    /// Every `*.cose` file in `directory`, sorted.
    public static func approvalFiles(in directory: String) throws(FileIOError) -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw .unreadable(path: directory, reason: error.localizedDescription)
        }
        return names.filter { $0.hasSuffix(".cose") }.sorted().map { "\(directory)/\($0)" }
    }
}

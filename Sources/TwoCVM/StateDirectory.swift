import Crypto
import Foundation
import Manifest

/// The VM-side state directory (`--state DIR`, default `/run/twocvm`, a tmpfs inside the CVM):
///
/// * `tee-hpke.key`, `tee-signing.key`: the TEE's key pairs, created once (0600) and bound into
///   every report: inputs are sealed to the first, receipts are signed with the second;
/// * `manifest.lock`: the runtime lock, created once (`O_EXCL`) with the manifest digest when the
///   platform left HOST_DATA zero;
/// * `sim/`: the simulated SNP platform, if `twocvm sim launch` made one.
public struct StateDirectory: Sendable {
    public static let defaultPath = "/run/twocvm"
    static let hpkeKeyFile = "tee-hpke.key"
    static let signingKeyFile = "tee-signing.key"
    static let lockFile = "manifest.lock"

    public let path: String

    public init(_ path: String = defaultPath) {
        self.path = path
    }

    /// Where the simulated platform lives.
    public var simulatorPath: String { "\(path)/sim" }

    /// Forgets the VM this directory belonged to: TEE keys, lock and simulated platform (only
    /// twocvm's own files are removed); a simulated platform that cannot be removed is a file
    /// that cannot be written.
    public func reset() throws(FileIOError) {
        for name in [Self.hpkeKeyFile, Self.signingKeyFile, Self.lockFile] {
            unlink("\(path)/\(name)")
        }
        guard FileManager.default.fileExists(atPath: simulatorPath) else { return }
        do {
            try FileManager.default.removeItem(atPath: simulatorPath)
        } catch {
            throw .unwritable(path: simulatorPath, reason: error.localizedDescription)
        }
    }

    /// The TEE key pairs, created on first use (by `attest`). With `create: false` (sealed
    /// `run`) keys that do not exist yet are an error: nothing can have been sealed to them.
    public func teeKeys(create: Bool = true) throws(StateError) -> (hpke: P384.KeyAgreement.PrivateKey, signing: P384.Signing.PrivateKey) {
        if !create {
            for name in [Self.hpkeKeyFile, Self.signingKeyFile] where !FileManager.default.fileExists(atPath: "\(path)/\(name)") {
                throw .noTEEKeys(state: path)
            }
        }
        do {
            try FileIO.makeDirectory(path, mode: 0o700)
            let hpke: P384.KeyAgreement.PrivateKey = try loadOrCreate(Self.hpkeKeyFile,
                create: { P384.KeyAgreement.PrivateKey() }, pem: \.pemRepresentation,
                parse: { try P384.KeyAgreement.PrivateKey(pemRepresentation: $0) })
            let signing: P384.Signing.PrivateKey = try loadOrCreate(Self.signingKeyFile,
                create: { P384.Signing.PrivateKey() }, pem: \.pemRepresentation,
                parse: { try P384.Signing.PrivateKey(pemRepresentation: $0) })
            return (hpke, signing)
        } catch {
            throw .file(error)
        }
    }

    /// Takes the runtime lock for `digest`, or checks it is already held by `digest`.
    /// Throws `StateError.lockedToAnotherManifest` otherwise.
    public func takeRuntimeLock(_ digest: ManifestDigest) throws(StateError) {
        do { try FileIO.makeDirectory(path, mode: 0o700) } catch { throw .file(error) }
        let lockPath = "\(path)/\(Self.lockFile)"
        let fd = open(lockPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 {
            let line = Array((digest.description + "\n").utf8)
            let written = line.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
            fsync(fd)
            close(fd)
            guard written == line.count else { throw .file(.unwritable(path: lockPath, reason: "short write")) }
            return
        }
        guard errno == EEXIST else { throw .file(.unwritable(path: lockPath, reason: String(cString: strerror(errno)))) }
        let held: String
        do { held = try runtimeLock() ?? "" } catch { throw .file(error) }
        guard held == digest.description else {
            throw .lockedToAnotherManifest(lockFile: lockPath, held: held, requested: digest.description)
        }
    }

    /// The manifest digest the runtime lock holds, if any.
    public func runtimeLock() throws(FileIOError) -> String? {
        let lockPath = "\(path)/\(Self.lockFile)"
        guard FileManager.default.fileExists(atPath: lockPath) else { return nil }
        return String(decoding: try FileIO.read(lockPath, limit: 256), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func loadOrCreate<Key>(_ name: String, create: () -> Key, pem: (Key) -> String,
                                   parse: (String) throws -> Key) throws(FileIOError) -> Key {
        let file = "\(path)/\(name)"
        if FileManager.default.fileExists(atPath: file) {
            let text = String(decoding: try FileIO.read(file, limit: 64 << 10), as: UTF8.self)
            do {
                return try parse(text)
            } catch {
                throw FileIOError.unreadable(path: file, reason: "not a P-384 private key in PEM form")
            }
        }
        let key = create()
        try FileIO.writeAtomically(Array(pem(key).utf8), to: file, mode: 0o600)
        return key
    }
}

/// Problems with the VM-side state.
public enum StateError: TwoCVMError, Equatable {
    case lockedToAnotherManifest(lockFile: String, held: String, requested: String)
    case hostDataMismatch(reported: String, manifestPrefix: String)
    case noTEEKeys(state: String)
    /// HOST_DATA is zero and no runtime lock was taken (`attest` takes it).
    case notLocked(lockFile: String)
    /// A state file (TEE key, lock) cannot be read or written.
    case file(FileIOError)

    /// The VM is locked to another manifest: a check failed (1); it has no TEE keys yet: the
    /// environment (3).
    public var exitStatus: ExitStatus {
        switch self {
        case .noTEEKeys: return .environment
        case let .file(error): return error.exitStatus
        case .lockedToAnotherManifest, .hostDataMismatch, .notLocked: return .checkFailed
        }
    }

    public var description: String {
        switch self {
        case let .lockedToAnotherManifest(lockFile, held, requested):
            return "this VM is locked to manifest \(held) (\(lockFile)); refusing \(requested)"
        case let .hostDataMismatch(reported, prefix):
            return "the VM was launched with HOST_DATA \(reported), which is not this manifest (expected \(prefix)); refusing"
        case let .noTEEKeys(state):
            return "\(state) holds no TEE keys: nothing can have been sealed to this VM yet (run `twocvm attest` first)"
        case let .file(error):
            return error.description
        case let .notLocked(lockFile):
            return "HOST_DATA is zero and \(lockFile) does not exist: this VM is locked to no manifest yet (run `twocvm attest` first)"
        }
    }
}

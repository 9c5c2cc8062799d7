import Crypto
import Foundation

/// A participant's key directory, as `twocvm keygen --out DIR` writes it:
/// `signing.key` + `signing.pub.pem` (ECDSA P-384: approvals, sealed-input signatures) and
/// `encryption.key` + `encryption.pub.pem` (P-384 ECDH: HPKE recipient of outputs).
/// Private keys are PKCS#8 PEM, mode 0600, and are never printed.
public struct ParticipantKeys: Sendable {
    public static let signingKeyFile = "signing.key"
    public static let signingPublicFile = "signing.pub.pem"
    public static let encryptionKeyFile = "encryption.key"
    public static let encryptionPublicFile = "encryption.pub.pem"

    public let signingKey: P384.Signing.PrivateKey
    public let encryptionKey: P384.KeyAgreement.PrivateKey

    /// Creates fresh keys and writes them into `directory` (created 0700 if missing). Refuses
    /// to overwrite existing keys.
    @discardableResult
    public static func generate(into directory: String) throws(KeyFileError) -> ParticipantKeys {
        for name in [signingKeyFile, encryptionKeyFile] where FileManager.default.fileExists(atPath: "\(directory)/\(name)") {
            throw .exists(path: "\(directory)/\(name)")
        }
        let keys = ParticipantKeys(signingKey: P384.Signing.PrivateKey(), encryptionKey: P384.KeyAgreement.PrivateKey())
        do {
            try FileIO.makeDirectory(directory, mode: 0o700)
            try FileIO.writeAtomically(Array(keys.signingKey.pemRepresentation.utf8), to: "\(directory)/\(signingKeyFile)", mode: 0o600)
            try FileIO.writeAtomically(Array(keys.encryptionKey.pemRepresentation.utf8), to: "\(directory)/\(encryptionKeyFile)",
                                       mode: 0o600)
            try FileIO.writeAtomically(Array((keys.signingKey.publicKey.pemRepresentation + "\n").utf8),
                                       to: "\(directory)/\(signingPublicFile)")
            try FileIO.writeAtomically(Array((keys.encryptionKey.publicKey.pemRepresentation + "\n").utf8),
                                       to: "\(directory)/\(encryptionPublicFile)")
        } catch {
            throw .file(error)
        }
        return keys
    }

    /// Loads the signing key from `directory` (the encryption key is loaded when needed).
    public static func loadSigningKey(from directory: String) throws(KeyFileError) -> P384.Signing.PrivateKey {
        let path = "\(directory)/\(signingKeyFile)"
        let pem = try readPrivateKey(path)
        do {
            return try P384.Signing.PrivateKey(pemRepresentation: pem)
        } catch {
            throw .unreadable(path: path, reason: "not a P-384 private key in PEM form")
        }
    }

    /// Loads the encryption (HPKE recipient) key from `directory`.
    public static func loadEncryptionKey(from directory: String) throws(KeyFileError) -> P384.KeyAgreement.PrivateKey {
        let path = "\(directory)/\(encryptionKeyFile)"
        let pem = try readPrivateKey(path)
        do {
            return try P384.KeyAgreement.PrivateKey(pemRepresentation: pem)
        } catch {
            throw .unreadable(path: path, reason: "not a P-384 private key in PEM form")
        }
    }

    private static func readPrivateKey(_ path: String) throws(KeyFileError) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .unreadable(path: path, reason: "no such file") }
        if info.st_mode & 0o077 != 0 {
            throw .tooOpen(path: path, mode: String(info.st_mode & 0o777, radix: 8))
        }
        do {
            return String(decoding: try FileIO.read(path, limit: 64 << 10), as: UTF8.self)
        } catch {
            throw .file(error)
        }
    }
}

/// Problems with key files.
public enum KeyFileError: TwoCVMError, Equatable {
    case exists(path: String)
    case unreadable(path: String, reason: String)
    case tooOpen(path: String, mode: String)
    /// A key file that cannot be read, or written (`keygen`).
    case file(FileIOError)

    /// A key that cannot be used is bad input (2); a key file that cannot be written is the
    /// environment (3).
    public var exitStatus: ExitStatus {
        if case let .file(error) = self { return error.exitStatus }
        return .badInput
    }

    public var description: String {
        switch self {
        case let .file(error): return error.description
        case let .exists(path): return "\(path) already exists; refusing to overwrite a key (choose another --out)"
        case let .unreadable(path, reason): return "\(path): \(reason)"
        case let .tooOpen(path, mode):
            return "\(path) has mode \(mode); private keys must not be readable by others (chmod 600 \(path))"
        }
    }
}

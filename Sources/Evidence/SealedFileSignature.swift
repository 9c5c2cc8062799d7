import Crypto

/// What a sealed file's signature covers, hashed while the file is written or read, per format
/// version (Docs/formats.md "Sealed files"):
///
/// * **version 1**: SHA-384 over the header map's bytes and the chunk ciphertexts (without
///   their byte-string heads); ES384 signs that digest.
/// * **version 2**: SHA-256 over the file's bytes before the signature item (every head
///   included); ES384 signs `"twocvm-sealed/v2 signature" ‖ that digest`. The same SHA-256,
///   continued over the signature item, is the file's SHA-256 (what receipts list), so one
///   hash serves both, and SHA-256 (SHA-NI) runs faster here than SHA-384.
///
/// A class: the streaming paths update it on their hashing thread, one caller at a time.
final class SignedContent: @unchecked Sendable {
    let version: Int64
    private let hash: SealedHash

    /// Starts with the header: its map's bytes (`headerBytes`) framed as the file holds them.
    init(version: Int64, headerBytes: [UInt8]) throws(SealError) {
        self.version = version
        hash = try SealedHash(version == 1 ? .sha384 : .sha256)
        if version == 1 {
            hash.update(headerBytes)
        } else {
            var head: [UInt8] = []
            SealedFileFormat.appendByteStringHead(headerBytes.count, to: &head)
            hash.update(head)
            hash.update(headerBytes)
        }
    }

    /// Adds one chunk: `framed` is its byte-string head (`headCount` bytes) and its body.
    func add(chunk framed: UnsafeRawBufferPointer, headCount: Int) {
        hash.update(version == 1 ? UnsafeRawBufferPointer(rebasing: framed[headCount...]) : framed)
    }

    /// The signature of `senderKey` over everything added (raw `r ‖ s`).
    func sign(with senderKey: P384.Signing.PrivateKey) throws(SealError) -> [UInt8] {
        do {
            switch version {
            case 1: return Array(try senderKey.signature(for: SHA384Value(hash.digestSoFar())).rawRepresentation)
            default: return Array(try senderKey.signature(for: SealedFileFormat.signatureLabel + hash.digestSoFar()).rawRepresentation)
            }
        } catch let error as SealError { throw error } catch { throw .sealing("signing failed (\(error))") }
    }

    /// Whether `signature` (raw `r ‖ s`) is `senderKey`'s over everything added.
    func isValid(_ signature: [UInt8], from senderKey: P384.Signing.PublicKey) throws(SealError) -> Bool {
        guard signature.count == SealedFileFormat.signatureBytes,
              let parsed = try? P384.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
        switch version {
        case 1: return senderKey.isValidSignature(parsed, for: SHA384Value(try hash.digestSoFar()))
        default: return senderKey.isValidSignature(parsed, for: SealedFileFormat.signatureLabel + (try hash.digestSoFar()))
        }
    }

    /// Version 2: the file's SHA-256, once the signature item (`framedSignature`, head and
    /// bytes) is added; nil in version 1, whose signed digest is not the file's.
    func fileDigest(framedSignature: [UInt8]) -> [UInt8]? {
        guard version != 1 else { return nil }
        hash.update(framedSignature)
        return hash.digest()
    }
}

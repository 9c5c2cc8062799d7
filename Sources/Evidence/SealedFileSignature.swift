import Crypto

/// What a sealed file's signature covers, hashed while the file is written or read, per format
/// version (Docs/formats.md "Sealed files"):
///
/// * **version 1**: SHA-384 over the header map's bytes and the chunk ciphertexts (without
///   their byte-string heads); ES384 signs that digest.
/// * **version 2**: SHA-256 over the file's bytes before the signature item (every head
///   included); ES384 signs `"twocvm-sealed/v2 signature" ‖ that digest`. The same SHA-256,
///   continued over the signature item, is the file's SHA-256 (what receipts list), so one
///   hash serves both, and SHA-256 (SHA-NI) runs faster here than SHA-384. Its `s` is the low
///   one of the pair `s`, `n − s` (both verify in ECDSA): so nobody but the sender can make
///   another valid file of the same content, whose SHA-256 a receipt would not list.
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
            default:
                let signature = Array(try senderKey.signature(for: SealedFileFormat.signatureLabel + hash.digestSoFar()).rawRepresentation)
                return Array(signature[..<48]) + P384Order.lowS(Array(signature[48...]))
            }
        } catch let error as SealError { throw error } catch { throw .sealing("signing failed (\(error))") }
    }

    /// Whether `signature` (raw `r ‖ s`) is `senderKey`'s over everything added.
    func isValid(_ signature: [UInt8], from senderKey: P384.Signing.PublicKey) throws(SealError) -> Bool {
        guard signature.count == SealedFileFormat.signatureBytes,
              let parsed = try? P384.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
        switch version {
        case 1: return senderKey.isValidSignature(parsed, for: SHA384Value(try hash.digestSoFar()))
        default:
            guard P384Order.isLowS(Array(signature[48...])) else { return false }
            return senderKey.isValidSignature(parsed, for: SealedFileFormat.signatureLabel + (try hash.digestSoFar()))
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

/// The order `n` of P-384's base point, for low-`s` ECDSA signatures (48-byte big-endian).
enum P384Order {
    static let n: [UInt8] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf, 0x58, 0x1a, 0x0d, 0xb2,
        0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
    ]

    /// Whether `s` ≤ (n − 1) / 2, compared as 48-byte big-endian numbers: twice `s` does not exceed `n`.
    static func isLowS(_ s: [UInt8]) -> Bool {
        guard s.count == 48 else { return false }
        return !isGreater(double(s), than: n)
    }

    /// `s` if it is low, else `n − s`.
    static func lowS(_ s: [UInt8]) -> [UInt8] {
        isLowS(s) ? s : subtract(n, s)
    }

    /// 2·s as 49 big-endian bytes.
    private static func double(_ s: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: s.count + 1)
        var carry = 0
        for i in stride(from: s.count - 1, through: 0, by: -1) {
            let v = Int(s[i]) * 2 + carry
            out[i + 1] = UInt8(v & 0xff)
            carry = v >> 8
        }
        out[0] = UInt8(carry)
        return out
    }

    /// Whether the 49-byte `a` is greater than the 48-byte `b`.
    private static func isGreater(_ a: [UInt8], than b: [UInt8]) -> Bool {
        let padded = [0] + b
        for (x, y) in zip(a, padded) where x != y { return x > y }
        return false
    }

    /// a − b for 48-byte big-endian a ≥ b.
    private static func subtract(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: a.count)
        var borrow = 0
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            var v = Int(a[i]) - Int(b[i]) - borrow
            borrow = v < 0 ? 1 : 0
            if v < 0 { v += 256 }
            out[i] = UInt8(v)
        }
        return out
    }
}

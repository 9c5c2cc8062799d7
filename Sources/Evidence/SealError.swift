/// Why a sealed file could not be written or opened (SPEC §8, Docs/formats.md "Sealed files").
///
/// Every case names what failed, so the CLI can print it with the file name; none carries
/// plaintext or key material.
public enum SealError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The framing (the CBOR sequence of byte strings) is broken: `what` says where.
    case malformed(String)
    /// A header field is missing, of the wrong type, or outside its allowed range.
    case badField(String, String)
    /// The file declares a format version this build does not read.
    case unsupportedVersion(Int64)
    /// The file declares another HPKE suite than DHKEM(P-384, HKDF-SHA384), HKDF-SHA384, AES-256-GCM.
    case unsupportedSuite([Int64])
    /// A header field differs from what the opener expects (manifest, purpose, id, recipient, sender).
    case mismatch(field: String, expected: String, found: String)
    /// The sender's ES384 signature over the header and the chunks does not verify.
    case badSignature
    /// The HPKE context could not be set up (the encapsulated key or the recipient key is
    /// unusable), or, in version 2, it does not yield the header's key commitment (another key).
    case keyAgreement
    /// The AEAD tag of chunk `index` does not verify (altered, truncated, reordered or swapped).
    case chunk(index: Int)
    /// The decrypted plaintext does not have the declared length (or, in version 1, SHA-256).
    case plaintextDigest
    /// Reading or writing the underlying bytes failed (streaming API): `what` says which.
    case io(String)
    /// Sealing failed (bad argument or a cryptographic error): `what` says which.
    case sealing(String)
    /// The cryptographic library could not allocate `what` (a digest or cipher context).
    case outOfMemory(String)

    public var description: String {
        switch self {
        case let .malformed(what): return "sealed file is malformed: \(what)"
        case let .badField(field, why): return "sealed file header field '\(field)': \(why)"
        case let .unsupportedVersion(v): return "sealed file version \(v) is not supported (this build opens versions \(SealedFileFormat.readableVersions.lowerBound) to \(SealedFileFormat.readableVersions.upperBound))"
        case let .unsupportedSuite(ids): return "sealed file HPKE suite \(ids) is not supported (expected \(SealedFileFormat.suite))"
        case let .mismatch(field, expected, found):
            return "sealed file '\(field)' is \(found), expected \(expected)"
        case .badSignature: return "sealed file signature does not verify with the sender's signing key"
        case .keyAgreement: return "sealed file HPKE key agreement failed (wrong recipient key, or a bad encapsulated key or key commitment)"
        case let .chunk(index): return "sealed file chunk \(index) does not authenticate (altered, truncated or reordered)"
        case .plaintextDigest: return "sealed file plaintext does not match its declared length and SHA-256"
        case let .io(what): return "sealed file I/O failed: \(what)"
        case let .sealing(what): return "cannot seal: \(what)"
        case let .outOfMemory(what): return "out of memory: cannot allocate \(what)"
        }
    }
}

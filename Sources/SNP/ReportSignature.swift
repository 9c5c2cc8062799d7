import Crypto

/// The report's SIGNATURE (SNP ABI, ECDSA P-384 with SHA-384 signature format): R and S as
/// 72-byte little-endian integers. Only the low 48 bytes of each can be non-zero in a valid
/// P-384 signature.
public struct ReportSignature: Hashable, Sendable {
    /// R, 72 bytes, little-endian.
    public let r: [UInt8]
    /// S, 72 bytes, little-endian.
    public let s: [UInt8]

    /// The size of a P-384 scalar.
    static let scalarSize = 48

    /// R and S as P-384's raw big-endian `r || s` (96 bytes), or a reason they cannot be one.
    func rawP384() -> Result<[UInt8], ReportSignatureError> {
        for (name, component) in [("R", r), ("S", s)] {
            if component.allSatisfy({ $0 == 0 }) { return .failure(.zeroComponent(name)) }
            if component[Self.scalarSize...].contains(where: { $0 != 0 }) { return .failure(.componentTooLarge(name)) }
        }
        return .success(Array(r[..<Self.scalarSize].reversed()) + Array(s[..<Self.scalarSize].reversed()))
    }
}

/// Why a report signature does not verify.
public enum ReportSignatureError: Error, Sendable, Equatable, CustomStringConvertible {
    /// SIGNING_KEY is "none" or MASK_CHIP_KEY is set: the firmware did not sign the report.
    case unsigned
    /// The endorsement key is not an ECDSA P-384 key.
    case keyNotP384
    /// R or S is zero.
    case zeroComponent(String)
    /// R or S has non-zero bytes above the 384 bits of a P-384 scalar.
    case componentTooLarge(String)
    /// The signature does not match the signed bytes and the key.
    case mismatch

    public var description: String {
        switch self {
        case .unsigned: return "the report is unsigned (SIGNING_KEY none or MASK_CHIP_KEY set)"
        case .keyNotP384: return "the endorsement key is not an ECDSA P-384 key"
        case let .zeroComponent(name): return "signature \(name) is zero"
        case let .componentTooLarge(name): return "signature \(name) has non-zero bytes above bit 383"
        case .mismatch: return "ECDSA P-384 SHA-384 signature over bytes 0x000–0x29F does not verify with the endorsement key"
        }
    }
}

extension AttestationReport {
    /// Verifies the ECDSA P-384 SHA-384 signature over the raw bytes 0x000–0x29F with the public
    /// key of `key`. Checks nothing else: chain, TCB and policy are separate checks.
    public func verifySignature(with key: EndorsementKey) throws(ReportSignatureError) {
        guard signerInfo.signingKey != .none, !signerInfo.maskChipKey else { throw .unsigned }
        guard let publicKey = key.publicKey else { throw .keyNotP384 }
        let raw: [UInt8]
        switch signature.rawP384() {
        case let .success(bytes): raw = bytes
        case let .failure(error): throw error
        }
        guard let ecdsa = try? P384.Signing.ECDSASignature(rawRepresentation: raw) else { throw .mismatch }
        let digest = SHA384.hash(data: signedBytes)
        guard publicKey.isValidSignature(ecdsa, for: digest) else { throw .mismatch }
    }
}

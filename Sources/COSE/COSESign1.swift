import CBOR
import Crypto

/// A COSE_Sign1 message (RFC 9052 §4.2) signed with ES384 (ECDSA P-384, SHA-384).
///
/// twocvm uses it for manifest approvals and run receipts. Messages are written tagged (tag 18)
/// in deterministic CBOR; reading accepts any well-formed encoding within bounds and checks
/// the structure before anything else.
public struct COSESign1: Sendable, Equatable {
    /// COSE algorithm identifier for ES384.
    public static let es384: Int64 = -35
    /// CBOR tag of COSE_Sign1.
    public static let tag: UInt64 = 18
    /// Header labels (RFC 9052 §3.1).
    public enum HeaderLabel {
        public static let algorithm: Int64 = 1
        public static let contentType: Int64 = 3
        public static let keyID: Int64 = 4
    }
    /// The largest message accepted by `decode`.
    public static let maxMessageBytes = 1 << 20

    /// The serialized protected header map (the exact bytes that were signed).
    public let protectedHeaderBytes: [UInt8]
    /// The decoded protected header map.
    public let protectedHeader: CBOR
    /// The unprotected header map.
    public let unprotectedHeader: CBOR
    public let payload: [UInt8]
    /// r ‖ s, 48 bytes each.
    public let signature: [UInt8]

    /// Signs `payload` with `key`, protecting the algorithm and content type; `keyID` goes in the
    /// unprotected header, or in the protected one (then covered by the signature) with
    /// `protectKeyID`.
    public static func sign(payload: [UInt8], contentType: String, keyID: [UInt8],
                            key: P384.Signing.PrivateKey, protectKeyID: Bool = false) throws -> COSESign1 {
        var protectedEntries: [CBOR.Entry] = [
            .init(.int(HeaderLabel.algorithm), .int(es384)),
            .init(.int(HeaderLabel.contentType), .text(contentType)),
        ]
        if protectKeyID { protectedEntries.append(.init(.int(HeaderLabel.keyID), .bytes(keyID))) }
        let protected = CBOR.map(protectedEntries)
        let protectedBytes = protected.encoded()
        let toBeSigned = signatureStructure(protectedHeaderBytes: protectedBytes, payload: payload)
        let signature = try key.signature(for: toBeSigned)
        return COSESign1(protectedHeaderBytes: protectedBytes, protectedHeader: protected,
                         unprotectedHeader: protectKeyID ? .map([]) : .map([.init(.int(HeaderLabel.keyID), .bytes(keyID))]),
                         payload: payload, signature: Array(signature.rawRepresentation))
    }

    /// The tagged, deterministic CBOR encoding.
    public func encoded() -> [UInt8] {
        CBOR.tagged(Self.tag, .array([
            .bytes(protectedHeaderBytes), unprotectedHeader, .bytes(payload), .bytes(signature),
        ])).encoded()
    }

    /// Reads a COSE_Sign1 message (tagged or untagged) from untrusted bytes.
    public static func decode(_ bytes: [UInt8]) throws(COSEError) -> COSESign1 {
        let item: CBOR
        do {
            item = try CBORDecoder.decode(bytes, limits: .init(maxInputBytes: maxMessageBytes, maxDepth: 8, maxItems: 4096))
        } catch {
            throw .malformed("\(error)")
        }
        var body = item
        if case let .tagged(tag, inner) = item {
            guard tag == Self.tag else { throw .malformed("CBOR tag \(tag) is not COSE_Sign1 (18)") }
            body = inner
        }
        guard let parts = body.arrayItems, parts.count == 4 else {
            throw .malformed("COSE_Sign1 must be an array of 4 items")
        }
        guard let protectedBytes = parts[0].byteString else { throw .malformed("protected header is not a byte string") }
        guard case .map = parts[1] else { throw .malformed("unprotected header is not a map") }
        guard let payload = parts[2].byteString else { throw .malformed("payload is not a byte string (detached payloads are not used)") }
        guard let signature = parts[3].byteString else { throw .malformed("signature is not a byte string") }
        let protected: CBOR
        if protectedBytes.isEmpty {
            protected = .map([])
        } else {
            do {
                protected = try CBORDecoder.decode(protectedBytes, limits: .init(maxInputBytes: 4096, maxDepth: 4, maxItems: 64))
            } catch {
                throw .malformed("protected header: \(error)")
            }
            guard case .map = protected else { throw .malformed("protected header is not a map") }
        }
        return COSESign1(protectedHeaderBytes: protectedBytes, protectedHeader: protected,
                         unprotectedHeader: parts[1], payload: payload, signature: signature)
    }

    /// The protected `alg` value.
    public var algorithm: Int64? { protectedHeader[int: HeaderLabel.algorithm]?.int64 }

    /// The protected content type, when it is a text string.
    public var contentType: String? { protectedHeader[int: HeaderLabel.contentType]?.textString }

    /// The key id, only when it is signed: in the protected header, with nothing in the
    /// unprotected header (so no part of the message can change without breaking the signature).
    /// Approvals and receipts are read only this way.
    public var signedKeyID: [UInt8]? {
        guard unprotectedHeader == .map([]) else { return nil }
        return protectedHeader[int: HeaderLabel.keyID]?.byteString
    }

    /// Checks the algorithm is ES384 and the signature verifies with `key`.
    public func verify(with key: P384.Signing.PublicKey) throws(COSEError) {
        guard algorithm == Self.es384 else {
            throw .wrongAlgorithm(algorithm.map(String.init) ?? "none")
        }
        guard signature.count == 96, let ecdsa = try? P384.Signing.ECDSASignature(rawRepresentation: signature) else {
            throw .badSignature
        }
        let toBeSigned = Self.signatureStructure(protectedHeaderBytes: protectedHeaderBytes, payload: payload)
        guard key.isValidSignature(ecdsa, for: toBeSigned) else { throw .badSignature }
    }

    /// Sig_structure = ["Signature1", body_protected, external_aad (empty), payload].
    static func signatureStructure(protectedHeaderBytes: [UInt8], payload: [UInt8]) -> [UInt8] {
        CBOR.array([.text("Signature1"), .bytes(protectedHeaderBytes), .bytes([]), .bytes(payload)]).encoded()
    }
}

/// Why a COSE message was refused.
public enum COSEError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case wrongAlgorithm(String)
    case badSignature

    public var description: String {
        switch self {
        case let .malformed(reason): return "malformed COSE_Sign1: \(reason)"
        case let .wrongAlgorithm(alg): return "COSE algorithm \(alg) is not ES384 (-35)"
        case .badSignature: return "signature does not verify"
        }
    }
}

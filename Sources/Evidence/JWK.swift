import Crypto
import Foundation

/// P-384 public keys as JSON Web Keys (RFC 7517/7518): `{"crv":"P-384","kty":"EC","x":…,"y":…}`
/// with base64url coordinates without padding, the form Trustee's runtime data carries.
public enum JWK {
    /// The JWK of a P-384 public key given by its raw `x ‖ y` representation (96 bytes).
    public static func p384(rawRepresentation raw: Data) -> JSONValue {
        precondition(raw.count == 96, "P-384 raw public key is 96 bytes")
        return .object([
            "crv": .string("P-384"),
            "kty": .string("EC"),
            "x": .string(base64URL(raw.prefix(48))),
            "y": .string(base64URL(raw.suffix(48))),
        ])
    }

    /// The JWK of an HPKE / key-agreement key.
    public static func of(_ key: P384.KeyAgreement.PublicKey) -> JSONValue { p384(rawRepresentation: key.rawRepresentation) }

    /// The JWK of a signing key.
    public static func of(_ key: P384.Signing.PublicKey) -> JSONValue { p384(rawRepresentation: key.rawRepresentation) }

    /// Reads the raw `x ‖ y` of a P-384 JWK; nil if it is not one.
    public static func p384RawRepresentation(_ jwk: JSONValue) -> Data? {
        guard case let .object(members) = jwk,
              members["kty"] == .string("EC"), members["crv"] == .string("P-384"),
              case let .string(x)? = members["x"], case let .string(y)? = members["y"],
              let xBytes = fromBase64URL(x), let yBytes = fromBase64URL(y),
              xBytes.count == 48, yBytes.count == 48 else { return nil }
        return xBytes + yBytes
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func fromBase64URL(_ text: String) -> Data? {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}

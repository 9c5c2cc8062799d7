import Crypto
import Foundation
import Manifest

/// What a report binds beyond the launch (SPEC §4): the manifest, the verifier's nonce and the
/// two TEE public keys, as Trustee-style structured runtime data.
///
/// `REPORT_DATA = SHA-384(JCS(runtime_data)) ‖ 16 zero bytes`, with
/// `runtime_data = {"manifest": "sha384:…", "nonce": "<hex>", "tee-pubkey": <JWK>, "tee-signing-key": <JWK>}`.
public struct RuntimeData: Sendable, Equatable {
    /// Accepted nonce lengths in bytes.
    public static let nonceLengths = 16...64

    public let manifest: ManifestDigest
    public let nonce: [UInt8]
    /// The HPKE recipient key inputs are sealed to.
    public let teePublicKey: P384.KeyAgreement.PublicKey
    /// The key that signs run receipts.
    public let teeSigningKey: P384.Signing.PublicKey

    public init(manifest: ManifestDigest, nonce: [UInt8], teePublicKey: P384.KeyAgreement.PublicKey,
                teeSigningKey: P384.Signing.PublicKey) throws(EvidenceError) {
        guard Self.nonceLengths.contains(nonce.count) else { throw .badNonce(length: nonce.count) }
        self.manifest = manifest
        self.nonce = nonce
        self.teePublicKey = teePublicKey
        self.teeSigningKey = teeSigningKey
    }

    public static func == (a: RuntimeData, b: RuntimeData) -> Bool {
        a.canonicalBytes == b.canonicalBytes
    }

    /// The runtime data as JSON.
    public var json: JSONValue {
        .object([
            "manifest": .string(manifest.description),
            "nonce": .string(Hex.encode(nonce)),
            "tee-pubkey": JWK.of(teePublicKey),
            "tee-signing-key": JWK.of(teeSigningKey),
        ])
    }

    /// The RFC 8785 canonical bytes of `json`.
    public var canonicalBytes: [UInt8] { json.canonicalBytes() }

    /// The 64 REPORT_DATA bytes this runtime data requires.
    public var reportData: [UInt8] {
        Array(SHA384.hash(data: canonicalBytes)) + [UInt8](repeating: 0, count: 16)
    }

    /// Reads runtime data from its canonical JSON bytes (as stored in evidence), refusing
    /// anything that is not exactly the canonical form of a well-formed value.
    public static func parse(canonicalBytes bytes: [UInt8]) throws(EvidenceError) -> RuntimeData {
        guard bytes.count <= 4096,
              let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              Set(object.keys) == ["manifest", "nonce", "tee-pubkey", "tee-signing-key"],
              let manifestText = object["manifest"] as? String, let manifest = ManifestDigest(manifestText),
              manifestText.hasPrefix("sha384:"),
              let nonceText = object["nonce"] as? String, let nonce = Hex.decode(nonceText),
              let hpke = jwk(object["tee-pubkey"]), let signing = jwk(object["tee-signing-key"]),
              let hpkeKey = try? P384.KeyAgreement.PublicKey(rawRepresentation: hpke),
              let signingKey = try? P384.Signing.PublicKey(rawRepresentation: signing) else {
            throw .malformed(field: "runtime_data", reason: "not the canonical runtime data object")
        }
        let value = try RuntimeData(manifest: manifest, nonce: nonce, teePublicKey: hpkeKey, teeSigningKey: signingKey)
        guard value.canonicalBytes == bytes else {
            throw .malformed(field: "runtime_data", reason: "not in RFC 8785 canonical form")
        }
        return value
    }

    private static func jwk(_ any: Any?) -> Data? {
        guard let dictionary = any as? [String: Any], dictionary.count == 4 else { return nil }
        var members: [String: JSONValue] = [:]
        for (key, value) in dictionary {
            guard let s = value as? String else { return nil }
            members[key] = .string(s)
        }
        return JWK.p384RawRepresentation(.object(members))
    }
}

/// Problems with evidence and what it binds.
public enum EvidenceError: Error, Equatable, CustomStringConvertible {
    case badNonce(length: Int)
    case malformed(field: String, reason: String)

    public var description: String {
        switch self {
        case let .badNonce(length):
            return "nonce is \(length) bytes; it must be \(RuntimeData.nonceLengths.lowerBound) to \(RuntimeData.nonceLengths.upperBound) bytes (hex)"
        case let .malformed(field, reason): return "evidence field \(field): \(reason)"
        }
    }
}

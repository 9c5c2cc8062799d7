import Crypto
import Foundation
import Manifest
import TestSupport
import XCTest
@testable import Evidence

/// REPORT_DATA binding (SPEC §4), reproduced by an independent implementation: Python's
/// `rfc8785` package and hashlib.
final class RuntimeDataTests: XCTestCase {
    private let hpke = P384.KeyAgreement.PrivateKey()
    private let signing = P384.Signing.PrivateKey()
    private let digest = ManifestDigest(of: Array("manifest".utf8))
    private let nonce = (0..<32).map { UInt8($0) }

    func testReportDataIsReproducedByRFC8785AndHashlib() throws {
        let runtime = try RuntimeData(manifest: digest, nonce: nonce, teePublicKey: hpke.publicKey, teeSigningKey: signing.publicKey)
        // The independent side builds the object from the keys' coordinates itself.
        let script = """
            import sys, json, base64, hashlib, rfc8785
            def jwk(raw):
                b = bytes.fromhex(raw)
                enc = lambda v: base64.urlsafe_b64encode(v).rstrip(b"=").decode()
                return {"kty": "EC", "crv": "P-384", "x": enc(b[:48]), "y": enc(b[48:])}
            data = {"manifest": sys.argv[1], "nonce": sys.argv[2], "tee-pubkey": jwk(sys.argv[3]), "tee-signing-key": jwk(sys.argv[4])}
            canonical = rfc8785.dumps(data)
            print(canonical.hex())
            print((hashlib.sha384(canonical).digest() + bytes(16)).hex())
            """
        let output = try PythonReference.run(script, [digest.description, Hex.encode(nonce),
                                            Hex.encode(hpke.publicKey.rawRepresentation), Hex.encode(signing.publicKey.rawRepresentation)])
        let lines = output.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, Hex.encode(runtime.canonicalBytes))
        XCTAssertEqual(lines.last, Hex.encode(runtime.reportData))
        XCTAssertEqual(runtime.reportData.count, 64)
        XCTAssertEqual(Array(runtime.reportData.suffix(16)), [UInt8](repeating: 0, count: 16))
    }

    func testCanonicalJSONMatchesRFC8785OnAwkwardStrings() throws {
        let value = JSONValue.object([
            "b": .string("line\nbreak \"quoted\" back\\slash tab\t \u{01} é 😀 </script>"),
            "a": .array([.integer(-42), .integer(9_007_199_254_740_991), .bool(true), .null]),
            "\u{20AC}": .string("euro"), "\u{1F600}": .string("emoji key sorts by UTF-16"), "aa": .object([:]),
        ])
        let script = "import sys, json, rfc8785; print(rfc8785.dumps(json.loads(sys.argv[1])).hex())"
        let json = String(decoding: try JSONSerialization.data(withJSONObject: [
            "b": "line\nbreak \"quoted\" back\\slash tab\t \u{01} é 😀 </script>",
            "a": [-42, 9_007_199_254_740_991, true, NSNull()], "\u{20AC}": "euro", "\u{1F600}": "emoji key sorts by UTF-16",
            "aa": [String: String](),
        ] as [String: Any]), as: UTF8.self)
        XCTAssertEqual(Hex.encode(value.canonicalBytes()), try PythonReference.run(script, [json]))
    }

    func testRuntimeDataParsesOnlyItsCanonicalForm() throws {
        let runtime = try RuntimeData(manifest: digest, nonce: nonce, teePublicKey: hpke.publicKey, teeSigningKey: signing.publicKey)
        XCTAssertEqual(try RuntimeData.parse(canonicalBytes: runtime.canonicalBytes), runtime)
        let pretty = try JSONSerialization.data(withJSONObject: try JSONSerialization.jsonObject(with: Data(runtime.canonicalBytes)),
                                                options: [.prettyPrinted])
        XCTAssertThrowsError(try RuntimeData.parse(canonicalBytes: Array(pretty)))
        XCTAssertThrowsError(try RuntimeData.parse(canonicalBytes: Array("{}".utf8)))
        XCTAssertThrowsError(try RuntimeData(manifest: digest, nonce: [1, 2, 3], teePublicKey: hpke.publicKey,
                                             teeSigningKey: signing.publicKey)) { error in
            XCTAssertEqual(error as? EvidenceError, .badNonce(length: 3))
        }
    }
}

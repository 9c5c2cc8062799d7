import Foundation
import Hexadecimal
@testable import SNP
import XCTest

/// Certificates: every endorsement key decodes to the shared data's values, AMD's roots are
/// embedded and pinned, and the loader refuses malformed files by name.
final class CertificateTests: XCTestCase {
    func testEndorsementKeysDecodeAsTheSharedData() throws {
        let expected = try SNPTestData.expected()
        let formatter = ISO8601DateFormatter()
        for vector in SNPTestData.realVectors + SNPTestData.negativeVectors {
            let want = try XCTUnwrap((expected[vector.name] as? [String: Any])?["vek"] as? [String: Any], vector.name)
            let vek = try LoadedEndorsement(files: vector.files()).endorsementKey
            let certificate = vek.certificate
            XCTAssertEqual(certificate.subjectCommonName, want["subject_cn"] as? String, vector.name)
            XCTAssertEqual(certificate.issuerCommonName, want["issuer_cn"] as? String, vector.name)
            XCTAssertEqual(certificate.serial, want["serial"] as? String, vector.name)
            XCTAssertEqual(certificate.signatureAlgorithm, want["sig_alg"] as? String, vector.name)
            XCTAssertEqual(certificate.fingerprintHex, want["sha256"] as? String, vector.name)
            XCTAssertEqual(certificate.notBefore, formatter.date(from: try XCTUnwrap(want["not_before"] as? String)), vector.name)
            XCTAssertEqual(certificate.notAfter, formatter.date(from: try XCTUnwrap(want["not_after"] as? String)), vector.name)
            XCTAssertEqual(want["pubkey"] as? String == "ECPublicKey", vek.publicKey != nil, vector.name)

            let ext = try XCTUnwrap(want["amd_ext"] as? [String: Any], vector.name)
            let decoded = vek.extensions
            XCTAssertEqual(decoded.structVersion.map(Int.init), ext["1"] as? Int, vector.name)
            XCTAssertEqual(decoded.productName, ext["2"] as? String, vector.name)
            XCTAssertEqual(decoded.bootloaderSPL.map(Int.init), ext["3.1"] as? Int, vector.name)
            XCTAssertEqual(decoded.teeSPL.map(Int.init), ext["3.2"] as? Int, vector.name)
            XCTAssertEqual(decoded.snpSPL.map(Int.init), ext["3.3"] as? Int, vector.name)
            XCTAssertEqual(decoded.microcodeSPL.map(Int.init), ext["3.8"] as? Int, vector.name)
            XCTAssertEqual(decoded.fmcSPL.map(Int.init), ext["3.9"] as? Int, vector.name)
            XCTAssertEqual(decoded.cspID, ext["5"] as? String, vector.name)
            // hwID: "raw64:<hex>" is the raw extension value, "octet:<hex>" a DER-wrapped one.
            if let hwid = ext["4"] as? String {
                let hex = String(hwid.split(separator: ":")[1])
                let bytes = try XCTUnwrap(Hex.decode(input: hex))
                XCTAssertEqual(decoded.hardwareID, hwid.hasPrefix("octet:") ? Array(bytes.dropFirst(2)) : bytes, vector.name)
            } else {
                XCTAssertNil(decoded.hardwareID, vector.name)
            }
        }
    }

    func testEmbeddedRootsArePinnedToTheSharedFingerprints() throws {
        let expected = try SNPTestData.expected()
        var pinned: [String: String] = [:]
        for case let vector as [String: Any] in expected.values {
            if let ark = vector["ark"] as? [String: Any], let name = ark["subject_cn"] as? String {
                pinned[name] = ark["sha256"] as? String
            }
        }
        XCTAssertEqual(pinned.count, 3)
        for product in Product.allCases {
            let roots = try XCTUnwrap(TrustAnchors.amd.roots[product], "embedded roots for \(product)")
            XCTAssertEqual(roots.ark.subjectCommonName, product.rootCommonName)
            XCTAssertEqual(roots.ark.fingerprintHex, pinned[product.rootCommonName])
            XCTAssertEqual(roots.ask.subjectCommonName, product.signingKeyCommonName(for: .vcek))
            XCTAssertEqual(roots.asvk.subjectCommonName, product.signingKeyCommonName(for: .vlek))
        }
    }

    /// The embedded ARK and ASK are byte-identical to the ones every anchor ships.
    func testEmbeddedCertificatesEqualTheAnchorsCopies() throws {
        let copies: [(Product, String, String)] = [
            (.milan, "virtee-sev/builtin_milan_ark.pem", "virtee-sev/builtin_milan_ask.pem"),
            (.genoa, "virtee-sev/builtin_genoa_ark.pem", "virtee-sev/builtin_genoa_ask.pem"),
            (.turin, "virtee-sev/builtin_turin_ark.pem", "virtee-sev/builtin_turin_ask.pem"),
        ]
        for (product, arkPath, askPath) in copies {
            let roots = try XCTUnwrap(TrustAnchors.amd.roots[product])
            XCTAssertEqual(try Certificate.load(SNPTestData.bytes(arkPath), source: arkPath), [roots.ark])
            XCTAssertEqual(try Certificate.load(SNPTestData.bytes(askPath), source: askPath), [roots.ask])
        }
    }

    func testLoaderReadsDERAndPEMBundles() throws {
        XCTAssertEqual(try Certificate.load(SNPTestData.bytes("trustee/milan_ask_ark_asvk.pem"), source: "bundle")
            .map(\.subjectCommonName), ["SEV-Milan", "ARK-Milan", "SEV-VLEK-Milan"])
        let vcek = try SNPTestData.bytes("go-sev-guest/vcek.testcer")
        XCTAssertEqual(try Certificate.load(vcek, source: "vcek").map(\.der), [vcek])
    }

    func testLoaderRefusesMalformedFilesByName() throws {
        let vcek = try SNPTestData.bytes("go-sev-guest/vcek.testcer")
        let pem = String(decoding: try SNPTestData.bytes("virtee-sev/builtin_milan_ark.pem"), as: UTF8.self)
        let cases: [(String, [UInt8])] = [
            ("empty", []),
            ("truncated DER", Array(vcek.dropLast(10))),
            ("DER with trailing bytes", vcek + [0]),
            ("random bytes", (0..<512).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }),
            ("bad base64", Array(pem.replacingOccurrences(of: "MII", with: "M*I").utf8)),
            ("private key block", Array("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".utf8)),
            ("unterminated block", Array(pem.replacingOccurrences(of: "-----END CERTIFICATE-----", with: "").utf8)),
        ]
        for (name, bytes) in cases {
            XCTAssertThrowsError(try Certificate.load(bytes, source: "case.pem"), name) { error in
                XCTAssertTrue("\(error)".hasPrefix("case.pem"), "\(name): \(error)")
            }
        }
    }
}

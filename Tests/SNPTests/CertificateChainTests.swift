import Foundation
import SNP
import XCTest

/// The AMD chain: VEK → ASK/ASVK → pinned ARK, RSA-PSS SHA-384, validity at a chosen time, and
/// every way a chain can be wrong.
final class CertificateChainTests: XCTestCase {
    /// Chain results equal the shared data's `vek_signed_by_<issuer>` for every pairing.
    func testChainsVerifyExactlyWhereTheSharedDataSaysTheyDo() throws {
        let expected = try SNPTestData.expected()
        for vector in SNPTestData.realVectors + SNPTestData.negativeVectors {
            let entry = try XCTUnwrap(expected[vector.name] as? [String: Any])
            let loaded = try LoadedEndorsement(files: vector.files())
            let issuer = loaded.endorsementKey.certificate.issuerCommonName
            let signed = try XCTUnwrap(entry["vek_signed_by_\(issuer)"] as? Bool, vector.name)
            let product = try XCTUnwrap(loaded.endorsementKey.product, vector.name)
            let result = Result { try CertificateChain.verify(endorsementKey: loaded.endorsementKey, supplied: loaded.supplied,
                                                              product: product, anchors: .amd) }
            switch result {
            case .success: XCTAssertTrue(signed, vector.name)
            case let .failure(error):
                XCTAssertFalse(signed, "\(vector.name): \(error)")
                XCTAssertTrue("\(error)".contains("not signed by"), "\(vector.name): \(error)")
            }
        }
    }

    /// The same chains verify with the embedded ASK/ASVK when no chain file is given.
    func testEmbeddedSigningKeysReplaceAMissingChainFile() throws {
        for vector in SNPTestData.realVectors {
            let files = EndorsementFiles(endorsementKey: try SNPTestData.bytes(vector.vek))
            let loaded = try LoadedEndorsement(files: files)
            let product = try XCTUnwrap(loaded.endorsementKey.product)
            XCTAssertNoThrow(try CertificateChain.verify(endorsementKey: loaded.endorsementKey, supplied: loaded.supplied,
                                                         product: product, anchors: .amd), vector.name)
        }
    }

    /// The expired VLEK (valid 2024-12-10 to 2025-12-10) is valid at the pinned time only.
    func testValidityIsCheckedAtTheRequestedTime() throws {
        let vector = SNPTestData.vector("trustee_vlek_report")
        let loaded = try LoadedEndorsement(files: vector.files())
        let chain = try CertificateChain.verify(endorsementKey: loaded.endorsementKey, supplied: loaded.supplied,
                                                product: .milan, anchors: .amd)
        XCTAssertEqual(chain.kind, .vlek)
        XCTAssertEqual(chain.signingKey.subjectCommonName, "SEV-VLEK-Milan")
        let formatter = ISO8601DateFormatter()
        XCTAssertNoThrow(try chain.checkValidity(at: try XCTUnwrap(formatter.date(from: "2025-06-01T00:00:00Z"))))
        for time in ["2024-12-10T00:00:00Z", "2025-12-11T00:00:00Z"] {
            XCTAssertThrowsError(try chain.checkValidity(at: try XCTUnwrap(formatter.date(from: time)))) { error in
                XCTAssertTrue("\(error)".contains("SEV-VLEK is not valid"), "\(error)")
            }
        }
        XCTAssertThrowsError(try chain.checkValidity(at: Date()))
    }

    func testAnARKThatIsNotAMDsIsRefused() throws {
        let vcek = try SNPTestData.bytes("go-sev-guest/vcek.testcer")
        let realASK = try SNPTestData.bytes("virtee-sev/builtin_milan_ask.pem")
        let fakeARK = Array(FakeAMDHierarchy.arkPEM.utf8), fakeASK = Array(FakeAMDHierarchy.askPEM.utf8)
        // A self-consistent fake hierarchy with AMD's names: only the pin catches it.
        XCTAssertEqual(try chainError(vcek: vcek, chain: fakeASK + [0x0a] + fakeARK).map(Self.kind), "untrustedRoot")
        // AMD's ASK with a fake root.
        XCTAssertEqual(try chainError(vcek: vcek, chain: realASK + fakeARK).map(Self.kind), "untrustedRoot")
        // A fake ASK named SEV-Milan, without a root: it is not signed by the pinned ARK-Milan.
        let error = try chainError(vcek: vcek, chain: fakeASK)
        XCTAssertEqual(error.map(Self.kind), "badSignature")
        XCTAssertTrue(error.map { "\($0)" }?.contains("SEV-Milan is not signed by ARK-Milan") ?? false, "\(String(describing: error))")
    }

    func testASigningKeyFromAnotherProductIsRefused() throws {
        let milanVCEK = try SNPTestData.bytes("go-sev-guest/vcek.testcer")
        let genoaASK = try SNPTestData.bytes("virtee-sev/builtin_genoa_ask.pem")
        let milanARK = try SNPTestData.bytes("virtee-sev/builtin_milan_ark.pem")
        XCTAssertEqual(try chainError(vcek: milanVCEK, chain: genoaASK + milanARK).map(Self.kind), "issuerNotSupplied")
        // The Turin VCEK must not chain to the Genoa ASK (confidential-secrets-vault MANIFEST).
        let turinVCEK = try SNPTestData.bytes("confidential-secrets-vault/box2-turin-vcek.der")
        XCTAssertEqual(try chainError(vcek: turinVCEK, chain: genoaASK, product: .turin).map(Self.kind), "issuerNotSupplied")
        XCTAssertEqual(try chainError(vcek: turinVCEK, chain: genoaASK, product: .genoa).map(Self.kind), "issuerNotSupplied")
        XCTAssertEqual(try chainError(vcek: turinVCEK, chain: nil, product: .genoa).map(Self.kind), "issuerNameMismatch")
        // A VCEK under the ASVK fails (Trustee's check_vlek_signature_verification).
        let asvkOnly = try Certificate.load(SNPTestData.bytes("trustee/milan_ask_ark_asvk.pem"), source: "bundle")[2]
        XCTAssertEqual(asvkOnly.subjectCommonName, "SEV-VLEK-Milan")
        XCTAssertEqual(try chainError(vcek: milanVCEK, chain: Array(Self.pem(asvkOnly.der).utf8)).map(Self.kind), "issuerNotSupplied")
    }

    /// Flipping any bit of a VEK certificate makes it unreadable or breaks its chain (one bit per
    /// offset, every offset), and the anchors' own tamperings fail the same way.
    func testEveryFlippedBitOfAnEndorsementKeyIsCaught() throws {
        for path in ["go-sev-guest/vcek.testcer", "confidential-secrets-vault/box2-turin-vcek.der"] {
            let der = try SNPTestData.bytes(path)
            let product = try XCTUnwrap(EndorsementKey(Certificate(der: der)).product)
            var unreadable = 0, unchained = 0
            for offset in der.indices {
                var tampered = der
                tampered[offset] ^= 1 << UInt8(offset % 8)
                guard let vek = try? EndorsementKey(Certificate(der: tampered)) else {
                    unreadable += 1
                    continue
                }
                XCTAssertThrowsError(try CertificateChain.verify(endorsementKey: vek, supplied: [], product: product, anchors: .amd),
                                     "\(path) offset \(offset)")
                unchained += 1
            }
            XCTAssertEqual(unreadable + unchained, der.count)
            XCTAssertGreaterThan(unchained, der.count / 2, "most flips still parse and must fail the chain")
        }
        var virtee = try SNPTestData.bytes("virtee-sev/vcek_milan.der")
        virtee[40] ^= 0xff
        XCTAssertNotNil(try chainError(vcek: virtee, chain: nil, product: .milan))
        var trustee = try SNPTestData.bytes("trustee/test-vcek.der")
        trustee[42] &+= 1
        XCTAssertNotNil(try chainError(vcek: trustee, chain: nil, product: .milan))
    }

    // MARK: - Helpers

    /// The chain error for `vcek` with `chain` supplied, or nil if the chain verifies. A VEK
    /// that does not even parse counts as an error too.
    private func chainError(vcek: [UInt8], chain: [UInt8]?, product: Product = .milan) throws -> ChainError? {
        guard let loaded = try? LoadedEndorsement(files: EndorsementFiles(endorsementKey: vcek, chain: chain)) else {
            return .notAnEndorsementKey(subject: "(unreadable)")
        }
        do {
            _ = try CertificateChain.verify(endorsementKey: loaded.endorsementKey, supplied: loaded.supplied,
                                            product: product, anchors: .amd)
            return nil
        } catch {
            return error
        }
    }

    private static func kind(_ error: ChainError) -> String {
        String("\(Mirror(reflecting: error).children.first?.label ?? "\(error)")")
    }

    private static func pem(_ der: [UInt8]) -> String {
        let base64 = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN CERTIFICATE-----\n\(base64)\n-----END CERTIFICATE-----\n"
    }
}

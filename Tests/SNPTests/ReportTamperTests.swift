import Foundation
import SNP
import XCTest

/// Tampered copies of the real reports fail with the right named check. The chain of each vector
/// is verified once; each tampered copy then costs one parse and one ECDSA verification.
final class ReportTamperTests: XCTestCase {
    /// Every offset of the signed region 0x000–0x29F of every real report, one flipped bit each:
    /// the copy never verifies; if it still parses, the `signature` check fails, otherwise
    /// `report-parses` does (reserved bytes, version, structural fields).
    func testAFlippedBitAtEveryOffsetOfTheSignedRegionFails() throws {
        for vector in SNPTestData.realVectors {
            let (raw, chain) = try prepared(vector)
            for offset in 0..<0x2A0 {
                try assertTamperedFails(raw, flipping: offset, bit: offset % 8, chain: chain, vector: vector)
            }
        }
    }

    /// All eight bits of every signed byte, for the Turin v5 report (the one with every field).
    func testEveryBitOfTheSignedRegionIsCovered() throws {
        for name in ["box2_turin"] {
            let vector = SNPTestData.vector(name)
            let (raw, chain) = try prepared(vector)
            for offset in 0..<0x2A0 {
                for bit in 0..<8 where bit != offset % 8 {
                    try assertTamperedFails(raw, flipping: offset, bit: bit, chain: chain, vector: vector)
                }
            }
        }
    }

    /// Every bit of R and S (72 little-endian bytes each): the signature check fails, including
    /// for the high bytes that must be zero in a P-384 signature.
    func testAFlippedBitInROrSFailsTheSignature() throws {
        for vector in SNPTestData.realVectors {
            let (raw, chain) = try prepared(vector)
            for offset in 0x2A0..<(0x2A0 + 144) {
                var tampered = raw
                tampered[offset] ^= 1 << UInt8(offset % 8)
                let result = ReportVerifier(cache: nil).verify(reportBytes: tampered, chain: chain, options: vector.options)
                XCTAssertEqual(result.check(.signature)?.ok, false, "\(vector.name) offset 0x\(String(offset, radix: 16))")
                XCTAssertEqual(result.checks.filter { !$0.ok }.map(\.name), [.signature], "\(vector.name) 0x\(String(offset, radix: 16))")
            }
        }
    }

    /// The rest of the signature field is reserved: a set bit there fails `report-parses`.
    func testAFlippedBitAfterROrSFailsParsing() throws {
        let vector = SNPTestData.vector("az_genoa")
        let (raw, chain) = try prepared(vector)
        for offset in stride(from: 0x2A0 + 144, to: 0x4A0, by: 7) {
            var tampered = raw
            tampered[offset] ^= 0x80
            let result = ReportVerifier(cache: nil).verify(reportBytes: tampered, chain: chain, options: vector.options)
            XCTAssertEqual(result.checks.map(\.name), [.reportParses])
            XCTAssertFalse(result.ok)
        }
    }

    /// The anchors' own tamperings: virtee/sev flips bit 7 of byte 21 (FAMILY_ID), Trustee adds
    /// one to byte 42 (PLATFORM_INFO) and to byte 0x180 (REPORTED_TCB, which also breaks the
    /// TCB extension check).
    func testTheAnchorsTamperingsFail() throws {
        let virtee = SNPTestData.vector("virtee_report_milan")
        var (raw, chain) = try prepared(virtee)
        raw[21] ^= 0x80
        XCTAssertEqual(ReportVerifier(cache: nil).verify(reportBytes: raw, chain: chain).check(.signature)?.ok, false)

        for name in ["trustee_test_report", "trustee_vlek_report"] {
            let vector = SNPTestData.vector(name)
            let (original, chain) = try prepared(vector)
            var platform = original
            platform[42] &+= 1
            XCTAssertEqual(ReportVerifier(cache: nil).verify(reportBytes: platform, chain: chain, options: vector.options)
                .checks.filter { !$0.ok }.map(\.name), [.signature], name)
            var tcb = original
            tcb[0x180] &+= 1
            let failed = ReportVerifier(cache: nil).verify(reportBytes: tcb, chain: chain, options: vector.options)
                .checks.filter { !$0.ok }.map(\.name)
            XCTAssertTrue(failed.contains(.signature) && failed.contains(.tcbExtensions), "\(name): \(failed)")
        }
    }

    // MARK: - Helpers

    /// The vector's raw report, which verifies, and its chain, verified once.
    private func prepared(_ vector: SNPTestData.Vector) throws -> ([UInt8], VerifiedChain) {
        let raw = try AttestationReport(input: vector.reportBytes()).bytes
        let loaded = try LoadedEndorsement(files: vector.files())
        let product = try XCTUnwrap(loaded.endorsementKey.product)
        let chain = try CertificateChain.verify(endorsementKey: loaded.endorsementKey, supplied: loaded.supplied,
                                                product: product, anchors: .amd)
        let untouched = ReportVerifier(cache: nil).verify(reportBytes: raw, chain: chain, options: vector.options)
        XCTAssertTrue(untouched.ok, "\(vector.name): \(untouched.checks.filter { !$0.ok })")
        return (raw, chain)
    }

    private func assertTamperedFails(_ raw: [UInt8], flipping offset: Int, bit: Int, chain: VerifiedChain,
                                     vector: SNPTestData.Vector) throws {
        var tampered = raw
        tampered[offset] ^= 1 << UInt8(bit)
        let where_ = "\(vector.name) offset 0x\(String(offset, radix: 16)) bit \(bit)"
        let result = ReportVerifier(cache: nil).verify(reportBytes: tampered, chain: chain, options: vector.options)
        XCTAssertFalse(result.ok, where_)
        if (try? AttestationReport(bytes: tampered)) != nil {
            XCTAssertEqual(result.check(.signature)?.ok, false, where_)
        } else {
            XCTAssertEqual(result.checks.map(\.name), [.reportParses], where_)
        }
    }
}

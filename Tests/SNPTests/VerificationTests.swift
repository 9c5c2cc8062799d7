import Foundation
import SNP
import XCTest

/// End to end: every real report verifies or fails exactly as its MANIFEST.md says, from the
/// files, with and without each flag the MANIFEST calls for.
final class VerificationTests: XCTestCase {
    private func verify(_ vector: SNPTestData.Vector, options: ValidationOptions? = nil, product: Product? = nil,
                        files: EndorsementFiles? = nil) throws -> ReportVerification {
        try ReportVerifier(cache: ChainCache()).verify(reportInput: vector.reportBytes(), files: files ?? vector.files(),
                                                       product: product, options: options ?? vector.options)
    }

    func testEveryRealReportVerifiesWithTheFlagsItsManifestCallsFor() throws {
        for vector in SNPTestData.realVectors {
            let result = try verify(vector)
            XCTAssertTrue(result.ok, "\(vector.name): \(result.checks.filter { !$0.ok })")
            XCTAssertEqual(Array(result.checks.map(\.name).prefix(4)), [.reportParses, .product, .chain, .signature])
            // Also with AMD's embedded ASK/ASVK instead of the chain file.
            let vekOnly = EndorsementFiles(endorsementKey: try SNPTestData.bytes(vector.vek))
            XCTAssertTrue(try verify(vector, files: vekOnly).ok, vector.name)
        }
    }

    /// Each flag the MANIFEST calls for is needed: without it exactly the named check fails.
    func testEachNeededFlagGuardsExactlyOneCheck() throws {
        var covered: Set<String> = []
        for vector in SNPTestData.realVectors {
            if vector.allowDebug {
                var options = vector.options
                options.allowDebug = false
                XCTAssertEqual(try failed(vector, options), [.policy], vector.name)
                covered.insert("debug")
            }
            if vector.allowProvisional {
                var options = vector.options
                options.allowProvisional = false
                XCTAssertEqual(try failed(vector, options), [.provisional], vector.name)
                covered.insert("provisional")
            }
            if vector.at != SNPTestData.verificationTime {
                var options = vector.options
                options.at = SNPTestData.date(SNPTestData.verificationTime)
                let result = try verify(vector, options: options)
                XCTAssertEqual(result.checks.filter { !$0.ok }.map(\.name), [.chain], vector.name)
                XCTAssertTrue(result.check(.chain)?.detail.contains("SEV-VLEK is not valid") ?? false)
                covered.insert("at")
            }
        }
        XCTAssertEqual(covered, ["debug", "provisional", "at"])
    }

    /// The negative pairings of the shared data fail the checks it records as failing.
    func testNegativePairingsFailTheRecordedChecks() throws {
        let expected = try SNPTestData.expected()
        for vector in SNPTestData.negativeVectors {
            let entry = try XCTUnwrap(expected[vector.name] as? [String: Any])
            let result = try verify(vector, options: SNPTestData.fixedTimeOptions)
            XCTAssertFalse(result.ok, vector.name)
            XCTAssertEqual(result.check(.signature)?.ok, entry["report_signature_valid"] as? Bool, vector.name)
            XCTAssertEqual(result.check(.tcbExtensions)?.ok, entry["vek_tcb_equals_reported_tcb"] as? Bool, vector.name)
            XCTAssertEqual(result.check(.hwid)?.ok, entry["hwid_matches_chip_id"] as? Bool, vector.name)
        }
    }

    func testProductComesFromCPUIDThenCertificateThenCaller() throws {
        // v3 Genoa report: CPUID decides; a contradicting --product fails the product check.
        let genoa = SNPTestData.vector("az_genoa")
        XCTAssertTrue(try verify(genoa).check(.product)?.detail.hasPrefix("Genoa from CPUID") ?? false)
        let contradicted = try verify(genoa, product: .milan)
        XCTAssertEqual(contradicted.check(.product)?.ok, false)
        XCTAssertFalse(contradicted.ok)
        // v2 Milan report: the VCEK's productName decides; --product may agree.
        let milan = SNPTestData.vector("gsg_attestation")
        XCTAssertTrue(try verify(milan).check(.product)?.detail.hasPrefix("Milan from VCEK productName Milan-B0") ?? false)
        XCTAssertTrue(try verify(milan, product: .milan).ok)
        XCTAssertEqual(try verify(milan, product: .turin).check(.product)?.ok, false)
    }

    func testUnreadableInputsThrowInsteadOfFailingACheck() throws {
        let vector = SNPTestData.vector("box2_turin")
        let verifier = ReportVerifier(cache: nil)
        let report = try vector.reportBytes()
        XCTAssertThrowsError(try verifier.verify(reportInput: Array(report.prefix(100)), files: vector.files())) {
            guard case .report(.wrongSize)? = $0 as? VerificationInputError else { return XCTFail("\($0)") }
        }
        let garbage = EndorsementFiles(endorsementKey: Array("not a certificate".utf8), endorsementKeySource: "vek.pem")
        XCTAssertThrowsError(try verifier.verify(reportInput: report, files: garbage)) {
            guard case .certificate? = $0 as? VerificationInputError else { return XCTFail("\($0)") }
            XCTAssertTrue("\($0)".hasPrefix("vek.pem:"))
        }
        // A report that breaks the ABI is readable: it fails report-parses.
        var reserved = report
        reserved[0x4C] = 1
        let result = try verifier.verify(reportInput: reserved, files: vector.files())
        XCTAssertEqual(result.checks.map(\.name), [.reportParses])
        XCTAssertNil(result.report)
    }

    private func failed(_ vector: SNPTestData.Vector, _ options: ValidationOptions) throws -> [CheckName] {
        try verify(vector, options: options).checks.filter { !$0.ok }.map(\.name)
    }
}

import Foundation
import SNP
import XCTest

/// The chain cache: one entry per certificate file set, results reused, validity still checked
/// at each verification's own time.
final class ChainCacheTests: XCTestCase {
    func testResultsAreCachedPerFileSet() throws {
        let cache = ChainCache()
        let verifier = ReportVerifier(cache: cache)
        let turin = SNPTestData.vector("box2_turin"), genoa = SNPTestData.vector("az_genoa")
        for _ in 0..<3 {
            XCTAssertTrue(try verifier.verify(reportInput: turin.reportBytes(), files: turin.files(), options: turin.options).ok)
        }
        XCTAssertEqual(cache.count, 1)
        XCTAssertTrue(try verifier.verify(reportInput: genoa.reportBytes(), files: genoa.files(), options: genoa.options).ok)
        XCTAssertEqual(cache.count, 2)
        // The same VCEK without the chain file is another file set.
        let vekOnly = EndorsementFiles(endorsementKey: try SNPTestData.bytes(turin.vek))
        XCTAssertTrue(try verifier.verify(reportInput: turin.reportBytes(), files: vekOnly).ok)
        XCTAssertEqual(cache.count, 3)
    }

    func testACachedChainIsStillCheckedAtEachTime() throws {
        let cache = ChainCache()
        let verifier = ReportVerifier(cache: cache)
        let vlek = SNPTestData.vector("trustee_vlek_report")
        XCTAssertTrue(try verifier.verify(reportInput: vlek.reportBytes(), files: vlek.files(), options: vlek.options).ok)
        var now = vlek.options
        now.at = nil
        let later = try verifier.verify(reportInput: vlek.reportBytes(), files: vlek.files(), options: now)
        XCTAssertEqual(later.checks.filter { !$0.ok }.map(\.name), [.chain])
        XCTAssertEqual(cache.count, 1)
    }

    func testAFailedChainIsCachedAsFailed() throws {
        let cache = ChainCache()
        let vector = SNPTestData.vector("trustee_invalid_legacy")
        for _ in 0..<2 {
            let result = try ReportVerifier(cache: cache).verify(reportInput: vector.reportBytes(), files: vector.files())
            XCTAssertEqual(result.check(.chain)?.ok, false)
        }
        XCTAssertEqual(cache.count, 1)
    }

    func testCapacityBoundsTheCache() throws {
        let cache = ChainCache(capacity: 2)
        for vector in SNPTestData.realVectors.prefix(5) {
            _ = try cache.loaded(vector.files())
            XCTAssertLessThanOrEqual(cache.count, 2)
        }
    }
}

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
        XCTAssertTrue(try verifier.verify(reportInput: turin.reportBytes(), files: vekOnly, options: turin.options).ok)
        XCTAssertEqual(cache.count, 3)
    }

    func testACachedChainIsStillCheckedAtEachTime() throws {
        let cache = ChainCache()
        let verifier = ReportVerifier(cache: cache)
        let vlek = SNPTestData.vector("trustee_vlek_report")
        XCTAssertTrue(try verifier.verify(reportInput: vlek.reportBytes(), files: vlek.files(), options: vlek.options).ok)
        var afterExpiry = vlek.options
        afterExpiry.at = SNPTestData.date("2025-12-11T00:00:00Z")
        let later = try verifier.verify(reportInput: vlek.reportBytes(), files: vlek.files(), options: afterExpiry)
        XCTAssertEqual(later.checks.filter { !$0.ok }.map(\.name), [.chain])
        XCTAssertEqual(cache.count, 1)
    }

    func testAFailedChainIsCachedAsFailed() throws {
        let cache = ChainCache()
        let vector = SNPTestData.vector("trustee_invalid_legacy")
        for _ in 0..<2 {
            let result = try ReportVerifier(cache: cache).verify(reportInput: vector.reportBytes(), files: vector.files(),
                                                                 options: SNPTestData.fixedTimeOptions)
            XCTAssertEqual(result.check(.chain)?.ok, false)
        }
        XCTAssertEqual(cache.count, 1)
    }

    /// The cache holds each file set it loaded (a second load is a hit, no new entry) up to its
    /// capacity, then empties itself and starts again.
    func testCapacityBoundsTheCache() throws {
        let cache = ChainCache(capacity: 2)
        var counts: [Int] = []
        for vector in SNPTestData.realVectors.prefix(5) {
            _ = try cache.loaded(vector.files())
            _ = try cache.loaded(vector.files())
            counts.append(cache.count)
        }
        XCTAssertEqual(counts, [1, 2, 1, 2, 1])
    }
}

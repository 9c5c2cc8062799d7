import CBOR
import XCTest
@testable import Evidence

/// The evidence file format: deterministic, strict, bounded.
final class EvidenceBundleTests: XCTestCase {
    private let bundle = EvidenceBundle(
        platform: .simulated, tool: "twocvm 0.1.0", report: [UInt8](repeating: 7, count: 0x4A0),
        certificates: [.init(kind: "vcek", der: [1, 2, 3]), .init(kind: "ask", der: [4]), .init(kind: "ark", der: [5])],
        manifestCBOR: CBOR.textMap([("version", .int(1))]).encoded(), runtimeData: Array("{}".utf8), lock: .launch)

    func testRoundTripIsDeterministic() throws {
        let bytes = bundle.encoded()
        XCTAssertEqual(try EvidenceBundle.decode(bytes), bundle)
        XCTAssertEqual(try EvidenceBundle.decode(bytes).encoded(), bytes)
        XCTAssertEqual(bundle.certificate("ask"), [4])
    }

    func testUnknownFieldsWrongTypesAndNonCanonicalBytesAreRefused() throws {
        var value = try CBORDecoder.decode(bundle.encoded())
        guard case var .map(entries) = value else { return XCTFail() }
        entries.append(.init(.text("extra"), .null))
        value = .map(entries)
        XCTAssertThrowsError(try EvidenceBundle.decode(value.encoded())) { error in
            XCTAssertEqual(error as? EvidenceError, .malformed(field: "extra", reason: "unknown field"))
        }
        let wrongPlatform = CBOR.map(try CBORDecoder.decode(bundle.encoded()).mapEntries!.map {
            $0.key == .text("platform") ? .init($0.key, .text("tdx")) : $0
        })
        XCTAssertThrowsError(try EvidenceBundle.decode(wrongPlatform.encoded()))
        // The same map with one length written non-minimally is not accepted.
        let bytes = bundle.encoded()
        XCTAssertEqual(bytes[0], 0xA9)
        XCTAssertThrowsError(try EvidenceBundle.decode([0xB9, 0x00, 0x09] + bytes.dropFirst()))
        XCTAssertThrowsError(try EvidenceBundle.decode(Array(bytes.dropLast())))
    }
}

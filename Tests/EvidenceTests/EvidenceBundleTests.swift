import CBOR
import Crypto
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

    func testSignatureCoversEveryOtherField() throws {
        let key = P384.Signing.PrivateKey()
        let signed = try bundle.signed(by: key)
        XCTAssertTrue(try EvidenceBundle.decode(signed.encoded()).isSigned(by: key.publicKey))
        XCTAssertFalse(signed.isSigned(by: P384.Signing.PrivateKey().publicKey))
        let retooled = EvidenceBundle(platform: .simulated, tool: "twocvm 9.9.9", report: signed.report, certificates: signed.certificates,
                                      manifestCBOR: signed.manifestCBOR, runtimeData: signed.runtimeData, lock: signed.lock,
                                      signature: signed.signature)
        XCTAssertFalse(retooled.isSigned(by: key.publicKey))
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
        XCTAssertEqual(bytes[0], 0xAA)
        XCTAssertThrowsError(try EvidenceBundle.decode([0xB9, 0x00, 0x0A] + bytes.dropFirst()))
        XCTAssertThrowsError(try EvidenceBundle.decode(Array(bytes.dropLast())))
    }
}

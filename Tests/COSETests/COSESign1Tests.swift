import CBOR
import Crypto
import XCTest
@testable import COSE

/// COSE_Sign1 ES384: structure, round trip, refusal of malformed and tampered messages.
final class COSESign1Tests: XCTestCase {
    private let key = P384.Signing.PrivateKey()

    func testSignedMessageRoundTripsAndVerifies() throws {
        let message = try COSESign1.sign(payload: [1, 2, 3], contentType: "application/x-test", keyID: Array("k".utf8), key: key)
        let bytes = message.encoded()
        XCTAssertEqual(bytes.first, 0xD2, "tag 18")
        let decoded = try COSESign1.decode(bytes)
        XCTAssertEqual(decoded, message)
        XCTAssertNoThrow(try decoded.verify(with: key.publicKey))
        XCTAssertThrowsError(try decoded.verify(with: P384.Signing.PrivateKey().publicKey)) { error in
            XCTAssertEqual(error as? COSEError, .badSignature)
        }
    }

    func testSignatureCoversTheProtectedHeaderAndPayload() throws {
        let message = try COSESign1.sign(payload: [1, 2, 3], contentType: "a", keyID: [], key: key)
        let otherPayload = COSESign1(protectedHeaderBytes: message.protectedHeaderBytes, protectedHeader: message.protectedHeader,
                                     unprotectedHeader: message.unprotectedHeader, payload: [1, 2, 4], signature: message.signature)
        XCTAssertThrowsError(try otherPayload.verify(with: key.publicKey))
        let header = CBOR.map([.init(.int(1), .int(-35)), .init(.int(3), .text("b"))])
        let otherHeader = COSESign1(protectedHeaderBytes: header.encoded(), protectedHeader: header,
                                    unprotectedHeader: message.unprotectedHeader, payload: message.payload, signature: message.signature)
        XCTAssertThrowsError(try otherHeader.verify(with: key.publicKey))
    }

    func testOtherAlgorithmsAreRefused() throws {
        let header = CBOR.map([.init(.int(1), .int(-7))])
        let message = COSESign1(protectedHeaderBytes: header.encoded(), protectedHeader: header, unprotectedHeader: .map([]),
                                payload: [], signature: Array(repeating: 0, count: 96))
        XCTAssertThrowsError(try message.verify(with: key.publicKey)) { error in
            XCTAssertEqual(error as? COSEError, .wrongAlgorithm("-7"))
        }
    }

    func testMalformedMessagesAreRefused() {
        let cases: [[UInt8]] = [
            [], [0xD2], [0xD3, 0x80], CBOR.array([]).encoded(),
            CBOR.tagged(18, .array([.bytes([]), .map([]), .bytes([])])).encoded(),
            CBOR.tagged(18, .array([.text("x"), .map([]), .bytes([]), .bytes([])])).encoded(),
            CBOR.tagged(18, .array([.bytes([0xFF]), .map([]), .bytes([]), .bytes([])])).encoded(),
            CBOR.tagged(18, .array([.bytes([]), .array([]), .bytes([]), .bytes([])])).encoded(),
            CBOR.tagged(18, .array([.bytes([]), .map([]), .null, .bytes([])])).encoded(),
        ]
        for bytes in cases {
            XCTAssertThrowsError(try COSESign1.decode(bytes), "\(bytes)") { error in
                guard case COSEError.malformed = error else { return XCTFail("\(error)") }
            }
        }
    }
}

import Foundation
import Hexadecimal
import XCTest

/// The two hex rules of Docs/cli.md, case by case: data formats are strict; what people type or
/// paste (every hex flag, a report as hex text) may carry `0x` and whitespace.
final class HexTests: XCTestCase {
    /// (text, what `decode(_:)` gives, what `decode(input:)` gives)
    private let cases: [(String, [UInt8]?, [UInt8]?)] = [
        ("", [], []),
        ("00ff", [0x00, 0xFF], [0x00, 0xFF]),
        ("ABcd", [0xAB, 0xCD], [0xAB, 0xCD]),
        ("0x00ff", nil, [0x00, 0xFF]),
        ("0X00FF", nil, [0x00, 0xFF]),
        ("  0x00 ff\n", nil, [0x00, 0xFF]),
        ("00 ff", nil, [0x00, 0xFF]),
        ("0x", nil, []),
        ("abc", nil, nil),
        ("0xabc", nil, nil),
        ("zz", nil, nil),
        ("00x0", nil, nil),
        ("0x0x00", nil, nil),
        ("-00", nil, nil),
    ]

    func testDataFormatsAreStrictAndInputMayCarryAPrefixAndWhitespace() {
        for (text, strict, input) in cases {
            XCTAssertEqual(Hex.decode(text), strict, "decode(\"\(text)\")")
            XCTAssertEqual(Hex.decode(input: text), input, "decode(input: \"\(text)\")")
            XCTAssertEqual(Hex.decode(inputUTF8: Array(text.utf8)), input, "decode(inputUTF8: \"\(text)\")")
        }
    }

    func testEncodeIsLowerCaseAndRoundTrips() {
        let bytes: [UInt8] = Array(0...255)
        let text = Hex.encode(bytes)
        XCTAssertEqual(text, text.lowercased())
        XCTAssertEqual(text.count, 512)
        XCTAssertEqual(Hex.decode(text), bytes)
        XCTAssertEqual(Hex.decode(input: "0x" + text.uppercased()), bytes)
    }
}

/// `algorithm:hex` digests: parsed strictly, printed lower-case, compared by algorithm and bytes.
final class HexDigestTests: XCTestCase {
    func testParsesPrintsAndComparesAlgorithmAndBytes() throws {
        let text = "sha384:" + String(repeating: "ab", count: 48)
        let digest = try XCTUnwrap(HexDigest(text))
        XCTAssertEqual(digest.algorithm, .sha384)
        XCTAssertEqual(digest.bytes, [UInt8](repeating: 0xAB, count: 48))
        XCTAssertEqual(digest.description, text)
        XCTAssertEqual(HexDigest(.sha384, bytes: digest.bytes), digest)
        XCTAssertNotEqual(HexDigest(.sha256, bytes: [UInt8](repeating: 0xAB, count: 32)), HexDigest(.sha384, bytes: digest.bytes))
    }

    func testRefusesAnythingButTheStrictForm() {
        let sha256 = String(repeating: "0f", count: 32)
        XCTAssertNotNil(HexDigest("sha256:" + sha256))
        let lastDigitUpper: String = "sha256:" + String(sha256.dropLast()) + "F"
        let twoByteCharacter: String = "sha256:" + String(sha256.dropLast(2)) + "\u{E9}"  // é: two bytes, 64 in all
        let notADigit: String = "sha256:" + String(sha256.dropLast()) + "g"
        let refused: [String] = ["sha256:" + sha256.uppercased(), "SHA256:" + sha256, "sha256:0x" + sha256, "sha256:" + sha256 + "00",
                                 "sha384:" + sha256, "md5:" + sha256, sha256, "sha256:", "sha256: " + sha256,
                                 lastDigitUpper, twoByteCharacter, notADigit]
        for text in refused {
            XCTAssertNil(HexDigest(text), text)
        }
        XCTAssertNil(HexDigest(.sha256, checking: [0]))
    }

    func testCodesAsItsText() throws {
        let digest = try XCTUnwrap(HexDigest("sha256:" + String(repeating: "01", count: 32)))
        let json = try JSONEncoder().encode([digest])
        XCTAssertEqual(String(decoding: json, as: UTF8.self), "[\"\(digest)\"]")
        XCTAssertEqual(try JSONDecoder().decode([HexDigest].self, from: json), [digest])
        XCTAssertThrowsError(try JSONDecoder().decode([HexDigest].self, from: Data("[\"sha256:zz\"]".utf8)))
    }
}

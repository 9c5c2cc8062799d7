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

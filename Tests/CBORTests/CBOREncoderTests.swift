import XCTest
@testable import CBOR

/// Deterministic encoding, checked against RFC 8949 Appendix A vectors and the §4.2.1 rules.
final class CBOREncoderTests: XCTestCase {
    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    func testIntegersUseShortestHeadsAtEveryBoundary() {
        let vectors: [(Int64, String)] = [
            (0, "00"), (23, "17"), (24, "1818"), (255, "18ff"), (256, "190100"), (65535, "19ffff"),
            (65536, "1a00010000"), (4_294_967_295, "1affffffff"), (4_294_967_296, "1b0000000100000000"),
            (-1, "20"), (-24, "37"), (-25, "3818"), (-256, "38ff"), (-257, "390100"),
            (Int64.min, "3b7fffffffffffffff"), (Int64.max, "1b7fffffffffffffff"),
        ]
        for (value, expected) in vectors {
            XCTAssertEqual(hex(CBOR.int(value).encoded()), expected, "\(value)")
        }
        XCTAssertEqual(hex(CBOR.unsigned(UInt64.max).encoded()), "1bffffffffffffffff")
    }

    func testStringsArraysAndSimpleValuesMatchRFC8949AppendixA() {
        XCTAssertEqual(hex(CBOR.text("").encoded()), "60")
        XCTAssertEqual(hex(CBOR.text("IETF").encoded()), "6449455446")
        XCTAssertEqual(hex(CBOR.text("\u{00fc}").encoded()), "62c3bc")
        XCTAssertEqual(hex(CBOR.bytes([1, 2, 3, 4]).encoded()), "4401020304")
        XCTAssertEqual(hex(CBOR.array([.int(1), .array([.int(2), .int(3)])]).encoded()), "8201820203")
        XCTAssertEqual(hex(CBOR.bool(false).encoded()), "f4")
        XCTAssertEqual(hex(CBOR.bool(true).encoded()), "f5")
        XCTAssertEqual(hex(CBOR.null.encoded()), "f6")
        XCTAssertEqual(hex(CBOR.tagged(1, .int(1363896240)).encoded()), "c11a514b67b0")
        let long = CBOR.array(Array(repeating: .int(1), count: 25)).encoded()
        XCTAssertEqual(hex(Array(long.prefix(2))), "9819")
    }

    func testFloatsUseTheShortestExactWidth() {
        XCTAssertEqual(hex(CBOR.float(0.0).encoded()), "f90000")
        XCTAssertEqual(hex(CBOR.float(1.5).encoded()), "f93e00")
        XCTAssertEqual(hex(CBOR.float(100000.0).encoded()), "fa47c35000")
        XCTAssertEqual(hex(CBOR.float(1.1).encoded()), "fb3ff199999999999a")
        XCTAssertEqual(hex(CBOR.float(.nan).encoded()), "f97e00")
        XCTAssertEqual(hex(CBOR.float(-.infinity).encoded()), "f9fc00")
    }

    func testMapKeysAreSortedBytewiseByTheirEncoding() {
        // RFC 8949 §4.2.1: 10, 100, -1, "z", "aa", [100], [-1], false.
        let map = CBOR.map([
            .init(.bool(false), .int(8)), .init(.array([.int(-1)]), .int(7)),
            .init(.array([.int(100)]), .int(6)), .init(.text("aa"), .int(5)),
            .init(.text("z"), .int(4)), .init(.int(-1), .int(3)),
            .init(.int(100), .int(2)), .init(.int(10), .int(1)),
        ])
        XCTAssertEqual(hex(map.encoded()), "a80a011864022003617a046261610581186406812007f408")
    }

    func testEntryOrderDoesNotChangeTheEncoding() {
        let a = CBOR.textMap([("b", .int(1)), ("a", .int(2)), ("c", .textMap([("y", .null), ("x", .bool(true))]))])
        let b = CBOR.textMap([("c", .textMap([("x", .bool(true)), ("y", .null)])), ("a", .int(2)), ("b", .int(1))])
        XCTAssertEqual(a.encoded(), b.encoded())
    }

    func testTextKeyedMapsSortExactlyAsTheirEncodingsAcrossHeadSizes() {
        // Keys of 0…300 bytes (one-, two- and three-byte heads), non-ASCII, shared prefixes:
        // the text-key path must give the order of the encoded keys, as the general path does.
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ab\u{e9}\u{1F600}z".unicodeScalars)
        for _ in 0..<50 {
            var keys = Set<String>()
            for _ in 0..<40 {
                let length = [0, 1, 2, 22, 23, 24, 25, 255, 256, 300].randomElement(using: &generator)!
                keys.insert(String(String.UnicodeScalarView((0..<length).map { _ in alphabet.randomElement(using: &generator)! })))
            }
            let entries = keys.shuffled(using: &generator).enumerated().map { CBOR.Entry(.text($0.element), .int(Int64($0.offset))) }
            var expected: [UInt8] = []
            CBOR.writeHead(major: 5, argument: UInt64(entries.count), into: &expected)
            for entry in entries.sorted(by: { $0.key.encoded().lexicographicallyPrecedes($1.key.encoded()) }) {
                expected += entry.key.encoded() + entry.value.encoded()
            }
            XCTAssertEqual(CBOR.map(entries).encoded(), expected)
        }
    }
}

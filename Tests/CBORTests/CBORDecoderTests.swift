import TestSupport
import XCTest
@testable import CBOR

/// The bounded decoder: round trips, canonical mode, and hostile inputs that must be refused
/// quickly without allocating what their headers claim.
final class CBORDecoderTests: XCTestCase {
    private func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    private let sample = CBOR.textMap([
        ("version", .int(1)), ("name", .text("wafer-yield")), ("neg", .int(-1_000_000)),
        ("blob", .bytes(Array(0..<200))), ("flags", .array([.bool(true), .bool(false), .null])),
        ("nested", .array([.textMap([("deep", .array([.tagged(18, .array([.int(1), .float(1.5)]))]))])])),
    ])

    func testDeterministicEncodingRoundTripsInCanonicalMode() throws {
        let encoded = sample.encoded()
        let decoded = try CBORDecoder.decode(encoded, requireCanonical: true)
        XCTAssertEqual(decoded.encoded(), encoded)
        XCTAssertEqual(decoded[text: "name"], .text("wafer-yield"))
        XCTAssertEqual(decoded[text: "neg"]?.int64, -1_000_000)
    }

    func testCanonicalModeRefusesNonShortestHeads() {
        for input in ["1817", "190017", "5801ff", "980100", "d81201"] {
            XCTAssertThrowsError(try CBORDecoder.decode(bytes(input), requireCanonical: true), input) { error in
                guard case CBORDecodingError.notCanonical = error else { return XCTFail("\(input): \(error)") }
            }
            XCTAssertNoThrow(try CBORDecoder.decode(bytes(input)), input)
        }
    }

    func testLaxInputReencodesToCanonicalFixedPoint() throws {
        // {_ "a": [_ 1, 2], (_ h'01'): (_ "a"), "b": 2^64-1} with indefinite lengths, unsorted keys.
        let lax = bytes("bf61619f0102ff5f4101ff7f6161ff61621bffffffffffffffffff")
        let value = try CBORDecoder.decode(lax)
        let canonical = value.encoded()
        XCTAssertEqual(try CBORDecoder.decode(canonical, requireCanonical: true).encoded(), canonical)
        XCTAssertEqual(try CBORDecoder.decode(canonical, requireCanonical: true)[text: "b"], .unsigned(.max))
    }

    func testCanonicalModeRefusesIndefiniteLengthsAndUnsortedKeys() throws {
        let indefinite = ["9f01ff", "bf6161 01ff", "5f4101ff", "7f6161ff"].map { $0.replacingOccurrences(of: " ", with: "") }
        for input in indefinite {
            XCTAssertThrowsError(try CBORDecoder.decode(bytes(input), requireCanonical: true), input)
            XCTAssertNoThrow(try CBORDecoder.decode(bytes(input)), input)
        }
        XCTAssertEqual(try CBORDecoder.decode(bytes("5f41014102ff")), .bytes([1, 2]))
        XCTAssertEqual(try CBORDecoder.decode(bytes("7f61616162ff")), .text("ab"))
        let unsorted = bytes("a2616201616101")  // {"b": 1, "a": 1}
        XCTAssertThrowsError(try CBORDecoder.decode(unsorted, requireCanonical: true))
        XCTAssertNoThrow(try CBORDecoder.decode(unsorted))
        XCTAssertThrowsError(try CBORDecoder.decode(bytes("fb3ff8000000000000"), requireCanonical: true))
    }

    func testKeysEqualAfterDeterministicEncodingAreDuplicates() {
        // Two NaN keys with different payloads, and 1 written in two widths: found by `make fuzz`
        // (re-encoding such a map produced duplicate keys).
        XCTAssertThrowsError(try CBORDecoder.decode(bytes("a2f97e0001f9fd0102"))) { error in
            XCTAssertEqual(error as? CBORDecodingError, .duplicateMapKey(offset: 5))
        }
        XCTAssertThrowsError(try CBORDecoder.decode(bytes("a20101180102")))
    }

    func testDuplicateMapKeysAreRefusedInEveryMode() {
        XCTAssertThrowsError(try CBORDecoder.decode(bytes("a2616101616102"))) { error in
            XCTAssertEqual(error as? CBORDecodingError, .duplicateMapKey(offset: 4))
        }
    }

    func testHeaderClaimingFourGiBIsRefusedBeforeAllocating() {
        // A byte string, an array and a map each claiming 2^32 - 1 with nothing behind them.
        for input in ["5affffffff", "9affffffff00", "baffffffff0000", "5bffffffffffffffff", "9bffffffffffffffff"] {
            let start = Date()
            XCTAssertThrowsError(try CBORDecoder.decode(bytes(input)), input) { error in
                switch error as? CBORDecodingError {
                case .truncated?, .lengthExceedsInput?: break
                default: XCTFail("\(input): \(error)")
                }
            }
            XCTAssertLessThan(Date().timeIntervalSince(start), 0.5)
        }
    }

    func testDeepNestingIsRefusedAtTheDepthLimit() {
        let deep = [UInt8](repeating: 0x81, count: 100_000) + [0x00]
        XCTAssertThrowsError(try CBORDecoder.decode(deep)) { error in
            XCTAssertEqual(error as? CBORDecodingError, .tooDeep(offset: 32, limit: 32))
        }
        let ok = [UInt8](repeating: 0x81, count: 31) + [0x00]
        XCTAssertNoThrow(try CBORDecoder.decode(ok))
    }

    func testItemCountAndInputSizeLimits() {
        let many = [0x99, 0x03, 0xE8] + [UInt8](repeating: 0x00, count: 1000)
        XCTAssertThrowsError(try CBORDecoder.decode(many, limits: .init(maxItems: 500))) { error in
            guard case CBORDecodingError.tooManyItems = error else { return XCTFail("\(error)") }
        }
        XCTAssertNoThrow(try CBORDecoder.decode(many))
        XCTAssertThrowsError(try CBORDecoder.decode(many, limits: .init(maxInputBytes: 100))) { error in
            XCTAssertEqual(error as? CBORDecodingError, .inputTooLarge(size: 1003, limit: 100))
        }
    }

    func testTruncatedTrailingAndMalformedInputs() {
        XCTAssertEqual(catchError { try CBORDecoder.decode([]) }, .empty)
        XCTAssertEqual(catchError { try CBORDecoder.decode(self.bytes("8201")) }, .lengthExceedsInput(offset: 0, declared: 2, remaining: 1))
        XCTAssertEqual(catchError { try CBORDecoder.decode(self.bytes("820101")) }, nil)
        XCTAssertEqual(catchError { try CBORDecoder.decode(self.bytes("83018201")) }, .lengthExceedsInput(offset: 2, declared: 2, remaining: 1))
        XCTAssertEqual(catchError { try CBORDecoder.decode(self.bytes("d2")) }, .truncated(offset: 1))
        XCTAssertEqual(catchError { try CBORDecoder.decode(self.bytes("0101")) }, .trailingBytes(offset: 1))
        XCTAssertEqual(catchError { try CBORDecoder.decode(self.bytes("62c3")) }, .truncated(offset: 0))
        XCTAssertEqual(catchError { try CBORDecoder.decode(self.bytes("62c328")) }, .invalidUTF8(offset: 0))
        XCTAssertEqual(catchError { try CBORDecoder.decode(self.bytes("ff")) }, .malformed(offset: 0))
        XCTAssertNotNil(catchError { try CBORDecoder.decode(self.bytes("1c")) })
    }

    /// Seeded random inputs, half pure noise and half a valid encoding with one bit flipped:
    /// none crashes, and each one accepted re-encodes to canonical bytes that are a fixed point.
    /// Noise is mostly rejected, so the accepted inputs are counted: a decoder that rejected
    /// everything would otherwise pass.
    func testRandomBytesNeverCrashAndAcceptedOnesRoundTrip() {
        var generator = SplitMix64(seed: 0xCB0_5EED)
        var accepted = 0
        for round in 0..<5000 {
            var input: [UInt8]
            if round % 2 == 0 {
                input = generator.bytes(generator.next(in: 1...64))
            } else {
                input = Self.randomValue(&generator, depth: 0).encoded()
                input[generator.next(in: 0...input.count - 1)] ^= 1 << UInt8(generator.next(in: 0...7))
            }
            guard let value = try? CBORDecoder.decode(input) else { continue }
            accepted += 1
            let encoded = value.encoded()
            XCTAssertEqual(try? CBORDecoder.decode(encoded, requireCanonical: true).encoded(), encoded, "input \(input)")
        }
        XCTAssertGreaterThanOrEqual(accepted, 1000, "seeded inputs the decoder accepts")
    }

    /// A random CBOR value of every major type, nested at most three deep.
    private static func randomValue(_ generator: inout SplitMix64, depth: Int) -> CBOR {
        let leaf = depth >= 3
        switch generator.next(in: 0...(leaf ? 5 : 8)) {
        case 0: return .unsigned(generator.next() >> UInt64(generator.next(in: 0...63)))
        case 1: return .negative(generator.next() >> UInt64(generator.next(in: 0...63)))
        case 2: return .bytes(generator.bytes(generator.next(in: 0...30)))
        case 3: return .text(String(repeating: "é", count: generator.next(in: 0...12)))
        case 4: return .bool(generator.next(in: 0...1) == 1)
        case 5: return .null
        case 6: return .array((0..<generator.next(in: 0...4)).map { _ in randomValue(&generator, depth: depth + 1) })
        case 7:
            return .map((0..<generator.next(in: 0...4)).map { index in
                CBOR.Entry(.unsigned(UInt64(index)), randomValue(&generator, depth: depth + 1))
            })
        default: return .tagged(UInt64(generator.next(in: 0...300)), randomValue(&generator, depth: depth + 1))
        }
    }

    private func catchError(_ body: () throws -> CBOR) -> CBORDecodingError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error as? CBORDecodingError
        }
    }
}

/// Lower-case hexadecimal encoding and a strict decoder, for report fields and command-line values.
///
/// Named `SNPHex` (not `Hex`) so it cannot collide with helpers elsewhere in the module.
public enum SNPHex {
    /// Encodes `bytes` as lower-case hex without separators.
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex text (either case, optional `0x` prefix, whitespace between digits ignored).
    /// Returns nil for anything else: an odd number of digits or a non-hex character.
    public static func decode(_ text: String) -> [UInt8]? {
        decode(utf8: Array(text.utf8))
    }

    /// Decodes hex from UTF-8 bytes, with the same rules as `decode(_:)`.
    public static func decode(utf8: [UInt8]) -> [UInt8]? {
        var digits = utf8[...]
        while let first = digits.first, isWhitespace(first) { digits = digits.dropFirst() }
        if digits.count >= 2, digits[digits.startIndex] == UInt8(ascii: "0"),
           digits[digits.startIndex + 1] | 0x20 == UInt8(ascii: "x") {
            digits = digits.dropFirst(2)
        }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var high: UInt8? = nil
        for character in digits {
            if isWhitespace(character) { continue }
            guard let nibble = nibble(character) else { return nil }
            if let h = high {
                out.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return high == nil ? out : nil
    }

    private static func isWhitespace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

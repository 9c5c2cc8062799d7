/// Hexadecimal: the one codec every target uses (SPEC §2 allows this target below all of them;
/// it imports nothing). Everything twocvm prints in hex goes through ``encode(_:)``; everything it
/// reads in hex goes through one of two rules:
///
/// * ``decode(_:)``, for data formats (digests in manifests, plans and reference values, JSON
///   fields): hex digits in either case, an even number of them, nothing else.
/// * ``decode(input:)``, for what people type or paste (every command-line flag that takes hex,
///   a report given as hex text): the same digits, optionally after a `0x` or `0X` prefix, with
///   whitespace (space, tab, newline, carriage return) before the prefix and between digits
///   ignored.
public enum Hex {
    /// Lower-case hex without separators. Inlinable, so that each caller has it for its own
    /// byte type: unspecialized, its first call with a type (a digest) costs a runtime lookup
    /// of that type's conformances (about 0.1 ms).
    @inlinable
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex in a data format: digits in either case, an even number, nothing else.
    public static func decode(_ text: String) -> [UInt8]? {
        decode(utf8: Array(text.utf8))
    }

    /// ``decode(_:)`` over UTF-8 bytes.
    public static func decode(utf8: [UInt8]) -> [UInt8]? {
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    /// Decodes hex someone typed or pasted: an optional `0x`/`0X` prefix, whitespace ignored.
    public static func decode(input text: String) -> [UInt8]? {
        decode(inputUTF8: Array(text.utf8))
    }

    /// ``decode(input:)`` over UTF-8 bytes (a report file given as hex text).
    public static func decode(inputUTF8 utf8: [UInt8]) -> [UInt8]? {
        var rest = utf8[...]
        while let first = rest.first, isWhitespace(first) { rest = rest.dropFirst() }
        if rest.count >= 2, rest[rest.startIndex] == UInt8(ascii: "0"), rest[rest.startIndex + 1] | 0x20 == UInt8(ascii: "x") {
            rest = rest.dropFirst(2)
        }
        return decode(utf8: rest.filter { !isWhitespace($0) })
    }

    @usableFromInline static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func isWhitespace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D
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

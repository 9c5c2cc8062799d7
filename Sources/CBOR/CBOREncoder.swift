/// Deterministic encoding, RFC 8949 §4.2.1 ("core deterministic encoding requirements"):
///
/// * integers, lengths and tags in the shortest form;
/// * definite lengths only;
/// * map entries sorted by the bytewise lexicographic order of their keys' encodings;
/// * floats in the shortest of half/single/double precision that keeps the value exactly
///   (NaN as the half-precision quiet NaN `0xf97e00`).
///
/// A map holding two equal keys is not valid CBOR; the encoder writes it as given, so builders
/// must not produce one (the decoder refuses such input).
extension CBOR {
    /// The deterministic encoding of this item.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        encode(into: &out)
        return out
    }

    /// Appends the deterministic encoding of this item to `out`.
    public func encode(into out: inout [UInt8]) {
        switch self {
        case let .unsigned(n): CBOR.writeHead(major: 0, argument: n, into: &out)
        case let .negative(n): CBOR.writeHead(major: 1, argument: n, into: &out)
        case let .bytes(b):
            CBOR.writeHead(major: 2, argument: UInt64(b.count), into: &out)
            out.append(contentsOf: b)
        case let .text(s):
            CBOR.writeHead(major: 3, argument: UInt64(s.utf8.count), into: &out)
            out.append(contentsOf: s.utf8)
        case let .array(items):
            CBOR.writeHead(major: 4, argument: UInt64(items.count), into: &out)
            for item in items { item.encode(into: &out) }
        case let .map(entries):
            CBOR.writeHead(major: 5, argument: UInt64(entries.count), into: &out)
            if let sorted = CBOR.sortedByTextKey(entries) {
                for entry in sorted {
                    entry.key.encode(into: &out)
                    entry.value.encode(into: &out)
                }
                return
            }
            let encodedEntries = entries
                .map { (key: $0.key.encoded(), value: $0.value) }
                .sorted { $0.key.lexicographicallyPrecedes($1.key) }
            for entry in encodedEntries {
                out.append(contentsOf: entry.key)
                entry.value.encode(into: &out)
            }
        case let .tagged(tag, item):
            CBOR.writeHead(major: 6, argument: tag, into: &out)
            item.encode(into: &out)
        case let .bool(b): out.append(b ? 0xF5 : 0xF4)
        case .null: out.append(0xF6)
        case .undefined: out.append(0xF7)
        case let .float(d): CBOR.writeFloat(d, into: &out)
        }
    }

    /// The entries in deterministic order if every key is a text string, without encoding the
    /// keys: for one major type, the bytewise order of the encodings is the order of the
    /// lengths (a longer string never has a smaller head), then of the UTF-8 bytes. Nil if any
    /// key is not text (the general path encodes the keys and sorts the encodings).
    static func sortedByTextKey(_ entries: [Entry]) -> [Entry]? {
        var keyed: [(key: String.UTF8View, entry: Entry)] = []
        keyed.reserveCapacity(entries.count)
        for entry in entries {
            guard case let .text(key) = entry.key else { return nil }
            keyed.append((key.utf8, entry))
        }
        keyed.sort { a, b in
            a.key.count != b.key.count ? a.key.count < b.key.count : a.key.lexicographicallyPrecedes(b.key)
        }
        return keyed.map(\.entry)
    }

    /// Writes an initial byte and argument in the shortest form (RFC 8949 §3, §4.2.1).
    static func writeHead(major: UInt8, argument: UInt64, into out: inout [UInt8]) {
        let type = major << 5
        switch argument {
        case 0..<24:
            out.append(type | UInt8(argument))
        case 24...0xFF:
            out.append(type | 24)
            out.append(UInt8(argument))
        case 0x100...0xFFFF:
            out.append(type | 25)
            appendBigEndian(argument, byteCount: 2, into: &out)
        case 0x1_0000...0xFFFF_FFFF:
            out.append(type | 26)
            appendBigEndian(argument, byteCount: 4, into: &out)
        default:
            out.append(type | 27)
            appendBigEndian(argument, byteCount: 8, into: &out)
        }
    }

    /// The number of bytes `writeHead` uses for `argument` (1, 2, 3, 5 or 9).
    static func shortestHeadLength(_ argument: UInt64) -> Int {
        switch argument {
        case 0..<24: return 1
        case 24...0xFF: return 2
        case 0x100...0xFFFF: return 3
        case 0x1_0000...0xFFFF_FFFF: return 5
        default: return 9
        }
    }

    private static func writeFloat(_ value: Double, into out: inout [UInt8]) {
        if value.isNaN {
            out.append(contentsOf: [0xF9, 0x7E, 0x00])
            return
        }
        let half = Float16(value)
        if Double(half) == value {
            out.append(0xF9)
            appendBigEndian(UInt64(half.bitPattern), byteCount: 2, into: &out)
            return
        }
        let single = Float(value)
        if Double(single) == value {
            out.append(0xFA)
            appendBigEndian(UInt64(single.bitPattern), byteCount: 4, into: &out)
            return
        }
        out.append(0xFB)
        appendBigEndian(value.bitPattern, byteCount: 8, into: &out)
    }

    private static func appendBigEndian(_ value: UInt64, byteCount: Int, into out: inout [UInt8]) {
        for shift in stride(from: (byteCount - 1) * 8, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }
}

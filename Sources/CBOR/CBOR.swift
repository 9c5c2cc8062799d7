/// One CBOR data item (RFC 8949).
///
/// The model keeps what the wire keeps: integers as unsigned magnitude plus sign, byte and text
/// strings, arrays, maps with their entries in order, tags and simple values. Encoding through
/// `encoded()` is always deterministic (RFC 8949 §4.2.1); decoding untrusted bytes goes through
/// `CBORDecoder`, which bounds everything before it allocates.
public indirect enum CBOR: Hashable, Sendable {
    /// Major type 0: an unsigned integer.
    case unsigned(UInt64)
    /// Major type 1: the integer `-1 - n`, carrying `n`.
    case negative(UInt64)
    /// Major type 2: a byte string.
    case bytes([UInt8])
    /// Major type 3: a UTF-8 text string.
    case text(String)
    /// Major type 4: an array.
    case array([CBOR])
    /// Major type 5: a map, entries in the order given (the encoder sorts them).
    case map([Entry])
    /// Major type 6: a tagged item.
    case tagged(UInt64, CBOR)
    /// Major type 7: `false` / `true`.
    case bool(Bool)
    /// Major type 7: `null`.
    case null
    /// Major type 7: `undefined`.
    case undefined
    /// Major type 7: a floating-point number (encoded in the shortest exact width).
    case float(Double)

    /// One key/value pair of a map.
    public struct Entry: Hashable, Sendable {
        public var key: CBOR
        public var value: CBOR

        public init(_ key: CBOR, _ value: CBOR) {
            self.key = key
            self.value = value
        }
    }
}

// MARK: - Convenience constructors and accessors

extension CBOR {
    /// An integer item for any `Int64`.
    public static func int(_ value: Int64) -> CBOR {
        value >= 0 ? .unsigned(UInt64(value)) : .negative(UInt64(-(value + 1)))
    }

    /// A map from text keys, in the order given.
    public static func textMap(_ pairs: [(String, CBOR)]) -> CBOR {
        .map(pairs.map { Entry(.text($0.0), $0.1) })
    }

    /// The value as `Int64`, if it is an integer that fits.
    public var int64: Int64? {
        switch self {
        case let .unsigned(n) where n <= UInt64(Int64.max): return Int64(n)
        case let .negative(n) where n <= UInt64(Int64.max): return -1 - Int64(n)
        default: return nil
        }
    }

    /// The bytes of a byte string.
    public var byteString: [UInt8]? {
        if case let .bytes(b) = self { return b }
        return nil
    }

    /// The string of a text string.
    public var textString: String? {
        if case let .text(s) = self { return s }
        return nil
    }

    /// The items of an array.
    public var arrayItems: [CBOR]? {
        if case let .array(a) = self { return a }
        return nil
    }

    /// The entries of a map.
    public var mapEntries: [Entry]? {
        if case let .map(m) = self { return m }
        return nil
    }

    /// The value stored under `key` in a map (first match), or nil.
    public subscript(key: CBOR) -> CBOR? {
        mapEntries?.first(where: { $0.key == key })?.value
    }

    /// The value stored under the text key `key` in a map, or nil.
    public subscript(text key: String) -> CBOR? {
        self[.text(key)]
    }

    /// The value stored under the integer key `key` in a map (COSE labels), or nil.
    public subscript(int key: Int64) -> CBOR? {
        self[.int(key)]
    }
}

/// A minimal, bounded DER reader: just enough to slice a certificate into its signed part and
/// signature, and to decode the small values inside AMD's certificate extensions. It never
/// allocates more than its input and rejects indefinite lengths and multi-byte tags.
struct DERReader {
    private let bytes: [UInt8]
    private(set) var position: Int
    private let end: Int

    init(_ bytes: [UInt8]) {
        self.init(bytes, range: 0..<bytes.count)
    }

    init(_ bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
    }

    var isAtEnd: Bool { position >= end }

    /// Reads the next element.
    mutating func next() throws(DERError) -> DERElement {
        let start = position
        guard end - position >= 2 else { throw .truncated(offset: position) }
        let tag = bytes[position]
        guard tag & 0x1f != 0x1f else { throw .unsupportedTag(offset: position) }
        let first = bytes[position + 1]
        position += 2
        var length = 0
        if first < 0x80 {
            length = Int(first)
        } else {
            let count = Int(first & 0x7f)
            guard count >= 1, count <= 4 else { throw .badLength(offset: start) }
            guard end - position >= count else { throw .truncated(offset: position) }
            for _ in 0..<count {
                length = length << 8 | Int(bytes[position])
                position += 1
            }
            // DER: the long form only for lengths >= 128, in the fewest bytes.
            guard length >= 0x80, length >> (8 * (count - 1)) != 0 else { throw .badLength(offset: start) }
        }
        guard length <= end - position else { throw .truncated(offset: position) }
        let content = position..<(position + length)
        position += length
        return DERElement(tag: tag, whole: start..<position, content: content)
    }

    /// Reads the next element and requires its tag.
    mutating func next(tag: UInt8) throws(DERError) -> DERElement {
        let element = try next()
        guard element.tag == tag else { throw .unexpectedTag(offset: element.whole.lowerBound, found: element.tag, expected: tag) }
        return element
    }

    /// A reader over the content of `element` (which must come from the same bytes).
    func children(of element: DERElement) -> DERReader {
        DERReader(bytes, range: element.content)
    }
}

/// One tag-length-value element, as ranges into the reader's bytes.
struct DERElement {
    let tag: UInt8
    let whole: Range<Int>
    let content: Range<Int>

    static let integer: UInt8 = 0x02
    static let bitString: UInt8 = 0x03
    static let utf8String: UInt8 = 0x0c
    static let printableString: UInt8 = 0x13
    static let ia5String: UInt8 = 0x16
    static let sequence: UInt8 = 0x30
}

/// Why DER bytes could not be read.
enum DERError: Error, Equatable, CustomStringConvertible {
    case truncated(offset: Int)
    case badLength(offset: Int)
    case unsupportedTag(offset: Int)
    case unexpectedTag(offset: Int, found: UInt8, expected: UInt8)
    case trailingBytes(offset: Int)
    case invalidValue(String)

    var description: String {
        switch self {
        case let .truncated(offset): return "DER truncated at byte \(offset)"
        case let .badLength(offset): return "DER length at byte \(offset) is not a definite minimal length"
        case let .unsupportedTag(offset): return "DER multi-byte tag at byte \(offset)"
        case let .unexpectedTag(offset, found, expected):
            return "DER tag 0x\(String(found, radix: 16)) at byte \(offset), expected 0x\(String(expected, radix: 16))"
        case let .trailingBytes(offset): return "DER has trailing bytes from byte \(offset)"
        case let .invalidValue(what): return what
        }
    }
}

/// Decoders for the single values AMD puts in certificate extensions.
enum DERValue {
    /// A whole-input DER INTEGER that is non-negative and fits in a byte (the SPL values).
    static func smallUnsigned(_ bytes: [UInt8]) throws(DERError) -> UInt8? {
        var reader = DERReader(bytes)
        let element = try reader.next(tag: DERElement.integer)
        guard reader.isAtEnd else { throw .trailingBytes(offset: reader.position) }
        var content = bytes[element.content]
        guard let first = content.first, first & 0x80 == 0 else { return nil }  // empty or negative
        while content.count > 1, content.first == 0 { content = content.dropFirst() }
        return content.count == 1 ? content.first : nil
    }

    /// A whole-input DER IA5String, UTF8String or PrintableString.
    static func string(_ bytes: [UInt8]) throws(DERError) -> String? {
        var reader = DERReader(bytes)
        let element = try reader.next()
        guard reader.isAtEnd else { throw .trailingBytes(offset: reader.position) }
        switch element.tag {
        case DERElement.ia5String, DERElement.utf8String, DERElement.printableString:
            return String(decoding: bytes[element.content], as: UTF8.self)
        default:
            return nil
        }
    }
}

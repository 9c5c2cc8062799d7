/// A digest as twocvm writes it: `<algorithm>:<lower-case hex>` (`sha256:…` for content,
/// `sha384:…` for manifests and plans). Every digest the tools print, and every one a manifest,
/// reference-values file or `--json` output carries, is this text; parsing it is strict
/// (a known algorithm, lower-case hex of exactly its length) and comparing compares the
/// algorithm and the bytes, never the text.
public struct HexDigest: Hashable, Sendable, CustomStringConvertible, Codable {
    public enum Algorithm: String, Sendable, CaseIterable, Codable {
        case sha256
        case sha384

        /// The digest length in bytes.
        public var byteCount: Int {
            switch self {
            case .sha256: return 32
            case .sha384: return 48
            }
        }
    }

    public let algorithm: Algorithm
    public let bytes: [UInt8]

    /// A digest of `algorithm` with these bytes: a hash function's output, or a field whose
    /// length its decoder checked (a wrong length is a programming error and traps).
    public init(_ algorithm: Algorithm, bytes: [UInt8]) {
        precondition(bytes.count == algorithm.byteCount, "a \(algorithm.rawValue) digest is \(algorithm.byteCount) bytes")
        self.algorithm = algorithm
        self.bytes = bytes
    }

    /// A digest of `algorithm` with these bytes from untrusted input; nil if they are not the
    /// algorithm's length.
    public init?(_ algorithm: Algorithm, checking bytes: [UInt8]) {
        guard bytes.count == algorithm.byteCount else { return nil }
        self.init(algorithm, bytes: bytes)
    }

    /// Parses `<algorithm>:<lower-case hex>`; nil for anything else.
    public init?(_ text: String) {
        // Byte-wise: a manifest holds thousands of digests, and Character's Unicode properties
        // (isUppercase) cost more than the whole decode. Upper-case hex digits are refused here;
        // any other byte that is not a hex digit is refused by the decoder.
        let utf8 = text.utf8
        guard let colon = utf8.firstIndex(of: UInt8(ascii: ":")),
              let algorithm = Algorithm(rawValue: String(text[..<colon])) else { return nil }
        let hex = Array(utf8[utf8.index(after: colon)...])
        guard hex.count == 2 * algorithm.byteCount,
              !hex.contains(where: { (UInt8(ascii: "A")...UInt8(ascii: "F")).contains($0) }),
              let bytes = Hex.decode(utf8: hex) else { return nil }
        self.init(algorithm, bytes: bytes)
    }

    public var description: String { "\(algorithm.rawValue):\(Hex.encode(bytes))" }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let digest = HexDigest(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a digest (sha256:<64 hex> or sha384:<96 hex>): \(text)")
        }
        self = digest
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

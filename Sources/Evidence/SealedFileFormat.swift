import CBOR
import Crypto
import Foundation
import Manifest

/// What a sealed file is for: an owner's input to the TEE, or a run's output to a recipient.
public enum SealPurpose: String, Sendable, CaseIterable {
    case input
    case output
}

/// The header of a sealed file (Docs/formats.md "Sealed files"): a deterministic CBOR map with
/// text keys, carried as the first byte string of the file and signed with the chunks.
public struct SealedFileHeader: Sendable, Equatable {
    /// The format version (``SealedFileFormat/readableVersions``): 2 is written, 1 still opens.
    public var version: Int64
    /// The manifest the data belongs to.
    public var manifest: ManifestDigest
    /// `input` or `output`.
    public var purpose: SealPurpose
    /// The data id (inputs) or output id (outputs) from the manifest.
    public var id: String
    /// Who can open it: `tee` for inputs, the recipient participant id for outputs.
    public var recipient: String
    /// The participant id (inputs) or `tee` (outputs) whose signing key signed the file.
    public var sender: String
    /// The HPKE encapsulated key (97-byte uncompressed P-384 point).
    public var encapsulatedKey: [UInt8]
    /// Plaintext bytes per chunk (the last chunk may be shorter).
    public var chunkSize: Int
    /// Total plaintext length in bytes.
    public var length: UInt64
    /// SHA-256 of the whole plaintext: version 1 only (version 2 seals in one pass, so its
    /// header cannot carry it).
    public var sha256: [UInt8]?
    /// The HPKE context's key commitment (32 bytes): version 2 only. The opener refuses a
    /// file whose context yields another, before it decrypts anything.
    public var commitment: [UInt8]?

    /// The number of AEAD chunks: at least one (an empty plaintext is one empty final chunk).
    public var chunkCount: Int {
        let size = UInt64(chunkSize)
        return length == 0 ? 1 : Int(length / size + (length % size == 0 ? 0 : 1))
    }

    /// The plaintext size of chunk `index`.
    public func plaintextSize(ofChunk index: Int) -> Int {
        let start = UInt64(index) * UInt64(chunkSize)
        return Int(min(UInt64(chunkSize), length - min(length, start)))
    }
}

/// Constants, encodings and the bounded parser of the sealed-file format.
public enum SealedFileFormat {
    /// The `type` value.
    public static let type = "twocvm-sealed"
    /// The version this build writes.
    public static let version: Int64 = 2
    /// The versions this build opens (version 1: the previous release's files).
    public static let readableVersions: ClosedRange<Int64> = 1...2
    /// HPKE suite ids (RFC 9180 §7): KEM 0x0011 DHKEM(P-384, HKDF-SHA384), KDF 0x0002
    /// HKDF-SHA384, AEAD 0x0002 AES-256-GCM.
    public static let suite: [Int64] = [0x0011, 0x0002, 0x0002]
    /// The swift-crypto ciphersuite matching `suite`.
    public static let ciphersuite = HPKE.Ciphersuite.P384_SHA384_AES_GCM_256
    /// Label at the start of the HPKE info: `twocvm-sealed/v1` or `twocvm-sealed/v2`.
    public static func infoLabel(version: Int64) -> String { "twocvm-sealed/v\(version)" }
    /// What a version 2 signature signs before the SHA-256 of the file's bytes.
    public static let signatureLabel = Array("twocvm-sealed/v2 signature".utf8)
    /// Allowed chunk sizes (1 byte to 16 MiB).
    public static let chunkSizes = 1...(16 << 20)
    /// Largest plaintext length a header may declare (1 PiB; keeps chunk arithmetic in range).
    public static let maxLength: UInt64 = 1 << 50
    /// Longest id, recipient or sender name in UTF-8 bytes.
    public static let maxNameBytes = 256
    /// Longest encoded header accepted.
    public static let maxHeaderBytes = 4096
    /// AES-GCM tag length appended to every chunk.
    public static let tagBytes = 16
    /// Raw ES384 signature length (r ‖ s).
    public static let signatureBytes = 96

    /// HPKE info: the deterministic CBOR array `[label, manifest, purpose, id, recipient]`.
    public static func info(version: Int64, manifest: ManifestDigest, purpose: SealPurpose, id: String, recipient: String) -> [UInt8] {
        CBOR.array([.text(infoLabel(version: version)), .bytes(manifest.bytes), .text(purpose.rawValue), .text(id), .text(recipient)]).encoded()
    }

    /// AEAD associated data of chunk `index`: SHA-384(header) ‖ index (u64 big-endian) ‖ final (0/1).
    public static func aad(headerDigest: [UInt8], index: Int, final: Bool) -> [UInt8] {
        var out = headerDigest
        out.reserveCapacity(57)
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: UInt64(index) >> UInt64(shift))) }
        out.append(final ? 1 : 0)
        return out
    }

    /// The deterministic CBOR encoding of `header` (the bytes that are hashed and signed):
    /// eleven fields, and a twelfth: `sha256` in version 1, `commit` in version 2.
    public static func encode(_ h: SealedFileHeader) -> [UInt8] {
        var fields: [(String, CBOR)] = [
            ("type", .text(type)), ("version", .int(h.version)), ("manifest", .bytes(h.manifest.bytes)),
            ("purpose", .text(h.purpose.rawValue)), ("id", .text(h.id)), ("recipient", .text(h.recipient)),
            ("sender", .text(h.sender)), ("suite", .array(suite.map { .int($0) })), ("enc", .bytes(h.encapsulatedKey)),
            ("chunk-size", .int(Int64(h.chunkSize))), ("length", .unsigned(h.length)),
        ]
        if let sha256 = h.sha256 { fields.append(("sha256", .bytes(sha256))) }
        if let commitment = h.commitment { fields.append(("commit", .bytes(commitment))) }
        return CBOR.textMap(fields).encoded()
    }

    /// Decodes and range-checks a header (canonical CBOR only, exactly the twelve known keys of
    /// its version: eleven common ones, and `sha256` in version 1 or `commit` in version 2).
    public static func decodeHeader(_ bytes: [UInt8]) throws(SealError) -> SealedFileHeader {
        let limits = CBORDecodingLimits(maxInputBytes: maxHeaderBytes, maxDepth: 3, maxItems: 64)
        let map: CBOR
        do { map = try CBORDecoder.decode(bytes, limits: limits, requireCanonical: true) } catch {
            throw .malformed("header is not canonical CBOR (\(error))")
        }
        guard let entries = map.mapEntries else { throw .malformed("header is not a map") }
        func textField(_ key: String) throws(SealError) -> String {
            guard let s = map[text: key]?.textString else { throw .badField(key, "missing or not text") }
            guard !s.isEmpty, s.utf8.count <= maxNameBytes else { throw .badField(key, "empty or longer than \(maxNameBytes) bytes") }
            return s
        }
        func byteField(_ key: String, count: Int) throws(SealError) -> [UInt8] {
            guard let b = map[text: key]?.byteString else { throw .badField(key, "missing or not bytes") }
            guard b.count == count else { throw .badField(key, "\(b.count) bytes, expected \(count)") }
            return b
        }
        guard try textField("type") == type else { throw .badField("type", "not \(type)") }
        guard let v = map[text: "version"]?.int64 else { throw .badField("version", "missing or not an integer") }
        guard readableVersions.contains(v) else { throw .unsupportedVersion(v) }
        guard entries.count == 12 else { throw .malformed("header has \(entries.count) fields, expected 12") }
        guard let ids = map[text: "suite"]?.arrayItems?.compactMap(\.int64), ids.count == 3 else {
            throw .badField("suite", "missing or not three integers")
        }
        guard ids == suite else { throw .unsupportedSuite(ids) }
        guard let manifest = ManifestDigest(bytes: try byteField("manifest", count: 48)) else { throw .badField("manifest", "bad digest") }
        guard let purpose = SealPurpose(rawValue: try textField("purpose")) else { throw .badField("purpose", "not input or output") }
        let enc = try byteField("enc", count: 97)
        guard enc[0] == 0x04 else { throw .badField("enc", "not an uncompressed P-384 point") }
        guard let size = map[text: "chunk-size"]?.int64, chunkSizes.contains(Int(clamping: size)) else {
            throw .badField("chunk-size", "missing or outside \(chunkSizes)")
        }
        guard case let .unsigned(length)? = map[text: "length"], length <= maxLength else {
            throw .badField("length", "missing, not unsigned or over \(maxLength)")
        }
        return SealedFileHeader(
            version: v, manifest: manifest, purpose: purpose, id: try textField("id"), recipient: try textField("recipient"),
            sender: try textField("sender"), encapsulatedKey: enc, chunkSize: Int(size), length: length,
            sha256: v == 1 ? try byteField("sha256", count: 32) : nil,
            commitment: v == 1 ? nil : try byteField("commit", count: 32))
    }

    /// Appends the CBOR head of a definite-length byte string of `count` bytes (shortest form).
    static func appendByteStringHead(_ count: Int, to out: inout [UInt8]) {
        let n = UInt64(count)
        switch n {
        case ..<24: out.append(0x40 | UInt8(n))
        case ..<0x100: out += [0x58, UInt8(n)]
        case ..<0x1_0000: out += [0x59, UInt8(n >> 8), UInt8(n & 0xff)]
        case ..<0x1_0000_0000: out += [0x5a] + (0..<4).reversed().map { UInt8(truncatingIfNeeded: n >> UInt64($0 * 8)) }
        default: out += [0x5b] + (0..<8).reversed().map { UInt8(truncatingIfNeeded: n >> UInt64($0 * 8)) }
        }
    }

    /// The number of bytes that follow the initial byte of a byte-string head.
    static func extraHeadBytes(initial: UInt8, what: String) throws(SealError) -> Int {
        guard initial >> 5 == 2 else { throw .malformed("\(what) is not a byte string") }
        switch initial & 0x1f {
        case 0..<24: return 0
        case 24...27: return 1 << Int((initial & 0x1f) - 24)
        default: throw .malformed("\(what) has an indefinite or reserved length")
        }
    }

    /// The length a complete byte-string head declares (shortest form required, at most `limit`).
    static func length(ofHead head: ArraySlice<UInt8>, limit: Int, what: String) throws(SealError) -> Int {
        let info = Int(head[head.startIndex] & 0x1f)
        var length = UInt64(info)
        if info >= 24 {
            length = head.dropFirst().reduce(0) { $0 << 8 | UInt64($1) }
            let minimum: UInt64 = [24, 0x100, 0x1_0000, 0x1_0000_0000][info - 24]
            guard length >= minimum else { throw .malformed("\(what) head is not in shortest form") }
        }
        guard length <= UInt64(limit) else { throw .malformed("\(what) is \(length) bytes, limit \(limit)") }
        return Int(length)
    }

    /// Reads one definite-length byte string at `offset` (shortest-form head required, at most
    /// `limit` bytes) and advances past it.
    static func readByteString(_ bytes: [UInt8], at offset: inout Int, limit: Int, what: String) throws(SealError) -> Range<Int> {
        guard offset < bytes.count else { throw .malformed("\(what) is missing (file truncated)") }
        let headSize = 1 + (try extraHeadBytes(initial: bytes[offset], what: what))
        guard bytes.count - offset >= headSize else { throw .malformed("\(what) head is truncated") }
        let length = try length(ofHead: bytes[offset..<(offset + headSize)], limit: limit, what: what)
        let start = offset + headSize
        guard bytes.count - start >= length else { throw .malformed("\(what) is truncated") }
        offset = start + length
        return start..<offset
    }
}

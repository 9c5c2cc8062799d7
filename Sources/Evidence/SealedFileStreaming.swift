import Crypto
import Foundation
import Manifest

/// Bounded-memory sealing and opening over caller-supplied byte streams, so the library does no
/// file I/O itself: the workflow passes readers and a writer over `FileHandle`s. Memory is bounded
/// by the chunk size (at most 16 MiB plus the tag).
///
/// A reader factory is called once per pass and must start at the beginning each time; a reader
/// returns up to the number of bytes asked for, and an empty array only at the end.
extension SealedFile {
    /// Seals a stream in two passes: the first computes the length and SHA-256 for the header,
    /// the second encrypts chunk by chunk into `write`. Refuses a source that changes between passes.
    /// Returns the header written.
    @discardableResult
    public static func seal(
        streaming makeReader: () throws -> (Int) throws -> [UInt8], manifest: ManifestDigest, purpose: SealPurpose,
        id: String, recipientName: String, recipientKey: P384.KeyAgreement.PublicKey, sender: String,
        senderKey: P384.Signing.PrivateKey, chunkSize: Int = 1 << 20, write: ([UInt8]) throws -> Void
    ) throws(SealError) -> SealedFileHeader {
        guard SealedFileFormat.chunkSizes.contains(chunkSize) else { throw .sealing("chunk size \(chunkSize) outside \(SealedFileFormat.chunkSizes)") }
        var first = try SealItemReader(makeReader)
        var hash = SHA256()
        var length: UInt64 = 0
        while true {
            let part = try first.upTo(chunkSize)
            if part.isEmpty { break }
            hash.update(data: part)
            length += UInt64(part.count)
        }
        var writer = try SealedFileWriter(
            manifest: manifest, purpose: purpose, id: id, recipientName: recipientName, recipientKey: recipientKey,
            sender: sender, senderKey: senderKey, length: length, sha256: Array(hash.finalize()), chunkSize: chunkSize)
        try emit(writer.headerItem, write)
        var second = try SealItemReader(makeReader)
        for index in 0..<writer.header.chunkCount {
            let chunk = try second.exactly(writer.header.plaintextSize(ofChunk: index), what: "plaintext (changed while sealing)")
            try emit(try writer.sealChunk(chunk), write)
        }
        guard try second.upTo(1).isEmpty else { throw .io("plaintext grew while sealing") }
        try emit(try writer.finish(), write)
        return writer.header
    }

    /// Opens a sealed stream in two passes: the first checks the framing, the header against
    /// `expect` and the sender's signature without decrypting; the second decrypts chunk by chunk
    /// into `write` and checks the length and SHA-256 at the end. On any error the caller must
    /// discard what was written (write to a temporary file, rename only on success).
    /// Returns the header of the opened file.
    @discardableResult
    public static func open(
        streaming makeReader: () throws -> (Int) throws -> [UInt8], recipientKey: P384.KeyAgreement.PrivateKey,
        expect: Expectation, write: ([UInt8]) throws -> Void
    ) throws(SealError) -> SealedFileHeader {
        // Pass 1: header, expectation, signature.
        var first = try SealItemReader(makeReader)
        let headerBytes = try first.item(limit: SealedFileFormat.maxHeaderBytes, what: "header")
        let header = try SealedFileFormat.decodeHeader(headerBytes)
        try check("manifest", expect.manifest.description, header.manifest.description)
        try check("purpose", expect.purpose.rawValue, header.purpose.rawValue)
        try check("id", expect.id, header.id)
        try check("recipient", expect.recipient, header.recipient)
        try check("sender", expect.sender, header.sender)
        var signed = SHA384()
        signed.update(data: headerBytes)
        for index in 0..<header.chunkCount {
            signed.update(data: try first.chunk(index, of: header))
        }
        let signatureBytes = try first.item(limit: SealedFileFormat.signatureBytes, what: "signature")
        try first.expectEnd()
        guard signatureBytes.count == SealedFileFormat.signatureBytes,
              let signature = try? P384.Signing.ECDSASignature(rawRepresentation: signatureBytes),
              expect.senderKey.isValidSignature(signature, for: signed.finalize())
        else { throw .badSignature }

        // Pass 2: decrypt. The header must be the one just verified.
        var second = try SealItemReader(makeReader)
        guard try second.item(limit: SealedFileFormat.maxHeaderBytes, what: "header") == headerBytes else {
            throw .io("sealed file changed while opening")
        }
        let info = SealedFileFormat.info(manifest: header.manifest, purpose: header.purpose, id: header.id, recipient: header.recipient)
        var context: HPKE.Recipient
        do {
            context = try HPKE.Recipient(privateKey: recipientKey, ciphersuite: SealedFileFormat.ciphersuite,
                                         info: Data(info), encapsulatedKey: Data(header.encapsulatedKey))
        } catch { throw .keyAgreement }
        let headerDigest = Array(SHA384.hash(data: headerBytes))
        var hash = SHA256()
        var length: UInt64 = 0
        for index in 0..<header.chunkCount {
            let ciphertext = try second.chunk(index, of: header)
            let aad = SealedFileFormat.aad(headerDigest: headerDigest, index: index, final: index == header.chunkCount - 1)
            let plaintext: [UInt8]
            do { plaintext = Array(try context.open(ciphertext, authenticating: aad)) } catch { throw .chunk(index: index) }
            hash.update(data: plaintext)
            length += UInt64(plaintext.count)
            try emit(plaintext, write)
        }
        guard length == header.length, Array(hash.finalize()) == header.sha256 else { throw .plaintextDigest }
        return header
    }

    /// Reads only the header of a sealed stream (no signature check, no decryption): what a
    /// sealed file claims to be, so a caller can pick the expectation to open it with.
    public static func readHeader(streaming makeReader: () throws -> (Int) throws -> [UInt8]) throws(SealError) -> SealedFileHeader {
        var reader = try SealItemReader(makeReader)
        return try SealedFileFormat.decodeHeader(try reader.item(limit: SealedFileFormat.maxHeaderBytes, what: "header"))
    }

    static func check(_ field: String, _ expected: String, _ found: String) throws(SealError) {
        guard expected == found else { throw .mismatch(field: field, expected: expected, found: found) }
    }

    private static func emit(_ bytes: [UInt8], _ write: ([UInt8]) throws -> Void) throws(SealError) {
        do { try write(bytes) } catch { throw .io("write failed (\(error))") }
    }
}

/// Reads exact byte counts and framed byte strings from a sequential reader.
struct SealItemReader {
    private let read: (Int) throws -> [UInt8]

    init(_ makeReader: () throws -> (Int) throws -> [UInt8]) throws(SealError) {
        do { read = try makeReader() } catch { throw .io("cannot read (\(error))") }
    }

    /// Up to `count` bytes; fewer only at the end.
    mutating func upTo(_ count: Int) throws(SealError) -> [UInt8] {
        var out: [UInt8] = []
        while out.count < count {
            let part: [UInt8]
            do { part = try read(count - out.count) } catch { throw .io("read failed (\(error))") }
            if part.isEmpty { break }
            out += part.prefix(count - out.count)
        }
        return out
    }

    /// Exactly `count` bytes, or `malformed` naming `what`.
    mutating func exactly(_ count: Int, what: String) throws(SealError) -> [UInt8] {
        let out = try upTo(count)
        guard out.count == count else { throw .malformed("\(what) is truncated") }
        return out
    }

    /// One framed byte string of at most `limit` bytes.
    mutating func item(limit: Int, what: String) throws(SealError) -> [UInt8] {
        let initial = try upTo(1)
        guard let byte = initial.first else { throw .malformed("\(what) is missing (file truncated)") }
        let head = initial + (try exactly(try SealedFileFormat.extraHeadBytes(initial: byte, what: what), what: "\(what) head"))
        return try exactly(try SealedFileFormat.length(ofHead: head[...], limit: limit, what: what), what: what)
    }

    /// Chunk `index` of a file with `header`, refused unless exactly its expected size.
    mutating func chunk(_ index: Int, of header: SealedFileHeader) throws(SealError) -> [UInt8] {
        let expected = header.plaintextSize(ofChunk: index) + SealedFileFormat.tagBytes
        let bytes = try item(limit: expected, what: "chunk \(index)")
        guard bytes.count == expected else { throw .malformed("chunk \(index) is \(bytes.count) bytes, expected \(expected)") }
        return bytes
    }

    /// Refuses trailing bytes.
    mutating func expectEnd() throws(SealError) {
        guard try upTo(1).isEmpty else { throw .malformed("bytes after the signature") }
    }
}

import Crypto
import Dispatch
import Foundation
import Manifest

/// Reads the next bytes of one sequential pass into `buffer` and returns how many it read
/// (at most `buffer.count`); 0 only at the end.
public typealias SealedStreamReader = (_ buffer: UnsafeMutableRawBufferPointer) throws -> Int

/// Takes the next output bytes; `bytes` is valid only during the call.
public typealias SealedStreamWriter = (_ bytes: UnsafeRawBufferPointer) throws -> Void

/// Where a long seal or open has got to, reported on the calling thread after each block.
public struct SealedFileProgress: Sendable {
    /// What the pass does.
    public enum Phase: String, Sendable {
        /// Seal, pass 1: SHA-256 of the plaintext (for the header).
        case hashing
        /// Seal, pass 2: encrypting, writing, and hashing the ciphertext for the signature.
        case encrypting
        /// Open, pass 1: framing, header and signature, nothing decrypted.
        case verifying
        /// Open, pass 2: decrypting and writing, checking length and SHA-256.
        case decrypting
    }

    public let phase: Phase
    /// 0 for the first pass, 1 for the second (both seal and open make two).
    public let pass: Int
    /// Plaintext bytes this pass has covered.
    public let done: UInt64
    /// Plaintext bytes this pass covers in all (for seal's first pass: the size hint, if any).
    public let total: UInt64?
}

/// Bounded-memory sealing and opening over caller-supplied byte streams, so the library does no
/// file I/O itself: the workflow passes readers and a writer over file descriptors. Memory is
/// bounded by a few chunks (chunk size at most 16 MiB plus the tag).
///
/// Both directions make two passes, because the format asks for them: the header carries the
/// plaintext's SHA-256 and every chunk's AAD carries the header's digest, so nothing can be
/// encrypted before the whole plaintext is hashed; and the opener checks the signature over
/// every chunk before it decrypts any. Within each pass, the hash that does not depend on the
/// chunk at hand (SHA-256 of the plaintext, SHA-384 of the ciphertext for the signature) runs
/// on a second thread, one block behind reading, AES-GCM and writing on the calling thread.
///
/// A reader factory is called once per pass and must start at the beginning each time.
extension SealedFile {
    /// Seals a stream in two passes: the first computes the length and SHA-256 for the header,
    /// the second encrypts chunk by chunk into `write`. Refuses a source that changes length
    /// between passes. `sizeHint` (the expected length) only scales the first pass's progress.
    /// Returns the header written.
    @discardableResult
    public static func seal(
        reading makeReader: () throws -> SealedStreamReader, sizeHint: UInt64? = nil, manifest: ManifestDigest,
        purpose: SealPurpose, id: String, recipientName: String, recipientKey: P384.KeyAgreement.PublicKey,
        sender: String, senderKey: P384.Signing.PrivateKey, chunkSize: Int = 1 << 20,
        progress: ((SealedFileProgress) -> Void)? = nil, write: SealedStreamWriter
    ) throws(SealError) -> SealedFileHeader {
        guard SealedFileFormat.chunkSizes.contains(chunkSize) else { throw .sealing("chunk size \(chunkSize) outside \(SealedFileFormat.chunkSizes)") }
        let lane = HashLane()
        defer { lane.wait() }

        // Pass 1: length and SHA-256, the hash one block behind the reads.
        let plaintextHash = try SealedHash(.sha256)
        var length: UInt64 = 0
        do {
            var reader = try PassReader(makeReader)
            let blocks = [Slab(passBlockBytes), Slab(passBlockBytes)]
            var which = 0
            while true {
                let block = blocks[which]
                let count = try reader.fill(block.buffer)
                if count == 0 { break }
                lane.submit { plaintextHash.update(block.prefix(count)) }
                length += UInt64(count)
                which ^= 1
                progress?(SealedFileProgress(phase: .hashing, pass: 0, done: length, total: sizeHint))
            }
            lane.wait()
        }

        // Pass 2: each chunk read into a slab after room for its head, encrypted in place (the
        // tag appended), written with its head in one call; the SHA-384 of the ciphertext for
        // the signature on the other thread, one chunk behind. Two slabs: `submit` waits for the
        // job on the slab about to be reused. (A source whose bytes change between the passes
        // but not its length yields a file its recipient refuses, `plaintextDigest`; hashing
        // the plaintext again here would cost a tenth of the throughput, so the file workflow
        // refuses a file that changed by its identity instead, `FileIO.stableBufferReader`.)
        var writer = try SealedFileWriter(
            manifest: manifest, purpose: purpose, id: id, recipientName: recipientName, recipientKey: recipientKey,
            sender: sender, senderKey: senderKey, length: length, sha256: plaintextHash.digest(), chunkSize: chunkSize)
        try emit(writer.headerItem, write)
        var reader = try PassReader(makeReader)
        let slabBytes = Slab.headRoom + writer.header.plaintextSize(ofChunk: 0) + SealedFileFormat.tagBytes
        let slabs = [Slab(slabBytes), Slab(slabBytes)]
        let signed = writer.signed
        var done: UInt64 = 0
        for index in 0..<writer.header.chunkCount {
            let slab = slabs[index & 1]
            let size = writer.header.plaintextSize(ofChunk: index)
            guard try reader.fill(slab.body(size)) == size else { throw .malformed("plaintext (changed while sealing) is truncated") }
            let sealedSize = size + SealedFileFormat.tagBytes
            try writer.encrypt(inPlace: slab.body(sealedSize), plaintextSize: size)
            let framed = slab.framed(sealedSize)
            do { try write(framed) } catch { throw .io("write failed (\(error))") }
            lane.submit { signed.update(slab.prefix(sealedSize, from: Slab.headRoom)) }
            done += UInt64(size)
            progress?(SealedFileProgress(phase: .encrypting, pass: 1, done: done, total: length))
        }
        guard try reader.atEnd() else { throw .io("plaintext grew while sealing") }
        lane.wait()
        try emit(try writer.finish(), write)
        return writer.header
    }

    /// Opens a sealed stream in two passes: `check` (framing, header against `expect`, the
    /// sender's signature, nothing decrypted), then `CheckedSealedFile.decrypt` (chunk by chunk
    /// into `write`, length and SHA-256 checked at the end). Nothing reaches `write` unless the
    /// first pass passed; on a later error the caller must discard what was written (write to
    /// a temporary file, rename only on success). With `digestingFile`, the result carries the
    /// SHA-256 of every byte the signature-checking pass read.
    @discardableResult
    public static func open(
        reading makeReader: () throws -> SealedStreamReader, recipientKey: P384.KeyAgreement.PrivateKey,
        expect: Expectation, digestingFile: Bool = false, progress: ((SealedFileProgress) -> Void)? = nil,
        write: SealedStreamWriter
    ) throws(SealError) -> CheckedSealedFile {
        let checked = try check(reading: makeReader, expect: expect, digestingFile: digestingFile, progress: progress)
        try checked.decrypt(reading: makeReader, recipientKey: recipientKey, progress: progress, write: write)
        return checked
    }

    /// The first pass of `open`: reads the whole file, checking its framing (thrown at once)
    /// and its header against `expect` and the sender's signature (kept, and thrown by
    /// `decrypt` before it decrypts anything). So a caller can check the file's digest (e.g.
    /// against a receipt) between the passes, with every byte read once so far.
    public static func check(
        reading makeReader: () throws -> SealedStreamReader, expect: Expectation, digestingFile: Bool = false,
        progress: ((SealedFileProgress) -> Void)? = nil
    ) throws(SealError) -> CheckedSealedFile {
        let lane = HashLane()
        defer { lane.wait() }
        var reader = try PassReader(makeReader, digesting: digestingFile)
        let headerBytes = try reader.item(limit: SealedFileFormat.maxHeaderBytes, what: "header")
        let header = try SealedFileFormat.decodeHeader(headerBytes)
        // SHA-384 one chunk behind the reads, on the hashing thread.
        let signed = try SealedHash(.sha384)
        signed.update(headerBytes)
        let slabBytes = Slab.headRoom + header.plaintextSize(ofChunk: 0) + SealedFileFormat.tagBytes
        let slabs = [Slab(slabBytes), Slab(slabBytes)]
        var done: UInt64 = 0
        for index in 0..<header.chunkCount {
            let slab = slabs[index & 1]
            let count = try reader.chunk(index, of: header, into: slab).count
            lane.submit { signed.update(slab.prefix(count, from: Slab.headRoom)) }
            done += UInt64(count - SealedFileFormat.tagBytes)
            progress?(SealedFileProgress(phase: .verifying, pass: 0, done: done, total: header.length))
        }
        let signatureBytes = try reader.item(limit: SealedFileFormat.signatureBytes, what: "signature")
        try reader.expectEnd()
        lane.wait()
        return CheckedSealedFile(header: header, fileSHA256: reader.fileDigest(), headerBytes: headerBytes,
                                 failure: verdict(header: header, expect: expect, signed: signed.digest(), signature: signatureBytes))
    }

    /// The verdict on a header and signature: the first expected field that differs, else
    /// `badSignature` unless `signature` is the sender's over the SHA-384 `signed`, else nil.
    static func verdict(header: SealedFileHeader, expect: Expectation, signed: [UInt8], signature: [UInt8]) -> SealError? {
        for (field, expected, found) in [("manifest", expect.manifest.description, header.manifest.description),
                                         ("purpose", expect.purpose.rawValue, header.purpose.rawValue), ("id", expect.id, header.id),
                                         ("recipient", expect.recipient, header.recipient), ("sender", expect.sender, header.sender)]
        where expected != found {
            return .mismatch(field: field, expected: expected, found: found)
        }
        guard signature.count == SealedFileFormat.signatureBytes,
              let parsed = try? P384.Signing.ECDSASignature(rawRepresentation: signature),
              expect.senderKey.isValidSignature(parsed, for: SHA384Value(signed))
        else { return .badSignature }
        return nil
    }

    /// Opens a sealed stream in one pass over its bytes: each chunk is read once, and while
    /// one thread hashes the ciphertext for the signature, others take the file's SHA-256,
    /// decrypt the chunk in place, hash the plaintext and hand it to `write`. So opening costs
    /// about one SHA-384 pass over the file, not a SHA-384 pass followed by a decrypting pass.
    ///
    /// **Plaintext reaches `write` before the signature is checked.** The caller must write it
    /// where nobody can see or use it (a temporary file renamed only on success; memory that
    /// is dropped on error) and publish it only if `OpenedSealedFile.result()` does not throw.
    /// Framing errors are thrown at once (after the threads have stopped); the verdict on the
    /// header and signature and any decryption or write failure are returned, in that order
    /// of precedence, so a caller can make its own checks (e.g. the file's digest against a
    /// receipt) between them exactly as with `check` and `decrypt`.
    public static func openInOnePass(
        reading makeReader: () throws -> SealedStreamReader, recipientKey: P384.KeyAgreement.PrivateKey,
        expect: Expectation, digestingFile: Bool = false, progress: ((SealedFileProgress) -> Void)? = nil,
        write: SealedStreamWriter
    ) throws(SealError) -> OpenedSealedFile {
        var reader = try PassReader(makeReader, digesting: digestingFile)
        let headerBytes = try reader.item(limit: SealedFileFormat.maxHeaderBytes, what: "header")
        let header = try SealedFileFormat.decodeHeader(headerBytes)
        let signed = try SealedHash(.sha384)
        signed.update(headerBytes)
        // The file's SHA-256 so far (header item) continues on the decrypting thread, chunk by chunk.
        let fileHash = reader.detachFileHash()
        // Why the chunks cannot be decrypted (the key, or the cipher's setup), reported after
        // the verdict on header and signature, as the two passes report it.
        let cipher: SealedChunkCipher?
        var cipherFailure: SealError?
        do { cipher = try header.recipientCipher(recipientKey) } catch { cipher = nil; cipherFailure = error }
        let headerDigest = sha384(headerBytes)
        let pipeline = try OpenPipeline(slabBytes: Slab.headRoom + header.plaintextSize(ofChunk: 0) + SealedFileFormat.tagBytes,
                                    cipher: cipher, fileHash: fileHash)
        let signatureBytes: [UInt8]
        do {
            signatureBytes = try withoutActuallyEscaping(write) { (write) throws(SealError) -> [UInt8] in
                let sink = UncheckedWriter(write)
                defer { pipeline.drain() }
                var done: UInt64 = 0
                for index in 0..<header.chunkCount {
                    let slab = pipeline.nextFreeSlab()
                    let framing: ChunkFraming
                    do throws(SealError) { framing = try reader.chunk(index, of: header, into: slab) } catch {
                        pipeline.giveBack()
                        throw error
                    }
                    let aad = SealedFileFormat.aad(headerDigest: headerDigest, index: index, final: index == header.chunkCount - 1)
                    pipeline.submit(slab: slab, index: index, framing: framing, aad: aad, signed: signed, write: sink)
                    done += UInt64(framing.count - SealedFileFormat.tagBytes)
                    progress?(SealedFileProgress(phase: .verifying, pass: 0, done: done, total: header.length))
                }
                // The file's SHA-256 comes back to this thread for the signature's bytes.
                pipeline.drain()
                if let fileHash { reader.attachFileHash(fileHash) }
                return try reader.item(limit: SealedFileFormat.signatureBytes, what: "signature")
            }
        }
        try reader.expectEnd()
        let checked = CheckedSealedFile(header: header, fileSHA256: reader.fileDigest(), headerBytes: headerBytes,
                                        failure: verdict(header: header, expect: expect, signed: signed.digest(), signature: signatureBytes))
        var decryption = pipeline.failure
        if let cipherFailure {
            decryption = cipherFailure
        } else if decryption == nil, pipeline.length != header.length || pipeline.plaintextHash.digest() != header.sha256 {
            decryption = .plaintextDigest
        }
        progress?(SealedFileProgress(phase: .decrypting, pass: 1, done: header.length, total: header.length))
        return OpenedSealedFile(checked: checked, decryptionFailure: decryption)
    }

    /// Reads only the header of a sealed stream (no signature check, no decryption): what a
    /// sealed file claims to be, so a caller can pick the expectation to open it with.
    public static func readHeader(reading makeReader: () throws -> SealedStreamReader) throws(SealError) -> SealedFileHeader {
        var reader = try PassReader(makeReader)
        return try SealedFileFormat.decodeHeader(try reader.item(limit: SealedFileFormat.maxHeaderBytes, what: "header"))
    }

    static func check(_ field: String, _ expected: String, _ found: String) throws(SealError) {
        guard expected == found else { throw .mismatch(field: field, expected: expected, found: found) }
    }

    /// Bytes per read in seal's first pass (the plaintext is hashed, not chunked, there).
    static let passBlockBytes = 1 << 20

    static func emit(_ bytes: some ContiguousBytes, _ write: SealedStreamWriter) throws(SealError) {
        do { try bytes.withUnsafeBytes { try write($0) } } catch { throw .io("write failed (\(error))") }
    }
}

/// A sealed file after the first pass of opening (`SealedFile.check`): its header and digest,
/// and the verdict on its header and signature, which `decrypt` enforces before decrypting.
public struct CheckedSealedFile: Sendable {
    /// The header the file carries (checked against the expectation only if `failure` is nil).
    public let header: SealedFileHeader
    /// SHA-256 of the bytes whose signature was checked (with `digestingFile`), else nil.
    public let fileSHA256: [UInt8]?
    let headerBytes: [UInt8]
    /// Why the file must not be decrypted (expectation mismatch, bad signature), if it must not.
    public let failure: SealError?

    /// The second pass: refuses a file whose check failed, then decrypts chunk by chunk into
    /// `write` (in place, in reused buffers; SHA-256 of the plaintext on a second thread) and
    /// checks the length and SHA-256 at the end. The stream must still hold the header just
    /// checked.
    public func decrypt(
        reading makeReader: () throws -> SealedStreamReader, recipientKey: P384.KeyAgreement.PrivateKey,
        progress: ((SealedFileProgress) -> Void)? = nil, write: SealedStreamWriter
    ) throws(SealError) {
        if let failure { throw failure }
        let lane = HashLane()
        defer { lane.wait() }
        var reader = try PassReader(makeReader)
        guard try reader.item(limit: SealedFileFormat.maxHeaderBytes, what: "header") == headerBytes else {
            throw .io("sealed file changed while opening")
        }
        let cipher = try header.recipientCipher(recipientKey)
        let headerDigest = SealedFile.sha384(headerBytes)
        let plaintextHash = try SealedHash(.sha256)
        var length: UInt64 = 0
        let slabBytes = Slab.headRoom + header.plaintextSize(ofChunk: 0) + SealedFileFormat.tagBytes
        let slabs = [Slab(slabBytes), Slab(slabBytes)]
        for index in 0..<header.chunkCount {
            let slab = slabs[index & 1]
            let count = try reader.chunk(index, of: header, into: slab).count
            let aad = SealedFileFormat.aad(headerDigest: headerDigest, index: index, final: index == header.chunkCount - 1)
            let size = count - SealedFileFormat.tagBytes
            guard cipher.open(UnsafeRawBufferPointer(slab.body(count)), index: index, aad: aad, into: slab.body(size)) else {
                throw .chunk(index: index)
            }
            do { try write(slab.prefix(size, from: Slab.headRoom)) } catch { throw .io("write failed (\(error))") }
            lane.submit { plaintextHash.update(slab.prefix(size, from: Slab.headRoom)) }
            length += UInt64(size)
            progress?(SealedFileProgress(phase: .decrypting, pass: 1, done: length, total: header.length))
        }
        lane.wait()
        guard length == header.length, plaintextHash.digest() == header.sha256 else { throw .plaintextDigest }
    }
}

/// What `SealedFile.openInOnePass` found: the verdict on header and signature (as `check`
/// keeps it), and whether decryption and writing went through.
public struct OpenedSealedFile: Sendable {
    /// The header, the file's SHA-256 (if digested) and the verdict on header and signature.
    public let checked: CheckedSealedFile
    /// Why the plaintext written must be discarded even if `checked` passed: the HPKE setup
    /// (`keyAgreement`), a chunk's tag (`chunk(index:)`), a write (`io`), or the length and
    /// SHA-256 at the end (`plaintextDigest`).
    public let decryptionFailure: SealError?

    /// Throws what `check` and then `decrypt` would have thrown for this file, in that order.
    public func result() throws(SealError) {
        if let failure = checked.failure { throw failure }
        if let decryptionFailure { throw decryptionFailure }
    }
}

extension SealedFileHeader {
    /// The AES-256-GCM context of this file's HPKE context for the holder of `recipientKey`
    /// (`keyAgreement` if the encapsulated key does not work with it).
    func recipientCipher(_ recipientKey: P384.KeyAgreement.PrivateKey) throws(SealError) -> SealedChunkCipher {
        let info = SealedFileFormat.info(manifest: manifest, purpose: purpose, id: id, recipient: recipient)
        let context: SealedFileHPKE.Context
        do { context = try SealedFileHPKE.recipient(privateKey: recipientKey, enc: encapsulatedKey, info: info) } catch { throw .keyAgreement }
        return try SealedChunkCipher(context, encrypting: false)
    }
}

extension SealedFile {
    /// SHA-384 of a few bytes (a header): swift-crypto's, which cannot fail.
    static func sha384(_ bytes: [UInt8]) -> [UInt8] { Array(SHA384.hash(data: bytes)) }
}

// MARK: - The byte-array API (in-memory files, tests, fuzzing)

extension SealedFile {
    /// `seal(reading:…)` over readers that return arrays (`(count) -> up to count bytes`,
    /// empty at the end) and a writer that takes arrays.
    @discardableResult
    public static func seal(
        streaming makeReader: () throws -> (Int) throws -> [UInt8], manifest: ManifestDigest, purpose: SealPurpose,
        id: String, recipientName: String, recipientKey: P384.KeyAgreement.PublicKey, sender: String,
        senderKey: P384.Signing.PrivateKey, chunkSize: Int = 1 << 20, write: ([UInt8]) throws -> Void
    ) throws(SealError) -> SealedFileHeader {
        try seal(reading: { bufferReader(try makeReader()) }, manifest: manifest, purpose: purpose, id: id,
                 recipientName: recipientName, recipientKey: recipientKey, sender: sender, senderKey: senderKey,
                 chunkSize: chunkSize, write: { try write(Array($0)) })
    }

    /// `open(reading:…)` over readers and a writer of arrays; one write per chunk.
    @discardableResult
    public static func open(
        streaming makeReader: () throws -> (Int) throws -> [UInt8], recipientKey: P384.KeyAgreement.PrivateKey,
        expect: Expectation, write: ([UInt8]) throws -> Void
    ) throws(SealError) -> SealedFileHeader {
        try open(reading: { bufferReader(try makeReader()) }, recipientKey: recipientKey, expect: expect,
                 write: { try write(Array($0)) }).header
    }

    /// `readHeader(reading:)` over a reader of arrays.
    public static func readHeader(streaming makeReader: () throws -> (Int) throws -> [UInt8]) throws(SealError) -> SealedFileHeader {
        try readHeader(reading: { bufferReader(try makeReader()) })
    }

    /// A buffer reader over a reader of arrays (bytes beyond the buffer's size are dropped, as
    /// such a reader must not return them).
    static func bufferReader(_ read: @escaping (Int) throws -> [UInt8]) -> SealedStreamReader {
        { buffer in
            let part = try read(buffer.count)
            let count = min(part.count, buffer.count)
            part.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            return count
        }
    }
}

// MARK: - Reading framed items into reused buffers

/// Exact reads and framed byte strings from one pass, optionally hashing every byte read.
struct PassReader {
    private let read: SealedStreamReader
    private var fileHash: SealedHash?
    /// Room for a byte-string head (at most 9 bytes).
    private let scratch = Slab(16)
    /// The size of the last head read into `scratch`.
    private var headBytes = 0

    init(_ makeReader: () throws -> SealedStreamReader, digesting: Bool = false) throws(SealError) {
        do { read = try makeReader() } catch { throw .io("cannot read (\(error))") }
        fileHash = digesting ? try SealedHash(.sha256) : nil
    }

    /// Fills `buffer` unless the stream ends first; returns the bytes read.
    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) throws(SealError) -> Int {
        var filled = 0
        while filled < buffer.count {
            let count: Int
            do { count = try read(UnsafeMutableRawBufferPointer(rebasing: buffer[filled...])) } catch { throw .io("read failed (\(error))") }
            guard count > 0 else { break }
            filled += min(count, buffer.count - filled)
        }
        if filled > 0 { fileHash?.update(UnsafeRawBufferPointer(rebasing: buffer[..<filled])) }
        return filled
    }

    /// Exactly `buffer.count` bytes, or `malformed` naming `what`.
    mutating func exactly(_ buffer: UnsafeMutableRawBufferPointer, what: String) throws(SealError) {
        guard try fill(buffer) == buffer.count else { throw .malformed("\(what) is truncated") }
    }

    /// The length a byte-string head declares (shortest form, at most `limit`); nil at the end.
    mutating func head(limit: Int, what: String) throws(SealError) -> Int? {
        guard try fill(UnsafeMutableRawBufferPointer(rebasing: scratch.buffer[..<1])) == 1 else { return nil }
        let extra = try SealedFileFormat.extraHeadBytes(initial: scratch.buffer[0], what: what)
        try exactly(UnsafeMutableRawBufferPointer(rebasing: scratch.buffer[1..<(1 + extra)]), what: "\(what) head")
        headBytes = 1 + extra
        let bytes = Array(scratch.prefix(1 + extra))
        return try SealedFileFormat.length(ofHead: bytes[...], limit: limit, what: what)
    }

    /// One framed byte string of at most `limit` bytes, as an array (header, signature).
    mutating func item(limit: Int, what: String) throws(SealError) -> [UInt8] {
        guard let length = try head(limit: limit, what: what) else { throw .malformed("\(what) is missing (file truncated)") }
        let body = Slab(length)
        try exactly(UnsafeMutableRawBufferPointer(rebasing: body.buffer[..<length]), what: what)
        return Array(body.prefix(length))
    }

    /// Chunk `index` of a file with `header` read into `slab` (its head just before
    /// `Slab.headRoom`, its bytes from there), refused unless exactly its expected size
    /// (checked from the head, before reading the body).
    mutating func chunk(_ index: Int, of header: SealedFileHeader, into slab: Slab) throws(SealError) -> ChunkFraming {
        let expected = header.plaintextSize(ofChunk: index) + SealedFileFormat.tagBytes
        let what = "chunk \(index)"
        guard let length = try head(limit: expected, what: what) else { throw .malformed("\(what) is missing (file truncated)") }
        guard length == expected else { throw .malformed("chunk \(index) is \(length) bytes, expected \(expected)") }
        let headCount = headBytes
        slab.buffer.baseAddress!.advanced(by: Slab.headRoom - headCount).copyMemory(from: scratch.buffer.baseAddress!, byteCount: headCount)
        try exactly(slab.body(length), what: what)
        return ChunkFraming(headCount: headCount, count: length)
    }

    /// Hands the file's SHA-256 so far to another thread (`openInOnePass`); reads no longer
    /// update it until `attachFileHash`.
    mutating func detachFileHash() -> SealedHash? {
        defer { fileHash = nil }
        return fileHash
    }

    mutating func attachFileHash(_ hash: SealedHash) { fileHash = hash }

    /// True if the stream has no more bytes.
    mutating func atEnd() throws(SealError) -> Bool {
        try fill(UnsafeMutableRawBufferPointer(rebasing: scratch.buffer[..<1])) == 0
    }

    /// Refuses trailing bytes.
    mutating func expectEnd() throws(SealError) {
        guard try fill(UnsafeMutableRawBufferPointer(rebasing: scratch.buffer[..<1])) == 0 else {
            throw .malformed("bytes after the signature")
        }
    }

    /// The SHA-256 of every byte read so far, if this reader digests.
    func fileDigest() -> [UInt8]? { fileHash?.digest() }
}

/// Where a chunk read by `PassReader.chunk` lies in its slab: `count` bytes from
/// `Slab.headRoom`, after a head of `headCount` bytes.
struct ChunkFraming {
    let headCount: Int
    let count: Int
}

// MARK: - Buffers and the hashing thread

/// A reused, 64-byte aligned buffer; shared with the hashing thread, which only reads it while
/// the calling thread has moved on to the other buffer of a pair.
final class Slab: @unchecked Sendable {
    let buffer: UnsafeMutableRawBufferPointer

    init(_ count: Int) { buffer = .allocate(byteCount: max(count, 1), alignment: 64) }
    deinit { buffer.deallocate() }

    /// Bytes kept before a chunk's body for its byte-string head (at most 9), so that head
    /// and body are one contiguous buffer to hash or write.
    static let headRoom = 16

    /// The first `count` bytes (from `start`).
    func prefix(_ count: Int, from start: Int = 0) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buffer[start..<(start + count)])
    }

    /// `count` bytes from `headRoom`: a chunk's body.
    func body(_ count: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: buffer[Slab.headRoom..<(Slab.headRoom + count)])
    }

    /// The body of `count` bytes with its byte-string head written just before it, as one buffer.
    func framed(_ count: Int) -> UnsafeRawBufferPointer {
        var head: [UInt8] = []
        SealedFileFormat.appendByteStringHead(count, to: &head)
        let start = Slab.headRoom - head.count
        head.withUnsafeBytes { buffer.baseAddress!.advanced(by: start).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return prefix(head.count + count, from: start)
    }
}

/// A second thread that runs one hashing job at a time: `submit` waits for the previous job,
/// so at most one is in flight and a pair of buffers suffices.
final class HashLane: @unchecked Sendable {
    private let queue = DispatchQueue(label: "twocvm.sealed-file.hash")
    private let group = DispatchGroup()

    func submit(_ job: @escaping @Sendable () -> Void) {
        group.wait()
        group.enter()
        queue.async { [group] in
            job()
            group.leave()
        }
    }

    func wait() { group.wait() }
}

/// A writer the pipeline's threads may call (one at a time, in order): `withoutActuallyEscaping`
/// makes the caller's writer escapable for the duration of the pass, which drains its threads
/// before it returns.
struct UncheckedWriter: @unchecked Sendable {
    let write: SealedStreamWriter
    init(_ write: @escaping SealedStreamWriter) { self.write = write }
}

/// The threads of `SealedFile.openInOnePass`, one serial queue per stage, each taking the
/// chunks in order: SHA-384 of the ciphertext (the signature); then the file's SHA-256 and the
/// decryption in place; then the SHA-256 of the plaintext and the write. A chunk's slab is
/// reused only after its last stage; a ring of two to six slabs (within `budget` bytes, but
/// always two, so up to about 32 MiB with the format's largest 16 MiB chunks) keeps every
/// stage busy while the calling thread reads ahead.
final class OpenPipeline: @unchecked Sendable {
    /// Bytes of slabs in flight when chunks are small enough (two slabs at least, whatever
    /// their size; bounded whatever the file size).
    static let budget = 24 << 20

    private let slabs: [Slab]
    private var next = 0
    private let free: DispatchSemaphore
    private let signing = DispatchQueue(label: "twocvm.sealed-file.signature")
    private let decrypting = DispatchQueue(label: "twocvm.sealed-file.decrypt")
    private let writing = DispatchQueue(label: "twocvm.sealed-file.write")
    private let cipher: SealedChunkCipher?
    private let fileHash: SealedHash?
    /// SHA-256 of the plaintext written (writing stage).
    let plaintextHash: SealedHash
    /// Plaintext bytes written (writing stage; read after `drain`).
    private(set) var length: UInt64 = 0
    private var decryptFailure: (index: Int, error: SealError)?
    private var writeFailure: (index: Int, error: SealError)?

    init(slabBytes: Int, cipher: SealedChunkCipher?, fileHash: SealedHash?) throws(SealError) {
        plaintextHash = try SealedHash(.sha256)
        let count = max(2, min(6, Self.budget / slabBytes))
        slabs = (0..<count).map { _ in Slab(slabBytes) }
        free = DispatchSemaphore(value: count)
        self.cipher = cipher
        self.fileHash = fileHash
    }

    /// The next slab of the ring, once its previous chunk has been through every stage.
    func nextFreeSlab() -> Slab {
        free.wait()
        defer { next = (next + 1) % slabs.count }
        return slabs[next]
    }

    /// Returns the slab last taken, unused (its chunk could not be read). libdispatch refuses
    /// to free a semaphore below its initial value, so every slab taken must come back.
    func giveBack() { free.signal() }

    /// Runs chunk `index` (in `slab` as `framing` says) through the stages.
    func submit(slab: Slab, index: Int, framing: ChunkFraming, aad: [UInt8], signed: SealedHash, write: UncheckedWriter) {
        let size = framing.count - SealedFileFormat.tagBytes
        signing.async { [self] in
            signed.update(slab.prefix(framing.count, from: Slab.headRoom))
            decrypting.async { [self] in
                fileHash?.update(slab.prefix(framing.headCount + framing.count, from: Slab.headRoom - framing.headCount))
                var opened = false
                if decryptFailure == nil, let cipher {
                    opened = cipher.open(UnsafeRawBufferPointer(slab.body(framing.count)), index: index, aad: aad, into: slab.body(size))
                    if !opened { decryptFailure = (index, .chunk(index: index)) }
                }
                let decrypted = opened
                writing.async { [self] in
                    if decrypted, writeFailure == nil {
                        let plaintext = slab.prefix(size, from: Slab.headRoom)
                        do {
                            try write.write(plaintext)
                            plaintextHash.update(plaintext)
                            length += UInt64(size)
                        } catch {
                            writeFailure = (index, .io("write failed (\(error))"))
                        }
                    }
                    free.signal()
                }
            }
        }
    }

    /// Waits until every submitted chunk has been through every stage.
    func drain() {
        signing.sync {}
        decrypting.sync {}
        writing.sync {}
    }

    /// The first chunk's failure, decrypting or writing (after `drain`).
    var failure: SealError? {
        switch (decryptFailure, writeFailure) {
        case let (d?, w?): return d.index < w.index ? d.error : w.error
        case let (d?, nil): return d.error
        case let (nil, w?): return w.error
        case (nil, nil): return nil
        }
    }
}

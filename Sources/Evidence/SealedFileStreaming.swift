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
        /// Seal: encrypting, writing, and hashing the file for the signature.
        case encrypting
        /// Open, pass 1 (or the one pass): framing, header and signature.
        case verifying
        /// Open, pass 2 (or the end of the one pass): decrypting and writing.
        case decrypting
    }

    public let phase: Phase
    /// 0 for the first pass (a seal's only one), 1 for the second pass of a two-pass open.
    public let pass: Int
    /// Plaintext bytes this pass has covered.
    public let done: UInt64
    /// Plaintext bytes this pass covers in all.
    public let total: UInt64?
}

/// Bounded-memory sealing and opening over caller-supplied byte streams, so the library does no
/// file I/O itself: the workflow passes readers and a writer over file descriptors. Memory is
/// bounded by a few chunks (chunk size at most 16 MiB plus the tag).
///
/// Sealing (format version 2) reads the plaintext once: the header needs only its length, so
/// each chunk is encrypted as it is read, and the SHA-256 of the file for the signature runs on
/// a second thread, a few chunks behind reading, AES-GCM and writing on the calling thread.
/// Opening checks the signature over every chunk before any plaintext may be used: in two
/// passes (`check`, then `decrypt`), or in one (`openInOnePass`) for a caller that can hide
/// what it writes until the verdict.
///
/// A reader factory is called once per pass and must start at the beginning each time.
extension SealedFile {
    /// What a streaming seal wrote.
    public struct Sealed: Sendable {
        /// The header written.
        public let header: SealedFileHeader
        /// The SHA-256 of the whole sealed file (what a receipt lists).
        public let fileSHA256: [UInt8]
        /// The SHA-256 of the plaintext, if `digestingPlaintext` asked for it.
        public let plaintextSHA256: [UInt8]?
    }

    /// Seals a stream of exactly `length` bytes in one pass (format version 2): each chunk is
    /// read into a reused buffer, encrypted in place and written with its head in one call,
    /// while the file's SHA-256 for the signature runs on a second thread. Refuses a source
    /// that ends early or goes on past `length`. With `digestingPlaintext` (a caller that must
    /// check the plaintext against a pinned digest) the plaintext is hashed too, before it is
    /// encrypted, on the calling thread.
    @discardableResult
    public static func seal(
        reading makeReader: () throws -> SealedStreamReader, length: UInt64, manifest: ManifestDigest,
        purpose: SealPurpose, id: String, recipientName: String, recipientKey: P384.KeyAgreement.PublicKey,
        sender: String, senderKey: P384.Signing.PrivateKey, chunkSize: Int = 1 << 20, digestingPlaintext: Bool = false,
        progress: ((SealedFileProgress) -> Void)? = nil, write: SealedStreamWriter
    ) throws(SealError) -> Sealed {
        var writer = try SealedFileWriter(
            manifest: manifest, purpose: purpose, id: id, recipientName: recipientName, recipientKey: recipientKey,
            sender: sender, senderKey: senderKey, length: length, chunkSize: chunkSize)
        let plaintextHash = digestingPlaintext ? try SealedHash(.sha256) : nil
        var reader = try PassReader(makeReader)
        // Up to four slabs, the hashing thread up to three chunks behind, so that neither
        // thread waits on the other's jitter.
        let ring = HashedSlabRing(slabBytes: writer.header.slabBytes, atMost: 4)
        defer { ring.wait() }
        let signed = writer.signed
        var done: UInt64 = 0
        for index in 0..<writer.header.chunkCount {
            let slab = ring[index]
            let size = writer.header.plaintextSize(ofChunk: index)
            guard try reader.fill(slab.body(size)) == size else { throw .io("the plaintext ended before its \(length) bytes (it changed while sealing)") }
            plaintextHash?.update(slab.prefix(size, from: Slab.headRoom))
            let sealedSize = size + SealedFileFormat.tagBytes
            try writer.encrypt(inPlace: slab.body(sealedSize), plaintextSize: size)
            let framed = slab.framed(sealedSize)
            if index == 0 { try emit(writer.headerItem, write) }  // once the source has proved readable
            do { try write(framed) } catch { throw .io("write failed (\(error))") }
            let framing = ChunkFraming(headCount: framed.count - sealedSize, count: sealedSize)
            ring.submit { signed.add(chunk: slab.framedChunk(framing), headCount: framing.headCount) }
            done += UInt64(size)
            progress?(SealedFileProgress(phase: .encrypting, pass: 0, done: done, total: length))
        }
        guard try reader.atEnd() else { throw .io("the plaintext is longer than its \(length) bytes (it changed while sealing)") }
        ring.wait()
        try emit(try writer.finish(), write)
        return Sealed(header: writer.header, fileSHA256: writer.fileSHA256!, plaintextSHA256: plaintextHash?.digest())
    }

    /// Opens a sealed stream in two passes: `check` (framing, header against `expect`, the
    /// sender's signature, nothing decrypted), then `CheckedSealedFile.decrypt` (chunk by chunk
    /// into `write`, length and SHA-256 checked at the end). Nothing reaches `write` unless the
    /// first pass passed; on a later error the caller must discard what was written (write to
    /// a temporary file, rename only on success). With `digestingFile` (or a version 2 file,
    /// whose signature needs it), the result carries the SHA-256 of every byte the
    /// signature-checking pass read.
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
        var reader = try PassReader(makeReader, digesting: digestingFile)
        let headerBytes = try reader.item(limit: SealedFileFormat.maxHeaderBytes, what: "header")
        let header = try SealedFileFormat.decodeHeader(headerBytes)
        // The signed content one chunk behind the reads, on the hashing thread. (In version 2
        // it is the file's SHA-256: the reader need not hash as well.)
        let signed = try SignedContent(version: header.version, headerBytes: headerBytes)
        if header.version != 1 { _ = reader.detachFileHash() }
        let ring = HashedSlabRing(slabBytes: header.slabBytes, atMost: 2)
        defer { ring.wait() }
        var done: UInt64 = 0
        for index in 0..<header.chunkCount {
            let slab = ring[index]
            let framing = try reader.chunk(index, of: header, into: slab)
            ring.submit { signed.add(chunk: slab.framedChunk(framing), headCount: framing.headCount) }
            done += UInt64(framing.count - SealedFileFormat.tagBytes)
            progress?(SealedFileProgress(phase: .verifying, pass: 0, done: done, total: header.length))
        }
        let signatureBytes = try reader.item(limit: SealedFileFormat.signatureBytes, what: "signature")
        try reader.expectEnd()
        ring.wait()
        let failure = verdict(header: header, expect: expect, signed: signed, signature: signatureBytes)
        return CheckedSealedFile(header: header, fileSHA256: fileDigest(reader, signed, signatureBytes),
                                 headerBytes: headerBytes, failure: failure)
    }

    /// The file's SHA-256 once its signature is read: the reader's (version 1, if it digests)
    /// or the signed content's (version 2). Only after `verdict`, which needs the digest before it.
    static func fileDigest(_ reader: PassReader, _ signed: SignedContent, _ signature: [UInt8]) -> [UInt8]? {
        var framed: [UInt8] = []
        SealedFileFormat.appendByteStringHead(signature.count, to: &framed)
        return signed.fileDigest(framedSignature: framed + signature) ?? reader.fileDigest()
    }

    /// The verdict on a header and signature: the first expected field that differs, else
    /// `badSignature` unless `signature` is the sender's over the `signed` content, else nil.
    static func verdict(header: SealedFileHeader, expect: Expectation, signed: SignedContent, signature: [UInt8]) -> SealError? {
        for (field, expected, found) in [("manifest", expect.manifest.description, header.manifest.description),
                                         ("purpose", expect.purpose.rawValue, header.purpose.rawValue), ("id", expect.id, header.id),
                                         ("recipient", expect.recipient, header.recipient), ("sender", expect.sender, header.sender)]
        where expected != found {
            return .mismatch(field: field, expected: expected, found: found)
        }
        do { return try signed.isValid(signature, from: expect.senderKey) ? nil : .badSignature } catch { return error }
    }

    /// Opens a sealed stream in one pass over its bytes: each chunk is read once, and while
    /// one thread hashes it for the signature (version 2: the file's SHA-256), others decrypt
    /// it in place and hand it to `write` (version 1 also takes the file's SHA-256 and the
    /// plaintext's). So opening costs about one SHA-256 pass over the file (version 1: one
    /// SHA-384 pass), not a hashing pass followed by a decrypting pass.
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
        let signed = try SignedContent(version: header.version, headerBytes: headerBytes)
        // Version 1: the file's SHA-256 so far (header item) continues on the pipeline's
        // decrypting thread. Version 2: the signed content is the file's SHA-256.
        let detached = reader.detachFileHash()
        // Why the chunks cannot be decrypted (the key, or the cipher's setup), reported after
        // the verdict on header and signature, as the two passes report it.
        let cipher: SealedChunkCipher?
        var cipherFailure: SealError?
        do { cipher = try header.recipientCipher(recipientKey) } catch { cipher = nil; cipherFailure = error }
        let headerDigest = sha384(headerBytes)
        let chunks = header.version == 1
            ? try openThroughPipeline(&reader, header: header, headerDigest: headerDigest, cipher: cipher, signed: signed,
                                      fileHash: detached, progress: progress, write: write)
            : try openBesideTheHash(&reader, header: header, headerDigest: headerDigest, cipher: cipher, signed: signed,
                                    progress: progress, write: write)
        let signatureBytes = try reader.item(limit: SealedFileFormat.signatureBytes, what: "signature")
        try reader.expectEnd()
        let failure = verdict(header: header, expect: expect, signed: signed, signature: signatureBytes)
        let checked = CheckedSealedFile(header: header, fileSHA256: fileDigest(reader, signed, signatureBytes),
                                        headerBytes: headerBytes, failure: failure)
        var decryption = chunks.failure
        if let cipherFailure {
            decryption = cipherFailure
        } else if decryption == nil, chunks.length != header.length || chunks.plaintextSHA256 != header.sha256 {
            decryption = .plaintextDigest
        }
        progress?(SealedFileProgress(phase: .decrypting, pass: 1, done: header.length, total: header.length))
        return OpenedSealedFile(checked: checked, decryptionFailure: decryption)
    }

    /// What the chunks of a one-pass open came to: the first chunk's decryption or write
    /// failure, the plaintext bytes written, and (version 1) their SHA-256.
    private struct OpenedChunks {
        let failure: SealError?
        let length: UInt64
        let plaintextSHA256: [UInt8]?
    }

    /// Version 2's chunks: the calling thread reads each chunk, decrypts it into a second
    /// buffer (so that the ciphertext stays for the hash) and writes it, while the signed
    /// content, the file's SHA-256, runs over the ciphertext on a second thread up to a few
    /// chunks behind; as a seal runs, one SHA-256 pass beside AES-GCM and the copies. After the
    /// first failure nothing more is decrypted or written, but every chunk is still read and
    /// hashed, for the verdict.
    private static func openBesideTheHash(
        _ reader: inout PassReader, header: SealedFileHeader, headerDigest: [UInt8], cipher: SealedChunkCipher?,
        signed: SignedContent, progress: ((SealedFileProgress) -> Void)?, write: SealedStreamWriter
    ) throws(SealError) -> OpenedChunks {
        let ring = HashedSlabRing(slabBytes: header.slabBytes, atMost: 4)
        defer { ring.wait() }
        let plaintext = Slab(header.plaintextSize(ofChunk: 0))
        var failure: SealError? = nil
        var length: UInt64 = 0
        var done: UInt64 = 0
        for index in 0..<header.chunkCount {
            let slab = ring[index]
            let framing = try reader.chunk(index, of: header, into: slab)
            ring.submit { signed.add(chunk: slab.framedChunk(framing), headCount: framing.headCount) }
            let size = framing.count - SealedFileFormat.tagBytes
            if failure == nil, let cipher {
                let aad = SealedFileFormat.aad(headerDigest: headerDigest, index: index, final: index == header.chunkCount - 1)
                let output = UnsafeMutableRawBufferPointer(rebasing: plaintext.buffer[..<size])
                if !cipher.open(UnsafeRawBufferPointer(slab.body(framing.count)), index: index, aad: aad, into: output) {
                    failure = .chunk(index: index)
                } else {
                    do {
                        try write(UnsafeRawBufferPointer(output))
                        length += UInt64(size)
                    } catch {
                        failure = .io("write failed (\(error))")
                    }
                }
            }
            done += UInt64(size)
            progress?(SealedFileProgress(phase: .verifying, pass: 0, done: done, total: header.length))
        }
        ring.wait()
        return OpenedChunks(failure: failure, length: length, plaintextSHA256: nil)
    }

    /// Version 1's chunks, through `OpenPipeline`'s three threads: SHA-384 for the signature,
    /// then the file's SHA-256 (`fileHash`, which comes back to `reader` for the signature's
    /// bytes) and the decryption in place, then the plaintext's SHA-256 and the write.
    private static func openThroughPipeline(
        _ reader: inout PassReader, header: SealedFileHeader, headerDigest: [UInt8], cipher: SealedChunkCipher?,
        signed: SignedContent, fileHash: SealedHash?, progress: ((SealedFileProgress) -> Void)?, write: SealedStreamWriter
    ) throws(SealError) -> OpenedChunks {
        let pipeline = try OpenPipeline(slabBytes: header.slabBytes, cipher: cipher, fileHash: fileHash)
        try withoutActuallyEscaping(write) { (write) throws(SealError) in
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
        }
        pipeline.drain()
        if let fileHash { reader.attachFileHash(fileHash) }
        return OpenedChunks(failure: pipeline.failure, length: pipeline.length, plaintextSHA256: pipeline.plaintextHash.digest())
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

    static func emit(_ bytes: some ContiguousBytes, _ write: SealedStreamWriter) throws(SealError) {
        do { try bytes.withUnsafeBytes { try write($0) } } catch { throw .io("write failed (\(error))") }
    }
}

/// A sealed file after the first pass of opening (`SealedFile.check`): its header and digest,
/// and the verdict on its header and signature, which `decrypt` enforces before decrypting.
public struct CheckedSealedFile: Sendable {
    /// The header the file carries (checked against the expectation only if `failure` is nil).
    public let header: SealedFileHeader
    /// SHA-256 of the bytes whose signature was checked: always in version 2 (its signature
    /// covers it), with `digestingFile` in version 1, else nil.
    public let fileSHA256: [UInt8]?
    let headerBytes: [UInt8]
    /// Why the file must not be decrypted (expectation mismatch, bad signature), if it must not.
    public let failure: SealError?

    /// The second pass: refuses a file whose check failed, then decrypts chunk by chunk into
    /// `write` (in place, in reused buffers) and checks the length at the end, and in version 1
    /// the plaintext's SHA-256 (on a second thread), in version 2 that the file's SHA-256 is
    /// still the one the first pass checked the signature over. The stream must still hold the
    /// header just checked; on a refusal the caller discards what was written.
    public func decrypt(
        reading makeReader: () throws -> SealedStreamReader, recipientKey: P384.KeyAgreement.PrivateKey,
        progress: ((SealedFileProgress) -> Void)? = nil, write: SealedStreamWriter
    ) throws(SealError) {
        if let failure { throw failure }
        // Version 2 hashes the file again: its plaintext is bound to the signature only through
        // the bytes the first pass hashed, so the bytes decrypted here must be those.
        var reader = try PassReader(makeReader, digesting: header.version != 1)
        guard try reader.item(limit: SealedFileFormat.maxHeaderBytes, what: "header") == headerBytes else {
            throw .io("sealed file changed while opening")
        }
        let cipher = try header.recipientCipher(recipientKey)
        let headerDigest = SealedFile.sha384(headerBytes)
        let plaintextHash = header.sha256 == nil ? nil : try SealedHash(.sha256)
        var length: UInt64 = 0
        let ring = HashedSlabRing(slabBytes: header.slabBytes, atMost: 2)
        defer { ring.wait() }
        for index in 0..<header.chunkCount {
            let slab = ring[index]
            let count = try reader.chunk(index, of: header, into: slab).count
            let aad = SealedFileFormat.aad(headerDigest: headerDigest, index: index, final: index == header.chunkCount - 1)
            let size = count - SealedFileFormat.tagBytes
            guard cipher.open(UnsafeRawBufferPointer(slab.body(count)), index: index, aad: aad, into: slab.body(size)) else {
                throw .chunk(index: index)
            }
            do { try write(slab.prefix(size, from: Slab.headRoom)) } catch { throw .io("write failed (\(error))") }
            if let plaintextHash { ring.submit { plaintextHash.update(slab.prefix(size, from: Slab.headRoom)) } }
            length += UInt64(size)
            progress?(SealedFileProgress(phase: .decrypting, pass: 1, done: length, total: header.length))
        }
        ring.wait()
        if header.version != 1 {
            _ = try reader.item(limit: SealedFileFormat.signatureBytes, what: "signature")
            try reader.expectEnd()
            guard reader.fileDigest() == fileSHA256 else { throw .io("sealed file changed while opening") }
        }
        guard length == header.length, plaintextHash?.digest() == header.sha256 else { throw .plaintextDigest }
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
    /// (`keyAgreement` if the encapsulated key does not work with it, or, in version 2, if the
    /// context does not yield the header's key commitment).
    func recipientCipher(_ recipientKey: P384.KeyAgreement.PrivateKey) throws(SealError) -> SealedChunkCipher {
        let info = SealedFileFormat.info(version: version, manifest: manifest, purpose: purpose, id: id, recipient: recipient)
        let context: SealedFileHPKE.Context
        do { context = try SealedFileHPKE.recipient(privateKey: recipientKey, enc: encapsulatedKey, info: info) } catch { throw .keyAgreement }
        if version != 1 {
            guard let commitment, commitment == context.commitment else { throw .keyAgreement }
        }
        return try SealedChunkCipher(context, encrypting: false)
    }
}

extension SealedFileHeader {
    /// Bytes of a slab that holds any chunk of this file, with room for its head before it.
    var slabBytes: Int { Slab.headRoom + plaintextSize(ofChunk: 0) + SealedFileFormat.tagBytes }
}

extension SealedFile {
    /// SHA-384 of a few bytes (a header): swift-crypto's, which cannot fail.
    static func sha384(_ bytes: [UInt8]) -> [UInt8] { Array(SHA384.hash(data: bytes)) }
}

// MARK: - The byte-array API (in-memory files, tests, fuzzing)

extension SealedFile {
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

/// A reused, 64-byte aligned buffer of a ring; shared with the hashing thread (or a pipeline's
/// stages), which only read it while the calling thread fills other buffers of the ring.
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

    /// A chunk read by `PassReader.chunk` as the file holds it: its head, then its body.
    func framedChunk(_ framing: ChunkFraming) -> UnsafeRawBufferPointer {
        prefix(framing.headCount + framing.count, from: Slab.headRoom - framing.headCount)
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

/// Reused chunk buffers and the second thread that hashes them: a ring of slabs, and a serial
/// queue on which at most one job fewer than the ring has slabs waits or runs. `submit` waits
/// until there is room, so once it returns the job on the slab the next chunk goes into (the
/// one submitted a whole ring earlier) has run.
final class HashedSlabRing: @unchecked Sendable {
    private let slabs: [Slab]
    private let queue = DispatchQueue(label: "twocvm.sealed-file.hash")
    private let room: DispatchSemaphore

    /// Two to `atMost` slabs of `slabBytes` each, as many as ``OpenPipeline/budget`` holds.
    init(slabBytes: Int, atMost: Int) {
        slabs = (0..<max(2, min(atMost, OpenPipeline.budget / slabBytes))).map { _ in Slab(slabBytes) }
        room = DispatchSemaphore(value: slabs.count - 1)
    }

    /// The slab chunk `index` goes into.
    subscript(index: Int) -> Slab { slabs[index % slabs.count] }

    func submit(_ job: @escaping @Sendable () -> Void) {
        room.wait()
        queue.async { [room] in
            job()
            room.signal()
        }
    }

    /// Waits until every job submitted has run (libdispatch refuses to free a semaphore below
    /// its initial value: every user waits before the ring goes).
    func wait() { queue.sync {} }
}

/// A writer the pipeline's threads may call (one at a time, in order): `withoutActuallyEscaping`
/// makes the caller's writer escapable for the duration of the pass, which drains its threads
/// before it returns.
struct UncheckedWriter: @unchecked Sendable {
    let write: SealedStreamWriter
    init(_ write: @escaping SealedStreamWriter) { self.write = write }
}

/// The threads of `SealedFile.openInOnePass` for a version 1 file, one serial queue per stage,
/// each taking the chunks in order: SHA-384 of the ciphertext (the signature); then the
/// file's SHA-256 and the decryption in place; then the SHA-256 of the plaintext and the write. A chunk's slab is
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
    /// SHA-256 of the plaintext written (writing stage), for the header's `sha256`.
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
    func submit(slab: Slab, index: Int, framing: ChunkFraming, aad: [UInt8], signed: SignedContent, write: UncheckedWriter) {
        let size = framing.count - SealedFileFormat.tagBytes
        signing.async { [self] in
            signed.add(chunk: slab.framedChunk(framing), headCount: framing.headCount)
            decrypting.async { [self] in
                fileHash?.update(slab.framedChunk(framing))
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

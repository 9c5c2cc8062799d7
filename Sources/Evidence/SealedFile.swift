import Crypto
import Foundation
import Manifest

/// Sealed inputs and outputs (SPEC §8): HPKE (RFC 9180, DHKEM(P-384, HKDF-SHA384), HKDF-SHA384,
/// AES-256-GCM) to the recipient's key, the manifest digest, purpose, id and recipient bound in
/// the HPKE info, each chunk bound to the header, its index and finality in the AEAD associated
/// data, and the whole file signed (ES384) by the sender. Docs/formats.md gives the bytes.
public enum SealedFile {
    /// What the opener requires of a sealed file; every field is checked against the header.
    public struct Expectation: Sendable {
        public var manifest: ManifestDigest
        public var purpose: SealPurpose
        public var id: String
        /// The opener's own name (`tee` for inputs, the participant id for outputs).
        public var recipient: String
        /// The participant id (or `tee`) that must have signed the file.
        public var sender: String
        /// The sender's ES384 signing key.
        public var senderKey: P384.Signing.PublicKey

        public init(manifest: ManifestDigest, purpose: SealPurpose, id: String, recipient: String,
                    sender: String, senderKey: P384.Signing.PublicKey) {
            self.manifest = manifest
            self.purpose = purpose
            self.id = id
            self.recipient = recipient
            self.sender = sender
            self.senderKey = senderKey
        }
    }

    /// Seals `plaintext` in memory in format `version` (the current one unless a test needs
    /// the previous); see `SealedFileWriter` for files too large to hold.
    public static func seal(
        _ plaintext: [UInt8], manifest: ManifestDigest, purpose: SealPurpose, id: String,
        recipientName: String, recipientKey: P384.KeyAgreement.PublicKey,
        sender: String, senderKey: P384.Signing.PrivateKey, chunkSize: Int = 1 << 20,
        version: Int64 = SealedFileFormat.version
    ) throws(SealError) -> [UInt8] {
        var writer = try SealedFileWriter(
            manifest: manifest, purpose: purpose, id: id, recipientName: recipientName, recipientKey: recipientKey,
            sender: sender, senderKey: senderKey, length: UInt64(plaintext.count),
            sha256: version == 1 ? Array(SHA256.hash(data: plaintext)) : nil, chunkSize: chunkSize, version: version)
        var out = writer.headerItem
        out.reserveCapacity(plaintext.count + writer.header.chunkCount * 21 + out.count + 100)
        for index in 0..<writer.header.chunkCount {
            let start = index * chunkSize
            out += try writer.sealChunk(plaintext[start..<(start + writer.header.plaintextSize(ofChunk: index))])
        }
        out += try writer.finish()
        return out
    }

    /// Opens a sealed file in memory: checks the framing, the header against `expect`, the
    /// sender's signature, every chunk's tag, and the plaintext's length (and, in version 1,
    /// SHA-256). No plaintext
    /// is returned unless all of these pass.
    public static func open(
        _ bytes: [UInt8], recipientKey: P384.KeyAgreement.PrivateKey, expect: Expectation
    ) throws(SealError) -> [UInt8] {
        var plaintext: [UInt8] = []
        try open(streaming: { reader(over: bytes) }, recipientKey: recipientKey, expect: expect) { plaintext += $0 }
        return plaintext
    }

    /// A sequential buffer reader over `bytes` (a fresh one per pass) that returns at most
    /// `step` bytes per read, as a pipe would: in-memory files for the buffer-reading functions
    /// (`openInOnePass`, `check`, `decrypt`), in tests and fuzzing.
    public static func bufferReader(over bytes: [UInt8], step: Int = .max) -> SealedStreamReader {
        var offset = 0
        return { buffer in
            let count = min(buffer.count, step, bytes.count - offset)
            bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + count)])) }
            offset += count
            return count
        }
    }

    /// A sequential reader over `bytes` (a fresh one per pass), for the streaming functions.
    public static func reader(over bytes: [UInt8]) -> (Int) -> [UInt8] {
        var offset = 0
        return { count in
            let end = offset + min(count, bytes.count - offset)
            defer { offset = end }
            return Array(bytes[offset..<end])
        }
    }
}

/// Writes a sealed file chunk by chunk with bounded memory: writes `headerItem`, then the
/// result of `sealChunk` for each chunk in order, then `finish()`. The caller knows the
/// plaintext's length up front (and, for the previous format, version 1, its SHA-256: a first
/// pass over the data).
public struct SealedFileWriter {
    /// The header as it is written and signed.
    public let header: SealedFileHeader
    /// The framed header (CBOR byte string holding the header map): the first bytes of the file.
    public let headerItem: [UInt8]
    /// The SHA-256 of every byte written, once `finish()` has returned (version 2; nil in version 1).
    public private(set) var fileSHA256: [UInt8]?
    private let headerDigest: [UInt8]
    private let senderKey: P384.Signing.PrivateKey
    private let cipher: SealedChunkCipher
    /// What the signature covers; a class, so the streaming sealer can update it on its hashing thread.
    let signed: SignedContent
    private var next = 0
    private var finished = false

    /// Sets up HPKE to `recipientKey` and builds the header of format `version`; `sha256` (the
    /// plaintext's) is required in version 1 and refused in version 2.
    public init(
        manifest: ManifestDigest, purpose: SealPurpose, id: String, recipientName: String,
        recipientKey: P384.KeyAgreement.PublicKey, sender: String, senderKey: P384.Signing.PrivateKey,
        length: UInt64, sha256: [UInt8]? = nil, chunkSize: Int = 1 << 20, version: Int64 = SealedFileFormat.version
    ) throws(SealError) {
        guard SealedFileFormat.readableVersions.contains(version) else { throw .sealing("no format version \(version)") }
        guard SealedFileFormat.chunkSizes.contains(chunkSize) else { throw .sealing("chunk size \(chunkSize) outside \(SealedFileFormat.chunkSizes)") }
        guard length <= SealedFileFormat.maxLength else { throw .sealing("length \(length) over \(SealedFileFormat.maxLength)") }
        if version == 1 {
            guard sha256?.count == 32 else { throw .sealing("version 1 needs the plaintext's SHA-256 (32 bytes)") }
        } else {
            guard sha256 == nil else { throw .sealing("version \(version) carries no plaintext SHA-256") }
        }
        for (name, value) in [("id", id), ("recipient", recipientName), ("sender", sender)]
        where value.isEmpty || value.utf8.count > SealedFileFormat.maxNameBytes {
            throw .sealing("\(name) must be 1 to \(SealedFileFormat.maxNameBytes) bytes")
        }
        let info = SealedFileFormat.info(version: version, manifest: manifest, purpose: purpose, id: id, recipient: recipientName)
        let setup: (enc: [UInt8], context: SealedFileHPKE.Context)
        do { setup = try SealedFileHPKE.sender(recipientKey: recipientKey, info: info) } catch { throw .sealing("HPKE setup failed (\(error))") }
        cipher = try SealedChunkCipher(setup.context, encrypting: true)
        header = SealedFileHeader(
            version: version, manifest: manifest, purpose: purpose, id: id, recipient: recipientName, sender: sender,
            encapsulatedKey: setup.enc, chunkSize: chunkSize, length: length, sha256: sha256,
            commitment: version == 1 ? nil : setup.context.commitment)
        let headerBytes = SealedFileFormat.encode(header)
        var item: [UInt8] = []
        SealedFileFormat.appendByteStringHead(headerBytes.count, to: &item)
        headerItem = item + headerBytes
        headerDigest = SealedFile.sha384(headerBytes)
        signed = try SignedContent(version: version, headerBytes: headerBytes)
        self.senderKey = senderKey
    }

    /// Seals the next chunk (exactly `header.plaintextSize(ofChunk:)` bytes) and returns its framed ciphertext.
    public mutating func sealChunk(_ plaintext: some DataProtocol) throws(SealError) -> [UInt8] {
        let size = plaintext.count
        var head: [UInt8] = []
        SealedFileFormat.appendByteStringHead(size + SealedFileFormat.tagBytes, to: &head)
        var out = [UInt8](repeating: 0, count: head.count + size + SealedFileFormat.tagBytes)
        var failure: SealError? = nil
        out.withUnsafeMutableBytes { buffer in
            buffer.copyBytes(from: head)
            let body = UnsafeMutableRawBufferPointer(rebasing: buffer[head.count...])
            plaintext.copyBytes(to: body, count: size)
            do throws(SealError) { try encrypt(inPlace: body, plaintextSize: size) } catch { failure = error; return }
            signed.add(chunk: UnsafeRawBufferPointer(buffer), headCount: head.count)
        }
        if let failure { throw failure }
        return out
    }

    /// Encrypts the next chunk in place: its `plaintextSize` bytes at the start of `buffer`
    /// (exactly `plaintextSize + 16` bytes) become ciphertext and tag. Does not add it to the
    /// signed content (the caller does, in order).
    mutating func encrypt(inPlace buffer: UnsafeMutableRawBufferPointer, plaintextSize: Int) throws(SealError) {
        guard next < header.chunkCount else { throw .sealing("more chunks than the declared length") }
        guard plaintextSize == header.plaintextSize(ofChunk: next) else {
            throw .sealing("chunk \(next) is \(plaintextSize) bytes, expected \(header.plaintextSize(ofChunk: next))")
        }
        let aad = SealedFileFormat.aad(headerDigest: headerDigest, index: next, final: next == header.chunkCount - 1)
        guard cipher.seal(UnsafeRawBufferPointer(rebasing: buffer[..<plaintextSize]), index: next, aad: aad, into: buffer) else {
            throw .sealing("AEAD failed")
        }
        next += 1
    }

    /// Signs the header and all chunks; returns the framed signature, the file's last bytes
    /// (and, in version 2, sets `fileSHA256`). Once only.
    public mutating func finish() throws(SealError) -> [UInt8] {
        guard next == header.chunkCount else { throw .sealing("\(next) of \(header.chunkCount) chunks written") }
        guard !finished else { throw .sealing("the file is already finished") }
        finished = true
        var out: [UInt8] = []
        SealedFileFormat.appendByteStringHead(SealedFileFormat.signatureBytes, to: &out)
        out += try signed.sign(with: senderKey)
        fileSHA256 = signed.fileDigest(framedSignature: out)
        return out
    }
}

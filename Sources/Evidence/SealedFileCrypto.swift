import COpenSSL
import Crypto
import Foundation

// The primitives of the sealed-file data path, working in the caller's buffers.
//
// swift-crypto's HPKE context returns each chunk as a fresh `Data` (and copies the ciphertext
// once more into a sealed box on the way in), which costs an allocation, page faults and two
// copies per chunk. The format is plain RFC 9180 base mode, so the key schedule is done here
// with swift-crypto's ECDH and HKDF (a few microseconds per file), and the chunks are sealed and
// opened with OpenSSL's EVP AES-256-GCM, straight from and into reused buffers (in place when
// opening). The bytes are the same as swift-crypto's HPKE produces: the tests check both
// directions against it, and against pyhpke and the sealed-v1 fixtures.

/// HPKE (RFC 9180) base mode for the one suite sealed files use: DHKEM(P-384, HKDF-SHA384),
/// HKDF-SHA384, AES-256-GCM. Yields the AEAD key and base nonce of the file's context.
///
/// Every secret on the way (the Diffie-Hellman output, the KEM's shared secret, the schedule's
/// secret, the AEAD key) lives either in swift-crypto's `SymmetricKey`/`SharedSecret`, which
/// zero their memory when released, or in ``SecretBytes``, which does the same; none is copied
/// into an array, which the runtime may copy and free without clearing.
enum SealedFileHPKE {
    /// The AEAD key and base nonce of one HPKE context (sequence numbers are chunk indexes),
    /// and the context's key commitment (version 2 headers carry it).
    struct Context {
        let key: SecretBytes
        let baseNonce: [UInt8]
        /// `Export("twocvm-sealed/v2 commit", 32)` (RFC 9180 §5.3): a value only this key
        /// schedule yields, so a header that carries it names the one AEAD key its chunks may
        /// open under (AES-GCM alone does not commit to its key).
        let commitment: [UInt8]
    }

    /// The exporter context of ``Context/commitment``.
    static let commitmentLabel = Array("twocvm-sealed/v2 commit".utf8)

    static let kemSuiteID: [UInt8] = Array("KEM".utf8) + [0x00, 0x11]
    static let hpkeSuiteID: [UInt8] = Array("HPKE".utf8) + [0x00, 0x11, 0x00, 0x02, 0x00, 0x02]

    /// SetupBaseS: a fresh ephemeral key; returns the encapsulated key (`04‖X‖Y`) and the context.
    static func sender(recipientKey: P384.KeyAgreement.PublicKey, info: [UInt8]) throws -> (enc: [UInt8], context: Context) {
        let ephemeral = P384.KeyAgreement.PrivateKey()
        let enc = Array(ephemeral.publicKey.x963Representation)
        let dh = try ephemeral.sharedSecretFromKeyAgreement(with: recipientKey)
        let secret = sharedSecret(dh: dh, kemContext: enc + Array(recipientKey.x963Representation))
        return (enc, keySchedule(sharedSecret: secret, info: info))
    }

    /// SetupBaseR: the context of a file whose encapsulated key is `enc`.
    static func recipient(privateKey: P384.KeyAgreement.PrivateKey, enc: [UInt8], info: [UInt8]) throws -> Context {
        let ephemeral = try P384.KeyAgreement.PublicKey(x963Representation: enc)
        let dh = try privateKey.sharedSecretFromKeyAgreement(with: ephemeral)
        let secret = sharedSecret(dh: dh, kemContext: enc + Array(privateKey.publicKey.x963Representation))
        return keySchedule(sharedSecret: secret, info: info)
    }

    /// DHKEM ExtractAndExpand (RFC 9180 §4.1).
    private static func sharedSecret(dh: SharedSecret, kemContext: [UInt8]) -> SymmetricKey {
        let prk = dh.withUnsafeBytes { labeledExtract(salt: nil, label: "eae_prk", ikm: $0, suite: kemSuiteID) }
        return labeledExpand(prk: prk, label: "shared_secret", info: kemContext, length: 48, suite: kemSuiteID)
    }

    /// KeySchedule (RFC 9180 §5.1) in mode_base, no PSK.
    private static func keySchedule(sharedSecret: SymmetricKey, info: [UInt8]) -> Context {
        let none = UnsafeRawBufferPointer(start: nil, count: 0)
        let pskIDHash = labeledExtract(salt: nil, label: "psk_id_hash", ikm: none, suite: hpkeSuiteID)
        let infoHash = info.withUnsafeBytes { labeledExtract(salt: nil, label: "info_hash", ikm: $0, suite: hpkeSuiteID) }
        let context = [0x00] + pskIDHash.withUnsafeBytes(Array.init) + infoHash.withUnsafeBytes(Array.init)
        let secret = labeledExtract(salt: sharedSecret, label: "secret", ikm: none, suite: hpkeSuiteID)
        let exporter = labeledExpand(prk: secret, label: "exp", info: context, length: 48, suite: hpkeSuiteID)
        return Context(key: SecretBytes(copying: labeledExpand(prk: secret, label: "key", info: context, length: 32, suite: hpkeSuiteID)),
                       baseNonce: labeledExpand(prk: secret, label: "base_nonce", info: context, length: 12, suite: hpkeSuiteID)
                           .withUnsafeBytes(Array.init),
                       commitment: labeledExpand(prk: exporter, label: "sec", info: commitmentLabel, length: 32, suite: hpkeSuiteID)
                           .withUnsafeBytes(Array.init))
    }

    /// LabeledExtract: HKDF-Extract, i.e. HMAC keyed with the salt (nil: HashLen zero bytes).
    private static func labeledExtract(salt: SymmetricKey?, label: String, ikm: UnsafeRawBufferPointer, suite: [UInt8]) -> SymmetricKey {
        var mac = HMAC<SHA384>(key: salt ?? SymmetricKey(data: [UInt8](repeating: 0, count: 48)))
        mac.update(data: Array("HPKE-v1".utf8) + suite + Array(label.utf8))
        mac.update(data: ikm)
        return mac.finalize().withUnsafeBytes { SymmetricKey(data: $0) }
    }

    private static func labeledExpand(prk: SymmetricKey, label: String, info: [UInt8], length: Int, suite: [UInt8]) -> SymmetricKey {
        let labeledInfo = [UInt8(length >> 8), UInt8(length & 0xff)] + Array("HPKE-v1".utf8) + suite + Array(label.utf8) + info
        return HKDF<SHA384>.expand(pseudoRandomKey: prk, info: labeledInfo, outputByteCount: length)
    }
}

/// Secret bytes in memory of their own, overwritten (`OPENSSL_cleanse`, which the compiler may
/// not remove) before it is freed. Unlike an array's buffer, it is never copied behind the
/// caller's back, so clearing it clears every copy.
final class SecretBytes: @unchecked Sendable {
    private let storage: UnsafeMutableRawBufferPointer

    init(copying key: SymmetricKey) {
        storage = .allocate(byteCount: key.bitCount / 8, alignment: 16)
        key.withUnsafeBytes { storage.copyMemory(from: $0) }
    }

    deinit {
        OPENSSL_cleanse(storage.baseAddress, storage.count)
        storage.deallocate()
    }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(storage))
    }
}

/// AES-256-GCM over one HPKE context (nonce of chunk `i` = base nonce XOR `i`), through one
/// reused OpenSSL EVP context, reading and writing the caller's buffers. Not thread-safe: one
/// thread at a time.
final class SealedChunkCipher: @unchecked Sendable {
    private let context: OpaquePointer
    private let baseNonce: [UInt8]
    private let encrypting: Bool

    init(_ hpke: SealedFileHPKE.Context, encrypting: Bool) throws(SealError) {
        guard let context = EVP_CIPHER_CTX_new() else { throw .outOfMemory("an AES-GCM context") }
        self.context = context
        self.baseNonce = hpke.baseNonce
        self.encrypting = encrypting
        // OpenSSL keeps its own key schedule, cleared by EVP_CIPHER_CTX_free.
        let ok = hpke.key.withUnsafeBytes { raw in
            let key = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            return encrypting
                ? EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nil)
                : EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nil)
        }
        guard ok == 1 else { throw .sealing("cannot set up AES-256-GCM") }
    }

    deinit { EVP_CIPHER_CTX_free(context) }

    /// Sets the key schedule's nonce for chunk `index` and feeds the associated data.
    private func start(index: Int, aad: [UInt8]) -> Bool {
        var nonce = baseNonce
        for byte in 0..<8 { nonce[11 - byte] ^= UInt8(truncatingIfNeeded: UInt64(index) >> UInt64(8 * byte)) }
        var ignored: Int32 = 0
        let set = nonce.withUnsafeBufferPointer { nonce in
            encrypting ? EVP_EncryptInit_ex(context, nil, nil, nil, nonce.baseAddress)
                       : EVP_DecryptInit_ex(context, nil, nil, nil, nonce.baseAddress)
        }
        guard set == 1 else { return false }
        return aad.withUnsafeBufferPointer { aad in
            encrypting ? EVP_EncryptUpdate(context, nil, &ignored, aad.baseAddress, Int32(aad.count))
                       : EVP_DecryptUpdate(context, nil, &ignored, aad.baseAddress, Int32(aad.count))
        } == 1
    }

    /// Seals `plaintext` as chunk `index` into `output` (`plaintext.count + 16` bytes:
    /// ciphertext, then tag). `output` may not overlap `plaintext` unless equal in start.
    func seal(_ plaintext: UnsafeRawBufferPointer, index: Int, aad: [UInt8], into output: UnsafeMutableRawBufferPointer) -> Bool {
        precondition(encrypting && output.count == plaintext.count + SealedFileFormat.tagBytes)
        guard start(index: index, aad: aad) else { return false }
        let out = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var written: Int32 = 0, final: Int32 = 0
        if plaintext.count > 0 {
            guard EVP_EncryptUpdate(context, out, &written, plaintext.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                    Int32(plaintext.count)) == 1 else { return false }
        }
        guard EVP_EncryptFinal_ex(context, out + Int(written), &final) == 1, Int(written + final) == plaintext.count else { return false }
        return EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, Int32(SealedFileFormat.tagBytes), out + plaintext.count) == 1
    }

    /// Opens chunk `index` (`sealed` = ciphertext ‖ tag) into `output` (`sealed.count - 16`
    /// bytes; may be the start of `sealed` itself: decryption in place). False if the tag does
    /// not verify; `output` then holds garbage the caller must discard.
    func open(_ sealed: UnsafeRawBufferPointer, index: Int, aad: [UInt8], into output: UnsafeMutableRawBufferPointer) -> Bool {
        let size = sealed.count - SealedFileFormat.tagBytes
        precondition(!encrypting && size >= 0 && output.count == size)
        guard start(index: index, aad: aad) else { return false }
        let input = sealed.baseAddress!.assumingMemoryBound(to: UInt8.self)
        // The tag first (copied out: decrypting in place overwrites nothing past `size`, but be safe).
        var tag = [UInt8](repeating: 0, count: SealedFileFormat.tagBytes)
        tag.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: sealed[size...])) }
        guard tag.withUnsafeMutableBytes({
            EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, Int32(SealedFileFormat.tagBytes), $0.baseAddress)
        }) == 1 else { return false }
        let out = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var written: Int32 = 0, final: Int32 = 0
        if size > 0 {
            guard EVP_DecryptUpdate(context, out, &written, input, Int32(size)) == 1 else { return false }
        }
        return EVP_DecryptFinal_ex(context, out + Int(written), &final) == 1 && Int(written + final) == size
    }
}

/// A SHA-256 or SHA-384 state of OpenSSL's EVP, updated from raw buffers (on whichever thread
/// holds it; one at a time). Public for the workflows that hash whole sealed files (receipts
/// name them by SHA-256, the plan by SHA-384): swift-crypto's SHA-384 runs in portable C here.
public final class SealedHash: @unchecked Sendable {
    public enum Algorithm: Sendable { case sha256, sha384 }
    private let context: OpaquePointer
    public let algorithm: Algorithm

    /// A fresh state. Throws only if OpenSSL cannot allocate it (or the default provider has
    /// no SHA-2, which OpenSSL 3 always has).
    public init(_ algorithm: Algorithm) throws(SealError) {
        self.algorithm = algorithm
        let what = algorithm == .sha256 ? "a SHA-256 context" : "a SHA-384 context"
        guard let context = EVP_MD_CTX_new() else { throw .outOfMemory(what) }
        self.context = context
        guard EVP_DigestInit_ex(context, algorithm == .sha256 ? EVP_sha256() : EVP_sha384(), nil) == 1 else {
            throw .outOfMemory(what)  // deinit frees the context
        }
    }

    deinit { EVP_MD_CTX_free(context) }

    // Once initialised, OpenSSL's SHA-2 update and final cannot fail (they allocate nothing and
    // return 1 for any valid context): the preconditions below state that invariant.

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        precondition(EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) == 1)
    }

    public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The digest of the bytes so far, leaving the state to go on (OpenSSL copies it).
    public func digestSoFar() throws(SealError) -> [UInt8] {
        let copy = try SealedHash(algorithm)
        guard EVP_MD_CTX_copy_ex(copy.context, context) == 1 else { throw .outOfMemory("a copy of a digest context") }
        return copy.digest()
    }

    /// The digest (once: the state is spent).
    public func digest() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        precondition(out.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(context, $0.baseAddress, &length) } == 1)
        return Array(out.prefix(Int(length)))
    }
}

/// A SHA-384 computed elsewhere (OpenSSL), handed to swift-crypto's ES384 sign and verify,
/// which take any `Digest`.
struct SHA384Value: Digest {
    static let byteCount = 48
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        precondition(bytes.count == Self.byteCount)
        self.bytes = bytes
    }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try bytes.withUnsafeBytes(body) }
    func makeIterator() -> IndexingIterator<[UInt8]> { bytes.makeIterator() }
    var description: String { "SHA384 digest: " + bytes.map { String(format: "%02x", $0) }.joined() }
}

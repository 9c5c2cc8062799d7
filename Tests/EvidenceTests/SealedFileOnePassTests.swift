import Crypto
import Foundation
import Manifest
import XCTest
@testable import Evidence

/// The data path of issue 16: the HPKE key schedule and AES-GCM over the library's own buffers
/// (byte-compatible with swift-crypto's HPKE), and the one-pass open that decrypts while the
/// signature is checked.
final class SealedFileOnePassTests: XCTestCase {
    private let tee = P384.KeyAgreement.PrivateKey()
    private let owner = P384.Signing.PrivateKey()
    private let manifest = ManifestDigest(of: Array("manifest".utf8))

    private func expectation(senderKey: P384.Signing.PublicKey? = nil, id: String = "genomes") -> SealedFile.Expectation {
        .init(manifest: manifest, purpose: .input, id: id, recipient: "tee", sender: "alice", senderKey: senderKey ?? owner.publicKey)
    }

    private func reader(_ bytes: [UInt8], step: Int = .max) -> () -> SealedStreamReader {
        { SealedFile.bufferReader(over: bytes, step: step) }
    }

    private func pattern(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
    }

    /// Version 2 with the streaming sealer (what `twocvm seal` writes), version 1 in memory
    /// (what the previous releases wrote): the one-pass open takes another path for each.
    private func seal(_ plaintext: [UInt8], chunkSize: Int, version: Int64 = SealedFileFormat.version) throws -> [UInt8] {
        if version == 1 {
            return try SealedFile.seal(plaintext, manifest: manifest, purpose: .input, id: "genomes", recipientName: "tee",
                                       recipientKey: tee.publicKey, sender: "alice", senderKey: owner, chunkSize: chunkSize, version: 1)
        }
        var sealed: [UInt8] = []
        try SealedFile.seal(reading: reader(plaintext), length: UInt64(plaintext.count), manifest: manifest, purpose: .input, id: "genomes", recipientName: "tee",
                            recipientKey: tee.publicKey, sender: "alice", senderKey: owner, chunkSize: chunkSize) { sealed += $0 }
        return sealed
    }

    /// What the one-pass open wrote, and its verdict (nil: it passed), or the framing error it threw.
    private func openInOnePass(_ bytes: [UInt8], expect: SealedFile.Expectation? = nil, step: Int = .max,
                               failWrite: Int? = nil) -> (written: [UInt8], result: Result<CheckedSealedFile, SealError>) {
        var written: [UInt8] = []
        var writes = 0
        do {
            let opened = try SealedFile.openInOnePass(reading: reader(bytes, step: step), recipientKey: tee, expect: expect ?? expectation(),
                                                      digestingFile: true) { chunk in
                writes += 1
                if writes == failWrite { throw CocoaError(.fileWriteOutOfSpace) }
                written += chunk
            }
            do { try opened.result() } catch { return (written, .failure(error)) }
            return (written, .success(opened.checked))
        } catch {
            return (written, .failure(error))
        }
    }

    /// What the two passes (`check`, then `decrypt`) say of the same bytes.
    private func openInTwoPasses(_ bytes: [UInt8], expect: SealedFile.Expectation? = nil) -> Result<[UInt8], SealError> {
        var written: [UInt8] = []
        do {
            let checked = try SealedFile.check(reading: reader(bytes), expect: expect ?? expectation(), digestingFile: true)
            try checked.decrypt(reading: reader(bytes), recipientKey: tee) { written += $0 }
            return .success(written)
        } catch {
            return .failure(error)
        }
    }

    func testKeyScheduleAndChunkCipherMatchSwiftCryptoHPKEBothWays() throws {
        let info = SealedFileFormat.info(version: SealedFileFormat.version, manifest: manifest, purpose: .output, id: "report", recipient: "lab")
        let aad = [UInt8](repeating: 0xa5, count: 57)
        let message = pattern(1000)
        // swift-crypto seals chunks 0…2; the library's key schedule and cipher open them.
        var sender = try HPKE.Sender(recipientKey: tee.publicKey, ciphersuite: SealedFileFormat.ciphersuite, info: Data(info))
        let context = try SealedFileHPKE.recipient(privateKey: tee, enc: Array(sender.encapsulatedKey), info: info)
        let opener = try SealedChunkCipher(context, encrypting: false)
        for index in 0..<3 {
            var sealed = Array(try sender.seal(message, authenticating: aad))
            let size = sealed.count - 16
            let ok = sealed.withUnsafeMutableBytes { buffer in
                opener.open(UnsafeRawBufferPointer(buffer), index: index, aad: aad, into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<size]))
            }
            XCTAssertTrue(ok, "chunk \(index)")
            XCTAssertEqual(Array(sealed[..<size]), message, "chunk \(index), decrypted in place")
        }
        // The library seals; swift-crypto's HPKE recipient opens, in order.
        let (enc, ours) = try SealedFileHPKE.sender(recipientKey: tee.publicKey, info: info)
        let sealer = try SealedChunkCipher(ours, encrypting: true)
        var recipient = try HPKE.Recipient(privateKey: tee, ciphersuite: SealedFileFormat.ciphersuite, info: Data(info),
                                           encapsulatedKey: Data(enc))
        for index in 0..<3 {
            var buffer = message + [UInt8](repeating: 0, count: 16)
            let ok = buffer.withUnsafeMutableBytes { out in
                sealer.seal(UnsafeRawBufferPointer(rebasing: out[..<message.count]), index: index, aad: aad, into: out)
            }
            XCTAssertTrue(ok)
            XCTAssertEqual(Array(try recipient.open(buffer, authenticating: aad)), message, "chunk \(index)")
        }
        // A changed tag or associated data does not open.
        var sealed = Array(try sender.seal(message, authenticating: aad))
        sealed[sealed.count - 1] ^= 1
        XCTAssertFalse(sealed.withUnsafeMutableBytes {
            opener.open(UnsafeRawBufferPointer($0), index: 3, aad: aad, into: UnsafeMutableRawBufferPointer(rebasing: $0[..<1000]))
        })
    }

    func testOnePassOpensWhatTheTwoPassesOpenAndDigestsTheFile() throws {
        for version: Int64 in [2, 1] { try assertOnePassOpensWhatTheTwoPassesOpen(version: version) }
    }

    private func assertOnePassOpensWhatTheTwoPassesOpen(version: Int64) throws {
        for (length, chunk, step) in [(0, 1 << 20, Int.max), (1, 1, 1), (300_000, 65_536, 7_001), (3 << 20, 1 << 20, Int.max),
                                      ((1 << 20) + 1, 1 << 20, 65_536), (100_000, 100_000, 99_999), (40 * 4096 + 3, 4096, 5000)] {
            let plaintext = pattern(length)
            let sealed = try seal(plaintext, chunkSize: chunk, version: version)
            let (written, result) = openInOnePass(sealed, step: step)
            let checked = try result.get()
            XCTAssertEqual(checked.header.version, version)
            XCTAssertEqual(written, plaintext, "version \(version): \(length)/\(chunk)/\(step)")
            XCTAssertEqual(checked.fileSHA256, Array(SHA256.hash(data: sealed)))
            XCTAssertEqual(checked.header.length, UInt64(length))
            XCTAssertEqual(try openInTwoPasses(sealed).get(), plaintext)
        }
    }

    func testOnePassRefusesWhatTheTwoPassesRefuseWithTheSameError() throws {
        for version: Int64 in [2, 1] { try assertOnePassRefusesWhatTheTwoPassesRefuse(version: version) }
    }

    private func assertOnePassRefusesWhatTheTwoPassesRefuse(version: Int64) throws {
        // Forty chunks, so that several are decrypted and written before the damage is found.
        let sealed = try seal(pattern(40 * 4096 - 5), chunkSize: 4096, version: version)
        var damaged: [[UInt8]] = []
        for offset in [5, 200, sealed.count / 2, sealed.count - 200, sealed.count - 110, sealed.count - 1] {
            var flipped = sealed
            flipped[offset] ^= 0x01
            damaged.append(flipped)
        }
        damaged += [Array(sealed.prefix(sealed.count - 1)), Array(sealed.prefix(sealed.count / 2)), Array(sealed.prefix(3)), sealed + [0x40]]
        for (number, bytes) in damaged.enumerated() {
            let (_, onePass) = openInOnePass(bytes, step: 3001)
            guard case let .failure(error) = onePass else { XCTFail("damage \(number) opened"); continue }
            guard case let .failure(expected) = openInTwoPasses(bytes) else { XCTFail("damage \(number) opened in two passes"); continue }
            XCTAssertEqual(error, expected, "version \(version): damage \(number)")
        }
        // Another signer, another data id, another recipient's key: the verdict of `check` first.
        let (_, other) = openInOnePass(sealed, expect: expectation(senderKey: P384.Signing.PrivateKey().publicKey))
        XCTAssertEqual(other.failureValue, .badSignature)
        let (_, otherID) = openInOnePass(sealed, expect: expectation(id: "other"))
        XCTAssertEqual(otherID.failureValue, .mismatch(field: "id", expected: "other", found: "genomes"))
        var written = 0
        let opened = try SealedFile.openInOnePass(reading: reader(sealed), recipientKey: P384.KeyAgreement.PrivateKey(),
                                                  expect: expectation()) { _ in written += 1 }
        XCTAssertNil(opened.checked.failure)
        // Version 2's header commits to the key: another key's context is refused before any
        // chunk; version 1 finds out at the first chunk's tag.
        XCTAssertEqual(opened.decryptionFailure, version == 1 ? .chunk(index: 0) : .keyAgreement)
        XCTAssertEqual(written, 0, "nothing that failed to decrypt is written")
    }

    func testAWriteThatFailsStopsTheWritesAndIsAnIOError() throws {
        let plaintext = pattern(10 * 4096)
        for version: Int64 in [2, 1] {
            let sealed = try seal(plaintext, chunkSize: 4096, version: version)
            let (written, result) = openInOnePass(sealed, failWrite: 3)
            guard case .io? = result.failureValue else { return XCTFail("version \(version): \(result)") }
            XCTAssertEqual(written, Array(plaintext.prefix(2 * 4096)), "version \(version): no write after the one that failed")
        }
    }
}

private extension Result {
    var failureValue: Failure? {
        if case let .failure(error) = self { return error }
        return nil
    }
}

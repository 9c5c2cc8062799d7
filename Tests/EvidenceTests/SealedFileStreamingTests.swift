import Crypto
import Foundation
import Manifest
import TestSupport
import XCTest
@testable import Evidence

/// The buffer-based, two-thread streaming seal and open (issue 16), and files sealed before it
/// (format version 1).
final class SealedFileStreamingTests: XCTestCase {
    private let tee = P384.KeyAgreement.PrivateKey()
    private let owner = P384.Signing.PrivateKey()
    private let manifest = ManifestDigest(of: Array("manifest".utf8))

    private func expectation(senderKey: P384.Signing.PublicKey? = nil) -> SealedFile.Expectation {
        .init(manifest: manifest, purpose: .input, id: "genomes", recipient: "tee", sender: "alice",
              senderKey: senderKey ?? owner.publicKey)
    }

    /// A reader factory over `bytes` that returns at most `step` bytes per read, as a pipe would.
    private func reader(_ bytes: [UInt8], step: Int = .max) -> () -> SealedStreamReader {
        { SealedFile.bufferReader(over: bytes, step: step) }
    }

    private func seal(_ plaintext: [UInt8], chunkSize: Int, step: Int = .max) throws -> [UInt8] {
        var sealed: [UInt8] = []
        try SealedFile.seal(reading: reader(plaintext, step: step), length: UInt64(plaintext.count), manifest: manifest, purpose: .input, id: "genomes",
                            recipientName: "tee", recipientKey: tee.publicKey, sender: "alice", senderKey: owner,
                            chunkSize: chunkSize) { sealed += $0 }
        return sealed
    }

    /// Opens with the two-thread path, counting the writes it makes.
    private func open(_ sealed: [UInt8], step: Int = .max, expect: SealedFile.Expectation? = nil) throws -> (plaintext: [UInt8], writes: Int) {
        var plaintext: [UInt8] = []
        var writes = 0
        try SealedFile.open(reading: reader(sealed, step: step), recipientKey: tee, expect: expect ?? expectation()) {
            plaintext += $0
            writes += 1
        }
        return (plaintext, writes)
    }

    private func pattern(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
    }

    func testBufferPathMatchesTheArrayPathAcrossChunkAndReadSizes() throws {
        for (length, chunk, step) in [(0, 1 << 20, Int.max), (1, 1, 1), (300_000, 65_536, 7_001), (3 << 20, 1 << 20, Int.max),
                                      ((1 << 20) + 1, 1 << 20, 65_536), (100_000, 100_000, 99_999)] {
            let plaintext = pattern(length)
            let sealed = try seal(plaintext, chunkSize: chunk, step: step)
            // The in-memory (array) open of the same file agrees, so both paths read one format.
            XCTAssertEqual(try SealedFile.open(sealed, recipientKey: tee, expect: expectation()), plaintext, "\(length)/\(chunk)")
            let opened = try open(sealed, step: step)
            XCTAssertEqual(opened.plaintext, plaintext, "\(length)/\(chunk)/\(step)")
            XCTAssertEqual(opened.writes, max(1, (length + chunk - 1) / chunk), "one write per chunk")
        }
    }

    func testTamperedOrTruncatedFileWritesNothingOnTheTwoThreadPath() throws {
        // Eight chunks, so that the hashing thread runs behind the reads while the damage is found.
        let sealed = try seal(pattern(8 * 65_536 - 5), chunkSize: 65_536)
        var damaged: [[UInt8]] = []
        for offset in [200, sealed.count / 2, sealed.count - 200, sealed.count - 1] {
            var flipped = sealed
            flipped[offset] ^= 0x01
            damaged.append(flipped)
        }
        damaged += [Array(sealed.prefix(sealed.count - 1)), Array(sealed.prefix(sealed.count / 2)), sealed + [0x40]]
        for (number, bytes) in damaged.enumerated() {
            var writes = 0
            XCTAssertThrowsError(try SealedFile.open(reading: reader(bytes, step: 4_099), recipientKey: tee, expect: expectation()) { _ in
                writes += 1
            }, "damage \(number)")
            XCTAssertEqual(writes, 0, "damage \(number): plaintext reached the writer")
        }
        // Signed by another key: the check pass keeps the verdict, decrypt refuses before writing.
        let checked = try SealedFile.check(reading: reader(sealed), expect: expectation(senderKey: P384.Signing.PrivateKey().publicKey))
        XCTAssertEqual(checked.failure, .badSignature)
        var writes = 0
        XCTAssertThrowsError(try checked.decrypt(reading: reader(sealed), recipientKey: tee) { _ in writes += 1 }) {
            XCTAssertEqual($0 as? SealError, .badSignature)
        }
        XCTAssertEqual(writes, 0)
    }

    func testCheckDigestsExactlyTheBytesItRead() throws {
        // Version 2 always (its signature covers the file's SHA-256); version 1 when asked.
        let plaintext = pattern(200_000)
        let v1 = try SealedFile.seal(plaintext, manifest: manifest, purpose: .input, id: "genomes", recipientName: "tee",
                                     recipientKey: tee.publicKey, sender: "alice", senderKey: owner, chunkSize: 65_536, version: 1)
        for (sealed, digesting) in [(try seal(plaintext, chunkSize: 65_536), false), (v1, true)] {
            let checked = try SealedFile.check(reading: reader(sealed, step: 10_007), expect: expectation(), digestingFile: digesting)
            XCTAssertNil(checked.failure)
            XCTAssertEqual(checked.fileSHA256, Array(SHA256.hash(data: sealed)))
            XCTAssertEqual(checked.header.length, 200_000)
        }
        let undigested = try SealedFile.check(reading: reader(v1), expect: expectation())
        XCTAssertNil(undigested.fileSHA256, "version 1 without digestingFile")
    }

    func testSealReadsOncePerChunkAndReportsProgressInOrder() throws {
        let plaintext = pattern(5 * 65_536 + 3)
        var sealed: [UInt8] = []
        var sealing: [SealedFileProgress] = []
        var passes = 0
        let result = try SealedFile.seal(reading: { passes += 1; return SealedFile.bufferReader(over: plaintext) }, length: UInt64(plaintext.count),
                                         manifest: manifest, purpose: .input, id: "genomes", recipientName: "tee", recipientKey: tee.publicKey,
                                         sender: "alice", senderKey: owner, chunkSize: 65_536, progress: { sealing.append($0) },
                                         write: { sealed += $0 })
        XCTAssertEqual(passes, 1, "one pass over the plaintext")
        XCTAssertEqual(sealing.map(\.phase), Array(repeating: .encrypting, count: 6), "one report per chunk")
        XCTAssertEqual(sealing.last?.done, UInt64(plaintext.count))
        XCTAssertEqual(result.fileSHA256, Array(SHA256.hash(data: sealed)), "the sealed file's SHA-256, from the signature's hash")
        XCTAssertNil(result.plaintextSHA256, "not asked for")
        var opening: [SealedFileProgress] = []
        try SealedFile.open(reading: reader(sealed), recipientKey: tee, expect: expectation(), progress: { opening.append($0) }) { _ in }
        XCTAssertEqual(opening.map(\.phase), Array(repeating: .verifying, count: 6) + Array(repeating: .decrypting, count: 6))
        XCTAssertEqual(opening.last?.done, UInt64(plaintext.count))
    }

    func testAReaderThatFailsIsAnIOErrorAndNothingIsWritten() {
        let failing: () -> SealedStreamReader = { { _ in throw CocoaError(.fileReadUnknown) } }
        var writes = 0
        XCTAssertThrowsError(try SealedFile.seal(reading: failing, length: 10, manifest: manifest, purpose: .input, id: "genomes",
                                                 recipientName: "tee", recipientKey: tee.publicKey, sender: "alice",
                                                 senderKey: owner) { _ in writes += 1 }) {
            guard case .io? = $0 as? SealError else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(writes, 0)
    }

    // MARK: Files sealed before issue 16

    /// `Tests/Fixtures/sealed-v1`: files sealed with `twocvm seal` as it was before the
    /// streaming rewrite (commit 6b3fa94), with the simulated VM's TEE key that opens them.
    private struct Fixture {
        static let directory = TestPaths.repositoryRoot.appendingPathComponent("Tests/Fixtures/sealed-v1")
        let tee: P384.KeyAgreement.PrivateKey
        let expect: SealedFile.Expectation

        init() throws {
            func text(_ name: String) throws -> String {
                try String(contentsOf: Self.directory.appendingPathComponent(name), encoding: .utf8)
            }
            tee = try P384.KeyAgreement.PrivateKey(pemRepresentation: try text("tee-hpke.key"))
            let digest = try XCTUnwrap(ManifestDigest(try text("manifest-digest.txt").trimmingCharacters(in: .whitespacesAndNewlines)))
            expect = .init(manifest: digest, purpose: .input, id: "blob", recipient: "tee", sender: "bench",
                           senderKey: try P384.Signing.PublicKey(pemRepresentation: try text("owner-signing.pub.pem")))
        }

        func bytes(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: Self.directory.appendingPathComponent(name))) }
    }

    func testFilesSealedByThePreviousReleaseStillOpen() throws {
        let fixture = try Fixture()
        // name → (plaintext length, SHA-256 of the plaintext), recorded when the fixture was made.
        let lines = try String(contentsOf: Fixture.directory.appendingPathComponent("plaintexts.txt"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(lines.count, 3)
        for line in lines {
            let (name, length, sha256) = (line[0], Int(line[1])!, line[2])
            let sealed = try fixture.bytes(name)
            var plaintext: [UInt8] = []
            var hash = SHA256()
            let opened = try SealedFile.open(reading: reader(sealed, step: 65_536), recipientKey: fixture.tee, expect: fixture.expect) {
                plaintext += $0
                hash.update(bufferPointer: $0)
            }
            XCTAssertEqual(plaintext.count, length, name)
            XCTAssertEqual(Hex.encode(Array(hash.finalize())), sha256, name)
            XCTAssertEqual(opened.header.length, UInt64(length))
            XCTAssertEqual(try SealedFile.open(sealed, recipientKey: fixture.tee, expect: fixture.expect), plaintext, name)
            // And still only as it was sealed: one flipped bit in the last chunk is refused.
            var flipped = sealed
            flipped[sealed.count - 120] ^= 0x04
            XCTAssertThrowsError(try SealedFile.open(flipped, recipientKey: fixture.tee, expect: fixture.expect), name)
        }
    }

    func testTheNewSealerDiffersFromThePreviousReleaseOnlyByVersion() throws {
        // Sealing is randomised (HPKE ephemeral key), so compare structure: for the same
        // plaintext, the same header fields and chunk sizes, but version 2 and no `sha256`.
        let fixture = try Fixture()
        let old = try fixture.bytes("two-chunks.sealed")
        var offset = 0
        let oldHeader = try SealedFileFormat.decodeHeader(Array(old[try SealedFileFormat.readByteString(old, at: &offset, limit: 4096, what: "h")]))
        let plaintext = try SealedFile.open(old, recipientKey: fixture.tee, expect: fixture.expect)
        var resealed: [UInt8] = []
        try SealedFile.seal(reading: reader(plaintext), length: UInt64(plaintext.count), manifest: fixture.expect.manifest, purpose: .input, id: "blob",
                            recipientName: "tee", recipientKey: fixture.tee.publicKey, sender: "bench",
                            senderKey: P384.Signing.PrivateKey()) { resealed += $0 }
        // `commit` replaces `sha256`: a key of 1 + 6 bytes and a value of 2 + 32 bytes each.
        XCTAssertEqual(resealed.count, old.count, "the same framing, the same size")
        offset = 0
        var newHeader = try SealedFileFormat.decodeHeader(Array(resealed[try SealedFileFormat.readByteString(resealed, at: &offset, limit: 4096, what: "h")]))
        XCTAssertEqual(oldHeader.version, 1)
        XCTAssertEqual(newHeader.version, 2)
        XCTAssertNil(newHeader.sha256)
        XCTAssertNil(oldHeader.commitment)
        XCTAssertEqual(newHeader.commitment?.count, 32)
        XCTAssertEqual(oldHeader.sha256, Array(SHA256.hash(data: plaintext)))
        newHeader.encapsulatedKey = oldHeader.encapsulatedKey
        newHeader.version = 1
        newHeader.sha256 = oldHeader.sha256
        newHeader.commitment = nil
        XCTAssertEqual(newHeader, oldHeader)
    }
}

import CBOR
import Crypto
import Foundation
import Manifest
import XCTest
@testable import Evidence

/// Sealed files (SPEC §8, Docs/formats.md): round trips, every refusal the acceptance criteria
/// name (the independent opening with pyhpke is in SealedFilePythonTests).
final class SealedFileTests: XCTestCase {
    private let tee = P384.KeyAgreement.PrivateKey()
    private let owner = P384.Signing.PrivateKey()
    private let manifest = ManifestDigest(of: Array("manifest".utf8))

    private func seal(_ plaintext: [UInt8], chunkSize: Int = 1 << 20, id: String = "genomes",
                      purpose: SealPurpose = .input, manifest: ManifestDigest? = nil,
                      senderKey: P384.Signing.PrivateKey? = nil, version: Int64 = SealedFileFormat.version) throws -> [UInt8] {
        try SealedFile.seal(plaintext, manifest: manifest ?? self.manifest, purpose: purpose, id: id,
                            recipientName: "tee", recipientKey: tee.publicKey, sender: "alice",
                            senderKey: senderKey ?? owner, chunkSize: chunkSize, version: version)
    }

    private func expectation(id: String = "genomes", purpose: SealPurpose = .input, manifest: ManifestDigest? = nil,
                             sender: String = "alice", senderKey: P384.Signing.PublicKey? = nil) -> SealedFile.Expectation {
        .init(manifest: manifest ?? self.manifest, purpose: purpose, id: id, recipient: "tee",
              sender: sender, senderKey: senderKey ?? owner.publicKey)
    }

    private func open(_ bytes: [UInt8], _ expect: SealedFile.Expectation? = nil) throws(SealError) -> [UInt8] {
        try SealedFile.open(bytes, recipientKey: tee, expect: expect ?? expectation())
    }

    private func assertRefused(_ bytes: [UInt8], _ expect: SealedFile.Expectation? = nil, _ expected: SealError? = nil,
                               file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try open(bytes, expect)
            XCTFail("opened a sealed file that must be refused", file: file, line: line)
        } catch {
            if let expected { XCTAssertEqual(error, expected, file: file, line: line) }
        }
    }

    func testRoundTripAcrossChunkSizes() throws {
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        for (length, chunk) in [(0, 1), (0, 64), (1, 1), (100, 1), (1000, 7), (1000, 100), (1000, 250), (1000, 1000), (1000, 4096), (999, 1000)] {
            let plaintext = Array(data.prefix(length))
            let sealed = try seal(plaintext, chunkSize: chunk)
            XCTAssertEqual(try open(sealed), plaintext, "length \(length) chunk \(chunk)")
            var offset = 0
            let range = try SealedFileFormat.readByteString(sealed, at: &offset, limit: 4096, what: "header")
            let header = try SealedFileFormat.decodeHeader(Array(sealed[range]))
            XCTAssertEqual(header.chunkCount, max(1, (length + chunk - 1) / chunk))
        }
    }

    func testOneMegabyteDefaultChunksRoundTrip() throws {
        let plaintext = [UInt8](repeating: 0x5a, count: (1 << 20) * 2 + 3)
        XCTAssertEqual(try open(try seal(plaintext)), plaintext)
    }

    func testSealingIsRandomizedPerFile() throws {
        XCTAssertNotEqual(try seal([1, 2, 3]), try seal([1, 2, 3]))
    }

    func testWrongOwnerKeyIsRefused() throws {
        let mallory = P384.Signing.PrivateKey()
        assertRefused(try seal([1, 2, 3], senderKey: mallory), nil, .badSignature)
        assertRefused(try seal([1, 2, 3]), expectation(senderKey: mallory.publicKey), .badSignature)
        assertRefused(try seal([1, 2, 3]), expectation(sender: "bob"),
                      .mismatch(field: "sender", expected: "bob", found: "alice"))
    }

    func testAnotherManifestIsRefused() throws {
        let other = ManifestDigest(of: Array("other".utf8))
        assertRefused(try seal([1, 2, 3], manifest: other), nil,
                      .mismatch(field: "manifest", expected: manifest.description, found: other.description))
    }

    func testReplayForAnotherDataIDIsRefused() throws {
        assertRefused(try seal([1, 2, 3], id: "genomes"), expectation(id: "phenotypes"),
                      .mismatch(field: "id", expected: "phenotypes", found: "genomes"))
    }

    func testWrongPurposeIsRefused() throws {
        assertRefused(try seal([1, 2, 3], purpose: .output), nil,
                      .mismatch(field: "purpose", expected: "input", found: "output"))
    }

    func testWrongRecipientKeyIsRefused() throws {
        for version: Int64 in [2, 1] {
            let sealed = try seal([1, 2, 3], version: version)
            XCTAssertThrowsError(try SealedFile.open(sealed, recipientKey: P384.KeyAgreement.PrivateKey(), expect: expectation())) {
                XCTAssertEqual($0 as? SealError, version == 1 ? .chunk(index: 0) : .keyAgreement, "version \(version)")
            }
        }
    }

    func testVersion2SignaturesHaveTheLowSAndTheHighSIsRefused() throws {
        let n = P384Order.n
        for _ in 0..<8 {
            let sealed = try seal([1, 2, 3])
            let s = Array(sealed.suffix(48))
            XCTAssertTrue(P384Order.isLowS(s))
            // n − s verifies in plain ECDSA, but a version 2 file with it is refused.
            var flipped = Array(sealed.dropLast(48))
            var borrow = 0
            var high = [UInt8](repeating: 0, count: 48)
            for i in stride(from: 47, through: 0, by: -1) {
                var v = Int(n[i]) - Int(s[i]) - borrow
                borrow = v < 0 ? 1 : 0
                if v < 0 { v += 256 }
                high[i] = UInt8(v)
            }
            XCTAssertFalse(P384Order.isLowS(high))
            XCTAssertEqual(P384Order.lowS(high), s)
            flipped += high
            let signature = try P384.Signing.ECDSASignature(rawRepresentation: Array(flipped.suffix(96)))
            let signed = Array("twocvm-sealed/v2 signature".utf8) + Array(SHA256.hash(data: sealed.dropLast(98)))
            XCTAssertTrue(owner.publicKey.isValidSignature(signature, for: signed), "plain ECDSA accepts n − s")
            assertRefused(flipped, nil, .badSignature)
            // The two passes: the second must read the very bytes the first checked (here the
            // same chunks, but the other signature: another file, by its SHA-256).
            let checked = try SealedFile.check(reading: { SealedFile.bufferReader(over: sealed) }, expect: expectation())
            XCTAssertNil(checked.failure)
            XCTAssertThrowsError(try checked.decrypt(reading: { SealedFile.bufferReader(over: flipped) }, recipientKey: tee) { _ in }) {
                XCTAssertEqual($0 as? SealError, .io("sealed file changed while opening"))
            }
        }
    }

    func testEveryFlippedByteIsRefused() throws {
        for version: Int64 in [2, 1] {
            let sealed = try seal(Array("a small secret input".utf8), chunkSize: 8, version: version)
            XCTAssertEqual(try open(sealed), Array("a small secret input".utf8))
            for offset in sealed.indices {
                for mask: UInt8 in [0x01, 0x80] {
                    var altered = sealed
                    altered[offset] ^= mask
                    XCTAssertThrowsError(try open(altered), "version \(version): flip \(mask) at \(offset) of \(sealed.count)")
                }
            }
        }
    }

    func testTruncationExtensionReorderingAndSwapsAreRefused() throws {
        let sealed = try seal(Array(0..<24), chunkSize: 8)
        for cut in [0, 1, sealed.count - 97, sealed.count - 1] { assertRefused(Array(sealed.prefix(cut))) }
        assertRefused(sealed + [0x40])
        // Locate the three chunks (each framed as 0x58 0x18 + 24 bytes) after the header.
        var headerEnd = 0
        _ = try SealedFileFormat.readByteString(sealed, at: &headerEnd, limit: 4096, what: "header")
        let chunks = (0..<3).map { headerEnd + $0 * 26 }
        let chunk = { (i: Int) in Array(sealed[chunks[i]..<(chunks[i] + 26)]) }
        let tail = Array(sealed[(chunks[2] + 26)...])
        let head = Array(sealed[..<headerEnd])
        // Reordered, duplicated, dropped-final: the AEAD sequence number and AAD catch them; the
        // signature is checked first and refuses them too.
        assertRefused(head + chunk(1) + chunk(0) + chunk(2) + tail)
        assertRefused(head + chunk(0) + chunk(0) + chunk(2) + tail)
        assertRefused(head + chunk(0) + chunk(1) + tail)
        // A chunk from another file of the same owner, manifest and id.
        let other = try seal(Array(0..<24), chunkSize: 8)
        assertRefused(head + chunk(0) + Array(other[chunks[1]..<(chunks[1] + 26)]) + chunk(2) + tail)
    }

    /// Splits a sealed file into its header and chunk ciphertexts, and reassembles a file from
    /// a (possibly changed) header and chunks, signed by `key` as the header's version signs
    /// (written out here from Docs/formats.md): the owner attacking their own file can only be
    /// stopped by HPKE info and AEAD bindings, not by the signature.
    private func split(_ sealed: [UInt8]) throws -> (SealedFileHeader, [[UInt8]]) {
        var offset = 0
        let header = try SealedFileFormat.decodeHeader(Array(sealed[try SealedFileFormat.readByteString(sealed, at: &offset, limit: 4096, what: "h")]))
        let chunks = try (0..<header.chunkCount).map { _ in
            Array(sealed[try SealedFileFormat.readByteString(sealed, at: &offset, limit: 1 << 24, what: "c")])
        }
        return (header, chunks)
    }

    private func assemble(_ header: SealedFileHeader, _ chunks: [[UInt8]], key: P384.Signing.PrivateKey) throws -> [UInt8] {
        let headerBytes = SealedFileFormat.encode(header)
        var out: [UInt8] = []
        SealedFileFormat.appendByteStringHead(headerBytes.count, to: &out)
        out += headerBytes
        for chunk in chunks {
            SealedFileFormat.appendByteStringHead(chunk.count, to: &out)
            out += chunk
        }
        var signature: [UInt8]
        if header.version == 1 {
            signature = Array(try key.signature(for: Data(headerBytes + chunks.joined())).rawRepresentation)
        } else {
            signature = Array(try key.signature(for: Data(Array("twocvm-sealed/v2 signature".utf8) + Array(SHA256.hash(data: out))))
                .rawRepresentation)
            signature = Array(signature[..<48]) + P384Order.lowS(Array(signature[48...]))
        }
        SealedFileFormat.appendByteStringHead(96, to: &out)
        return out + signature
    }

    func testReassemblyRoundTripsSoTheFollowingTestsAreMeaningful() throws {
        for version: Int64 in [2, 1] {
            let sealed = try seal(Array(0..<24), chunkSize: 8, version: version)
            let (header, chunks) = try split(sealed)
            XCTAssertEqual(try assemble(header, chunks, key: owner).count, sealed.count)
            XCTAssertEqual(try open(try assemble(header, chunks, key: owner)), Array(0..<24))
        }
    }

    func testResignedReorderingIsRefusedByTheAEAD() throws {
        for version: Int64 in [2, 1] { try assertResignedReorderingRefused(version: version) }
    }

    private func assertResignedReorderingRefused(version: Int64) throws {
        let (header, chunks) = try split(try seal(Array(0..<24), chunkSize: 8, version: version))
        assertRefused(try assemble(header, [chunks[1], chunks[0], chunks[2]], key: owner), nil, .chunk(index: 0))
        assertRefused(try assemble(header, [chunks[0], chunks[2], chunks[1]], key: owner), nil, .chunk(index: 1))
        let (_, otherChunks) = try split(try seal(Array(0..<24), chunkSize: 8, version: version))
        assertRefused(try assemble(header, [chunks[0], otherChunks[1], chunks[2]], key: owner), nil, .chunk(index: 1))
        // Dropping the final chunk and shortening the length: the new last chunk was not sealed as final.
        var short = header
        short.length = 16
        assertRefused(try assemble(short, Array(chunks.prefix(2)), key: owner), nil, .chunk(index: 0))
    }

    func testResignedRelabellingIsRefusedByTheHPKEInfo() throws {
        for version: Int64 in [2, 1] { try assertResignedRelabellingRefused(version: version) }
    }

    private func assertResignedRelabellingRefused(version: Int64) throws {
        let (header, chunks) = try split(try seal(Array(0..<24), chunkSize: 8, version: version))
        // Another info derives another context: version 2 refuses it by the header's key
        // commitment before any chunk, version 1 at the first chunk's tag.
        let otherContext: SealError = version == 1 ? .chunk(index: 0) : .keyAgreement
        var relabelled = header
        relabelled.id = "phenotypes"
        assertRefused(try assemble(relabelled, chunks, key: owner), expectation(id: "phenotypes"), otherContext)
        relabelled = header
        relabelled.manifest = ManifestDigest(of: [1])
        assertRefused(try assemble(relabelled, chunks, key: owner), expectation(manifest: relabelled.manifest), otherContext)
        relabelled = header
        if version == 1 {
            relabelled.sha256 = Array(SHA256.hash(data: [0]))
            assertRefused(try assemble(relabelled, chunks, key: owner), nil, .chunk(index: 0))
        } else {
            // A version 2 file passed off as version 1 (with the plaintext's true SHA-256) and
            // signed as version 1 signs: the HPKE info names the version, so the key differs.
            relabelled.version = 1
            relabelled.sha256 = Array(SHA256.hash(data: Array(0..<24)))
            relabelled.commitment = nil
            assertRefused(try assemble(relabelled, chunks, key: owner), nil, .chunk(index: 0))
            // Chunks sealed under another key of the same sender, with this file's header (and
            // commitment): the commitment does not match that key's context.
            let (otherHeader, _) = try split(try seal(Array(0..<24), chunkSize: 8, version: version))
            relabelled = header
            relabelled.commitment = otherHeader.commitment
            assertRefused(try assemble(relabelled, chunks, key: owner), nil, .keyAgreement)
        }
    }

    func testMalformedHeadersAreRefusedByName() throws {
        var header = try split(try seal([1, 2, 3])).0
        header.chunkSize = 0
        assertRefused(try assemble(header, [], key: owner), nil, .badField("chunk-size", "missing or outside 1...16777216"))
        var map = try XCTUnwrap(CBORDecoder.decode(SealedFileFormat.encode(try split(try seal([1])).0)).mapEntries)
        let version = map.firstIndex { $0.key == .text("version") }!
        map[version].value = .int(3)
        XCTAssertThrowsError(try SealedFileFormat.decodeHeader(CBOR.map(map).encoded())) {
            XCTAssertEqual($0 as? SealError, .unsupportedVersion(3))
        }
        map[version].value = .int(2)
        XCTAssertNoThrow(try SealedFileFormat.decodeHeader(CBOR.map(map).encoded()), "a well-formed version 2 header")
        map.append(.init(.text("extra"), .null))
        XCTAssertThrowsError(try SealedFileFormat.decodeHeader(CBOR.map(map).encoded())) {
            XCTAssertEqual($0 as? SealError, .malformed("header has 13 fields, expected 12"))
        }
        map.removeLast()
        // Each version has its own twelfth field: version 2 `commit`, version 1 `sha256`.
        let commit = map.firstIndex { $0.key == .text("commit") }!
        map[commit] = .init(.text("sha256"), .bytes(Array(repeating: 0, count: 32)))
        XCTAssertThrowsError(try SealedFileFormat.decodeHeader(CBOR.map(map).encoded())) {
            XCTAssertEqual($0 as? SealError, .badField("commit", "missing or not bytes"))
        }
        map[version].value = .int(1)
        XCTAssertNoThrow(try SealedFileFormat.decodeHeader(CBOR.map(map).encoded()), "a well-formed version 1 header")
        map[commit] = .init(.text("commit"), .bytes(Array(repeating: 0, count: 32)))
        XCTAssertThrowsError(try SealedFileFormat.decodeHeader(CBOR.map(map).encoded())) {
            XCTAssertEqual($0 as? SealError, .badField("sha256", "missing or not bytes"))
        }
        // A non-shortest byte-string head is refused.
        var offset = 0
        XCTAssertThrowsError(try SealedFileFormat.readByteString([0x58, 0x01, 0xff], at: &offset, limit: 10, what: "x"))
    }

    /// A reader factory over `bytes` that hands out at most `step` bytes per call.
    private func trickle(_ bytes: [UInt8], step: Int) -> () -> (Int) -> [UInt8] {
        {
            var offset = 0
            return { count in
                let end = min(bytes.count, offset + min(count, step))
                defer { offset = end }
                return Array(bytes[offset..<end])
            }
        }
    }

    /// Seals `plaintext` with the streaming sealer, reading at most `step` bytes per call,
    /// declaring `length` (its own unless given).
    private func sealStreaming(_ plaintext: [UInt8], length: Int? = nil, chunkSize: Int = 1 << 20, step: Int = .max,
                               write: ([UInt8]) -> Void) throws -> SealedFile.Sealed {
        try SealedFile.seal(reading: { SealedFile.bufferReader(over: plaintext, step: step) }, length: UInt64(length ?? plaintext.count),
                            manifest: manifest, purpose: .input, id: "genomes", recipientName: "tee", recipientKey: tee.publicKey,
                            sender: "alice", senderKey: owner, chunkSize: chunkSize, write: { write(Array($0)) })
    }

    func testStreamingSealAndOpenRoundTrip() throws {
        let plaintext = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        for (chunk, step) in [(1000, 7), (4096, 4096), (10_000, 1), (333, 65_536)] {
            var sealed: [UInt8] = []
            let header = try sealStreaming(plaintext, chunkSize: chunk, step: step) { sealed += $0 }.header
            XCTAssertEqual(header.length, 10_000)
            XCTAssertEqual(try open(sealed), plaintext)
            var opened: [UInt8] = []
            var writes = 0
            try SealedFile.open(streaming: trickle(sealed, step: step), recipientKey: tee, expect: expectation()) {
                opened += $0
                writes += 1
            }
            XCTAssertEqual(opened, plaintext)
            XCTAssertEqual(writes, header.chunkCount, "one bounded write per chunk")
        }
    }

    func testStreamingRefusesASourceOfAnotherLengthAndOneThatChangesBetweenPasses() throws {
        // The header declares the length before the plaintext is read: a source that ends
        // early (nothing written: the header waits for the first chunk) or goes on is refused.
        var writes = 0
        XCTAssertThrowsError(try sealStreaming([1, 2, 3], length: 4) { _ in writes += 1 }) {
            XCTAssertEqual($0 as? SealError, .io("the plaintext ended before its 4 bytes (it changed while sealing)"))
        }
        XCTAssertEqual(writes, 0)
        XCTAssertThrowsError(try sealStreaming([1, 2, 3, 4], length: 3) { _ in }) {
            XCTAssertEqual($0 as? SealError, .io("the plaintext is longer than its 3 bytes (it changed while sealing)"))
        }
        XCTAssertThrowsError(try sealStreaming(Array(repeating: 9, count: 2500), length: 2600, chunkSize: 1000) { _ in }) {
            XCTAssertEqual($0 as? SealError, .io("the plaintext ended before its 2600 bytes (it changed while sealing)"))
        }
        let sealed = try seal([1, 2, 3])
        let other = try seal([1, 2, 3])
        var pass = 0
        let swapped = { () -> (Int) -> [UInt8] in
            pass += 1
            return self.trickle(pass == 1 ? sealed : other, step: 100)()
        }
        XCTAssertThrowsError(try SealedFile.open(streaming: swapped, recipientKey: tee, expect: expectation()) { _ in }) {
            XCTAssertEqual($0 as? SealError, .io("sealed file changed while opening"))
        }
    }

    func testChunkAADBindsIndexAndFinality() {
        let digest = [UInt8](repeating: 7, count: 48)
        let aad = SealedFileFormat.aad(headerDigest: digest, index: 0x0102, final: true)
        XCTAssertEqual(aad, digest + [0, 0, 0, 0, 0, 0, 1, 2, 1])
    }
}

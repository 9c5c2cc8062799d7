import COSE
import Crypto
import Foundation
import TestSupport
import XCTest
@testable import Manifest

/// Approvals (SPEC §3): COSE_Sign1 ES384 over the digest, checked by us and by pycose.
final class ApprovalTests: XCTestCase {
    private let fixture = ManifestFixture()

    private func load() throws -> (Manifest, ManifestDigest) {
        let document = ManifestDocument.parse(Array(fixture.text.utf8), fileName: "m.toml")
        return (try XCTUnwrap(document.manifest), try XCTUnwrap(document.digest))
    }

    func testEveryParticipantApproved() throws {
        let (manifest, digest) = try load()
        let fab = try Approval.sign(digest, participantID: "fab", key: fixture.fabSigning)
        let designer = try Approval.sign(digest, participantID: "designer", key: fixture.designerSigning)
        let verdict = Approval.verify([("fab.cose", fab), ("designer.cose", designer)], manifest: manifest, digest: digest)
        XCTAssertTrue(verdict.complete)
        XCTAssertEqual(verdict.approvedBy, ["fab": "fab.cose", "designer": "designer.cose"])
        XCTAssertEqual(verdict.invalid, [])
    }

    func testMissingParticipantIsNamed() throws {
        let (manifest, digest) = try load()
        let fab = try Approval.sign(digest, participantID: "fab", key: fixture.fabSigning)
        let verdict = Approval.verify([("fab.cose", fab)], manifest: manifest, digest: digest)
        XCTAssertFalse(verdict.complete)
        XCTAssertEqual(verdict.missing, ["designer"])
    }

    func testEveryFlippedBitInvalidatesTheApproval() throws {
        let (manifest, digest) = try load()
        let approval = try Approval.sign(digest, participantID: "fab", key: fixture.fabSigning)
        for offset in approval.indices {
            for bit in [0, 7] {
                var tampered = approval
                tampered[offset] ^= UInt8(1 << bit)
                let verdict = Approval.verify([("t.cose", tampered)], manifest: manifest, digest: digest)
                XCTAssertNil(verdict.approvedBy["fab"], "flip at byte \(offset) bit \(bit) still approved")
                XCTAssertEqual(verdict.missing, ["fab", "designer"])
            }
        }
    }

    func testApprovalSignedWithAnotherKeyOrForAnotherManifestIsInvalid() throws {
        let (manifest, digest) = try load()
        let impostor = try Approval.sign(digest, participantID: "fab", key: P384.Signing.PrivateKey())
        let other = ManifestDigest(of: [1, 2, 3])
        let stale = try Approval.sign(other, participantID: "designer", key: fixture.designerSigning)
        let stranger = try Approval.sign(digest, participantID: "mallory", key: P384.Signing.PrivateKey())
        let verdict = Approval.verify([("impostor.cose", impostor), ("stale.cose", stale), ("stranger.cose", stranger),
                                       ("garbage.cose", [0xFF, 0x00])], manifest: manifest, digest: digest)
        XCTAssertEqual(verdict.missing, ["fab", "designer"])
        XCTAssertEqual(verdict.invalid.map(\.file), ["impostor.cose", "stale.cose", "stranger.cose", "garbage.cose"])
        XCTAssertTrue(verdict.invalid[0].reason.contains("signature does not verify"))
        XCTAssertTrue(verdict.invalid[1].reason.contains("another manifest"))
        XCTAssertTrue(verdict.invalid[2].reason.contains("not a participant"))
        XCTAssertTrue(verdict.invalid[3].reason.contains("malformed"))
    }

    func testApprovalHasTheSpecifiedHeaders() throws {
        let (_, digest) = try load()
        let message = try COSESign1.decode(try Approval.sign(digest, participantID: "fab", key: fixture.fabSigning))
        XCTAssertEqual(message.algorithm, -35)
        XCTAssertEqual(message.contentType, "application/twocvm-manifest-digest")
        XCTAssertEqual(message.protectedHeader[int: COSESign1.HeaderLabel.keyID], .bytes(Array("fab".utf8)), "the kid is signed")
        XCTAssertEqual(message.unprotectedHeader, .map([]))
        XCTAssertEqual(message.payload, digest.bytes)
        XCTAssertEqual(message.signature.count, 96)
    }

    func testAnApprovalWithAnUnprotectedKidIsRefused() throws {
        let (manifest, digest) = try load()
        // A valid fab signature whose kid sits in the unprotected header, where anyone could change it.
        let loose = try COSESign1.sign(payload: digest.bytes, contentType: Approval.contentType, keyID: Array("fab".utf8),
                                       key: fixture.fabSigning, protectKeyID: false).encoded()
        let verdict = Approval.verify([("loose.cose", loose)], manifest: manifest, digest: digest)
        XCTAssertEqual(verdict.missing, ["fab", "designer"])
        XCTAssertTrue(verdict.invalid.first?.reason.contains("no protected kid") ?? false, "\(verdict.invalid)")
    }

    func testPycoseVerifiesOurApproval() throws {
        let (_, digest) = try load()
        let approval = try Approval.sign(digest, participantID: "fab", key: fixture.fabSigning)
        let script = """
            import sys
            from cryptography.hazmat.primitives.serialization import load_pem_public_key
            from pycose.messages import Sign1Message
            from pycose.keys import EC2Key
            from pycose.keys.curves import P384
            msg = Sign1Message.decode(bytes.fromhex(sys.argv[1]))
            pub = load_pem_public_key(sys.argv[2].encode()).public_numbers()
            msg.key = EC2Key(crv=P384, x=pub.x.to_bytes(48, "big"), y=pub.y.to_bytes(48, "big"))
            print(msg.verify_signature(), msg.payload.hex(), msg.phdr)
            """
        let output = try PythonReference.run(script, [Hex.encode(approval), fixture.fabSigning.publicKey.pemRepresentation])
        XCTAssertTrue(output.hasPrefix("True \(Hex.encode(digest.bytes))"), output)
        XCTAssertTrue(output.contains("application/twocvm-manifest-digest"), output)
        var tampered = approval
        tampered[tampered.count - 1] ^= 1
        let rejected = try PythonReference.run(script, [Hex.encode(tampered), fixture.fabSigning.publicKey.pemRepresentation])
        XCTAssertTrue(rejected.hasPrefix("False"), rejected)
    }
}

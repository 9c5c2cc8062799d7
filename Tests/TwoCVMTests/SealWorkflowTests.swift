import Crypto
import Evidence
import Foundation
import Manifest
import SNP
import XCTest
@testable import TwoCVM

/// `seal`: only to a verified TEE key, only as the data's owner, only the pinned plaintext.
final class SealWorkflowTests: XCTestCase {
    private var directory: String!
    private var manifest: String!
    private var reference: String!
    private let nonce = [UInt8](repeating: 0x42, count: 32)

    override func setUpWithError() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("twocvm-seal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        directory = url.path
    }

    /// A manifest whose participant `fab` has the keys in `directory/fab`, pinning `pinned` for data `wafer-maps`.
    private func setUp(pinned: [UInt8]? = nil) throws -> (evidence: String, root: String) {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Examples/two-party/manifest.toml")
        var text = try String(contentsOf: example, encoding: .utf8)
        let keys = try ParticipantKeys.generate(into: "\(directory!)/fab")
        let start = text.range(of: "id = \"fab\"")!.upperBound
        let keyStart = text.range(of: "signing_key = \"\"\"\n", range: start..<text.endIndex)!.upperBound
        let keyEnd = text.range(of: "\n\"\"\"", range: keyStart..<text.endIndex)!.lowerBound
        text.replaceSubrange(keyStart..<keyEnd, with: keys.signingKey.publicKey.pemRepresentation)
        if let pinned {
            text = text.replacingOccurrences(of: "id = \"wafer-maps\"\nowner = \"fab\"",
                                             with: "id = \"wafer-maps\"\nowner = \"fab\"\ndigest = \"\(ContentDigest(of: pinned))\"")
        }
        manifest = "\(directory!)/manifest.toml"
        try Data(text.utf8).write(to: URL(fileURLWithPath: manifest))
        reference = "\(directory!)/ref.json"
        let launch = ReferenceValues.Launch(vcpus: 1, vcpuType: "EPYC-v4", vcpuSignature: nil, guestFeatures: "0x1", vmm: "QEMU",
                                            firmwareDigest: String(repeating: "cd", count: 48))
        try ReferenceValuesWorkflow.record(.init(measurement: try LaunchDigest(bytes: [UInt8](repeating: 7, count: 48)), launch: launch),
                                           manifestAt: manifest, to: reference)
        try SimulatorWorkflow.launch(statePath: "\(directory!)/vm", referencePath: reference, manifestPath: manifest)
        let evidence = "\(directory!)/ev.cbor"
        _ = try AttestWorkflow.attest(manifestPath: manifest, nonce: nonce, output: evidence, platform: .simulated, statePath: "\(directory!)/vm")
        return (evidence, try SimulatorWorkflow.rootPath(statePath: "\(directory!)/vm"))
    }

    private func seal(_ evidence: String, root: String?, plaintext: [UInt8], key: String = "fab") throws -> String {
        let input = "\(directory!)/plain", output = "\(directory!)/wafer-maps.sealed"
        try Data(plaintext).write(to: URL(fileURLWithPath: input))
        _ = try SealWorkflow.seal(evidencePath: evidence, manifestPath: manifest, referencePath: reference, nonce: nonce,
                                  dataID: "wafer-maps", inputPath: input, keyDirectory: "\(directory!)/\(key)", output: output,
                                  trustRootPath: root, options: ValidationOptions())
        return output
    }

    func testSealedInputOpensWithTheVMsTEEKeyOnly() throws {
        let (evidence, root) = try setUp()
        let plaintext = Array("lot,wafer,x,y,bin\n".utf8) + (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let sealed = try FileIO.read(try seal(evidence, root: root, plaintext: plaintext), limit: 1 << 24)
        let tee = try StateDirectory("\(directory!)/vm").teeKeys()
        let manifestKey = try ManifestWorkflow.load(manifest).manifest.participant("fab")!.signingKey
        let expect = SealedFile.Expectation(manifest: try ManifestWorkflow.load(manifest).digest, purpose: .input, id: "wafer-maps",
                                            recipient: "tee", sender: "fab", senderKey: manifestKey)
        XCTAssertEqual(try SealedFile.open(sealed, recipientKey: tee.hpke, expect: expect), plaintext)
        XCTAssertThrowsError(try SealedFile.open(sealed, recipientKey: P384.KeyAgreement.PrivateKey(), expect: expect))
    }

    func testUnverifiedEvidenceIsNeverSealedTo() throws {
        let (evidence, _) = try setUp()
        XCTAssertThrowsError(try seal(evidence, root: nil, plaintext: [1, 2, 3])) { error in
            guard case SealWorkflowError.evidenceNotVerified(let failed) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(failed.contains("platform"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory!)/wafer-maps.sealed"))
    }

    func testOnlyTheOwnerMaySealAndOnlyThePinnedPlaintext() throws {
        let pinned = Array("the real wafer maps".utf8)
        let (evidence, root) = try setUp(pinned: pinned)
        try ParticipantKeys.generate(into: "\(directory!)/mallory")
        XCTAssertThrowsError(try seal(evidence, root: root, plaintext: pinned, key: "mallory")) { error in
            guard case SealWorkflowError.notTheOwner = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try seal(evidence, root: root, plaintext: Array("other maps".utf8))) { error in
            guard case SealWorkflowError.digestMismatch = error else { return XCTFail("\(error)") }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory!)/wafer-maps.sealed"), "nothing left behind")
        XCTAssertNoThrow(try seal(evidence, root: root, plaintext: pinned))
    }
}

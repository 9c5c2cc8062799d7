import Crypto
import Evidence
import Foundation
import Manifest
import SNP
import TestSupport
import XCTest
@testable import TwoCVM

/// Sealed `run` and `open` (SPEC §8): inputs refused before any component runs, outputs only for
/// their recipients, receipts that bind every byte.
final class SealedRunWorkflowTests: XCTestCase {
    /// A two-stage plan for `lab` (owner of `notes`, sole recipient of `report`) and `partner`,
    /// a simulated VM attested for it, and `notes` sealed by the lab.
    private struct Story {
        let fixture: PlanFixture
        let plan: String
        let state: String
        let evidence: String
        let root: String
        let inputs: String
        let out: String
        let manifestDigest: ManifestDigest
        let plaintext: [UInt8]

        func keys(_ id: String) -> String { fixture.root.appendingPathComponent("keys/\(id)").path }
    }

    private let nonce = [UInt8](repeating: 0x5c, count: 32)

    private func story(runtimeLock: Bool = false) throws -> Story {
        let limits = Components.limits
        let fixture = try PlanFixture(self, participants: ["lab", "partner"],
                                      components: [("first", Components.copy("notes", to: "mid", suffix: "+1"), limits),
                                                   ("second", Components.copy("mid", to: "report", suffix: "+2"), limits)],
                                      body: PlanFixture.twoStagePipeline)
        let directory = fixture.root.path
        let plan = "\(directory)/plan.cbor"
        try FileIO.writeAtomically(PlanCoding.encode(try fixture.compose()), to: plan)
        let reference = "\(directory)/ref.json", state = "\(directory)/vm", evidence = "\(directory)/ev.cbor"
        let launch = ReferenceValues.Launch(vcpus: 1, vcpuType: "EPYC-v4", vcpuSignature: nil, guestFeatures: "0x1", vmm: "QEMU",
                                            firmwareDigest: String(repeating: "ab", count: 48))
        try ReferenceValuesWorkflow.record(.init(measurement: try LaunchDigest(bytes: [UInt8](repeating: 3, count: 48)), launch: launch),
                                           manifestAt: fixture.manifest, to: reference)
        try SimulatorWorkflow.launch(statePath: state, referencePath: reference, manifestPath: fixture.manifest, runtimeLock: runtimeLock)
        _ = try AttestWorkflow.attest(manifestPath: fixture.manifest, nonce: nonce, output: evidence, platform: .simulated, statePath: state)
        let root = try SimulatorWorkflow.rootPath(statePath: state)
        let plaintext = Array("lab notes, confidential".utf8)
        try Data(plaintext).write(to: URL(fileURLWithPath: "\(directory)/notes.txt"))
        try FileIO.makeDirectory("\(directory)/sealed")
        _ = try SealWorkflow.seal(evidencePath: evidence, manifestPath: fixture.manifest, referencePath: reference, nonce: nonce,
                                  dataID: "notes", inputPath: "\(directory)/notes.txt", keyDirectory: "\(directory)/keys/lab",
                                  output: "\(directory)/sealed/notes.sealed", trustRootPath: root, options: ValidationOptions())
        return Story(fixture: fixture, plan: plan, state: state, evidence: evidence, root: root, inputs: "\(directory)/sealed",
                     out: "\(directory)/results", manifestDigest: try ManifestWorkflow.load(fixture.manifest).digest, plaintext: plaintext)
    }

    @discardableResult
    private func run(_ story: Story, launcher: CountingLauncher = CountingLauncher()) throws -> SealedRunWorkflow.Outcome {
        try SealedRunWorkflow.run(planPath: story.plan, inputsDirectory: story.inputs, outputDirectory: story.out,
                                  statePath: story.state, platform: .simulated, launcher: launcher)
    }

    private func open(_ story: Story, file: String = "report.lab.sealed", as id: String = "lab", receipt: String? = nil,
                      manifest: Bool = false) throws -> [UInt8] {
        let output = "\(story.fixture.root.path)/opened-\(UUID().uuidString)"
        _ = try OpenWorkflow.open(sealedPath: "\(story.out)/\(file)", keyDirectory: story.keys(id),
                                  receiptPath: receipt ?? "\(story.out)/receipt.cose", evidencePath: story.evidence,
                                  manifestPath: manifest ? story.fixture.manifest : nil, trustRootPath: story.root,
                                  options: ValidationOptions(), output: output)
        return try FileIO.read(output, limit: 1 << 20)
    }

    func testSealedRunEqualsTheDevRunAndTheReceiptListsEveryByte() throws {
        let story = try story()
        let descriptors = FileDescriptors.open()
        let outcome = try run(story)
        XCTAssertEqual(FileDescriptors.open(), descriptors, "the inputs' memory files are closed after the run")
        let dev = try PlanRunner(plan: try PlanCoding.load(story.plan), launcher: InProcessLauncher()).run(inputs: ["notes": story.plaintext])
        XCTAssertEqual(try open(story), dev.outputs["report"])
        XCTAssertEqual(try open(story, manifest: true), Array("lab notes, confidential+1+2".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: story.out).sorted(), ["receipt.cose", "report.lab.sealed"],
                       "one sealed file per recipient in `to`, and the receipt")

        // The receipt, checked independently of the workflow that wrote it.
        let tee = try StateDirectory(story.state).teeKeys(create: false)
        let receipt = try Receipt.verify(try FileIO.read("\(story.out)/receipt.cose", limit: 1 << 20), signer: tee.signing.publicKey)
        XCTAssertEqual(receipt, outcome.receipt)
        XCTAssertEqual(receipt.manifest, story.manifestDigest)
        XCTAssertEqual(receipt.plan, Array(SHA384.hash(data: try FileIO.read(story.plan, limit: 1 << 24))))
        XCTAssertEqual(receipt.components.map(\.id), ["first", "second"])
        XCTAssertEqual(receipt.components[0].digest,
                       Array(SHA256.hash(data: try FileIO.read("\(story.fixture.components)/first.wat", limit: 1 << 20))))
        XCTAssertEqual(receipt.inputs, [.init(id: "notes", sha256: Array(SHA256.hash(data: try FileIO.read("\(story.inputs)/notes.sealed", limit: 1 << 20))))])
        XCTAssertEqual(receipt.outputs, [.init(id: "report", recipient: "lab",
                                               sha256: Array(SHA256.hash(data: try FileIO.read("\(story.out)/report.lab.sealed", limit: 1 << 20))))])
        XCTAssertLessThanOrEqual(receipt.start, receipt.end)

        let matches = try ReceiptWorkflow.match([story.plan, "\(story.inputs)/notes.sealed", story.evidence], against: receipt)
        XCTAssertEqual(matches.map(\.listedAs), ["plan", "input notes", nil])
    }

    /// `receipt verify` keeps the error that stopped it: a file that cannot be used (exit 2) is
    /// an input error, a receipt that does not hold (exit 1) a check.
    func testReceiptVerifyKeepsTheInputOrTheCheckError() throws {
        let story = try story()
        _ = try run(story)
        let receipt = "\(story.out)/receipt.cose", missing = "\(story.out)/no-receipt.cose"
        func verify(_ receipt: String, evidence: String? = nil) throws(ReceiptWorkflowError) -> ReceiptWorkflow.Verified {
            try ReceiptWorkflow.verify(receipt: receipt, evidence: evidence ?? story.evidence, trustRoot: story.root, options: ValidationOptions())
        }
        XCTAssertEqual(try verify(receipt).receipt.manifest, story.manifestDigest)
        for (receiptPath, evidence, unreadable) in [(missing, story.evidence, missing), (receipt, missing, missing)] {
            do {
                _ = try verify(receiptPath, evidence: evidence)
                XCTFail("\(unreadable) was read")
            } catch {
                guard case let .input(.file(.unreadable(path, _))) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(path, unreadable)
                XCTAssertEqual(error.exitStatus, .badInput)
            }
        }
        let garbage = "\(story.out)/garbage.cose"
        try FileIO.writeAtomically(Array("not a receipt".utf8), to: garbage)
        do {
            _ = try verify(garbage)
            XCTFail("garbage verified")
        } catch {
            guard case .check(.receipt(path: garbage, _)) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(error.exitStatus, .checkFailed)
            XCTAssertTrue(error.description.hasPrefix("\(garbage): "), error.description)
        }
        do {
            _ = try ReceiptWorkflow.match([story.plan, missing], against: try verify(receipt).receipt)
            XCTFail("a missing file was matched")
        } catch {
            guard case .input(.file(.unreadable(path: missing, _))) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(error.exitStatus, .badInput)
        }
    }

    /// Each bad input is refused by name, no component starts, and nothing is written.
    func testBadSealedInputsAreRefusedBeforeAnyComponentRuns() throws {
        let story = try story()
        let good = try FileIO.read("\(story.inputs)/notes.sealed", limit: 1 << 20)
        let tee = try StateDirectory(story.state).teeKeys(create: false)
        let partnerSigning = try ParticipantKeys.loadSigningKey(from: story.keys("partner"))
        let labSigning = try ParticipantKeys.loadSigningKey(from: story.keys("lab"))
        func sealed(manifest: ManifestDigest? = nil, id: String = "notes", sender: String = "lab",
                    key: P384.Signing.PrivateKey? = nil, to recipient: P384.KeyAgreement.PublicKey? = nil) throws -> [UInt8] {
            try SealedFile.seal(story.plaintext, manifest: manifest ?? story.manifestDigest, purpose: .input, id: id,
                                recipientName: "tee", recipientKey: recipient ?? tee.hpke.publicKey, sender: sender,
                                senderKey: key ?? labSigning)
        }
        var cases: [(String, [UInt8], String)] = [
            ("wrong owner (the partner's key, claiming to be the lab)", try sealed(key: partnerSigning), "signature"),
            ("the partner as sender", try sealed(sender: "partner", key: partnerSigning), "sender"),
            ("for another manifest", try sealed(manifest: ManifestDigest(of: Array("another manifest".utf8))), "manifest"),
            ("replayed from another data id", try sealed(id: "other-notes"), "id"),
            ("sealed to another VM", try sealed(to: P384.KeyAgreement.PrivateKey().publicKey), "key agreement"),
        ]
        for offset in [0, 40, good.count / 2, good.count - 120, good.count - 1] {
            var altered = good
            altered[offset] ^= 0x01
            cases.append(("one byte altered at offset \(offset)", altered, ""))
        }
        cases.append(("truncated by one byte", Array(good.dropLast()), ""))
        let descriptors = FileDescriptors.open()
        for (what, bytes, expected) in cases {
            try FileIO.writeAtomically(bytes, to: "\(story.inputs)/notes.sealed")
            let launcher = CountingLauncher()
            XCTAssertThrowsError(try run(story, launcher: launcher), what) { error in
                guard case let SealedRunError.inputRefused(data, _, reason) = error else { return XCTFail("\(what): \(error)") }
                XCTAssertEqual(data, "notes")
                XCTAssertTrue(expected.isEmpty || "\(reason)".contains(expected), "\(what): \(reason)")
            }
            XCTAssertEqual(launcher.launches, 0, "\(what): no component may start")
            XCTAssertFalse(FileManager.default.fileExists(atPath: story.out), "\(what): nothing written")
            XCTAssertEqual(FileDescriptors.open(), descriptors, "\(what): no memory file of a refused input left open")
        }
        try FileIO.writeAtomically(good, to: "\(story.inputs)/notes.sealed")
        XCTAssertEqual(try run(story).outputs.count, 1, "the intact input still runs")
    }

    func testAPinnedDigestRefusesAnotherPlaintextFromTheOwner() throws {
        let story = try story()
        // The lab pins its notes in a second manifest... simulated here by sealing other bytes
        // under a plan whose data item pins the original: the owner's signature alone is not enough.
        let text = try String(contentsOfFile: story.fixture.manifest, encoding: .utf8)
            .replacingOccurrences(of: "id = \"notes\"\nowner = \"lab\"",
                                  with: "id = \"notes\"\nowner = \"lab\"\ndigest = \"\(ContentDigest(of: Array("something else".utf8)))\"")
        try Data(text.utf8).write(to: URL(fileURLWithPath: story.fixture.manifest))
        for id in ["lab", "partner"] {
            _ = try ManifestWorkflow.sign(story.fixture.manifest, keyDirectory: story.keys(id), participant: id,
                                          output: "\(story.fixture.approvals)/\(id).cose")
        }
        let pinnedPlan = "\(story.fixture.root.path)/pinned-plan.cbor"
        let plan = try story.fixture.compose()
        try FileIO.writeAtomically(PlanCoding.encode(plan), to: pinnedPlan)
        let tee = try StateDirectory(story.state).teeKeys(create: false)
        try FileIO.writeAtomically(try SealedFile.seal(story.plaintext, manifest: plan.manifestDigest, purpose: .input, id: "notes",
                                                       recipientName: "tee", recipientKey: tee.hpke.publicKey, sender: "lab",
                                                       senderKey: try ParticipantKeys.loadSigningKey(from: story.keys("lab"))),
                                   to: "\(story.inputs)/notes.sealed")
        // The VM is locked (HOST_DATA) to the first manifest: the lock refuses the pinned plan first.
        XCTAssertThrowsError(try SealedRunWorkflow.run(planPath: pinnedPlan, inputsDirectory: story.inputs, outputDirectory: story.out,
                                                       statePath: story.state, platform: .simulated, launcher: CountingLauncher())) { error in
            guard case SealedRunError.state(.hostDataMismatch) = error else { return XCTFail("\(error)") }
        }
        // A VM launched for the pinned manifest opens the input, then refuses its plaintext.
        let reference = "\(story.fixture.root.path)/ref2.json"
        let launch = ReferenceValues.Launch(vcpus: 1, vcpuType: "EPYC-v4", vcpuSignature: nil, guestFeatures: "0x1", vmm: "QEMU",
                                            firmwareDigest: String(repeating: "ab", count: 48))
        try ReferenceValuesWorkflow.record(.init(measurement: try LaunchDigest(bytes: [UInt8](repeating: 3, count: 48)), launch: launch),
                                           manifestAt: story.fixture.manifest, to: reference)
        let state = "\(story.fixture.root.path)/vm2"
        try SimulatorWorkflow.launch(statePath: state, referencePath: reference, manifestPath: story.fixture.manifest)
        let keys = try StateDirectory(state).teeKeys()
        try FileIO.writeAtomically(try SealedFile.seal(story.plaintext, manifest: plan.manifestDigest, purpose: .input, id: "notes",
                                                       recipientName: "tee", recipientKey: keys.hpke.publicKey, sender: "lab",
                                                       senderKey: try ParticipantKeys.loadSigningKey(from: story.keys("lab"))),
                                   to: "\(story.inputs)/notes.sealed")
        let launcher = CountingLauncher()
        XCTAssertThrowsError(try SealedRunWorkflow.run(planPath: pinnedPlan, inputsDirectory: story.inputs, outputDirectory: story.out,
                                                       statePath: state, platform: .simulated, launcher: launcher)) { error in
            guard let error = error as? SealedRunError,
                  case let .inputDigestMismatch(data: "notes", path, pinned, found) = error else { return XCTFail("\(error)") }
            // One check (the runner's), reported as the sealed run always reported it: the
            // sealed file's path, both digests, a check that failed (exit 1).
            XCTAssertEqual(path, "\(story.inputs)/notes.sealed")
            XCTAssertEqual(pinned, ContentDigest(of: Array("something else".utf8)).hexDigest)
            XCTAssertEqual(found, ContentDigest(of: story.plaintext).hexDigest)
            XCTAssertEqual(error.exitStatus, .checkFailed)
            XCTAssertEqual(error.description, "\(path): sealed input 'notes' is \(found), but the manifest pins \(pinned)")
        }
        XCTAssertEqual(launcher.launches, 0)
    }

    func testMissingInputsAndMissingTEEKeysAreNamed() throws {
        let story = try story()
        try FileManager.default.removeItem(atPath: "\(story.inputs)/notes.sealed")
        XCTAssertThrowsError(try run(story)) { error in
            guard case SealedRunError.missingInput(data: "notes", _) = error else { return XCTFail("\(error)") }
        }
        // A VM that never attested has no TEE keys: nothing can have been sealed to it.
        unlink("\(story.state)/tee-hpke.key")
        XCTAssertThrowsError(try run(story)) { error in
            guard case SealedRunError.state(.noTEEKeys(state: story.state)) = error else { return XCTFail("\(error)") }
        }
    }

    func testARecipientNotInToCannotOpenAnOutput() throws {
        let story = try story()
        try run(story)
        // The partner is not in `to`: no file was sealed to it, and the lab's copy does not open with its key.
        for manifest in [false, true] {
            XCTAssertThrowsError(try open(story, as: "partner", manifest: manifest)) { error in
                guard case OpenError.wrongKey(_, recipient: "lab") = error else { return XCTFail("\(error)") }
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: story.fixture.root.path).filter { $0.hasPrefix("opened-") }, [],
                       "a refused open writes nothing")
        // A file sealed by someone else than the TEE, even to the lab and listed nowhere, is refused.
        let forged = try SealedFile.seal(Array("forged".utf8), manifest: story.manifestDigest, purpose: .output, id: "report",
                                         recipientName: "lab",
                                         recipientKey: try ParticipantKeys.loadEncryptionKey(from: story.keys("lab")).publicKey,
                                         sender: "tee", senderKey: P384.Signing.PrivateKey())
        try FileIO.writeAtomically(forged, to: "\(story.out)/forged.sealed")
        XCTAssertThrowsError(try open(story, file: "forged.sealed")) { error in
            guard case OpenError.notInReceipt = error else { return XCTFail("\(error)") }
        }
    }

    func testAReceiptWithOneDigestChangedFailsOpen() throws {
        let story = try story()
        let outcome = try run(story)
        let receiptBytes = try FileIO.read("\(story.out)/receipt.cose", limit: 1 << 20)
        let tee = try StateDirectory(story.state).teeKeys(create: false)
        let changed = "\(story.out)/changed.cose"

        // One byte of the listed output digest flipped in the signed receipt: the signature fails.
        let digest = outcome.receipt.outputs[0].sha256
        let at = try XCTUnwrap(findSubsequence(digest, in: receiptBytes))
        var flipped = receiptBytes
        flipped[at + 5] ^= 0x80
        try FileIO.writeAtomically(flipped, to: changed)
        XCTAssertThrowsError(try open(story, receipt: changed)) { error in
            guard case OpenError.receipt(.receipt(_, .signature)) = error else { return XCTFail("\(error)") }
        }

        // The same change, re-signed by the true TEE key: the file is no longer the one listed.
        var entry = outcome.receipt.outputs[0].sha256
        entry[5] ^= 0x80
        let resigned = Receipt(manifest: outcome.receipt.manifest, plan: outcome.receipt.plan, components: outcome.receipt.components,
                               inputs: outcome.receipt.inputs, outputs: [.init(id: "report", recipient: "lab", sha256: entry)],
                               start: outcome.receipt.start, end: outcome.receipt.end)
        try FileIO.writeAtomically(try resigned.signed(by: tee.signing), to: changed)
        XCTAssertThrowsError(try open(story, receipt: changed)) { error in
            guard case OpenError.notInReceipt = error else { return XCTFail("\(error)") }
        }

        // The true receipt signed by another key: refused.
        try FileIO.writeAtomically(try outcome.receipt.signed(by: P384.Signing.PrivateKey()), to: changed)
        XCTAssertThrowsError(try open(story, receipt: changed)) { error in
            guard case OpenError.receipt(.receipt(_, .signature)) = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try open(story), Array("lab notes, confidential+1+2".utf8), "the true receipt still opens it")
    }

    func testASealedRunRefusesAPlanForAnotherManifest() throws {
        let story = try story()
        let otherPlan = try planForAnotherManifest()
        let launcher = CountingLauncher()
        XCTAssertThrowsError(try SealedRunWorkflow.run(planPath: otherPlan, inputsDirectory: story.inputs, outputDirectory: story.out,
                                                       statePath: story.state, platform: .simulated, launcher: launcher)) { error in
            guard case SealedRunError.state(.hostDataMismatch) = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(launcher.launches, 0)
    }

    func testUnderTheRuntimeLockTheLockFileDecides() throws {
        let story = try story(runtimeLock: true)
        XCTAssertEqual(try run(story).lock, .runtime)
        let otherPlan = try planForAnotherManifest()
        let launcher = CountingLauncher()
        XCTAssertThrowsError(try SealedRunWorkflow.run(planPath: otherPlan, inputsDirectory: story.inputs, outputDirectory: "\(story.out)-2",
                                                       statePath: story.state, platform: .simulated, launcher: launcher)) { error in
            guard case SealedRunError.state(.lockedToAnotherManifest) = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(launcher.launches, 0)
    }

    /// The same pipeline under another manifest (other keys, so another digest), as a plan file.
    private func planForAnotherManifest() throws -> String {
        let other = try PlanFixture(self, components: [("first", Components.copy("notes", to: "mid"), Components.limits),
                                                       ("second", Components.copy("mid", to: "report"), Components.limits)],
                                    body: PlanFixture.twoStagePipeline)
        let path = "\(other.root.path)/plan.cbor"
        try FileIO.writeAtomically(PlanCoding.encode(try other.compose()), to: path)
        return path
    }

    private func findSubsequence(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        return (0...(haystack.count - needle.count)).first { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }
}

/// Runs components in process and counts how many were started.
final class CountingLauncher: ComponentLauncher, @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    var launches: Int { lock.withLock { count } }

    func launch(_ job: ComponentJob) throws(ComponentRunError) -> ComponentStatistics {
        lock.withLock { count += 1 }
        return try InProcessLauncher().launch(job)
    }
}

extension SealedRunWorkflowTests {
    /// `open` reads a sealed output once, decrypting into its temporary file while the
    /// signature is checked: a file of many chunks whose last chunk was changed after the first
    /// ones were decrypted and written is refused (listed in a receipt the TEE signed: a bad
    /// signature; not listed: not in the receipt), and neither the output nor a temporary file
    /// is left behind. The intact file, listed the same way, opens.
    func testOpenInOnePassPublishesNothingWhenTheLastChunkWasChanged() throws {
        let story = try story()
        let outcome = try run(story)
        let tee = try StateDirectory(story.state).teeKeys(create: false)
        let lab = try ParticipantKeys.loadEncryptionKey(from: story.keys("lab")).publicKey
        let plaintext = (0..<(12 * 4096 + 5)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        let sealed = try SealedFile.seal(plaintext, manifest: story.manifestDigest, purpose: .output, id: "report", recipientName: "lab",
                                         recipientKey: lab, sender: "tee", senderKey: tee.signing, chunkSize: 4096)
        var tampered = sealed
        tampered[sealed.count - 98 - 10] ^= 0x01  // in the last chunk, just before the signature item
        try FileIO.writeAtomically(sealed, to: "\(story.out)/whole.sealed")
        try FileIO.writeAtomically(tampered, to: "\(story.out)/tampered.sealed")
        let listing = Receipt(manifest: outcome.receipt.manifest, plan: outcome.receipt.plan, components: outcome.receipt.components,
                              inputs: outcome.receipt.inputs,
                              outputs: [.init(id: "report", recipient: "lab", sha256: Array(SHA256.hash(data: sealed))),
                                        .init(id: "report", recipient: "lab", sha256: Array(SHA256.hash(data: tampered)))],
                              start: outcome.receipt.start, end: outcome.receipt.end)
        let receipt = "\(story.out)/listing.cose"
        try FileIO.writeAtomically(try listing.signed(by: tee.signing), to: receipt)

        let root = story.fixture.root.path
        let before = try FileManager.default.contentsOfDirectory(atPath: root)
        XCTAssertThrowsError(try open(story, file: "tampered.sealed", receipt: receipt)) { error in
            guard case OpenError.sealed(_, reason: .badSignature) = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try open(story, file: "tampered.sealed")) { error in
            guard case OpenError.notInReceipt = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), before, "no output, no temporary file")
        XCTAssertEqual(try open(story, file: "whole.sealed", receipt: receipt), plaintext)
    }
}

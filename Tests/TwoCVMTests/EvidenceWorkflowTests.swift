import Evidence
import Foundation
import Manifest
import SNP
import TestSupport
import XCTest
@testable import TwoCVM

/// sim launch → attest → verify on the simulated platform, and every way it must fail.
final class EvidenceWorkflowTests: XCTestCase {
    private var directory: String!
    private var manifest: String!
    private var reference: String!
    private let nonce = (0..<32).map { UInt8($0 &* 7) }

    override func setUpWithError() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("twocvm-evidence-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        directory = url.path
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Examples/two-party/manifest.toml")
        manifest = "\(directory!)/manifest.toml"
        try FileManager.default.copyItem(atPath: example.path, toPath: manifest)
        reference = try makeReference(for: manifest, name: "ref.json")
    }

    /// Reference values with one (seeded random) accepted measurement, a different one per
    /// file name.
    private func makeReference(for manifestPath: String, name: String) throws -> String {
        let path = "\(directory!)/\(name)"
        var random = SplitMix64(seed: name.utf8.reduce(48) { $0 &* 31 &+ UInt64($1) })
        let measurement = try LaunchDigest(bytes: random.bytes(48))
        let launch = ReferenceValues.Launch(vcpus: 4, vcpuType: "EPYC-v4", vcpuSignature: "0x800f12", guestFeatures: "0x1",
                                            vmm: "QEMU", firmwareDigest: String(repeating: "ab", count: 48))
        try ReferenceValuesWorkflow.record(.init(measurement: measurement, launch: launch), manifestAt: manifestPath, to: path)
        return path
    }

    private func attest(state: String = "vm", manifestPath: String? = nil, runtimeLock: Bool = false,
                        launch: Bool = true) throws -> (evidence: String, root: String) {
        let statePath = "\(directory!)/\(state)"
        if launch {
            try SimulatorWorkflow.launch(statePath: statePath, referencePath: reference, manifestPath: manifest, runtimeLock: runtimeLock)
        }
        let evidence = "\(directory!)/\(state)-\(UUID().uuidString).cbor"
        _ = try AttestWorkflow.attest(manifestPath: manifestPath ?? manifest, nonce: nonce, output: evidence,
                                      platform: .simulated, statePath: statePath)
        return (evidence, try SimulatorWorkflow.rootPath(statePath: statePath))
    }

    private func verify(_ evidence: String, manifest: String? = nil, reference: String? = nil, nonce: [UInt8]? = nil,
                        trustRoot: String?) throws -> VerifyWorkflow.Verdict {
        try VerifyWorkflow.verify(evidencePath: evidence, manifestPath: manifest ?? self.manifest, referencePath: reference ?? self.reference,
                                  nonce: nonce ?? self.nonce, trustRootPath: trustRoot, options: ValidationOptions())
    }

    private func failed(_ verdict: VerifyWorkflow.Verdict) -> Set<String> { Set(verdict.checks.filter { !$0.ok }.map(\.name.description)) }

    func testLaunchAttestVerifyPasses() throws {
        let (evidence, root) = try attest()
        let verdict = try verify(evidence, trustRoot: root)
        XCTAssertTrue(verdict.ok, "\(verdict.checks.filter { !$0.ok })")
        XCTAssertEqual(verdict.platform, .simulated)
        XCTAssertEqual(verdict.lock, .launch)
        for name in ["platform", "chain", "signature", "reference-measurement", "manifest-lock", "report-data", "nonce"] {
            XCTAssertTrue(verdict.checks.contains { $0.name == VerifyWorkflow.CheckName(name) && $0.ok }, name)
        }
    }

    func testWrongNonceFailsTheNonceCheck() throws {
        let (evidence, root) = try attest()
        XCTAssertEqual(failed(try verify(evidence, nonce: [UInt8](repeating: 9, count: 32), trustRoot: root)), ["nonce"])
    }

    func testAnotherManifestFails() throws {
        let (evidence, root) = try attest()
        let other = "\(directory!)/other.toml"
        let text = try String(contentsOfFile: manifest, encoding: .utf8).replacingOccurrences(of: "max_bytes = 1_048_576", with: "max_bytes = 2_097_152")
        try Data(text.utf8).write(to: URL(fileURLWithPath: other))
        let otherReference = try makeReference(for: other, name: "other-ref.json")
        let verdict = try verify(evidence, manifest: other, reference: otherReference, trustRoot: root)
        XCTAssertEqual(failed(verdict), ["manifest", "manifest-lock", "report-data", "reference-measurement"])
    }

    func testAnotherReferenceMeasurementFails() throws {
        let (evidence, root) = try attest()
        let otherReference = try makeReference(for: manifest, name: "ref2.json")
        XCTAssertEqual(failed(try verify(evidence, reference: otherReference, trustRoot: root)), ["reference-measurement"])
    }

    func testReportFromAnotherSimulatedVMFailsTheChain() throws {
        let (evidence, _) = try attest(state: "vm-a")
        let (_, otherRoot) = try attest(state: "vm-b")
        XCTAssertTrue(failed(try verify(evidence, trustRoot: otherRoot)).contains("chain"))
    }

    func testSimulatedEvidenceWithoutTrustRootFails() throws {
        let (evidence, _) = try attest()
        let verdict = try verify(evidence, trustRoot: nil)
        XCTAssertFalse(verdict.ok)
        XCTAssertTrue(failed(verdict).isSuperset(of: ["platform", "chain"]), "\(failed(verdict))")
    }

    func testAttestRefusesASecondManifestInTheSameVM() throws {
        _ = try attest()
        let other = "\(directory!)/other.toml"
        let text = try String(contentsOfFile: manifest, encoding: .utf8).replacingOccurrences(of: "max_bytes = 1_048_576", with: "max_bytes = 7")
        try Data(text.utf8).write(to: URL(fileURLWithPath: other))
        XCTAssertThrowsError(try attest(manifestPath: other, launch: false)) { error in
            guard case AttestError.state(.hostDataMismatch) = error else { return XCTFail("\(error)") }
        }
    }

    func testRuntimeLockIsTakenOnceAndReportedAsTheWeakerLock() throws {
        let (evidence, root) = try attest(runtimeLock: true)
        let verdict = try verify(evidence, trustRoot: root)
        XCTAssertTrue(verdict.ok, "\(verdict.checks.filter { !$0.ok })")
        XCTAssertEqual(verdict.lock, .runtime)
        XCTAssertTrue(verdict.checks.first { $0.name == .manifestLock }!.detail.contains("runtime lock"))
        let other = "\(directory!)/other.toml"
        let text = try String(contentsOfFile: manifest, encoding: .utf8).replacingOccurrences(of: "max_bytes = 1_048_576", with: "max_bytes = 7")
        try Data(text.utf8).write(to: URL(fileURLWithPath: other))
        XCTAssertThrowsError(try attest(manifestPath: other, launch: false)) { error in
            guard case AttestError.state(.lockedToAnotherManifest) = error else { return XCTFail("\(error)") }
        }
        XCTAssertNoThrow(try attest(launch: false), "the locked manifest may attest again")
    }

    func testTEEKeysAreCreatedOnceWithMode0600() throws {
        let (first, _) = try attest()
        let second = try attest(launch: false).evidence
        let keys = try [first, second].map { try RuntimeData.parse(canonicalBytes: EvidenceBundle.decode(FileIO.read($0, limit: 1 << 20)).runtimeData) }
        XCTAssertEqual(keys[0].teePublicKey.rawRepresentation, keys[1].teePublicKey.rawRepresentation)
        for file in ["tee-hpke.key", "tee-signing.key"] {
            let mode = try FileManager.default.attributesOfItem(atPath: "\(directory!)/vm/\(file)")[.posixPermissions] as? NSNumber
            XCTAssertEqual(mode?.intValue, 0o600, file)
        }
    }

    func testAFlippedByteAtEveryOffsetOfTheEvidenceFails() throws {
        let (evidence, root) = try attest()
        let bytes = try FileIO.read(evidence, limit: 1 << 20)
        let digest = try ManifestWorkflow.load(manifest).digest
        let values = try ReferenceValuesWorkflow.load(reference)
        let rootPEM = try FileIO.read(root, limit: 1 << 20)
        var accepted: [Int] = [], unreadable = 0, rejected = 0
        for offset in bytes.indices {
            var tampered = bytes
            tampered[offset] ^= 0x01
            guard let bundle = try? EvidenceBundle.decode(tampered) else {
                unreadable += 1  // verify exits 2
                continue
            }
            let verdict = VerifyWorkflow.verify(bundle, digest: digest, reference: values, nonce: nonce, trustRoot: rootPEM,
                                                options: ValidationOptions())
            if verdict.ok { accepted.append(offset) } else { rejected += 1 }
        }
        XCTAssertEqual(accepted, [], "tampered evidence accepted at these offsets")
        // Every offset was checked one way or the other, and most tamperings still decode, so
        // they reach the checks rather than the decoder.
        XCTAssertEqual(unreadable + rejected + accepted.count, bytes.count)
        XCTAssertGreaterThan(rejected, bytes.count * 9 / 10, "\(unreadable) of \(bytes.count) tamperings did not decode")
    }
}

import Foundation
import SNP
import XCTest

@testable import TwoCVM

/// The reference-values file: its format, and how `record` creates, merges and refuses.
/// Manifest digests here are made up (the manifest engine is tested on its own); the CLI
/// tests run the whole path from a real manifest.
final class ReferenceValuesWorkflowTests: XCTestCase {
    private let manifestA = ManifestDigest(bytes: [UInt8](repeating: 0xA1, count: 48))!
    private let manifestB = ManifestDigest(bytes: [UInt8](repeating: 0xB2, count: 48))!

    func testNewFileHoldsHostDataPolicyAndTheMeasurement() throws {
        let path = try temporaryPath()
        let outcome = try ReferenceValuesWorkflow.record(try entry(1), manifest: manifestA, to: path)
        XCTAssertTrue(outcome.created)
        XCTAssertTrue(outcome.added)
        let values = try ReferenceValuesWorkflow.load(path)
        XCTAssertEqual(values.manifestDigest, manifestA.hexDigest)
        XCTAssertEqual(values.hostData, [UInt8](repeating: 0xA1, count: 32))
        XCTAssertEqual(values.guestPolicy, 0x30000)
        XCTAssertNil(values.minimumTCB)
        XCTAssertTrue(values.accepts(try entry(1).measurement))
        XCTAssertFalse(values.accepts(try entry(2).measurement))
    }

    func testSameManifestMergesAndDoesNotDuplicate() throws {
        let path = try temporaryPath()
        try ReferenceValuesWorkflow.record(try entry(1), manifest: manifestA, to: path)
        let second = try ReferenceValuesWorkflow.record(try entry(2), manifest: manifestA, to: path)
        XCTAssertFalse(second.created)
        XCTAssertTrue(second.added)
        let again = try ReferenceValuesWorkflow.record(try entry(2), manifest: manifestA, to: path)
        XCTAssertFalse(again.added)
        XCTAssertEqual(try ReferenceValuesWorkflow.load(path).measurements, [try entry(1), try entry(2)])
    }

    func testOtherManifestConflictingPolicyOrTCBAreRefusedAndLeaveTheFile() throws {
        let path = try temporaryPath()
        let tcb = ReferenceValues.MinimumTCB(try TCBParts(parsing: "bl=3,tee=0,snp=8,ucode=115"))
        try ReferenceValuesWorkflow.record(try entry(1), manifest: manifestA, to: path, minimumTCB: tcb)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ReferenceValuesWorkflow.record(try entry(2), manifest: manifestB, to: path)) {
            guard case .manifestMismatch? = $0 as? ReferenceValuesWorkflowError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try ReferenceValuesWorkflow.record(try entry(2), manifest: manifestA, to: path, guestPolicy: 0x70000)) {
            guard case .guestPolicyMismatch? = $0 as? ReferenceValuesWorkflowError else { return XCTFail("\($0)") }
        }
        let otherTCB = ReferenceValues.MinimumTCB(try TCBParts(parsing: "bl=4,tee=0,snp=8,ucode=115"))
        XCTAssertThrowsError(try ReferenceValuesWorkflow.record(try entry(2), manifest: manifestA, to: path, minimumTCB: otherTCB))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before)
        // The same policy and TCB, given again, are fine.
        XCTAssertNoThrow(try ReferenceValuesWorkflow.record(
            try entry(2), manifest: manifestA, to: path, guestPolicy: 0x30000, minimumTCB: tcb))
    }

    func testFileIsReadableJSONWithSnakeCaseKeys() throws {
        let path = try temporaryPath()
        try ReferenceValuesWorkflow.record(try entry(1), manifest: manifestA, to: path, guestPolicy: 0x30000)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        XCTAssertEqual(Set(json?.keys.map { $0 } ?? []),
                       ["format", "version", "manifest_digest", "host_data", "guest_policy", "measurements"])
        let measurement = (json?["measurements"] as? [[String: Any]])?.first
        XCTAssertEqual(measurement?["measurement"] as? String, try entry(1).measurement.hex)
    }

    func testMalformedFilesAreRefusedNamingTheField() throws {
        let valid = try ReferenceValues(manifestDigest: manifestA.hexDigest, hostData: manifestA.hostData, measurements: [try entry(1)])
        let text = String(decoding: valid.encoded(), as: UTF8.self)
        let cases = [
            (text.replacingOccurrences(of: "\"version\" : 1", with: "\"version\" : 2"), "version 2"),
            (text.replacingOccurrences(of: "\"host_data\" : \"" + String(repeating: "a1", count: 32), with: "\"host_data\" : \"zz"),
             "host_data"),
            // The manifest digest is a digest (HexDigest), not any string.
            (text.replacingOccurrences(of: "sha384:", with: "sha999:"), "manifest_digest"),
            (text.replacingOccurrences(of: "0x30000", with: "0x10000"), "bit 17"),
            (text.replacingOccurrences(of: "\"measurements\"", with: "\"measurement_list\""), "measurements"),
            ("{", "not JSON"),
        ]
        for (bytes, expected) in cases {
            XCTAssertThrowsError(try ReferenceValues.decode(Array(bytes.utf8), path: "ref.json")) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(expected): \(error)")
            }
        }
        XCTAssertEqual(try ReferenceValues.decode(Array(text.utf8), path: "ref.json"), valid)
    }

    func testMinimumTCBIsTheVerifyFlagsComponents() throws {
        let parts = try TCBParts(parsing: "ucode=115,snp=8,tee=0,bl=3,fmc=1")
        XCTAssertEqual(ReferenceValues.MinimumTCB(parts), ReferenceValues.MinimumTCB(bootloader: 3, tee: 0, snp: 8, microcode: 115, fmc: 1))
        XCTAssertEqual(ReferenceValues.MinimumTCB(parts).parts, parts)
    }

    /// `record` keeps the error of the step that failed, and exits as it does.
    func testRecordKeepsTheManifestAndWriteErrors() throws {
        let path = try temporaryPath()
        let missing = (path as NSString).deletingLastPathComponent + "/no-manifest.toml"
        do {
            try ReferenceValuesWorkflow.record(try entry(1), manifestAt: missing, to: path)
            XCTFail("a missing manifest was recorded")
        } catch ReferenceValuesWorkflowError.manifest(.file(let error)) {
            XCTAssertEqual(error, .unreadable(path: missing, reason: "No such file or directory"))
            XCTAssertEqual(ReferenceValuesWorkflowError.manifest(.file(error)).exitStatus, .badInput)
        } catch {
            XCTFail("\(error)")
        }
        let blocked = path + "/under-a-file.json"
        try ReferenceValuesWorkflow.record(try entry(1), manifest: manifestA, to: path)
        XCTAssertThrowsError(try ReferenceValuesWorkflow.record(try entry(1), manifest: manifestA, to: blocked)) {
            guard case let .file(error)? = $0 as? ReferenceValuesWorkflowError, case .unwritable = error else { return XCTFail("\($0)") }
            XCTAssertEqual(($0 as? ReferenceValuesWorkflowError)?.exitStatus, .environment)
        }
        XCTAssertThrowsError(try ReferenceValuesWorkflow.record(try entry(1), manifest: manifestB, to: path + ".new", guestPolicy: 0x10000)) {
            guard case .malformed(.invalidGuestPolicy(0x10000))? = $0 as? ReferenceValuesWorkflowError else { return XCTFail("\($0)") }
        }
    }

    // MARK: Helpers

    private func entry(_ seed: UInt8) throws -> ReferenceValues.AcceptedMeasurement {
        ReferenceValues.AcceptedMeasurement(
            measurement: try LaunchDigest(bytes: [UInt8](repeating: seed, count: 48)),
            launch: ReferenceValues.Launch(
                vcpus: Int(seed), vcpuType: "EPYC-v4", vcpuSignature: "0x800f12", guestFeatures: "0x1", vmm: "QEMU",
                firmwareDigest: String(repeating: "00", count: 48)))
    }

    private func temporaryPath() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("twocvm-ref-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.appendingPathComponent("reference.json").path
    }
}

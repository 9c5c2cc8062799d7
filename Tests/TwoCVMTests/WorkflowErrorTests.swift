import Foundation
import SNP
import TestSupport
import XCTest
@testable import TwoCVM

/// The workflows' typed errors keep the lower target's error (not its text) and exit as it does.
final class WorkflowErrorTests: XCTestCase {
    private var directory: String!
    private let milan = VCPUSignature(rawValue: 0xA00F11)
    private var firmware: String { TestPaths.testData.appendingPathComponent("snp/measure/ovmf_AmdSev_suffix.bin").path }

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory(self).path
    }

    func testLaunchMeasureKeepsTheErrorOfTheStepThatFailed() throws {
        let missing = "\(directory!)/no-such-file"
        do {
            _ = try LaunchMeasureWorkflow.firmwareDigest(ofFirmwareAt: missing)
            XCTFail("a missing firmware was measured")
        } catch {
            XCTAssertEqual(error, .unreadable(path: missing, reason: "No such file or directory"))
        }
        let steps: [(what: String, configuration: LaunchConfiguration, reference: LaunchMeasureWorkflow.Reference?,
                     vmsa: String?, status: ExitStatus)] = [
            ("missing firmware", LaunchConfiguration(firmwarePath: missing, vcpus: 1, vcpuSignature: milan), nil, nil, .badInput),
            ("missing manifest", LaunchConfiguration(firmwarePath: firmware, vcpus: 1, vcpuSignature: milan),
             .init(manifestPath: missing, path: "\(directory!)/ref.json", guestPolicy: nil, minimumTCB: nil, vcpuType: nil), nil, .badInput),
            ("VMSA folder under a file", LaunchConfiguration(firmwarePath: firmware, vcpus: 1, vcpuSignature: milan), nil,
             "\(firmware)/vmsa", .environment),
        ]
        for step in steps {
            do {
                _ = try LaunchMeasureWorkflow.measure(step.configuration, reference: step.reference, vmsaDirectory: step.vmsa)
                XCTFail("\(step.what): measured")
            } catch {
                switch (step.what, error) {
                case ("missing firmware", .measurement(.unreadable(path: missing, _))),
                     ("missing manifest", .reference(.manifest(.file(.unreadable(path: missing, _))))),
                     ("VMSA folder under a file", .vmsa(.unwritable(path: "\(firmware)/vmsa/vmsa0.bin", _))):
                    XCTAssertEqual(error.exitStatus, step.status, step.what)
                default:
                    XCTFail("\(step.what): \(error)")
                }
            }
        }
    }

    func testProbeRunKeepsTheEngineLibraryError() {
        let missing = "\(directory!)/libwasmtime.so"
        do {
            _ = try ChildLockdown.ProbeRun(wasmtimeLibrary: missing)
            XCTFail("a missing engine library was loaded")
        } catch {
            guard case .probeEngine = error else { return XCTFail("\(error)") }
            XCTAssertEqual(error.exitStatus, .environment)
        }
    }
}

import Foundation
import XCTest

@testable import TwoCVM

/// `compose`: approvals, digests, imports, memory, format, and the plan file it writes.
final class ComposeWorkflowTests: XCTestCase {

    private func fixture(first: String = Components.copy("notes", to: "mid"), firstExtra: String = Components.limits,
                         approve: [String]? = nil) throws -> PlanFixture {
        try PlanFixture(self, components: [("first", first, firstExtra),
                                           ("second", Components.copy("mid", to: "report"), Components.limits)],
                        body: PlanFixture.twoStagePipeline, approve: approve)
    }

    func testComposesInChannelOrderAndThePlanRoundTrips() throws {
        // Listed second-first in the manifest: the order still follows the channel.
        let project = try PlanFixture(self, components: [("second", Components.copy("mid", to: "report"), Components.limits),
                                                         ("first", Components.copy("notes", to: "mid"), Components.limits)],
                                      body: PlanFixture.twoStagePipeline)
        let plan = try project.compose()
        XCTAssertEqual(plan.order, ["first", "second"])
        XCTAssertEqual(plan.steps[0].outputs, [PlanStepOutput(name: "mid", maxBytes: 1 << 20, released: false)])
        XCTAssertEqual(plan.steps[1].inputs.map(\.name), ["mid"])
        XCTAssertEqual(plan.steps[1].outputs, [PlanStepOutput(name: "report", maxBytes: 4096, released: true)])
        let bytes = PlanCoding.encode(plan)
        XCTAssertEqual(PlanCoding.encode(try PlanCoding.decode(bytes)), bytes)
    }

    func testMissingApprovalIsRefusedNamingTheParticipant() throws {
        let project = try PlanFixture(self, participants: ["lab", "partner"],
                                      components: [("first", Components.copy("notes", to: "mid"), Components.limits),
                                                   ("second", Components.copy("mid", to: "report"), Components.limits)],
                                      body: PlanFixture.twoStagePipeline, approve: ["lab"])
        XCTAssertThrowsError(try project.compose()) { error in
            guard case let .approvalsIncomplete(missing, _)? = error as? ComposeError else { return XCTFail("\(error)") }
            XCTAssertEqual(missing, ["partner"])
        }
    }

    func testModuleWithAnotherDigestIsRefusedNamingTheFile() throws {
        let project = try fixture()
        try Data("(module)".utf8).write(to: URL(fileURLWithPath: "\(project.components)/first.wat"))
        XCTAssertThrowsError(try project.compose()) { error in
            guard case let .digestMismatch(component: "first", _, _, actual)? = error as? ComposeError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("first.wat"))
            // What to do next: the digest to pin, approve again, measure again.
            XCTAssertTrue("\(error)".contains("digest = \"\(actual)\"") && "\(error)".contains("manifest sign")
                          && "\(error)".contains("launch-measure"), "\(error)")
        }
    }

    func testSocketImportIsRefusedNamingIt() throws {
        let hostile = #"(module (import "wasi_snapshot_preview1" "sock_accept" (func (param i32 i32 i32) (result i32))) (memory (export "memory") 1) (func (export "_start")))"#
        XCTAssertThrowsError(try fixture(first: hostile).compose()) { error in
            XCTAssertTrue("\(error)".contains("wasi_snapshot_preview1.sock_accept"), "\(error)")
            XCTAssertEqual((error as? ComposeError)?.exitStatus, .checkFailed)
        }
    }

    func testUndeclaredGroupIsRefusedAndDeclaredOneAccepted() throws {
        let clock = #"(module (import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i64 i32) (result i32))) (import "wasi_snapshot_preview1" "path_open" (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32))) (memory (export "memory") 1) (func (export "_start")))"#
        XCTAssertThrowsError(try fixture(first: clock).compose()) { error in
            XCTAssertTrue("\(error)".contains(#"clock_time_get: needs wasi = ["clock"]"#), "\(error)")
        }
        XCTAssertNoThrow(try fixture(first: clock, firstExtra: "wasi = [\"clock\"]\n" + Components.limits).compose())
    }

    func testAComponentThatCanCreateNoFileButMustWriteOutputsIsRefused() throws {
        // No path_open import: it can never create /out/<name>, so the run could only fail.
        let mute = #"(module (memory (export "memory") 1) (func (export "_start")))"#
        XCTAssertThrowsError(try fixture(first: mute).compose()) { error in
            guard case .cannotWriteOutputs(component: "first", _, _)? = error as? ComposeError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("imports no wasi_snapshot_preview1.path_open"), "\(error)")
        }
    }

    func testAMalformedFileInTheApprovalsFolderIsRefusedNamingIt() throws {
        let project = try fixture()
        let junk = "\(project.approvals)/junk.cose"
        try Data("not a COSE_Sign1".utf8).write(to: URL(fileURLWithPath: junk))
        XCTAssertThrowsError(try project.compose()) { error in
            guard case let .approvalsIncomplete(missing, invalid)? = error as? ComposeError else { return XCTFail("\(error)") }
            XCTAssertEqual(missing, [])
            XCTAssertEqual(invalid.map(\.file), [junk])
            XCTAssertTrue("\(error)".contains(junk), "\(error)")
        }
    }

    func testComponentModelIsRefusedClearly() throws {
        XCTAssertThrowsError(try fixture(first: "(component)").compose()) { error in
            XCTAssertTrue("\(error)".contains("Component Model"), "\(error)")
        }
    }

    func testInitialMemoryOverTheManifestLimitIsRefused() throws {
        let big = #"(module (memory (export "memory") 32) (func (export "_start")))"#  // 2 MiB > memory_mib = 1
        XCTAssertThrowsError(try fixture(first: big).compose()) { error in
            XCTAssertTrue("\(error)".contains("initial memory"), "\(error)")
        }
    }

    func testTamperedPlanIsRefused() throws {
        var bytes = PlanCoding.encode(try fixture().compose())
        // Raise a fuel limit in place: 10_000_000 is 0x1a 0x00 0x98 0x96 0x80.
        let fuel: [UInt8] = [0x1A, 0x00, 0x98, 0x96, 0x80]
        let at = (0...(bytes.count - fuel.count)).first { Array(bytes[$0..<$0 + fuel.count]) == fuel }!
        bytes[at + 1] = 0x01
        XCTAssertThrowsError(try PlanCoding.decode(bytes)) { error in
            guard case .inconsistent? = error as? PlanError else { return XCTFail("\(error)") }
        }
    }
}

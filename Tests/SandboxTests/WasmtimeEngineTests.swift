import Foundation
import Sandbox
import XCTest

/// What only the compiling engine has: its pinned library, found and refused predictably, and
/// the wall-clock interruption inside the run.
final class WasmtimeEngineTests: XCTestCase {
    func testALibraryWithAnotherDigestIsRefusedNamingBothDigests() throws {
        _ = try Fixtures.wasmtime()
        let impostor = FileManager.default.temporaryDirectory.appendingPathComponent("impostor-\(UUID().uuidString).so")
        try Data("a library of another build".utf8).write(to: impostor)
        defer { try? FileManager.default.removeItem(at: impostor) }
        XCTAssertThrowsError(try WasmtimeLibrary.load(impostor.path)) { error in
            guard case let .wrongDigest(path, expected, actual) = error as? EngineLibraryError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(path, impostor.path)
            XCTAssertEqual(expected, WasmtimeLibrary.pinnedDigest)
            XCTAssertNotEqual(actual, expected)
            XCTAssertTrue("\(error)".contains("make deps"), "\(error)")
        }
    }

    func testAMissingLibraryNamesWhereItLookedAndHowToInstall() {
        let nowhere = "/nonexistent/libwasmtime.so"
        XCTAssertThrowsError(try WasmtimeLibrary.locate(explicit: nowhere, environment: [:], executable: "/usr/bin/twocvm")) { error in
            XCTAssertEqual(error as? EngineLibraryError, .notFound(searched: [nowhere]))
            XCTAssertTrue("\(error)".contains("make deps") && "\(error)".contains(nowhere), "\(error)")
        }
    }

    func testLookupOrderIsFlagThenEnvironmentThenPrefixThenCheckout() {
        let environment = [WasmtimeLibrary.environmentVariable: "/from/env.so"]
        XCTAssertEqual(WasmtimeLibrary.candidates(explicit: "/flag.so", environment: environment, executable: "/opt/x/bin/twocvm"),
                       ["/flag.so"])
        XCTAssertEqual(WasmtimeLibrary.candidates(explicit: nil, environment: environment, executable: "/opt/x/bin/twocvm"),
                       ["/from/env.so"])
        XCTAssertEqual(WasmtimeLibrary.candidates(explicit: nil, environment: [:], executable: "/opt/x/bin/twocvm").first,
                       "/opt/x/lib/twocvm/libwasmtime.so")
    }

    func testAVerifiedFileThatChangesIsNotLoadedByIdentity() throws {
        let library = try Fixtures.wasmtime()
        let other = FileIdentity(device: library.identity.device, inode: library.identity.inode, size: library.identity.size + 1,
                                 modifiedNanoseconds: library.identity.modifiedNanoseconds,
                                 changedNanoseconds: library.identity.changedNanoseconds)
        XCTAssertThrowsError(try WasmtimeLibrary.loadVerified(library.path, identity: other)) { error in
            XCTAssertEqual(error as? EngineLibraryError, .changed(path: library.path))
        }
        XCTAssertNoThrow(try WasmtimeLibrary.loadVerified(library.path, identity: library.identity))
    }

    private static let spin = #"(module (memory (export "memory") 1) (func (export "_start") (loop $l (br $l))))"#

    /// Runs `text` on wasmtime with effectively unlimited fuel and the given wall-clock limit;
    /// checks that it took less than ten seconds.
    private func run(_ text: String, fuel: UInt64 = 1 << 60, wallClockSeconds: Int?) throws -> SandboxResult {
        let start = Date()
        let result = try Sandbox.run(SandboxRequest(
            module: try Fixtures.module(text), arguments: ["spin"], inputs: [:], outputs: [:], capabilities: [],
            limits: SandboxLimits(fuel: fuel, memoryBytes: 1 << 16, wallClockSeconds: wallClockSeconds),
            runtime: .wasmtime(try Fixtures.wasmtime())))
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
        return result
    }

    func testTheWallClockLimitInterruptsRunningCode() throws {
        let result = try run(Self.spin, wallClockSeconds: 1)
        XCTAssertEqual(result.outcome, .timedOut(seconds: 1))
        // The cancelled call left its store readable: a second of spinning burnt millions of units.
        XCTAssertGreaterThan(result.fuelUsed, 10_000_000)
    }

    func testTheWallClockLimitInterruptsAStartFunction() throws {
        // Guest code that runs while the module is instantiated, before any export is called.
        let result = try run(#"(module (memory (export "memory") 1) (func $spin (loop $l (br $l))) (start $spin) (func (export "_start")))"#,
                             wallClockSeconds: 1)
        XCTAssertEqual(result.outcome, .timedOut(seconds: 1))
    }

    func testRunsAfterAnInterruptedOneAreUnaffectedAndFuelStaysExact() throws {
        // The interrupted call's fiber is unwound and freed: the next runs in the same process
        // behave alike, and a run without a deadline ends on its fuel alone.
        for _ in 0..<2 {
            XCTAssertEqual(try run(Self.spin, wallClockSeconds: 1).outcome, .timedOut(seconds: 1))
        }
        let finite = try run(Self.spin, fuel: 50_000_000, wallClockSeconds: nil)
        // Yielding every few million units neither adds fuel nor loses any: the limit holds exactly.
        XCTAssertEqual(finite.outcome, .outOfFuel(limit: 50_000_000))
        XCTAssertEqual(finite.fuelUsed, 50_000_000)
    }

    func testFuelIsMeteredInWasmtimeUnits() throws {
        let module = try Fixtures.module(#"(module (memory (export "memory") 1) (func (export "_start") (local i32) (loop $l (br_if $l (i32.lt_u (local.tee 0 (i32.add (local.get 0) (i32.const 1))) (i32.const 1000))))))"#)
        let request = SandboxRequest(module: module, arguments: ["count"], inputs: [:], outputs: [:], capabilities: [],
                                     limits: SandboxLimits(fuel: 1_000_000, memoryBytes: 1 << 16), runtime: .wasmtime(try Fixtures.wasmtime()))
        let result = try Sandbox.run(request)
        XCTAssertEqual(result.outcome, .ok)
        // 1000 iterations of six metered operators, within a small constant of entry and exit.
        XCTAssertGreaterThanOrEqual(result.fuelUsed, 5_000)
        XCTAssertLessThan(result.fuelUsed, 8_000)
    }
}

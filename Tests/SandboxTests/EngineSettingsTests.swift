import Foundation
import Sandbox
import XCTest

/// Every engine setting (`SandboxEngineSettings`, chosen by `make bench` with TWOCVM_ENGINE)
/// gives the same results, the same fuel and the same refusals; only speed may differ.
final class EngineSettingsTests: XCTestCase {
    private func run(_ module: WasmModule, _ settings: SandboxEngineSettings, inputs: [String: [UInt8]] = [:],
                     outputs: [String: Int], limits: SandboxLimits) throws -> SandboxResult {
        try Sandbox.run(SandboxRequest(module: module, arguments: ["test"], inputs: inputs, outputs: outputs,
                                       capabilities: [], limits: limits, engine: settings))
    }

    func testEverySettingGivesTheSameResultAndFuel() throws {
        let module = try Fixtures.example("rust/lot-summary.wasm")
        let limits = SandboxLimits(fuel: 200_000_000, memoryBytes: 8 << 20)
        let reference = try run(module, .baseline, inputs: ["wafer-maps": Array(Fixtures.sampleWaferMaps.utf8)], outputs: ["lot-summary": 4096],
                                limits: limits)
        XCTAssertEqual(reference.outcome, .ok)
        for (name, settings) in SandboxEngineSettings.named {
            let result = try run(module, settings, inputs: ["wafer-maps": Array(Fixtures.sampleWaferMaps.utf8)], outputs: ["lot-summary": 4096],
                                 limits: limits)
            XCTAssertEqual(result.outcome, .ok, name)
            XCTAssertEqual(result.outputs, reference.outputs, name)
            XCTAssertEqual(result.fuelUsed, reference.fuelUsed, name)
        }
    }

    func testFuelRunsOutUnderEverySetting() throws {
        let module = try Fixtures.module(#"(module (memory (export "memory") 1) (func (export "_start") (loop $l (br $l))))"#)
        for (name, settings) in SandboxEngineSettings.named {
            let result = try run(module, settings, outputs: [:], limits: SandboxLimits(fuel: 100_000, memoryBytes: 1 << 16))
            XCTAssertEqual(result.outcome, .outOfFuel(limit: 100_000), name)
        }
    }

    func testOutOfBoundsAccessTrapsUnderEverySetting() throws {
        // One page of memory under a four-page limit: the access is out of bounds, not at the limit.
        let module = try Fixtures.module(#"(module (memory (export "memory") 1) (func (export "_start") (drop (i32.load (i32.const 65535)))))"#)
        for (name, settings) in SandboxEngineSettings.named {
            let result = try run(module, settings, outputs: [:], limits: SandboxLimits(fuel: 100_000, memoryBytes: 4 << 16))
            guard case let .trap(message) = result.outcome else { XCTFail("\(name): \(result.outcome)"); continue }
            XCTAssertTrue(message.contains("out of bounds"), "\(name): \(message)")
        }
    }

    /// With lazy translation an invalid body is found when first called: the run fails before
    /// any of that body runs, and nothing is released.
    func testInvalidBodyNeverRunsUnderEverySetting() throws {
        var binary = try WasmModule(source: Array(#"""
            (module (memory (export "memory") 1)
              (func $bad (drop (i32.add (i32.const 1) (i32.const 2))))
              (func (export "_start") (call $bad)))
            """#.utf8), name: "m.wat").binary
        let add = binary.lastIndex(of: 0x6A)!  // i32.add
        binary[add - 2] = 0x42                  // first operand: i64.const
        let module = try WasmModule(source: binary, name: "bad.wasm")
        for (name, settings) in SandboxEngineSettings.named {
            let result = try run(module, settings, outputs: ["result": 16], limits: SandboxLimits(fuel: 100_000, memoryBytes: 1 << 16))
            XCTAssertFalse(result.outcome.isSuccess, name)
            XCTAssertTrue(result.outputs.isEmpty, name)
        }
    }

    func testSettingsRoundTripByName() {
        for (name, settings) in SandboxEngineSettings.named {
            XCTAssertEqual(SandboxEngineSettings(name), settings)
            XCTAssertEqual(SandboxEngineSettings(settings.description), settings)
        }
        XCTAssertNil(SandboxEngineSettings("fast"))
        XCTAssertEqual(SandboxEngineSettings.default.description, "lazy/direct/guardPages")
    }
}

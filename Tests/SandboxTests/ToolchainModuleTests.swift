import Foundation
import Sandbox
import XCTest

/// Modules built by real toolchains run unmodified: wasi-libc C (clang), Rust std (rustc
/// wasm32-wasi), and hand-written WebAssembly text.
final class ToolchainModuleTests: XCTestCase {
    func testRustStdModuleRunsUnmodified() throws {
        let module = try Fixtures.example("rust/lot-summary.wasm")
        let result = try Fixtures.run(module, inputs: ["wafer-maps": Array(Fixtures.sampleWaferMaps.utf8)], outputs: ["lot-summary": 4096],
                                      limits: SandboxLimits(fuel: 200_000_000, memoryBytes: 8 << 20))
        XCTAssertEqual(result.outcome, .ok, String(decoding: result.stderr, as: UTF8.self))
        XCTAssertEqual(String(decoding: result.outputs["lot-summary"] ?? [], as: UTF8.self),
                       "lot,dies,pass,yield_pct\nL1,2,1,50.00\nL2,1,1,100.00\n")
    }

    func testCModuleFailsCleanlyOnMalformedInput() throws {
        let module = try Fixtures.example("two-party/components/wafer-parser.wasm")
        let result = try Fixtures.run(module, inputs: ["wafer-maps": Array("not,a,wafer,map\n".utf8)],
                                      outputs: ["die-features": 1 << 20], limits: SandboxLimits(fuel: 100_000_000, memoryBytes: 64 << 20))
        XCTAssertEqual(result.outcome, .exit(code: 1))
        XCTAssertEqual(String(decoding: result.stderr, as: UTF8.self), "wafer-maps:1: unexpected header\n")
    }

    func testWatComponentCountsLines() throws {
        let module = try Fixtures.example("wat/line-count.wat")
        let result = try Fixtures.run(module, inputs: ["text": Array("a\nb\nc\n".utf8)], outputs: ["line-count": 64])
        XCTAssertEqual(result.outcome, .ok)
        XCTAssertEqual(result.outputs["line-count"], Array("3\n".utf8))
    }

    func testClockIsAvailableOnlyWhenGranted() throws {
        let text = """
            (module
              (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
              \(Fixtures.imports) (memory (export "memory") 1) \(Fixtures.helpers)
              (func (export "_start")
                (i32.store8 (i32.const 512) (call $now (i32.const 0) (i64.const 0) (i32.const 520)))
                (call $emit (i32.const 512) (i32.const 1))))
            """
        let module = try Fixtures.module(text)
        XCTAssertThrowsError(try Fixtures.run(module)) { error in
            guard case let .importsRefused(_, violations)? = error as? SandboxError else { return XCTFail("\(error)") }
            XCTAssertEqual(violations, [.notGranted(name: "clock_time_get", group: .clock)])
        }
        let result = try Fixtures.run(module, capabilities: [.clock])
        XCTAssertEqual(result.outputs["result"], [0])
    }
}

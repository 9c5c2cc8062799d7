import Sandbox
import XCTest

/// Hostile modules, each ending in the outcome SPEC §10 promises.
final class EscapeSuiteTests: XCTestCase {
    // errno values of WASI preview 1.
    let noent: UInt8 = 44, notcapable: UInt8 = 76, rofs: UInt8 = 69, access: UInt8 = 2

    func testPathsOutsideTheComponentsOwnInputsAreNotFoundOrDenied() throws {
        let module = try Fixtures.module(Fixtures.probe([
            (3, "mine"),                    // its own input: opens
            (3, "other-components-input"),  // not given to it: not found
            (3, "../etc/passwd"),           // above /in: denied
            (3, "/etc/passwd"),             // absolute: denied
            (3, "../out/result"),           // across to /out: denied
            (4, "../in/mine"),              // from /out back up: denied
            (3, "mine/../../etc/passwd"),   // through a file: not a directory
        ]))
        let result = try Fixtures.run(module, inputs: ["mine": Array("x".utf8)])
        XCTAssertEqual(result.outcome, .ok)
        XCTAssertEqual(result.outputs["result"], [0, noent, notcapable, notcapable, notcapable, notcapable, 54])
    }

    func testInputsAreReadOnly() throws {
        let module = try Fixtures.module("""
            (module \(Fixtures.imports) (memory (export "memory") 1) \(Fixtures.helpers)
              (data (i32.const 1024) "mine") (data (i32.const 1032) "new")
              (func (export "_start")
                ;; write rights on an input, truncate an input, create a file in /in
                (i32.store8 (i32.const 512) (call $open (i32.const 3) (i32.const 1024) (i32.const 4) (i32.const 0) (i64.const 64)))
                (i32.store8 (i32.const 513) (call $open (i32.const 3) (i32.const 1024) (i32.const 4) (i32.const 8) (i64.const 2)))
                (i32.store8 (i32.const 514) (call $open (i32.const 3) (i32.const 1032) (i32.const 3) (i32.const 1) (i64.const 64)))
                (call $emit (i32.const 512) (i32.const 3))))
            """)
        let result = try Fixtures.run(module, inputs: ["mine": [1, 2, 3]])
        XCTAssertEqual(result.outcome, .ok)
        XCTAssertEqual(result.outputs["result"], [rofs, rofs, rofs])
    }

    func testWritingAnUndeclaredOutputFailsTheRunNamingIt() throws {
        let module = try Fixtures.module("""
            (module \(Fixtures.imports) (memory (export "memory") 1) \(Fixtures.helpers)
              (data (i32.const 1024) "exfiltrate")
              (func (export "_start")
                (drop (call $open (i32.const 4) (i32.const 1024) (i32.const 10) (i32.const 1) (i64.const 64)))))
            """)
        let result = try Fixtures.run(module)
        XCTAssertEqual(result.outcome, .undeclaredOutput(name: "exfiltrate"))
        XCTAssertTrue(result.outputs.isEmpty)
    }

    func testOutputOverItsLimitFailsTheRun() throws {
        let module = try Fixtures.module("""
            (module \(Fixtures.imports) (memory (export "memory") 1) \(Fixtures.helpers)
              (func (export "_start") (call $emit (i32.const 0) (i32.const 5000))))
            """)
        let result = try Fixtures.run(module, outputs: ["result": 4096])
        XCTAssertEqual(result.outcome, .outputTooLarge(name: "result", limit: 4096))
        XCTAssertTrue(result.outputs.isEmpty, "nothing is released from a failed run")
    }

    func testInfiniteLoopRunsOutOfFuel() throws {
        let module = try Fixtures.module("""
            (module (memory (export "memory") 1) (func (export "_start") (loop $forever (br $forever))))
            """)
        let result = try Fixtures.run(module)
        XCTAssertEqual(result.outcome, .outOfFuel(limit: Fixtures.limits.fuel))
        XCTAssertGreaterThan(result.fuelUsed, Fixtures.limits.fuel / 2)
    }

    func testMemoryGrowPastTheCeilingIsDenied() throws {
        // Ceiling 2 pages: growing by 10 returns -1 and the memory stays at 1 page.
        let module = try Fixtures.module("""
            (module \(Fixtures.imports) (memory (export "memory") 1) \(Fixtures.helpers)
              (func (export "_start")
                (i32.store (i32.const 512) (memory.grow (i32.const 10)))
                (i32.store (i32.const 516) (memory.size))
                (call $emit (i32.const 512) (i32.const 8))))
            """)
        let result = try Fixtures.run(module)
        XCTAssertEqual(result.outcome, .ok)
        XCTAssertEqual(result.outputs["result"], [0xFF, 0xFF, 0xFF, 0xFF, 1, 0, 0, 0])
    }

    func testGrowingUntilDeniedThenFailingIsTheMemoryLimit() throws {
        let module = try Fixtures.module("""
            (module (memory (export "memory") 1)
              (func (export "_start")
                (loop $grow (br_if $grow (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
                unreachable))
            """)
        let result = try Fixtures.run(module)
        guard case let .memoryLimit(limit, detail) = result.outcome else { return XCTFail("\(result.outcome)") }
        XCTAssertEqual(limit, Fixtures.limits.memoryBytes)
        XCTAssertTrue(detail.contains("unreachable"), detail)
        XCTAssertEqual(result.peakMemoryBytes, Fixtures.limits.memoryBytes)
    }

    func testHugeInitialMemoryIsRefused() throws {
        let module = try Fixtures.module("""
            (module (memory (export "memory") 60000) (func (export "_start")))
            """)
        XCTAssertThrowsError(try Fixtures.run(module)) { error in
            XCTAssertEqual(error as? SandboxError,
                           .initialMemoryTooLarge(module: "hostile.wat", bytes: 60000 * 65536, limit: UInt64(Fixtures.limits.memoryBytes)))
        }
        XCTAssertThrowsError(try Sandbox.check(module, capabilities: [], memoryBytes: Fixtures.limits.memoryBytes))
    }

    func testHugeInitialTableIsRefused() throws {
        let module = try Fixtures.module("""
            (module (memory (export "memory") 1) (table 4000000000 funcref) (func (export "_start")))
            """)
        XCTAssertThrowsError(try Fixtures.run(module)) { error in
            guard case .initialTableTooLarge? = error as? SandboxError else { return XCTFail("\(error)") }
        }
    }

    func testStackExhaustionTrapsAndTheHostSurvives() throws {
        let module = try Fixtures.module("""
            (module (memory (export "memory") 1)
              (func $deeper (param i32) (result i32) (call $deeper (i32.add (local.get 0) (i32.const 1))))
              (func (export "_start") (drop (call $deeper (i32.const 0)))))
            """)
        let result = try Fixtures.run(module, limits: SandboxLimits(fuel: 50_000_000, memoryBytes: 1 << 17))
        guard case let .trap(message) = result.outcome else { return XCTFail("\(result.outcome)") }
        XCTAssertTrue(message.contains("call stack exhausted"), message)
        // Still here: run a well-behaved module afterwards.
        let ok = try Fixtures.module(#"(module (memory (export "memory") 1) (func (export "_start")))"#)
        XCTAssertEqual(try Fixtures.run(ok).outcome, .ok)
    }

    func testTrapIsReportedWithItsMessage() throws {
        let module = try Fixtures.module("""
            (module (memory (export "memory") 1) (func (export "_start") (drop (i32.load (i32.const 70000)))))
            """)
        guard case let .trap(message) = try Fixtures.run(module).outcome else { return XCTFail() }
        XCTAssertTrue(message.contains("out of bounds"), message)
    }

    func testHostileBuffersPointingOutsideMemoryAreFaultsNotCrashes() throws {
        // fd_write with an iovec past the end of memory and a result pointer past the end.
        let module = try Fixtures.module("""
            (module \(Fixtures.imports) (memory (export "memory") 1) \(Fixtures.helpers)
              (func (export "_start")
                (i32.store (i32.const 0) (i32.const 65530))
                (i32.store (i32.const 4) (i32.const 100))
                (i32.store8 (i32.const 512) (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 12)))
                (i32.store8 (i32.const 513) (call $fd_write (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 65535)))
                (i32.store8 (i32.const 514) (call $fd_write (i32.const 1) (i32.const 65535) (i32.const 1000000) (i32.const 12)))
                (call $emit (i32.const 512) (i32.const 3))))
            """)
        let result = try Fixtures.run(module)
        XCTAssertEqual(result.outcome, .ok)
        XCTAssertEqual(result.outputs["result"], [21, 21, 28])  // EFAULT, EFAULT, EINVAL
    }

    func testNonZeroExitIsAFailure() throws {
        let module = try Fixtures.module("""
            (module \(Fixtures.imports) (memory (export "memory") 1)
              (func (export "_start") (call $proc_exit (i32.const 3))))
            """)
        XCTAssertEqual(try Fixtures.run(module).outcome, .exit(code: 3))
    }
}

import Sandbox
import XCTest

/// The import rule: only wasi_snapshot_preview1 functions, in granted groups, never sockets.
final class ImportPolicyTests: XCTestCase {
    private func refusal(_ imports: String, capabilities: SandboxCapabilities = []) -> [ImportViolation]? {
        do {
            let module = try Fixtures.module("(module \(imports) (memory (export \"memory\") 1) (func (export \"_start\")))")
            try Sandbox.check(module, capabilities: capabilities, memoryBytes: 1 << 20)
            return nil
        } catch let SandboxError.importsRefused(_, violations) {
            return violations
        } catch {
            XCTFail("\(error)")
            return nil
        }
    }

    func testSocketsAreNeverAllowed() {
        let violations = refusal(#"(import "wasi_snapshot_preview1" "sock_send" (func (param i32 i32 i32 i32 i32) (result i32)))"#,
                                 capabilities: [.clock, .random])
        XCTAssertEqual(violations, [.forbidden(name: "sock_send", group: .sockets)])
        XCTAssertTrue(violations!.first!.description.contains("wasi_snapshot_preview1.sock_send"))
    }

    func testClockAndRandomNeedTheirCapability() {
        let imports = """
            (import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i64 i32) (result i32)))
            (import "wasi_snapshot_preview1" "random_get" (func (param i32 i32) (result i32)))
            """
        XCTAssertEqual(refusal(imports), [.notGranted(name: "clock_time_get", group: .clock),
                                          .notGranted(name: "random_get", group: .random)])
        XCTAssertEqual(refusal(imports, capabilities: [.clock]), [.notGranted(name: "random_get", group: .random)])
        XCTAssertNil(refusal(imports, capabilities: [.clock, .random]))
    }

    func testForeignModulesUnknownNamesWrongSignaturesAndNonFunctionsAreRefused() {
        let violations = refusal("""
            (import "env" "system" (func (param i32) (result i32)))
            (import "wasi_snapshot_preview1" "fd_exec" (func))
            (import "wasi_snapshot_preview1" "fd_write" (func (param i32) (result i32)))
            (import "wasi_snapshot_preview1" "proc_raise" (func (param i32) (result i32)))
            (import "wasi_snapshot_preview1" "global" (global i32))
            """)
        XCTAssertEqual(violations?.count, 5)
        XCTAssertEqual(violations?[0], .foreignModule(module: "env", name: "system"))
        XCTAssertEqual(violations?[1], .unknownFunction(name: "fd_exec"))
        guard case .wrongSignature(name: "fd_write", _, _)? = violations?[2] else { return XCTFail() }
        XCTAssertEqual(violations?[3], .forbidden(name: "proc_raise", group: .signals))
        XCTAssertEqual(violations?[4], .notAFunction(module: "wasi_snapshot_preview1", name: "global", kind: "global"))
    }

    func testComponentModelBinaryIsRefusedClearly() {
        let component: [UInt8] = [0x00, 0x61, 0x73, 0x6D, 0x0D, 0x00, 0x01, 0x00]
        XCTAssertThrowsError(try WasmModule(source: component, name: "c.wasm")) { error in
            XCTAssertEqual(error as? SandboxError, .componentModel(module: "c.wasm"))
            XCTAssertTrue("\(error)".contains("Component Model"))
        }
        XCTAssertThrowsError(try WasmModule(source: Array(";; text\n(component)".utf8), name: "c.wat")) { error in
            XCTAssertEqual(error as? SandboxError, .componentModel(module: "c.wat"))
        }
    }

    func testInvalidFunctionBodyIsRefusedByFullValidation() throws {
        // Parses, but the body leaves an i64 where an i32 is expected.
        var binary = try WasmModule(source: Array(#"(module (memory (export "memory") 1) (func (export "_start") (drop (i32.add (i32.const 1) (i32.const 2)))))"#.utf8), name: "m.wat").binary
        let add = binary.lastIndex(of: 0x6A)!  // i32.add
        binary[add - 2] = 0x42                  // first operand: i64.const
        let module = try WasmModule(source: binary, name: "bad.wasm")
        XCTAssertThrowsError(try Sandbox.check(module, capabilities: [], memoryBytes: 1 << 20)) { error in
            guard case .invalid(module: "bad.wasm", _)? = error as? SandboxError else { return XCTFail("\(error)") }
        }
    }

    func testGarbageIsNotWebAssembly() {
        XCTAssertThrowsError(try WasmModule(source: Array("hello".utf8), name: "x")) { error in
            XCTAssertEqual(error as? SandboxError, .notWebAssembly(module: "x"))
        }
    }
}

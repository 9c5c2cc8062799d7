import Foundation
import Sandbox
import XCTest

/// Builds the modules the tests run: hostile `.wat` text written here, compiled at test time by
/// the sandbox's own loader (WasmKit's WAT parser), and the committed example binaries.
enum Fixtures {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Small limits keep hostile runs fast in a debug build.
    static let limits = SandboxLimits(fuel: 5_000_000, memoryBytes: 2 << 16)

    /// Three dies of two lots in the wafer-map format the Examples' components read.
    static let sampleWaferMaps = """
        lot,wafer,die_x,die_y,bin,leakage_na,vth_mv,probe_card
        L1,1,0,0,1,50.00,410.0,PC-01
        L1,1,1,0,3,52.00,411.0,PC-01
        L2,1,0,0,1,49.00,409.0,PC-02

        """

    static func module(_ text: String, name: String = "hostile.wat") throws -> WasmModule {
        try WasmModule(source: Array(text.utf8), name: name)
    }

    static func example(_ path: String) throws -> WasmModule {
        let url = repositoryRoot.appendingPathComponent("Examples").appendingPathComponent(path)
        return try WasmModule(source: Array(try Data(contentsOf: url)), name: url.lastPathComponent)
    }

    /// Runs the module on both engines, WasmKit and wasmtime, asserts that they behave the same
    /// (the same refusal, outcome kind, outputs, streams and memory; fuel is counted in each
    /// engine's own unit) and returns WasmKit's result for the test's own assertions.
    static func run(_ module: WasmModule, inputs: [String: [UInt8]] = [:], outputs: [String: Int] = ["result": 4096],
                    capabilities: SandboxCapabilities = [], limits: SandboxLimits = limits,
                    file: StaticString = #filePath, line: UInt = #line) throws -> SandboxResult {
        let request = SandboxRequest(module: module, arguments: ["test"], inputs: inputs, outputs: outputs,
                                     capabilities: capabilities, limits: limits)
        var compiled = request
        compiled.runtime = .wasmtime(try wasmtime())
        let interpreted = Result { () throws(SandboxError) in try Sandbox.run(request) }
        let native = Result { () throws(SandboxError) in try Sandbox.run(compiled) }
        switch (interpreted, native) {
        case let (.success(a), .success(b)):
            XCTAssertEqual(kind(of: a.outcome), kind(of: b.outcome), "outcome on wasmkit vs wasmtime", file: file, line: line)
            XCTAssertEqual(a.outputs, b.outputs, "outputs on wasmkit vs wasmtime", file: file, line: line)
            XCTAssertEqual(a.stdout, b.stdout, "stdout on wasmkit vs wasmtime", file: file, line: line)
            XCTAssertEqual(a.stderr, b.stderr, "stderr on wasmkit vs wasmtime", file: file, line: line)
            XCTAssertEqual(a.peakMemoryBytes, b.peakMemoryBytes, "memory on wasmkit vs wasmtime", file: file, line: line)
        case let (.failure(a), .failure(b)):
            XCTAssertEqual(String(describing: a).prefix(while: { $0 != ":" }), String(describing: b).prefix(while: { $0 != ":" }),
                           "refusal on wasmkit vs wasmtime: \(a) / \(b)", file: file, line: line)
            XCTAssertEqual(caseName(a), caseName(b), "refusal on wasmkit vs wasmtime: \(a) / \(b)", file: file, line: line)
        default:
            XCTFail("wasmkit: \(interpreted); wasmtime: \(native)", file: file, line: line)
        }
        return try interpreted.get()
    }

    /// The outcome without engine-specific details (a trap's message).
    static func kind(of outcome: SandboxOutcome) -> String {
        switch outcome {
        case .trap: return "trap"
        case let .memoryLimit(limit, _): return "memory-limit \(limit)"
        default: return String(describing: outcome)
        }
    }

    private static func caseName(_ error: SandboxError) -> String {
        String(String(reflecting: error).split(separator: "(").first ?? "")
    }

    /// The pinned wasmtime library (installed by `make deps`). Missing: a test failure naming
    /// the install command under CI (`CI=true` or `TWOCVM_NO_SKIP=1`), else a skip.
    static func wasmtime() throws -> WasmtimeLibrary {
        try WasmtimeTestLibrary.load()
    }

    /// The WASI imports the hand-written modules use.
    static let imports = """
        (import "wasi_snapshot_preview1" "path_open"
          (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
        """

    /// Helpers inside a module: `$open(dirfd, path, length, oflags, rights) -> errno` (the new
    /// fd at address 8), and `$emit(address, length)`, which writes bytes to `/out/result`.
    static let helpers = """
        (func $open (param $dir i32) (param $path i32) (param $len i32) (param $oflags i32) (param $rights i64) (result i32)
          (call $path_open (local.get $dir) (i32.const 0) (local.get $path) (local.get $len)
            (local.get $oflags) (local.get $rights) (i64.const 0) (i32.const 0) (i32.const 8)))
        (func $emit (param $address i32) (param $length i32)
          (if (call $open (i32.const 4) (i32.const 16) (i32.const 6) (i32.const 9) (i64.const 64))
            (then unreachable))
          (i32.store (i32.const 0) (local.get $address))
          (i32.store (i32.const 4) (local.get $length))
          (drop (call $fd_write (i32.load (i32.const 8)) (i32.const 0) (i32.const 1) (i32.const 12))))
        (data (i32.const 16) "result")
        """

    /// A module that tries to open each path (relative to `/in`, fd 3, or `/out`, fd 4) for
    /// reading and writes the errno of each attempt, one byte each, to `/out/result`.
    static func probe(_ attempts: [(directory: Int, path: String)]) -> String {
        var data = "", calls = ""
        var address = 1024
        for (index, attempt) in attempts.enumerated() {
            let bytes = Array(attempt.path.utf8)
            data += "(data (i32.const \(address)) \"\(attempt.path)\")\n"
            calls += """
                (i32.store8 (i32.const \(512 + index))
                  (call $open (i32.const \(attempt.directory)) (i32.const \(address)) (i32.const \(bytes.count)) (i32.const 0) (i64.const 2)))

                """
            address += bytes.count + 8
        }
        return """
            (module
              \(imports)
              (memory (export "memory") 1)
              \(helpers)
              \(data)
              (func (export "_start")
                \(calls)
                (call $emit (i32.const 512) (i32.const \(attempts.count)))))
            """
    }
}

import Foundation
import XCTest

/// The seccomp fence of a component's child (`twocvm _component`): once its request is read, a
/// call that opens, connects, executes, forks, maps executable memory or signals another process
/// is refused or kills it, whatever the component or the engine would do.
final class ChildLockdownTests: XCTestCase {
    private func probe(_ name: String, wasmtime: String? = nil) throws -> (status: Int32, signalled: Bool, stdout: String) {
        let process = Process()
        process.executableURL = CLI.productsDirectory.appendingPathComponent("twocvm")
        process.arguments = ["_component", "--lockdown-probe", name] + (wasmtime.map { ["--probe-engine-library", $0] } ?? [])
        process.environment = [:]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        try input.fileHandleForWriting.close()
        let stdout = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, process.terminationReason == .uncaughtSignal, stdout)
    }

    func testForbiddenCallsKillTheChild() throws {
        for name in ["open", "socket", "exec", "signal-parent"] {
            let result = try probe(name)
            XCTAssertTrue(result.signalled, "\(name): \(result)")
            XCTAssertEqual(result.status, SIGSYS, "\(name) must die of SIGSYS (the seccomp filter), not survive: \(result.stdout)")
        }
    }

    func testForkAndExecutableMemoryAreRefused() throws {
        for name in ["fork", "executable-memory"] {
            let result = try probe(name)
            XCTAssertFalse(result.signalled, "\(name): \(result)")
            XCTAssertEqual(result.stdout, "\(name) returned -1\n", "\(name) must fail with EPERM")
        }
    }

    /// The same fence with wasmtime loaded and a module compiled before the lockdown, as a
    /// wasmtime component's child does: executable memory is still refused, every other
    /// forbidden call still kills, and the compiled module still runs.
    func testTheFenceHoldsWithTheCompilingEngine() throws {
        let library = try WasmtimeCLILibrary.path()
        let memory = try probe("executable-memory", wasmtime: library)
        XCTAssertFalse(memory.signalled, "\(memory)")
        XCTAssertEqual(memory.stdout, "executable-memory returned -1\nwasmtime run after the lockdown: ok\n")
        for name in ["open", "socket", "exec", "signal-parent"] {
            let result = try probe(name, wasmtime: library)
            XCTAssertTrue(result.signalled, "\(name): \(result)")
            XCTAssertEqual(result.status, SIGSYS, "\(name) must die of SIGSYS with wasmtime loaded: \(result.stdout)")
        }
    }
}

/// The pinned wasmtime library for CLI tests: where `make deps` puts it (the checkout's .venv).
/// Missing: a failure naming the install command under CI, else a skip.
enum WasmtimeCLILibrary {
    static func path() throws -> String {
        let venv = TestPaths.repositoryRoot.appendingPathComponent(".venv/lib")
        let found = (try? FileManager.default.contentsOfDirectory(atPath: venv.path))?.sorted()
            .map { venv.appendingPathComponent("\($0)/site-packages/wasmtime/linux-x86_64/_libwasmtime.so").path }
            .first { FileManager.default.fileExists(atPath: $0) }
        if let found { return found }
        throw Requirement.missing("the wasmtime engine library (.venv/lib/python3*/site-packages/wasmtime)",
                                  install: "the pinned wheel wasmtime==50.0.1 with `make deps`")
    }
}

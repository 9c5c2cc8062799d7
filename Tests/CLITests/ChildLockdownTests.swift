import Foundation
import XCTest

/// The seccomp fence of a component's child (`twocvm _component`): once its request is read, a
/// call that opens, connects, executes, forks, maps executable memory or signals another process
/// is refused or kills it, whatever the component or the engine would do.
final class ChildLockdownTests: XCTestCase {
    private func probe(_ name: String) throws -> (status: Int32, signalled: Bool, stdout: String) {
        let process = Process()
        process.executableURL = CLI.productsDirectory.appendingPathComponent("twocvm")
        process.arguments = ["_component", "--lockdown-probe", name]
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
}

import Foundation
import XCTest

/// What a test needs from the machine beyond the repository (a tool, the project venv, OVMF,
/// the wasmtime library), and the one rule for when it is missing:
///
/// - under `CI=true` or `TWOCVM_NO_SKIP=1` (what `make test` sets) the test **fails**, naming
///   what to install: nothing skips in silence where the suite is the gate;
/// - otherwise (a plain `swift test` on a developer's machine) the test is skipped, and the
///   skip is recorded so that the run's closing summary lists every skipped test and why.
///
/// Call it where a test would otherwise skip:
///
///     try Requirement.requireFile("/usr/share/ovmf/OVMF.fd", install: "Debian's ovmf package (make deps)")
public enum Requirement {
    /// True when a missing requirement fails the test instead of skipping it.
    public static var skipsAreFailures: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["CI"] == "true" || environment["TWOCVM_NO_SKIP"] == "1"
    }

    /// The error to throw when `what` is missing: an `XCTSkip` (recorded for the closing
    /// summary), or, when skips are failures, an `XCTFail` naming `install` followed by an error
    /// that ends the test.
    public static func missing(_ what: String, install: String, file: StaticString = #filePath,
                               line: UInt = #line) -> any Error {
        let message = "\(what) is missing: install \(install)"
        if skipsAreFailures {
            XCTFail("\(message) (CI=true or TWOCVM_NO_SKIP=1: a missing requirement fails)", file: file, line: line)
            return Unmet(message: message)
        }
        SkipLog.shared.record(message)
        return XCTSkip(message)
    }

    /// Throws `missing(what, install:)` unless `condition` holds.
    public static func require(_ condition: Bool, _ what: @autoclosure () -> String, install: @autoclosure () -> String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        if !condition { throw missing(what(), install: install(), file: file, line: line) }
    }

    /// Requires the file at `path` (firmware, a header, a shared library).
    public static func requireFile(_ path: String, install: @autoclosure () -> String,
                                   file: StaticString = #filePath, line: UInt = #line) throws {
        try require(FileManager.default.fileExists(atPath: path), path, install: install(), file: file, line: line)
    }

    /// Requires an executable at `path` (a compiler, a tool).
    public static func requireExecutable(_ path: String, install: @autoclosure () -> String,
                                         file: StaticString = #filePath, line: UInt = #line) throws {
        try require(FileManager.default.isExecutableFile(atPath: path), path, install: install(), file: file, line: line)
    }

    /// Ends a test whose requirement is missing when skips are failures.
    public struct Unmet: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }
}

/// The skips of this test process, printed when the test bundle finishes (the closing summary
/// of a plain `swift test`). Registered as an observer on the first skip, while that test runs;
/// a reason is attributed to the test case that finishes next (tests run one at a time in a
/// process).
final class SkipLog: NSObject, XCTestObservation, @unchecked Sendable {
    static let shared = SkipLog()

    private let lock = NSLock()
    private var pending: [String] = []
    private var skips: [(test: String, reason: String)] = []
    private var observing = false

    /// Records `reason` for the running test.
    func record(_ reason: String) {
        lock.lock()
        pending.append(reason)
        let register = !observing
        observing = true
        lock.unlock()
        if register { XCTestObservationCenter.shared.addTestObserver(self) }
    }

    func testCaseDidFinish(_ testCase: XCTestCase) {
        lock.lock()
        defer { lock.unlock() }
        guard !pending.isEmpty else { return }
        skips.append((testCase.name, pending.joined(separator: "; ")))
        pending = []
    }

    func testBundleDidFinish(_ testBundle: Bundle) {
        lock.lock()
        let recorded = skips + pending.map { ("(unknown test)", $0) }
        lock.unlock()
        guard !recorded.isEmpty else { return }
        var lines = ["", "skipped \(recorded.count) test\(recorded.count == 1 ? "" : "s") (CI=true or TWOCVM_NO_SKIP=1 makes these failures):"]
        lines += recorded.map { "  \($0.test): \($0.reason)" }
        print(lines.joined(separator: "\n"))
    }
}

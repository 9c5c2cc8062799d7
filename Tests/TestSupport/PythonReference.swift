import Foundation
import XCTest

/// Runs the project venv's Python: the independent implementations the tests cross-check
/// against (tomllib + cbor2, pycose, pyhpke, rfc8785, sev-snp-measure).
public enum PythonReference {
    /// `TWOCVM_PYTHON`, else `<repository>/.venv/bin/python` (made by `make deps`).
    public static var interpreter: String {
        ProcessInfo.processInfo.environment["TWOCVM_PYTHON"]
            ?? TestPaths.repositoryRoot.appendingPathComponent(".venv/bin/python").path
    }

    /// Runs `script` with `arguments` and returns its trimmed stdout; the test fails on a
    /// non-zero exit and is skipped when the venv is missing.
    public static func run(_ script: String, _ arguments: [String], file: StaticString = #filePath,
                           line: UInt = #line) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: interpreter) else {
            throw XCTSkip("no project venv at \(interpreter): run `make deps` (or set TWOCVM_PYTHON)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: interpreter)
        process.arguments = ["-c", script] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // stderr is read after stdout; the scripts here write little to it.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, String(decoding: stderr, as: UTF8.self), file: file, line: line)
        return String(decoding: stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Paths shared by the tests: the repository root, `../shared/testdata`, and fresh temp dirs.
public enum TestPaths {
    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/testdata` beside the repository (override with TWOCVM_TESTDATA).
    public static var sharedTestdata: URL {
        if let path = ProcessInfo.processInfo.environment["TWOCVM_TESTDATA"] {
            return URL(fileURLWithPath: path)
        }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/testdata")
    }

    /// The project venv's Python.
    public static var python: String { PythonReference.interpreter }

    /// Makes a new empty temporary directory, removed when the test case ends.
    public static func temporaryDirectory(_ testCase: XCTestCase) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("twocvm-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        testCase.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}

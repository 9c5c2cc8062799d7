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
    /// non-zero exit; a missing venv is a `Requirement` (fails under CI, else skips).
    public static func run(_ script: String, _ arguments: [String], file: StaticString = #filePath,
                           line: UInt = #line) throws -> String {
        try requireVenv(file: file, line: line)
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

    /// The project venv is a `Requirement`: fails under CI, else skips (and is listed).
    public static func requireVenv(file: StaticString = #filePath, line: UInt = #line) throws {
        try Requirement.require(FileManager.default.isExecutableFile(atPath: interpreter), "the project venv (\(interpreter))",
                                install: "it with `make deps-python` (or set TWOCVM_PYTHON)", file: file, line: line)
    }
}

/// Paths shared by the tests: the repository root, its test data, and fresh temp dirs.
public enum TestPaths {
    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Tests/Data`: the real SEV-SNP vectors and measurement fixtures, with their provenance
    /// (`Tests/Data/snp/README.md`). Inside the repository, so a lone clone passes its tests.
    public static let testData = repositoryRoot.appendingPathComponent("Tests/Data")

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

import Foundation
import XCTest

/// Runs the project venv's Python (independent implementations: tomllib, cbor2, pycose).
enum PythonReference {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var interpreter: String {
        ProcessInfo.processInfo.environment["TWOCVM_PYTHON"] ?? repositoryRoot.appendingPathComponent(".venv/bin/python").path
    }

    /// Runs `script` with `arguments`; returns stdout, failing the test on a non-zero exit.
    static func run(_ script: String, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: interpreter) else {
            throw XCTSkip("no project venv at \(interpreter): run `make deps`")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: interpreter)
        process.arguments = ["-c", script] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, String(decoding: stderr, as: UTF8.self), file: file, line: line)
        return String(decoding: stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// SPEC §3's reference: sha384(cbor2.dumps(tomllib.load(f), canonical=True)), one line per file.
    static func manifestDigests(_ paths: [String]) throws -> [String] {
        let script = """
            import sys, tomllib, hashlib, cbor2
            for path in sys.argv[1:]:
                with open(path, "rb") as f:
                    print("sha384:" + hashlib.sha384(cbor2.dumps(tomllib.load(f), canonical=True)).hexdigest())
            """
        return try run(script, paths).split(separator: "\n").map(String.init)
    }
}

import Foundation
import Sandbox
import TestSupport
import XCTest

/// Finds the pinned wasmtime library the way the binary does (environment variable, then a
/// checkout's `.venv` above the test bundle). When it is missing, CI fails naming the install
/// command, while a developer's plain `swift test` skips (counted in the summary).
enum WasmtimeTestLibrary {
    static func load() throws -> WasmtimeLibrary {
        let environment = ProcessInfo.processInfo.environment
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        do {
            return try WasmtimeLibrary.locate(explicit: nil, environment: environment, executable: executable)
        } catch {
            throw Requirement.missing("the wasmtime engine library (\(error))", install: "the pinned wheel with `make deps`")
        }
    }
}

import Foundation
import Sandbox
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
            let noSkip = environment["CI"] == "true" || environment["TWOCVM_NO_SKIP"] == "1"
            if noSkip {
                XCTFail("the wasmtime engine library is required under CI: \(error)")
                throw error
            }
            throw XCTSkip("wasmtime engine library missing (run `make deps`): \(error)")
        }
    }
}

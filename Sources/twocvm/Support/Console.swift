import Foundation
import TwoCVM

/// Thrown by a command for a problem with its own flags that ArgumentParser cannot see: ends
/// the process with `twocvm: error: <message>` and the status given.
struct CommandFailure: TwoCVMError {
    let exitStatus: ExitStatus
    let description: String

    init(_ status: ExitStatus, _ message: String) {
        exitStatus = status
        description = message
    }
}

/// The only place the CLI writes to the terminal.
enum Console {
    /// Writes `text` and a newline to stdout.
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Writes `twocvm: error: <message>` to stderr.
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("twocvm: error: \(message)\n".utf8))
    }

    /// Writes `text` (already formatted, e.g. ArgumentParser's usage message) to stderr.
    static func errorText(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Writes a warning line to stderr.
    static func warning(_ message: String) {
        FileHandle.standardError.write(Data("twocvm: warning: \(message)\n".utf8))
    }

    /// Writes a progress line to stderr (long-running work).
    static func progress(_ message: String) {
        FileHandle.standardError.write(Data("twocvm: \(message)\n".utf8))
    }

    /// Prints `value` as pretty, key-sorted JSON on stdout.
    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        out(String(decoding: data, as: UTF8.self))
    }
}

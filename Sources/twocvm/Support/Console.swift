import Foundation

/// The process exit statuses of SPEC §5.
enum ExitStatus: Int32 {
    case success = 0
    /// A check failed: verification, lint findings, a missing approval.
    case checkFailed = 1
    /// The input could not be used: unreadable, malformed, wrong usage.
    case badInput = 2
    /// The environment is missing something: a device, a permission.
    case environment = 3
}

/// Thrown by a command to end with a message on stderr and a chosen exit status.
struct CommandFailure: Error {
    let status: ExitStatus
    let message: String

    init(_ status: ExitStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    /// Wraps a library error that means the input could not be used (exit 2).
    static func badInput(_ error: Error) -> CommandFailure {
        CommandFailure(.badInput, String(describing: error))
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

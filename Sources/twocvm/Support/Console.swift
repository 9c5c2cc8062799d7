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
        write(text + "\n", to: 1)
    }

    /// Writes `twocvm: error: <message>` to stderr.
    static func error(_ message: String) {
        write("twocvm: error: \(message)\n", to: 2)
    }

    /// Writes `text` (already formatted, e.g. ArgumentParser's usage message) to stderr.
    static func errorText(_ text: String) {
        write(text + "\n", to: 2)
    }

    /// Writes a warning line to stderr.
    static func warning(_ message: String) {
        write("twocvm: warning: \(message)\n", to: 2)
    }

    /// Writes a progress line to stderr (long-running work).
    static func progress(_ message: String) {
        write("twocvm: \(message)\n", to: 2)
    }

    /// All of `text` to stdout (1) or stderr (2), in as few writes as the kernel allows; a
    /// stream that cannot be written (a closed pipe) loses the rest.
    private static func write(_ text: String, to descriptor: Int32) {
        try? FileIO.writeAll(Array(text.utf8), to: descriptor, path: descriptor == 1 ? "stdout" : "stderr")
    }

    /// Prints `value` as pretty, key-sorted JSON on stdout.
    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        out(String(decoding: data, as: UTF8.self))
    }
}

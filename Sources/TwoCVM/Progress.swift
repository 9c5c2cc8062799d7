import Evidence
import Foundation

/// Where long work has got to: seal, open, a sealed run's input decryption, launch-measure of a
/// large kernel or initrd. Libraries never print (SPEC §2): work reports to `ProgressReporting`,
/// and the command line installs the handler that draws it (on stderr, only on a terminal).
public struct ProgressUpdate: Sendable {
    /// What is being done, for the user ("seal wafer-maps.csv").
    public let task: String
    /// The current step ("hashing", "encrypting", "verifying", "decrypting", …).
    public let phase: String
    /// Bytes of work done, over every pass.
    public let done: UInt64
    /// Bytes of work in all, over every pass.
    public let total: UInt64

    public init(task: String, phase: String, done: UInt64, total: UInt64) {
        self.task = task
        self.phase = phase
        self.done = done
        self.total = total
    }
}

/// The process-wide progress hook. Work of at most `threshold` bytes reports nothing.
public enum ProgressReporting {
    /// Work smaller than this shows no progress ("more than about 64 MiB").
    public static let threshold: UInt64 = 64 << 20

    /// Installs (or, with nil, removes) the handler; it is called on the working thread.
    public static func install(_ handler: (@Sendable (ProgressUpdate) -> Void)?, finish: (@Sendable () -> Void)? = nil) {
        lock.lock()
        defer { lock.unlock() }
        state = (handler, finish)
    }

    /// Reports `update` to the installed handler, if any.
    public static func report(_ update: ProgressUpdate) {
        current.handler?(update)
    }

    /// Tells the handler the task is over (it clears its line).
    public static func finish() {
        current.finish?()
    }

    /// True if a handler is installed and `bytes` of work is large enough to report.
    public static func wants(_ bytes: UInt64) -> Bool {
        current.handler != nil && bytes > threshold
    }

    /// A sealed-file progress callback for `task` over a file of `length` plaintext bytes (two
    /// passes, each over every byte), or nil if nothing would be shown.
    public static func sealedFile(task: String, length: UInt64?) -> ((SealedFileProgress) -> Void)? {
        guard let length, wants(length) else { return nil }
        return { progress in
            report(ProgressUpdate(task: task, phase: progress.phase.rawValue,
                                  done: UInt64(progress.pass) * length + min(progress.done, length), total: 2 * length))
        }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var state: (handler: (@Sendable (ProgressUpdate) -> Void)?, finish: (@Sendable () -> Void)?) = (nil, nil)
    private static var current: (handler: (@Sendable (ProgressUpdate) -> Void)?, finish: (@Sendable () -> Void)?) {
        lock.lock()
        defer { lock.unlock() }
        return state
    }
}

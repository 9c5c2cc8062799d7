import ArgumentParser
import Foundation
import TwoCVM

import Glibc

/// `--quiet` for commands that can read or write a lot (seal, open, run, launch-measure).
struct ProgressOptions: ParsableArguments {
    @Flag(name: .long, help: "Show no progress line on stderr (shown only when stderr is a terminal and the work exceeds 64 MiB).")
    var quiet = false

    /// Applies the flag: with `--quiet`, removes the progress line `TwoCVMCommand` installed.
    func apply() {
        if quiet { ProgressReporting.install(nil) }
    }
}

/// The progress line on stderr: `twocvm: seal blob: encrypting  63%  1.3 GiB of 2.0 GiB read  812 MB/s  1 s left`
/// (bytes read over every pass: seal and open read their input twice),
/// redrawn in place at most ten times a second, cleared when the work ends. Drawn only when
/// stderr is a terminal; nothing otherwise (logs and pipes stay clean).
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private var started: (task: String, at: Double)? = nil
    private var lastDraw = 0.0
    private var drawn = false

    /// Installs the line as the process's progress handler if stderr is a terminal.
    static func installIfTerminal() {
        guard isatty(STDERR_FILENO) == 1 else { return }
        let line = ProgressLine()
        ProgressReporting.install({ line.draw($0) }, finish: { line.clear() })
    }

    func draw(_ update: ProgressUpdate) {
        lock.lock()
        defer { lock.unlock() }
        let now = Self.seconds()
        if started?.task != update.task { started = (update.task, now) }
        if update.done >= update.total {
            // Done: clear now, before the command prints its result on stdout.
            if drawn { Self.write("\r\u{1B}[K") }
            drawn = false
            return
        }
        guard now - lastDraw >= 0.1 else { return }
        lastDraw = now
        let elapsed = now - started!.at
        let fraction = update.total > 0 ? Double(update.done) / Double(update.total) : 1
        let rate = elapsed > 0 ? Double(update.done) / elapsed : 0
        var text = "twocvm: \(update.task): \(update.phase) \(String(format: "%3.0f%%", fraction * 100))"
        text += "  \(Self.size(update.done)) of \(Self.size(update.total)) read"
        if rate > 0 {
            text += String(format: "  %.0f MB/s", rate / 1e6)
            text += "  \(Int((Double(update.total - min(update.done, update.total)) / rate).rounded())) s left"
        }
        Self.write("\r\u{1B}[K" + text)
        drawn = true
    }

    func clear() {
        lock.lock()
        defer { lock.unlock() }
        if drawn { Self.write("\r\u{1B}[K") }
        drawn = false
        started = nil
    }

    private static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    private static func size(_ bytes: UInt64) -> String {
        let value = Double(bytes)
        if value >= Double(1 << 30) { return String(format: "%.1f GiB", value / Double(1 << 30)) }
        return String(format: "%.1f MiB", value / Double(1 << 20))
    }

    private static func seconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

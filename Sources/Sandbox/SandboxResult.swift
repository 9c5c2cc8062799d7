/// How a run ended.
public enum SandboxOutcome: Equatable, Sendable, CustomStringConvertible {
    /// `_start` returned, or the module called `proc_exit(0)`.
    case ok
    /// The module called `proc_exit` with a non-zero status.
    case exit(code: UInt32)
    /// The module trapped (unreachable, out-of-bounds access, stack exhausted, …).
    case trap(message: String)
    /// The fuel budget was spent.
    case outOfFuel(limit: UInt64)
    /// The wall-clock limit interrupted the run (engines that can interrupt; otherwise the
    /// component's process is killed at that limit).
    case timedOut(seconds: Int)
    /// The module failed with its linear memory at the ceiling: growth beyond it was denied.
    case memoryLimit(limitBytes: Int, detail: String)
    /// The module tried to create `/out/<name>`, which is not a declared output.
    case undeclaredOutput(name: String)
    /// The module wrote more than the declared limit to `/out/<name>`.
    case outputTooLarge(name: String, limit: Int)

    public var isSuccess: Bool { self == .ok }

    public var description: String {
        switch self {
        case .ok: return "ok"
        case let .exit(code): return "exited with status \(code)"
        case let .trap(message): return "trapped: \(message)"
        case let .outOfFuel(limit): return "ran out of fuel (limit \(limit))"
        case let .timedOut(seconds): return "was interrupted at its wall-clock limit of \(seconds) s"
        case let .memoryLimit(limit, detail):
            return "hit its memory limit of \(limit) bytes (growth denied; then \(detail))"
        case let .undeclaredOutput(name): return "tried to write /out/\(name), which is not a declared output"
        case let .outputTooLarge(name, limit): return "wrote more than \(limit) bytes to /out/\(name)"
        }
    }
}

/// What a run produced. Outputs are only meaningful when the outcome is ``SandboxOutcome/ok``.
public struct SandboxResult: Sendable {
    public var outcome: SandboxOutcome
    /// The declared outputs the module created, by name.
    public var outputs: [String: [UInt8]]
    /// Fuel consumed (instantiation and `_start`).
    public var fuelUsed: UInt64
    /// The largest linear memory the module had, in bytes (memories never shrink: its final size).
    public var peakMemoryBytes: Int
    /// The first bytes the module wrote to stdout and stderr (for diagnostics only: SPEC §8 does
    /// not release them).
    public var stdout: [UInt8]
    public var stderr: [UInt8]

    public init(outcome: SandboxOutcome, outputs: [String: [UInt8]], fuelUsed: UInt64, peakMemoryBytes: Int,
                stdout: [UInt8], stderr: [UInt8]) {
        self.outcome = outcome
        self.outputs = outputs
        self.fuelUsed = fuelUsed
        self.peakMemoryBytes = peakMemoryBytes
        self.stdout = stdout
        self.stderr = stderr
    }
}

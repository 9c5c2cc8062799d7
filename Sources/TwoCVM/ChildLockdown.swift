import CSeccomp
import Sandbox

/// The second fence around a component's child process: after it has read its request, it
/// locks itself into a seccomp-BPF allowlist (CSeccomp): no file can be opened, no socket
/// created, nothing executed or forked, no memory made executable, no signal sent elsewhere;
/// any such call kills it with SIGSYS. The WebAssembly sandbox already offers none of these to
/// a component; this holds even if the engine had a bug that let a component out.
public enum ChildLockdown {
    /// Applies the filter to this process (every thread). Irreversible.
    public static func apply() throws(ChildLockdownError) {
        let status = twocvm_seccomp_lockdown()
        guard status == 0 else { throw .refused(errno: -status) }
    }

    /// A forbidden call to make after `apply()` (tests only): it must not return.
    public enum Probe: String, CaseIterable, Sendable {
        case open, socket, exec, executableMemory = "executable-memory", fork, signalParent = "signal-parent"

        var code: Int32 {
            switch self {
            case .open: return 1
            case .socket: return 2
            case .exec: return 3
            case .executableMemory: return 4
            case .fork: return 5
            case .signalParent: return 6
            }
        }
    }

    /// Makes the probe's call; returns its result only if the process survived it.
    public static func probe(_ probe: Probe) -> Int { twocvm_seccomp_probe(probe.code) }

    /// A tiny module compiled by wasmtime before the lockdown and run after it (tests only):
    /// proves that the compiling engine needs nothing the lockdown forbids once it has compiled.
    /// Its loop burns about 24 million units of fuel, so the run maps its fiber stack and
    /// yields to the deadline check several times under the lockdown.
    public struct ProbeRun {
        let loaded: Sandbox.LoadedRun

        public init(wasmtimeLibrary path: String) throws(ChildLockdownError) {
            let text = #"""
                (module (memory (export "memory") 1)
                  (func (export "_start") (local i32)
                    (loop $l (br_if $l (i32.lt_u (local.tee 0 (i32.add (local.get 0) (i32.const 1))) (i32.const 4000000))))
                    (i32.store (i32.const 0) (local.get 0))))
                """#
            let library: WasmtimeLibrary
            do { library = try WasmtimeLibrary.load(path) } catch { throw .probeEngine(error) }
            do {
                let module = try WasmModule(source: Array(text.utf8), name: "probe.wat")
                loaded = try Sandbox.load(SandboxRequest(
                    module: module, arguments: ["probe"], inputs: [:], outputs: [:], capabilities: [],
                    limits: SandboxLimits(fuel: 100_000_000, memoryBytes: 1 << 16, wallClockSeconds: 5),
                    runtime: .wasmtime(library)))
            } catch {
                throw .probeModule(error)
            }
        }

        /// Runs the module; returns its outcome.
        public func run() -> String { "\(loaded.run().outcome)" }
    }
}

/// Why the child could not be locked down, or (tests only) the probe module could not be loaded.
public enum ChildLockdownError: TwoCVMError {
    /// The kernel did not accept the filter (seccomp missing or forbidden); the child refuses to run.
    case refused(errno: Int32)
    /// The probe's engine library cannot be loaded.
    case probeEngine(EngineLibraryError)
    /// The probe module was refused.
    case probeModule(SandboxError)

    /// No seccomp or no engine: the machine (3); a refused probe module: the input (2).
    public var exitStatus: ExitStatus {
        switch self {
        case .refused: return .environment
        case let .probeEngine(error): return error.exitStatus
        case let .probeModule(error): return error.exitStatus
        }
    }

    public var description: String {
        switch self {
        case let .refused(errno): return "cannot lock the component process down with seccomp (errno \(errno)); refusing to run the component"
        case let .probeEngine(error): return error.description
        case let .probeModule(error): return error.description
        }
    }
}

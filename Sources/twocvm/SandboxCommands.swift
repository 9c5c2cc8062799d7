import ArgumentParser
import Foundation
import TwoCVM

/// The internal child mode of `twocvm run` (`twocvm _component`): runs one component.
///
/// Receives its inputs as sealed memory files over stdin, a Unix socket (`InputHandover`), then
/// reads one request from it (module, declared outputs, limits, which descriptor is which
/// input), runs it in the sandbox and writes one response to stdout (see
/// `ComponentProcessProtocol`). The broker starts it with an empty environment and nothing open
/// but its stdin socket and two pipes, possibly before it knows the job; once
/// the request is read it locks itself down with seccomp (``ChildLockdown``): it could not open
/// a file, a socket or a process even if it tried. Not for direct use.
struct ComponentRunnerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_component", abstract: "Internal: run one component in a child process.", shouldDisplay: false)

    @Option(name: .customLong("lockdown-probe"), help: .hidden)
    var probe: String?

    /// With a probe: compile a module with this wasmtime library before the lockdown, as a real
    /// wasmtime component does, and run it after the probe.
    @Option(name: .customLong("probe-engine-library"), help: .hidden)
    var probeEngineLibrary: String?

    func run() throws {
        try Self.serve(probe: probe, probeEngineLibrary: probeEngineLibrary)
    }

    /// Reads the request, locks down, runs the component (or the probe) and writes the response.
    static func serve(probe: String?, probeEngineLibrary: String? = nil) throws {
        // The engine library is opened and the module compiled before the lockdown: both need
        // calls the lockdown forbids (opening a file, mapping executable code).
        let loaded: ComponentProcessProtocol.LoadedComponent?
        var probeRun: ChildLockdown.ProbeRun?
        do {
            loaded = probe == nil ? try ComponentProcessProtocol.load(fromSocket: 0) : nil
            probeRun = try probeEngineLibrary.map { try ChildLockdown.ProbeRun(wasmtimeLibrary: $0) }
        } catch {
            throw CommandFailure(.badInput, "component request: \(error)")
        }
        // From here on the process can only compute, use its pipes and exit.
        do {
            try ChildLockdown.apply()
        } catch {
            throw CommandFailure(.environment, error.description)
        }
        guard let loaded else {
            guard let probe, let call = ChildLockdown.Probe(rawValue: probe) else {
                throw CommandFailure(.badInput, "unknown probe \(probe ?? "")")
            }
            Console.out("\(probe) returned \(ChildLockdown.probe(call))")
            if let probeRun { Console.out("wasmtime run after the lockdown: \(probeRun.run())") }
            return
        }
        let response = loaded.respond()
        try FileIO.writeAtomically(response, to: "-")
        // Closing stdout and stderr completes the answer. The broker then reads this process's
        // peak memory while it waits here for the end of stdin, and lets it go (it kills it) or
        // reaps it. Nothing is torn down one by one (engine, store, module): the kernel frees
        // the whole process at once, while the broker goes on.
        Glibc.close(1)
        Glibc.close(2)
        var byte: UInt8 = 0
        while Glibc.read(0, &byte, 1) > 0 {}
        Glibc._exit(0)
    }
}

import ArgumentParser
import Foundation
import TwoCVM

/// The internal child mode of `twocvm run` (`twocvm _component`): runs one component.
///
/// Reads one request from stdin (module, this component's inputs, declared outputs, limits),
/// runs it in the sandbox and writes one response to stdout (see `ComponentProcessProtocol`).
/// The broker starts it with an empty environment and nothing open but its three pipes; it
/// never opens a file. Not for direct use.
struct ComponentRunnerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_component", abstract: "Internal: run one component in a child process.", shouldDisplay: false)

    func run() throws {
        let response: [UInt8]
        do {
            let request = try FileIO.read("-", limit: ComponentProcessProtocol.maxRequestBytes)
            response = try ComponentProcessProtocol.serve(request)
        } catch {
            throw CommandFailure(.badInput, "component request: \(error)")
        }
        try FileIO.writeAtomically(response, to: "-")
    }
}

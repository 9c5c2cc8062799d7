import ArgumentParser
import Foundation
import TwoCVM

/// The `twocvm` executable: one subcommand per workflow (SPEC §5).
///
/// Exit codes are part of the contract: 0 success, 1 a check failed (verification, lint),
/// 2 bad input or usage, 3 environment (device missing, permission). `main()` maps every
/// error that reaches it onto those codes, including ArgumentParser's own usage errors.
@main
struct TwoCVMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "twocvm",
        abstract: "Two-Way Confidential VMs: manifests, SEV-SNP evidence and sandboxed joint computation.",
        discussion: """
            Every command reads files and writes files atomically; nothing needs a network.
            Exit codes: 0 success, 1 a check failed, 2 bad input or usage, 3 environment.
            """,
        version: ToolVersion.current,
        subcommands: [
            KeygenCommand.self,
            ManifestCommand.self,
            SimCommand.self,
            AttestCommand.self,
            VerifyCommand.self,
            SealCommand.self,
            OpenCommand.self,
            ReceiptCommand.self,
            ComposeCommand.self,
            RunCommand.self,
            LaunchMeasureCommand.self,
            ReportCommand.self,
            ComponentRunnerCommand.self,
        ]
    )

    static func main() {
        do {
            // The component child (started once per component by `run`) skips the parser:
            // building the command tree is a measurable part of a child's start-up.
            if CommandLine.arguments.dropFirst() == ["_component"] {
                try ComponentRunnerCommand.serve(probe: nil)
                return
            }
            // `run` starts its first component's process before anything else, parsing
            // included, so that the child's start-up overlaps all of the broker's own; the
            // launch of the first component takes it (ChildProcessLauncher.prestart).
            if CommandLine.arguments.dropFirst().first == "run" {
                ChildProcessLauncher.currentExecutable().prestart()
            }
            if let unknown = SubcommandSuggestion.message(for: Array(CommandLine.arguments.dropFirst()), root: Self.self) {
                throw CommandFailure(.badInput, unknown)
            }
            var command = try parseAsRoot()
            ProgressLine.installIfTerminal()  // long work draws a line on stderr; --quiet removes it
            try command.run()
            ChildProcessLauncher.finish()
        } catch {
            // A run that failed before its first component leaves no process behind.
            ChildProcessLauncher.finish()
            Foundation.exit(Self.report(error))
        }
    }

    /// Prints `error` to stderr (or help to stdout) and returns the process exit status: the
    /// one place an error becomes an exit status. A workflow's error says its own status
    /// (``TwoCVMError``); ArgumentParser's usage errors exit 2 with the usage text; anything
    /// else (an error no workflow names) is input that could not be used (2).
    static func report(_ error: any Error) -> Int32 {
        if let error = error as? any TwoCVMError {
            Console.error(error.description)
            return error.exitStatus.rawValue
        }
        if let exitCode = error as? ExitCode {
            return exitCode.rawValue
        }
        switch exitCode(for: error) {
        case .success:  // --help, --version
            let message = fullMessage(for: error)
            if !message.isEmpty { Console.out(message) }
            return ExitStatus.success.rawValue
        case .validationFailure:  // a usage error, with the usage text
            Console.errorText(fullMessage(for: error))
            return ExitStatus.badInput.rawValue
        default:
            Console.error(String(describing: error))
            return ExitStatus.badInput.rawValue
        }
    }
}

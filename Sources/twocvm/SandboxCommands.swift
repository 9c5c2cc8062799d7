import ArgumentParser

/// `twocvm compose` (issue: the WebAssembly sandbox). Placeholder.
struct ComposeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compose", abstract: "Check components and approvals against the manifest and write an execution plan.")
}

/// `twocvm run` (issue: the WebAssembly sandbox). Placeholder.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run an execution plan: one sandboxed process per component.")
}

/// The internal child mode of `twocvm run`: runs one component. Placeholder.
struct ComponentRunnerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_component", abstract: "Internal: run one component in a child process.", shouldDisplay: false)
}

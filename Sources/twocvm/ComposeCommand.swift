import ArgumentParser
import TwoCVM

/// `twocvm compose M --components DIR --approvals DIR -o PLAN`
struct ComposeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compose",
        abstract: "Check components and approvals against the manifest and write an execution plan.",
        discussion: """
            Reads DIR/<component-id>.wasm (or .wat) for every component and every *.cose approval
            in the approvals directory. Refuses unless every participant approved the manifest,
            every module has its pinned digest, is a wasm32-wasi preview 1 core module that
            validates, fits its memory limit, and imports only the wasi_snapshot_preview1
            functions its `wasi` list allows (sockets never), and the channels form a DAG.
            Writes the plan (CBOR: order, digests, limits, channel map, modules) atomically.
            Each module is validated by the engine its manifest entry names (`engine`, default
            wasmkit); wasmtime comes from its pinned library (--engine-library, else
            TWOCVM_WASMTIME_LIBRARY, else lib/twocvm/libwasmtime.so beside the installed binary,
            else a development checkout's .venv).
            Exit status: 0 plan written, 1 a check failed, 2 unreadable input, 3 an engine this
            machine cannot load.

            Example:
              twocvm compose manifest.toml --components build/ --approvals approvals/ -o plan.cbor
            """)

    @Argument(help: ArgumentHelp("The manifest (TOML).", valueName: "MANIFEST"))
    var manifest: String

    @Option(name: .long, help: ArgumentHelp("Directory holding <component-id>.wasm or .wat.", valueName: "DIR"))
    var components: String

    @Option(name: .long, help: ArgumentHelp("Directory holding the participants' *.cose approvals.", valueName: "DIR"))
    var approvals: String

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("Where to write the plan.", valueName: "PLAN"))
    var output: String

    @Option(name: .long, help: ArgumentHelp("The pinned wasmtime C library (wasmtime components).", valueName: "PATH"))
    var engineLibrary: String?

    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

    func run() throws {
        let plan = try ComposeWorkflow.compose(manifest: manifest, components: components, approvals: approvals,
                                               engines: EngineLibraries(explicitLibrary: engineLibrary))
        try ComposeWorkflow.write(plan, to: output)
        let digest = HexDigest(.sha384, bytes: plan.digest).description
        if json {
            try Console.json(Report(plan: output, digest: digest, manifest: plan.manifestDigest.description, order: plan.order,
                                    components: plan.steps.map { .init(id: $0.id, file: $0.moduleFile, digest: $0.digest.description,
                                                                       engine: $0.engine.rawValue) }))
        } else {
            for step in plan.steps {
                Console.out("\(step.id): \(step.moduleFile) \(step.digest) ok (\(step.engine.rawValue))")
            }
            Console.out("\(output): plan \(digest), order \(plan.order.joined(separator: " -> "))")
        }
    }

    struct Report: Encodable {
        struct Entry: Encodable {
            let id: String
            let file: String
            let digest: String
            let engine: String
        }

        let plan: String
        let digest: String
        let manifest: String
        let order: [String]
        let components: [Entry]
    }
}

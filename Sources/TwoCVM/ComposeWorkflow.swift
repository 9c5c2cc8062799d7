import Foundation
import Manifest
import Sandbox

/// `twocvm compose`: checks the components and approvals against the manifest and builds the
/// execution plan (SPEC §5, §8).
///
/// Every participant must have approved the manifest; every component's file
/// (`DIR/<id>.wasm` or `DIR/<id>.wat`) must have the pinned digest, be a wasm32-wasi preview 1
/// core module that validates, import only the WASI functions its `wasi` list allows, and fit
/// its memory limit; channels must form a DAG. Each module is validated by the engine the
/// manifest names for it; an engine this machine cannot load refuses the plan.
public enum ComposeWorkflow {
    /// Composes the plan; throws at the first problem, naming it.
    public static func compose(manifest path: String, components directory: String, approvals approvalsDirectory: String,
                               engines: EngineLibraries = EngineLibraries()) throws(ComposeError) -> ExecutionPlan {
        let loaded: ManifestWorkflow.CleanManifest
        do { loaded = try ManifestWorkflow.loadClean(path) } catch { throw .manifest(error) }
        let (manifest, digest, source) = (loaded.manifest, loaded.digest, loaded.source)
        let approvals = try checkApprovals(in: approvalsDirectory, manifest: manifest, digest: digest)
        var modules: [String: (file: String, bytes: [UInt8])] = [:]
        var createsFiles: [String: Bool] = [:]
        for component in manifest.components {
            let runtime: SandboxRuntime
            do {
                runtime = try engines.runtime(for: component.engine)
            } catch {
                throw .engineUnavailable(component: component.id, error)
            }
            let admitted = try admit(component, from: directory, runtime: runtime)
            modules[component.id] = (admitted.file, admitted.bytes)
            createsFiles[component.id] = admitted.createsFiles
        }
        let plan = try PlanAssembly.assemble(manifest: manifest, source: source, digest: digest,
                                             approvals: approvals, modules: modules)
        // What the module's imports make knowable: without path_open a component can create no
        // file, so a component with outputs to write would only fail at run time.
        for step in plan.steps where !step.outputs.isEmpty && createsFiles[step.id] == false {
            throw .cannotWriteOutputs(component: step.id, file: step.moduleFile, outputs: step.outputs.map(\.name))
        }
        return plan
    }

    /// Writes `plan` to `path` atomically.
    public static func write(_ plan: ExecutionPlan, to path: String) throws(FileIOError) {
        try FileIO.writeAtomically(PlanCoding.encode(plan), to: path)
    }

    /// The approval bytes, one per participant in manifest order, or why they are incomplete.
    private static func checkApprovals(in directory: String, manifest: Manifest, digest: ManifestDigest) throws(ComposeError) -> [[UInt8]] {
        var files: [(name: String, bytes: [UInt8])] = []
        let names: [String]
        do { names = try ManifestWorkflow.approvalFiles(in: directory) } catch { throw .unreadable(error) }
        for file in names {
            do { files.append((file, try FileIO.read(file, limit: 1 << 20))) } catch { throw .unreadable(error) }
        }
        let verdict = Approval.verify(files, manifest: manifest, digest: digest)
        // The same rule as `manifest approvals`: every *.cose in the folder must be a valid
        // approval of this manifest, not only one per participant.
        guard verdict.complete, verdict.invalid.isEmpty else {
            throw .approvalsIncomplete(missing: verdict.missing, invalid: verdict.invalid)
        }
        return manifest.participants.map { participant in
            files.first { $0.name == verdict.approvedBy[participant.id] }!.bytes
        }
    }

    /// Finds, reads, digests and checks one component's module.
    private static func admit(_ component: Component, from directory: String,
                              runtime: SandboxRuntime) throws(ComposeError) -> (file: String, bytes: [UInt8], createsFiles: Bool) {
        let candidates = ["wasm", "wat"].map { "\(directory)/\(component.id).\($0)" }
        let present = candidates.filter { FileManager.default.fileExists(atPath: $0) }
        guard !present.isEmpty else { throw .missingModule(component: component.id, candidates: candidates) }
        guard present.count == 1 else { throw .ambiguousModule(component: component.id, files: present) }
        let path = present[0]
        let name = URL(fileURLWithPath: path).lastPathComponent
        let bytes: [UInt8]
        do {
            bytes = try FileIO.read(path, limit: WasmModule.maxSourceBytes)
        } catch {
            throw .unreadable(error)
        }
        let actual = ContentDigest(of: bytes)
        guard actual == component.digest else {
            throw .digestMismatch(component: component.id, file: path, expected: component.digest, actual: actual)
        }
        let step = PlanStep(id: component.id, owner: component.owner, digest: actual, moduleFile: name, module: bytes,
                            wasi: Array(component.wasi), limits: component.limits, engine: component.engine,
                            inputs: [], outputs: [])
        let module: WasmModule
        do {
            module = try WasmModule(source: bytes, name: name)
            try Sandbox.check(module, capabilities: step.capabilities, memoryBytes: step.sandboxLimits.memoryBytes, runtime: runtime)
        } catch {
            throw .moduleRefused(component: component.id, file: name, error)
        }
        let createsFiles = module.summary.imports.contains { $0.module == "wasi_snapshot_preview1" && $0.name == "path_open" }
        return (name, bytes, createsFiles)
    }
}

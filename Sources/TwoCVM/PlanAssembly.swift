import Manifest

/// Builds a plan from a checked manifest: the DAG order, each component's channel map and
/// output limits. Shared by `compose` and by loading a plan file, so both derive the plan the
/// same way from the same manifest.
enum PlanAssembly {
    /// The size limit of an output that only feeds a channel (the manifest gives `max_bytes`
    /// to released outputs only): the writer's memory limit, at most 1 GiB.
    static func channelLimit(of component: Component) -> Int {
        min(component.limits.memoryMiB << 20, 1 << 30)
    }

    /// The components in an order where every channel runs from an earlier to a later one;
    /// among the ready ones, manifest order. Throws naming the components on a cycle.
    static func order(_ manifest: Manifest) throws(ComposeError) -> [Component] {
        var remaining = manifest.components
        var done: Set<String> = []
        var ordered: [Component] = []
        while !remaining.isEmpty {
            guard let next = remaining.firstIndex(where: { component in
                manifest.channels.allSatisfy { channel in
                    guard channel.to == component.id, case let .component(source, _) = channel.from else { return true }
                    return done.contains(source)
                }
            }) else {
                throw .cycle(components: remaining.map(\.id))
            }
            let component = remaining.remove(at: next)
            done.insert(component.id)
            ordered.append(component)
        }
        return ordered
    }

    /// The plan for `manifest` with these approvals and module files (by component id).
    static func assemble(manifest: Manifest, source: [UInt8], digest: ManifestDigest, approvals: [[UInt8]],
                         modules: [String: (file: String, bytes: [UInt8])]) throws(ComposeError) -> ExecutionPlan {
        let steps = try order(manifest).map { component throws(ComposeError) -> PlanStep in
            guard let module = modules[component.id] else { throw .missingModule(component: component.id, candidates: []) }
            let inputs = manifest.channels.filter { $0.to == component.id }
                .map { PlanInput(name: $0.inputName, source: $0.from) }
            var outputs: [String: PlanStepOutput] = [:]
            for channel in manifest.channels {
                guard case let .component(source, name) = channel.from, source == component.id else { continue }
                outputs[name] = PlanStepOutput(name: name, maxBytes: channelLimit(of: component), released: false)
            }
            for output in manifest.outputs where output.from == component.id {
                outputs[output.id] = PlanStepOutput(name: output.id, maxBytes: output.maxBytes, released: true)
            }
            return PlanStep(id: component.id, owner: component.owner, digest: component.digest, moduleFile: module.file,
                            module: module.bytes, wasi: WASICapability.allCases.filter { component.wasi.contains($0) },
                            limits: component.limits, engine: component.engine, inputs: inputs,
                            outputs: outputs.values.sorted { $0.name < $1.name })
        }
        return ExecutionPlan(
            manifestSource: source, manifest: manifest, manifestDigest: digest, approvals: approvals, steps: steps,
            data: manifest.data.map { PlanData(id: $0.id, owner: $0.owner, digest: $0.digest) },
            outputs: manifest.outputs.map { PlanOutput(id: $0.id, from: $0.from, to: $0.to, maxBytes: $0.maxBytes) })
    }
}

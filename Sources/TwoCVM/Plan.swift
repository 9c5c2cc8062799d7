import Crypto
import Manifest
import Sandbox

/// An execution plan: what `compose` admitted and `run` executes. It carries everything `run`
/// needs and re-checks: the manifest source and its digest, every participant's approval, and
/// each component's module (the exact file the manifest pins), in the channel DAG's order, with
/// its limits and its channel map (which file it reads from where, which names it writes).
///
/// The plan file is the deterministic CBOR of this value (see ``PlanCoding``); loading one
/// rebuilds the plan from the embedded manifest, approvals and modules and requires the result
/// to encode to the very same bytes, so a plan cannot say anything the manifest does not.
public struct ExecutionPlan: Sendable {
    public let manifestSource: [UInt8]
    /// The manifest parsed from `manifestSource` (once, when the plan was composed or loaded).
    public let manifest: Manifest
    public let manifestDigest: ManifestDigest
    /// The approval files (COSE_Sign1), one per participant, in participant order.
    public let approvals: [[UInt8]]
    /// The components in execution order.
    public let steps: [PlanStep]
    /// The input datasets the run needs.
    public let data: [PlanData]
    /// The outputs released to participants.
    public let outputs: [PlanOutput]

    /// SHA-384 of the plan's encoding (for receipts).
    public var digest: [UInt8] { Array(SHA384.hash(data: PlanCoding.encode(self))) }

    /// The order as component ids.
    public var order: [String] { steps.map(\.id) }
}

/// One component of the plan.
public struct PlanStep: Sendable, Equatable {
    public let id: String
    public let owner: String
    public let digest: ContentDigest
    /// `<id>.wasm` or `<id>.wat`.
    public let moduleFile: String
    public let module: [UInt8]
    public let wasi: [WASICapability]
    public let limits: ComponentLimits
    /// The engine the manifest names for it.
    public let engine: ComponentEngine
    /// What it reads: `/in/<name>` from a dataset or another component's output.
    public let inputs: [PlanInput]
    /// What it may write: `/out/<name>` with a size limit.
    public let outputs: [PlanStepOutput]

    /// The sandbox capabilities of the manifest's `wasi` list.
    public var capabilities: SandboxCapabilities {
        var capabilities: SandboxCapabilities = []
        if wasi.contains(.clock) { capabilities.insert(.clock) }
        if wasi.contains(.random) { capabilities.insert(.random) }
        return capabilities
    }

    /// The sandbox limits of the manifest's `limits`.
    public var sandboxLimits: SandboxLimits {
        SandboxLimits(fuel: limits.fuel, memoryBytes: limits.memoryMiB << 20, wallClockSeconds: limits.timeoutSeconds)
    }
}

/// One channel into a component.
public struct PlanInput: Sendable, Equatable {
    public let name: String
    public let source: Channel.Source
}

/// One declared output name of a component.
public struct PlanStepOutput: Sendable, Equatable {
    public let name: String
    public let maxBytes: Int
    /// True when a participant receives it (an `[[outputs]]` entry), false for a channel only.
    public let released: Bool
}

/// An input dataset.
public struct PlanData: Sendable, Equatable {
    public let id: String
    public let owner: String
    public let digest: ContentDigest?
}

/// A released output.
public struct PlanOutput: Sendable, Equatable {
    public let id: String
    public let from: String
    public let to: [String]
    public let maxBytes: Int
}

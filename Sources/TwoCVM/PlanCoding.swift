import CBOR
import Manifest

/// The plan file: deterministic CBOR (RFC 8949 §4.2.1) of
///
/// ```
/// {"format": "twocvm-plan", "version": 2,
///  "manifest": bytes (the TOML source), "manifest-digest": bytes(48),
///  "approvals": [bytes (COSE_Sign1), … one per participant],
///  "order": [component id, …],
///  "components": [{"id", "owner", "digest": bytes(32), "file": "<id>.wasm|.wat", "module": bytes,
///                  "engine": "wasmkit" | "wasmtime", ?"engine-library": bytes(32) (wasmtime: the
///                  SHA-256 of the pinned library), "wasi": [text], "fuel", "memory-mib", "timeout-s",
///                  "inputs": [{"name", "from": "data.<id>" | "<component>.<output>"}],
///                  "outputs": [{"name", "max-bytes", "released": bool}]}, …],
///  "data": [{"id", "owner", ?"digest": bytes(32)}],
///  "outputs": [{"id", "from", "to": [text], "max-bytes"}]}
/// ```
///
/// Decoding trusts none of it: it takes the manifest, approvals and modules out, checks them
/// again (clean manifest with that digest, every participant's approval, every module's
/// digest), rebuilds the plan from them and requires the rebuilt plan to encode to exactly the
/// bytes read. Version 2 added each component's engine (version 1 plans are refused: compose
/// again).
public enum PlanCoding {
    public static let format = "twocvm-plan"
    public static let version: UInt64 = 2
    /// The largest plan file accepted.
    public static let maxBytes = 512 << 20

    public static func encode(_ plan: ExecutionPlan) -> [UInt8] {
        CBOR.textMap([
            ("format", .text(format)),
            ("version", .unsigned(version)),
            ("manifest", .bytes(plan.manifestSource)),
            ("manifest-digest", .bytes(plan.manifestDigest.bytes)),
            ("approvals", .array(plan.approvals.map { .bytes($0) })),
            ("order", .array(plan.order.map { .text($0) })),
            ("components", .array(plan.steps.map(encode))),
            ("data", .array(plan.data.map { item in
                .textMap([("id", .text(item.id)), ("owner", .text(item.owner))]
                         + (item.digest.map { [("digest", CBOR.bytes($0.bytes))] } ?? []))
            })),
            ("outputs", .array(plan.outputs.map { output in
                .textMap([("id", .text(output.id)), ("from", .text(output.from)),
                          ("to", .array(output.to.map { .text($0) })), ("max-bytes", .unsigned(UInt64(output.maxBytes)))])
            })),
        ]).encoded()
    }

    private static func encode(_ step: PlanStep) -> CBOR {
        .textMap([
            ("id", .text(step.id)), ("owner", .text(step.owner)), ("digest", .bytes(step.digest.bytes)),
            ("file", .text(step.moduleFile)), ("module", .bytes(step.module)), ("engine", .text(step.engine.rawValue)),
        ] + (step.engine == .wasmtime ? [("engine-library", .bytes(EngineLibraries.pinnedWasmtimeDigest))] : []) + [
            ("wasi", .array(step.wasi.map { .text($0.rawValue) })),
            ("fuel", .unsigned(step.limits.fuel)), ("memory-mib", .unsigned(UInt64(step.limits.memoryMiB))),
            ("timeout-s", .unsigned(UInt64(step.limits.timeoutSeconds))),
            ("inputs", .array(step.inputs.map { .textMap([("name", .text($0.name)), ("from", .text($0.source.description))]) })),
            ("outputs", .array(step.outputs.map {
                .textMap([("name", .text($0.name)), ("max-bytes", .unsigned(UInt64($0.maxBytes))), ("released", .bool($0.released))])
            })),
        ])
    }

    /// Reads and checks the plan at `path`. `named` is called once its CBOR has decoded, before
    /// the checks (the manifest, approvals, digests: the most of the time), with the engines its
    /// components name: a hint for work that may start early, such as opening an engine
    /// library; nothing the plan says is trusted before this returns.
    public static func load(_ path: String, named: (Set<ComponentEngine>) -> Void = { _ in }) throws(PlanError) -> ExecutionPlan {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.read(path, limit: maxBytes)
        } catch {
            throw .file(error)
        }
        return try decode(bytes, named: named)
    }

    /// Decodes and checks plan bytes (see the type's description); `named` as for ``load(_:named:)``.
    public static func decode(_ bytes: [UInt8], named: (Set<ComponentEngine>) -> Void = { _ in }) throws(PlanError) -> ExecutionPlan {
        let item: CBOR
        do {
            item = try CBORDecoder.decode(bytes, limits: CBORDecodingLimits(maxInputBytes: maxBytes, maxDepth: 8, maxItems: 1 << 20),
                                          requireCanonical: true)
        } catch let error as CBORDecodingError {
            throw .cbor(error)
        } catch {
            throw .malformed("\(error)")
        }
        guard item[text: "format"]?.textString == format else { throw .malformed("not a \(format) file") }
        guard item[text: "version"] == .unsigned(version) else {
            throw .malformed("not a \(format) version \(version) file (written by another twocvm release: compose it again)")
        }
        guard let source = item[text: "manifest"]?.byteString, let approvals = item[text: "approvals"]?.arrayItems,
              let components = item[text: "components"]?.arrayItems else { throw .malformed("missing manifest, approvals or components") }
        named(Set(components.compactMap { $0[text: "engine"]?.textString.flatMap(ComponentEngine.init(rawValue:)) }))

        let document = ManifestDocument.parse(source, fileName: "plan:manifest")
        guard let manifest = document.manifest, let digest = document.digest else {
            throw .manifest("the embedded manifest does not lint clean")
        }
        guard item[text: "manifest-digest"]?.byteString == digest.bytes else { throw .manifest("the manifest digest does not match") }
        let approvalBytes = approvals.compactMap(\.byteString)
        let verdict = Approval.verify(approvalBytes.enumerated().map { ("plan:approval[\($0.offset)]", $0.element) },
                                      manifest: manifest, digest: digest)
        guard approvalBytes.count == approvals.count, verdict.complete else {
            throw .approvals(missing: verdict.missing)
        }
        var modules: [String: (file: String, bytes: [UInt8])] = [:]
        for entry in components {
            guard let id = entry[text: "id"]?.textString, let file = entry[text: "file"]?.textString,
                  let module = entry[text: "module"]?.byteString, let component = manifest.component(id) else {
                throw .malformed("a component entry is incomplete or not in the manifest")
            }
            guard ContentDigest(of: module) == component.digest else { throw .moduleDigest(component: id) }
            if let library = entry[text: "engine-library"]?.byteString, library != EngineLibraries.pinnedWasmtimeDigest {
                throw .engineLibrary(component: id, planned: Hex.encode(library))
            }
            modules[id] = (file, module)
        }
        let plan: ExecutionPlan
        do {
            plan = try PlanAssembly.assemble(manifest: manifest, source: source, digest: digest, approvals: approvalBytes, modules: modules)
        } catch {
            throw .assembly(error)
        }
        guard encode(plan) == bytes else { throw .inconsistent("the plan says something its manifest does not") }
        return plan
    }
}

/// Why a plan file cannot be used.
public enum PlanError: TwoCVMError, Sendable {
    /// The plan file cannot be read or is over ``PlanCoding/maxBytes``.
    case file(FileIOError)
    /// Not deterministic CBOR within the plan's bounds.
    case cbor(CBORDecodingError)
    case malformed(String)
    case manifest(String)
    case approvals(missing: [String])
    case moduleDigest(component: String)
    /// Composed for another build of the wasmtime library than this twocvm pins.
    case engineLibrary(component: String, planned: String)
    /// The plan's parts do not make a plan (its components do not order).
    case assembly(ComposeError)
    case inconsistent(String)

    /// A plan that reads as a plan but fails a check (a changed manifest, approval, module or
    /// listing) exits 1; one that is unreadable or of another release exits 2.
    public var exitStatus: ExitStatus {
        switch self {
        case .manifest, .approvals, .moduleDigest, .assembly, .inconsistent: return .checkFailed
        case .file, .cbor, .malformed, .engineLibrary: return .badInput
        }
    }

    public var description: String {
        switch self {
        case let .file(error): return error.description
        case let .cbor(error): return "plan: malformed: \(error)"
        case let .malformed(reason): return "plan: malformed: \(reason)"
        case let .manifest(reason): return "plan: \(reason)"
        case let .approvals(missing): return "plan: approvals missing for \(missing.joined(separator: ", "))"
        case let .moduleDigest(component): return "plan: the module of component \(component) does not have its pinned digest"
        case let .engineLibrary(component, planned):
            return "plan: component \(component) was composed for the wasmtime library sha256:\(planned), but this twocvm "
                + "pins sha256:\(Hex.encode(EngineLibraries.pinnedWasmtimeDigest)); compose the plan again with this release"
        case let .assembly(error): return "plan: \(error)"
        case let .inconsistent(reason): return "plan: \(reason)"
        }
    }
}

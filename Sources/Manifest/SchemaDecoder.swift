import Crypto
import TOMLKit

/// Reads the TOML data model into a draft of the manifest, reporting every schema violation:
/// unknown and missing keys, wrong types, malformed ids, digests and keys, limits out of range.
/// The draft keeps whatever it could read, so the graph rules (`LintRules`) still run on a file
/// with, say, a bad key.
enum SchemaDecoder {
    static let supportedVersion = 1

    static func decode(_ root: TOMLTree, sink: inout DiagnosticSink) -> ManifestDraft {
        let top = TableReader(root, at: ManifestPath())
        top.rejectUnknownKeys(["version", "name", "participants", "components", "data", "channels", "outputs"], sink: &sink)
        var draft = ManifestDraft()
        if let version = top.int("version", sink: &sink), version != supportedVersion {
            sink.report(.unsupportedVersion, path: top.path.key("version"), atValue: true,
                        message: "manifest version \(version) is not supported", hint: "set version = \(supportedVersion)")
        }
        draft.version = supportedVersion
        if let name = top.string("name", sink: &sink) {
            if Identifiers.isManifestName(name) {
                draft.name = name
            } else {
                sink.report(.invalidName, path: top.path.key("name"), atValue: true,
                            message: "name '\(name)' must match [a-z0-9-]{1,64}", hint: "use lowercase letters, digits and '-'")
            }
        }
        draft.participants = top.tables("participants", required: true, sink: &sink).map { decodeParticipant($0, sink: &sink) }
        draft.components = top.tables("components", required: true, sink: &sink).map { decodeComponent($0, sink: &sink) }
        draft.data = top.tables("data", required: false, sink: &sink).map { decodeData($0, sink: &sink) }
        draft.channels = top.tables("channels", required: false, sink: &sink).map { decodeChannel($0, sink: &sink) }
        draft.outputs = top.tables("outputs", required: true, sink: &sink).map { decodeOutput($0, sink: &sink) }
        return draft
    }

    private static func decodeParticipant(_ t: TableReader, sink: inout DiagnosticSink) -> ManifestDraft.ParticipantDraft {
        t.rejectUnknownKeys(["id", "display_name", "signing_key", "encryption_key"], sink: &sink)
        var p = ManifestDraft.ParticipantDraft(path: t.path)
        p.id = t.identifier("id", sink: &sink)
        p.displayName = t.string("display_name", sink: &sink)
        if let name = p.displayName, name.isEmpty || name.count > 128 {
            sink.report(.invalidValue, path: t.path.key("display_name"), atValue: true,
                        message: "display_name must be 1 to 128 characters", hint: "give the organisation's name")
        }
        if let pem = t.string("signing_key", sink: &sink) {
            p.signingKey = parseKey(pem, at: t.path.key("signing_key"), sink: &sink) { try P384.Signing.PublicKey(pemRepresentation: $0) }
        }
        if let pem = t.string("encryption_key", sink: &sink) {
            p.encryptionKey = parseKey(pem, at: t.path.key("encryption_key"), sink: &sink) { try P384.KeyAgreement.PublicKey(pemRepresentation: $0) }
        }
        return p
    }

    private static func decodeComponent(_ t: TableReader, sink: inout DiagnosticSink) -> ManifestDraft.ComponentDraft {
        t.rejectUnknownKeys(["id", "owner", "digest", "engine", "wasi", "limits"], sink: &sink)
        var c = ManifestDraft.ComponentDraft(path: t.path)
        c.id = t.identifier("id", sink: &sink)
        if c.id == "data" {
            sink.report(.invalidID, path: t.path.key("id"), atValue: true,
                        message: "component id 'data' is reserved (channels name datasets as data.<id>)", hint: "choose another id")
        }
        c.owner = t.string("owner", sink: &sink)
        c.digest = t.digest("digest", required: true, sink: &sink)
        if let name = t.string("engine", required: false, sink: &sink) {
            if let engine = ComponentEngine(rawValue: name) {
                c.engine = engine
            } else {
                sink.report(.unknownEngine, path: t.path.key("engine"), atValue: true,
                            message: "unknown engine '\(name)'",
                            hint: "allowed: \(ComponentEngine.allCases.map(\.rawValue).joined(separator: ", ")) (absent means wasmkit)")
            }
        }
        for (index, name) in (t.stringArray("wasi", sink: &sink) ?? []).enumerated() {
            guard let capability = WASICapability(rawValue: name) else {
                sink.report(.unknownCapability, path: t.path.key("wasi").index(index), atValue: true,
                            message: "unknown WASI capability '\(name)'",
                            hint: "allowed: \(WASICapability.allCases.map(\.rawValue).joined(separator: ", ")); channels need none")
                continue
            }
            c.wasi.insert(capability)
        }
        if let limits = t.table("limits", sink: &sink) {
            limits.rejectUnknownKeys(["fuel", "memory_mib", "timeout_s"], sink: &sink)
            let d = ComponentLimits.default
            let fuel = limits.int("fuel", required: false, in: ComponentLimits.fuelRange, sink: &sink) ?? Int(d.fuel)
            let memory = limits.int("memory_mib", required: false, in: ComponentLimits.memoryMiBRange, sink: &sink) ?? d.memoryMiB
            let timeout = limits.int("timeout_s", required: false, in: ComponentLimits.timeoutSecondsRange, sink: &sink) ?? d.timeoutSeconds
            c.limits = ComponentLimits(fuel: UInt64(fuel), memoryMiB: memory, timeoutSeconds: timeout)
        }
        return c
    }

    private static func decodeData(_ t: TableReader, sink: inout DiagnosticSink) -> ManifestDraft.DataDraft {
        t.rejectUnknownKeys(["id", "owner", "digest"], sink: &sink)
        var d = ManifestDraft.DataDraft(path: t.path)
        d.id = t.identifier("id", sink: &sink)
        d.owner = t.string("owner", sink: &sink)
        d.digest = t.digest("digest", required: false, sink: &sink)
        return d
    }

    private static func decodeChannel(_ t: TableReader, sink: inout DiagnosticSink) -> ManifestDraft.ChannelDraft {
        t.rejectUnknownKeys(["from", "to"], sink: &sink)
        var c = ManifestDraft.ChannelDraft(path: t.path)
        if let from = t.string("from", sink: &sink) {
            let parts = from.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 2, Identifiers.isID(parts[0]) || parts[0] == "data", Identifiers.isID(parts[1]) {
                c.from = parts[0] == "data" ? .data(parts[1]) : .component(parts[0], output: parts[1])
            } else {
                sink.report(.invalidValue, path: t.path.key("from"), atValue: true,
                            message: "channel source '\(from)' must be 'data.<data-id>' or '<component-id>.<output-name>'",
                            hint: "e.g. from = \"data.wafer-maps\" or from = \"preprocess.features\"")
            }
        }
        c.to = t.identifier("to", sink: &sink)
        return c
    }

    private static func decodeOutput(_ t: TableReader, sink: inout DiagnosticSink) -> ManifestDraft.OutputDraft {
        t.rejectUnknownKeys(["id", "from", "to", "max_bytes"], sink: &sink)
        var o = ManifestDraft.OutputDraft(path: t.path)
        o.id = t.identifier("id", sink: &sink)
        o.from = t.identifier("from", sink: &sink)
        o.to = t.stringArray("to", required: true, sink: &sink)
        o.maxBytes = t.int("max_bytes", required: false, in: Output.maxBytesRange, sink: &sink) ?? Output.defaultMaxBytes
        return o
    }

    private static func parseKey<Key>(_ pem: String, at path: ManifestPath, sink: inout DiagnosticSink,
                                      _ parse: (String) throws -> Key) -> Key? {
        if pem.contains("PRIVATE KEY") {
            sink.report(.badKey, path: path, atValue: true,
                        message: "\(path) holds a PRIVATE key; the manifest must only contain public keys",
                        hint: "use the .pub.pem file written by `twocvm keygen` and rotate the leaked key")
            return nil
        }
        do {
            return try parse(pem)
        } catch {
            sink.report(.badKey, path: path, atValue: true,
                        message: "\(path) is not an ECDSA P-384 public key in SPKI PEM form",
                        hint: "paste the contents of the .pub.pem file written by `twocvm keygen`")
            return nil
        }
    }
}

/// Identifier rules of SPEC §3.
enum Identifiers {
    /// `[a-z][a-z0-9-]{0,31}`: participant, component, data and output ids.
    static func isID(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard (1...32).contains(u.count), isLower(u[0]) else { return false }
        return u.allSatisfy { isLower($0) || isDigit($0) || $0 == UInt8(ascii: "-") }
    }

    /// `[a-z0-9-]{1,64}`: the manifest name.
    static func isManifestName(_ s: String) -> Bool {
        let u = Array(s.utf8)
        return (1...64).contains(u.count) && u.allSatisfy { isLower($0) || isDigit($0) || $0 == UInt8(ascii: "-") }
    }

    private static func isLower(_ b: UInt8) -> Bool { b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") }
    private static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
}

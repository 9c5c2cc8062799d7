import Manifest
import Sandbox

/// Why `compose` refused, naming the manifest, component, file or import at fault.
public enum ComposeError: TwoCVMError, Sendable {
    /// The manifest cannot be read or has lint errors.
    case manifest(ManifestWorkflowError)
    /// A directory or file could not be read.
    case unreadable(FileIOError)
    /// Not every participant approved this manifest.
    case approvalsIncomplete(missing: [String], invalid: [ApprovalVerdict.Invalid])
    /// No `<id>.wasm` or `<id>.wat` for a component.
    case missingModule(component: String, candidates: [String])
    /// Both `<id>.wasm` and `<id>.wat` exist.
    case ambiguousModule(component: String, files: [String])
    case digestMismatch(component: String, file: String, expected: ContentDigest, actual: ContentDigest)
    /// The sandbox refused the module (Component Model, imports, memory, validation, …).
    case moduleRefused(component: String, file: String, SandboxError)
    /// The engine the manifest names for the component cannot be loaded here.
    case engineUnavailable(component: String, EngineLibraryError)
    case cycle(components: [String])
    /// The component must write outputs, but its module imports no `path_open`: it can create
    /// no file in `/out`.
    case cannotWriteOutputs(component: String, file: String, outputs: [String])

    /// An engine this machine cannot load exits 3; input that cannot be used at all exits 2;
    /// a check that failed (approvals, digests, modules, channels) exits 1.
    public var exitStatus: ExitStatus {
        switch self {
        case .engineUnavailable: return .environment
        case .manifest, .unreadable, .missingModule, .ambiguousModule: return .badInput
        case .approvalsIncomplete, .digestMismatch, .moduleRefused, .cycle, .cannotWriteOutputs: return .checkFailed
        }
    }

    public var description: String {
        switch self {
        case let .manifest(error): return error.description
        case let .unreadable(error): return error.description
        case let .approvalsIncomplete(missing, invalid):
            var lines = missing.isEmpty
                ? ["every participant approved, but \(invalid.count) file(s) in the approvals folder are not valid approvals of this manifest:"]
                : ["not every participant approved this manifest; missing: \(missing.joined(separator: ", "))"]
            lines += invalid.map { "  \($0.file): \($0.reason)" }
            lines.append(missing.isEmpty
                ? "  (remove them, or have their signer sign this manifest again: twocvm manifest sign MANIFEST --key DIR --participant ID -o ID.cose)"
                : "  (each participant runs: twocvm manifest sign MANIFEST --key DIR --participant ID -o ID.cose)")
            return lines.joined(separator: "\n")
        case let .missingModule(component, candidates):
            return "component \(component): no module file (looked for \(candidates.joined(separator: ", ")))"
        case let .ambiguousModule(component, files):
            return "component \(component): both \(files.joined(separator: " and ")) exist; keep the one the digest pins"
        case let .digestMismatch(component, file, expected, actual):
            return "component \(component): \(file) has digest \(actual), but the manifest pins \(expected)\n"
                + "  (if this file is the one to run: put digest = \"\(actual)\" in the manifest's [[components]] entry for "
                + "\(component), have every participant approve the changed manifest again (twocvm manifest sign), and "
                + "measure it again if the VM is locked to it (twocvm launch-measure --manifest); otherwise use the file the "
                + "manifest pins)"
        case let .moduleRefused(component, file, error):
            return "component \(component): \(file) refused: " + error.description.replacingPrefix(file + ": ")
        case let .engineUnavailable(component, error):
            return "component \(component): engine wasmtime unavailable: \(error)"
        case let .cannotWriteOutputs(component, file, outputs):
            return "component \(component): the manifest has it write \(outputs.map { "/out/\($0)" }.joined(separator: ", ")), "
                + "but \(file) imports no wasi_snapshot_preview1.path_open, so it can create no file; the run could only fail "
                + "(fix the manifest's outputs and channels, or the component)"
        case let .cycle(components):
            return "channels form a cycle through: \(components.joined(separator: ", "))"
        }
    }
}

extension String {
    fileprivate func replacingPrefix(_ prefix: String) -> String {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self
    }
}

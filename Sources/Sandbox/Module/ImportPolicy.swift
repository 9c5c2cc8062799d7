/// The import rule of SPEC §8: a component imports only `wasi_snapshot_preview1` functions, with
/// the signatures preview 1 defines, from the groups its manifest entry grants.
public enum ImportPolicy {
    /// Every import of `summary` that breaks the rule under `capabilities`, in import order.
    public static func violations(of summary: ModuleSummary, capabilities: SandboxCapabilities) -> [ImportViolation] {
        let granted = capabilities.groups
        return summary.imports.compactMap { entry -> ImportViolation? in
            guard entry.module == WASIFunction.moduleName else {
                return .foreignModule(module: entry.module, name: entry.name)
            }
            guard case let .function(signature) = entry.kind else {
                return .notAFunction(module: entry.module, name: entry.name, kind: entry.kind.name)
            }
            guard let function = WASIFunction(rawValue: entry.name) else { return .unknownFunction(name: entry.name) }
            switch function.group {
            case .sockets, .signals: return .forbidden(name: entry.name, group: function.group)
            case let group where !granted.contains(group): return .notGranted(name: entry.name, group: group)
            default: break
            }
            guard signature == function.signature else {
                return .wrongSignature(name: entry.name, found: signature, expected: function.signature)
            }
            return nil
        }
    }
}

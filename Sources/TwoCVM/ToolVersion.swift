/// The version of twocvm, printed by `--version` and recorded in evidence bundles.
public enum ToolVersion {
    public static let current = "0.1.0"
}

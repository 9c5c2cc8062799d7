import TwoCVM

/// Human-readable output of `report show` and `report verify`. Field names are the `--json`
/// names, so a line found on screen can be found in the JSON.
enum ReportText {
    /// Every field of `report`, one per line, nested objects indented.
    static func render(_ report: AttestationReport) -> String {
        var lines: [String] = []
        for field in report.summary {
            append(field, indent: "", to: &lines)
        }
        let notes = [
            "policy: \(report.policy)",
            "platform_info: \(report.platformInfo)",
            "signer_info: \(report.signerInfo)",
        ]
        return (lines + [""] + notes).joined(separator: "\n")
    }

    /// One line per check, then the verdict.
    static func render(_ verification: ReportVerification, file: String) -> String {
        let width = verification.checks.map(\.name.rawValue.count).max() ?? 0
        var lines = verification.checks.map { check in
            let name = check.name.rawValue.padding(toLength: width, withPad: " ", startingAt: 0)
            return "\(check.ok ? "pass" : "FAIL")  \(name)  \(check.detail)"
        }
        let failed = verification.checks.filter { !$0.ok }.count
        lines.append(verification.ok
            ? "\(file): verified (\(verification.checks.count) checks passed)"
            : "\(file): NOT verified (\(failed) of \(verification.checks.count) checks failed)")
        return lines.joined(separator: "\n")
    }

    private static func append(_ field: SummaryField, indent: String, to lines: inout [String]) {
        let label = (indent + field.name).padding(toLength: max(24, indent.count + field.name.count + 1), withPad: " ", startingAt: 0)
        switch field.value {
        case let .object(children):
            lines.append(indent + field.name + ":")
            for child in children { append(child, indent: indent + "  ", to: &lines) }
        case let .integer(value): lines.append("\(label)\(value)")
        case let .string(value): lines.append("\(label)\(value)")
        case let .bool(value): lines.append("\(label)\(value)")
        case .null: lines.append("\(label)-")
        }
    }
}

/// One lint finding: a stable code, a severity, where it is, what is wrong, how to fix it.
public struct Diagnostic: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Severity: String, Hashable, Sendable, Codable {
        case error
        case warning
    }

    /// Stable identifier of the rule, e.g. `duplicate-id` (Docs/manifest.md lists them all).
    public let code: String
    public let severity: Severity
    public let file: String
    public let line: Int
    public let column: Int
    /// The manifest path the finding is about (`components[0].owner`), empty for the file.
    public let path: String
    public let message: String
    /// What to change to fix it.
    public let hint: String

    public init(code: String, severity: Severity, file: String, line: Int, column: Int,
                path: String, message: String, hint: String) {
        self.code = code
        self.severity = severity
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.message = message
        self.hint = hint
    }

    /// `file:line:col: error[code]: message (hint: …)`, the form compilers use.
    public var description: String {
        "\(file):\(line):\(column): \(severity.rawValue)[\(code)]: \(message)" + (hint.isEmpty ? "" : " (hint: \(hint))")
    }
}

/// The lint rules, by code. Each rule's code is stable across releases.
public enum LintRule: String, CaseIterable, Sendable {
    // The file itself (exit 2 in `manifest lint`: it could not be read as a manifest).
    case fileTooLarge = "file-too-large"
    case notUTF8 = "not-utf8"
    case tomlSyntax = "toml-syntax"
    case nestingTooDeep = "nesting-too-deep"
    // The data model (they also make the canonical digest undefined).
    case floatValue = "float-value"
    case dateValue = "date-value"
    case keyTooLong = "key-too-long"
    case nulInString = "nul-in-string"
    // The schema.
    case unknownKey = "unknown-key"
    case missingKey = "missing-key"
    case wrongType = "wrong-type"
    case unsupportedVersion = "unsupported-version"
    case invalidName = "invalid-name"
    case invalidID = "invalid-id"
    case invalidValue = "invalid-value"
    case duplicateID = "duplicate-id"
    case malformedDigest = "malformed-digest"
    case badKey = "bad-key"
    case limitOutOfRange = "limit-out-of-range"
    case unknownCapability = "unknown-capability"
    case unknownEngine = "unknown-engine"
    // References and the dataflow graph.
    case unknownOwner = "unknown-owner"
    case danglingReference = "dangling-reference"
    case unknownRecipient = "unknown-recipient"
    case outputWithoutRecipients = "output-without-recipients"
    case inputNameClash = "input-name-clash"
    case duplicateChannel = "duplicate-channel"
    case channelCycle = "channel-cycle"
    case unconsumedData = "unconsumed-data"
    case unreachableComponent = "unreachable-component"

    /// Rules whose finding means the file is not a manifest at all (`manifest lint` exits 2).
    public var makesFileUnreadable: Bool {
        switch self {
        case .fileTooLarge, .notUTF8, .tomlSyntax, .nestingTooDeep: return true
        default: return false
        }
    }
}

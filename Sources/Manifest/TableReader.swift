import TOMLKit

/// Typed, reporting access to one TOML table of the manifest: every read names its path, so a
/// wrong type or a missing key becomes a finding at the right line.
struct TableReader {
    let table: TOMLTree
    let path: ManifestPath

    init(_ table: TOMLTree, at path: ManifestPath) {
        self.table = table
        self.path = path
    }

    /// Reports every key not in `allowed`.
    func rejectUnknownKeys(_ allowed: Set<String>, sink: inout DiagnosticSink) {
        for key in table.keys where !allowed.contains(key) {
            let suggestion = allowed.sorted().joined(separator: ", ")
            sink.report(.unknownKey, path: path.key(key),
                        message: "unknown key '\(key)'" + (path.isEmpty ? "" : " in \(path)"),
                        hint: "allowed keys here: \(suggestion)")
        }
    }

    func string(_ key: String, required: Bool = true, sink: inout DiagnosticSink) -> String? {
        guard let value = present(key, required: required, expected: "a string", sink: &sink) else { return nil }
        guard let s = value.string else { return wrongType(key, value, expected: "a string", sink: &sink) }
        return s
    }

    /// A string that must be a well-formed id (`[a-z][a-z0-9-]{0,31}`).
    func identifier(_ key: String, sink: inout DiagnosticSink) -> String? {
        guard let s = string(key, sink: &sink) else { return nil }
        guard Identifiers.isID(s) else {
            sink.report(.invalidID, path: path.key(key), atValue: true,
                        message: "\(path.key(key)) '\(s)' is not a valid id",
                        hint: "ids match [a-z][a-z0-9-]{0,31}: lowercase letter first, then letters, digits, '-'")
            return nil
        }
        return s
    }

    func int(_ key: String, required: Bool = true, in range: ClosedRange<Int>? = nil, sink: inout DiagnosticSink) -> Int? {
        guard let value = present(key, required: required, expected: "an integer", sink: &sink) else { return nil }
        guard let n = value.int else { return wrongType(key, value, expected: "an integer", sink: &sink) }
        if let range, !range.contains(n) {
            sink.report(.limitOutOfRange, path: path.key(key), atValue: true,
                        message: "\(path.key(key)) = \(n) is outside \(range.lowerBound)...\(range.upperBound)",
                        hint: "choose a value between \(range.lowerBound) and \(range.upperBound)")
            return nil
        }
        return n
    }

    /// A `sha256:<64 hex>` content digest.
    func digest(_ key: String, required: Bool, sink: inout DiagnosticSink) -> ContentDigest? {
        guard let s = string(key, required: required, sink: &sink) else { return nil }
        guard let digest = ContentDigest(s) else {
            sink.report(.malformedDigest, path: path.key(key), atValue: true,
                        message: "\(path.key(key)) '\(s)' is not of the form sha256:<64 lowercase hex>",
                        hint: "compute it with `sha256sum FILE` and write sha256:<hex>")
            return nil
        }
        return digest
    }

    func stringArray(_ key: String, required: Bool = false, sink: inout DiagnosticSink) -> [String]? {
        guard let value = present(key, required: required, expected: "an array of strings", sink: &sink) else { return nil }
        guard let array = value.array else { return wrongType(key, value, expected: "an array of strings", sink: &sink) }
        var strings: [String] = []
        for (index, element) in array.enumerated() {
            guard let s = element.string else {
                sink.report(.wrongType, path: path.key(key).index(index), atValue: true,
                            message: "\(path.key(key).index(index)) is \(element.type.article), expected a string",
                            hint: "quote it")
                continue
            }
            strings.append(s)
        }
        return strings
    }

    /// A sub-table (standard or inline).
    func table(_ key: String, sink: inout DiagnosticSink) -> TableReader? {
        guard let value = present(key, required: false, expected: "a table", sink: &sink) else { return nil }
        guard let t = value.table else { return wrongType(key, value, expected: "a table", sink: &sink) }
        return TableReader(t, at: path.key(key))
    }

    /// An array of tables (`[[key]]`); required ones must have at least one entry.
    func tables(_ key: String, required: Bool, sink: inout DiagnosticSink) -> [TableReader] {
        guard let value = present(key, required: required, expected: "an array of tables ([[\(key)]])", sink: &sink) else {
            return []
        }
        guard let array = value.array else {
            _ = wrongType(key, value, expected: "an array of tables ([[\(key)]])", sink: &sink) as Int?
            return []
        }
        if required && array.isEmpty {
            sink.report(.missingKey, path: path.key(key), message: "\(key) is empty", hint: "add at least one [[\(key)]] entry")
        }
        var readers: [TableReader] = []
        for (index, element) in array.enumerated() {
            guard let t = element.table else {
                sink.report(.wrongType, path: path.key(key).index(index), atValue: true,
                            message: "\(path.key(key).index(index)) is \(element.type.article), expected a table",
                            hint: "write it as a [[\(key)]] section")
                continue
            }
            readers.append(TableReader(t, at: path.key(key).index(index)))
        }
        return readers
    }

    private func present(_ key: String, required: Bool, expected: String, sink: inout DiagnosticSink) -> TOMLNode? {
        if let value = table[key] { return value }
        if required {
            let where_ = path.isEmpty ? "the manifest" : "\(path)"
            sink.report(.missingKey, path: path, message: "\(where_) has no '\(key)' (\(expected))",
                        hint: "add \(key) = …")
        }
        return nil
    }

    private func wrongType<T>(_ key: String, _ value: TOMLNode, expected: String, sink: inout DiagnosticSink) -> T? {
        // Floats and dates are already reported by the data-model check.
        if [.double, .date, .time, .dateTime].contains(value.type) { return nil }
        sink.report(.wrongType, path: path.key(key), atValue: true,
                    message: "\(path.key(key)) is \(value.type.article), expected \(expected)", hint: "change its type")
        return nil
    }
}

extension TOMLType {
    /// "a string", "an integer", … for messages.
    var article: String {
        switch self {
        case .table: return "a table"
        case .array: return "an array"
        case .string: return "a string"
        case .int: return "an integer"
        case .double: return "a floating-point number"
        case .bool: return "a boolean"
        case .date: return "a date"
        case .time: return "a time"
        case .dateTime: return "a date-time"
        }
    }
}

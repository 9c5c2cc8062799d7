import CBOR
import TOMLKit

/// The canonical form of a manifest (SPEC §3), defined on the TOML document's own data model so
/// that any TOML parser plus any deterministic CBOR encoder reproduces it:
///
/// table → map, array → array, string → text string, integer → integer (shortest form),
/// boolean → boolean; nothing added, dropped or defaulted; RFC 8949 §4.2.1 deterministic
/// encoding (map keys sorted bytewise by their encoding). Floats and dates have no canonical
/// form here and keys must be shorter than 24 bytes (so that bytewise order of encoded keys is
/// the same as length-first order, as every deterministic encoder agrees): `checkDataModel`
/// reports any violation, and `encode` is only called on a document without errors.
enum CanonicalForm {
    /// Longest key allowed, in UTF-8 bytes.
    static let maxKeyBytes = 23

    /// Reports floats, dates/times and over-long keys anywhere in the document.
    static func checkDataModel(_ table: TOMLTable, sink: inout DiagnosticSink) {
        checkTable(table, at: ManifestPath(), sink: &sink)
    }

    /// The canonical CBOR bytes of the document.
    static func encode(_ table: TOMLTable) -> [UInt8] {
        cbor(of: table).encoded()
    }

    /// The CBOR value of a table (map with text keys).
    static func cbor(of table: TOMLTable) -> CBOR {
        .map(table.keys.compactMap { key in
            guard let value = table[key] else { return nil }
            return CBOR.Entry(.text(key), cbor(of: value))
        })
    }

    private static func cbor(of value: TOMLValueConvertible) -> CBOR {
        switch value.type {
        case .table: return cbor(of: value.table!)
        case .array: return .array(value.array!.map { cbor(of: $0) })
        case .string: return .text(value.string!)
        case .int: return .int(Int64(value.int!))
        case .bool: return .bool(value.bool!)
        // Excluded by checkDataModel; never reached for a document without errors.
        case .double, .date, .time, .dateTime: return .null
        }
    }

    private static func checkTable(_ table: TOMLTable, at path: ManifestPath, sink: inout DiagnosticSink) {
        for key in table.keys {
            let keyPath = path.key(key)
            if key.utf8.count > maxKeyBytes {
                sink.report(.keyTooLong, path: keyPath,
                            message: "key '\(key)' is \(key.utf8.count) bytes; keys must be shorter than 24 bytes",
                            hint: "use a shorter key (the canonical digest requires it)")
            }
            if let value = table[key] { checkValue(value, at: keyPath, sink: &sink) }
        }
    }

    private static func checkValue(_ value: TOMLValueConvertible, at path: ManifestPath, sink: inout DiagnosticSink) {
        switch value.type {
        case .table:
            checkTable(value.table!, at: path, sink: &sink)
        case .array:
            for (index, element) in value.array!.enumerated() {
                checkValue(element, at: path.index(index), sink: &sink)
            }
        case .double:
            sink.report(.floatValue, path: path, atValue: true,
                        message: "\(path) is a floating-point number; manifests allow integers only",
                        hint: "write an integer (e.g. 256, not 256.0)")
        case .date, .time, .dateTime:
            sink.report(.dateValue, path: path, atValue: true,
                        message: "\(path) is a TOML date or time; manifests do not allow them",
                        hint: "write it as a string if you need it")
        case .string, .int, .bool:
            break
        }
    }
}

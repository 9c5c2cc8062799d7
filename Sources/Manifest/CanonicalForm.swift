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

    /// Reports floats, dates/times and over-long keys anywhere in the document, and returns its
    /// CBOR value, built in the same walk. The value is only meaningful for a document without
    /// errors.
    static func checkDataModel(_ table: TOMLTree, sink: inout DiagnosticSink) -> CBOR {
        checkTable(table, at: ManifestPath(), sink: &sink)
    }

    /// The canonical CBOR bytes of the document.
    static func encode(_ table: TOMLTable) -> [UInt8] {
        var sink = DiagnosticSink(fileName: "")
        return checkDataModel(TOMLTree(table), sink: &sink).encoded()
    }

    private static func checkTable(_ table: TOMLTree, at path: ManifestPath, sink: inout DiagnosticSink) -> CBOR {
        var entries: [CBOR.Entry] = []
        for key in table.keys {
            guard let value = table[key] else { continue }
            if key.utf8.count > maxKeyBytes {
                sink.report(.keyTooLong, path: path.key(key),
                            message: "key '\(key)' is \(key.utf8.count) bytes; keys must be shorter than 24 bytes",
                            hint: "use a shorter key (the canonical digest requires it)")
            }
            entries.append(CBOR.Entry(.text(key), checkValue(value, at: path, key: key, sink: &sink)))
        }
        return .map(entries)
    }

    /// Checks and converts the value under `key` in the table at `path` (or, with no key, the
    /// element at `index` of the array at `path`); paths are built only for a finding.
    private static func checkValue(_ value: TOMLNode, at path: ManifestPath, key: String? = nil, index: Int = 0,
                                   sink: inout DiagnosticSink) -> CBOR {
        func here() -> ManifestPath { key.map { path.key($0) } ?? path.index(index) }
        switch value {
        case let .table(table):
            return checkTable(table, at: here(), sink: &sink)
        case let .array(elements):
            let elementsPath = here()
            return .array(elements.enumerated().map { element in
                checkValue(element.element, at: elementsPath, index: element.offset, sink: &sink)
            })
        case let .string(s):
            return .text(s)
        case let .int(n):
            return .int(Int64(n))
        case let .bool(b):
            return .bool(b)
        case .other(.double):
            sink.report(.floatValue, path: here(), atValue: true,
                        message: "\(here()) is a floating-point number; manifests allow integers only",
                        hint: "write an integer (e.g. 256, not 256.0)")
            return .null
        case .other:
            sink.report(.dateValue, path: here(), atValue: true,
                        message: "\(here()) is a TOML date or time; manifests do not allow them",
                        hint: "write it as a string if you need it")
            return .null
        }
    }
}

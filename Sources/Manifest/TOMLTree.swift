import TOMLKit

/// The parsed TOML document as plain Swift values, converted from TOMLKit's tree in one walk.
///
/// TOMLKit answers every `keys`, `table[key]` and `type` by calling into toml++ and building
/// new Swift values, and the manifest's checks (data model, schema, canonical CBOR) read each
/// key several times; on the 1 MiB benchmark manifest those accessors cost more than the parse.
/// So the document is read out of TOMLKit once, here, and everything after works on this tree.
indirect enum TOMLNode {
    case table(TOMLTree)
    case array([TOMLNode])
    case string(String)
    case int(Int)
    case bool(Bool)
    /// A float, date, time or date-time: the manifest allows none, so only its type is kept.
    case other(TOMLType)

    init(_ value: TOMLValueConvertible) {
        switch value.type {
        case .table: self = .table(TOMLTree(value.table!))
        case .array: self = .array(value.array!.map { TOMLNode($0) })
        case .string: self = .string(value.string!)
        case .int: self = .int(value.int!)
        case .bool: self = .bool(value.bool!)
        case let other: self = .other(other)
        }
    }

    var type: TOMLType {
        switch self {
        case .table: return .table
        case .array: return .array
        case .string: return .string
        case .int: return .int
        case .bool: return .bool
        case let .other(type): return type
        }
    }

    var string: String? { if case let .string(s) = self { return s } else { return nil } }
    var int: Int? { if case let .int(n) = self { return n } else { return nil } }
    var array: [TOMLNode]? { if case let .array(a) = self { return a } else { return nil } }
    var table: TOMLTree? { if case let .table(t) = self { return t } else { return nil } }
}

/// A TOML table: its keys in document order and their values.
struct TOMLTree {
    /// Keys in the order TOMLKit gives them.
    let keys: [String]
    private let values: [String: TOMLNode]

    init(_ table: TOMLTable) {
        // `keys` and `values` walk the same toml++ table in the same order, one call each;
        // a lookup per key (`table[key]`) would search the table again for every entry.
        let keys = table.keys
        let nodes = table.values
        precondition(keys.count == nodes.count, "TOMLKit gave \(keys.count) keys and \(nodes.count) values")
        var values: [String: TOMLNode] = [:]
        values.reserveCapacity(keys.count)
        for (key, value) in zip(keys, nodes) {
            values[key] = TOMLNode(value)
        }
        self.keys = keys
        self.values = values
    }

    subscript(key: String) -> TOMLNode? { values[key] }
}

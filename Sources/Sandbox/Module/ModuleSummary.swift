import WasmKit  // re-exports WasmTypes (CompositeType, ValueType)
import WasmParser

/// What the checks need to know about a module, parsed from its binary: imports with their
/// signatures, the declared linear memory, and the exports a WASI command needs.
public struct ModuleSummary: Sendable, Equatable {
    /// One import, named `module.name`.
    public struct Import: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            case function(WasmSignature)
            case table, memory, global, tag

            public var name: String {
                switch self {
                case .function: return "function"
                case .table: return "table"
                case .memory: return "memory"
                case .global: return "global"
                case .tag: return "tag"
                }
            }
        }

        public let module: String
        public let name: String
        public let kind: Kind
    }

    public let imports: [Import]
    /// The initial size of the module's own linear memory in bytes (0 if it defines none).
    public let initialMemoryBytes: UInt64
    /// The declared maximum of its own memory in bytes, if it declares one.
    public let maximumMemoryBytes: UInt64?
    /// The largest initial size of any table the module defines, in elements.
    public let largestInitialTable: UInt64
    /// Whether the module exports the WASI command entry point `_start`.
    public let exportsStart: Bool
    /// Whether the module exports its memory as `memory`.
    public let exportsMemory: Bool
    /// Whether the module has a start section (a function run during instantiation).
    public let hasStartSection: Bool

    /// Parses `binary` (a core module) far enough to fill in the summary.
    init(parsing binary: [UInt8], name: String) throws(SandboxError) {
        var parser = Parser(bytes: binary)
        var types: [CompositeType] = []
        var imports: [Import] = []
        var memories: [Limits] = []
        var tables: [Limits] = []
        var exports: [Export] = []
        var hasStart = false
        do {
            while let payload = try parser.parseNext() {
                switch payload {
                case let .typeSection(groups): types = groups.flatMap { $0.types.map(\.body) }
                case let .importSection(entries): imports = entries.map { Self.summarize($0, types: types) }
                case let .memorySection(entries): memories = entries.map(\.type)
                case let .tableSection(entries): tables = entries.map(\.type.limits)
                case let .exportSection(entries): exports = entries
                case .startSection: hasStart = true
                default: break
                }
            }
        } catch {
            throw .malformed(module: name, reason: String(describing: error))
        }
        let memory = memories.first
        self.imports = imports
        initialMemoryBytes = (memory?.min ?? 0).multipliedReportingOverflow(by: WasmPage.size).partialValue
        maximumMemoryBytes = memory?.max.map { $0.multipliedReportingOverflow(by: WasmPage.size).partialValue }
        largestInitialTable = tables.map(\.min).max() ?? 0
        exportsStart = exports.contains { $0.name == "_start" && { if case .function = $0.descriptor { return true } else { return false } }($0) }
        exportsMemory = exports.contains { $0.name == "memory" && { if case .memory = $0.descriptor { return true } else { return false } }($0) }
        hasStartSection = hasStart
    }

    private static func summarize(_ entry: WasmParser.Import, types: [CompositeType]) -> Import {
        let kind: Import.Kind
        switch entry.descriptor {
        case let .function(index):
            if Int(index) < types.count, case let .function(type) = types[Int(index)] {
                kind = .function(WasmSignature(parameters: type.parameters.map(Self.valueType),
                                               results: type.results.map(Self.valueType)))
            } else {
                kind = .function(WasmSignature(parameters: [], results: [.ref]))  // not a function type: never matches
            }
        case .table: kind = .table
        case .memory: kind = .memory
        case .global: kind = .global
        case .tag: kind = .tag
        }
        return Import(module: entry.module, name: entry.name, kind: kind)
    }

    private static func valueType(_ type: ValueType) -> WasmValueType {
        switch type {
        case .i32: return .i32
        case .i64: return .i64
        case .f32: return .f32
        case .f64: return .f64
        case .v128: return .v128
        case .ref: return .ref
        }
    }
}

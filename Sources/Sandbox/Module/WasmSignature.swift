/// A Wasm value type, as far as the sandbox needs to tell them apart.
public enum WasmValueType: String, Sendable, Equatable {
    case i32, i64, f32, f64, v128, ref
}

/// A function signature, printed `(i32, i64) -> i32`.
public struct WasmSignature: Equatable, Sendable, CustomStringConvertible {
    public let parameters: [WasmValueType]
    public let results: [WasmValueType]

    public init(parameters: [WasmValueType], results: [WasmValueType]) {
        self.parameters = parameters
        self.results = results
    }

    public var description: String {
        let results = self.results.isEmpty ? "()" : self.results.map(\.rawValue).joined(separator: ", ")
        return "(\(parameters.map(\.rawValue).joined(separator: ", "))) -> \(results)"
    }
}

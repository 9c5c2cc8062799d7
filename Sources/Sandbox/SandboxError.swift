/// Why a module was refused before it ran. Each case names the module (its file or component
/// name) and what is wrong with it.
public enum SandboxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Neither a Wasm binary (`\0asm`) nor WebAssembly text.
    case notWebAssembly(module: String)
    /// A Component Model binary or text (`(component …)`).
    case componentModel(module: String)
    /// The binary does not parse.
    case malformed(module: String, reason: String)
    /// The text format does not parse.
    case textSyntax(module: String, reason: String)
    /// The module parses but is not valid (types, function bodies, limits).
    case invalid(module: String, reason: String)
    /// The module is larger than the sandbox accepts.
    case tooLarge(module: String, size: Int, limit: Int)
    /// Imports outside what the component may use.
    case importsRefused(module: String, violations: [ImportViolation])
    /// No `_start` export: not a WASI command.
    case notACommand(module: String)
    /// No exported memory named `memory`, which WASI needs to pass data.
    case noExportedMemory(module: String)
    /// The module declares more initial linear memory (or table) than its limit allows.
    case initialMemoryTooLarge(module: String, bytes: UInt64, limit: UInt64)
    case initialTableTooLarge(module: String, elements: UInt64, limit: UInt64)
    /// A feature the sandbox does not admit (shared or 64-bit memory, several memories).
    case unsupportedFeature(module: String, feature: String)
    /// The engine's library could not be opened (wasmtime: verified, but dlopen failed).
    case engineUnavailable(module: String, reason: String)

    public var description: String {
        switch self {
        case let .notWebAssembly(module):
            return "\(module): not WebAssembly (neither a binary starting with \\0asm nor WebAssembly text)"
        case let .componentModel(module):
            return "\(module): is a WebAssembly Component Model component; twocvm runs wasm32-wasi preview 1 core modules "
                + "(build for wasm32-wasip1 / wasm32-wasi, not wasm32-wasip2, or adapt it back to a core module)"
        case let .malformed(module, reason): return "\(module): malformed Wasm binary: \(reason)"
        case let .textSyntax(module, reason): return "\(module): WebAssembly text does not parse: \(reason)"
        case let .invalid(module, reason): return "\(module): invalid module: \(reason)"
        case let .tooLarge(module, size, limit): return "\(module): \(size) bytes, over the limit of \(limit) bytes"
        case let .importsRefused(module, violations):
            return "\(module): refused imports:\n" + violations.map { "  \($0)" }.joined(separator: "\n")
        case let .notACommand(module): return "\(module): exports no `_start` function (not a WASI command module)"
        case let .noExportedMemory(module): return "\(module): exports no memory named `memory` (WASI needs it)"
        case let .initialMemoryTooLarge(module, bytes, limit):
            return "\(module): declares \(bytes) bytes of initial memory, over its limit of \(limit) bytes (memory_mib)"
        case let .initialTableTooLarge(module, elements, limit):
            return "\(module): declares a table of \(elements) elements, over the sandbox limit of \(limit)"
        case let .unsupportedFeature(module, feature): return "\(module): uses \(feature), which the sandbox does not admit"
        case let .engineUnavailable(module, reason): return "\(module): engine unavailable: \(reason)"
        }
    }
}

/// One import a component may not have, naming it as `module.name`.
public enum ImportViolation: Equatable, Sendable, CustomStringConvertible {
    /// Imported from another module than `wasi_snapshot_preview1`.
    case foreignModule(module: String, name: String)
    /// A memory, table, global or tag import (only functions are provided).
    case notAFunction(module: String, name: String, kind: String)
    /// A name WASI preview 1 does not define.
    case unknownFunction(name: String)
    /// The function is imported with another signature than preview 1 defines.
    case wrongSignature(name: String, found: WasmSignature, expected: WasmSignature)
    /// The function belongs to a group the manifest's `wasi` list does not grant.
    case notGranted(name: String, group: WASIGroup)
    /// The function belongs to a group no component may have (`sock_*`, `proc_raise`).
    case forbidden(name: String, group: WASIGroup)

    public var description: String {
        let preview1 = WASIFunction.moduleName
        switch self {
        case let .foreignModule(module, name):
            return "\(module).\(name): only \(preview1) functions may be imported"
        case let .notAFunction(module, name, kind):
            return "\(module).\(name): imports a \(kind); only functions may be imported"
        case let .unknownFunction(name): return "\(preview1).\(name): not a WASI preview 1 function"
        case let .wrongSignature(name, found, expected):
            return "\(preview1).\(name): imported as \(found), but WASI preview 1 defines \(expected)"
        case let .notGranted(name, group):
            return "\(preview1).\(name): needs wasi = [\"\(group.rawValue)\"] in the manifest"
        case let .forbidden(name, group):
            return "\(preview1).\(name): \(group == .sockets ? "sockets are" : "\(group.rawValue) are") never available to a component"
        }
    }
}

import Foundation
import Manifest
import Sandbox

/// The engines a command may need, resolved when first needed: WasmKit is built in; wasmtime
/// comes from its pinned C library, looked up in order: `--engine-library`, the
/// `TWOCVM_WASMTIME_LIBRARY` environment variable, `<prefix>/lib/twocvm/libwasmtime.so` beside
/// the installed binary, then a development checkout's `.venv` (see
/// ``WasmtimeLibrary/candidates(explicit:environment:executable:)``). The library is verified
/// (SHA-256) once per process, and once per file where the compiled-module cache remembers it.
public struct EngineLibraries: Sendable {
    /// `--engine-library`, when given.
    public let explicitLibrary: String?

    public init(explicitLibrary: String? = nil) {
        self.explicitLibrary = explicitLibrary
    }

    /// SHA-256 of the wasmtime library this twocvm pins, as plans and receipts record it.
    public static let pinnedWasmtimeDigest: [UInt8] = Hex.decode(WasmtimeLibrary.pinnedDigest)!

    /// The runtime for `engine`, loading the wasmtime library on first use.
    public func runtime(for engine: ComponentEngine) throws(EngineLibraryError) -> SandboxRuntime {
        switch engine {
        case .wasmkit: return .wasmkit
        case .wasmtime:
            let environment = ProcessInfo.processInfo.environment
            return .wasmtime(try WasmtimeLibrary.locate(explicit: explicitLibrary, environment: environment,
                                                        executable: RunningExecutable.path,
                                                        records: try Self.compiledModuleCache(environment: environment)))
        }
    }

    /// The environment variable that moves (`TWOCVM_ENGINE_CACHE=/abs/folder`) or switches off
    /// (`TWOCVM_ENGINE_CACHE=off`) the compiled-module cache.
    public static let cacheVariable = "TWOCVM_ENGINE_CACHE"

    /// The compiled-module cache `twocvm run` uses: the folder `TWOCVM_ENGINE_CACHE` names, none
    /// when it says `off`, the per-user default (``CompiledModuleCache/userDefault(environment:)``)
    /// when it is unset or empty. Any other value is refused rather than read as "on": the cache
    /// holds native code, so a mistyped `OFF` must not switch it on.
    public static func compiledModuleCache(environment: [String: String]) throws(EngineLibraryError) -> CompiledModuleCache? {
        switch environment[cacheVariable] {
        case "off"?: return nil
        case let folder? where folder.hasPrefix("/"): return CompiledModuleCache(directory: folder)
        case nil, ""?: return CompiledModuleCache.userDefault(environment: environment)
        case let value?: throw .cacheSetting(variable: cacheVariable, value: value)
        }
    }
}

extension SandboxRuntime {
    /// The SHA-256 of the engine's library for plans and receipts; nil for the built-in WasmKit.
    public var libraryDigest: [UInt8]? {
        switch self {
        case .wasmkit: return nil
        case .wasmtime: return EngineLibraries.pinnedWasmtimeDigest
        }
    }
}

import WasmKit

/// ``SandboxEngine`` on WasmKit's public API: fuel metering on every store, WASI functions
/// linked from ``WASIHost`` for exactly the imports the module declares. Validation compiles
/// eagerly (every function body is validated before `compose` admits a module); a run uses the
/// request's ``SandboxEngineSettings`` (by default lazy: a body is validated and translated on
/// its first call, so a run pays only for the functions it calls).
struct WasmKitEngine: SandboxEngine {
    fileprivate static func makeStore(_ settings: SandboxEngineSettings) -> Store {
        let configuration = EngineConfiguration(
            // direct threading and guard pages where the platform has them (nil: its default)
            threadingModel: settings.dispatch == .direct ? nil : .token,
            compilationMode: settings.compilation == .eager ? .eager : .lazy,
            memoryBoundsChecking: settings.boundsChecking == .guardPages ? nil : .software,
            fuelMetering: true)
        return Store(engine: Engine(configuration: configuration))
    }

    func validate(binary: [UInt8], imports declared: [ModuleSummary.Import], module: String) throws(SandboxError) {
        let parsed: Module
        do {
            parsed = try parseWasm(bytes: binary)
        } catch {
            throw .malformed(module: module, reason: String(describing: error))
        }
        let store = Self.makeStore(.baseline)  // eager: every function body is validated here
        store.fuel = Fuel(remaining: 0)
        var imports = Imports()
        for entry in declared {
            guard case let .function(signature) = entry.kind else { continue }
            let type = FunctionType(parameters: signature.parameters.map(Self.valueType),
                                    results: signature.results.map(Self.valueType))
            imports.define(module: entry.module, name: entry.name,
                           Function(store: store, type: type) { _, _ in
                               throw ValidationOnly()
                           })
        }
        do {
            _ = try parsed.instantiate(store: store, imports: imports)
        } catch {
            throw .invalid(module: module, reason: Self.describe(error))
        }
    }

    /// Parses the module (an interpreter has nothing worth caching: `cache` is not used).
    func load(binary: [UInt8], imports: [ModuleSummary.Import], module: String,
              settings: SandboxEngineSettings, cache: CompiledModuleCache?) throws(SandboxError) -> any LoadedModule {
        do {
            return WasmKitModule(parsed: try parseWasm(bytes: binary), settings: settings)
        } catch {
            throw .malformed(module: module, reason: String(describing: error))
        }
    }

    /// A parsed module and the settings to run it with.
    private struct WasmKitModule: LoadedModule {
        let parsed: Module
        let settings: SandboxEngineSettings

        func run(host: WASIHost, limits: SandboxLimits) -> EngineRun {
            let store = WasmKitEngine.makeStore(settings)
            let fuel = limits.fuel
            store.fuel = Fuel(remaining: fuel)
            var instance: Instance?
            func finish(_ ending: EngineRun.Ending) -> EngineRun {
                let remaining = store.fuel?.remaining ?? 0
                let memoryBytes = instance?.exports[memory: "memory"]?.byteCount ?? 0
                return EngineRun(ending: ending, fuelUsed: fuel - min(fuel, remaining), memoryBytes: memoryBytes)
            }
            var imports = Imports()
            for entry in parsed.imports {
                guard entry.module == WASIFunction.moduleName, let function = WASIFunction(rawValue: entry.name),
                      host.provides(function) else { continue }  // unlinked: instantiation fails, naming it
                imports.define(module: entry.module, name: entry.name, WasmKitEngine.link(function, host: host, store: store))
            }
            do {
                instance = try parsed.instantiate(store: store, imports: imports)
                guard let start = instance?.exports[function: "_start"] else {
                    return finish(.notInstantiated("no _start export"))
                }
                _ = try start()
                return finish(.returned)
            } catch let stop as HostStop {
                return finish(.stopped(stop))
            } catch let trap as Trap {
                let message = WasmKitEngine.describe(trap)
                return finish(message.hasPrefix("out of fuel") ? .outOfFuel : .trap(message))
            } catch {
                guard instance != nil else { return finish(.notInstantiated(WasmKitEngine.describe(error))) }
                return finish(.trap(WasmKitEngine.describe(error)))
            }
        }
    }

    /// A WasmKit host function calling the WASI host with raw integer arguments and the calling
    /// instance's exported memory.
    fileprivate static func link(_ function: WASIFunction, host: WASIHost, store: Store) -> Function {
        let signature = function.signature
        let type = FunctionType(parameters: signature.parameters.map(Self.valueType), results: signature.results.map(Self.valueType))
        return Function(store: store, type: type) { caller, arguments in
            guard let memory = caller.instance?.exports[memory: "memory"] else {
                throw HostStop.violation(.trap(message: "WASI call \(function.rawValue) without an exported memory"))
            }
            let raw = arguments.map { value -> UInt64 in
                switch value {
                case let .i32(bits): return UInt64(bits)
                case let .i64(bits): return bits
                default: return 0
                }
            }
            guard let errno = try host.call(function, raw, memory: WasmKitMemory(memory: memory)) else { return [] }
            return [.i32(errno)]
        }
    }

    private static func valueType(_ type: WasmValueType) -> ValueType {
        switch type {
        case .i32: return .i32
        case .i64: return .i64
        case .f32: return .f32
        case .f64: return .f64
        case .v128: return .v128
        case .ref: return .ref(.funcRef)
        }
    }

    /// The text of a WasmKit error without the "Trap: " prefix and backtrace.
    static func describe(_ error: any Error) -> String {
        var text = String(describing: error)
        if text.hasPrefix("Trap: ") { text.removeFirst(6) }
        return text.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? text
    }
}

/// Thrown by the stand-in imports used while validating; they are never called, because the
/// start section is removed and nothing else runs during instantiation.
private struct ValidationOnly: Error {}

/// WasmKit's memory behind the engine-neutral ``GuestMemory``.
private struct WasmKitMemory: GuestMemory {
    let memory: Memory

    var byteCount: Int { memory.byteCount }

    func withUncheckedBytes<T>(at address: Int, count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> T) rethrows -> T {
        try memory.withUnsafeMutableBufferPointer(offset: UInt(address), count: count, body)
    }
}

import CWasmtime
import Glibc

/// ``SandboxEngine`` on wasmtime's C API (Cranelift): the module is compiled to native code
/// (on wasmtime's compiler thread pool: compiling a wasi-libc module with fuel instrumentation
/// takes about half as long on two cores as on the calling thread alone, and compilation is
/// most of a short run; the threads are created before the child's lockdown and only wait
/// after it), then instantiated in a store of its own with fuel metering, a store limiter on
/// memory, tables and instances, and a bounded wasm stack.
///
/// The wall-clock limit rides on the fuel metering instead of a second instrumentation: the
/// guest runs on a wasmtime fiber (its async call API) and gives control back every
/// ``fuelYieldInterval`` units of fuel, at the same loop headers and function entries where
/// epoch interruption would check; the calling thread then reads the clock and, past the
/// deadline, cancels the call, which unwinds the guest's stack. Epoch interruption would put
/// a second check (a load and a compare) beside each fuel check, which cost 3–7% of the
/// benchmark kernels' time in an interleaved A/B (Docs/sandbox.md).
///
/// The component sees exactly what it sees on WasmKit: the project's ``WASIHost`` (in-memory
/// `/in` and `/out`, no host files, no environment, clocks and randomness only when granted),
/// linked function by function as host functions over wasmtime's linear memory. wasmtime's own
/// WASI, which opens host files, is never used. Threads, 64-bit memories and several memories
/// are switched off in the engine's configuration, as ``ModuleRewriter`` already refuses them.
/// Loading (compilation) maps executable code; running never does, so a component's child
/// compiles before its seccomp lockdown and runs after it (Docs/sandbox.md).
struct WasmtimeEngine: SandboxEngine {
    let library: WasmtimeLibrary

    /// The most native stack wasm code may use before it traps ("call stack exhausted"): twice
    /// wasmtime's default.
    static let maxWasmStackBytes = 1 << 20

    /// The size of the fiber stack the guest runs on: the wasm stack plus 4 MiB for the host
    /// functions it calls (wasmtime guarantees them the difference). Mapped per run, and only
    /// the pages touched become resident.
    static let fiberStackBytes = maxWasmStackBytes + (4 << 20)

    /// How much fuel the guest burns between two looks at the clock: about 2–5 ms of compiled
    /// code, so a run stops within milliseconds of its wall-clock limit (whole seconds), and the
    /// yields cost nothing measurable.
    static let fuelYieldInterval: UInt64 = 1 << 22

    func validate(binary: [UInt8], imports: [ModuleSummary.Import], module: String) throws(SandboxError) {
        let api = library.api
        let engine = makeEngine()
        defer { api.wasm_engine_delete(engine) }
        let error = binary.withUnsafeBufferPointer { api.wasmtime_module_validate(engine, $0.baseAddress, $0.count) }
        if let error { throw .invalid(module: module, reason: WasmtimeMessage.take(error: error, api)) }
    }

    func load(binary: [UInt8], imports: [ModuleSummary.Import], module: String,
              settings: SandboxEngineSettings, cache: CompiledModuleCache?) throws(SandboxError) -> any LoadedModule {
        let api = library.api
        let engine = makeEngine()
        let key = cache?.key(for: binary, engine: "wasmtime \(library.digest) \(Self.configuration)")
        if let cache, let key, let entry = cache.load(key: key) {
            var compiled: OpaquePointer?
            let error = entry.withUnsafeBufferPointer { api.wasmtime_module_deserialize(engine, $0.baseAddress, $0.count, &compiled) }
            if let error { api.wasmtime_error_delete(error) }  // another version's or a damaged entry: compile again
            else if let compiled { return WasmtimeModule(library: library, engine: engine, module: compiled, imports: imports) }
        }
        var compiled: OpaquePointer?
        let error = binary.withUnsafeBufferPointer { api.wasmtime_module_new(engine, $0.baseAddress, $0.count, &compiled) }
        if let error {
            api.wasm_engine_delete(engine)
            throw .invalid(module: module, reason: WasmtimeMessage.take(error: error, api))
        }
        if let cache, let key {
            var serialized = twocvm_wasm_byte_vec()
            if let error = api.wasmtime_module_serialize(compiled, &serialized) {
                api.wasmtime_error_delete(error)
            } else {
                if let data = serialized.data { cache.store(Array(UnsafeBufferPointer(start: data, count: serialized.size)), key: key) }
                api.wasm_byte_vec_delete(&serialized)
            }
        }
        return WasmtimeModule(library: library, engine: engine, module: compiled!, imports: imports)
    }

    /// The configuration ``makeEngine()`` sets, as compiled-module cache entries record it: a
    /// change to one must change the other.
    static let configuration = "fuel stack=\(maxWasmStackBytes) fiber-stack=\(fiberStackBytes) parallel-compilation no-threads no-memory64 no-multi-memory no-cow"

    /// An engine with the sandbox's configuration, one per module.
    private func makeEngine() -> OpaquePointer {
        let api = library.api
        let config = api.wasm_config_new()
        api.wasmtime_config_consume_fuel_set(config, true)
        api.wasmtime_config_max_wasm_stack_set(config, Self.maxWasmStackBytes)
        api.wasmtime_config_async_stack_size_set(config, Self.fiberStackBytes)
        api.wasmtime_config_parallel_compilation_set(config, true)
        api.wasmtime_config_wasm_threads_set(config, false)
        api.wasmtime_config_wasm_memory64_set(config, false)
        api.wasmtime_config_wasm_multi_memory_set(config, false)
        // Data segments are copied in at instantiation rather than mapped copy-on-write from a
        // memfd, which would be created on first instantiation: after the child's lockdown.
        api.wasmtime_config_memory_init_cow_set(config, false)
        return api.wasm_engine_new_with_config(config)!  // takes the config
    }
}

/// A compiled module and the engine that owns its code.
private final class WasmtimeModule: LoadedModule, @unchecked Sendable {
    let library: WasmtimeLibrary
    let engine: OpaquePointer
    let module: OpaquePointer
    let imports: [ModuleSummary.Import]

    init(library: WasmtimeLibrary, engine: OpaquePointer, module: OpaquePointer, imports: [ModuleSummary.Import]) {
        self.library = library
        self.engine = engine
        self.module = module
        self.imports = imports
    }

    deinit {
        library.api.wasmtime_module_delete(module)
        library.api.wasm_engine_delete(engine)
    }

    func run(host: WASIHost, limits: SandboxLimits) -> EngineRun {
        let api = library.api
        let store = api.wasmtime_store_new(engine, nil, nil)!
        defer { api.wasmtime_store_delete(store) }
        api.wasmtime_store_limiter(store, Int64(limits.memoryPages * WasmPage.size), Int64(ModuleRewriter.maxTableElements),
                                   1, -1, 1)
        let context = api.wasmtime_store_context(store)!
        for error in [api.wasmtime_context_set_fuel(context, limits.fuel),
                      api.wasmtime_context_fuel_async_yield_interval(context, WasmtimeEngine.fuelYieldInterval)] {
            if let error {
                return EngineRun(ending: .notInstantiated(WasmtimeMessage.take(error: error, api)), fuelUsed: 0, memoryBytes: 0)
            }
        }
        let state = RunState()
        let deadline = limits.wallClockSeconds.map { WallClockDeadline(seconds: $0) }

        let linker = api.wasmtime_linker_new(engine)!
        defer { api.wasmtime_linker_delete(linker) }
        for entry in imports {
            guard entry.module == WASIFunction.moduleName, let function = WASIFunction(rawValue: entry.name),
                  host.provides(function) else { continue }  // unlinked: instantiation fails, naming it
            if let error = WasmtimeHostFunction.define(function, in: linker, host: host, state: state, library: library) {
                return EngineRun(ending: .notInstantiated(WasmtimeMessage.take(error: error, api)), fuelUsed: 0, memoryBytes: 0)
            }
        }

        // The futures below write the instance and the function they call through pointers
        // that must stay valid until they are deleted: memory of the run's own, not `&local`.
        let instance = UnsafeMutablePointer<twocvm_wasmtime_instance>.allocate(capacity: 1)
        let start = UnsafeMutablePointer<twocvm_wasmtime_func>.allocate(capacity: 1)
        instance.initialize(to: twocvm_wasmtime_instance())
        start.initialize(to: twocvm_wasmtime_func())
        defer { instance.deallocate(); start.deallocate() }
        var instantiated = false
        func finish(_ ending: EngineRun.Ending) -> EngineRun {
            var remaining: UInt64 = 0
            if let error = api.wasmtime_context_get_fuel(context, &remaining) { api.wasmtime_error_delete(error) }
            var memory = twocvm_wasmtime_extern()
            let memoryBytes = instantiated && api.wasmtime_instance_export_get(context, instance, "memory", 6, &memory)
                && memory.kind == UInt8(TWOCVM_WASMTIME_EXTERN_MEMORY)
                ? api.wasmtime_memory_data_size(context, &memory.of.memory) : 0
            return EngineRun(ending: ending, fuelUsed: limits.fuel - min(limits.fuel, remaining), memoryBytes: memoryBytes)
        }

        // Instantiation runs the module's start function, if it has one: guest code, so it is
        // driven (and stopped at the deadline) like the call below.
        let instantiation = drive(until: deadline) { trap, error in
            api.wasmtime_linker_instantiate_async(linker, context, module, instance, trap, error)
        }
        switch instantiation {
        case .interrupted: return finish(.interrupted)
        case .returned: break
        case let .failed(trap, error):
            if trap == nil, let error { return finish(.notInstantiated(WasmtimeMessage.take(error: error, api))) }
            instantiated = true  // the start function trapped: the instance existed
            return finish(ending(trap: trap, error: error, state: state))
        }
        instantiated = true
        var export = twocvm_wasmtime_extern()
        guard api.wasmtime_instance_export_get(context, instance, "_start", 6, &export),
              export.kind == UInt8(TWOCVM_WASMTIME_EXTERN_FUNC) else {
            return finish(.notInstantiated("no _start export"))
        }
        start.pointee = export.of.func
        switch drive(until: deadline, { trap, error in api.wasmtime_func_call_async(context, start, nil, 0, nil, 0, trap, error) }) {
        case .returned: return finish(.returned)
        case .interrupted: return finish(.interrupted)
        case let .failed(trap, error): return finish(ending(trap: trap, error: error, state: state))
        }
    }

    /// How a call driven by ``drive(until:_:)`` ended.
    private enum CallOutcome {
        case returned
        /// A trap or an error, each owned by the receiver.
        case failed(trap: OpaquePointer?, error: OpaquePointer?)
        /// The deadline passed first.
        case interrupted
    }

    /// Starts an async call (`begin` makes its future, given where to write its trap and
    /// error) and runs it to its end, looking at the clock each time the guest yields (every
    /// ``WasmtimeEngine/fuelYieldInterval`` units of fuel). When the deadline passes first,
    /// the future is deleted unfinished, which unwinds the guest's stack and leaves the store
    /// usable (its fuel and memory can still be read).
    private func drive(until deadline: WallClockDeadline?,
                       _ begin: (UnsafeMutablePointer<OpaquePointer?>, UnsafeMutablePointer<OpaquePointer?>) -> OpaquePointer?) -> CallOutcome {
        let api = library.apiTable
        var trap: OpaquePointer?, error: OpaquePointer?
        let finished = withUnsafeMutablePointer(to: &trap) { trapSlot in
            withUnsafeMutablePointer(to: &error) { errorSlot in
                guard let future = begin(trapSlot, errorSlot) else { return true }  // not started: the error says why
                defer { api.pointee.wasmtime_call_future_delete(future) }
                while !api.pointee.wasmtime_call_future_poll(future) {
                    if let deadline, deadline.hasPassed { return false }
                }
                return true
            }
        }
        guard finished else {
            if let trap { api.pointee.wasm_trap_delete(trap) }
            if let error { api.pointee.wasmtime_error_delete(error) }
            return .interrupted
        }
        return trap == nil && error == nil ? .returned : .failed(trap: trap, error: error)
    }

    /// How a call that failed ended: a host stop first (its trap only carried it out), then
    /// wasmtime's trap code.
    private func ending(trap: OpaquePointer?, error: OpaquePointer?, state: RunState) -> EngineRun.Ending {
        let api = library.api
        var code: UInt8 = 0
        let hasCode = trap.map { api.wasmtime_trap_code($0, &code) } ?? false
        let message = trap.map { WasmtimeMessage.take(trap: $0, api) } ?? error.map { WasmtimeMessage.take(error: $0, api) } ?? ""
        if trap != nil, let error { api.wasmtime_error_delete(error) }
        if let stop = state.stop { return .stopped(stop) }
        guard hasCode else { return .trap(message) }
        switch Int(code) {
        case Int(TWOCVM_WASMTIME_TRAP_OUT_OF_FUEL): return .outOfFuel
        default: return .trap(message)
        }
    }

    /// A point on the monotonic clock `seconds` from now.
    private struct WallClockDeadline {
        private let deadline: timespec

        init(seconds: Int) {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            deadline = timespec(tv_sec: now.tv_sec + seconds, tv_nsec: now.tv_nsec)
        }

        var hasPassed: Bool {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            return (now.tv_sec, now.tv_nsec) >= (deadline.tv_sec, deadline.tv_nsec)
        }
    }
}

/// What the host functions of one run share: the stop a host function asked for, which the
/// trap that carries it out through wasm code cannot hold.
private final class RunState {
    var stop: HostStop?
}

/// One WASI function linked into wasmtime as an unchecked host function: raw arguments in,
/// the errno out, the guest memory looked up from the caller on every call.
private final class WasmtimeHostFunction {
    let function: WASIFunction
    let host: WASIHost
    let state: RunState
    let library: WasmtimeLibrary
    let parameters: [WasmValueType]

    private init(function: WASIFunction, host: WASIHost, state: RunState, library: WasmtimeLibrary) {
        self.function = function
        self.host = host
        self.state = state
        self.library = library
        self.parameters = function.signature.parameters
    }

    /// Defines `function` in `linker`; returns wasmtime's error if it refused.
    static func define(_ function: WASIFunction, in linker: OpaquePointer, host: WASIHost, state: RunState,
                       library: WasmtimeLibrary) -> OpaquePointer? {
        let api = library.api
        let signature = function.signature
        func vector(_ types: [WasmValueType]) -> twocvm_wasm_valtype_vec {
            var vector = twocvm_wasm_valtype_vec()
            let kinds = types.map { api.wasm_valtype_new(UInt8($0 == .i64 ? TWOCVM_WASM_I64 : TWOCVM_WASM_I32)) }
            kinds.withUnsafeBufferPointer { api.wasm_valtype_vec_new(&vector, $0.count, $0.baseAddress) }
            return vector
        }
        var parameters = vector(signature.parameters), results = vector(signature.results)
        let type = api.wasm_functype_new(&parameters, &results)  // takes both vectors
        defer { api.wasm_functype_delete(type) }
        let binding = Unmanaged.passRetained(WasmtimeHostFunction(function: function, host: host, state: state, library: library))
        let module = WASIFunction.moduleName, name = function.rawValue
        return api.wasmtime_linker_define_func_unchecked(
            linker, module, module.utf8.count, name, name.utf8.count, type,
            { environment, caller, values, _ in
                Unmanaged<WasmtimeHostFunction>.fromOpaque(environment!).takeUnretainedValue().call(caller!, values!)
            },
            binding.toOpaque(),
            { environment in Unmanaged<WasmtimeHostFunction>.fromOpaque(environment!).release() })
    }

    /// Runs the WASI function; returns nil, or a trap that ends the run (the reason is kept in
    /// ``RunState``).
    private func call(_ caller: OpaquePointer, _ values: UnsafeMutablePointer<twocvm_wasmtime_val_raw>) -> OpaquePointer? {
        let api = library.apiTable
        var arguments: [UInt64] = []
        arguments.reserveCapacity(parameters.count)
        for (index, type) in parameters.enumerated() {
            arguments.append(type == .i64 ? UInt64(bitPattern: values[index].i64) : UInt64(UInt32(bitPattern: values[index].i32)))
        }
        var memory = twocvm_wasmtime_extern()
        guard api.pointee.wasmtime_caller_export_get(caller, "memory", 6, &memory), memory.kind == UInt8(TWOCVM_WASMTIME_EXTERN_MEMORY) else {
            return stop(.violation(.trap(message: "WASI call \(function.rawValue) without an exported memory")))
        }
        let guest = WasmtimeMemory(api: api, context: api.pointee.wasmtime_caller_context(caller), memory: memory.of.memory)
        do {
            if let errno = try host.call(function, arguments, memory: guest) {
                values[0].i32 = Int32(bitPattern: errno)
            }
            return nil
        } catch {
            return stop(error)
        }
    }

    private func stop(_ stop: HostStop) -> OpaquePointer? {
        state.stop = stop
        let text = "twocvm host stop"
        return library.api.wasmtime_trap_new(text, text.utf8.count)
    }
}

/// wasmtime's linear memory behind the engine-neutral ``GuestMemory``. The base address is read
/// again on every access: memory can move when it grows (never during a host call, but the
/// cost is one call).
private struct WasmtimeMemory: GuestMemory {
    let api: UnsafePointer<twocvm_wasmtime_api>
    let context: OpaquePointer?
    var memory: twocvm_wasmtime_memory

    var byteCount: Int {
        withUnsafePointer(to: memory) { api.pointee.wasmtime_memory_data_size(context, $0) }
    }

    func withUncheckedBytes<T>(at address: Int, count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> T) rethrows -> T {
        let base = withUnsafePointer(to: memory) { api.pointee.wasmtime_memory_data(context, $0) }
        return try body(UnsafeMutableRawBufferPointer(start: base.map { UnsafeMutableRawPointer($0) + address }, count: count))
    }
}

/// Messages out of wasmtime errors and traps (each is consumed: deleted after reading).
enum WasmtimeMessage {
    static func take(error: OpaquePointer, _ api: twocvm_wasmtime_api) -> String {
        var bytes = twocvm_wasm_byte_vec()
        api.wasmtime_error_message(error, &bytes)
        defer { api.wasm_byte_vec_delete(&bytes); api.wasmtime_error_delete(error) }
        return summary(of: bytes)
    }

    static func take(trap: OpaquePointer, _ api: twocvm_wasmtime_api) -> String {
        var bytes = twocvm_wasm_byte_vec()
        api.wasm_trap_message(trap, &bytes)
        defer { api.wasm_byte_vec_delete(&bytes); api.wasm_trap_delete(trap) }
        return summary(of: bytes)
    }

    /// The cause without the backtrace: the text after "wasm trap: " when there is one (the
    /// form WasmKit's messages take, e.g. "call stack exhausted"), else the last non-empty line.
    private static func summary(of bytes: twocvm_wasm_byte_vec) -> String {
        let text = bytes.data.map { String(decoding: UnsafeBufferPointer(start: $0, count: bytes.size), as: UTF8.self) } ?? ""
        let lines = text.split(separator: "\n").map { $0.drop { $0 == " " } }.filter { !$0.isEmpty }
        if let trap = lines.last(where: { $0.hasPrefix("wasm trap: ") }) { return String(trap.dropFirst("wasm trap: ".count)) }
        if let first = lines.first, lines.count > 1, first.hasPrefix("error while executing") { return String(lines.last!) }
        return lines.first.map(String.init) ?? "unknown wasmtime error"
    }
}

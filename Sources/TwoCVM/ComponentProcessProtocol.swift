import CBOR
import Glibc
import Manifest
import Sandbox

/// The messages between the broker and a component's child process (`twocvm _component`): one
/// request on the child's stdin, one CBOR response on its stdout; stderr is diagnostics.
///
/// The child's stdin is a Unix socket: first a preparation, a 4-byte big-endian length and a CBOR
/// header `{"v": 1[, "runtime", "library", "library-id" as in the request]}` naming the engine
/// library the component will most likely need (the broker sends it as soon as it has read the
/// plan, before it checks it, so that the child opens the library meanwhile: a hint, which the
/// request confirms or not); then the input descriptors (``InputHandover``); then the request:
/// a 4-byte big-endian length, a CBOR header of that length, the module's bytes. The header is
/// `{"v": 4, "component": id, "file": name, "module": size, "digest": bytes(32), "inputs":
/// [[name, size, descriptor]…], "outputs": {name: max-bytes}, "wasi": [cap…], "fuel": n,
/// "memory": bytes, "stream": bytes, "timeout": seconds[, "engine": settings][, "runtime":
/// "wasmtime", "library": path, "library-id": [device, inode, size, mtime-ns, ctime-ns]][,
/// "engine-cache": folder]}` (`engine`, the WasmKit
/// ``SandboxEngineSettings`` description, only when not the default; `runtime` only for
/// wasmtime, with the library the broker verified and the identity of that file;
/// `engine-cache`, the compiled-module cache's folder, when there is one). Inputs do not travel
/// in the byte stream: each is a sealed memfd (no write, grow or shrink) that the broker fills
/// and hands over, named `3 + i` for the `i`-th handed over, and the child's WASI host reads it at offsets
/// straight into guest memory, so the child never holds a copy of its inputs (the guest's own
/// copy aside).
/// Response: `{"v": 1, "outcome": {"kind": …, …}, "outputs": {name: bytes}, "fuel": n,
/// "memory": bytes, "stdout": bytes, "stderr": bytes}` or `{"v": 1, "refused": message,
/// "environment": 0|1}` (1: the child's machine lacks something, such as its engine library).
/// Both sides decode with explicit bounds.
public enum ComponentProcessProtocol {
    /// The largest module a request carries.
    public static let maxModuleBytes = 1 << 30
    /// The largest input a request may name (the child refuses a request naming a larger one).
    public static let maxInputBytes = 1 << 40
    /// The largest request header (everything but the payloads).
    public static let maxHeaderBytes = 1 << 20

    /// The child's first half, before it locks itself down: reads the request from `source`,
    /// opens the engine library and loads (parses or compiles) the module, checking its digest
    /// first. Throws only when the request itself does not decode.
    /// An engine library that is no longer the file the broker verified is answered as a refusal
    /// of the environment (the broker's exit 3), like one the broker could not load itself.
    public static func load(from source: some RequestSource, handedOver: [Int32]) throws(WireError) -> LoadedComponent {
        let job: ComponentJob
        do {
            job = try readRequest(from: source, handedOver: handedOver)
        } catch {
            guard case let .engineLibrary(component, libraryError) = error else { throw error }
            return LoadedComponent(state: .failure(.engineUnavailable(component: component, libraryError)))
        }
        do throws(ComponentRunError) {
            return LoadedComponent(state: .success(try job.load()))
        } catch {
            return LoadedComponent(state: .failure(error))
        }
    }

    /// The child's first half on its stdin, the socket `descriptor`: reads the preparation and
    /// starts opening the library it names on a thread of its own, receives the inputs, then
    /// ``load(from:handedOver:)``. That thread is joined before this returns, whatever the
    /// request said, so that no thread maps code when the child locks itself down.
    public static func load(fromSocket descriptor: Int32) throws(WireError) -> LoadedComponent {
        let source = FileDescriptorSource(descriptor: descriptor)
        let prepared = try readPreparation(from: source)
        prepared?.startOpening()
        defer { prepared?.finishOpening() }
        return try load(from: source, handedOver: try InputHandover.receive(from: descriptor))
    }

    /// A request whose module is loaded (or was refused): the child's second half runs it.
    public struct LoadedComponent {
        let state: Result<Sandbox.LoadedRun, ComponentRunError>

        /// Runs the module and encodes the response (or the refusal).
        public func respond() -> [UInt8] {
            encodeResponse(state.map { $0.run() })
        }
    }

    // MARK: Preparation

    /// The preparation naming `runtime`'s library (a wasmtime runtime) or none.
    public static func encodePreparation(_ runtime: SandboxRuntime) -> [UInt8] {
        framed(CBOR.textMap([("v", .unsigned(1))] + runtimeFields(runtime)).encoded())
    }

    /// Reads the preparation from `source`: the library it names, verified by the broker and
    /// still the same file, or nil (none named, or the file changed since: the request then
    /// says what to do).
    public static func readPreparation(from source: some RequestSource) throws(WireError) -> WasmtimeLibrary? {
        let item = try readHeader(from: source, what: "preparation")
        guard item[text: "v"] == .unsigned(1) else { throw WireError.unknownVersion(message: "preparation") }
        guard let (path, identity) = try libraryIdentity(item) else { return nil }
        return try? WasmtimeLibrary.loadVerified(path, identity: identity)
    }

    /// `header` behind its 4-byte big-endian length.
    private static func framed(_ header: [UInt8]) -> [UInt8] {
        let length = UInt32(header.count)
        return [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] + header
    }

    /// A framed CBOR header: its length, bounded by ``maxHeaderBytes`` before it is read.
    private static func readHeader(from source: some RequestSource, what: String) throws(WireError) -> CBOR {
        let prefix = try readExactly(4, from: source, what: "\(what) length")
        let headerLength = prefix.reduce(0) { $0 << 8 | Int($1) }
        guard headerLength <= maxHeaderBytes else { throw WireError.headerTooLarge(part: what, bytes: headerLength, limit: maxHeaderBytes) }
        return try decode(try readExactly(headerLength, from: source, what: "\(what) header"), limit: maxHeaderBytes)
    }

    // MARK: Request

    /// The request for `job` as the frames to write in order (length and header, then the
    /// module, shared with `job`), naming for each input the descriptor the child holds it as
    /// (`descriptors`, from ``SealedInputFile``).
    public static func encodeRequest(_ job: ComponentJob, descriptors: [String: Int32]) -> [[UInt8]] {
        let sizes = job.inputSizes
        let inputs = sizes.keys.sorted().map { ($0, sizes[$0]!, descriptors[$0] ?? -1) }
        let header = CBOR.textMap([
            ("v", .unsigned(4)),
            ("component", .text(job.component)),
            ("file", .text(job.moduleFile)),
            ("module", .unsigned(UInt64(job.moduleSource.count))),
            ("digest", .bytes(job.digest.bytes)),
            ("inputs", .array(inputs.map { .array([.text($0.0), .unsigned(UInt64($0.1)), .int(Int64($0.2))]) })),
            ("outputs", .textMap(job.outputs.sorted { $0.key < $1.key }.map { ($0.key, .unsigned(UInt64($0.value))) })),
            ("wasi", .array(capabilityNames(job.capabilities).map { .text($0) })),
            ("fuel", .unsigned(job.limits.fuel)),
            ("memory", .unsigned(UInt64(job.limits.memoryBytes))),
            ("stream", .unsigned(UInt64(job.limits.capturedStreamBytes))),
            ("timeout", .unsigned(UInt64(job.timeoutSeconds))),
        ] + (job.engine == .default ? [] : [("engine", .text(job.engine.description))]) + runtimeFields(job.runtime)
          + (job.compiledModuleCache.map { [("engine-cache", .text($0.directory))] } ?? [])).encoded()
        return [framed(header), job.moduleSource]
    }

    private static func runtimeFields(_ runtime: SandboxRuntime) -> [(String, CBOR)] {
        guard case let .wasmtime(library) = runtime else { return [] }
        let id = library.identity
        return [("runtime", .text(runtime.name)), ("library", .text(library.path)),
                ("library-id", .array([.unsigned(id.device), .unsigned(id.inode), .int(id.size), .int(id.modifiedNanoseconds),
                                       .int(id.changedNanoseconds)]))]
    }

    private static func decodeRuntime(_ item: CBOR, component: String) throws(WireError) -> SandboxRuntime {
        guard let (path, identity) = try libraryIdentity(item) else { return .wasmkit }
        do {
            return .wasmtime(try WasmtimeLibrary.loadVerified(path, identity: identity))
        } catch {
            throw WireError.engineLibrary(component: component, error)
        }
    }

    /// The wasmtime library a header names (`runtime`, `library`, `library-id`), nil for WasmKit.
    private static func libraryIdentity(_ item: CBOR) throws(WireError) -> (path: String, identity: FileIdentity)? {
        guard let name = item[text: "runtime"] else { return nil }
        guard name.textString == "wasmtime", let path = item[text: "library"]?.textString,
              let id = item[text: "library-id"]?.arrayItems, id.count == 5,
              case let .unsigned(device) = id[0], case let .unsigned(inode) = id[1],
              let size = id[2].int64, let modified = id[3].int64, let changed = id[4].int64 else { throw WireError.invalid(field: "runtime") }
        return (path, FileIdentity(device: device, inode: inode, size: size, modifiedNanoseconds: modified, changedNanoseconds: changed))
    }

    /// Reads one request from `source`: the header, then the module straight into its own
    /// buffer, refusing a header over ``maxHeaderBytes``, a module over ``maxModuleBytes``, a short
    /// read, and an input whose descriptor is not a sealed file of its announced size. It reads
    /// nothing after the module (the stream stays open). `handedOver` holds the descriptors
    /// ``InputHandover`` received, in order: the request names the `i`-th as `3 + i`, and must
    /// name each exactly once.
    public static func readRequest(from source: some RequestSource, handedOver: [Int32]) throws(WireError) -> ComponentJob {
        let item = try readHeader(from: source, what: "request")
        guard item[text: "v"] == .unsigned(4) else { throw WireError.unknownVersion(message: "request") }
        let component = try text(item, "component"), file = try text(item, "file")
        guard let digestBytes = item[text: "digest"]?.byteString,
              let digest = ContentDigest(bytes: digestBytes) else { throw WireError.invalid(field: "digest") }
        var capabilities: SandboxCapabilities = []
        for name in item[text: "wasi"]?.arrayItems ?? [] {
            switch name.textString {
            case "clock": capabilities.insert(.clock)
            case "random": capabilities.insert(.random)
            default: throw WireError.invalid(field: "wasi")
            }
        }
        let limits = SandboxLimits(fuel: try number(item, "fuel"), memoryBytes: Int(try number(item, "memory")),
                                   capturedStreamBytes: Int(try number(item, "stream")),
                                   wallClockSeconds: Int(try number(item, "timeout")))
        var engine = SandboxEngineSettings.default
        if let name = item[text: "engine"] {
            guard let text = name.textString, let settings = SandboxEngineSettings(text) else { throw WireError.invalid(field: "engine") }
            engine = settings
        }
        let moduleSize = Int(try number(item, "module"))
        guard moduleSize <= maxModuleBytes else { throw WireError.moduleTooLarge(limit: maxModuleBytes) }
        var inputFiles: [String: SandboxInputFile] = [:]
        var named = Set<Int>()
        for entry in item[text: "inputs"]?.arrayItems ?? [] {
            guard let triple = entry.arrayItems, triple.count == 3, let name = triple[0].textString,
                  case let .unsigned(size) = triple[1], size <= UInt64(maxInputBytes),
                  let descriptor = triple[2].int64, descriptor > 2, descriptor - 3 < handedOver.count,
                  case let index = Int(descriptor) - 3, named.insert(index).inserted,
                  inputFiles[name] == nil else { throw WireError.invalid(field: "inputs") }
            inputFiles[name] = try SealedInputFile.take(descriptor: handedOver[index], size: Int(size), name: name)
        }
        guard named.count == handedOver.count else { throw WireError.handover(reason: "descriptors the request does not name") }
        let runtime = try decodeRuntime(item, component: component)
        var cache: CompiledModuleCache?
        if let folder = item[text: "engine-cache"] {
            guard let path = folder.textString, path.hasPrefix("/") else { throw WireError.invalid(field: "engine-cache") }
            cache = CompiledModuleCache(directory: path)
        }
        // The request ends with its module. Nothing after it is read: the broker keeps the
        // stream open until it lets the child go, and the child waits for that end once it has
        // answered.
        let module = try readExactly(moduleSize, from: source, what: "module")
        var job = ComponentJob(component: component, moduleFile: file, moduleSource: module, digest: digest, inputs: [:],
                               outputs: try byteMap(item, "outputs", as: { $0.int64.map(Int.init) }),
                               capabilities: capabilities, limits: limits, timeoutSeconds: Int(try number(item, "timeout")),
                               engine: engine, runtime: runtime, compiledModuleCache: cache)
        job.inputFiles = inputFiles
        return job
    }

    /// Exactly `count` bytes from `source`, read into a buffer allocated once.
    private static func readExactly(_ count: Int, from source: some RequestSource, what: String) throws(WireError) -> [UInt8] {
        var failure: WireError?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = 0
            while initialized < count {
                let n: Int
                do throws(WireError) {
                    n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[initialized..<count]))
                } catch {
                    failure = error
                    break
                }
                guard n > 0 else { failure = WireError.truncated(part: what, received: initialized, expected: count); break }
                initialized += n
            }
            if failure != nil { initialized = 0 }
        }
        if let failure { throw failure }
        return bytes
    }

    // MARK: Response

    /// The child's answer: the run's result, or why the sandbox refused the module.
    public static func encodeResponse(_ response: Result<SandboxResult, ComponentRunError>) -> [UInt8] {
        switch response {
        case let .failure(error):
            return CBOR.textMap([("v", .unsigned(1)), ("refused", .text(error.description)),
                                 ("environment", .unsigned(error.exitStatus == .environment ? 1 : 0))]).encoded()
        case let .success(result):
            return CBOR.textMap([
                ("v", .unsigned(1)),
                ("outcome", encode(result.outcome)),
                ("outputs", .textMap(result.outputs.sorted { $0.key < $1.key }.map { ($0.key, .bytes($0.value)) })),
                ("fuel", .unsigned(result.fuelUsed)),
                ("memory", .unsigned(UInt64(result.peakMemoryBytes))),
                ("stdout", .bytes(result.stdout)),
                ("stderr", .bytes(result.stderr)),
            ]).encoded()
        }
    }

    /// Decodes a response to `job`, refusing outputs it did not declare or over their limits.
    public static func decodeResponse(_ bytes: [UInt8], for job: ComponentJob, limit: Int) throws(WireError) -> Result<SandboxResult, Refusal> {
        let item = try decode(bytes, limit: limit)
        guard item[text: "v"] == .unsigned(1) else { throw WireError.unknownVersion(message: "response") }
        if let refused = item[text: "refused"]?.textString {
            return .failure(Refusal(message: refused, environment: item[text: "environment"] == .unsigned(1)))
        }
        let outputs = try byteMap(item, "outputs")
        for (name, content) in outputs {
            guard let max = job.outputs[name], content.count <= max else { throw WireError.undeclaredOutput(name: name) }
        }
        guard let outcomeItem = item[text: "outcome"] else { throw WireError.missing(field: "outcome") }
        return .success(SandboxResult(outcome: try decodeOutcome(outcomeItem), outputs: outputs,
                                      fuelUsed: try number(item, "fuel"), peakMemoryBytes: Int(try number(item, "memory")),
                                      stdout: try bytesField(item, "stdout"), stderr: try bytesField(item, "stderr")))
    }

    private static func encode(_ outcome: SandboxOutcome) -> CBOR {
        switch outcome {
        case .ok: return .textMap([("kind", .text("ok"))])
        case let .exit(code): return .textMap([("kind", .text("exit")), ("code", .unsigned(UInt64(code)))])
        case let .trap(message): return .textMap([("kind", .text("trap")), ("message", .text(message))])
        case let .outOfFuel(limit): return .textMap([("kind", .text("out-of-fuel")), ("limit", .unsigned(limit))])
        case let .timedOut(seconds): return .textMap([("kind", .text("timed-out")), ("seconds", .unsigned(UInt64(seconds)))])
        case let .memoryLimit(limit, detail):
            return .textMap([("kind", .text("memory-limit")), ("limit", .unsigned(UInt64(limit))), ("message", .text(detail))])
        case let .undeclaredOutput(name): return .textMap([("kind", .text("undeclared-output")), ("name", .text(name))])
        case let .outputTooLarge(name, limit):
            return .textMap([("kind", .text("output-too-large")), ("name", .text(name)), ("limit", .unsigned(UInt64(limit)))])
        }
    }

    private static func decodeOutcome(_ item: CBOR) throws(WireError) -> SandboxOutcome {
        switch item[text: "kind"]?.textString {
        case "ok": return .ok
        case "exit": return .exit(code: UInt32(truncatingIfNeeded: try number(item, "code")))
        case "trap": return .trap(message: try text(item, "message"))
        case "out-of-fuel": return .outOfFuel(limit: try number(item, "limit"))
        case "timed-out": return .timedOut(seconds: Int(try number(item, "seconds")))
        case "memory-limit": return .memoryLimit(limitBytes: Int(try number(item, "limit")), detail: try text(item, "message"))
        case "undeclared-output": return .undeclaredOutput(name: try text(item, "name"))
        case "output-too-large": return .outputTooLarge(name: try text(item, "name"), limit: Int(try number(item, "limit")))
        default: throw WireError.invalid(field: "outcome")
        }
    }

    /// The child's report that the sandbox refused the module before running it.
    public struct Refusal: Error, Sendable {
        public let message: String
        /// The child's machine lacks something (its engine library), rather than the module
        /// or the request being at fault.
        public let environment: Bool
    }

    // MARK: Field access

    static func capabilityNames(_ capabilities: SandboxCapabilities) -> [String] {
        (capabilities.contains(.clock) ? ["clock"] : []) + (capabilities.contains(.random) ? ["random"] : [])
    }

    private static func decode(_ bytes: [UInt8], limit: Int) throws(WireError) -> CBOR {
        do {
            return try CBORDecoder.decode(bytes, limits: CBORDecodingLimits(maxInputBytes: limit, maxDepth: 8, maxItems: 1 << 16))
        } catch {
            throw WireError.undecodable(error as? CBORDecodingError)
        }
    }

    private static func text(_ item: CBOR, _ key: String) throws(WireError) -> String {
        guard let value = item[text: key]?.textString else { throw WireError.missing(field: key) }
        return value
    }

    private static func number(_ item: CBOR, _ key: String) throws(WireError) -> UInt64 {
        guard case let .unsigned(value)? = item[text: key], value <= UInt64(Int.max) else { throw WireError.missing(field: key) }
        return value
    }

    private static func bytesField(_ item: CBOR, _ key: String) throws(WireError) -> [UInt8] {
        guard let value = item[text: key]?.byteString else { throw WireError.missing(field: key) }
        return value
    }

    private static func byteMap(_ item: CBOR, _ key: String) throws(WireError) -> [String: [UInt8]] {
        try byteMap(item, key, as: { $0.byteString })
    }

    private static func byteMap<T>(_ item: CBOR, _ key: String, as convert: (CBOR) -> T?) throws(WireError) -> [String: T] {
        guard let entries = item[text: key]?.mapEntries else { throw WireError.missing(field: key) }
        var map: [String: T] = [:]
        for entry in entries {
            guard let name = entry.key.textString, let value = convert(entry.value) else { throw WireError.invalid(field: key) }
            map[name] = value
        }
        return map
    }
}

/// Where the child reads its request from: stdin in `twocvm _component`, bytes in tests.
public protocol RequestSource {
    /// Reads up to `buffer.count` bytes into `buffer`; 0 at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(WireError) -> Int
}

/// A file descriptor as a ``RequestSource`` (the child's stdin), retrying interrupted reads.
public struct FileDescriptorSource: RequestSource {
    public let descriptor: Int32

    public init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(WireError) -> Int {
        while true {
            let n = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno != EINTR { throw WireError.unreadable(reason: String(cString: strerror(errno))) }
        }
    }
}

/// Bytes in memory as a ``RequestSource``.
public final class BytesSource: RequestSource {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(WireError) -> Int {
        let count = min(buffer.count, bytes.count - offset)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { buffer.baseAddress?.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
        offset += count
        return count
    }
}

/// A message between broker and child that does not decode.
public enum WireError: Error, Sendable, CustomStringConvertible {
    /// Not CBOR within the decoder's bounds (nil: a decoder failure of another kind).
    case undecodable(CBORDecodingError?)
    case unknownVersion(message: String)
    case missing(field: String)
    case invalid(field: String)
    case headerTooLarge(part: String, bytes: Int, limit: Int)
    case moduleTooLarge(limit: Int)
    /// The descriptor named for an input is not a sealed file of its announced size.
    case inputFile(name: String, reason: String)
    /// The input descriptors did not arrive as ``InputHandover`` sends them.
    case handover(reason: String)
    /// The request ended inside `part`.
    case truncated(part: String, received: Int, expected: Int)
    case unreadable(reason: String)
    /// The engine library the broker verified cannot be taken by the child.
    case engineLibrary(component: String, EngineLibraryError)
    /// The response carries an output the job did not declare, or one over its limit.
    case undeclaredOutput(name: String)
    /// The response is longer than any valid one could be.
    case responseTooLarge(limit: Int)

    public var description: String {
        switch self {
        case let .undecodable(error?): return error.description
        case .undecodable(nil): return "not CBOR"
        case let .unknownVersion(message): return "unknown \(message) version"
        case let .missing(field): return "missing \(field)"
        case let .invalid(field): return "bad \(field)"
        case let .headerTooLarge(part, bytes, _): return "\(part) header of \(bytes) bytes"
        case let .moduleTooLarge(limit): return "request module over \(limit) bytes"
        case let .inputFile(name, reason): return "input \(name): \(reason)"
        case let .handover(reason): return "receiving the input descriptors: \(reason)"
        case let .truncated(part, received, expected): return "\(part): request ends after \(received) of \(expected) bytes"
        case let .unreadable(reason): return "reading the request: \(reason)"
        case let .engineLibrary(_, error): return "engine library: \(error)"
        case let .undeclaredOutput(name): return "output \(name) was not declared or is over its limit"
        case let .responseTooLarge(limit): return "more than \(limit) bytes"
        }
    }
}

import CWasmtime
import Crypto
import Glibc
import Hexadecimal

/// The wasmtime C library behind ``SandboxRuntime/wasmtime(_:)``: found in a predictable place,
/// refused unless it is byte for byte the build the project's declarations were written for,
/// then opened at run time (dlopen), so that twocvm builds and runs without it.
///
/// The declarations in `CWasmtime.h` (function signatures and struct layouts) are only valid
/// for one build of the library, so its SHA-256 must equal ``pinnedDigest``: the
/// `wasmtime/linux-x86_64/_libwasmtime.so` of the PyPI wheel `wasmtime==50.0.1` (manylinux
/// x86_64). Any other file is refused before a single symbol is used.
public final class WasmtimeLibrary: @unchecked Sendable {
    /// The wasmtime release the declarations follow.
    public static let version = "50.0.1"
    /// SHA-256 of `_libwasmtime.so` in the wheel `wasmtime-50.0.1-py3-none-manylinux1_x86_64.whl`.
    public static let pinnedDigest = "3127ca42fe7cdd3f0a43a358e79177dcfedd46c1746329826403b9d854de6178"
    /// The one command that installs the right library, for error messages.
    public static let installHint = "install the pinned library with `make deps` in the twocvm source tree "
        + "(the PyPI wheel wasmtime==\(version) into .venv; `make install` copies it beside the binary), "
        + "or name its wasmtime/linux-x86_64/_libwasmtime.so with --engine-library or TWOCVM_WASMTIME_LIBRARY"
    /// The environment variable naming the library.
    public static let environmentVariable = "TWOCVM_WASMTIME_LIBRARY"
    /// The library's largest accepted size (the pinned one is about 30 MB).
    static let maxBytes = 256 << 20

    /// The file it was loaded from.
    public let path: String
    /// Its SHA-256, lowercase hex (always ``pinnedDigest``).
    public let digest: String
    /// Device, inode, size and modification time of the file that was verified: a child
    /// process that opens the library by path checks them instead of hashing it again.
    public let identity: FileIdentity
    /// The resolved C API, once ``open()`` has succeeded: allocated once and never freed (a
    /// library dlopen has mapped stays mapped), so the hot path can hold a pointer to it.
    private var opened: UnsafeMutablePointer<twocvm_wasmtime_api>?
    /// The thread ``startOpening()`` started, until someone joins it.
    private var opening: NativeThread?
    private var lock = pthread_mutex_t()

    private init(path: String, identity: FileIdentity) {
        self.path = path
        self.digest = Self.pinnedDigest
        self.identity = identity
        pthread_mutex_init(&lock, nil)
    }

    /// Whether the library is mapped and its C API resolved (tests and diagnostics).
    public var isOpen: Bool {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        return opened != nil
    }

    /// The C API; only used by an engine made after ``open()`` succeeded.
    var api: twocvm_wasmtime_api { opened!.pointee }

    /// The same table by reference, for calls made per WASI call (no copy of ~45 pointers).
    var apiTable: UnsafePointer<twocvm_wasmtime_api> { UnsafePointer(opened!) }

    /// Starts ``open()`` on a thread of its own and returns at once, so that the dlopen (about
    /// 1.5 ms for the pinned library) overlaps other work: a component child checks and parses
    /// its module meanwhile. ``open()`` and ``finishOpening()`` join the thread; the child calls
    /// one of them before it locks itself down, so that no thread is left mapping code then.
    public func startOpening() {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        guard opened == nil, opening == nil else { return }
        // A failure is found again, and reported, by open(); no thread to be had: open() opens here.
        opening = NativeThread.start { [self] in try? openHere() }
    }

    /// Waits for the thread ``startOpening()`` started, if any; whether it succeeded is for
    /// ``open()`` to say.
    public func finishOpening() {
        pthread_mutex_lock(&lock)
        let thread = opening
        opening = nil
        pthread_mutex_unlock(&lock)
        thread?.join()
    }

    /// Opens the verified library (dlopen, every symbol resolved) on first use, or waits for
    /// ``startOpening()`` to have done it. A process that only verifies the library (the broker
    /// of `run`) never maps it: its children do.
    func open() throws(EngineLibraryError) {
        finishOpening()
        try openHere()
    }

    private func openHere() throws(EngineLibraryError) {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        guard opened == nil else { return }
        var api = twocvm_wasmtime_api()
        var missing: UnsafePointer<CChar>?
        guard twocvm_wasmtime_open(path, &api, &missing) != nil else {
            if let missing { throw .missingSymbol(path: path, symbol: String(cString: missing)) }
            throw .unloadable(path: path, reason: dlerror().map { String(cString: $0) } ?? "dlopen failed")
        }
        let table = UnsafeMutablePointer<twocvm_wasmtime_api>.allocate(capacity: 1)
        table.initialize(to: api)
        opened = table
    }

    // MARK: Finding it

    /// Where the library is looked for, in order: an explicit path (`--engine-library`), the
    /// environment variable, `<prefix>/lib/twocvm/libwasmtime.so` beside an installed
    /// `<prefix>/bin/twocvm`, then a development checkout's `.venv` (in the executable's folder
    /// or any folder above it). The first candidate that exists is the one used: a wrong file
    /// named explicitly is refused, never passed over.
    public static func candidates(explicit: String?, environment: [String: String], executable: String) -> [String] {
        if let explicit { return [explicit] }
        if let named = environment[environmentVariable], !named.isEmpty { return [named] }
        var directory = parent(of: executable)
        var found = ["\(parent(of: directory))/lib/twocvm/libwasmtime.so"]
        for _ in 0..<6 where directory != "/" && !directory.isEmpty {
            found += venvLibraries(in: "\(directory)/.venv")
            directory = parent(of: directory)
        }
        return found
    }

    /// Locates and verifies the library (see ``candidates(explicit:environment:executable:)``
    /// and ``load(_:records:)``).
    public static func locate(explicit: String?, environment: [String: String], executable: String,
                              records: CompiledModuleCache? = nil) throws(EngineLibraryError) -> WasmtimeLibrary {
        let searched = candidates(explicit: explicit, environment: environment, executable: executable)
        guard let path = searched.first(where: { access($0, F_OK) == 0 }) else { throw .notFound(searched: searched) }
        return try load(path, records: records)
    }

    // MARK: Loading it

    private static let cache = LibraryCache()

    /// Reads the library at `path` and checks its SHA-256 against ``pinnedDigest``; an engine
    /// opens it when first used. A library already verified from the same unchanged file is
    /// returned again: in this process, or when `records` (the compiled-module cache, trusted as
    /// a whole) remembers this very file (path, device, inode, size, modification and change
    /// times) as verified.
    public static func load(_ path: String, records: CompiledModuleCache? = nil) throws(EngineLibraryError) -> WasmtimeLibrary {
        let identity = try FileIdentity(of: path)
        if let loaded = cache.library(at: path, identity: identity) { return loaded }
        let facts = identity.facts(path: path)
        if records?.remembersVerification(of: facts) == true { return remember(path, identity: identity) }
        // Hash the very file the identity describes: one descriptor, its identity before and
        // after, and a record only for a file whose change time is safely in the past (a write
        // within the same clock tick would not move it: the same rule git uses for racy files).
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let before = try FileIdentity(descriptor: fd, path: path)
        let actual = try sha256(of: fd, path: path)
        guard actual == pinnedDigest else { throw .wrongDigest(path: path, expected: pinnedDigest, actual: actual) }
        let after = try FileIdentity(descriptor: fd, path: path)
        guard before == after, before == identity else { throw .changed(path: path) }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        if Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec) - identity.changedNanoseconds > 2_000_000_000 {
            records?.rememberVerification(of: facts)
        }
        return remember(path, identity: identity)
    }

    /// Accepts the library at `path` without hashing it again, provided the file is still the one
    /// another process verified (same device, inode, size and modification time). The
    /// component child uses this: its broker has verified the file a moment before.
    public static func loadVerified(_ path: String, identity expected: FileIdentity) throws(EngineLibraryError) -> WasmtimeLibrary {
        let identity = try FileIdentity(of: path)
        guard identity == expected else { throw .changed(path: path) }
        if let loaded = cache.library(at: path, identity: identity) { return loaded }
        return remember(path, identity: identity)
    }

    private static func remember(_ path: String, identity: FileIdentity) -> WasmtimeLibrary {
        let library = WasmtimeLibrary(path: path, identity: identity)
        cache.insert(library)
        return library
    }

    private static func sha256(of fd: Int32, path: String) throws(EngineLibraryError) -> String {
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var total = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
            if count == 0 { break }
            total += count
            guard total <= maxBytes else { throw .unreadable(path: path, reason: "larger than \(maxBytes) bytes") }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
        return Hex.encode(hasher.finalize())
    }

    private static func venvLibraries(in venv: String) -> [String] {
        guard let directory = opendir("\(venv)/lib") else { return [] }
        defer { closedir(directory) }
        var found: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasPrefix("python3") {
                found.append("\(venv)/lib/\(name)/site-packages/wasmtime/linux-x86_64/_libwasmtime.so")
            }
        }
        return found.sorted()
    }

    private static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

/// What identifies a file that was verified: if any of it changes, the file may have.
public struct FileIdentity: Sendable, Equatable, Hashable {
    public let device: UInt64
    public let inode: UInt64
    public let size: Int64
    public let modifiedNanoseconds: Int64
    /// The inode's change time: any write or metadata change moves it, and only root can set
    /// the clock it comes from.
    public let changedNanoseconds: Int64

    public init(device: UInt64, inode: UInt64, size: Int64, modifiedNanoseconds: Int64, changedNanoseconds: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modifiedNanoseconds = modifiedNanoseconds
        self.changedNanoseconds = changedNanoseconds
    }

    /// The file's path and identity as one line, as verification records hold them.
    func facts(path: String) -> String {
        "\(path)\n\(device) \(inode) \(size) \(modifiedNanoseconds) \(changedNanoseconds) \(WasmtimeLibrary.pinnedDigest)"
    }

    init(of path: String) throws(EngineLibraryError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            throw errno == ENOENT ? .notFound(searched: [path]) : .unreadable(path: path, reason: reason)
        }
        try self.init(info, path: path)
    }

    /// The identity of the file open as `descriptor` (named `path` in errors).
    init(descriptor: Int32, path: String) throws(EngineLibraryError) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        try self.init(info, path: path)
    }

    private init(_ info: stat, path: String) throws(EngineLibraryError) {
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .unreadable(path: path, reason: "not a regular file") }
        self.init(info)
    }

    /// The identity a `stat`/`fstat` record gives, whatever kind of file it describes.
    public init(_ info: stat) {
        self.init(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                  modifiedNanoseconds: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
                  changedNanoseconds: Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec))
    }
}

/// Why the wasmtime library cannot be used. Each case names the file; the CLI exits 3 (the
/// environment lacks what the manifest asks for).
public enum EngineLibraryError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(searched: [String])
    case unreadable(path: String, reason: String)
    case wrongDigest(path: String, expected: String, actual: String)
    /// The file changed between the broker's check and the child's load.
    case changed(path: String)
    case unloadable(path: String, reason: String)
    case missingSymbol(path: String, symbol: String)
    /// The compiled-module cache variable holds neither `off` nor an absolute folder.
    case cacheSetting(variable: String, value: String)

    public var description: String {
        let hint = WasmtimeLibrary.installHint
        switch self {
        case let .notFound(searched):
            return "the wasmtime engine library (wasmtime \(WasmtimeLibrary.version)) is not installed; looked for "
                + searched.joined(separator: ", ") + "; \(hint)"
        case let .unreadable(path, reason): return "\(path): cannot read the wasmtime library: \(reason); \(hint)"
        case let .wrongDigest(path, expected, actual):
            return "\(path): not the pinned wasmtime \(WasmtimeLibrary.version) library: its SHA-256 is \(actual), "
                + "twocvm requires \(expected) (its C declarations are only valid for that build); \(hint)"
        case let .changed(path): return "\(path): the wasmtime library changed after it was verified; refusing to load it"
        case let .unloadable(path, reason): return "\(path): cannot load the wasmtime library: \(reason); \(hint)"
        case let .missingSymbol(path, symbol): return "\(path): the wasmtime library lacks \(symbol); \(hint)"
        case let .cacheSetting(variable, value):
            return "\(variable)=\(value): expected off or an absolute folder for the compiled-module cache"
        }
    }
}

/// Libraries already opened in this process, by path (dlopen keeps them mapped for good).
private final class LibraryCache: @unchecked Sendable {
    private var libraries: [String: WasmtimeLibrary] = [:]
    private var lock = pthread_mutex_t()

    init() { pthread_mutex_init(&lock, nil) }

    func library(at path: String, identity: FileIdentity) -> WasmtimeLibrary? {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        guard let library = libraries[path], library.identity == identity else { return nil }
        return library
    }

    func insert(_ library: WasmtimeLibrary) {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        libraries[library.path] = library
    }
}

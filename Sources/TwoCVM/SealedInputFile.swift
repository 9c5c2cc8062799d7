import CSeccomp
import Crypto
import Glibc
import Manifest
import Sandbox

/// A component's input on its way from the broker to the child: a memfd the broker fills and
/// seals (no write, growth, shrinking or seal change afterwards), handed to the child as an open
/// descriptor over its stdin socket (``InputHandover``). The child's WASI host reads it at offsets (pread) straight into guest memory, so
/// neither the pipe nor the child's own memory ever holds the input: a large input costs the
/// child nothing but the guest's copy, as a native program reading a file from the page cache.
///
/// The broker fills one in three ways: from bytes it holds (``make(_:name:)``, a component's
/// output passed on), from a plaintext file (``copy(fromFile:limit:name:)``, `run --dev`: a
/// copy inside the kernel), or piece by piece as a sealed input is opened (``Writer``): the last
/// two never hold the input in the broker's own memory.
public enum SealedInputFile {
    /// A sealed memfd holding `bytes`, close-on-exec, never at a standard stream's number (0–2,
    /// should one be closed); the launcher hands it to the child over its stdin socket
    /// (``InputHandover``).
    public static func make(_ bytes: [UInt8], name: String) throws(SealedInputFileError) -> Int32 {
        let writer = try Writer(name: name)
        var failure: SealedInputFileError?
        bytes.withUnsafeBytes { buffer in
            do throws(SealedInputFileError) { try writer.append(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
        return try writer.seal().descriptor
    }

    /// The regular file at `path` (at most `limit` bytes) copied into a sealed memfd by the
    /// kernel (`sendfile`), without passing through this process's memory. The caller owns the
    /// descriptor of the result. A file that shrinks while it is copied is refused; one that
    /// grows is copied up to the size it had when opened.
    public static func copy(fromFile path: String, limit: Int, name: String) throws(SealedInputCopyError) -> SandboxInputFile {
        let source: Int32, size: Int
        do { (source, size) = try FileIO.openRegularFile(path, limit: limit) } catch { throw .file(error) }
        defer { close(source) }
        let writer: Writer
        do { writer = try Writer(name: name) } catch { throw .memory(error) }
        while writer.length < size {
            let copied = sendfile(writer.descriptor, source, nil, size - writer.length)
            if copied < 0 && errno == EINTR { continue }
            guard copied > 0 else {
                throw .file(.unreadable(path: path, reason: copied == 0 ? "file shrank while reading" : FileIO.errnoText()))
            }
            writer.length += copied
        }
        do { return try writer.seal() } catch { throw .memory(error) }
    }

    /// A memfd filled by appending, then sealed. Until ``seal()`` hands it over, the writer owns
    /// the descriptor and closes it when it is dropped (an input whose open failed half-way).
    public final class Writer {
        fileprivate let descriptor: Int32
        /// Bytes written so far.
        public fileprivate(set) var length = 0
        private var sealed = false
        private let name: String

        /// An empty memfd for the input `name` (named in errors only).
        public init(name: String) throws(SealedInputFileError) {
            let created = twocvm_memfd_create("twocvm-input")
            guard created >= 0 else { throw .create(name: name, errno: -created) }
            // Away from the standard streams' numbers, should one of them be closed.
            let moved = fcntl(created, F_DUPFD_CLOEXEC, 3)
            close(created)
            guard moved >= 0 else { throw .create(name: name, errno: errno) }
            descriptor = moved
            self.name = name
        }

        deinit {
            if !sealed { close(descriptor) }
        }

        /// Appends `bytes`.
        public func append(_ bytes: UnsafeRawBufferPointer) throws(SealedInputFileError) {
            precondition(!sealed, "append after seal")
            guard FileIO.writeAll(bytes, to: descriptor) else { throw .create(name: name, errno: errno) }
            length += bytes.count
        }

        /// Seals the file and hands its descriptor to the caller, who closes it.
        public func seal() throws(SealedInputFileError) -> SandboxInputFile {
            precondition(!sealed, "sealed twice")
            let result = twocvm_memfd_seal(descriptor)
            guard result == 0 else { throw .create(name: name, errno: -result) }
            sealed = true
            return SandboxInputFile(descriptor: descriptor, size: length)
        }
    }

    /// The child's side: `descriptor` must be a sealed regular file of exactly `size` bytes.
    public static func take(descriptor: Int32, size: Int, name: String) throws(WireError) -> SandboxInputFile {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .inputFile(name: name, reason: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG, Int(info.st_size) == size else {
            throw .inputFile(name: name, reason: "descriptor \(descriptor) is not a file of \(size) bytes")
        }
        guard twocvm_memfd_is_sealed(descriptor) == 1 else {
            throw .inputFile(name: name, reason: "descriptor \(descriptor) is not sealed")
        }
        return SandboxInputFile(descriptor: descriptor, size: size)
    }
}

extension SandboxInputFile {
    /// SHA-256 of the sealed file's content, hashed through a read-only mapping (sealed, it
    /// cannot change under the hash). A mapping that fails throws the system's errno.
    func contentDigest() throws(SealedInputFileError) -> ContentDigest {
        guard size > 0 else { return ContentDigest(of: [UInt8]()) }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_SHARED, descriptor, 0), mapped != MAP_FAILED else {
            throw .create(name: "descriptor \(descriptor)", errno: errno)
        }
        defer { munmap(mapped, size) }
        return ContentDigest(bytes: Array(SHA256.hash(data: UnsafeRawBufferPointer(start: mapped, count: size))))!
    }
}

/// Why an input could not be put in a sealed file (memory for the memfd, the kernel's limits).
public struct SealedInputFileError: Error, Sendable, CustomStringConvertible {
    public let name: String
    public let errno: Int32

    static func create(name: String, errno: Int32) -> SealedInputFileError {
        SealedInputFileError(name: name, errno: errno)
    }

    public var description: String {
        "input \(name): cannot put it in a sealed memory file: \(String(cString: strerror(errno)))"
    }
}

/// Why a plaintext file could not be copied into a sealed file: the file (bad input) or the
/// memory file (the environment).
public enum SealedInputCopyError: Error, Sendable, CustomStringConvertible {
    case file(FileIOError)
    case memory(SealedInputFileError)

    public var description: String {
        switch self {
        case let .file(error): return error.description
        case let .memory(error): return error.description
        }
    }
}

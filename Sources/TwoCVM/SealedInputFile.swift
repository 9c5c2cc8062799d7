import CSeccomp
import Glibc
import Sandbox

/// A component's input on its way from the broker to the child: a memfd the broker fills and
/// seals (no write, growth, shrinking or seal change afterwards), handed to the child as an open
/// descriptor over its stdin socket (``InputHandover``). The child's WASI host reads it at offsets (pread) straight into guest memory, so
/// neither the pipe nor the child's own memory ever holds the input: a large input costs the
/// child nothing but the guest's copy, as a native program reading a file from the page cache.
public enum SealedInputFile {
    /// A sealed memfd holding `bytes`, close-on-exec, never at a standard stream's number (0–2,
    /// should one be closed); the launcher hands it to the child over its stdin socket
    /// (``InputHandover``).
    public static func make(_ bytes: [UInt8], name: String) throws(SealedInputFileError) -> Int32 {
        let created = twocvm_memfd_create("twocvm-input")
        guard created >= 0 else { throw .create(name: name, errno: -created) }
        defer { close(created) }
        guard bytes.withUnsafeBytes({ FileIO.writeAll($0, to: created) }) else { throw .create(name: name, errno: errno) }
        let sealed = twocvm_memfd_seal(created)
        guard sealed == 0 else { throw .create(name: name, errno: -sealed) }
        let moved = fcntl(created, F_DUPFD_CLOEXEC, 3)
        guard moved >= 0 else { throw .create(name: name, errno: errno) }
        return moved
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

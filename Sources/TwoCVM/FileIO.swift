import Foundation

import Glibc
import Sandbox

/// Errors from reading and writing the files every command works on.
public enum FileIOError: TwoCVMError, Equatable {
    case unreadable(path: String, reason: String)
    case tooLarge(path: String, size: Int, limit: Int)
    case unwritable(path: String, reason: String)

    /// A file that cannot be read is bad input (2); one that cannot be written is the
    /// environment (3), in every command.
    public var exitStatus: ExitStatus {
        if case .unwritable = self { return .environment }
        return .badInput
    }

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read: \(reason)"
        case let .tooLarge(path, size, limit):
            return "\(path): file is \(size) bytes, over the limit of \(limit) bytes"
        case let .unwritable(path, reason): return "\(path): cannot write: \(reason)"
        }
    }
}

/// Bounded reads and atomic writes. Every command reads untrusted files through `read`, which
/// checks the size before allocating, and writes through `writeAtomically`, which never leaves
/// a partial file behind (temp file in the same directory, fsync, rename).
public enum FileIO {
    /// Reads the whole file at `path` (`-` is stdin), refusing anything over `limit` bytes
    /// before reading it.
    public static func read(_ path: String, limit: Int) throws(FileIOError) -> [UInt8] {
        if path == "-" { return try readStandardInput(limit: limit) }
        let (fd, size) = try openRegularFile(path, limit: limit)
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: size)
        var filled = 0
        while filled < size {
            let n = bytes.withUnsafeMutableBytes { buffer in
                Glibc.read(fd, buffer.baseAddress! + filled, size - filled)
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw FileIOError.unreadable(path: path, reason: n == 0 ? "file shrank while reading" : errnoText()) }
            filled += n
        }
        return bytes
    }

    /// Opens the regular file at `path` for reading, refusing anything else and anything over
    /// `limit` bytes before a byte is read; the caller closes the descriptor.
    static func openRegularFile(_ path: String, limit: Int) throws(FileIOError) -> (descriptor: Int32, size: Int) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileIOError.unreadable(path: path, reason: errnoText()) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = errnoText()
            close(fd)
            throw FileIOError.unreadable(path: path, reason: reason)
        }
        let size = Int(info.st_size)
        let refusal: FileIOError? = (info.st_mode & S_IFMT) != S_IFREG ? .unreadable(path: path, reason: "not a regular file")
            : size > limit ? .tooLarge(path: path, size: size, limit: limit) : nil
        if let refusal {
            close(fd)
            throw refusal
        }
        return (fd, size)
    }

    /// Writes `bytes` to `path` atomically with the given permission bits (`-` is stdout).
    public static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(FileIOError) {
        if path == "-" {
            try writeAll(bytes, to: 1, path: path)
            return
        }
        do {
            try writeAtomically(to: path, mode: mode) { write in try write(bytes) }
        } catch let error as FileIOError {
            throw error
        } catch {
            throw .unwritable(path: path, reason: "\(error)")
        }
    }

    /// Streams content into `path` atomically: `produce` receives a writer, and the file appears
    /// (temp file in the same directory, fsync, rename, fsync of the directory) only if `produce`
    /// returns; on any error no file is left behind. Missing parent folders are created first
    /// (as `keygen` and `run --out` create theirs).
    public static func writeAtomically(to path: String, mode: mode_t = 0o644,
                                       _ produce: (_ write: ([UInt8]) throws -> Void) throws -> Void) throws {
        try streamAtomically(to: path, mode: mode) { write in
            try withoutActuallyEscaping(write) { write in
                try produce { bytes in try bytes.withUnsafeBytes { try write($0) } }
            }
        }
    }

    /// `writeAtomically` with a writer of raw buffers, written straight from the caller's
    /// memory (no copy into an array): the path of large outputs (open, seal).
    public static func streamAtomically(to path: String, mode: mode_t = 0o644,
                                        _ produce: (_ write: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        try streamAtomically(to: path, mode: mode, fileError: { $0 }) { (write) throws in
            try withoutActuallyEscaping(write) { write in try produce(write) }
        }
    }

    /// `streamAtomically` with typed errors: `produce` throws `Failure`, and the file layer's
    /// own failures (folder, temporary file, fsync, rename) become `Failure` through
    /// `fileError`. The writer throws `FileIOError.unwritable` (a full disk, a write error).
    ///
    /// Large outputs go to the disk while they are produced: every `writebackBytes` the
    /// kernel is asked to start writing the part just written (and to drop from the page
    /// cache what it has already written), so the final fsync waits for little more than the
    /// last blocks, and a gigabyte output does not sit in dirty pages until then.
    public static func streamAtomically<Failure: Error>(
        to path: String, mode: mode_t = 0o644, fileError: (FileIOError) -> Failure,
        _ produce: (_ write: (UnsafeRawBufferPointer) throws(FileIOError) -> Void) throws(Failure) -> Void
    ) throws(Failure) {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        if !FileManager.default.fileExists(atPath: directory) {
            do {
                try makeDirectory(directory)
            } catch {
                throw fileError(.unwritable(path: path, reason: "cannot create its folder \(directory): \(error)"))
            }
        }
        // The content goes to an unnamed file in the target's folder (O_TMPFILE), so a process
        // killed or crashing before the end leaves nothing behind; only once it is complete and
        // fsynced does it get a temporary name (linkat through /proc/self/fd), which is then
        // renamed over `path`. Where the file system has no unnamed files (or /proc is missing),
        // a named temporary file (mkstemp) stands in, removed on every error.
        let folder = directory.isEmpty ? "." : directory
        let temporaryBase = "\(directory)/.\(url.lastPathComponent).tmp-"
        var tempPath: String? = nil
        var fd: Int32 = access("/proc/self/fd", X_OK) == 0 ? open(folder, unnamedFile | O_WRONLY | O_CLOEXEC, 0o600) : -1
        if fd < 0 {
            var template = Array("\(temporaryBase)XXXXXX".utf8CString)
            fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard fd >= 0 else { throw fileError(.unwritable(path: path, reason: errnoText())) }
            tempPath = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        var committed = false
        defer { if !committed, let tempPath { unlink(tempPath) } }
        do {
            defer { close(fd) }
            guard fchmod(fd, mode) == 0 else { throw fileError(.unwritable(path: path, reason: errnoText())) }
            var written = 0
            try produce { (bytes) throws(FileIOError) in
                guard writeAll(bytes, to: fd) else { throw .unwritable(path: path, reason: errnoText()) }
                let before = written
                written += bytes.count
                if written / writebackBytes != before / writebackBytes { startWriteback(fd, upTo: written) }
            }
            guard fsync(fd) == 0 else { throw fileError(.unwritable(path: path, reason: errnoText())) }
            if tempPath == nil {
                tempPath = try name(unnamed: fd, base: temporaryBase, path: path, fileError: fileError)
            }
        }
        guard let named = tempPath, rename(named, path) == 0 else { throw fileError(.unwritable(path: path, reason: errnoText())) }
        committed = true
        // Make the rename itself durable.
        let directoryFD = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// How often a streamed write starts the write-back of what it has written.
    static let writebackBytes = 8 << 20

    /// Starts writing back the last whole window before `end` (`POSIX_FADV_DONTNEED` starts an
    /// asynchronous write-back of dirty pages and drops clean ones) and drops the window
    /// before it, written back by now. Advice only: nothing fails if the kernel ignores it.
    private static func startWriteback(_ fd: Int32, upTo end: Int) {
        let window = writebackBytes
        let last = end / window * window
        guard last >= window else { return }
        _ = posix_fadvise(fd, off_t(last - window), off_t(window), POSIX_FADV_DONTNEED)
        if last >= 3 * window { _ = posix_fadvise(fd, off_t(last - 3 * window), off_t(window), POSIX_FADV_DONTNEED) }
    }

    /// `O_TMPFILE` (Linux, `<fcntl.h>`; the Glibc module does not import the compound macro).
    static let unnamedFile: Int32 = 0o20000000 | O_DIRECTORY

    /// Gives the complete unnamed file `fd` a fresh temporary name `base` + random suffix.
    private static func name<Failure: Error>(unnamed fd: Int32, base: String, path: String,
                                             fileError: (FileIOError) -> Failure) throws(Failure) -> String {
        for _ in 0..<16 {
            let candidate = base + String(UInt64.random(in: 0...UInt64.max), radix: 36)
            if linkat(AT_FDCWD, "/proc/self/fd/\(fd)", AT_FDCWD, candidate, AT_SYMLINK_FOLLOW) == 0 { return candidate }
            if errno != EEXIST { break }
        }
        throw fileError(.unwritable(path: path, reason: errnoText()))
    }

    /// Writes all of `bytes` to `fd`, retrying short and interrupted writes; false (with `errno`
    /// set) when the descriptor refuses.
    static func writeAll(_ bytes: UnsafeRawBufferPointer, to fd: Int32) -> Bool {
        var written = 0
        while written < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + written, bytes.count - written)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            written += n
        }
        return true
    }

    /// A reader factory over the file at `path` that reads straight into the caller's buffer
    /// (`read(2)`, no intermediate copy): each call opens the file afresh and advises the kernel
    /// of sequential access; each read returns up to the buffer's size, 0 at the end.
    public static func bufferReader(_ path: String)
        -> () throws(FileIOError) -> (UnsafeMutableRawBufferPointer) throws(FileIOError) -> Int {
        { () throws(FileIOError) in
            let file = try OpenFile(path)
            return { buffer throws(FileIOError) in try file.read(into: buffer, path: path) }
        }
    }

    /// ``bufferReader(_:)`` for a file read in several passes that must be the same file with
    /// the same bytes each time (seal hashes the plaintext, then encrypts it). The first pass
    /// records the open file's identity (device, inode, size, modification and change times);
    /// every later pass, and the end of every pass, compares the open file's identity with it.
    /// Any write moves the change time, so a file replaced, edited or grown between or during
    /// the passes is refused (`unreadable`, "changed while it was being read"), as `tar` warns
    /// of a file that changed as it read it, instead of ending in a result its reader refuses.
    public static func stableBufferReader(_ path: String)
        -> () throws(FileIOError) -> (UnsafeMutableRawBufferPointer) throws(FileIOError) -> Int {
        var first: FileIdentity?
        return { () throws(FileIOError) in
            let file = try OpenFile(path)
            let identity = try file.identity(path: path)
            if let first {
                guard identity == first else { throw changedWhileRead(path) }
            } else {
                first = identity
            }
            return { buffer throws(FileIOError) in
                let n = try file.read(into: buffer, path: path)
                if n == 0, buffer.count > 0, try file.identity(path: path) != identity { throw changedWhileRead(path) }
                return n
            }
        }
    }

    private static func changedWhileRead(_ path: String) -> FileIOError {
        .unreadable(path: path, reason: "the file changed while it was being read (size, modification or change time "
                    + "differ between reads); run again when nothing writes to it")
    }

    /// The size of the regular file at `path`, or nil (not a regular file, or unreadable).
    public static func size(of path: String) -> UInt64? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return UInt64(info.st_size)
    }

    /// A reader factory over the file at `path` returning arrays (`(count) -> up to count
    /// bytes`, empty at the end); each call opens the file afresh.
    public static func chunkReader(_ path: String) -> () throws(FileIOError) -> (Int) throws(FileIOError) -> [UInt8] {
        { () throws(FileIOError) in
            let read = try bufferReader(path)()
            return { count throws(FileIOError) in
                var failure: FileIOError?
                let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                    do throws(FileIOError) { initialized = try read(UnsafeMutableRawBufferPointer(buffer)) } catch { failure = error; initialized = 0 }
                }
                if let failure { throw failure }
                return bytes
            }
        }
    }

    /// Creates `path` as a directory (and parents) with the given mode if it does not exist.
    public static func makeDirectory(_ path: String, mode: Int = 0o755) throws(FileIOError) {
        if Glibc.mkdir(path, mode_t(mode)) == 0 {
            _ = chmod(path, mode_t(mode))  // exactly `mode`, whatever the umask
            return
        }
        let failure = errno
        var info = stat()
        if (failure == EEXIST || failure == EROFS || failure == EACCES) && stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw .unwritable(path: path, reason: "exists and is not a folder") }
            return  // an existing folder is left as it is
        }
        guard failure == ENOENT, let slash = path.dropLast().lastIndex(of: "/") else {
            throw .unwritable(path: path, reason: String(cString: strerror(failure)))
        }
        let parent = slash == path.startIndex ? "/" : String(path[..<slash])
        try makeDirectory(parent, mode: mode)
        try makeDirectory(path, mode: mode)  // (made meanwhile by another process: an existing folder)
    }

    /// Writes all of `bytes` to the open descriptor `fd`, retrying short and interrupted writes;
    /// a failure names `path` (what the descriptor is).
    public static func writeAll(_ bytes: [UInt8], to fd: Int32, path: String) throws(FileIOError) {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n > 0 {
                written += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                throw .unwritable(path: path, reason: errnoText())
            }
        }
    }

    private static func readStandardInput(limit: Int) throws(FileIOError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw FileIOError.unreadable(path: "-", reason: errnoText()) }
            if n == 0 { return bytes }
            guard bytes.count + n <= limit else {
                throw FileIOError.tooLarge(path: "-", size: bytes.count + n, limit: limit)
            }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// A file descriptor open for reading, closed when the last reader holding it is gone.
private final class OpenFile {
    let fd: Int32

    init(_ path: String) throws(FileIOError) {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileIOError.unreadable(path: path, reason: FileIO.errnoText()) }
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
    }

    deinit { close(fd) }

    /// The open file's device, inode, size, modification and change times.
    func identity(path: String) throws(FileIOError) -> FileIdentity {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileIOError.unreadable(path: path, reason: FileIO.errnoText()) }
        return FileIdentity(info)
    }

    /// Reads up to `buffer.count` bytes into `buffer` (retrying interrupted reads); 0 at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer, path: String) throws(FileIOError) -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            let n = Glibc.read(fd, buffer.baseAddress!, buffer.count)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw FileIOError.unreadable(path: path, reason: FileIO.errnoText()) }
            return n
        }
    }
}

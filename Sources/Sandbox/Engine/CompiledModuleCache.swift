import Crypto
import Glibc
import Hexadecimal

/// A folder of modules wasmtime has already compiled, so that a run of an unchanged module
/// skips Cranelift (the largest part of a short run's start: ~50 ms for a small wasi-libc
/// module here, where loading the compiled form takes well under 1 ms).
///
/// What it trusts: an entry is native code that a component's child maps executable without
/// compiling it again, and nothing can prove that it is the compilation of the module it is
/// filed under. So the folder is trusted like the twocvm binary and the state directory: it
/// must be a directory owned by the user running twocvm and writable by nobody else, and so
/// must every entry (opened without following links, checked on the open descriptor); anything
/// else is passed over and the module compiled as if there were no cache. Entries are named by
/// the SHA-256 of the exact bytes the engine compiles (the module with its ceilings written in),
/// the wasmtime library's digest and the engine's configuration, so a changed module, limit,
/// library or setting never finds an old entry; wasmtime itself refuses an entry made by
/// another version or configuration, and such an entry is compiled again and replaced.
/// A cache problem never fails a run: the worst case is the compile time it would have saved.
public struct CompiledModuleCache: Sendable, Equatable {
    /// The folder holding the entries.
    public let directory: String

    /// The largest entry read back (a compiled module is a few times its wasm size).
    static let maxEntryBytes = 512 << 20

    public init(directory: String) {
        self.directory = directory
    }

    /// The per-user default: `$XDG_CACHE_HOME/twocvm/wasmtime`, else `$HOME/.cache/twocvm/wasmtime`;
    /// nil when neither variable names an absolute folder.
    public static func userDefault(environment: [String: String]) -> CompiledModuleCache? {
        if let base = environment["XDG_CACHE_HOME"], base.hasPrefix("/") {
            return CompiledModuleCache(directory: "\(base)/twocvm/wasmtime")
        }
        if let home = environment["HOME"], home.hasPrefix("/") {
            return CompiledModuleCache(directory: "\(home)/.cache/twocvm/wasmtime")
        }
        return nil
    }

    /// The entry's file name for `binary` compiled by `engine` (library digest and settings).
    func key(for binary: [UInt8], engine fingerprint: String) -> String {
        var hasher = SHA256()
        hasher.update(data: Array("twocvm compiled module v1\n\(fingerprint)\n".utf8))
        hasher.update(data: binary)
        return Hex.encode(hasher.finalize()) + ".cwasm"
    }

    // MARK: Libraries already verified

    /// Whether this cache records that the file with exactly these `facts` (path, device, inode,
    /// size, modification and change times) was verified to have the pinned digest. Trusting the
    /// record is trusting the folder, as every compiled entry already does; the change time
    /// cannot be set back without root, so a file rewritten in place never matches.
    func remembersVerification(of facts: String) -> Bool {
        load(key: verificationKey(facts)).map { $0 == Array(facts.utf8) } ?? false
    }

    /// Records that the file with `facts` was verified.
    func rememberVerification(of facts: String) {
        store(Array(facts.utf8), key: verificationKey(facts))
    }

    private func verificationKey(_ facts: String) -> String {
        "verified-" + Hex.encode(SHA256.hash(data: Array(facts.utf8)))
    }

    /// The entry for `key`, if the folder and the entry are trustworthy and it reads whole.
    func load(key: String) -> [UInt8]? {
        guard let folder = openFolder() else { return nil }
        defer { close(folder) }
        let fd = openat(folder, key, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, Self.isPrivate(info, type: S_IFREG), info.st_size > 0,
              info.st_size <= Self.maxEntryBytes else { return nil }
        let size = Int(info.st_size)
        var complete = true
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            while initialized < size {
                let n = read(fd, buffer.baseAddress! + initialized, size - initialized)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { complete = false; break }
                initialized += n
            }
        }
        return complete ? bytes : nil
    }

    /// Files `bytes` under `key` atomically, creating the folder (0700) when it is missing.
    /// The bytes go to an unnamed file in the folder (`O_TMPFILE`), which is given a name only
    /// once it is complete and then renamed over the key: a child killed while writing leaves
    /// nothing behind. Where the file system has no unnamed files, a named temporary file
    /// (created exclusively, never through a link) takes its place. Failures are ignored: the
    /// next run compiles again.
    func store(_ bytes: [UInt8], key: String) {
        guard bytes.count <= Self.maxEntryBytes, Self.makePrivateDirectory(directory), let folder = openFolder() else { return }
        defer { close(folder) }
        let temporary = ".\(key).\(getpid())"
        var named = false
        var fd = openat(folder, ".", Self.unnamedFile | O_WRONLY | O_CLOEXEC, 0o600)
        if fd < 0 {
            _ = unlinkat(folder, temporary, 0)
            fd = openat(folder, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            named = true
        }
        guard fd >= 0 else { return }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            written += n
        }
        if written == bytes.count && !named {
            _ = unlinkat(folder, temporary, 0)
            named = linkat(AT_FDCWD, "/proc/self/fd/\(fd)", folder, temporary, AT_SYMLINK_FOLLOW) == 0
            if !named { written = -1 }
        }
        let closed = close(fd) == 0
        if written != bytes.count || !closed || renameat(folder, temporary, folder, key) != 0 {
            if named { _ = unlinkat(folder, temporary, 0) }
        }
    }

    /// `O_TMPFILE` (Linux, `<fcntl.h>`; the Glibc module does not import the compound macro).
    private static let unnamedFile: Int32 = 0o20000000 | O_DIRECTORY

    /// The folder itself, opened without following a link and checked on its descriptor: every
    /// later open, link and rename is relative to that descriptor, so the folder cannot be
    /// swapped for another between the check and the use.
    private func openFolder() -> Int32? {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var info = stat()
        guard fstat(fd, &info) == 0, Self.isPrivate(info, type: S_IFDIR) else {
            close(fd)
            return nil
        }
        return fd
    }

    /// Owned by this user, writable by no one else, of the given type (checked on lstat/fstat
    /// results, so a link is never taken for what it points to).
    private static func isPrivate(_ info: stat, type: mode_t) -> Bool {
        (info.st_mode & S_IFMT) == type && info.st_uid == geteuid() && (info.st_mode & (S_IWGRP | S_IWOTH)) == 0
    }

    private static func isPrivateDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && isPrivate(info, type: S_IFDIR)
    }

    /// Creates the missing folders of `path` (the last one 0700) and checks the last one.
    private static func makePrivateDirectory(_ path: String) -> Bool {
        if isPrivateDirectory(path) { return true }
        var prefix = ""
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        for (index, part) in parts.enumerated() {
            prefix += "/" + part
            if mkdir(prefix, index == parts.count - 1 ? 0o700 : 0o755) != 0 && errno != EEXIST { return false }
        }
        return isPrivateDirectory(path)
    }
}

// Reading the launch inputs without holding them in memory. A kernel or initrd can be
// hundreds of megabytes; the launch digest needs only their hashes, and the firmware needs
// only one page at a time plus a few table bytes near its end. So files are read in fixed
// chunks into one reused buffer, and table bytes with positioned reads.

import Glibc

/// An open launch input (firmware, kernel, initrd), closed when released.
final class LaunchInputFile {
    /// The chunk size of sequential reads: large enough for few system calls, small enough
    /// that memory stays flat whatever the file's size. A multiple of the page size.
    static let chunkSize = 1 << 18

    let path: String
    private let descriptor: Int32

    /// Opens `path` for reading.
    init(path: String) throws(LaunchMeasurementError) {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Self.failure(path) }
    }

    deinit { close(descriptor) }

    /// The size of a regular file.
    ///
    /// - Throws: if the file is not a regular file (a firmware image must have a size).
    func regularFileSize() throws(LaunchMeasurementError) -> UInt64 {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw Self.failure(path) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw LaunchMeasurementError.unreadable(path: path, reason: "not a regular file")
        }
        return UInt64(info.st_size)
    }

    /// The size of the regular file at `path`, or 0 when it has none (a device, a pipe) or
    /// cannot be examined; only used to schedule work.
    static func sizeHint(_ path: String) -> UInt64 {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return 0 }
        return UInt64(info.st_size)
    }

    /// Reads exactly `count` bytes at `offset`.
    func read(at offset: UInt64, count: Int) throws(LaunchMeasurementError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = bytes.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress! + filled, count - filled, off_t(offset) + off_t(filled))
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw n == 0
                    ? LaunchMeasurementError.unreadable(path: path, reason: "file ended before byte \(offset + UInt64(count))")
                    : Self.failure(path)
            }
            filled += n
        }
        return bytes
    }

    /// Reads the file from its current position to its end, handing `body` consecutive chunks.
    /// Every chunk but the last is exactly `chunkSize` bytes; an empty file yields no chunk.
    func forEachChunk(_ body: (UnsafeRawBufferPointer) throws(LaunchMeasurementError) -> Void) throws(LaunchMeasurementError) {
        #if os(Linux)
        _ = posix_fadvise(descriptor, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
        #endif
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkSize, alignment: 4096)
        defer { buffer.deallocate() }
        while true {
            var filled = 0
            while filled < buffer.count {
                let n = readSome(descriptor, buffer.baseAddress! + filled, buffer.count - filled)
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { throw Self.failure(path) }
                if n == 0 { break }
                filled += n
            }
            if filled > 0 {
                try body(UnsafeRawBufferPointer(rebasing: buffer[0..<filled]))
                LaunchInputProgress.advance(by: filled)
            }
            if filled < buffer.count { return }
        }
    }

    private static func failure(_ path: String) -> LaunchMeasurementError {
        .unreadable(path: path, reason: String(cString: strerror(errno)))
    }
}

/// `read(2)`, named apart from `LaunchInputFile.read(at:count:)`.
private func readSome(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    Glibc.read(descriptor, buffer, count)
}

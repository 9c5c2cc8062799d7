/// The guest's linear memory as the WASI host sees it: bounds-checked byte access, whatever
/// engine owns the memory. Every address comes from the guest and is untrusted; an access
/// outside the memory is `EFAULT`, never a host crash.
protocol GuestMemory {
    /// The current size in bytes.
    var byteCount: Int { get }
    /// Calls `body` with the `count` bytes at `address`. The caller has checked the range.
    func withUncheckedBytes<T>(at address: Int, count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> T) rethrows -> T
}

extension GuestMemory {
    /// Calls `body` with the `count` bytes at `address`, or throws `EFAULT` if any lies outside.
    func withBytes<T>(at address: UInt32, count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> T) throws -> T {
        let start = Int(address)
        guard count >= 0, start + count <= byteCount else { throw WASIABI.Errno.fault }
        return try withUncheckedBytes(at: start, count: count, body)
    }

    func load(_ address: UInt32, count: Int) throws -> [UInt8] {
        try withBytes(at: address, count: count) { Array($0) }
    }

    /// Copies `bytes` into guest memory: one `memcpy` for contiguous bytes (arrays and their
    /// slices, the path of every `fd_read`), element by element otherwise.
    func store(_ bytes: some Collection<UInt8>, at address: UInt32) throws {
        try withBytes(at: address, count: bytes.count) { buffer in
            let copied: Void? = bytes.withContiguousStorageIfAvailable { source in
                buffer.copyMemory(from: UnsafeRawBufferPointer(source))
            }
            guard copied == nil else { return }
            var index = 0
            for byte in bytes {
                buffer[index] = byte
                index += 1
            }
        }
    }

    func loadU32(_ address: UInt32) throws -> UInt32 {
        try withBytes(at: address, count: 4) { $0.loadUnaligned(as: UInt32.self).littleEndian }
    }

    func loadU64(_ address: UInt32) throws -> UInt64 {
        try withBytes(at: address, count: 8) { $0.loadUnaligned(as: UInt64.self).littleEndian }
    }

    func loadU16(_ address: UInt32) throws -> UInt16 {
        try withBytes(at: address, count: 2) { $0.loadUnaligned(as: UInt16.self).littleEndian }
    }

    func loadU8(_ address: UInt32) throws -> UInt8 {
        try withBytes(at: address, count: 1) { $0[0] }
    }

    func storeU8(_ value: UInt8, at address: UInt32) throws {
        try withBytes(at: address, count: 1) { $0[0] = value }
    }

    func storeU16(_ value: UInt16, at address: UInt32) throws {
        try withBytes(at: address, count: 2) { $0.storeBytes(of: value.littleEndian, as: UInt16.self) }
    }

    func storeU32(_ value: UInt32, at address: UInt32) throws {
        try withBytes(at: address, count: 4) { $0.storeBytes(of: value.littleEndian, as: UInt32.self) }
    }

    func storeU64(_ value: UInt64, at address: UInt32) throws {
        try withBytes(at: address, count: 8) { $0.storeBytes(of: value.littleEndian, as: UInt64.self) }
    }

    /// Reads a UTF-8 path of `length` bytes (no NUL inside, at most 4 KiB).
    func loadPath(_ address: UInt32, length: UInt32) throws -> String {
        guard length <= 4096 else { throw WASIABI.Errno.nametoolong }
        let bytes = try load(address, count: Int(length))
        guard !bytes.contains(0), let path = String(validating: bytes, as: UTF8.self) else {
            throw WASIABI.Errno.inval
        }
        return path
    }

    /// The (buffer, length) pairs of an `iovec`/`ciovec` array, each range checked.
    func loadVectors(_ address: UInt32, count: UInt32) throws -> [(address: UInt32, length: Int)] {
        guard count <= 1024 else { throw WASIABI.Errno.inval }
        var vectors: [(UInt32, Int)] = []
        vectors.reserveCapacity(Int(count))
        for index in 0..<count {
            let entry = UInt64(address) + UInt64(index) * 8
            guard entry + 8 <= UInt64(byteCount) else { throw WASIABI.Errno.fault }
            let base = try loadU32(UInt32(entry)), length = try loadU32(UInt32(entry + 4))
            guard Int(base) + Int(length) <= byteCount else { throw WASIABI.Errno.fault }
            vectors.append((base, Int(length)))
        }
        return vectors
    }
}

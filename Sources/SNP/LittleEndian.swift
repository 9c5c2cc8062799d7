/// Little-endian integers at fixed offsets, as the SNP firmware ABI, the kernel's uapi and the
/// GHCB certificate table all lay them out. Callers check that the buffer is large enough.
enum LittleEndian {
    /// The `size`-byte little-endian integer at `offset`.
    static func read(_ bytes: [UInt8], at offset: Int, size: Int) -> UInt64 {
        (0..<size).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }

    /// Writes the low `size` bytes of `value` little-endian at `offset`.
    static func write(_ value: UInt64, size: Int, at offset: Int, into bytes: inout [UInt8]) {
        for i in 0..<size { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }

    /// The low `size` bytes of `value`, little-endian.
    static func bytes(_ value: UInt64, size: Int) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }
}

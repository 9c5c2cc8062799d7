// The SEV hashes table: how a direct-boot kernel, initrd and command line enter the launch
// digest. QEMU (`-kernel/-initrd/-append` with `kernel-hashes=on`) writes the SHA-256 of each
// into a table inside the SNP_KERNEL_HASHES page of OVMF; that page is measured as a normal
// page, and OVMF refuses to boot anything whose hash differs. The layout is QEMU's
// `SevHashTable` (target/i386/sev.c), padded to 16 bytes, which sev-snp-measure reproduces.

import Crypto

/// The SHA-256 hashes of kernel, initrd and command line, and the table QEMU builds of them.
public struct SEVHashesTable: Sendable, Hashable {
    /// GUID of the table header.
    public static let headerGUID = EFIGUID("9438d606-4f22-4cc9-b479-a793d411fd21")
    /// GUID of the kernel entry.
    public static let kernelGUID = EFIGUID("4de79437-abd2-427f-b835-d5b172d2045b")
    /// GUID of the initrd entry.
    public static let initrdGUID = EFIGUID("44baf731-3a2f-4bd7-9af1-41e29169781d")
    /// GUID of the command-line entry.
    public static let cmdlineGUID = EFIGUID("97d02dd8-bd20-4c94-aa78-e7714d36ab2a")

    /// One entry: GUID (16) · u16 length · SHA-256 (32).
    static let entrySize = 16 + 2 + 32
    /// The table: GUID (16) · u16 length · command line, initrd, kernel entries.
    static let tableSize = 16 + 2 + 3 * entrySize
    /// The table as placed in guest memory: padded with zeros to a multiple of 16 bytes.
    public static let paddedTableSize = (tableSize + 15) & ~15

    /// SHA-256 of the kernel image.
    public let kernel: [UInt8]
    /// SHA-256 of the initrd (of no bytes when there is none).
    public let initrd: [UInt8]
    /// SHA-256 of the command line's UTF-8 bytes followed by one NUL (a lone NUL when there
    /// is none).
    public let cmdline: [UInt8]

    /// Wraps three SHA-256 values.
    public init(kernel: [UInt8], initrd: [UInt8], cmdline: [UInt8]) {
        precondition(kernel.count == 32 && initrd.count == 32 && cmdline.count == 32)
        self.kernel = kernel
        self.initrd = initrd
        self.cmdline = cmdline
    }

    /// The SHA-256 of the file at `path`, read in chunks so that memory does not grow with the
    /// file. Character devices such as `/dev/null` are read to their end like files.
    public static func sha256(ofFileAt path: String) throws(LaunchMeasurementError) -> [UInt8] {
        var hasher = SHA256()
        try LaunchInputFile(path: path).forEachChunk { hasher.update(bufferPointer: $0) }
        return Array(hasher.finalize())
    }

    /// The SHA-256 of an absent initrd: of no bytes.
    public static let emptyInitrd: [UInt8] = Array(SHA256.hash(data: [UInt8]()))

    /// The SHA-256 QEMU records for `commandLine`: its bytes and a terminating NUL. No command
    /// line and an empty one are the same: a lone NUL.
    public static func sha256(commandLine: String?) -> [UInt8] {
        Array(SHA256.hash(data: Array((commandLine ?? "").utf8) + [0]))
    }

    /// The padded table (`paddedTableSize` bytes), exactly as QEMU writes it.
    public var paddedTable: [UInt8] {
        var table = [UInt8]()
        table.reserveCapacity(Self.paddedTableSize)
        func appendLength(_ length: Int) {
            table.append(UInt8(length & 0xFF))
            table.append(UInt8(length >> 8))
        }
        table += Self.headerGUID.bytes
        appendLength(Self.tableSize)
        for (guid, hash) in [(Self.cmdlineGUID, cmdline), (Self.initrdGUID, initrd), (Self.kernelGUID, kernel)] {
            table += guid.bytes
            appendLength(Self.entrySize)
            table += hash
        }
        table += [UInt8](repeating: 0, count: Self.paddedTableSize - Self.tableSize)
        return table
    }

    /// The 4 KiB page holding the padded table at `offset`, zeros elsewhere.
    ///
    /// - Returns: nil if the table does not fit in the page at that offset.
    public func page(tableOffset offset: Int) -> [UInt8]? {
        guard offset >= 0, offset + Self.paddedTableSize <= LaunchDigestContext.pageSize else { return nil }
        var page = [UInt8](repeating: 0, count: LaunchDigestContext.pageSize)
        page.replaceSubrange(offset..<offset + Self.paddedTableSize, with: paddedTable)
        return page
    }
}

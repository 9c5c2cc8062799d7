// The OVMF firmware image as the SNP launch sees it.
//
// QEMU maps the image so that it ends at 4 GiB and adds all of it as normal pages. Two
// structures near its end tell the VMM and the measurement what else to do:
//
// * the footer GUID table (edk2 OvmfPkg/ResetVector/Ia16/ResetVectorVtf0.asm): entries of
//   `data · u16 size · GUID`, read backwards from 32 bytes before the end of the image, the
//   last one being the table's own footer GUID. It gives the SEV-ES AP reset address, the
//   GPA of the SEV hashes table, and where the SEV metadata lives;
// * the SEV metadata (edk2 OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm): an "ASEV" header
//   and a list of (GPA, size, type) sections the VMM must add as zero, secrets, CPUID or
//   kernel-hashes pages before the guest starts.

/// The kind of an SEV metadata section (`OVMF_SECTION_TYPE_*`).
public enum SEVMetadataSectionType: UInt32, Sendable, Hashable {
    /// Memory the guest's SEC phase uses; added as zero pages (unmeasured on GCE).
    case snpSecMem = 1
    /// The page the firmware fills with the guest's secrets.
    case snpSecrets = 2
    /// The page the firmware fills with validated CPUID values.
    case cpuid = 3
    /// The SVSM calling area; added as a zero page.
    case svsmCAA = 4
    /// The page that holds the SEV hashes table of kernel, initrd and command line.
    case snpKernelHashes = 0x10
}

/// One entry of the SEV metadata: a guest-physical range and what it is.
public struct SEVMetadataSection: Sendable, Hashable {
    /// The first guest-physical address of the section.
    public let gpa: UInt32
    /// The section's size in bytes.
    public let size: UInt32
    /// The section's type as stored; see `type` for the known ones.
    public let rawType: UInt32

    /// The section's type, or nil if this code does not know it.
    public var type: SEVMetadataSectionType? { SEVMetadataSectionType(rawValue: rawType) }
}

/// An OVMF image: its place below 4 GiB, its footer table and its SEV metadata. Pages are
/// streamed from the file when measured (`addPages(to:)`); only the tables are kept.
public struct OVMFFirmware: Sendable {
    /// GUID of the footer entry that ends the table.
    public static let footerTableGUID = EFIGUID("96b582de-1fb2-45f7-baea-a366c55a082d")
    /// GUID of the entry giving the GPA of the SEV hashes table (u32).
    public static let sevHashesTableGUID = EFIGUID("7255371f-3a3b-4b04-927b-1da6efa8d454")
    /// GUID of the entry giving the SEV-ES AP reset address (u32 EIP).
    public static let sevESResetBlockGUID = EFIGUID("00f771de-1a7e-4fcb-890e-68c77e2fb44e")
    /// GUID of the entry giving the SEV metadata's offset from the end of the image (u32).
    public static let sevMetadataGUID = EFIGUID("dc886566-984a-4798-a75e-5585a7bf67cc")

    /// The firmware is mapped so that it ends here.
    public static let endGPA: UInt64 = 0x1_0000_0000

    // The footer table ends 32 bytes before the end of the image (the reset vector follows).
    private static let footerDistanceFromEnd: UInt64 = 32
    // Each footer entry ends with u16 size + 16-byte GUID.
    private static let entryHeaderSize = 18
    // "ASEV" · u32 size · u32 version · u32 number of sections.
    private static let metadataHeaderSize = 16
    private static let metadataSectionSize = 12

    /// The path the image was read from.
    public let path: String
    /// The image's size in bytes: a whole number of pages.
    public let size: UInt64
    /// The footer table's entries (their data, without size and GUID), by GUID.
    public let footerTable: [EFIGUID: [UInt8]]
    /// The SEV metadata sections, in the image's order; empty if the image has none.
    public let metadataSections: [SEVMetadataSection]

    /// The GPA of the image's first byte.
    public var gpa: UInt64 { Self.endGPA - size }

    /// Reads the footer table and SEV metadata of the image at `path`.
    ///
    /// - Throws: `LaunchMeasurementError` if the file is unreadable, not a whole number of
    ///   pages that fits below 4 GiB, or its tables are inconsistent.
    public init(path: String) throws(LaunchMeasurementError) {
        let file = try LaunchInputFile(path: path)
        let size = try file.regularFileSize()
        let page = UInt64(LaunchDigestContext.pageSize)
        guard size > 0, size % page == 0 else {
            throw LaunchMeasurementError.badFirmwareSize(path: path, size: size, reason: "not a whole number of 4 KiB pages")
        }
        guard size <= Self.endGPA else {
            throw LaunchMeasurementError.badFirmwareSize(path: path, size: size, reason: "larger than 4 GiB")
        }
        self.path = path
        self.size = size
        footerTable = try Self.readFooterTable(file, size: size)
        metadataSections = try Self.readMetadata(file, size: size, table: footerTable)
    }

    /// The EIP at which application processors start (SEV-ES reset block).
    ///
    /// - Throws: `LaunchMeasurementError.missingFirmwareEntry` if the table has no reset block.
    public func sevESResetEIP() throws(LaunchMeasurementError) -> UInt32 {
        try u32Entry(Self.sevESResetBlockGUID, name: "SEV_ES_RESET_BLOCK_GUID")
    }

    /// The GPA of the SEV hashes table the firmware checks kernel, initrd and command line
    /// against.
    public func sevHashesTableGPA() throws(LaunchMeasurementError) -> UInt32 {
        try u32Entry(Self.sevHashesTableGUID, name: "SEV_HASH_TABLE_RV_GUID")
    }

    /// Whether some SEV metadata section has type `type`.
    public func hasMetadataSection(_ type: SEVMetadataSectionType) -> Bool {
        metadataSections.contains { $0.rawType == type.rawValue }
    }

    /// Streams the image from disk and adds every page to `context` as a normal page, from
    /// `gpa` up to 4 GiB.
    public func addPages(to context: inout LaunchDigestContext) throws(LaunchMeasurementError) {
        let file = try LaunchInputFile(path: path)
        var offset: UInt64 = 0
        try file.forEachChunk { (chunk: UnsafeRawBufferPointer) throws(LaunchMeasurementError) in
            guard offset + UInt64(chunk.count) <= size, chunk.count % LaunchDigestContext.pageSize == 0 else {
                throw LaunchMeasurementError.malformedFirmware(path: path, field: "image", reason: "file changed while being measured")
            }
            context.addNormalPages(chunk, gpa: gpa + offset)
            offset += UInt64(chunk.count)
        }
        guard offset == size else {
            throw LaunchMeasurementError.malformedFirmware(path: path, field: "image", reason: "file changed while being measured")
        }
    }

    // MARK: - Parsing

    private func u32Entry(_ guid: EFIGUID, name: String) throws(LaunchMeasurementError) -> UInt32 {
        guard let entry = footerTable[guid] else {
            throw LaunchMeasurementError.missingFirmwareEntry(path: path, entry: name)
        }
        return Self.littleEndianPrefix(entry)
    }

    /// Reads the footer GUID table. An image without the footer GUID simply has no table.
    private static func readFooterTable(_ file: LaunchInputFile, size: UInt64) throws(LaunchMeasurementError) -> [EFIGUID: [UInt8]] {
        let footerOffset = size - footerDistanceFromEnd - UInt64(entryHeaderSize)
        let footer = try file.read(at: footerOffset, count: entryHeaderSize)
        guard EFIGUID(efiBytes: footer[2..<18]) == footerTableGUID else { return [:] }
        let tableSize = Int(UInt16(footer[0]) | UInt16(footer[1]) << 8) - entryHeaderSize
        guard tableSize > 0 else { return [:] }
        guard UInt64(tableSize) <= footerOffset else {
            throw LaunchMeasurementError.malformedFirmware(
                path: file.path, field: "footer table", reason: "size \(tableSize) reaches before the start of the image")
        }
        let table = try file.read(at: footerOffset - UInt64(tableSize), count: tableSize)

        // Entries are read from the end of the table backwards; like sev-snp-measure, an entry
        // nearer the start of the table wins over a later one with the same GUID.
        var entries: [EFIGUID: [UInt8]] = [:]
        var end = table.count
        while end >= entryHeaderSize {
            let entrySize = Int(UInt16(table[end - 18]) | UInt16(table[end - 17]) << 8)
            guard entrySize >= entryHeaderSize, entrySize <= end else {
                throw LaunchMeasurementError.malformedFirmware(
                    path: file.path, field: "footer table",
                    reason: "entry ending at table offset \(end) has invalid size \(entrySize)")
            }
            let guid = EFIGUID(efiBytes: table[(end - 16)..<end])
            entries[guid] = Array(table[(end - entrySize)..<(end - entryHeaderSize)])
            end -= entrySize
        }
        return entries
    }

    /// Reads the SEV metadata the footer table points to, if it does.
    private static func readMetadata(
        _ file: LaunchInputFile, size: UInt64, table: [EFIGUID: [UInt8]]
    ) throws(LaunchMeasurementError) -> [SEVMetadataSection] {
        guard let entry = table[sevMetadataGUID] else { return [] }
        let offsetFromEnd = UInt64(littleEndianPrefix(entry))
        guard offsetFromEnd >= UInt64(metadataHeaderSize), offsetFromEnd <= size else {
            throw LaunchMeasurementError.malformedFirmware(
                path: file.path, field: "SEV metadata offset", reason: "\(offsetFromEnd) bytes from the end is outside the image")
        }
        let start = size - offsetFromEnd
        let header = try file.read(at: start, count: metadataHeaderSize)
        guard header[0..<4].elementsEqual("ASEV".utf8) else {
            throw LaunchMeasurementError.malformedFirmware(path: file.path, field: "SEV metadata", reason: "wrong signature")
        }
        let declaredSize = UInt64(littleEndianPrefix(header[4..<8]))
        let version = littleEndianPrefix(header[8..<12])
        let count = UInt64(littleEndianPrefix(header[12..<16]))
        guard version == 1 else {
            throw LaunchMeasurementError.malformedFirmware(
                path: file.path, field: "SEV metadata", reason: "wrong version \(version) (expected 1)")
        }
        // The sections must lie within both the declared size and the image.
        let available = min(start + declaredSize, size)
        let needed = start + UInt64(metadataHeaderSize) + count * UInt64(metadataSectionSize)
        guard needed <= available else {
            throw LaunchMeasurementError.malformedFirmware(
                path: file.path, field: "SEV metadata", reason: "\(count) sections do not fit in \(declaredSize) bytes")
        }
        let items = try file.read(at: start + UInt64(metadataHeaderSize), count: Int(count) * metadataSectionSize)
        return (0..<Int(count)).map { index in
            let base = index * metadataSectionSize
            return SEVMetadataSection(
                gpa: littleEndianPrefix(items[base..<base + 4]),
                size: littleEndianPrefix(items[base + 4..<base + 8]),
                rawType: littleEndianPrefix(items[base + 8..<base + 12]))
        }
    }

    /// The little-endian u32 in the first (up to) four bytes, as sev-snp-measure reads table
    /// entries.
    private static func littleEndianPrefix(_ bytes: some Collection<UInt8>) -> UInt32 {
        var value: UInt32 = 0
        for (index, byte) in bytes.prefix(4).enumerated() { value |= UInt32(byte) << (8 * index) }
        return value
    }
}

// The PAGE_INFO record of AMD's SEV-SNP firmware ABI specification (#56860, section
// "SNP_LAUNCH_UPDATE", table "PAGE_INFO Structure"). For every page the VMM adds to a guest
// during launch, the firmware builds this 0x70-byte record from the current launch digest and
// the page, and the SHA-384 of the record becomes the new launch digest (LaunchDigest.swift).

/// The page types of SNP_LAUNCH_UPDATE (PAGE_TYPE field).
public enum LaunchPageType: UInt8, Sendable, Hashable {
    /// A page of data, measured by its SHA-384 (firmware, the kernel-hashes page).
    case normal = 0x01
    /// A vCPU's initial save area (VMSA), measured by its SHA-384.
    case vmsa = 0x02
    /// A page the firmware zeroes; measured with zero contents.
    case zero = 0x03
    /// A page accepted without measurement; recorded with zero contents.
    case unmeasured = 0x04
    /// The secrets page the firmware fills; recorded with zero contents.
    case secrets = 0x05
    /// The CPUID page the firmware checks; recorded with zero contents.
    case cpuid = 0x06
}

/// One PAGE_INFO record: the input of one step of the launch digest.
///
/// Layout (little-endian, 0x70 bytes): DIGEST_CUR (48) · CONTENTS (48) · LENGTH (u16 = 0x70) ·
/// PAGE_TYPE (u8) · IMI_PAGE (u8) · VMPL3_PERMS, VMPL2_PERMS, VMPL1_PERMS (u8 each) ·
/// reserved (u8) · GPA (u64). A VMM launching an ordinary guest uses IMI_PAGE = 0 and no
/// VMPL permissions, as here.
struct LaunchPageInfo {
    /// The size of the record, also stored in its LENGTH field.
    static let length = 0x70

    /// The launch digest before this page.
    var currentDigest: LaunchDigest
    /// SHA-384 of the page for `.normal` and `.vmsa`, otherwise 48 zero bytes.
    var contents: LaunchDigest
    var pageType: LaunchPageType
    /// The guest-physical address of the page (`LaunchDigestContext.vmsaGPA` for VMSAs).
    var gpa: UInt64

    /// Writes the record into `buffer`, which must hold `length` bytes.
    func encode(into buffer: UnsafeMutableRawBufferPointer) {
        precondition(buffer.count >= Self.length)
        currentDigest.copyBytes(to: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<48]))
        contents.copyBytes(to: UnsafeMutableRawBufferPointer(rebasing: buffer[48..<96]))
        buffer.storeBytes(of: UInt16(Self.length).littleEndian, toByteOffset: 96, as: UInt16.self)
        buffer[98] = pageType.rawValue
        buffer[99] = 0  // IMI_PAGE
        buffer[100] = 0  // VMPL3_PERMS
        buffer[101] = 0  // VMPL2_PERMS
        buffer[102] = 0  // VMPL1_PERMS
        buffer[103] = 0  // reserved
        buffer.storeBytes(of: gpa.littleEndian, toByteOffset: 104, as: UInt64.self)
    }

    /// The record as bytes.
    var bytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.length) { buffer, count in
            encode(into: UnsafeMutableRawBufferPointer(buffer))
            count = Self.length
        }
    }
}

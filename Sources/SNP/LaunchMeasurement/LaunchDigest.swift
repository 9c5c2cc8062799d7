// The running launch digest of the guest context (GCTX.LD in AMD's SEV-SNP firmware ABI
// specification). It starts as 48 zero bytes (or as a precomputed value, see
// `LaunchDigestContext.init(seed:)`), and each page added at launch replaces it with
// SHA-384(PAGE_INFO) (PageInfo.swift). After the last VMSA page it is the MEASUREMENT field
// of every attestation report of the guest.

import Crypto
import Foundation
import Hexadecimal

/// A 48-byte SHA-384 value of the launch-digest chain: the final MEASUREMENT, an intermediate
/// digest (such as the firmware-only `--snp-ovmf-hash`), or a page's SHA-384.
public struct LaunchDigest: Sendable, Hashable, CustomStringConvertible {
    /// The size of a launch digest in bytes.
    public static let byteCount = 48

    /// 48 zero bytes: the digest before the first page.
    public static let zero = LaunchDigest(words: (0, 0, 0, 0, 0, 0))

    // Six words rather than an array: the digest is replaced once per measured page, and a
    // fixed-size value needs no allocation.
    private var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    private init(words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)) {
        self.words = words
    }

    /// Wraps 48 bytes.
    ///
    /// - Throws: `LaunchMeasurementError.malformedDigest` for any other length.
    public init<Bytes: Collection<UInt8>>(bytes: Bytes) throws(LaunchMeasurementError) {
        guard bytes.count == Self.byteCount else {
            throw LaunchMeasurementError.malformedDigest(reason: "expected \(Self.byteCount) bytes, got \(bytes.count)")
        }
        self = .zero
        withUnsafeMutableBytes(of: &words) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
    }

    /// Parses 96 hex digits (either case), as sev-snp-measure prints a digest.
    ///
    /// - Throws: `LaunchMeasurementError.malformedDigest` if `hex` is not exactly that.
    public init(hex: String) throws(LaunchMeasurementError) {
        guard hex.utf8.count == 2 * Self.byteCount else {
            throw LaunchMeasurementError.malformedDigest(
                reason: "expected \(2 * Self.byteCount) hex digits, got \(hex.utf8.count)")
        }
        guard let bytes = Hex.decode(hex) else {
            throw LaunchMeasurementError.malformedDigest(reason: "not hex digits")
        }
        try self.init(bytes: bytes)
    }

    /// The SHA-384 of a page or record.
    init(_ digest: SHA384.Digest) {
        self = .zero
        withUnsafeMutableBytes(of: &words) { target in
            digest.withUnsafeBytes { source in target.copyMemory(from: source) }
        }
    }

    /// The SHA-384 of `bytes`.
    init(sha384Of bytes: UnsafeRawBufferPointer) {
        var hasher = SHA384()
        hasher.update(bufferPointer: bytes)
        self.init(hasher.finalize())
    }

    /// The 48 bytes.
    public var bytes: [UInt8] { withUnsafeBytes(of: words) { Array($0) } }

    /// Lowercase hex, as `sev-snp-measure --output-format hex` prints it.
    public var hex: String { Hex.encode(bytes) }

    /// Standard base64, as `sev-snp-measure --output-format base64` prints it.
    public var base64: String { Data(bytes).base64EncodedString() }

    public var description: String { hex }

    public static func == (lhs: LaunchDigest, rhs: LaunchDigest) -> Bool {
        lhs.words == rhs.words
    }

    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes(of: words) { hasher.combine(bytes: $0) }
    }

    /// Copies the 48 bytes to the start of `buffer`.
    func copyBytes(to buffer: UnsafeMutableRawBufferPointer) {
        withUnsafeBytes(of: words) { buffer.copyMemory(from: $0) }
    }

}

private func == (
    lhs: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64),
    rhs: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
) -> Bool {
    lhs.0 == rhs.0 && lhs.1 == rhs.1 && lhs.2 == rhs.2 && lhs.3 == rhs.3 && lhs.4 == rhs.4 && lhs.5 == rhs.5
}

/// The guest context's running launch digest, extended one page at a time exactly as the SNP
/// firmware does during SNP_LAUNCH_UPDATE.
public struct LaunchDigestContext: Sendable {
    /// The size of a guest page.
    public static let pageSize = 4096

    /// The GPA recorded for VMSA pages: the firmware records them at GPA (u64)-1, page-aligned
    /// and with the bits above 51 cleared.
    public static let vmsaGPA: UInt64 = 0xFFFF_FFFF_F000

    /// The launch digest so far.
    public private(set) var digest: LaunchDigest

    /// Starts from 48 zero bytes, or from `seed`: a digest already extended over the firmware
    /// pages (`--snp-ovmf-hash`), so that the firmware need not be hashed again.
    public init(seed: LaunchDigest = .zero) {
        digest = seed
    }

    /// Measures consecutive 4 KiB pages of data starting at `gpa` (PAGE_TYPE_NORMAL).
    ///
    /// `data.count` must be a multiple of the page size.
    public mutating func addNormalPages(_ data: UnsafeRawBufferPointer, gpa: UInt64) {
        precondition(data.count % Self.pageSize == 0, "normal pages must be whole pages")
        var offset = 0
        while offset < data.count {
            let page = UnsafeRawBufferPointer(rebasing: data[offset..<offset + Self.pageSize])
            extend(.normal, gpa: gpa + UInt64(offset), contents: LaunchDigest(sha384Of: page))
            offset += Self.pageSize
        }
    }

    /// Measures consecutive 4 KiB pages given as bytes.
    public mutating func addNormalPages(_ data: [UInt8], gpa: UInt64) {
        data.withUnsafeBytes { addNormalPages($0, gpa: gpa) }
    }

    /// Measures one vCPU's initial save area (PAGE_TYPE_VMSA), recorded at `vmsaGPA`.
    public mutating func addVMSAPage(_ page: [UInt8]) {
        precondition(page.count == Self.pageSize, "a VMSA is one page")
        let contents = page.withUnsafeBytes { LaunchDigest(sha384Of: $0) }
        extend(.vmsa, gpa: Self.vmsaGPA, contents: contents)
    }

    /// Records `length` bytes of zero pages from `gpa` (PAGE_TYPE_ZERO).
    public mutating func addZeroPages(gpa: UInt64, length: UInt64) {
        addEmptyPages(.zero, gpa: gpa, length: length)
    }

    /// Records `length` bytes of unmeasured pages from `gpa` (PAGE_TYPE_UNMEASURED).
    public mutating func addUnmeasuredPages(gpa: UInt64, length: UInt64) {
        addEmptyPages(.unmeasured, gpa: gpa, length: length)
    }

    /// Records the secrets page at `gpa` (PAGE_TYPE_SECRETS).
    public mutating func addSecretsPage(gpa: UInt64) {
        extend(.secrets, gpa: gpa, contents: .zero)
    }

    /// Records the CPUID page at `gpa` (PAGE_TYPE_CPUID).
    public mutating func addCPUIDPage(gpa: UInt64) {
        extend(.cpuid, gpa: gpa, contents: .zero)
    }

    private mutating func addEmptyPages(_ type: LaunchPageType, gpa: UInt64, length: UInt64) {
        precondition(length % UInt64(Self.pageSize) == 0, "pages are whole pages")
        var offset: UInt64 = 0
        while offset < length {
            extend(type, gpa: gpa + offset, contents: .zero)
            offset += UInt64(Self.pageSize)
        }
    }

    /// One SNP_LAUNCH_UPDATE step: LD := SHA-384(PAGE_INFO(LD, contents, type, gpa)).
    private mutating func extend(_ type: LaunchPageType, gpa: UInt64, contents: LaunchDigest) {
        let record = LaunchPageInfo(currentDigest: digest, contents: contents, pageType: type, gpa: gpa)
        digest = withUnsafeTemporaryAllocation(byteCount: LaunchPageInfo.length, alignment: 8) { buffer in
            record.encode(into: buffer)
            return LaunchDigest(sha384Of: UnsafeRawBufferPointer(buffer))
        }
    }
}

import Hexadecimal

/// The ATTESTATION_REPORT structure of the SEV-SNP firmware ABI (AMD 56860, rev 1.57/1.58,
/// table "ATTESTATION_REPORT Structure"): every offset of the report lives in this file and
/// nowhere else. Bytes in, `AttestationReport` out.
///
/// | offset | size | field | versions |
/// | ------ | ---- | ----- | -------- |
/// | 0x000 | 4 | VERSION | |
/// | 0x004 | 4 | GUEST_SVN | |
/// | 0x008 | 8 | POLICY | |
/// | 0x010 | 16 | FAMILY_ID | |
/// | 0x020 | 16 | IMAGE_ID | |
/// | 0x030 | 4 | VMPL | |
/// | 0x034 | 4 | SIGNATURE_ALGO | |
/// | 0x038 | 8 | CURRENT_TCB | |
/// | 0x040 | 8 | PLATFORM_INFO | |
/// | 0x048 | 4 | AUTHOR_KEY_EN, MASK_CHIP_KEY, SIGNING_KEY | |
/// | 0x04C | 4 | reserved | |
/// | 0x050 | 64 | REPORT_DATA | |
/// | 0x090 | 48 | MEASUREMENT | |
/// | 0x0C0 | 32 | HOST_DATA | |
/// | 0x0E0 | 48 | ID_KEY_DIGEST | |
/// | 0x110 | 48 | AUTHOR_KEY_DIGEST | |
/// | 0x140 | 32 | REPORT_ID | |
/// | 0x160 | 32 | REPORT_ID_MA | |
/// | 0x180 | 8 | REPORTED_TCB | |
/// | 0x188 | 1+1+1 | CPUID_FAM_ID, CPUID_MOD_ID, CPUID_STEP | 3+ (reserved in 2) |
/// | 0x18B | 21 | reserved | |
/// | 0x1A0 | 64 | CHIP_ID | |
/// | 0x1E0 | 8 | COMMITTED_TCB | |
/// | 0x1E8 | 1+1+1 | CURRENT_BUILD, CURRENT_MINOR, CURRENT_MAJOR | |
/// | 0x1EB | 1 | reserved | |
/// | 0x1EC | 1+1+1 | COMMITTED_BUILD, COMMITTED_MINOR, COMMITTED_MAJOR | |
/// | 0x1EF | 1 | reserved | |
/// | 0x1F0 | 8 | LAUNCH_TCB | |
/// | 0x1F8 | 8+8 | LAUNCH_MIT_VECTOR, CURRENT_MIT_VECTOR | 5+ (reserved before) |
/// | 0x208 | 152 | reserved | |
/// | 0x2A0 | 512 | SIGNATURE: R (72, LE), S (72, LE), reserved (368) | |
enum ReportABI {
    /// The size of a report.
    static let size = 0x4A0
    /// The bytes the signature covers.
    static let signedRange = 0x000..<0x2A0
    /// The supported VERSION values.
    static let supportedVersions: ClosedRange<UInt32> = 2...5

    private static let signatureOffset = 0x2A0
    private static let signatureComponentSize = 72

    /// Turns a report file's contents into the 1184 report bytes: raw binary as is, hex text
    /// decoded.
    static func rawBytes(fromInput input: [UInt8]) throws(ReportError) -> [UInt8] {
        if input.count == size { return input }
        guard !input.isEmpty, let decoded = Hex.decode(inputUTF8: input) else {
            throw .wrongSize(byteCount: input.count, fromHex: false)
        }
        guard decoded.count == size else { throw .wrongSize(byteCount: decoded.count, fromHex: true) }
        return decoded
    }

    /// Decodes 1184 bytes; see `AttestationReport.init(bytes:product:)`.
    static func decode(_ bytes: [UInt8], product hint: Product?) throws(ReportError) -> AttestationReport {
        guard bytes.count == size else { throw .wrongSize(byteCount: bytes.count, fromHex: false) }
        let reader = FieldReader(bytes: bytes)
        let version = reader.u32(0x000)
        guard supportedVersions.contains(version) else { throw .unsupportedVersion(version) }
        try checkReserved(bytes, version: version)

        let policy = reader.u64(0x008)
        guard policy & GuestPolicy.reservedOneBit != 0 else { throw .policyReservedBitClear(policy: policy) }
        let vmpl = reader.u32(0x030)
        guard vmpl <= 3 else { throw .invalidVMPL(vmpl) }
        let algorithm = reader.u32(0x034)
        guard algorithm == 1 else { throw .unsupportedSignatureAlgorithm(algorithm) }
        let signerRaw = reader.u32(0x048)
        guard let signerInfo = SignerInfo(raw: signerRaw) else { throw .invalidSignerInfo(signerRaw) }

        let cpuid = version >= 3 ? CPUID(family: bytes[0x188], model: bytes[0x189], stepping: bytes[0x18A]) : nil
        let layoutProduct = cpuid?.product ?? hint
        let mitigation = version >= 5 ? MitigationVectors(launch: reader.u64(0x1F8), current: reader.u64(0x200)) : nil
        let signature = ReportSignature(
            r: reader.slice(signatureOffset, signatureComponentSize),
            s: reader.slice(signatureOffset + signatureComponentSize, signatureComponentSize))

        return AttestationReport(
            bytes: bytes,
            version: version,
            guestSVN: reader.u32(0x004),
            policy: GuestPolicy(raw: policy),
            familyID: FamilyID(uncheckedBytes: reader.slice(0x010, FamilyID.byteCount)),
            imageID: ImageID(uncheckedBytes: reader.slice(0x020, ImageID.byteCount)),
            vmpl: vmpl,
            signatureAlgorithm: algorithm,
            platformInfo: PlatformInfo(raw: reader.u64(0x040)),
            signerInfo: signerInfo,
            reportData: ReportData(uncheckedBytes: reader.slice(0x050, ReportData.byteCount)),
            measurement: Measurement(uncheckedBytes: reader.slice(0x090, Measurement.byteCount)),
            hostData: HostData(uncheckedBytes: reader.slice(0x0C0, HostData.byteCount)),
            idKeyDigest: KeyDigest(uncheckedBytes: reader.slice(0x0E0, KeyDigest.byteCount)),
            authorKeyDigest: KeyDigest(uncheckedBytes: reader.slice(0x110, KeyDigest.byteCount)),
            reportID: ReportID(uncheckedBytes: reader.slice(0x140, ReportID.byteCount)),
            reportIDMigrationAgent: ReportID(uncheckedBytes: reader.slice(0x160, ReportID.byteCount)),
            cpuid: cpuid,
            chipID: ChipID(uncheckedBytes: reader.slice(0x1A0, ChipID.byteCount)),
            currentVersion: FirmwareVersion(major: bytes[0x1EA], minor: bytes[0x1E9], build: bytes[0x1E8]),
            committedVersion: FirmwareVersion(major: bytes[0x1EE], minor: bytes[0x1ED], build: bytes[0x1EC]),
            mitigationVectors: mitigation,
            signature: signature,
            tcbLayout: layoutProduct.map(TCBLayout.init(product:)) ?? .milanGenoa,
            rawCurrentTCB: reader.u64(0x038),
            rawReportedTCB: reader.u64(0x180),
            rawCommittedTCB: reader.u64(0x1E0),
            rawLaunchTCB: reader.u64(0x1F0))
    }

    /// The reserved ranges of a report of `version`, named as in error messages.
    static func reservedRanges(version: UInt32) -> [(name: String, range: Range<Int>)] {
        [
            ("field at 0x4C", 0x04C..<0x050),
            version >= 3 ? ("field at 0x18B", 0x18B..<0x1A0) : ("field at 0x188 (CPUID in version 3+)", 0x188..<0x1A0),
            ("field at 0x1EB", 0x1EB..<0x1EC),
            ("field at 0x1EF", 0x1EF..<0x1F0),
            version >= 5 ? ("field at 0x208", 0x208..<0x2A0) : ("field at 0x1F8 (mitigation vectors in version 5+)", 0x1F8..<0x2A0),
            ("signature bytes after R and S", (signatureOffset + 2 * signatureComponentSize)..<size),
        ]
    }

    private static func checkReserved(_ bytes: [UInt8], version: UInt32) throws(ReportError) {
        for (name, range) in reservedRanges(version: version) {
            if let offset = range.first(where: { bytes[$0] != 0 }) {
                throw .reservedNotZero(field: name, offset: offset, value: bytes[offset])
            }
        }
    }
}

/// Little-endian reads at fixed offsets of a buffer whose size the caller has checked.
private struct FieldReader {
    let bytes: [UInt8]

    func u32(_ offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
    }

    func u64(_ offset: Int) -> UInt64 {
        (0..<8).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }

    func slice(_ offset: Int, _ count: Int) -> [UInt8] { Array(bytes[offset..<(offset + count)]) }
}

/// The fields a report is built from, for the simulated platform (and tests): the inverse of
/// `ReportABI.decode`, at the same offsets.
public struct ReportContents: Sendable {
    public var version: UInt32 = 3
    public var guestSVN: UInt32 = 0
    public var policy: UInt64 = GuestPolicy.reservedOneBit | (1 << 16)  // SMT allowed, debug off
    public var familyID = [UInt8](repeating: 0, count: 16)
    public var imageID = [UInt8](repeating: 0, count: 16)
    public var vmpl: UInt32 = 0
    public var currentTCB: UInt64 = 0
    public var platformInfo: UInt64 = 0x1
    public var signerInfo: UInt32 = 0
    public var reportData = [UInt8](repeating: 0, count: 64)
    public var measurement = [UInt8](repeating: 0, count: 48)
    public var hostData = [UInt8](repeating: 0, count: 32)
    public var idKeyDigest = [UInt8](repeating: 0, count: 48)
    public var authorKeyDigest = [UInt8](repeating: 0, count: 48)
    public var reportID = [UInt8](repeating: 0, count: 32)
    public var reportIDMigrationAgent = [UInt8](repeating: 0xFF, count: 32)
    public var reportedTCB: UInt64 = 0
    public var cpuid = CPUID(family: 0x19, model: 0x01, stepping: 0x01)
    public var chipID = [UInt8](repeating: 0, count: 64)
    public var committedTCB: UInt64 = 0
    public var currentVersion = FirmwareVersion(major: 1, minor: 55, build: 21)
    public var committedVersion = FirmwareVersion(major: 1, minor: 55, build: 21)
    public var launchTCB: UInt64 = 0

    public init() {}

    /// The 0x4A0 report bytes with a zero signature, ready to sign over `ReportABI.signedRange`.
    public func unsignedBytes() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: ReportABI.size)
        func put(_ value: UInt64, _ size: Int, _ offset: Int) { LittleEndian.write(value, size: size, at: offset, into: &b) }
        func put(_ bytes: [UInt8], _ offset: Int) { b.replaceSubrange(offset..<offset + bytes.count, with: bytes) }
        put(UInt64(version), 4, 0x000)
        put(UInt64(guestSVN), 4, 0x004)
        put(policy, 8, 0x008)
        put(familyID, 0x010)
        put(imageID, 0x020)
        put(UInt64(vmpl), 4, 0x030)
        put(1, 4, 0x034)  // ECDSA P-384 with SHA-384
        put(currentTCB, 8, 0x038)
        put(platformInfo, 8, 0x040)
        put(UInt64(signerInfo), 4, 0x048)
        put(reportData, 0x050)
        put(measurement, 0x090)
        put(hostData, 0x0C0)
        put(idKeyDigest, 0x0E0)
        put(authorKeyDigest, 0x110)
        put(reportID, 0x140)
        put(reportIDMigrationAgent, 0x160)
        put(reportedTCB, 8, 0x180)
        if version >= 3 { put([cpuid.family, cpuid.model, cpuid.stepping], 0x188) }
        put(chipID, 0x1A0)
        put(committedTCB, 8, 0x1E0)
        put([currentVersion.build, currentVersion.minor, currentVersion.major], 0x1E8)
        put([committedVersion.build, committedVersion.minor, committedVersion.major], 0x1EC)
        put(launchTCB, 8, 0x1F0)
        return b
    }

    /// The report bytes with `r` and `s` (big-endian, as ECDSA libraries return them) written
    /// little-endian into the 72-byte signature fields.
    public func signedBytes(r: [UInt8], s: [UInt8]) -> [UInt8] {
        var b = unsignedBytes()
        b.replaceSubrange(0x2A0..<0x2A0 + r.count, with: r.reversed())
        b.replaceSubrange(0x2E8..<0x2E8 + s.count, with: s.reversed())
        return b
    }
}

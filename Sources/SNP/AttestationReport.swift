/// An SEV-SNP attestation report (SNP ABI, ATTESTATION_REPORT structure, versions 2–5), decoded
/// once into typed values. Construct it with `init(bytes:product:)` or `init(input:product:)`;
/// after that no code re-reads offsets (they live in `ReportABI` only).
///
/// The raw bytes are kept: the signature covers them exactly as they arrived, never a re-encoding.
public struct AttestationReport: Hashable, Sendable {
    /// The size of every supported report version, in bytes (0x4A0).
    public static let byteCount = ReportABI.size

    /// The 1184 bytes of the report, exactly as read.
    public let bytes: [UInt8]

    /// VERSION: 2 (ABI ≤ 1.54), 3 and 4 (CPUID fields), 5 (mitigation vectors).
    public let version: UInt32
    /// GUEST_SVN: the guest's security version number from the ID block.
    public let guestSVN: UInt32
    /// POLICY: the guest policy fixed at launch.
    public let policy: GuestPolicy
    /// FAMILY_ID from the ID block.
    public let familyID: FamilyID
    /// IMAGE_ID from the ID block.
    public let imageID: ImageID
    /// VMPL: the privilege level (0–3) that requested the report.
    public let vmpl: UInt32
    /// SIGNATURE_ALGO: always 1 (ECDSA P-384 with SHA-384) in a parsed report.
    public let signatureAlgorithm: UInt32
    /// PLATFORM_INFO: the host platform's configuration.
    public let platformInfo: PlatformInfo
    /// AUTHOR_KEY_EN, MASK_CHIP_KEY, SIGNING_KEY.
    public let signerInfo: SignerInfo
    /// REPORT_DATA supplied by the guest.
    public let reportData: ReportData
    /// MEASUREMENT: the launch digest.
    public let measurement: Measurement
    /// HOST_DATA supplied by the host at launch.
    public let hostData: HostData
    /// ID_KEY_DIGEST: SHA-384 of the ID block's signing key (zero without an ID block).
    public let idKeyDigest: KeyDigest
    /// AUTHOR_KEY_DIGEST: SHA-384 of the author key (zero unless AUTHOR_KEY_EN).
    public let authorKeyDigest: KeyDigest
    /// REPORT_ID of this guest.
    public let reportID: ReportID
    /// REPORT_ID_MA of its migration agent (all 0xff without one).
    public let reportIDMigrationAgent: ReportID
    /// CPUID_FAM_ID, CPUID_MOD_ID, CPUID_STEP (version 3+; nil in version 2).
    public let cpuid: CPUID?
    /// CHIP_ID (zero when the host masks it).
    public let chipID: ChipID
    /// CURRENT_BUILD, CURRENT_MINOR, CURRENT_MAJOR: the running firmware.
    public let currentVersion: FirmwareVersion
    /// COMMITTED_BUILD, COMMITTED_MINOR, COMMITTED_MAJOR: the firmware the platform cannot roll
    /// back below.
    public let committedVersion: FirmwareVersion
    /// LAUNCH_MIT_VECTOR and CURRENT_MIT_VECTOR (version 5+; nil before).
    public let mitigationVectors: MitigationVectors?
    /// SIGNATURE: r and s, little-endian.
    public let signature: ReportSignature

    /// The layout the four TCB fields are read with (see `TCB`).
    public private(set) var tcbLayout: TCBLayout
    let rawCurrentTCB: UInt64
    let rawReportedTCB: UInt64
    let rawCommittedTCB: UInt64
    let rawLaunchTCB: UInt64

    /// CURRENT_TCB: the TCB the platform runs now.
    public var currentTCB: TCB { TCB(raw: rawCurrentTCB, layout: tcbLayout) }
    /// REPORTED_TCB: the TCB the VCEK that signed this report was derived from.
    public var reportedTCB: TCB { TCB(raw: rawReportedTCB, layout: tcbLayout) }
    /// COMMITTED_TCB: the TCB the platform cannot roll back below.
    public var committedTCB: TCB { TCB(raw: rawCommittedTCB, layout: tcbLayout) }
    /// LAUNCH_TCB: CURRENT_TCB when the guest was launched.
    public var launchTCB: TCB { TCB(raw: rawLaunchTCB, layout: tcbLayout) }

    /// The product the report names through its CPUID fields (version 3+), if known.
    public var productFromCPUID: Product? { cpuid?.product }

    /// The bytes the signature covers, 0x000–0x29F, exactly as read.
    public var signedBytes: ArraySlice<UInt8> { bytes[ReportABI.signedRange] }

    /// Decodes exactly 1184 raw bytes.
    ///
    /// The TCB fields are read in the layout of the product named by the CPUID fields (version
    /// 3+), else of `product` if given, else in the Milan/Genoa layout (version 2 reports come
    /// from Milan and Genoa firmware; pass `product` when it is known from elsewhere).
    public init(bytes: [UInt8], product: Product? = nil) throws(ReportError) {
        self = try ReportABI.decode(bytes, product: product)
    }

    /// Decodes a report file's contents: 1184 raw bytes, or the same as hex text (whitespace and
    /// an optional `0x` ignored), as snpguest, go-sev-guest and virtee/sev write them.
    public init(input: [UInt8], product: Product? = nil) throws(ReportError) {
        try self.init(bytes: ReportABI.rawBytes(fromInput: input), product: product)
    }

    /// The same report with its TCB fields read in `product`'s layout.
    public func interpreted(as product: Product) -> AttestationReport {
        var copy = self
        copy.tcbLayout = TCBLayout(product: product)
        return copy
    }

    init(bytes: [UInt8], version: UInt32, guestSVN: UInt32, policy: GuestPolicy, familyID: FamilyID,
         imageID: ImageID, vmpl: UInt32, signatureAlgorithm: UInt32, platformInfo: PlatformInfo,
         signerInfo: SignerInfo, reportData: ReportData, measurement: Measurement, hostData: HostData,
         idKeyDigest: KeyDigest, authorKeyDigest: KeyDigest, reportID: ReportID,
         reportIDMigrationAgent: ReportID, cpuid: CPUID?, chipID: ChipID,
         currentVersion: FirmwareVersion, committedVersion: FirmwareVersion,
         mitigationVectors: MitigationVectors?, signature: ReportSignature, tcbLayout: TCBLayout,
         rawCurrentTCB: UInt64, rawReportedTCB: UInt64, rawCommittedTCB: UInt64, rawLaunchTCB: UInt64) {
        self.bytes = bytes
        self.version = version
        self.guestSVN = guestSVN
        self.policy = policy
        self.familyID = familyID
        self.imageID = imageID
        self.vmpl = vmpl
        self.signatureAlgorithm = signatureAlgorithm
        self.platformInfo = platformInfo
        self.signerInfo = signerInfo
        self.reportData = reportData
        self.measurement = measurement
        self.hostData = hostData
        self.idKeyDigest = idKeyDigest
        self.authorKeyDigest = authorKeyDigest
        self.reportID = reportID
        self.reportIDMigrationAgent = reportIDMigrationAgent
        self.cpuid = cpuid
        self.chipID = chipID
        self.currentVersion = currentVersion
        self.committedVersion = committedVersion
        self.mitigationVectors = mitigationVectors
        self.signature = signature
        self.tcbLayout = tcbLayout
        self.rawCurrentTCB = rawCurrentTCB
        self.rawReportedTCB = rawReportedTCB
        self.rawCommittedTCB = rawCommittedTCB
        self.rawLaunchTCB = rawLaunchTCB
    }
}

/// LAUNCH_MIT_VECTOR and CURRENT_MIT_VECTOR (version 5+): the verified mitigations, at launch and
/// now. Bit meanings are platform-specific; they are shown, not judged.
public struct MitigationVectors: Hashable, Sendable {
    public let launch: UInt64
    public let current: UInt64
}

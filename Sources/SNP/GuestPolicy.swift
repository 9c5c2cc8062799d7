/// The guest POLICY the VM owner fixed at launch (SNP ABI, GUEST_POLICY structure). The firmware
/// enforces it for the guest's lifetime; the report carries it so that a verifier can refuse a
/// guest that the host may debug, migrate or run on untrusted configurations.
public struct GuestPolicy: Hashable, Sendable, CustomStringConvertible {
    /// The 64-bit value as read from the report.
    public let raw: UInt64

    /// Wraps a policy value. The report parser rejects values with bit 17 clear (it must be one).
    public init(raw: UInt64) { self.raw = raw }

    /// Bit 17 is reserved and must be one.
    static let reservedOneBit: UInt64 = 1 << 17
    /// Bits 0–25: every bit this implementation knows the meaning of.
    static let knownBits: UInt64 = (1 << 26) - 1

    /// ABI_MINOR (bits 7:0): the minimum firmware ABI minor version the guest requires.
    public var abiMinor: UInt8 { UInt8(truncatingIfNeeded: raw) }
    /// ABI_MAJOR (bits 15:8): the minimum firmware ABI major version the guest requires.
    public var abiMajor: UInt8 { UInt8(truncatingIfNeeded: raw >> 8) }
    /// SMT (bit 16): the host may run the guest with simultaneous multithreading.
    public var smtAllowed: Bool { bit(16) }
    /// MIGRATE_MA (bit 18): the guest may be associated with a migration agent.
    public var migrationAgentAllowed: Bool { bit(18) }
    /// DEBUG (bit 19): the host may debug (decrypt) the guest.
    public var debugAllowed: Bool { bit(19) }
    /// SINGLE_SOCKET (bit 20): the guest may only run on one socket.
    public var singleSocketRequired: Bool { bit(20) }
    /// CXL_ALLOW (bit 21): CXL may be populated with devices or memory.
    public var cxlAllowed: Bool { bit(21) }
    /// MEM_AES_256_XTS (bit 22): AES-256-XTS memory encryption is required.
    public var memoryAES256XTSRequired: Bool { bit(22) }
    /// RAPL_DIS (bit 23): Running Average Power Limit must be disabled.
    public var raplDisableRequired: Bool { bit(23) }
    /// CIPHERTEXT_HIDING_DRAM (bit 24): ciphertext hiding for DRAM must be enabled.
    public var ciphertextHidingRequired: Bool { bit(24) }
    /// PAGE_SWAP_DISABLE (bit 25): the host may not swap the guest's pages.
    public var pageSwapDisabled: Bool { bit(25) }
    /// Set bits this implementation does not know (bits 63:26); a verifier should refuse them.
    public var unknownBits: UInt64 { raw & ~Self.knownBits }

    public var description: String {
        var flags: [String] = ["ABI \(abiMajor).\(abiMinor)"]
        flags.append(smtAllowed ? "SMT allowed" : "SMT denied")
        flags.append(migrationAgentAllowed ? "migration agent allowed" : "migration agent denied")
        flags.append(debugAllowed ? "DEBUG ALLOWED" : "debug denied")
        if singleSocketRequired { flags.append("single socket") }
        if cxlAllowed { flags.append("CXL allowed") }
        if memoryAES256XTSRequired { flags.append("AES-256-XTS required") }
        if raplDisableRequired { flags.append("RAPL disabled") }
        if ciphertextHidingRequired { flags.append("ciphertext hiding required") }
        if pageSwapDisabled { flags.append("page swap disabled") }
        if unknownBits != 0 { flags.append("unknown bits 0x\(String(unknownBits, radix: 16))") }
        return flags.joined(separator: ", ")
    }

    private func bit(_ index: UInt64) -> Bool { raw & (1 << index) != 0 }
}

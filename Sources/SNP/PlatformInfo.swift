/// PLATFORM_INFO: how the host platform was configured when the report was made (SNP ABI,
/// PLATFORM_INFO field). Informational: the platform can change between reports.
public struct PlatformInfo: Hashable, Sendable, CustomStringConvertible {
    /// The 64-bit value as read from the report.
    public let raw: UInt64

    public init(raw: UInt64) { self.raw = raw }

    /// Bits 0–5: every bit this implementation names.
    static let namedBits: UInt64 = (1 << 6) - 1

    /// SMT_EN (bit 0): simultaneous multithreading is enabled.
    public var smtEnabled: Bool { bit(0) }
    /// TSME_EN (bit 1): transparent SME is enabled.
    public var tsmeEnabled: Bool { bit(1) }
    /// ECC_EN (bit 2): the platform uses error-correcting memory.
    public var eccEnabled: Bool { bit(2) }
    /// RAPL_DIS (bit 3): Running Average Power Limit is disabled.
    public var raplDisabled: Bool { bit(3) }
    /// CIPHERTEXT_HIDING_EN (bit 4): ciphertext hiding is enabled for DRAM.
    public var ciphertextHidingEnabled: Bool { bit(4) }
    /// ALIAS_CHECK_COMPLETE (bit 5): the boot-time memory alias check completed and found no
    /// aliasing (the BadRAM mitigation, AMD-SB-3015).
    public var aliasCheckComplete: Bool { bit(5) }
    /// Set bits that newer ABI revisions define and this implementation does not name (Turin
    /// firmware sets bit 6). Shown, never judged.
    public var otherBits: UInt64 { raw & ~Self.namedBits }

    public var description: String {
        var flags: [String] = []
        if smtEnabled { flags.append("SMT enabled") }
        if tsmeEnabled { flags.append("TSME enabled") }
        if eccEnabled { flags.append("ECC enabled") }
        if raplDisabled { flags.append("RAPL disabled") }
        if ciphertextHidingEnabled { flags.append("ciphertext hiding enabled") }
        if aliasCheckComplete { flags.append("alias check complete") }
        if otherBits != 0 { flags.append("other bits 0x\(String(otherBits, radix: 16))") }
        return flags.isEmpty ? "none" : flags.joined(separator: ", ")
    }

    private func bit(_ index: UInt64) -> Bool { raw & (1 << index) != 0 }
}

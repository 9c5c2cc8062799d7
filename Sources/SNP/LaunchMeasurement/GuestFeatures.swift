// SEV_FEATURES: the VMSA field (offset 0x3B0) that turns on SEV-SNP per vCPU and selects the
// optional protections the guest kernel asked for. It is measured as part of every VMSA page,
// so the value the host kernel (KVM) used must be given to reproduce the launch digest.
// Bit names follow AMD APM Vol. 2, "SEV_FEATURES" (Table 15-36).

/// The 64-bit SEV_FEATURES value placed in each vCPU's VMSA (`--guest-features`).
public struct GuestFeatures: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// Bit 0: the guest runs with SEV-SNP.
    public static let snpActive = GuestFeatures(rawValue: 1 << 0)
    /// Bit 1: virtual top of memory.
    public static let vTOM = GuestFeatures(rawValue: 1 << 1)
    /// Bit 2: #VC is reflected to the hypervisor.
    public static let reflectVC = GuestFeatures(rawValue: 1 << 2)
    /// Bit 3: restricted interrupt injection.
    public static let restrictedInjection = GuestFeatures(rawValue: 1 << 3)
    /// Bit 4: alternate interrupt injection.
    public static let alternateInjection = GuestFeatures(rawValue: 1 << 4)
    /// Bit 5: debug registers are swapped (KVM's `debug_swap`, on by default since Linux 6.8).
    public static let debugSwap = GuestFeatures(rawValue: 1 << 5)
    /// Bit 6: the host may not use IBS on the guest.
    public static let preventHostIBS = GuestFeatures(rawValue: 1 << 6)
    /// Bit 7: branch target buffer isolation.
    public static let btbIsolation = GuestFeatures(rawValue: 1 << 7)
    /// Bit 8: VMPL supervisor shadow stack.
    public static let vmplSSS = GuestFeatures(rawValue: 1 << 8)
    /// Bit 9: Secure TSC.
    public static let secureTSC = GuestFeatures(rawValue: 1 << 9)
    /// Bit 10: VMGEXIT parameter.
    public static let vmgexitParameter = GuestFeatures(rawValue: 1 << 10)
    /// Bit 12: IBS virtualization.
    public static let ibsVirtualization = GuestFeatures(rawValue: 1 << 12)
    /// Bit 14: VMSA register protection.
    public static let vmsaRegisterProtection = GuestFeatures(rawValue: 1 << 14)
    /// Bit 15: SMT protection.
    public static let smtProtection = GuestFeatures(rawValue: 1 << 15)

    /// sev-snp-measure 0.0.13's default: SNPActive only.
    public static let `default`: GuestFeatures = .snpActive

    /// `0x` and lowercase hex, as `--guest-features` takes it.
    public var description: String { "0x" + String(rawValue, radix: 16) }
}

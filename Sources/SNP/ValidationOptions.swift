import Foundation

/// What the caller accepts, beyond the cryptographic checks: the policy flags of SPEC §6 (same
/// names on `twocvm verify` and `twocvm report verify`), modelled on go-sev-guest's `check`.
/// The defaults are the safe ones.
public struct ValidationOptions: Sendable, Hashable {
    /// `--allow-debug`: accept POLICY.DEBUG (default: denied).
    public var allowDebug = false
    /// `--allow-migration-agent`: accept POLICY.MIGRATE_MA (default: denied).
    public var allowMigrationAgent = false
    /// `--deny-smt`: refuse POLICY.SMT (default: SMT allowed).
    public var denySMT = false
    /// `--require-single-socket`: require POLICY.SINGLE_SOCKET (default: not required).
    public var requireSingleSocket = false
    /// `--allow-cxl`: accept POLICY.CXL_ALLOW (default: denied, as go-sev-guest).
    public var allowCXL = false
    /// `--allow-provisional`: accept COMMITTED below CURRENT TCB and version (default: equal).
    public var allowProvisional = false
    /// `--min-tcb`: the lowest acceptable REPORTED_TCB, component-wise.
    public var minimumTCB: TCBParts? = nil
    /// `--min-abi`: the lowest acceptable firmware ABI version (CURRENT_MAJOR.CURRENT_MINOR).
    public var minimumABI: ABIVersion? = nil
    /// `--vmpl`: the exact VMPL required (default: any).
    public var vmpl: UInt32? = nil
    /// Exact values required (default: not checked).
    public var measurement: Measurement? = nil
    public var hostData: HostData? = nil
    public var reportData: ReportData? = nil
    public var familyID: FamilyID? = nil
    public var imageID: ImageID? = nil
    /// `--require-id-block`: require a launch with an ID block (ID_KEY_DIGEST non-zero).
    public var requireIDBlock = false
    /// `--at`: the time certificates must be valid at (default: now).
    public var at: Date? = nil

    public init() {}
}

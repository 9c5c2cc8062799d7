/// The outcome of one named check of a report verification (SPEC §6). Names are stable: scripts
/// and the `--json` output rely on them (Docs/verification.md lists them).
public struct Check: Sendable, Hashable, Codable, CustomStringConvertible {
    public let name: CheckName
    public let ok: Bool
    /// Why the check passed or failed, in words, with the values compared.
    public let detail: String

    public init(_ name: CheckName, ok: Bool, _ detail: String) {
        self.name = name
        self.ok = ok
        self.detail = detail
    }

    static func pass(_ name: CheckName, _ detail: String) -> Check { Check(name, ok: true, detail) }
    static func fail(_ name: CheckName, _ detail: String) -> Check { Check(name, ok: false, detail) }

    public var description: String { "\(ok ? "pass" : "FAIL") \(name.rawValue): \(detail)" }
}

/// The checks, in the order they run.
public enum CheckName: String, CaseIterable, Sendable, Hashable, Codable {
    /// The bytes are a version 2–5 report with reserved bytes zero and signature algorithm 1.
    case reportParses = "report-parses"
    /// CPUID (v3+), the VEK's productName and `--product` name one product.
    case product
    /// VEK → ASK/ASVK → pinned ARK, RSA-PSS SHA-384, valid at the verification time.
    case chain
    /// ECDSA P-384 SHA-384 over bytes 0x000–0x29F with the VEK.
    case signature
    /// The VEK's TCB extensions equal REPORTED_TCB.
    case tcbExtensions = "tcb-extensions"
    /// The VCEK's hwID equals CHIP_ID (unless masked; VLEKs are not chip-bound).
    case hwid
    /// Guest policy flags are allowed (debug, migration agent, SMT, single socket, CXL, unknown bits).
    case policy
    /// The firmware ABI version is at least `--min-abi` (only with that flag).
    case minABI = "min-abi"
    /// VMPL equals `--vmpl` (only with that flag).
    case vmpl
    /// REPORTED_TCB is at most CURRENT_TCB and at least `--min-tcb`.
    case tcb
    /// COMMITTED equals CURRENT TCB and version (or is at most it with `--allow-provisional`).
    case provisional
    /// Exact matches, each only with its flag.
    case measurement
    case hostData = "host-data"
    case reportData = "report-data"
    case familyID = "family-id"
    case imageID = "image-id"
    /// ID_KEY_DIGEST is non-zero (only with `--require-id-block`).
    case idBlock = "id-block"
}

/// Why bytes could not be decoded as an SEV-SNP attestation report. Every case names the field
/// or offset that failed.
///
/// Two kinds (see `isUnreadable`): input that is not a report at all (wrong size, not hex, an
/// unknown version) and a report that breaks the ABI (reserved bytes set, invalid enumerations).
/// The CLI maps the first to exit 2 and the second to a failed `report-parses` check (exit 1).
public enum ReportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Raw input is not 1184 bytes, or hex input does not decode to 1184 bytes.
    case wrongSize(byteCount: Int, fromHex: Bool)
    /// VERSION (offset 0x0) is not one of the supported versions 2–5.
    case unsupportedVersion(UInt32)
    /// A reserved byte range is not zero; `offset` is the first non-zero byte.
    case reservedNotZero(field: String, offset: Int, value: UInt8)
    /// POLICY bit 17 is reserved and must be one.
    case policyReservedBitClear(policy: UInt64)
    /// SIGNER_INFO (offset 0x48) has reserved bits set or a reserved SIGNING_KEY value.
    case invalidSignerInfo(UInt32)
    /// SIGNATURE_ALGO (offset 0x34) is not 1 (ECDSA P-384 with SHA-384).
    case unsupportedSignatureAlgorithm(UInt32)
    /// VMPL (offset 0x30) is not 0–3.
    case invalidVMPL(UInt32)

    /// True when the input is not an SNP report at all, as opposed to a report that breaks the ABI.
    public var isUnreadable: Bool {
        switch self {
        case .wrongSize, .unsupportedVersion: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case let .wrongSize(count, fromHex):
            let what = fromHex ? "hex text decodes to \(count) bytes" : "input is \(count) bytes"
            return "\(what); an SEV-SNP attestation report is exactly 1184 bytes (0x4A0), raw or as 2368 hex digits"
        case let .unsupportedVersion(version):
            return "VERSION (offset 0x0) is \(version); supported report versions are 2, 3, 4 and 5"
        case let .reservedNotZero(field, offset, value):
            return "reserved \(field) must be zero, but byte 0x\(String(offset, radix: 16)) is 0x\(String(value, radix: 16))"
        case let .policyReservedBitClear(policy):
            return "POLICY (offset 0x8) is 0x\(String(policy, radix: 16)); reserved bit 17 must be one"
        case let .invalidSignerInfo(raw):
            return "SIGNER_INFO (offset 0x48) is 0x\(String(raw, radix: 16)); reserved bits 31:5 must be zero and SIGNING_KEY must be 0 (VCEK), 1 (VLEK) or 7 (none)"
        case let .unsupportedSignatureAlgorithm(algorithm):
            return "SIGNATURE_ALGO (offset 0x34) is \(algorithm); only 1 (ECDSA P-384 with SHA-384) is defined"
        case let .invalidVMPL(vmpl):
            return "VMPL (offset 0x30) is \(vmpl); it must be 0–3"
        }
    }
}

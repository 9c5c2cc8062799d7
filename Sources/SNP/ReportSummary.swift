import Crypto
import Hexadecimal

/// A JSON-shaped value with ordered object keys: the decoded report as `report show --json` and
/// `report verify --json` print it. Field names follow the snake_case names of the shared
/// test data (`expected-parse.json`) and of the SNP ABI.
public indirect enum SummaryValue: Sendable, Hashable, Encodable {
    case integer(UInt64)
    case string(String)
    case bool(Bool)
    case null
    case object([SummaryField])

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case let .integer(value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case let .string(value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case let .bool(value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case let .object(fields):
            var container = encoder.container(keyedBy: SummaryKey.self)
            for field in fields {
                try container.encode(field.value, forKey: SummaryKey(field.name))
            }
        }
    }
}

/// One named field of a `SummaryValue.object`.
public struct SummaryField: Sendable, Hashable {
    public let name: String
    public let value: SummaryValue

    public init(_ name: String, _ value: SummaryValue) {
        self.name = name
        self.value = value
    }
}

struct SummaryKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension AttestationReport: Encodable {
    /// Every field, decoded, in report order.
    public var summary: [SummaryField] {
        var fields: [SummaryField] = [
            SummaryField("version", .integer(UInt64(version))),
        ]
        if let cpuid {
            fields.append(SummaryField("cpuid_fam_id", .string(Self.hex(cpuid.family))))
            fields.append(SummaryField("cpuid_mod_id", .string(Self.hex(cpuid.model))))
            fields.append(SummaryField("cpuid_step", .string(Self.hex(cpuid.stepping))))
        }
        fields += [
            SummaryField("product_from_report", productFromCPUID.map { .string($0.rawValue) } ?? .null),
            SummaryField("guest_svn", .integer(UInt64(guestSVN))),
            SummaryField("policy", .string(Self.hex(policy.raw))),
            SummaryField("policy_flags", .object(Self.policyFields(policy))),
            SummaryField("family_id", .string(familyID.hex)),
            SummaryField("image_id", .string(imageID.hex)),
            SummaryField("vmpl", .integer(UInt64(vmpl))),
            SummaryField("signature_algo", .integer(UInt64(signatureAlgorithm))),
            SummaryField("current_tcb", Self.tcbValue(currentTCB)),
            SummaryField("platform_info", .string(Self.hex(platformInfo.raw))),
            SummaryField("platform_info_flags", .object(Self.platformFields(platformInfo))),
            SummaryField("signer_info", .string(Self.hex(UInt64(signerInfo.raw)))),
            SummaryField("author_key_en", .integer(signerInfo.authorKeyEnabled ? 1 : 0)),
            SummaryField("mask_chip_key", .integer(signerInfo.maskChipKey ? 1 : 0)),
            SummaryField("signing_key", .string(signerInfo.signingKey.description)),
            SummaryField("report_data", .string(reportData.hex)),
            SummaryField("measurement", .string(measurement.hex)),
            SummaryField("host_data", .string(hostData.hex)),
            SummaryField("id_key_digest", .string(idKeyDigest.hex)),
            SummaryField("author_key_digest", .string(authorKeyDigest.hex)),
            SummaryField("report_id", .string(reportID.hex)),
            SummaryField("report_id_ma", .string(reportIDMigrationAgent.hex)),
            SummaryField("reported_tcb", Self.tcbValue(reportedTCB)),
            SummaryField("chip_id", .string(chipID.hex)),
            SummaryField("committed_tcb", Self.tcbValue(committedTCB)),
            SummaryField("current_version", .string(currentVersion.description)),
            SummaryField("committed_version", .string(committedVersion.description)),
            SummaryField("launch_tcb", Self.tcbValue(launchTCB)),
        ]
        if let mitigationVectors {
            fields.append(SummaryField("launch_mit_vector", .string(Self.hex(mitigationVectors.launch))))
            fields.append(SummaryField("current_mit_vector", .string(Self.hex(mitigationVectors.current))))
        }
        fields += [
            SummaryField("sig_r_le", .string(Hex.encode(signature.r))),
            SummaryField("sig_s_le", .string(Hex.encode(signature.s))),
            SummaryField("sha384_signed_region", .string(Hex.encode(SHA384.hash(data: signedBytes)))),
            SummaryField("tcb_layout", .string(tcbLayout == .turin ? "turin" : "milan-genoa")),
        ]
        return fields
    }

    public func encode(to encoder: any Encoder) throws {
        try SummaryValue.object(summary).encode(to: encoder)
    }

    private static func hex<Value: BinaryInteger>(_ value: Value) -> String { "0x" + String(value, radix: 16) }

    private static func tcbValue(_ tcb: TCB) -> SummaryValue {
        var fields: [SummaryField] = []
        if let fmc = tcb.fmc { fields.append(SummaryField("fmc", .integer(UInt64(fmc)))) }
        fields += [
            SummaryField("bl", .integer(UInt64(tcb.bootloader))),
            SummaryField("tee", .integer(UInt64(tcb.tee))),
            SummaryField("snp", .integer(UInt64(tcb.snp))),
            SummaryField("ucode", .integer(UInt64(tcb.microcode))),
            SummaryField("raw", .string(tcb.rawHex)),
        ]
        return .object(fields)
    }

    private static func policyFields(_ policy: GuestPolicy) -> [SummaryField] {
        [
            SummaryField("abi_major", .integer(UInt64(policy.abiMajor))),
            SummaryField("abi_minor", .integer(UInt64(policy.abiMinor))),
            SummaryField("smt", .bool(policy.smtAllowed)),
            SummaryField("migrate_ma", .bool(policy.migrationAgentAllowed)),
            SummaryField("debug", .bool(policy.debugAllowed)),
            SummaryField("single_socket", .bool(policy.singleSocketRequired)),
            SummaryField("cxl_allow", .bool(policy.cxlAllowed)),
            SummaryField("mem_aes_256_xts", .bool(policy.memoryAES256XTSRequired)),
            SummaryField("rapl_dis", .bool(policy.raplDisableRequired)),
            SummaryField("ciphertext_hiding_dram", .bool(policy.ciphertextHidingRequired)),
            SummaryField("page_swap_disable", .bool(policy.pageSwapDisabled)),
            SummaryField("unknown_bits", .string(hex(policy.unknownBits))),
        ]
    }

    private static func platformFields(_ info: PlatformInfo) -> [SummaryField] {
        [
            SummaryField("smt_en", .bool(info.smtEnabled)),
            SummaryField("tsme_en", .bool(info.tsmeEnabled)),
            SummaryField("ecc_en", .bool(info.eccEnabled)),
            SummaryField("rapl_dis", .bool(info.raplDisabled)),
            SummaryField("ciphertext_hiding_en", .bool(info.ciphertextHidingEnabled)),
            SummaryField("alias_check_complete", .bool(info.aliasCheckComplete)),
            SummaryField("other_bits", .string(hex(info.otherBits))),
        ]
    }
}

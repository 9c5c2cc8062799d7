import Hexadecimal

/// The checks on a report's contents that need no cryptography (go-sev-guest's `validate`): the
/// endorsement key's certified TCB and chip, the guest policy, TCB and firmware rules, and exact
/// values. Run them on a report whose signature and chain `ReportVerifier` checks; on their own
/// they prove nothing about where the report came from.
public enum ReportValidator {
    /// The validation checks, in order (see `CheckName`). Checks tied to an option that is not
    /// set are left out.
    public static func validate(_ report: AttestationReport, endorsementKey: EndorsementKey,
                                options: ValidationOptions) -> [Check] {
        var checks = [
            tcbExtensions(report, endorsementKey),
            hardwareID(report, endorsementKey),
            policy(report.policy, options),
        ]
        if let minimum = options.minimumABI { checks.append(minimumABI(report, minimum)) }
        if let vmpl = options.vmpl { checks.append(vmplCheck(report, vmpl)) }
        checks.append(tcb(report, options.minimumTCB))
        checks.append(provisional(report, allowed: options.allowProvisional))
        checks += exactMatches(report, options)
        if options.requireIDBlock { checks.append(idBlock(report)) }
        return checks
    }

    /// The VEK's TCB extensions, packed in the report's layout, equal REPORTED_TCB: the VEK was
    /// derived for exactly the TCB the report claims.
    static func tcbExtensions(_ report: AttestationReport, _ vek: EndorsementKey) -> Check {
        let reported = report.reportedTCB
        switch vek.extensions.tcb(layout: reported.layout) {
        case let .failure(missing):
            return .fail(.tcbExtensions, "the endorsement key lacks \(missing.names.joined(separator: ", "))")
        case let .success(certified) where certified.raw == reported.raw:
            return .pass(.tcbExtensions, "certified TCB \(certified.parts) equals REPORTED_TCB 0x\(reported.rawHex)")
        case let .success(certified):
            return .fail(.tcbExtensions, "certified TCB \(certified) differs from REPORTED_TCB \(reported)")
        }
    }

    /// A VCEK's hwID equals CHIP_ID. Turin hwIDs are 8 bytes: CHIP_ID then holds them followed by
    /// zeros. A zero CHIP_ID means the host masked it (MASK_CHIP_ID); a VLEK is not chip-bound.
    static func hardwareID(_ report: AttestationReport, _ vek: EndorsementKey) -> Check {
        if vek.kind == .vlek || report.signerInfo.signingKey == .vlek {
            return .pass(.hwid, "VLEK-signed: the key is not bound to one chip, no hwID to compare")
        }
        guard let hwid = vek.extensions.hardwareID else {
            return .fail(.hwid, "the VCEK has no hwID extension")
        }
        let chip = report.chipID.bytes
        if report.chipID.isZero {
            return .pass(.hwid, "CHIP_ID is zero (masked by the host); hwID not compared")
        }
        guard hwid.count == 8 || hwid.count == ChipID.byteCount else {
            return .fail(.hwid, "the VCEK hwID is \(hwid.count) bytes; expected 64 (Milan, Genoa) or 8 (Turin)")
        }
        let matches = chip.prefix(hwid.count).elementsEqual(hwid) && chip.dropFirst(hwid.count).allSatisfy { $0 == 0 }
        return matches
            ? .pass(.hwid, "VCEK hwID \(Hex.encode(hwid)) equals CHIP_ID")
            : .fail(.hwid, "VCEK hwID \(Hex.encode(hwid)) differs from CHIP_ID \(report.chipID.hex)")
    }

    /// The guest policy allows nothing the caller did not allow.
    static func policy(_ policy: GuestPolicy, _ options: ValidationOptions) -> Check {
        var violations: [String] = []
        if policy.debugAllowed && !options.allowDebug { violations.append("DEBUG is allowed (--allow-debug to accept)") }
        if policy.migrationAgentAllowed && !options.allowMigrationAgent {
            violations.append("MIGRATE_MA is allowed (--allow-migration-agent to accept)")
        }
        if policy.smtAllowed && options.denySMT { violations.append("SMT is allowed (--deny-smt given)") }
        if !policy.singleSocketRequired && options.requireSingleSocket {
            violations.append("SINGLE_SOCKET is not set (--require-single-socket given)")
        }
        if policy.cxlAllowed && !options.allowCXL { violations.append("CXL_ALLOW is set (--allow-cxl to accept)") }
        if policy.unknownBits != 0 {
            violations.append("unknown policy bits 0x\(String(policy.unknownBits, radix: 16)) are set")
        }
        let value = "POLICY 0x\(String(policy.raw, radix: 16))"
        return violations.isEmpty
            ? .pass(.policy, "\(value): \(policy)")
            : .fail(.policy, "\(value): \(violations.joined(separator: "; "))")
    }

    static func minimumABI(_ report: AttestationReport, _ minimum: ABIVersion) -> Check {
        let running = report.currentVersion.abi
        return running >= minimum
            ? .pass(.minABI, "firmware ABI \(running) is at least \(minimum)")
            : .fail(.minABI, "firmware ABI \(running) is below the required \(minimum)")
    }

    static func vmplCheck(_ report: AttestationReport, _ required: UInt32) -> Check {
        report.vmpl == required
            ? .pass(.vmpl, "VMPL is \(required)")
            : .fail(.vmpl, "VMPL is \(report.vmpl), required \(required)")
    }

    /// REPORTED_TCB never exceeds CURRENT_TCB (the firmware guarantees it; a report that says
    /// otherwise is inconsistent) and is at least the caller's minimum.
    static func tcb(_ report: AttestationReport, _ minimum: TCBParts?) -> Check {
        let reported = report.reportedTCB, current = report.currentTCB
        let aboveCurrent = current.parts.componentsBelow(reported.parts)
        guard aboveCurrent.isEmpty else {
            return .fail(.tcb, "REPORTED_TCB \(reported.parts) exceeds CURRENT_TCB \(current.parts) in \(aboveCurrent.joined(separator: ", "))")
        }
        guard let minimum else {
            return .pass(.tcb, "REPORTED_TCB \(reported.parts) ≤ CURRENT_TCB \(current.parts); no minimum given")
        }
        if minimum.fmc != nil && reported.layout != .turin {
            return .fail(.tcb, "--min-tcb names fmc, but this product's TCB has no FMC component")
        }
        let below = reported.parts.componentsBelow(minimum)
        return below.isEmpty
            ? .pass(.tcb, "REPORTED_TCB \(reported.parts) is at least \(minimum)")
            : .fail(.tcb, "REPORTED_TCB \(reported.parts) is below the minimum \(minimum) in \(below.joined(separator: ", "))")
    }

    /// Without `--allow-provisional`, the firmware must run what it committed to (COMMITTED equal
    /// to CURRENT, TCB and version): a provisional, uncommitted update could still be rolled back.
    /// With it, COMMITTED must not exceed CURRENT.
    static func provisional(_ report: AttestationReport, allowed: Bool) -> Check {
        let committed = report.committedTCB, current = report.currentTCB
        let tcbText = "COMMITTED_TCB \(committed.parts) / CURRENT_TCB \(current.parts)"
        let versionText = "committed firmware \(report.committedVersion) / current \(report.currentVersion)"
        if !allowed {
            guard committed.raw == current.raw, report.committedVersion == report.currentVersion else {
                return .fail(.provisional, "provisional firmware: \(tcbText), \(versionText) differ (--allow-provisional to accept)")
            }
            return .pass(.provisional, "committed equals current: TCB \(current.parts), firmware \(report.currentVersion)")
        }
        let above = current.parts.componentsBelow(committed.parts)
        guard above.isEmpty, report.committedVersion <= report.currentVersion else {
            return .fail(.provisional, "committed exceeds current: \(tcbText), \(versionText)")
        }
        return .pass(.provisional, "provisional firmware allowed: \(tcbText), \(versionText)")
    }

    static func exactMatches(_ report: AttestationReport, _ options: ValidationOptions) -> [Check] {
        var checks: [Check] = []
        func compare<Field: ReportByteField>(_ name: CheckName, _ label: String, _ actual: Field, _ expected: Field?) {
            guard let expected else { return }
            checks.append(actual == expected
                ? .pass(name, "\(label) is \(actual.hex)")
                : .fail(name, "\(label) is \(actual.hex), expected \(expected.hex)"))
        }
        compare(.measurement, "MEASUREMENT", report.measurement, options.measurement)
        compare(.hostData, "HOST_DATA", report.hostData, options.hostData)
        compare(.reportData, "REPORT_DATA", report.reportData, options.reportData)
        compare(.familyID, "FAMILY_ID", report.familyID, options.familyID)
        compare(.imageID, "IMAGE_ID", report.imageID, options.imageID)
        return checks
    }

    static func idBlock(_ report: AttestationReport) -> Check {
        report.idKeyDigest.isZero
            ? .fail(.idBlock, "ID_KEY_DIGEST is zero: the guest was launched without an ID block")
            : .pass(.idBlock, "launched with an ID block: ID_KEY_DIGEST \(report.idKeyDigest.hex)")
    }
}

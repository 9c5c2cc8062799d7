import Foundation
import Hexadecimal
import SNP
import XCTest

/// The validation checks (no cryptography) on the real reports, with values taken from the
/// reports themselves and the shared expected-parse.json.
final class ValidationTests: XCTestCase {
    private func validate(_ name: String, _ configure: (inout ValidationOptions) -> Void) throws -> [Check] {
        let vector = SNPTestData.vector(name)
        let loaded = try LoadedEndorsement(files: vector.files())
        let report = try AttestationReport(input: vector.reportBytes(), product: loaded.endorsementKey.product)
        var options = vector.options
        configure(&options)
        return ReportValidator.validate(report, endorsementKey: loaded.endorsementKey, options: options)
    }

    private func outcome(_ checks: [Check], _ name: CheckName) -> Bool? { checks.first { $0.name == name }?.ok }

    func testPolicyFlags() throws {
        // gsg attestation: policy 0xb0000, SMT + DEBUG allowed.
        XCTAssertEqual(outcome(try validate("gsg_attestation") { $0.allowDebug = false }, .policy), false)
        XCTAssertEqual(outcome(try validate("gsg_attestation") { _ in }, .policy), true)
        XCTAssertEqual(outcome(try validate("gsg_attestation") { $0.denySMT = true }, .policy), false)
        XCTAssertEqual(outcome(try validate("gsg_attestation") { $0.requireSingleSocket = true }, .policy), false)
    }

    /// The one `--min-tcb` parser (verify, report verify and launch-measure): what it takes and
    /// what it refuses, with the message naming the part at fault.
    func testMinimumTCBSyntax() throws {
        let accepted: [(String, TCBParts)] = [
            ("bl=3,tee=0,snp=8,ucode=115", TCBParts(bootloader: 3, tee: 0, snp: 8, microcode: 115)),
            ("ucode=115, SNP=8 ,tee=0,Bl=3,fmc=1", TCBParts(fmc: 1, bootloader: 3, tee: 0, snp: 8, microcode: 115)),
            ("snp=8", TCBParts(bootloader: 0, tee: 0, snp: 8, microcode: 0)),
            ("bl=255,tee=255,snp=255,ucode=255,fmc=0", TCBParts(fmc: 0, bootloader: 255, tee: 255, snp: 255, microcode: 255)),
        ]
        for (text, parts) in accepted {
            XCTAssertEqual(try TCBParts(parsing: text), parts, text)
        }
        let refused: [(String, TCBSyntaxError, String)] = [
            ("", .notNameValue(""), #"--min-tcb: "" is not NAME=N with N 0-255 (names: bl, tee, snp, ucode, fmc)"#),
            ("bl=3,,snp=8", .notNameValue(""), #"--min-tcb: "" is not NAME=N"#),
            ("ucode=256", .notNameValue("ucode=256"), #"--min-tcb: "ucode=256" is not NAME=N with N 0-255"#),
            ("bl=-1", .notNameValue("bl=-1"), #""bl=-1" is not NAME=N"#),
            ("bl", .notNameValue("bl"), #""bl" is not NAME=N"#),
            ("bl=1,xyz=2", .unknownComponent("xyz"), #"--min-tcb: unknown component "xyz" (names: bl, tee, snp, ucode, fmc)"#),
            ("bl=3,BL=4", .givenTwice("bl"), "--min-tcb: bl given twice"),
        ]
        for (text, expected, message) in refused {
            XCTAssertThrowsError(try TCBParts(parsing: text), text) {
                XCTAssertEqual($0 as? TCBSyntaxError, expected, text)
                XCTAssertTrue("\($0)".contains(message), "\(text): \($0)")
            }
        }
    }

    func testMinimumTCBComparesComponentWise() throws {
        let vector = SNPTestData.vector("box2_turin")
        let reported = try AttestationReport(input: vector.reportBytes()).reportedTCB.parts
        XCTAssertEqual(outcome(try validate("box2_turin") { $0.minimumTCB = reported }, .tcb), true)
        for component in ["bl", "tee", "snp", "ucode", "fmc"] {
            var higher = reported
            switch component {
            case "bl": higher.bootloader += 1
            case "tee": higher.tee += 1
            case "snp": higher.snp += 1
            case "ucode": higher.microcode += 1
            default: higher.fmc = (higher.fmc ?? 0) + 1
            }
            let checks = try validate("box2_turin") { $0.minimumTCB = higher }
            XCTAssertEqual(outcome(checks, .tcb), false, component)
            XCTAssertTrue(checks.first { $0.name == .tcb }?.detail.hasSuffix(" in \(component)") ?? false, component)
        }
        // A Milan TCB has no FMC component to compare.
        XCTAssertEqual(outcome(try validate("az_milan") { $0.minimumTCB = TCBParts(fmc: 1, bootloader: 0, tee: 0, snp: 0, microcode: 0) }, .tcb), false)
    }

    func testProvisionalFirmwareNeedsTheFlag() throws {
        // Trustee's test-report: COMMITTED_TCB ucode 115, CURRENT_TCB ucode 206 (MANIFEST).
        XCTAssertEqual(outcome(try validate("trustee_test_report") { $0.allowProvisional = false }, .provisional), false)
        XCTAssertEqual(outcome(try validate("trustee_test_report") { $0.allowProvisional = true }, .provisional), true)
        XCTAssertEqual(outcome(try validate("az_genoa") { $0.allowProvisional = false }, .provisional), true)
    }

    func testMinimumABIAndVMPL() throws {
        // The VLEK report: firmware 1.55.29, VMPL 1 (MANIFEST).
        XCTAssertEqual(outcome(try validate("trustee_vlek_report") { $0.minimumABI = ABIVersion("1.55") }, .minABI), true)
        XCTAssertEqual(outcome(try validate("trustee_vlek_report") { $0.minimumABI = ABIVersion("1.56") }, .minABI), false)
        XCTAssertEqual(outcome(try validate("trustee_vlek_report") { $0.vmpl = 1 }, .vmpl), true)
        XCTAssertEqual(outcome(try validate("trustee_vlek_report") { $0.vmpl = 0 }, .vmpl), false)
        XCTAssertNil(outcome(try validate("trustee_vlek_report") { _ in }, .vmpl), "no --vmpl, no check")
    }

    /// Exact values from expected-parse.json pass; the same value with one bit changed fails.
    func testExactMatchOptions() throws {
        let expected = try SNPTestData.expected()
        let want = try XCTUnwrap((expected["az_genoa"] as? [String: Any])?["report"] as? [String: Any])
        func hex(_ key: String) throws -> String { try XCTUnwrap(want[key] as? String) }
        func flipped(_ text: String) -> String {
            var bytes = Hex.decode(input: text)!
            bytes[bytes.count - 1] ^= 1
            return Hex.encode(bytes)
        }
        let cases: [(CheckName, String, (inout ValidationOptions, String) -> Void)] = [
            (.measurement, "measurement", { $0.measurement = Measurement(hex: $1) }),
            (.hostData, "host_data", { $0.hostData = HostData(hex: $1) }),
            (.reportData, "report_data", { $0.reportData = ReportData(hex: $1) }),
            (.familyID, "family_id", { $0.familyID = FamilyID(hex: $1) }),
            (.imageID, "image_id", { $0.imageID = ImageID(hex: $1) }),
        ]
        for (check, key, set) in cases {
            let value = try hex(key)
            XCTAssertEqual(outcome(try validate("az_genoa") { set(&$0, value) }, check), true, key)
            XCTAssertEqual(outcome(try validate("az_genoa") { set(&$0, flipped(value)) }, check), false, key)
        }
    }

    func testIDBlockRequirement() throws {
        // Trustee's test-report has an ID block; go-sev-guest's attestation.bin has none.
        XCTAssertEqual(outcome(try validate("trustee_test_report") { $0.requireIDBlock = true }, .idBlock), true)
        XCTAssertEqual(outcome(try validate("gsg_attestation") { $0.requireIDBlock = true }, .idBlock), false)
    }

    /// hwID: Turin compares 8 bytes; the VLEK is not chip-bound; a masked (zero) CHIP_ID is not compared.
    func testHardwareIDRules() throws {
        XCTAssertTrue(try validate("box2_turin") { _ in }.first { $0.name == .hwid }?.detail.contains("6bb1229b7692b710 equals") ?? false)
        XCTAssertTrue(try validate("trustee_vlek_report") { _ in }.first { $0.name == .hwid }?.detail.hasPrefix("VLEK") ?? false)
        let vector = SNPTestData.vector("az_genoa")
        var bytes = try vector.reportBytes()
        for offset in 0x1A0..<0x1E0 { bytes[offset] = 0 }
        let masked = try AttestationReport(bytes: bytes)
        let vek = try LoadedEndorsement(files: vector.files()).endorsementKey
        let check = ReportValidator.validate(masked, endorsementKey: vek, options: ValidationOptions()).first { $0.name == .hwid }
        XCTAssertEqual(check?.ok, true)
        XCTAssertTrue(check?.detail.contains("masked") ?? false)
    }
}

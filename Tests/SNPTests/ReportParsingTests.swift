import Foundation
import Hexadecimal
import SNP
import XCTest

/// The report ABI: every field of every real report decodes to the values in the shared
/// `expected-parse.json`, and malformed input is refused with the field or offset that failed.
final class ReportParsingTests: XCTestCase {
    /// Keys of `expected-parse.json` reports that twocvm does not print: reserved fields, which
    /// the parser requires to be zero (a report that parses has none non-zero).
    static let reservedKeys: Set<String> = ["reserved_0x4c", "nonzero_reserved"]

    func testEveryReportDecodesToTheSharedExpectedFields() throws {
        let expected = try SNPTestData.expected()
        for vector in SNPTestData.realVectors + SNPTestData.negativeVectors {
            let want = try XCTUnwrap((expected[vector.name] as? [String: Any])?["report"] as? [String: Any], vector.name)
            let report = try AttestationReport(input: vector.reportBytes())
            let got = try Self.json(report)
            for (key, value) in want where !Self.reservedKeys.contains(key) {
                XCTAssertTrue(Self.equal(got[key], value), "\(vector.name).\(key): got \(String(describing: got[key])), expected \(value)")
            }
            // What the omitted keys record is what parsing guarantees.
            XCTAssertEqual((want["nonzero_reserved"] as? [Any])?.count, 0, vector.name)
            XCTAssertEqual(want["reserved_0x4c"] as? String, "00000000", vector.name)
        }
    }

    func testHexAndRawFilesDecodeToTheSameReport() throws {
        let hexText = try SNPTestData.bytes("virtee-sev/report_milan.hex")
        let fromHex = try AttestationReport(input: hexText)
        let raw = try XCTUnwrap(Hex.decode(inputUTF8: hexText))
        XCTAssertEqual(raw.count, 1184)
        XCTAssertEqual(try AttestationReport(input: raw), fromHex)
        // Upper case, 0x prefix and line breaks are accepted too.
        let reformatted = "0x" + Hex.encode(raw).uppercased().enumerated()
            .map { $0.offset > 0 && $0.offset % 64 == 0 ? "\n\($0.element)" : String($0.element) }.joined() + "\n"
        XCTAssertEqual(try AttestationReport(input: Array(reformatted.utf8)), fromHex)
    }

    func testTruncatedOversizedAndNonHexInputIsUnreadable() throws {
        let raw = try SNPTestData.bytes("go-sev-guest/attestation.bin")
        let cases: [([UInt8], ReportError)] = [
            ([], .wrongSize(byteCount: 0, fromHex: false)),
            (Array(raw.prefix(1183)), .wrongSize(byteCount: 1183, fromHex: false)),
            (raw + [0], .wrongSize(byteCount: 1185, fromHex: false)),
            (Array(Hex.encode(raw).utf8.dropLast(2)), .wrongSize(byteCount: 1183, fromHex: true)),
            (Array(Hex.encode(raw).utf8.dropLast(1)), .wrongSize(byteCount: 2367, fromHex: false)),
            (Array("not a report".utf8), .wrongSize(byteCount: 12, fromHex: false)),
        ]
        for (input, expected) in cases {
            XCTAssertThrowsError(try AttestationReport(input: input)) { error in
                XCTAssertEqual(error as? ReportError, expected)
                XCTAssertTrue((error as? ReportError)?.isUnreadable ?? false)
                XCTAssertTrue("\(error)".contains("1184 bytes"), "\(error)")
            }
        }
    }

    func testOnlyVersionsTwoToFiveAreRead() throws {
        let raw = try SNPTestData.bytes("go-sev-guest/attestation.bin")
        for version: UInt32 in [0, 1, 6, 0x0200_0000, .max] {
            XCTAssertThrowsError(try AttestationReport(bytes: Self.setting(raw, u32: version, at: 0))) { error in
                XCTAssertEqual(error as? ReportError, .unsupportedVersion(version))
                XCTAssertTrue((error as? ReportError)?.isUnreadable ?? false)
            }
        }
        // Version 4 has the version 3 layout; 5 adds the mitigation vectors.
        let v3 = try SNPTestData.bytes("trustee/az-genoa-snp-report.bin")
        let v4 = try AttestationReport(bytes: Self.setting(v3, u32: 4, at: 0))
        XCTAssertEqual(v4.cpuid, try AttestationReport(bytes: v3).cpuid)
        XCTAssertNil(v4.mitigationVectors)
        XCTAssertNotNil(try AttestationReport(bytes: Self.setting(v3, u32: 5, at: 0)).mitigationVectors)
        XCTAssertNil(try AttestationReport(bytes: raw).cpuid)
    }

    /// The reserved ranges of the SNP ABI table, by version: every byte of each must be zero.
    func testEveryReservedByteMustBeZero() throws {
        let reports: [(String, [Range<Int>])] = [
            ("go-sev-guest/attestation.bin", [0x4C..<0x50, 0x188..<0x1A0, 0x1EB..<0x1EC, 0x1EF..<0x1F0, 0x1F8..<0x2A0, 0x330..<0x4A0]),
            ("trustee/az-genoa-snp-report.bin", [0x4C..<0x50, 0x18B..<0x1A0, 0x1EB..<0x1EC, 0x1EF..<0x1F0, 0x1F8..<0x2A0, 0x330..<0x4A0]),
            ("confidential-secrets-vault/box2-turin-report.bin", [0x4C..<0x50, 0x18B..<0x1A0, 0x1EB..<0x1EC, 0x1EF..<0x1F0, 0x208..<0x2A0, 0x330..<0x4A0]),
        ]
        for (path, ranges) in reports {
            let raw = try SNPTestData.bytes(path)
            XCTAssertNoThrow(try AttestationReport(bytes: raw))
            for offset in ranges.joined() {
                var bytes = raw
                bytes[offset] = 0x01 << UInt8(offset % 8)
                XCTAssertThrowsError(try AttestationReport(bytes: bytes), "\(path) offset 0x\(String(offset, radix: 16))") { error in
                    guard case let .reservedNotZero(_, failed, _)? = error as? ReportError else {
                        return XCTFail("\(path) 0x\(String(offset, radix: 16)): \(error)")
                    }
                    XCTAssertEqual(failed, offset)
                    XCTAssertFalse((error as? ReportError)?.isUnreadable ?? true)
                }
            }
        }
    }

    func testStructuralFieldsAreChecked() throws {
        let raw = try SNPTestData.bytes("go-sev-guest/attestation.bin")
        var noBit17 = raw
        noBit17[0x0A] &= ~0x02
        XCTAssertThrowsError(try AttestationReport(bytes: noBit17)) {
            XCTAssertEqual($0 as? ReportError, .policyReservedBitClear(policy: 0x90000))
        }
        for signingKey: UInt32 in 2...6 {
            XCTAssertThrowsError(try AttestationReport(bytes: Self.setting(raw, u32: signingKey << 2, at: 0x48))) {
                XCTAssertEqual($0 as? ReportError, .invalidSignerInfo(signingKey << 2))
            }
        }
        XCTAssertThrowsError(try AttestationReport(bytes: Self.setting(raw, u32: 1 << 5, at: 0x48)))
        XCTAssertEqual(try AttestationReport(bytes: Self.setting(raw, u32: 7 << 2, at: 0x48)).signerInfo.signingKey, SigningKey.none)
        XCTAssertThrowsError(try AttestationReport(bytes: Self.setting(raw, u32: 2, at: 0x34))) {
            XCTAssertEqual($0 as? ReportError, .unsupportedSignatureAlgorithm(2))
        }
        XCTAssertThrowsError(try AttestationReport(bytes: Self.setting(raw, u32: 4, at: 0x30))) {
            XCTAssertEqual($0 as? ReportError, .invalidVMPL(4))
        }
    }

    /// The product the CPUID fields name is the one the shared data records; version 2 names none.
    func testProductFromCPUIDMatchesSharedData() throws {
        let expected = try SNPTestData.expected()
        for vector in SNPTestData.realVectors {
            let want = (expected[vector.name] as? [String: Any])?["report"] as? [String: Any]
            let report = try AttestationReport(input: vector.reportBytes())
            XCTAssertEqual(report.productFromCPUID?.rawValue, want?["product_from_report"] as? String, vector.name)
            XCTAssertEqual(report.tcbLayout == .turin, report.productFromCPUID == .turin, vector.name)
        }
    }

    /// The same TCB bytes read in the other layout: Turin's FMC byte appears only there.
    func testTCBLayoutFollowsTheProduct() throws {
        let turin = try AttestationReport(input: SNPTestData.bytes("confidential-secrets-vault/box2-turin-report.bin"))
        XCTAssertNotNil(turin.reportedTCB.fmc)
        let asMilan = turin.interpreted(as: .milan)
        XCTAssertNil(asMilan.reportedTCB.fmc)
        XCTAssertEqual(asMilan.reportedTCB.raw, turin.reportedTCB.raw)
        XCTAssertEqual(asMilan.reportedTCB.microcode, turin.reportedTCB.microcode)
        XCTAssertEqual(TCB(parts: turin.reportedTCB.parts, layout: .turin), turin.reportedTCB)
        let milan = try AttestationReport(input: SNPTestData.bytes("go-sev-guest/attestation.bin"))
        XCTAssertEqual(TCB(parts: milan.reportedTCB.parts, layout: .milanGenoa), milan.reportedTCB)
    }

    // MARK: - Helpers

    static func json(_ report: AttestationReport) throws -> [String: Any] {
        let data = try JSONEncoder().encode(report)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// JSON equality of values read back by JSONSerialization (numbers, strings, null, objects).
    static func equal(_ lhs: Any?, _ rhs: Any?) -> Bool {
        switch (lhs, rhs) {
        case (nil, nil): return true
        case let (l as [String: Any], r as [String: Any]):
            return l.count == r.count && l.allSatisfy { equal($0.value, r[$0.key]) }
        case let (l as [Any], r as [Any]):
            return l.count == r.count && zip(l, r).allSatisfy { equal($0, $1) }
        case let (l as NSObject, r as NSObject):
            return l.isEqual(r)
        default:
            return false
        }
    }

    static func setting(_ bytes: [UInt8], u32 value: UInt32, at offset: Int) -> [UInt8] {
        var copy = bytes
        for index in 0..<4 { copy[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))) }
        return copy
    }
}

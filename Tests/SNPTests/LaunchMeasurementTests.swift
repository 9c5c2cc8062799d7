import Foundation
import TestSupport
import XCTest

@testable import SNP

/// The launch-measurement concepts one at a time, and every way an input is refused.
final class LaunchMeasurementTests: XCTestCase {
    private let amdSev = LaunchMeasurementTestData.path("ovmf_AmdSev_suffix.bin")
    private let ovmfX64 = LaunchMeasurementTestData.path("ovmf_OvmfX64_suffix.bin")
    private let kernel = LaunchMeasurementTestData.path("kernel.bin")

    // MARK: OVMF footer table and SEV metadata

    func testAmdSevSuffixTablesAreReadAsMANIFESTDescribesThem() throws {
        let firmware = try OVMFFirmware(path: amdSev)
        XCTAssertEqual(firmware.gpa, 0xFFFF_F000)
        XCTAssertEqual(try firmware.sevESResetEIP(), 0x80B004)
        XCTAssertEqual(try firmware.sevHashesTableGPA(), 0x810C00)
        let sections = firmware.metadataSections.map { [UInt64($0.gpa), UInt64($0.size), UInt64($0.rawType)] }
        XCTAssertEqual(sections, [
            [0x800000, 0x9000, 1], [0x80A000, 0x3000, 1], [0x80D000, 0x1000, 2], [0x80E000, 0x1000, 3],
            [0x80F000, 0x1000, 4], [0x810000, 0x1000, 0x10], [0x811000, 0xF000, 1],
        ])
        XCTAssertTrue(firmware.hasMetadataSection(.snpKernelHashes))
    }

    func testOvmfX64SuffixHasNoKernelHashesSection() throws {
        let firmware = try OVMFFirmware(path: ovmfX64)
        XCTAssertFalse(firmware.hasMetadataSection(.snpKernelHashes))
        XCTAssertEqual(firmware.metadataSections.last.map { [$0.gpa, $0.size, $0.rawType] }, [0x810000, 0x10000, 1])
    }

    func testDebianOVMFTablesAreReadAsMANIFESTDescribesThem() throws {
        let firmware = try OVMFFirmware(path: "/usr/share/ovmf/OVMF.fd")
        XCTAssertEqual(firmware.size, 2_097_152)
        XCTAssertEqual(try firmware.sevESResetEIP(), 0x80B004)
        XCTAssertEqual(try firmware.sevHashesTableGPA(), 0, "Debian's OVMF has no usable SEV hashes table")
        XCTAssertEqual(firmware.metadataSections.map { [$0.gpa, $0.size, $0.rawType] }, [
            [0x800000, 0x9000, 1], [0x80A000, 0x3000, 1], [0x80D000, 0x1000, 2], [0x80E000, 0x1000, 3],
            [0x80F000, 0x11000, 1],
        ])
    }

    func testEFIGUIDUsesMixedEndianBytes() {
        let guid = EFIGUID("96b582de-1fb2-45f7-baea-a366c55a082d")
        XCTAssertEqual(Array(guid.bytes.prefix(8)), [0xDE, 0x82, 0xB5, 0x96, 0xB2, 0x1F, 0xF7, 0x45])
        XCTAssertEqual(guid.description, "96b582de-1fb2-45f7-baea-a366c55a082d")
    }

    // MARK: Page info and the running digest

    func testPageInfoRecordHasTheABILayout() throws {
        let current = try LaunchDigest(bytes: (0..<48).map { UInt8($0) })
        let contents = try LaunchDigest(bytes: (0..<48).map { UInt8(100 + $0) })
        let record = LaunchPageInfo(currentDigest: current, contents: contents, pageType: .vmsa, gpa: 0xFFFF_FFFF_F000).bytes
        XCTAssertEqual(record.count, 0x70)
        XCTAssertEqual(Array(record[0..<48]), current.bytes)
        XCTAssertEqual(Array(record[48..<96]), contents.bytes)
        XCTAssertEqual(Array(record[96..<104]), [0x70, 0x00, 0x02, 0, 0, 0, 0, 0])
        XCTAssertEqual(Array(record[104..<112]), [0x00, 0xF0, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00])
    }

    func testLaunchDigestHexRoundTripsAndRejectsBadText() throws {
        let digest = try LaunchDigest(bytes: (0..<48).map { UInt8(255 - $0) })
        XCTAssertEqual(try LaunchDigest(hex: digest.hex), digest)
        XCTAssertEqual(try LaunchDigest(hex: digest.hex.uppercased()), digest)
        XCTAssertThrowsError(try LaunchDigest(hex: String(digest.hex.dropLast(2))))
        XCTAssertThrowsError(try LaunchDigest(hex: "zz" + digest.hex.dropFirst(2)))
    }

    func testPrecomputedFirmwareDigestGivesTheSameMeasurement() throws {
        let firmwareDigest = try LaunchMeasurement.firmwareDigest(ofFirmwareAt: amdSev)
        var configuration = LaunchConfiguration(
            firmwarePath: amdSev, vcpus: 3, vcpuSignature: try VCPUType(named: "EPYC-Rome").signature,
            kernelPath: kernel, commandLine: "quiet")
        let full = try LaunchMeasurement.measure(configuration)
        configuration.firmwareDigest = firmwareDigest
        XCTAssertEqual(try LaunchMeasurement.measure(configuration).measurement, full.measurement)
        XCTAssertEqual(full.firmwareDigest, firmwareDigest)
    }

    // MARK: vCPU signatures

    func testVCPUSignatureEncodesFamilyModelSteppingLikeCPUID() throws {
        XCTAssertEqual(try VCPUType(named: "EPYC-Milan").signature.rawValue, 0xA00F11)
        let genoa = try VCPUSignature(family: 25, model: 17, stepping: 0)
        XCTAssertEqual(genoa.rawValue, 0xA10F10)
        XCTAssertEqual([genoa.family, genoa.model, genoa.stepping], [25, 17, 0])
        for family in [6, 15, 23, 26, 0x10E] {
            let signature = try VCPUSignature(family: family, model: 0xAB, stepping: 7)
            XCTAssertEqual([signature.family, signature.model, signature.stepping], [family, 0xAB, 7])
        }
        XCTAssertThrowsError(try VCPUSignature(family: 0x10F, model: 0, stepping: 0))
        XCTAssertThrowsError(try VCPUSignature(family: 25, model: 256, stepping: 0))
        XCTAssertThrowsError(try VCPUSignature(family: 25, model: 1, stepping: 16))
    }

    func testUnknownVCPUTypeIsRefusedWithTheKnownNames() {
        XCTAssertThrowsError(try VCPUType(named: "epyc-milan")) { error in
            XCTAssertTrue("\(error)".contains("EPYC-Milan"), "\(error)")
        }
        XCTAssertEqual(VCPUType.all.count, 16)
    }

    // MARK: VMSA

    func testVMSAPlacesTheResetStateAtTheAPMOffsets() throws {
        let signature = try VCPUType(named: "EPYC-Milan").signature
        let page = VMSASaveArea(eip: 0x80B004, features: [.snpActive, .debugSwap], signature: signature, vmm: .qemu).page
        func u64(_ offset: Int) -> UInt64 { page[offset..<offset + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) } }
        XCTAssertEqual(page.count, 4096)
        XCTAssertEqual(Array(page[0x10..<0x20]), [0x00, 0xF0, 0x9B, 0x00, 0xFF, 0xFF, 0, 0, 0x00, 0x00, 0x80, 0, 0, 0, 0, 0],
                       "CS: selector 0xF000, attributes 0x9B, limit 0xFFFF, base = upper half of the EIP")
        XCTAssertEqual(u64(VMSASaveArea.Offset.rip), 0xB004)
        XCTAssertEqual(u64(VMSASaveArea.Offset.rdx), 0xA00F11)
        XCTAssertEqual(u64(VMSASaveArea.Offset.sevFeatures), 0x21)
        XCTAssertEqual(u64(VMSASaveArea.Offset.gPAT), 0x0007_0406_0007_0406)
        XCTAssertEqual(u64(VMSASaveArea.Offset.xcr0), 1)
        XCTAssertEqual(Array(page[0x408..<0x40C]), [0x80, 0x1F, 0, 0])
        XCTAssertEqual(Array(page[0x410..<0x412]), [0x7F, 0x03])
        XCTAssertTrue(page[0x420...].allSatisfy { $0 == 0 })
    }

    func testCloudVMMsPutAFixedValueInRDX() throws {
        for vmm in [VMMType.ec2, .gce] {
            let page = VMSASaveArea(eip: VMSASaveArea.bspResetEIP, features: .default, signature: nil, vmm: vmm).page
            XCTAssertEqual(Array(page[0x310..<0x312]), [0x00, 0x06], "\(vmm)")
        }
        XCTAssertThrowsError(try LaunchMeasurement.measure(LaunchConfiguration(firmwarePath: amdSev, vcpus: 1, vcpuSignature: nil))) {
            XCTAssertEqual($0 as? LaunchMeasurementError, .missingVCPUSignature(vmm: "QEMU"))
        }
    }

    // MARK: SEV hashes table

    func testSEVHashesTableHasQEMUsLayout() throws {
        let hashes = SEVHashesTable(
            kernel: [UInt8](repeating: 0xAA, count: 32), initrd: SEVHashesTable.emptyInitrd,
            cmdline: SEVHashesTable.sha256(commandLine: nil))
        let table = hashes.paddedTable
        XCTAssertEqual(table.count, 176)
        XCTAssertEqual(Array(table[0..<16]), SEVHashesTable.headerGUID.bytes)
        XCTAssertEqual(Array(table[16..<18]), [168, 0])
        XCTAssertEqual(Array(table[18..<34]), SEVHashesTable.cmdlineGUID.bytes)
        XCTAssertEqual(Array(table[34..<36]), [50, 0])
        XCTAssertEqual(Array(table[68..<84]), SEVHashesTable.initrdGUID.bytes)
        XCTAssertEqual(Array(table[118..<134]), SEVHashesTable.kernelGUID.bytes)
        XCTAssertEqual(Array(table[136..<168]), hashes.kernel)
        XCTAssertEqual(Array(table[168...]), [UInt8](repeating: 0, count: 8))
        XCTAssertEqual(SEVHashesTable.sha256(commandLine: ""), SEVHashesTable.sha256(commandLine: nil))
        XCTAssertNil(hashes.page(tableOffset: 4096 - 175))
        XCTAssertEqual(hashes.page(tableOffset: 0xC00).map { Array($0[0xC00..<0xCB0]) }, table)
    }

    func testFileHashIsStreamedInChunksWithoutChangingIt() throws {
        let directory = try temporaryDirectory()
        let path = directory.appendingPathComponent("big.bin").path
        // Two chunks and a part: a random block of odd length repeated, so no two chunks are alike.
        var random = SplitMix64(seed: 4093)
        let block = random.bytes(4093)
        var bytes = Data()
        while bytes.count < 2 * LaunchInputFile.chunkSize + 12345 { bytes.append(contentsOf: block) }
        try bytes.write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(SNPTestHex.string(try SEVHashesTable.sha256(ofFileAt: path)), try sha256Hex(path))
        XCTAssertEqual(SNPTestHex.string(try SEVHashesTable.sha256(ofFileAt: "/dev/null")), try sha256Hex("/dev/null"))
    }

    // MARK: Refusals

    func testKernelWithoutKernelHashesSectionIsRefusedBeforeHashing() throws {
        let configuration = LaunchConfiguration(
            firmwarePath: ovmfX64, vcpus: 1, vcpuSignature: VCPUSignature(rawValue: 0x800F12), kernelPath: "/nonexistent")
        XCTAssertThrowsError(try LaunchMeasurement.measure(configuration)) {
            XCTAssertEqual($0 as? LaunchMeasurementError, .kernelHashesUnsupported(path: ovmfX64))
        }
    }

    func testUnreadableFilesAreNamed() throws {
        let missing = "/nonexistent/kernel"
        let configuration = LaunchConfiguration(
            firmwarePath: amdSev, vcpus: 1, vcpuSignature: VCPUSignature(rawValue: 0x800F12), kernelPath: missing)
        XCTAssertThrowsError(try LaunchMeasurement.measure(configuration)) { error in
            guard case let .unreadable(path, _)? = error as? LaunchMeasurementError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, missing)
        }
        XCTAssertThrowsError(try OVMFFirmware(path: "/dev/null")) { error in
            XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)")
        }
    }

    func testInitrdOrCommandLineWithoutKernelIsRefused() {
        let signature = VCPUSignature(rawValue: 0x800F12)
        XCTAssertThrowsError(try LaunchMeasurement.measure(
            LaunchConfiguration(firmwarePath: amdSev, vcpus: 1, vcpuSignature: signature, initrdPath: kernel)))
        XCTAssertThrowsError(try LaunchMeasurement.measure(
            LaunchConfiguration(firmwarePath: amdSev, vcpus: 1, vcpuSignature: signature, commandLine: "quiet")))
        XCTAssertThrowsError(try LaunchMeasurement.measure(
            LaunchConfiguration(firmwarePath: amdSev, vcpus: 0, vcpuSignature: signature)))
    }

    func testFirmwareThatIsNotWholePagesIsRefused() throws {
        let path = try patchedFirmware { $0.removeLast() }
        XCTAssertThrowsError(try OVMFFirmware(path: path)) { error in
            guard case .badFirmwareSize? = error as? LaunchMeasurementError else { return XCTFail("\(error)") }
        }
    }

    func testFirmwareWithoutFooterTableHasNoResetBlock() throws {
        let path = try patchedFirmware { bytes in bytes[bytes.count - 48] ^= 0xFF }  // inside the footer GUID
        let firmware = try OVMFFirmware(path: path)
        XCTAssertTrue(firmware.footerTable.isEmpty)
        XCTAssertThrowsError(try LaunchMeasurement.measure(
            LaunchConfiguration(firmwarePath: path, vcpus: 1, vcpuSignature: VCPUSignature(rawValue: 1)))) {
            XCTAssertEqual($0 as? LaunchMeasurementError, .missingFirmwareEntry(path: path, entry: "SEV_ES_RESET_BLOCK_GUID"))
        }
    }

    func testCorruptSEVMetadataIsRefused() throws {
        let badSignature = try patchedFirmware { bytes in bytes[Self.metadataOffset(bytes)] = UInt8(ascii: "X") }
        XCTAssertThrowsError(try OVMFFirmware(path: badSignature)) { error in
            XCTAssertTrue("\(error)".contains("wrong signature"), "\(error)")
        }
        let tooManySections = try patchedFirmware { bytes in bytes[Self.metadataOffset(bytes) + 13] = 0xFF }
        XCTAssertThrowsError(try OVMFFirmware(path: tooManySections)) { error in
            XCTAssertTrue("\(error)".contains("do not fit"), "\(error)")
        }
    }

    func testUnknownMetadataSectionTypeIsRefused() throws {
        let path = try patchedFirmware { bytes in bytes[Self.metadataOffset(bytes) + 16 + 8] = 0x7 }
        XCTAssertThrowsError(try LaunchMeasurement.measure(
            LaunchConfiguration(firmwarePath: path, vcpus: 1, vcpuSignature: VCPUSignature(rawValue: 1)))) {
            XCTAssertEqual($0 as? LaunchMeasurementError, .unknownMetadataSection(path: path, index: 0, type: 7))
        }
    }

    func testSeveralVCPUsNeedAnAPResetAddress() throws {
        let path = try patchedFirmware { bytes in
            let start = Self.footerEntryStart(bytes, OVMFFirmware.sevESResetBlockGUID)
            bytes.replaceSubrange(start..<start + 4, with: [0, 0, 0, 0])
        }
        let oneVCPU = LaunchConfiguration(firmwarePath: path, vcpus: 1, vcpuSignature: VCPUSignature(rawValue: 1))
        XCTAssertNoThrow(try LaunchMeasurement.measure(oneVCPU))
        var twoVCPUs = oneVCPU
        twoVCPUs.vcpus = 2
        XCTAssertThrowsError(try LaunchMeasurement.measure(twoVCPUs)) {
            XCTAssertEqual($0 as? LaunchMeasurementError, .missingAPResetAddress(path: path))
        }
    }

    // MARK: Helpers

    /// A copy of the AmdSev suffix firmware, changed by `patch`.
    private func patchedFirmware(_ patch: (inout [UInt8]) -> Void) throws -> String {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: amdSev)))
        patch(&bytes)
        let path = try temporaryDirectory().appendingPathComponent("patched.fd").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    private static func metadataOffset(_ bytes: [UInt8]) -> Int {
        let signature = Array("ASEV".utf8)
        return (0...(bytes.count - 4)).first { Array(bytes[$0..<$0 + 4]) == signature }!
    }

    /// Where the data of the footer entry with `guid` starts (entry: data · u16 size · GUID).
    private static func footerEntryStart(_ bytes: [UInt8], _ guid: EFIGUID) -> Int {
        let guidOffset = (0...(bytes.count - 16)).last { Array(bytes[$0..<$0 + 16]) == guid.bytes }!
        let size = Int(bytes[guidOffset - 2]) | Int(bytes[guidOffset - 1]) << 8
        return guidOffset + 16 - size
    }

    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("twocvm-snp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}

enum SNPTestHex {
    static func string(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}

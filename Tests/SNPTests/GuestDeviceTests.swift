import Foundation
import TestSupport
import XCTest
@testable import SNP

/// Guest device access against fakes of the kernel interfaces: the ioctl structs byte for byte
/// against linux/sev-guest.h, a fake `/dev/sev-guest` driver, and a fake configfs-tsm tree.
final class GuestDeviceTests: XCTestCase {
    private let reportData = (0..<64).map { UInt8($0 * 3 & 0xFF) }

    /// A report-shaped buffer echoing the report data at REPORT_DATA's offset (0x50).
    private func fakeReport(_ data: [UInt8]) -> [UInt8] {
        var report = [UInt8](repeating: 0xAB, count: 0x4A0)
        report.replaceSubrange(0x50..<0x90, with: data)
        return report
    }

    private let certificates = CertificateTable(entries: [
        .init(kind: .vcek, bytes: Array("vcek-der".utf8)), .init(kind: .ask, bytes: Array("ask".utf8)),
        .init(kind: .ark, bytes: Array("ark-der".utf8)),
    ])

    func testUAPILayoutMatchesTheKernelHeader() throws {
        let header = "/usr/include/linux/sev-guest.h"
        try Requirement.requireFile(header, install: "Debian's linux-libc-dev package (make deps)")
        try Requirement.requireExecutable("/usr/bin/gcc", install: "Debian's gcc package (make deps)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("uapi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = """
            #include <stdio.h>
            #include <stddef.h>
            #include <sys/ioctl.h>
            #include <linux/sev-guest.h>
            int main(void) {
              printf("%zu %zu %zu %zu\\n", sizeof(struct snp_report_req), sizeof(struct snp_ext_report_req),
                     sizeof(struct snp_guest_request_ioctl), sizeof(struct snp_report_resp));
              printf("%zu %zu %zu %zu %zu\\n", offsetof(struct snp_report_req, vmpl), offsetof(struct snp_ext_report_req, certs_address),
                     offsetof(struct snp_ext_report_req, certs_len), offsetof(struct snp_guest_request_ioctl, req_data),
                     offsetof(struct snp_guest_request_ioctl, resp_data));
              printf("%zu %zu\\n", offsetof(struct snp_guest_request_ioctl, fw_error), offsetof(struct snp_guest_request_ioctl, vmm_error));
              printf("%lu %lu\\n", (unsigned long)SNP_GET_REPORT, (unsigned long)SNP_GET_EXT_REPORT);
              return 0;
            }
            """
        try Data(source.utf8).write(to: directory.appendingPathComponent("uapi.c"))
        let compile = Process()
        compile.executableURL = URL(fileURLWithPath: "/usr/bin/gcc")
        compile.arguments = ["-o", directory.appendingPathComponent("uapi").path, directory.appendingPathComponent("uapi.c").path]
        try compile.run()
        compile.waitUntilExit()
        XCTAssertEqual(compile.terminationStatus, 0)
        let run = Process()
        run.executableURL = directory.appendingPathComponent("uapi")
        let pipe = Pipe()
        run.standardOutput = pipe
        try run.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.waitUntilExit()
        let expected = """
            \(UAPI.reportRequestSize) \(UAPI.extReportRequestSize) \(UAPI.guestRequestSize) \(UAPI.responseSize)
            64 96 104 8 16
            24 28
            \(UAPI.getReport) \(UAPI.getExtReport)

            """
        XCTAssertEqual(output, expected)
    }

    func testIoctlPathRetriesWithTheCertificateLengthTheHostAsksFor() throws {
        let driver = FakeSevGuestDriver(report: fakeReport(reportData), certificates: certificates.serialized(), requiredPages: 5)
        let device = SevGuestIoctl(path: "/dev/fake-sev-guest", driver: driver)
        let result = try device.report(reportData: reportData, vmpl: 2)
        XCTAssertEqual(result.report, fakeReport(reportData))
        XCTAssertEqual(result.certificates, certificates)
        XCTAssertEqual(driver.log.calls, [UAPI.getExtReport, UAPI.getExtReport])
        XCTAssertEqual(driver.log.certificateLengths, [4 * 4096, 5 * 4096])
        XCTAssertEqual(driver.log.vmpls, [2, 2])
    }

    func testIoctlFirmwareErrorAndPermission() {
        let failing = FakeSevGuestDriver(report: [], certificates: [], requiredPages: 0, firmwareError: 0x16)
        XCTAssertThrowsError(try SevGuestIoctl(path: "/dev/x", driver: failing).report(reportData: reportData, vmpl: nil)) { error in
            XCTAssertEqual(error as? GuestDeviceError, .firmware(status: 0x16, vmmError: 0))
        }
        XCTAssertThrowsError(try SevGuestIoctl(path: "/nonexistent/sev-guest").report(reportData: reportData, vmpl: nil)) { error in
            XCTAssertEqual(error as? GuestDeviceError, .notPresent)
            XCTAssertTrue((error as? GuestDeviceError)?.isEnvironmental == true)
        }
    }

    func testConfigfsTSMWritesInblobAndReadsOutblobAndAuxblob() throws {
        let root = try temporaryDirectory()
        let report = fakeReport(reportData)
        let table = certificates.serialized()
        let device = ConfigfsTSM(root: root) { path throws(GuestDeviceError) in
            // The fake kernel: the entry appears with its attribute files.
            try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            for (name, bytes) in [("provider", Array("sev_guest\n".utf8)), ("outblob", report), ("auxblob", table),
                                  ("generation", Array("1\n".utf8)), ("inblob", []), ("privlevel", [])] {
                FileManager.default.createFile(atPath: "\(path)/\(name)", contents: Data(bytes))
            }
        }
        // Capture what was written before the entry is removed by wrapping rmdir: keep a copy.
        let result = try device.report(reportData: reportData, vmpl: 1)
        XCTAssertEqual(result.report, report)
        XCTAssertEqual(result.certificates[.vcek], Array("vcek-der".utf8))
        XCTAssertEqual(result.certificates[.ark], Array("ark-der".utf8))
        let entries = try FileManager.default.contentsOfDirectory(atPath: root)
        XCTAssertEqual(entries.count, 1, "rmdir of a non-empty fake entry fails; the real configfs removes it")
        let written = try Data(contentsOf: URL(fileURLWithPath: "\(root)/\(entries[0])/inblob"))
        XCTAssertEqual(Array(written), reportData)
        XCTAssertEqual(try String(contentsOfFile: "\(root)/\(entries[0])/privlevel", encoding: .utf8), "1")
    }

    func testConfigfsTSMRefusesAWrongSizedOutblob() throws {
        let root = try temporaryDirectory()
        let device = ConfigfsTSM(root: root) { path throws(GuestDeviceError) in
            try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            for (name, bytes) in [("outblob", [UInt8](repeating: 1, count: 100)), ("generation", Array("1".utf8)), ("inblob", [])] {
                FileManager.default.createFile(atPath: "\(path)/\(name)", contents: Data(bytes))
            }
        }
        XCTAssertThrowsError(try device.report(reportData: reportData, vmpl: nil)) { error in
            guard case GuestDeviceError.malformedResponse = error else { return XCTFail("\(error)") }
        }
    }

    func testDetectPrefersConfigfsAndReportsAbsence() throws {
        let root = try temporaryDirectory()
        XCTAssertThrowsError(try GuestDevices.detect(configfsRoot: "\(root)/none", devicePath: "\(root)/none-dev")) { error in
            XCTAssertEqual(error as? GuestDeviceError, .notPresent)
        }
        XCTAssertTrue(FileManager.default.createFile(atPath: "\(root)/sev-guest", contents: nil))
        XCTAssertEqual(try GuestDevices.detect(configfsRoot: "\(root)/none", devicePath: "\(root)/sev-guest").name, "\(root)/sev-guest")
        XCTAssertTrue(try GuestDevices.detect(configfsRoot: root, devicePath: "\(root)/sev-guest").name.hasPrefix("configfs-tsm"))
    }

    func testCertificateTableRoundTripAndMalformedTables() throws {
        let bytes = certificates.serialized()
        XCTAssertEqual(try CertificateTable.parse(bytes), certificates)
        XCTAssertEqual(try CertificateTable.parse([]), CertificateTable(entries: []))
        XCTAssertEqual(try CertificateTable.parse([UInt8](repeating: 0, count: 24)), CertificateTable(entries: []))
        var outside = bytes
        outside[16] = 0xFF  // first offset far past the end
        outside[17] = 0xFF
        for malformed in [Array(bytes.prefix(30)), outside, Array(bytes.prefix(24))] {
            XCTAssertThrowsError(try CertificateTable.parse(malformed)) { error in
                guard case GuestDeviceError.malformedCertificateTable = error else { return XCTFail("\(error)") }
            }
        }
    }

    private func temporaryDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tsm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }
}

/// A stand-in for the sev-guest driver: reads the request through the pointers in the ioctl
/// argument exactly as the kernel does, and answers like the host would.
final class FakeSevGuestDriver: IoctlDriver, @unchecked Sendable {
    struct Log {
        var calls: [UInt] = []
        var certificateLengths: [Int] = []
        var vmpls: [UInt32] = []
    }

    let report: [UInt8]
    let certificates: [UInt8]
    let requiredPages: Int
    let firmwareError: UInt32
    private(set) var log = Log()

    init(report: [UInt8], certificates: [UInt8], requiredPages: Int, firmwareError: UInt32 = 0) {
        self.report = report
        self.certificates = certificates
        self.requiredPages = requiredPages
        self.firmwareError = firmwareError
    }

    func open(_ path: String) throws(GuestDeviceError) -> Int32 { 42 }
    func close(_ fd: Int32) {}

    func ioctl(_ fd: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer) -> (Int32, Int32) {
        log.calls.append(request)
        let arg = argument.assumingMemoryBound(to: UInt8.self)
        precondition(arg[0] == 1, "msg_version")
        let requestPointer = UnsafeMutableRawPointer(bitPattern: UInt(argument.load(fromByteOffset: 8, as: UInt64.self)))!
        let responsePointer = UnsafeMutableRawPointer(bitPattern: UInt(argument.load(fromByteOffset: 16, as: UInt64.self)))!
        let vmpl = requestPointer.loadUnaligned(fromByteOffset: 64, as: UInt32.self)
        let certificatesAddress = requestPointer.loadUnaligned(fromByteOffset: 96, as: UInt64.self)
        let certificatesLength = Int(requestPointer.loadUnaligned(fromByteOffset: 104, as: UInt32.self))
        log.vmpls.append(vmpl)
        log.certificateLengths.append(certificatesLength)
        if firmwareError != 0 {
            argument.storeBytes(of: firmwareError, toByteOffset: 24, as: UInt32.self)
            return (-1, EIO)
        }
        if certificatesLength < requiredPages * 4096 {
            requestPointer.storeBytes(of: UInt32(requiredPages * 4096), toByteOffset: 104, as: UInt32.self)
            argument.storeBytes(of: UInt32(1), toByteOffset: 28, as: UInt32.self)  // SNP_GUEST_VMM_ERR_INVALID_LEN
            return (-1, EIO)
        }
        // MSG_REPORT_RSP: status 0, size, 24 reserved bytes, report; report data from the request.
        var echoed = report
        echoed.replaceSubrange(0x50..<0x90, with: UnsafeRawBufferPointer(start: requestPointer, count: 64))
        responsePointer.storeBytes(of: UInt32(0), toByteOffset: 0, as: UInt32.self)
        responsePointer.storeBytes(of: UInt32(echoed.count), toByteOffset: 4, as: UInt32.self)
        echoed.withUnsafeBytes { responsePointer.advanced(by: 0x20).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let certificateBuffer = UnsafeMutableRawPointer(bitPattern: UInt(certificatesAddress))!
        certificates.withUnsafeBytes { certificateBuffer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return (0, 0)
    }
}

import Glibc

/// `/dev/sev-guest` (linux/sev-guest.h): `SNP_GET_EXT_REPORT`, falling back to `SNP_GET_REPORT`
/// when the host supplies no certificates. Requests and responses are marshalled byte by byte
/// into the kernel's uapi layout (`UAPI` below), never through Swift struct layout.
public struct SevGuestIoctl: GuestDevice {
    public static let defaultPath = "/dev/sev-guest"

    public let path: String
    let driver: any IoctlDriver

    public var name: String { path }

    public init(path: String = defaultPath) {
        self.init(path: path, driver: KernelIoctlDriver())
    }

    init(path: String, driver: any IoctlDriver) {
        self.path = path
        self.driver = driver
    }

    public func report(reportData: [UInt8], vmpl: UInt32?) throws(GuestDeviceError) -> GuestReport {
        guard reportData.count == 64 else { throw .badRequest("report data must be 64 bytes") }
        let fd = try driver.open(path)
        defer { driver.close(fd) }
        var certificatesLength = UAPI.initialCertificatesLength
        for _ in 0..<2 {
            let outcome = try extendedRequest(fd: fd, reportData: reportData, vmpl: vmpl ?? 0, certificatesLength: certificatesLength)
            switch outcome {
            case let .done(report):
                return report
            case let .needsLength(required):
                guard required > certificatesLength, required <= UAPI.maxCertificatesLength else {
                    throw .malformedResponse("the host asks for a certificate buffer of \(required) bytes")
                }
                certificatesLength = (required + UAPI.pageSize - 1) / UAPI.pageSize * UAPI.pageSize
            }
        }
        throw .malformedResponse("the host keeps asking for a larger certificate buffer")
    }

    private enum Outcome {
        case done(GuestReport)
        case needsLength(Int)
    }

    private func extendedRequest(fd: Int32, reportData: [UInt8], vmpl: UInt32,
                                 certificatesLength: Int) throws(GuestDeviceError) -> Outcome {
        var certificates = [UInt8](repeating: 0, count: certificatesLength)
        var response = [UInt8](repeating: 0, count: UAPI.responseSize)
        var request = [UInt8](repeating: 0, count: UAPI.extReportRequestSize)
        var argument = [UInt8](repeating: 0, count: UAPI.guestRequestSize)
        let (result, code) = certificates.withUnsafeMutableBytes { certificateBuffer in
            response.withUnsafeMutableBytes { responseBuffer in
                UAPI.encodeExtReportRequest(into: &request, reportData: reportData, vmpl: vmpl,
                                            certificatesAddress: UInt64(UInt(bitPattern: certificateBuffer.baseAddress)),
                                            certificatesLength: UInt32(certificatesLength))
                return request.withUnsafeMutableBytes { requestBuffer in
                    UAPI.encodeGuestRequest(into: &argument, request: UInt64(UInt(bitPattern: requestBuffer.baseAddress)),
                                            response: UInt64(UInt(bitPattern: responseBuffer.baseAddress)))
                    return argument.withUnsafeMutableBytes { driver.ioctl(fd, UAPI.getExtReport, $0.baseAddress!) }
                }
            }
        }
        let exitInfo = UAPI.decodeExitInfo(argument)
        if result != 0 {
            if exitInfo.vmmError == UAPI.vmmErrorInvalidLength {
                return .needsLength(Int(UAPI.decodeCertificatesLength(request)))
            }
            if code == EACCES || code == EPERM { throw .permissionDenied(path: path) }
            if exitInfo.firmwareError != 0 || exitInfo.vmmError != 0 {
                throw .firmware(status: exitInfo.firmwareError, vmmError: exitInfo.vmmError)
            }
            throw .io(path: path, errno: code)
        }
        let report = try UAPI.decodeReportResponse(response)
        return .done(GuestReport(report: report, certificates: try CertificateTable.parse(certificates)))
    }
}

/// The system calls `SevGuestIoctl` makes, so tests can stand in for the kernel.
protocol IoctlDriver: Sendable {
    func open(_ path: String) throws(GuestDeviceError) -> Int32
    /// Returns the ioctl result and errno.
    func ioctl(_ fd: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer) -> (Int32, Int32)
    func close(_ fd: Int32)
}

/// The real kernel.
struct KernelIoctlDriver: IoctlDriver {
    func open(_ path: String) throws(GuestDeviceError) -> Int32 {
        let fd = Glibc.open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            switch errno {
            case ENOENT: throw .notPresent
            case EACCES, EPERM: throw .permissionDenied(path: path)
            default: throw .io(path: path, errno: errno)
            }
        }
        return fd
    }

    func ioctl(_ fd: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer) -> (Int32, Int32) {
        let result = Glibc.ioctl(fd, request, argument)
        return (result, result == 0 ? 0 : errno)
    }

    func close(_ fd: Int32) { _ = Glibc.close(fd) }
}

/// The uapi of linux/sev-guest.h, byte for byte (x86-64):
///
/// ```c
/// struct snp_report_req { __u8 user_data[64]; __u32 vmpl; __u8 rsvd[28]; };            // 96
/// struct snp_report_resp { __u8 data[4000]; };
/// struct snp_guest_request_ioctl { __u8 msg_version; /* pad 7 */ __u64 req_data;
///     __u64 resp_data; union { __u64 exitinfo2; struct { __u32 fw_error; __u32 vmm_error; }; }; }; // 32
/// struct snp_ext_report_req { struct snp_report_req data; __u64 certs_address; __u32 certs_len; }; // 112
/// #define SNP_GET_REPORT     _IOWR('S', 0x0, struct snp_guest_request_ioctl)
/// #define SNP_GET_EXT_REPORT _IOWR('S', 0x2, struct snp_guest_request_ioctl)
/// ```
/// The response data holds MSG_REPORT_RSP: status (u32), report size (u32), 24 reserved bytes,
/// then the report.
enum UAPI {
    static let reportRequestSize = 96
    static let extReportRequestSize = 112
    static let guestRequestSize = 32
    static let responseSize = 4000
    static let pageSize = 4096
    static let initialCertificatesLength = 4 * pageSize
    static let maxCertificatesLength = 2 << 20
    static let messageVersion: UInt8 = 1
    static let vmmErrorInvalidLength: UInt32 = 1

    /// `_IOWR(type, nr, size)` = read|write (3) << 30 | size << 16 | type << 8 | nr.
    static func iowr(_ type: UInt8, _ number: UInt8, size: Int) -> UInt {
        UInt(3) << 30 | UInt(size) << 16 | UInt(type) << 8 | UInt(number)
    }
    static let getReport = iowr(UInt8(ascii: "S"), 0x0, size: guestRequestSize)
    static let getExtReport = iowr(UInt8(ascii: "S"), 0x2, size: guestRequestSize)

    /// Fills `snp_ext_report_req`.
    static func encodeExtReportRequest(into bytes: inout [UInt8], reportData: [UInt8], vmpl: UInt32,
                                       certificatesAddress: UInt64, certificatesLength: UInt32) {
        bytes.replaceSubrange(0..<64, with: reportData)
        put(UInt64(vmpl), size: 4, at: 64, in: &bytes)
        put(certificatesAddress, size: 8, at: 96, in: &bytes)
        put(UInt64(certificatesLength), size: 4, at: 104, in: &bytes)
    }

    /// Fills `snp_guest_request_ioctl`.
    static func encodeGuestRequest(into bytes: inout [UInt8], request: UInt64, response: UInt64) {
        bytes[0] = messageVersion
        put(request, size: 8, at: 8, in: &bytes)
        put(response, size: 8, at: 16, in: &bytes)
        put(0, size: 8, at: 24, in: &bytes)
    }

    static func decodeExitInfo(_ bytes: [UInt8]) -> (firmwareError: UInt32, vmmError: UInt32) {
        (UInt32(get(bytes, size: 4, at: 24)), UInt32(get(bytes, size: 4, at: 28)))
    }

    static func decodeCertificatesLength(_ request: [UInt8]) -> UInt32 { UInt32(get(request, size: 4, at: 104)) }

    /// The report inside MSG_REPORT_RSP.
    static func decodeReportResponse(_ response: [UInt8]) throws(GuestDeviceError) -> [UInt8] {
        let status = UInt32(get(response, size: 4, at: 0))
        guard status == 0 else { throw .firmware(status: status, vmmError: 0) }
        let size = Int(get(response, size: 4, at: 4))
        guard size == attestationReportSize, 0x20 + size <= response.count else {
            throw .malformedResponse("report size \(size), expected \(attestationReportSize)")
        }
        return Array(response[0x20..<0x20 + size])
    }

    static func put(_ value: UInt64, size: Int, at offset: Int, in bytes: inout [UInt8]) {
        LittleEndian.write(value, size: size, at: offset, into: &bytes)
    }

    static func get(_ bytes: [UInt8], size: Int, at offset: Int) -> UInt64 {
        LittleEndian.read(bytes, at: offset, size: size)
    }
}

import Foundation
import Glibc

/// Asks the AMD Secure Processor for an attestation report from inside the guest.
///
/// Two kernel interfaces exist: configfs-tsm (`/sys/kernel/config/tsm/report`, Linux ≥ 6.7,
/// preferred) and the older `/dev/sev-guest` ioctls. `GuestDevices.detect()` picks whichever
/// the kernel offers. Both return the raw report and the certificate table the host supplied.
public protocol GuestDevice: Sendable {
    /// A human name for messages (`configfs-tsm at …`, `/dev/sev-guest`).
    var name: String { get }
    /// Requests a report binding `reportData` (64 bytes) at privilege level `vmpl`.
    func report(reportData: [UInt8], vmpl: UInt32?) throws(GuestDeviceError) -> GuestReport
}

/// A report as the device returned it.
public struct GuestReport: Sendable, Equatable {
    /// The raw ATTESTATION_REPORT (0x4A0 bytes).
    public let report: [UInt8]
    /// Certificates supplied by the host (VCEK or VLEK, ASK, ARK), possibly empty.
    public let certificates: CertificateTable
}

/// Why a report could not be obtained.
public enum GuestDeviceError: Error, Equatable, CustomStringConvertible {
    case notPresent
    case permissionDenied(path: String)
    case io(path: String, errno: Int32)
    case firmware(status: UInt32, vmmError: UInt32)
    case malformedResponse(String)
    case malformedCertificateTable(String)
    case concurrentUse(path: String)
    case badRequest(String)

    public var description: String {
        switch self {
        case .notPresent:
            return "no SEV-SNP guest device: neither \(ConfigfsTSM.defaultRoot) nor \(SevGuestIoctl.defaultPath) exists (not inside an SNP guest? for development, launch a simulated VM with `twocvm sim launch --state DIR …` and add --platform simulated --state DIR)"
        case let .permissionDenied(path): return "\(path): permission denied (run as root or grant access)"
        case let .io(path, code): return "\(path): \(String(cString: strerror(code)))"
        case let .firmware(status, vmm):
            return "the firmware refused the report request (status 0x\(String(status, radix: 16)), VMM error \(vmm))"
        case let .malformedResponse(reason): return "malformed report response: \(reason)"
        case let .malformedCertificateTable(reason): return "malformed certificate table: \(reason)"
        case let .concurrentUse(path): return "\(path): another process changed the request while it was read; retry"
        case let .badRequest(reason): return "bad report request: \(reason)"
        }
    }

    /// True when the environment rather than the input is at fault (CLI exit status 3).
    public var isEnvironmental: Bool {
        switch self {
        case .notPresent, .permissionDenied, .io, .firmware, .concurrentUse: return true
        case .malformedResponse, .malformedCertificateTable, .badRequest: return false
        }
    }
}

/// Chooses the guest interface the kernel offers.
public enum GuestDevices {
    /// configfs-tsm if present, else `/dev/sev-guest`, else `.notPresent`.
    public static func detect(configfsRoot: String = ConfigfsTSM.defaultRoot,
                              devicePath: String = SevGuestIoctl.defaultPath) throws(GuestDeviceError) -> any GuestDevice {
        if access(configfsRoot, F_OK) == 0 { return ConfigfsTSM(root: configfsRoot) }
        if access(devicePath, F_OK) == 0 { return SevGuestIoctl(path: devicePath) }
        throw .notPresent
    }
}

/// The raw report size of every supported report version.
let attestationReportSize = 0x4A0

/// configfs-tsm (Documentation/ABI/testing/configfs-tsm): make an entry directory, write
/// `inblob` (and `privlevel`), read `outblob` (the report) and `auxblob` (the certificate
/// table), checking `generation` so a concurrent writer cannot mix requests; remove the entry.
public struct ConfigfsTSM: GuestDevice {
    public static let defaultRoot = "/sys/kernel/config/tsm/report"

    public let root: String
    /// Creates the entry directory. The kernel fills it on `mkdir`; tests pass a fake.
    let makeEntry: @Sendable (String) throws(GuestDeviceError) -> Void

    public var name: String { "configfs-tsm at \(root)" }

    public init(root: String = defaultRoot) {
        self.init(root: root) { path throws(GuestDeviceError) in
            guard mkdir(path, 0o700) == 0 else {
                throw errno == EACCES || errno == EPERM ? .permissionDenied(path: path) : .io(path: path, errno: errno)
            }
        }
    }

    init(root: String, makeEntry: @escaping @Sendable (String) throws(GuestDeviceError) -> Void) {
        self.root = root
        self.makeEntry = makeEntry
    }

    public func report(reportData: [UInt8], vmpl: UInt32?) throws(GuestDeviceError) -> GuestReport {
        guard reportData.count == 64 else { throw .badRequest("report data must be 64 bytes") }
        let entry = "\(root)/twocvm-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try makeEntry(entry)
        defer { rmdir(entry) }
        if let provider = try? readFile("\(entry)/provider", limit: 64),
           String(decoding: provider, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) != "sev_guest" {
            throw .malformedResponse("configfs-tsm provider is not sev_guest")
        }
        if let vmpl { try writeFile("\(entry)/privlevel", Array(String(vmpl).utf8)) }
        try writeFile("\(entry)/inblob", reportData)
        let generationBefore = try readFile("\(entry)/generation", limit: 32)
        let report = try readFile("\(entry)/outblob", limit: 1 << 16)
        let auxblob = (try? readFile("\(entry)/auxblob", limit: 1 << 21)) ?? []
        let generationAfter = try readFile("\(entry)/generation", limit: 32)
        guard generationBefore == generationAfter else { throw .concurrentUse(path: entry) }
        guard report.count == attestationReportSize else {
            throw .malformedResponse("outblob is \(report.count) bytes, expected \(attestationReportSize)")
        }
        return GuestReport(report: report, certificates: try CertificateTable.parse(auxblob))
    }

    private func readFile(_ path: String, limit: Int) throws(GuestDeviceError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw errno == EACCES ? .permissionDenied(path: path) : .io(path: path, errno: errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw .io(path: path, errno: errno) }
            if n == 0 { return bytes }
            guard bytes.count + n <= limit else { throw .malformedResponse("\(path) is larger than \(limit) bytes") }
            bytes += chunk[0..<n]
        }
    }

    private func writeFile(_ path: String, _ bytes: [UInt8]) throws(GuestDeviceError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw errno == EACCES ? .permissionDenied(path: path) : .io(path: path, errno: errno) }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
        guard written == bytes.count else { throw .io(path: path, errno: errno) }
    }
}

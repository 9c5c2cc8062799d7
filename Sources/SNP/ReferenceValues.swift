// Reference values: what a verifier accepts for one guest, fixed before the guest runs.
//
// `twocvm launch-measure --manifest M --reference-out REF` writes this file and `verify`
// reads it. It names the launch measurements that are acceptable (one per supported launch
// configuration, e.g. per vCPU count), the HOST_DATA the VM must have been launched with,
// the guest policy it must have been launched under, and optionally a minimum TCB. The SNP
// module knows nothing of manifests: the manifest digest is carried as an opaque string, and
// HOST_DATA as its 32 bytes.

import Foundation
import Hexadecimal

/// The reference values of one guest, as stored in a `twocvm-reference-values` JSON file.
public struct ReferenceValues: Codable, Sendable, Equatable {
    /// The value of `format` in every file.
    public static let formatName = "twocvm-reference-values"
    /// The version this code writes and reads.
    public static let currentVersion = 1
    /// SNP_LAUNCH_START's guest policy that QEMU uses unless told otherwise: SMT allowed and the
    /// must-be-one bit 17; no debug, no migration agent.
    public static let defaultGuestPolicy: UInt64 = 0x30000

    /// Always `formatName`.
    public let format: String
    /// Always `currentVersion` once decoded.
    public let version: Int
    /// The digest of what the guest is bound to (for twocvm, the Commitment Manifest's
    /// `sha384:<hex>`); this module knows nothing of what it digests.
    public var manifestDigest: HexDigest
    /// The 32 bytes the VM must report as HOST_DATA.
    public var hostData: [UInt8]
    /// The guest policy the VM must have been launched with.
    public var guestPolicy: UInt64
    /// The lowest acceptable reported TCB, if any.
    public var minimumTCB: MinimumTCB?
    /// Every acceptable MEASUREMENT, with the launch it was computed for.
    public var measurements: [AcceptedMeasurement]

    /// Reference values with no measurements yet.
    ///
    /// - Throws: `ReferenceValuesError` if `hostData` is not 32 bytes or the policy is not a
    ///   valid SNP guest policy.
    public init(
        manifestDigest: HexDigest, hostData: [UInt8], guestPolicy: UInt64 = defaultGuestPolicy,
        minimumTCB: MinimumTCB? = nil, measurements: [AcceptedMeasurement] = []
    ) throws(ReferenceValuesError) {
        format = Self.formatName
        version = Self.currentVersion
        self.manifestDigest = manifestDigest
        self.hostData = hostData
        self.guestPolicy = guestPolicy
        self.minimumTCB = minimumTCB
        self.measurements = measurements
        try validate()
    }

    /// Whether `measurement` is one of the accepted measurements.
    public func accepts(_ measurement: LaunchDigest) -> Bool {
        measurements.contains { $0.measurement == measurement }
    }

    /// Adds `entry` unless its measurement is already accepted.
    ///
    /// - Returns: whether the file changed.
    @discardableResult
    public mutating func add(_ entry: AcceptedMeasurement) -> Bool {
        guard !accepts(entry.measurement) else { return false }
        measurements.append(entry)
        return true
    }

    /// Decodes and checks a reference-values file.
    ///
    /// - Throws: `ReferenceValuesError.malformed` naming `path` and what is wrong.
    public static func decode(_ bytes: [UInt8], path: String) throws(ReferenceValuesError) -> ReferenceValues {
        let values: ReferenceValues
        do {
            values = try JSONDecoder().decode(ReferenceValues.self, from: Data(bytes))
        } catch let error as ReferenceValuesError {
            throw error.at(path)
        } catch {
            throw ReferenceValuesError.malformed(path: path, reason: Self.describe(error))
        }
        do { try values.validate() } catch { throw error.at(path) }
        return values
    }

    /// The file's bytes: pretty, key-sorted JSON with a final newline, so that files diff well.
    /// Cannot fail: the values are strings, integers and arrays of them (JSONEncoder refuses
    /// only non-finite floating-point numbers).
    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try! encoder.encode(self)) + [UInt8(ascii: "\n")]
    }

    private func validate() throws(ReferenceValuesError) {
        guard format == Self.formatName else {
            throw ReferenceValuesError.malformed(path: "", reason: "format is '\(format)', not '\(Self.formatName)'")
        }
        guard version == Self.currentVersion else {
            throw ReferenceValuesError.malformed(path: "", reason: "version \(version) is not supported (expected \(Self.currentVersion))")
        }
        guard hostData.count == 32 else {
            throw ReferenceValuesError.malformed(path: "", reason: "host_data must be 32 bytes, got \(hostData.count)")
        }
        guard guestPolicy & (1 << 17) != 0, guestPolicy >> 26 == 0 else {
            throw ReferenceValuesError.invalidGuestPolicy(guestPolicy)
        }
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing field '\(Self.path(context.codingPath + [key]))'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "field '\(Self.path(context.codingPath))': \(context.debugDescription)"
        case DecodingError.dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? "not JSON: \(context.debugDescription)"
                : "field '\(Self.path(context.codingPath))': \(context.debugDescription)"
        default:
            return String(describing: error)
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    // MARK: Coding

    enum CodingKeys: String, CodingKey {
        case format, version, measurements
        case manifestDigest = "manifest_digest"
        case hostData = "host_data"
        case guestPolicy = "guest_policy"
        case minimumTCB = "minimum_tcb"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        format = try container.decode(String.self, forKey: .format)
        version = try container.decode(Int.self, forKey: .version)
        manifestDigest = try container.decode(HexDigest.self, forKey: .manifestDigest)
        hostData = try ReferenceHex.decodeBytes(container, .hostData)
        guestPolicy = try ReferenceHex.decodeInteger(container, .guestPolicy)
        minimumTCB = try container.decodeIfPresent(MinimumTCB.self, forKey: .minimumTCB)
        measurements = try container.decode([AcceptedMeasurement].self, forKey: .measurements)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(format, forKey: .format)
        try container.encode(version, forKey: .version)
        try container.encode(manifestDigest, forKey: .manifestDigest)
        try container.encode(ReferenceHex.string(hostData), forKey: .hostData)
        try container.encode("0x" + String(guestPolicy, radix: 16), forKey: .guestPolicy)
        try container.encodeIfPresent(minimumTCB, forKey: .minimumTCB)
        try container.encode(measurements, forKey: .measurements)
    }
}

extension ReferenceValues {
    /// One accepted MEASUREMENT and the launch it was computed for (for auditors: the
    /// verifier only compares `measurement`).
    public struct AcceptedMeasurement: Codable, Sendable, Equatable {
        /// The expected MEASUREMENT.
        public var measurement: LaunchDigest
        /// The launch configuration it was computed for.
        public var launch: Launch

        public init(measurement: LaunchDigest, launch: Launch) {
            self.measurement = measurement
            self.launch = launch
        }
    }

    /// The inputs of a launch measurement, recorded next to it.
    public struct Launch: Codable, Sendable, Equatable {
        public var vcpus: Int
        /// The vCPU type name if one was given.
        public var vcpuType: String?
        /// The vCPU signature, `0x…` (nil for VMMs that do not use one).
        public var vcpuSignature: String?
        /// SEV_FEATURES, `0x…`.
        public var guestFeatures: String
        /// `QEMU`, `ec2` or `gce`.
        public var vmm: String
        /// The digest over the firmware's pages (`--snp-ovmf-hash`), hex.
        public var firmwareDigest: String
        /// SHA-256 of kernel, initrd and command line, hex, for a direct-boot kernel.
        public var kernelSHA256: String?
        public var initrdSHA256: String?
        public var cmdlineSHA256: String?

        public init(
            vcpus: Int, vcpuType: String?, vcpuSignature: String?, guestFeatures: String, vmm: String,
            firmwareDigest: String, kernelSHA256: String? = nil, initrdSHA256: String? = nil,
            cmdlineSHA256: String? = nil
        ) {
            self.vcpus = vcpus
            self.vcpuType = vcpuType
            self.vcpuSignature = vcpuSignature
            self.guestFeatures = guestFeatures
            self.vmm = vmm
            self.firmwareDigest = firmwareDigest
            self.kernelSHA256 = kernelSHA256
            self.initrdSHA256 = initrdSHA256
            self.cmdlineSHA256 = cmdlineSHA256
        }

        enum CodingKeys: String, CodingKey {
            case vcpus, vmm
            case vcpuType = "vcpu_type"
            case vcpuSignature = "vcpu_signature"
            case guestFeatures = "guest_features"
            case firmwareDigest = "firmware_digest"
            case kernelSHA256 = "kernel_sha256"
            case initrdSHA256 = "initrd_sha256"
            case cmdlineSHA256 = "cmdline_sha256"
        }
    }

    /// The lowest acceptable security version of each firmware component, as the file stores
    /// it (`--min-tcb bl=N,tee=N,snp=N,ucode=N[,fmc=N]` on the command line).
    public struct MinimumTCB: Codable, Sendable, Equatable {
        public var bootloader: UInt8
        public var tee: UInt8
        public var snp: UInt8
        public var microcode: UInt8
        /// Turin's FMC component, if required.
        public var fmc: UInt8?

        public init(bootloader: UInt8, tee: UInt8, snp: UInt8, microcode: UInt8, fmc: UInt8? = nil) {
            self.bootloader = bootloader
            self.tee = tee
            self.snp = snp
            self.microcode = microcode
            self.fmc = fmc
        }

        /// The minimum `--min-tcb` names (parsed by ``TCBParts/init(parsing:)``).
        public init(_ parts: TCBParts) {
            self.init(bootloader: parts.bootloader, tee: parts.tee, snp: parts.snp, microcode: parts.microcode, fmc: parts.fmc)
        }

        /// The components, as report validation compares them.
        public var parts: TCBParts {
            TCBParts(fmc: fmc, bootloader: bootloader, tee: tee, snp: snp, microcode: microcode)
        }
    }
}

/// Errors reading or building reference values.
public enum ReferenceValuesError: Error, Equatable, CustomStringConvertible {
    /// The file is not valid reference values.
    case malformed(path: String, reason: String)
    /// A guest policy with bit 17 clear or unknown bits (26 and up) set.
    case invalidGuestPolicy(UInt64)

    public var description: String {
        switch self {
        case let .malformed(path, reason):
            return path.isEmpty ? "malformed reference values: \(reason)" : "\(path): malformed reference values: \(reason)"
        case let .invalidGuestPolicy(policy):
            return "guest policy 0x\(String(policy, radix: 16)) is not valid: bit 17 must be set and bits 26-63 clear"
        }
    }

    fileprivate func at(_ path: String) -> ReferenceValuesError {
        if case let .malformed(_, reason) = self { return .malformed(path: path, reason: reason) }
        return self
    }
}

extension LaunchDigest: Codable {
    /// Decodes 96 hex digits.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        do {
            try self.init(hex: try container.decode(String.self))
        } catch let error as LaunchMeasurementError {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    /// Encodes as 96 lowercase hex digits.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

/// Hex fields of the reference-values file.
private enum ReferenceHex {
    static func string(_ bytes: [UInt8]) -> String {
        Hex.encode(bytes)
    }

    static func decodeBytes<Key: CodingKey>(_ container: KeyedDecodingContainer<Key>, _ key: Key) throws -> [UInt8] {
        guard let bytes = Hex.decode(try container.decode(String.self, forKey: key)) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "not hex")
        }
        return bytes
    }

    static func decodeInteger<Key: CodingKey>(_ container: KeyedDecodingContainer<Key>, _ key: Key) throws -> UInt64 {
        let text = try container.decode(String.self, forKey: key)
        guard text.hasPrefix("0x"), text.count > 2, text.dropFirst(2).allSatisfy(\.isHexDigit),
              let value = UInt64(text.dropFirst(2), radix: 16) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "expected 0x and hex digits")
        }
        return value
    }
}

/// A firmware version as the report carries it: MAJOR.MINOR (the SNP ABI version the firmware
/// implements) and BUILD.
public struct FirmwareVersion: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let major: UInt8
    public let minor: UInt8
    public let build: UInt8

    public init(major: UInt8, minor: UInt8, build: UInt8) {
        self.major = major
        self.minor = minor
        self.build = build
    }

    /// MAJOR.MINOR alone, the ABI version (`--min-abi` compares this).
    public var abi: ABIVersion { ABIVersion(major: major, minor: minor) }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.major, lhs.minor, lhs.build) < (rhs.major, rhs.minor, rhs.build)
    }

    /// `1.55.40`.
    public var description: String { "\(major).\(minor).\(build)" }
}

/// An SNP ABI version MAJOR.MINOR, as in `--min-abi 1.55`.
public struct ABIVersion: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let major: UInt8
    public let minor: UInt8

    public init(major: UInt8, minor: UInt8) {
        self.major = major
        self.minor = minor
    }

    /// Parses `MAJOR.MINOR` (decimal, each 0–255), or returns nil.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let major = UInt8(parts[0]), let minor = UInt8(parts[1]) else { return nil }
        self.init(major: major, minor: minor)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.major, lhs.minor) < (rhs.major, rhs.minor) }

    public var description: String { "\(major).\(minor)" }
}

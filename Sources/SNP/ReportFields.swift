import Hexadecimal

/// Fixed-size byte fields of the attestation report, as distinct types so that a measurement can
/// never be passed where host data is expected (SPEC §2, STYLE: types that prevent misuse).
///
/// Every type has exactly `byteCount` bytes; the failable initialisers are the only way in.
public protocol ReportByteField: Hashable, Sendable, CustomStringConvertible {
    /// The field's size in the report, in bytes.
    static var byteCount: Int { get }
    /// The field's bytes, exactly `byteCount` of them.
    var bytes: [UInt8] { get }
    /// Wraps bytes whose count the caller has already checked.
    init(uncheckedBytes: [UInt8])
}

extension ReportByteField {
    /// Wraps `bytes`, or returns nil if they are not exactly `byteCount` long.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.init(uncheckedBytes: bytes)
    }

    /// Parses hex text (`Hex.decode(input:)`: the rule of every hex flag), or returns nil if it is not hex of exactly
    /// `byteCount` bytes.
    public init?(hex: String) {
        guard let bytes = Hex.decode(input: hex) else { return nil }
        self.init(bytes: bytes)
    }

    /// The field as lower-case hex.
    public var hex: String { Hex.encode(bytes) }

    /// True if every byte is zero (an absent ID block, masked CHIP_ID, unused HOST_DATA).
    public var isZero: Bool { bytes.allSatisfy { $0 == 0 } }

    public var description: String { hex }
}

/// MEASUREMENT: the 48-byte SHA-384 launch digest.
public struct Measurement: ReportByteField {
    public static let byteCount = 48
    public let bytes: [UInt8]
    public init(uncheckedBytes: [UInt8]) { bytes = uncheckedBytes }
}

/// HOST_DATA: 32 bytes the host supplied at launch (twocvm: the manifest digest prefix).
public struct HostData: ReportByteField {
    public static let byteCount = 32
    public let bytes: [UInt8]
    public init(uncheckedBytes: [UInt8]) { bytes = uncheckedBytes }
}

/// REPORT_DATA: 64 bytes the guest supplied when it requested the report.
public struct ReportData: ReportByteField {
    public static let byteCount = 64
    public let bytes: [UInt8]
    public init(uncheckedBytes: [UInt8]) { bytes = uncheckedBytes }
}

/// FAMILY_ID: 16 bytes from the ID block.
public struct FamilyID: ReportByteField {
    public static let byteCount = 16
    public let bytes: [UInt8]
    public init(uncheckedBytes: [UInt8]) { bytes = uncheckedBytes }
}

/// IMAGE_ID: 16 bytes from the ID block.
public struct ImageID: ReportByteField {
    public static let byteCount = 16
    public let bytes: [UInt8]
    public init(uncheckedBytes: [UInt8]) { bytes = uncheckedBytes }
}

/// ID_KEY_DIGEST or AUTHOR_KEY_DIGEST: SHA-384 of a public key in the SNP ABI format.
public struct KeyDigest: ReportByteField {
    public static let byteCount = 48
    public let bytes: [UInt8]
    public init(uncheckedBytes: [UInt8]) { bytes = uncheckedBytes }
}

/// REPORT_ID or REPORT_ID_MA: the 32-byte identifier of a guest (or of its migration agent).
public struct ReportID: ReportByteField {
    public static let byteCount = 32
    public let bytes: [UInt8]
    public init(uncheckedBytes: [UInt8]) { bytes = uncheckedBytes }
}

/// CHIP_ID: 64 bytes identifying the processor, all zero when the host masks it. Turin chips use
/// only the first 8 bytes (the rest is zero).
public struct ChipID: ReportByteField {
    public static let byteCount = 64
    public let bytes: [UInt8]
    public init(uncheckedBytes: [UInt8]) { bytes = uncheckedBytes }
}

/// The report's signer information (offset 0x48; AUTHOR_KEY_EN, MASK_CHIP_KEY, SIGNING_KEY).
public struct SignerInfo: Hashable, Sendable, CustomStringConvertible {
    /// The 32-bit value as read from the report.
    public let raw: UInt32
    /// Which key signed the report.
    public let signingKey: SigningKey

    /// AUTHOR_KEY_EN (bit 0): the ID block was certified by an author key.
    public var authorKeyEnabled: Bool { raw & 1 != 0 }
    /// MASK_CHIP_KEY (bit 1): the host masked the chip key, so the report is not signed.
    public var maskChipKey: Bool { raw & 2 != 0 }

    /// Decodes the field, or returns nil when reserved bits 31:5 are set or SIGNING_KEY is one of
    /// the reserved values 2–6.
    init?(raw: UInt32) {
        guard raw >> 5 == 0, let key = SigningKey(rawValue: UInt8(truncatingIfNeeded: raw >> 2) & 7) else {
            return nil
        }
        self.raw = raw
        self.signingKey = key
    }

    public var description: String {
        "\(signingKey)\(maskChipKey ? ", chip key masked" : "")\(authorKeyEnabled ? ", author key" : "")"
    }
}

/// SIGNING_KEY: which key signed the report.
public enum SigningKey: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// The chip-unique Versioned Chip Endorsement Key.
    case vcek = 0
    /// The Versioned Loaded Endorsement Key of a cloud provider.
    case vlek = 1
    /// No key: the report is unsigned.
    case none = 7

    /// The endorsement key kind, or nil for an unsigned report.
    public var endorsementKeyKind: EndorsementKeyKind? {
        switch self {
        case .vcek: return .vcek
        case .vlek: return .vlek
        case .none: return nil
        }
    }

    public var description: String {
        switch self {
        case .vcek: return "VCEK"
        case .vlek: return "VLEK"
        case .none: return "None"
        }
    }
}

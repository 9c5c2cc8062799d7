/// The AMD EPYC product lines with SEV-SNP. Each has its own AMD root key (ARK), its own signing
/// keys (ASK for VCEKs, ASVK for VLEKs) and, for Turin, its own TCB_VERSION layout.
///
/// Bergamo and Siena (Zen 4c) are Genoa for attestation: AMD's KDS serves their VCEKs under
/// Genoa and they chain to ARK-Genoa.
public enum Product: String, CaseIterable, Sendable, Hashable, Codable, CustomStringConvertible {
    case milan = "Milan"
    case genoa = "Genoa"
    case turin = "Turin"

    public var description: String { rawValue }

    /// Parses a product name as a user types it (`--product`): Milan, Genoa, Bergamo, Siena or
    /// Turin, in any case; nil for anything else.
    public init?(userName: String) {
        switch userName.lowercased() {
        case "milan": self = .milan
        case "genoa", "bergamo", "siena": self = .genoa
        case "turin": self = .turin
        default: return nil
        }
    }

    /// Maps a VCEK/VLEK `productName` extension value (`Milan-B0`, `Genoa`, `Turin`, …) to a
    /// product: the part before the stepping suffix names the product line.
    public init?(certificateProductName name: String) {
        let line = name.split(separator: "-", maxSplits: 1).first.map(String.init) ?? name
        self.init(userName: line)
    }

    /// Maps the CPUID family and model of a version 3+ report to a product, or nil for a processor
    /// that is not a known SEV-SNP product line.
    ///
    /// Family 19h (Zen 3/4): models 00h–0Fh Milan, 10h–1Fh Genoa, A0h–AFh Bergamo/Siena (Genoa).
    /// Family 1Ah (Zen 5): models 00h–1Fh Turin (02h Turin, 11h Turin dense).
    public init?(cpuid: CPUID) {
        switch (cpuid.family, cpuid.model) {
        case (0x19, 0x00...0x0F): self = .milan
        case (0x19, 0x10...0x1F), (0x19, 0xA0...0xAF): self = .genoa
        case (0x1A, 0x00...0x1F): self = .turin
        default: return nil
        }
    }

    /// The subject common name of the product's AMD root key, e.g. `ARK-Milan`.
    public var rootCommonName: String { "ARK-\(rawValue)" }

    /// The subject common name of the key that signs this product's keys of `kind`:
    /// `SEV-Milan` (ASK, signs VCEKs) or `SEV-VLEK-Milan` (ASVK, signs VLEKs).
    public func signingKeyCommonName(for kind: EndorsementKeyKind) -> String {
        switch kind {
        case .vcek: return "SEV-\(rawValue)"
        case .vlek: return "SEV-VLEK-\(rawValue)"
        }
    }
}

/// The CPUID family, model and stepping a version 3+ report carries (CPUID_FAM_ID, CPUID_MOD_ID,
/// CPUID_STEP): the combined extended values, e.g. family 19h model 01h stepping 1 for Milan.
public struct CPUID: Hashable, Sendable {
    public let family: UInt8
    public let model: UInt8
    public let stepping: UInt8

    public init(family: UInt8, model: UInt8, stepping: UInt8) {
        self.family = family
        self.model = model
        self.stepping = stepping
    }

    /// The product line this processor belongs to, if it is a known SEV-SNP product.
    public var product: Product? { Product(cpuid: self) }
}

/// The two kinds of versioned endorsement key (VEK) that sign reports: the chip-unique VCEK, or
/// the VLEK a cloud provider loads (shared by its fleet, certified by AMD's ASVK).
public enum EndorsementKeyKind: String, Sendable, Hashable, Codable, CustomStringConvertible {
    case vcek = "VCEK"
    case vlek = "VLEK"

    public var description: String { rawValue }
}

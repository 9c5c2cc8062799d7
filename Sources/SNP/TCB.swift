import Foundation

/// A TCB_VERSION value: the security version numbers of the firmware components, packed into
/// 8 bytes whose layout depends on the product (SNP ABI, TCB_VERSION structure):
///
/// | byte | Milan, Genoa | Turin |
/// | ---- | ------------ | ----- |
/// | 0    | BOOT_LOADER  | FMC   |
/// | 1    | TEE          | BOOT_LOADER |
/// | 2    | reserved     | TEE   |
/// | 3    | reserved     | SNP   |
/// | 4–5  | reserved     | reserved |
/// | 6    | SNP          | reserved |
/// | 7    | MICROCODE    | MICROCODE |
///
/// The raw value is kept as read, so comparisons of whole values see every bit.
public struct TCB: Hashable, Sendable, CustomStringConvertible {
    /// The 8 bytes as a little-endian integer (printed as 16 hex digits, most significant first).
    public let raw: UInt64
    /// Which layout the components are read with.
    public let layout: TCBLayout

    public init(raw: UInt64, layout: TCBLayout) {
        self.raw = raw
        self.layout = layout
    }

    /// Packs `parts` in `layout` (reserved bytes zero). The FMC part is used only by Turin.
    public init(parts: TCBParts, layout: TCBLayout) {
        var value: UInt64 = 0
        switch layout {
        case .milanGenoa:
            value |= UInt64(parts.bootloader)
            value |= UInt64(parts.tee) << 8
            value |= UInt64(parts.snp) << 48
        case .turin:
            value |= UInt64(parts.fmc ?? 0)
            value |= UInt64(parts.bootloader) << 8
            value |= UInt64(parts.tee) << 16
            value |= UInt64(parts.snp) << 24
        }
        value |= UInt64(parts.microcode) << 56
        self.init(raw: value, layout: layout)
    }

    /// The FMC (firmware mask ROM) SVN: Turin only.
    public var fmc: UInt8? { layout == .turin ? byte(0) : nil }
    /// The PSP bootloader SVN.
    public var bootloader: UInt8 { layout == .turin ? byte(1) : byte(0) }
    /// The PSP operating system (TEE) SVN.
    public var tee: UInt8 { layout == .turin ? byte(2) : byte(1) }
    /// The SNP firmware SVN.
    public var snp: UInt8 { layout == .turin ? byte(3) : byte(6) }
    /// The lowest current patch level of all cores.
    public var microcode: UInt8 { byte(7) }

    /// The components, for comparisons.
    public var parts: TCBParts {
        TCBParts(fmc: fmc, bootloader: bootloader, tee: tee, snp: snp, microcode: microcode)
    }

    /// The raw value as 16 hex digits, most significant byte first (`7308000000000003`).
    public var rawHex: String {
        let digits = String(raw, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    public var description: String { "\(parts) (0x\(rawHex))" }

    private func byte(_ index: Int) -> UInt8 { UInt8(truncatingIfNeeded: raw >> (8 * UInt64(index))) }
}

/// Which TCB_VERSION layout a product uses.
public enum TCBLayout: String, Sendable, Hashable {
    /// Milan and Genoa (and Bergamo/Siena): BOOT_LOADER, TEE, reserved×4, SNP, MICROCODE.
    case milanGenoa
    /// Turin: FMC, BOOT_LOADER, TEE, SNP, reserved×3, MICROCODE.
    case turin

    public init(product: Product) {
        self = product == .turin ? .turin : .milanGenoa
    }
}

/// The components of a TCB, independent of layout: what `--min-tcb` names and what the VCEK
/// extensions (blSPL, teeSPL, snpSPL, ucodeSPL, fmcSPL) certify.
public struct TCBParts: Hashable, Sendable, CustomStringConvertible {
    public var fmc: UInt8?
    public var bootloader: UInt8
    public var tee: UInt8
    public var snp: UInt8
    public var microcode: UInt8

    public init(fmc: UInt8? = nil, bootloader: UInt8, tee: UInt8, snp: UInt8, microcode: UInt8) {
        self.fmc = fmc
        self.bootloader = bootloader
        self.tee = tee
        self.snp = snp
        self.microcode = microcode
    }

    /// The components of `self` that are below those of `other` (a missing FMC counts as 0),
    /// named as on the command line (`bl`, `tee`, `snp`, `ucode`, `fmc`). Empty if `self` is
    /// component-wise at least `other`.
    public func componentsBelow(_ other: TCBParts) -> [String] {
        var below: [String] = []
        if (fmc ?? 0) < (other.fmc ?? 0) { below.append("fmc") }
        if bootloader < other.bootloader { below.append("bl") }
        if tee < other.tee { below.append("tee") }
        if snp < other.snp { below.append("snp") }
        if microcode < other.microcode { below.append("ucode") }
        return below
    }

    public var description: String {
        let fmcText = fmc.map { "fmc=\($0)," } ?? ""
        return "\(fmcText)bl=\(bootloader),tee=\(tee),snp=\(snp),ucode=\(microcode)"
    }
}

extension TCBParts {
    /// Parses the `--min-tcb` syntax, `bl=N,tee=N,snp=N,ucode=N[,fmc=N]`, the one parser of it
    /// (`verify`, `report verify` and `launch-measure --reference-out` take it alike): names in
    /// any order and case, spaces around them ignored, each N 0...255; an omitted component is 0
    /// (an omitted `fmc`, absent).
    public init(parsing text: String) throws(TCBSyntaxError) {
        self.init(bootloader: 0, tee: 0, snp: 0, microcode: 0)
        var seen: Set<String> = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = pair.first.map { String($0).trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            guard pair.count == 2, let value = UInt8(pair[1].trimmingCharacters(in: .whitespaces)) else {
                throw .notNameValue(String(item))
            }
            guard seen.insert(name).inserted else { throw .givenTwice(name) }
            switch name {
            case "bl": bootloader = value
            case "tee": tee = value
            case "snp": snp = value
            case "ucode": microcode = value
            case "fmc": fmc = value
            default: throw .unknownComponent(name)
            }
        }
    }
}

/// A `--min-tcb` value that does not parse, naming the part at fault.
public enum TCBSyntaxError: Error, Equatable, CustomStringConvertible {
    /// A part that is not `NAME=N` with N 0...255.
    case notNameValue(String)
    case unknownComponent(String)
    case givenTwice(String)

    public var description: String {
        switch self {
        case let .notNameValue(item): return "--min-tcb: \"\(item)\" is not NAME=N with N 0-255 (names: bl, tee, snp, ucode, fmc)"
        case let .unknownComponent(name): return "--min-tcb: unknown component \"\(name)\" (names: bl, tee, snp, ucode, fmc)"
        case let .givenTwice(name): return "--min-tcb: \(name) given twice"
        }
    }
}

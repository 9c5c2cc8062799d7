import Crypto

/// A versioned endorsement key certificate (VCEK or VLEK) with AMD's extensions decoded and its
/// P-384 public key ready for report signatures (VCEK/KDS interface specification, §3).
public struct EndorsementKey: Sendable, Hashable {
    /// The certificate itself.
    public let certificate: Certificate
    /// VCEK (subject `SEV-VCEK`) or VLEK (subject `SEV-VLEK`); nil for any other subject.
    public let kind: EndorsementKeyKind?
    /// AMD's extensions (TCB SPLs, hwID, productName, …).
    public let extensions: AMDExtensions
    /// The P-384 key that signs reports; nil if the certificate holds another kind of key.
    let publicKey: P384.Signing.PublicKey?

    /// Decodes the AMD extensions and the public key of `certificate`.
    public init(_ certificate: Certificate) throws(CertificateError) {
        self.certificate = certificate
        kind = Self.kindOf(certificate)
        do {
            extensions = try AMDExtensions(certificate.extensionValues())
        } catch {
            throw .malformed(source: certificate.subjectCommonName, reason: error.description)
        }
        publicKey = certificate.subjectPublicKeyInfo().flatMap { try? P384.Signing.PublicKey(derRepresentation: $0) }
    }

    /// The product named by the productName extension, else by the issuer (`SEV-Milan`,
    /// `SEV-VLEK-Genoa`, …).
    public var product: Product? {
        if let name = extensions.productName, let product = Product(certificateProductName: name) {
            return product
        }
        let issuer = certificate.issuerCommonName
        for product in Product.allCases
        where issuer == product.signingKeyCommonName(for: .vcek) || issuer == product.signingKeyCommonName(for: .vlek) {
            return product
        }
        return nil
    }

    public static func == (lhs: EndorsementKey, rhs: EndorsementKey) -> Bool { lhs.certificate == rhs.certificate }
    public func hash(into hasher: inout Hasher) { hasher.combine(certificate) }
}

/// AMD's X.509 extensions on VCEK and VLEK certificates (arc 1.3.6.1.4.1.3704.1).
public struct AMDExtensions: Sendable, Hashable {
    /// `.1` structVersion (0 for Milan/Genoa, 1 for Turin).
    public let structVersion: UInt8?
    /// `.2` productName (`Milan-B0`, `Genoa`, `Turin`).
    public let productName: String?
    /// `.3.1` blSPL, `.3.2` teeSPL, `.3.3` snpSPL, `.3.8` ucodeSPL, `.3.9` fmcSPL (Turin).
    public let bootloaderSPL: UInt8?
    public let teeSPL: UInt8?
    public let snpSPL: UInt8?
    public let microcodeSPL: UInt8?
    public let fmcSPL: UInt8?
    /// `.4` hwID: the chip's identifier, 64 bytes (Milan, Genoa) or 8 bytes (Turin); absent
    /// from VLEKs. Accepted raw (as AMD issues it) or wrapped in a DER OCTET STRING.
    public let hardwareID: [UInt8]?
    /// `.5` cspID: the cloud provider a VLEK was issued to.
    public let cspID: String?

    static let arc = "1.3.6.1.4.1.3704.1."

    init(_ values: [String: [UInt8]]) throws(DERError) {
        func value(_ suffix: String) -> [UInt8]? { values[Self.arc + suffix] }
        func spl(_ suffix: String) throws(DERError) -> UInt8? {
            guard let bytes = value(suffix) else { return nil }
            guard let number = try DERValue.smallUnsigned(bytes) else {
                throw .invalidValue("extension \(Self.arc)\(suffix) is not an integer 0–255")
            }
            return number
        }
        structVersion = try spl("1")
        productName = try value("2").flatMap { bytes throws(DERError) in try DERValue.string(bytes) }
        bootloaderSPL = try spl("3.1")
        teeSPL = try spl("3.2")
        snpSPL = try spl("3.3")
        microcodeSPL = try spl("3.8")
        fmcSPL = try spl("3.9")
        hardwareID = value("4").map(Self.unwrapHardwareID)
        cspID = try value("5").flatMap { bytes throws(DERError) in try DERValue.string(bytes) }
    }

    /// The certified TCB in `layout`, or the names of the missing SPL extensions.
    public func tcb(layout: TCBLayout) -> Result<TCB, MissingExtensions> {
        var missing: [String] = []
        if bootloaderSPL == nil { missing.append("blSPL (.3.1)") }
        if teeSPL == nil { missing.append("teeSPL (.3.2)") }
        if snpSPL == nil { missing.append("snpSPL (.3.3)") }
        if microcodeSPL == nil { missing.append("ucodeSPL (.3.8)") }
        if layout == .turin, fmcSPL == nil { missing.append("fmcSPL (.3.9)") }
        guard missing.isEmpty, let bl = bootloaderSPL, let tee = teeSPL, let snp = snpSPL, let ucode = microcodeSPL else {
            return .failure(MissingExtensions(names: missing))
        }
        let parts = TCBParts(fmc: layout == .turin ? fmcSPL : nil, bootloader: bl, tee: tee, snp: snp, microcode: ucode)
        return .success(TCB(parts: parts, layout: layout))
    }

    /// hwID is 64 (or, on Turin, 8) raw bytes; some tools wrap it in an OCTET STRING.
    private static func unwrapHardwareID(_ bytes: [UInt8]) -> [UInt8] {
        if (bytes.count == 66 && bytes[0] == 0x04 && bytes[1] == 0x40) || (bytes.count == 10 && bytes[0] == 0x04 && bytes[1] == 0x08) {
            return Array(bytes.dropFirst(2))
        }
        return bytes
    }
}

/// The TCB SPL extensions a certificate lacks.
public struct MissingExtensions: Error, Sendable, Hashable {
    public let names: [String]
}

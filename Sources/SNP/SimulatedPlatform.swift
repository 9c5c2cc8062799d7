import Crypto
import Foundation
import Hexadecimal

/// A simulated SEV-SNP platform for development and CI (`twocvm sim launch`): its own AMD-like
/// key hierarchy (RSA-PSS ARK → ASK/ASVK → P-384 VCEK with AMD's extensions), one launched VM
/// (measurement, HOST_DATA, policy, TCB, CHIP_ID) and reports in the real binary format signed
/// by its VCEK. Verifiers refuse its evidence unless they are told to trust its ARK.
public struct SimulatedPlatform: GuestDevice {
    /// What the simulated VM was launched with.
    public struct Launch: Codable, Sendable, Equatable {
        public var product: Product
        public var measurement: String
        public var hostData: String
        public var policy: UInt64
        public var tcb: UInt64
        public var chipID: String
        public var firmware: String

        public init(product: Product, measurement: Measurement, hostData: HostData, policy: UInt64, tcb: UInt64,
                    chipID: [UInt8], firmware: FirmwareVersion) {
            self.product = product
            self.measurement = measurement.hex
            self.hostData = hostData.hex
            self.policy = policy
            self.tcb = tcb
            self.chipID = Hex.encode(chipID)
            self.firmware = "\(firmware.major).\(firmware.minor).\(firmware.build)"
        }
    }

    /// File names of the persisted platform.
    public enum File {
        public static let ark = "ark.pem", ask = "ask.pem", asvk = "asvk.pem", vcek = "vcek.der"
        public static let vcekKey = "vcek.key", launch = "launch.json"
        /// Private key files (written 0600).
        public static let secret: Set<String> = [vcekKey, "ark.key", "ask.key"]
    }

    public let launch: Launch
    public let arkPEM: [UInt8]
    public let askPEM: [UInt8]
    public let asvkPEM: [UInt8]
    public let vcekDER: [UInt8]
    let vcekKey: P384.Signing.PrivateKey

    public var name: String { "simulated SEV-SNP (\(launch.product))" }

    /// A new platform and VM: fresh keys, and the launch values given.
    public static func create(measurement: Measurement, hostData: HostData, product: Product = .milan,
                              policy: UInt64 = (1 << 17) | (1 << 16), now: Date = Date()) throws(SimulatorError) -> SimulatedPlatform {
        guard product == .milan else { throw .unsupported("only a simulated Milan platform is implemented") }
        let tcb = TCB(parts: TCBParts(fmc: nil, bootloader: 3, tee: 0, snp: 8, microcode: 115), layout: .milanGenoa)
        var chipID = [UInt8](repeating: 0, count: 64)
        for i in chipID.indices { chipID[i] = UInt8.random(in: 0...255) }
        let launch = Launch(product: product, measurement: measurement, hostData: hostData, policy: policy,
                            tcb: tcb.raw, chipID: chipID, firmware: FirmwareVersion(major: 1, minor: 55, build: 21))
        let ca = SimulatedCertificateAuthority.self
        let arkKey = try ca.makeRSAKey(), askKey = try ca.makeRSAKey(), asvkKey = try ca.makeRSAKey()
        let start = now.addingTimeInterval(-86_400)
        let ark = try ca.issue(subjectCommonName: product.rootCommonName, subjectPublicKeyPEM: arkKey,
                               issuerCommonName: product.rootCommonName, issuerKeyPEM: arkKey, serial: 0x10000,
                               isCA: true, validFrom: start, validDays: 25 * 365)
        let ask = try ca.issue(subjectCommonName: product.signingKeyCommonName(for: .vcek), subjectPublicKeyPEM: askKey,
                               issuerCommonName: product.rootCommonName, issuerKeyPEM: arkKey, serial: 0x10001,
                               isCA: true, validFrom: start, validDays: 25 * 365)
        let asvk = try ca.issue(subjectCommonName: product.signingKeyCommonName(for: .vlek), subjectPublicKeyPEM: asvkKey,
                                issuerCommonName: product.rootCommonName, issuerKeyPEM: arkKey, serial: 0x10002,
                                isCA: true, validFrom: start, validDays: 25 * 365)
        let vcekKey = P384.Signing.PrivateKey()
        let arc = "1.3.6.1.4.1.3704.1."
        let vcek = try ca.issue(
            subjectCommonName: "SEV-VCEK", subjectPublicKeyPEM: Array(vcekKey.publicKey.pemRepresentation.utf8),
            issuerCommonName: product.signingKeyCommonName(for: .vcek), issuerKeyPEM: askKey, serial: 0,
            isCA: false,
            extensions: [
                (arc + "1", ca.derInteger(1)), (arc + "2", ca.derIA5String("Milan-B0")),
                (arc + "3.1", ca.derInteger(tcb.bootloader)), (arc + "3.2", ca.derInteger(tcb.tee)),
                (arc + "3.3", ca.derInteger(tcb.snp)), (arc + "3.4", ca.derInteger(0)), (arc + "3.5", ca.derInteger(0)),
                (arc + "3.6", ca.derInteger(0)), (arc + "3.7", ca.derInteger(0)), (arc + "3.8", ca.derInteger(tcb.microcode)),
                (arc + "4", chipID),
            ],
            validFrom: start, validDays: 7 * 365)
        return SimulatedPlatform(launch: launch, arkPEM: Certificate.pem(der: ark), askPEM: Certificate.pem(der: ask), asvkPEM: Certificate.pem(der: asvk),
                                 vcekDER: vcek, vcekKey: vcekKey)
    }

    /// The platform's files, to persist (private keys are listed in `File.secret`).
    public var files: [String: [UInt8]] {
        var launchJSON: [UInt8] = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        if let data = try? encoder.encode(launch) { launchJSON = Array(data) }
        return [File.ark: arkPEM, File.ask: askPEM, File.asvk: asvkPEM, File.vcek: vcekDER,
                File.vcekKey: Array(vcekKey.pemRepresentation.utf8), File.launch: launchJSON]
    }

    /// Reloads a platform from its files.
    public init(files: [String: [UInt8]]) throws(SimulatorError) {
        guard let ark = files[File.ark], let ask = files[File.ask], let asvk = files[File.asvk],
              let vcek = files[File.vcek], let key = files[File.vcekKey], let launchJSON = files[File.launch] else {
            throw .incomplete("missing one of \(File.ark), \(File.ask), \(File.asvk), \(File.vcek), \(File.vcekKey), \(File.launch)")
        }
        guard let launch = try? JSONDecoder().decode(Launch.self, from: Data(launchJSON)),
              let vcekKey = try? P384.Signing.PrivateKey(pemRepresentation: String(decoding: key, as: UTF8.self)) else {
            throw .incomplete("\(File.launch) or \(File.vcekKey) does not parse")
        }
        self.init(launch: launch, arkPEM: ark, askPEM: ask, asvkPEM: asvk, vcekDER: vcek, vcekKey: vcekKey)
    }

    init(launch: Launch, arkPEM: [UInt8], askPEM: [UInt8], asvkPEM: [UInt8], vcekDER: [UInt8], vcekKey: P384.Signing.PrivateKey) {
        self.launch = launch
        self.arkPEM = arkPEM
        self.askPEM = askPEM
        self.asvkPEM = asvkPEM
        self.vcekDER = vcekDER
        self.vcekKey = vcekKey
    }

    /// A signed version 3 report of this VM, with the certificates a host would supply.
    public func report(reportData: [UInt8], vmpl: UInt32?) throws(GuestDeviceError) -> GuestReport {
        guard reportData.count == 64 else { throw .badRequest("report data must be 64 bytes") }
        var contents = ReportContents()
        contents.policy = launch.policy
        contents.vmpl = vmpl ?? 0
        contents.currentTCB = launch.tcb
        contents.reportedTCB = launch.tcb
        contents.committedTCB = launch.tcb
        contents.launchTCB = launch.tcb
        contents.reportData = reportData
        contents.measurement = Hex.decode(launch.measurement) ?? contents.measurement
        contents.hostData = Hex.decode(launch.hostData) ?? contents.hostData
        contents.chipID = Hex.decode(launch.chipID) ?? contents.chipID
        contents.reportID = Array(SHA256.hash(data: vcekDER))
        let unsigned = contents.unsignedBytes()
        guard let signature = try? vcekKey.signature(for: unsigned[ReportABI.signedRange]) else {
            throw .malformedResponse("simulated signing failed")
        }
        let raw = Array(signature.rawRepresentation)
        let table = CertificateTable(entries: [
            .init(kind: .vcek, bytes: vcekDER), .init(kind: .ask, bytes: Self.der(askPEM)), .init(kind: .ark, bytes: Self.der(arkPEM)),
        ])
        return GuestReport(report: contents.signedBytes(r: Array(raw.prefix(48)), s: Array(raw.suffix(48))), certificates: table)
    }

    /// Trust anchors holding this platform's root (certificates as PEM or DER), for a verifier
    /// told to trust it.
    public static func trustAnchors(ark arkBytes: [UInt8], ask askBytes: [UInt8], asvk asvkBytes: [UInt8],
                                    product: Product = .milan) throws(SimulatorError) -> TrustAnchors {
        guard let ark = try? Certificate.load(arkBytes, source: "simulated ARK").first,
              let ask = try? Certificate.load(askBytes, source: "simulated ASK").first,
              let asvk = try? Certificate.load(asvkBytes, source: "simulated ASVK").first,
              let roots = TrustAnchors.checkedRoots(ark: ark, ask: ask, asvk: asvk, pinnedFingerprint: ark.fingerprintHex) else {
            throw .incomplete("the simulated ARK/ASK/ASVK do not form a valid root set")
        }
        return TrustAnchors(roots: [product: roots])
    }

    static func der(_ pem: [UInt8]) -> [UInt8] {
        (try? Certificate.load(pem, source: "simulated").first?.der) ?? []
    }
}

/// Why the simulated platform could not be made or used.
public enum SimulatorError: Error, Equatable, CustomStringConvertible {
    case openssl(String)
    case incomplete(String)
    case unsupported(String)

    public var description: String {
        switch self {
        case let .openssl(step): return "simulated platform: OpenSSL failed at \(step)"
        case let .incomplete(reason): return "simulated platform state: \(reason)"
        case let .unsupported(reason): return "simulated platform: \(reason)"
        }
    }
}

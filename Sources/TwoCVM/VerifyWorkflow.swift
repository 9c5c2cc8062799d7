import Evidence
import Foundation
import Manifest
import SNP

/// `twocvm verify`: checks an evidence file offline against the manifest, the reference values
/// and the nonce (SPEC §6). Every check is reported by name; later checks still run when an
/// earlier one fails, so a bad evidence file shows everything it breaks.
public enum VerifyWorkflow {
    /// The name of one check: SNP's report checks keep their typed names; the others are the
    /// evidence's own. Printed and encoded as the stable text Docs/verification.md lists.
    public enum CheckName: Hashable, Sendable, Codable, CustomStringConvertible {
        case platform, manifest, referenceValues, referenceMeasurement, referencePolicy
        case manifestLock, reportData, nonce, evidenceSignature
        /// A check of the SNP report itself (chain, signature, policy, TCB, …).
        case report(SNP.CheckName)

        public var description: String {
            switch self {
            case .platform: return "platform"
            case .manifest: return "manifest"
            case .referenceValues: return "reference-values"
            case .referenceMeasurement: return "reference-measurement"
            case .referencePolicy: return "reference-policy"
            case .manifestLock: return "manifest-lock"
            case .reportData: return "report-data"
            case .nonce: return "nonce"
            case .evidenceSignature: return "evidence-signature"
            case let .report(name): return name.rawValue
            }
        }

        private static let own: [CheckName] = [.platform, .manifest, .referenceValues, .referenceMeasurement, .referencePolicy,
                                               .manifestLock, .reportData, .nonce, .evidenceSignature]

        /// The name written `text`; nil if no check is named so.
        public init?(_ text: String) {
            if let name = Self.own.first(where: { $0.description == text }) {
                self = name
            } else if let name = SNP.CheckName(rawValue: text) {
                self = .report(name)
            } else {
                return nil
            }
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let name = CheckName(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "no check is named \(text)")
            }
            self = name
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(description)
        }
    }

    /// One named check.
    public struct Check: Sendable, Codable, Equatable {
        public let name: CheckName
        public let ok: Bool
        public let detail: String
    }

    /// The verdict.
    public struct Verdict: Sendable {
        public let checks: [Check]
        public let platform: EvidenceBundle.Platform
        public let lock: EvidenceBundle.Lock
        public let report: AttestationReport?
        public let runtimeData: RuntimeData?
        /// The manifest digest the checks were made against: the caller's, else the one the
        /// evidence carries.
        public let manifest: ManifestDigest
        /// What was not checked because the caller gave no manifest, reference values or nonce
        /// (`open` checks evidence it verified earlier without them).
        public let notChecked: [CheckName]
        public var ok: Bool { !checks.isEmpty && checks.allSatisfy(\.ok) }
    }

    /// Verifies `evidencePath`. Throws only when an input cannot be read at all.
    public static func verify(evidencePath: String, manifestPath: String, referencePath: String, nonce: [UInt8],
                              trustRootPath: String?, options: ValidationOptions) throws(VerifyInputError) -> Verdict {
        let digest: ManifestDigest
        do { digest = try ManifestWorkflow.load(manifestPath).digest } catch { throw .manifest(error) }
        return try verify(evidencePath: evidencePath, digest: digest, referencePath: referencePath, nonce: nonce,
                          trustRootPath: trustRootPath, options: options)
    }

    /// Verifies `evidencePath` with whichever of the manifest digest, reference values and nonce
    /// the caller has (see the bundle-level `verify` for what a nil leaves out).
    public static func verify(evidencePath: String, digest: ManifestDigest?, referencePath: String?, nonce: [UInt8]?,
                              trustRootPath: String?, options: ValidationOptions) throws(VerifyInputError) -> Verdict {
        let bytes: [UInt8], trustRoot: [UInt8]?
        do {
            bytes = try FileIO.read(evidencePath, limit: EvidenceBundle.maxBytes)
            trustRoot = try trustRootPath.map { path throws(FileIOError) in try FileIO.read(path, limit: 1 << 20) }
        } catch {
            throw .file(error)
        }
        let bundle: EvidenceBundle
        do { bundle = try EvidenceBundle.decode(bytes) } catch { throw .evidence(path: evidencePath, error) }
        let reference: ReferenceValues?
        do {
            reference = try referencePath.map { path throws(ReferenceValuesWorkflowError) in try ReferenceValuesWorkflow.load(path) }
        } catch {
            throw .reference(error)
        }
        return verify(bundle, digest: digest, reference: reference, nonce: nonce, trustRoot: trustRoot, options: options)
    }

    /// Verifies a decoded bundle (the file-free core, used by `seal` and `open` as well). A nil
    /// `digest`, `reference` or `nonce` leaves out the checks that need it (listed in
    /// `notChecked`); the manifest is then the one the evidence carries. The checks run in
    /// this order, each group in its own function below.
    public static func verify(_ bundle: EvidenceBundle, digest pinnedDigest: ManifestDigest?, reference: ReferenceValues?,
                              nonce: [UInt8]?, trustRoot: [UInt8]?, options: ValidationOptions) -> Verdict {
        var list = CheckList()
        let anchors = checkPlatform(bundle, trustRoot: trustRoot, into: &list)
        let digest = checkManifest(bundle, pinned: pinnedDigest, reference: reference, into: &list)
        let report = checkReport(bundle, anchors: anchors, reference: reference, options: options, into: &list)
        if let report {
            if let reference { checkLaunchValues(report, reference: reference, into: &list) }
            checkManifestLock(report, lock: bundle.lock, digest: digest, into: &list)
        }
        let runtime = checkRuntimeData(bundle, report: report, digest: digest, nonce: nonce, into: &list)
        return Verdict(checks: list.checks, platform: bundle.platform, lock: bundle.lock, report: report, runtimeData: runtime,
                       manifest: digest, notChecked: list.notChecked)
    }

    /// The checks so far, and what was left out for want of an input.
    private struct CheckList {
        var checks: [Check] = []
        var notChecked: [CheckName] = []

        mutating func add(_ name: CheckName, _ ok: Bool, _ detail: String) { checks.append(Check(name: name, ok: ok, detail: detail)) }
    }

    /// `platform`: which roots the report chain must end in: AMD's, or a simulated platform's
    /// root the caller named explicitly.
    private static func checkPlatform(_ bundle: EvidenceBundle, trustRoot: [UInt8]?, into list: inout CheckList) -> TrustAnchors {
        switch (bundle.platform, trustRoot) {
        case (.snp, _):
            list.add(.platform, true, "AMD SEV-SNP hardware evidence; AMD's embedded roots")
        case (.simulated, nil):
            list.add(.platform, false, "SIMULATED evidence: refused unless --trust-root names the simulated ARK")
        case let (.simulated, root?):
            if let ask = bundle.certificate("ask"), let simulated = try? SimulatedPlatform.trustAnchors(ark: root, ask: ask, asvk: ask) {
                list.add(.platform, true, "SIMULATED evidence, trusted only because --trust-root names its ARK")
                return simulated
            }
            list.add(.platform, false, "SIMULATED evidence, but --trust-root and the evidence's ASK do not form a root set")
        }
        return .amd
    }

    /// `manifest`, `reference-values`: the manifest the evidence carries is the one the caller
    /// holds, and the reference values were made for it. Returns the digest the later checks use.
    private static func checkManifest(_ bundle: EvidenceBundle, pinned: ManifestDigest?, reference: ReferenceValues?,
                                      into list: inout CheckList) -> ManifestDigest {
        let carried = ManifestDigest(of: bundle.manifestCBOR)
        let digest = pinned ?? carried
        if pinned != nil {
            list.add(.manifest, carried == digest, carried == digest ? "evidence carries manifest \(digest)"
                                                                         : "evidence carries manifest \(carried), not \(digest)")
        } else {
            list.notChecked.append(.manifest)
        }
        if let reference {
            let matches = reference.manifestDigest == digest.hexDigest
            list.add(.referenceValues, matches, matches ? "reference values are for this manifest"
                : "reference values were made for manifest \(reference.manifestDigest)")
        } else {
            list.notChecked += [.referenceValues, .referenceMeasurement, .referencePolicy]
        }
        return digest
    }

    /// The SNP report: chain, signature and policy checks of SPEC §6 (their names are SNP's).
    /// Returns the report when it parses, even if a check failed.
    private static func checkReport(_ bundle: EvidenceBundle, anchors: TrustAnchors, reference: ReferenceValues?,
                                    options baseOptions: ValidationOptions, into list: inout CheckList) -> AttestationReport? {
        var options = baseOptions
        if options.minimumTCB == nil, let minimum = reference?.minimumTCB {
            options.minimumTCB = minimum.parts
        }
        guard let endorsement = bundle.certificate("vcek") ?? bundle.certificate("vlek") else {
            list.add(.report(.chain), false, "the evidence holds no VCEK or VLEK certificate")
            return try? AttestationReport(bytes: bundle.report)
        }
        let chain = [bundle.certificate("ask"), bundle.certificate("ark")].compactMap { $0 }.flatMap { Certificate.pem(der: $0) }
        let files = EndorsementFiles(endorsementKey: endorsement, endorsementKeySource: "evidence VCEK/VLEK",
                                     chain: chain.isEmpty ? nil : chain, chainSource: "evidence certificates")
        do {
            let verification = try ReportVerifier(anchors: anchors, cache: nil).verify(reportInput: bundle.report, files: files,
                                                                                       options: options)
            for check in verification.checks { list.add(.report(check.name), check.ok, check.detail) }
            return verification.report ?? (try? AttestationReport(bytes: bundle.report))
        } catch {
            list.add(.report(.reportParses), false, "\(error)")
            return try? AttestationReport(bytes: bundle.report)
        }
    }

    /// `reference-measurement`, `reference-policy`: the launch values the reference accepts.
    private static func checkLaunchValues(_ report: AttestationReport, reference: ReferenceValues, into list: inout CheckList) {
        let accepted = reference.measurements.contains { $0.measurement.bytes == report.measurement.bytes }
        list.add(.referenceMeasurement, accepted, accepted ? "MEASUREMENT \(report.measurement.hex) is a reference value"
            : "MEASUREMENT \(report.measurement.hex) is not among the \(reference.measurements.count) reference values")
        let policyOK = report.policy.raw == reference.guestPolicy
        list.add(.referencePolicy, policyOK, "POLICY 0x\(String(report.policy.raw, radix: 16))"
            + (policyOK ? " as referenced" : ", reference says 0x\(String(reference.guestPolicy, radix: 16))"))
    }

    /// `manifest-lock`: HOST_DATA is the manifest digest's prefix (launch lock), or zero under
    /// the runtime lock.
    private static func checkManifestLock(_ report: AttestationReport, lock: EvidenceBundle.Lock, digest: ManifestDigest,
                                          into list: inout CheckList) {
        switch lock {
        case .launch:
            let ok = report.hostData.bytes == digest.hostData
            list.add(.manifestLock, ok, ok ? "launch lock: HOST_DATA \(report.hostData.hex) is the manifest digest prefix"
                                             : "HOST_DATA \(report.hostData.hex) is not this manifest's \(Hex.encode(digest.hostData))")
        case .runtime:
            let ok = report.hostData.isZero
            list.add(.manifestLock, ok, ok ? "runtime lock (weaker): HOST_DATA is zero; the VM's create-once lock file holds the manifest"
                                             : "evidence claims a runtime lock but HOST_DATA is \(report.hostData.hex)")
        }
    }

    /// `report-data`, `nonce`, `evidence-signature`: REPORT_DATA binds the manifest, the nonce
    /// and the two TEE keys, and the TEE signing key signed the whole evidence file.
    private static func checkRuntimeData(_ bundle: EvidenceBundle, report: AttestationReport?, digest: ManifestDigest,
                                         nonce: [UInt8]?, into list: inout CheckList) -> RuntimeData? {
        let parsed: RuntimeData
        do {
            parsed = try RuntimeData.parse(canonicalBytes: bundle.runtimeData)
        } catch {
            list.add(.reportData, false, "\(error)")
            list.add(.evidenceSignature, false, "no TEE signing key: the runtime data does not parse")
            return nil
        }
        let bound = report.map { $0.reportData.bytes == parsed.reportData } ?? false
        let forManifest = parsed.manifest == digest
        list.add(.reportData, bound && forManifest, bound && forManifest
            ? "REPORT_DATA = SHA-384(JCS(runtime data)) ‖ 0¹⁶ binds the manifest and both TEE keys"
            : (bound ? "runtime data names manifest \(parsed.manifest)" : "REPORT_DATA does not match the runtime data"))
        if let nonce {
            let fresh = parsed.nonce == nonce
            list.add(.nonce, fresh, fresh ? "nonce \(Hex.encode(nonce)) is bound" : "evidence was made for nonce \(Hex.encode(parsed.nonce))")
        } else {
            list.notChecked.append(.nonce)
        }
        let signed = bundle.isSigned(by: parsed.teeSigningKey)
        list.add(.evidenceSignature, signed, signed ? "the TEE signing key bound in REPORT_DATA signed the whole evidence file"
                                                      : "the evidence file is not signed by the TEE signing key it binds")
        return parsed
    }
}

/// Why `verify` (and `seal`, `open`, `receipt verify`, which verify first) could not check the
/// evidence at all (exit 2, or 3 for a file that cannot be written). A check that fails is a
/// verdict, not an error.
public enum VerifyInputError: TwoCVMError {
    case manifest(ManifestWorkflowError)
    case file(FileIOError)
    case evidence(path: String, EvidenceError)
    case reference(ReferenceValuesWorkflowError)

    public var exitStatus: ExitStatus {
        switch self {
        case let .manifest(error): return error.exitStatus
        case let .file(error): return error.exitStatus
        case .evidence: return .badInput
        case let .reference(error): return error.exitStatus
        }
    }

    public var description: String {
        switch self {
        case let .manifest(error): return error.description
        case let .file(error): return error.description
        case let .evidence(path, error): return "\(path): \(error)"
        case let .reference(error): return error.description
        }
    }
}

import Crypto
import Evidence
import Foundation
import Manifest
import SNP

/// `twocvm attest`: inside the CVM, binds the manifest, the verifier's nonce and the TEE keys
/// into a report and writes the evidence file (SPEC §4, §5).
public enum AttestWorkflow {
    /// Where reports come from.
    public enum Platform: String, Sendable, CaseIterable {
        /// The real guest device if there is one, else the simulated VM in the state directory.
        case auto
        case snp
        case simulated
    }

    /// What `attest` produced.
    public struct Outcome: Sendable {
        public let bundle: EvidenceBundle
        public let digest: ManifestDigest
        public let deviceName: String
    }

    /// Requests a report for `manifestPath` and `nonce`, checks the manifest lock, and writes
    /// the evidence to `output` atomically.
    public static func attest(manifestPath: String, nonce: [UInt8], output: String, platform: Platform,
                              statePath: String) throws(AttestError) -> Outcome {
        let loaded: ManifestWorkflow.CleanManifest
        do { loaded = try ManifestWorkflow.loadClean(manifestPath) } catch { throw .manifest(error) }
        let digest = loaded.digest
        let state = StateDirectory(statePath)
        let (device, kind) = try platformDevice(platform, statePath: statePath)
        let keys: (hpke: P384.KeyAgreement.PrivateKey, signing: P384.Signing.PrivateKey)
        do { keys = try state.teeKeys() } catch { throw .state(error) }
        let runtime: RuntimeData
        do {
            runtime = try RuntimeData(manifest: digest, nonce: nonce, teePublicKey: keys.hpke.publicKey,
                                      teeSigningKey: keys.signing.publicKey)
        } catch {
            throw .runtimeData(error)
        }
        let guest: GuestReport
        do { guest = try device.report(reportData: runtime.reportData, vmpl: nil) } catch { throw .platform(.device(error)) }
        let report: AttestationReport
        do { report = try AttestationReport(bytes: guest.report) } catch { throw .report(error) }
        let lock: EvidenceBundle.Lock
        do { lock = try VMLock.take(report, digest: digest, state: state) } catch { throw .state(error) }
        let certificates = guest.certificates.entries.map {
            EvidenceBundle.Certificate(kind: $0.kind?.rawValue ?? Hex.encode($0.guid), der: $0.bytes)
        }
        let bundle: EvidenceBundle
        do {
            bundle = try EvidenceBundle(platform: kind, tool: "twocvm \(ToolVersion.current)", report: guest.report,
                                        certificates: certificates, manifestCBOR: loaded.document.canonicalCBOR ?? [],
                                        runtimeData: runtime.canonicalBytes, lock: lock).signed(by: keys.signing)
        } catch {
            throw .signing(error)
        }
        do { try FileIO.writeAtomically(bundle.encoded(), to: output) } catch { throw .write(error) }
        return Outcome(bundle: bundle, digest: digest, deviceName: device.name)
    }

    private static func platformDevice(_ platform: Platform,
                                       statePath: String) throws(AttestError) -> (any GuestDevice, EvidenceBundle.Platform) {
        do { return try VMLock.device(platform, statePath: statePath) } catch { throw .platform(error) }
    }
}

/// Why `attest` wrote no evidence.
public enum AttestError: TwoCVMError {
    case manifest(ManifestWorkflowError)
    /// No guest device or simulated VM, or it failed to answer.
    case platform(PlatformError)
    /// The VM is locked to another manifest, or its state cannot be read or written.
    case state(StateError)
    /// The nonce cannot be bound (its length).
    case runtimeData(EvidenceError)
    /// The device answered with something that is not a report.
    case report(ReportError)
    case signing(any Error)
    case write(FileIOError)

    public var exitStatus: ExitStatus {
        switch self {
        case let .manifest(error): return error.exitStatus
        case let .platform(error): return error.exitStatus
        case let .state(error): return error.exitStatus
        case .runtimeData, .report, .signing: return .badInput
        case let .write(error): return error.exitStatus
        }
    }

    public var description: String {
        switch self {
        case let .manifest(error): return error.description
        case let .platform(error): return error.description
        case let .state(error): return error.description
        case let .runtimeData(error): return error.description
        case let .report(error): return "the guest device's report: \(error)"
        case let .signing(error): return "signing the evidence: \(error)"
        case let .write(error): return error.description
        }
    }
}

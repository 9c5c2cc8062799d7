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
                              statePath: String) throws -> Outcome {
        let (_, digest, document) = try ManifestWorkflow.load(manifestPath)
        let state = StateDirectory(statePath)
        let (device, kind) = try VMLock.device(platform, statePath: statePath)
        let keys = try state.teeKeys()
        let runtime = try RuntimeData(manifest: digest, nonce: nonce, teePublicKey: keys.hpke.publicKey,
                                      teeSigningKey: keys.signing.publicKey)
        let guest = try device.report(reportData: runtime.reportData, vmpl: nil)
        let report = try AttestationReport(bytes: guest.report)
        let lock = try VMLock.take(report, digest: digest, state: state)
        let certificates = guest.certificates.entries.map {
            EvidenceBundle.Certificate(kind: $0.kind?.rawValue ?? Hex.encode($0.guid), der: $0.bytes)
        }
        let bundle = try EvidenceBundle(platform: kind, tool: "twocvm \(ToolVersion.current)", report: guest.report,
                                    certificates: certificates, manifestCBOR: document.canonicalCBOR ?? [],
                                    runtimeData: runtime.canonicalBytes, lock: lock).signed(by: keys.signing)
        try FileIO.writeAtomically(bundle.encoded(), to: output)
        return Outcome(bundle: bundle, digest: digest, deviceName: device.name)
    }
}

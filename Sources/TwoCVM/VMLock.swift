import Evidence
import Foundation
import Manifest
import SNP

/// The VM a command runs in and the manifest it is locked to (SPEC §4), as `attest` and sealed
/// `run` both need them: the platform that produces reports, and the lock check that refuses
/// any manifest but the one the VM was launched with (or first used, under the runtime lock).
public enum VMLock {
    /// The guest device for `platform`: the real SEV-SNP device, or the simulated VM in the
    /// state directory. `auto` takes the real device when there is one.
    public static func device(_ platform: AttestWorkflow.Platform, statePath: String) throws -> (any GuestDevice, EvidenceBundle.Platform) {
        switch platform {
        case .snp:
            return (try GuestDevices.detect(), .snp)
        case .simulated:
            return (try SimulatorWorkflow.platform(statePath: statePath), .simulated)
        case .auto:
            if let device = try? GuestDevices.detect() { return (device, .snp) }
            // Neither a guest device nor a simulated VM: the environment lacks a platform (exit 3).
            guard FileManager.default.fileExists(atPath: StateDirectory(statePath).simulatorPath) else {
                throw GuestDeviceError.notPresent
            }
            return (try SimulatorWorkflow.platform(statePath: statePath), .simulated)
        }
    }

    /// Takes the lock for `digest` (`attest`, the first use of the VM): HOST_DATA must be the
    /// digest's prefix (launch lock), or be zero, in which case the state directory's
    /// create-once lock file must hold `digest` or is now created with it (runtime lock).
    /// Throws `StateError` otherwise.
    public static func take(_ report: AttestationReport, digest: ManifestDigest, state: StateDirectory) throws -> EvidenceBundle.Lock {
        if report.hostData.isZero {
            try state.takeRuntimeLock(digest)
            return .runtime
        }
        return try launchLock(report, digest: digest)
    }

    /// Checks, writing nothing, that this VM is locked to `digest` (a sealed `run`, after
    /// `attest` took the lock): HOST_DATA is the digest's prefix, or zero with the lock file
    /// holding `digest`. Throws `StateError` otherwise.
    public static func check(_ report: AttestationReport, digest: ManifestDigest, state: StateDirectory) throws -> EvidenceBundle.Lock {
        guard report.hostData.isZero else { return try launchLock(report, digest: digest) }
        let lockFile = "\(state.path)/\(StateDirectory.lockFile)"
        guard let held = try state.runtimeLock() else { throw StateError.notLocked(lockFile: lockFile) }
        guard held == digest.description else {
            throw StateError.lockedToAnotherManifest(lockFile: lockFile, held: held, requested: digest.description)
        }
        return .runtime
    }

    private static func launchLock(_ report: AttestationReport, digest: ManifestDigest) throws(StateError) -> EvidenceBundle.Lock {
        guard report.hostData.bytes == digest.hostData else {
            throw .hostDataMismatch(reported: report.hostData.hex, manifestPrefix: Hex.encode(digest.hostData))
        }
        return .launch
    }
}

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
    public static func device(_ platform: AttestWorkflow.Platform,
                              statePath: String) throws(PlatformError) -> (any GuestDevice, EvidenceBundle.Platform) {
        switch platform {
        case .snp:
            do { return (try GuestDevices.detect(), .snp) } catch { throw .device(error) }
        case .simulated:
            do { return (try SimulatorWorkflow.platform(statePath: statePath), .simulated) } catch { throw .simulator(error) }
        case .auto:
            if let device = try? GuestDevices.detect() { return (device, .snp) }
            // Neither a guest device nor a simulated VM: the environment lacks a platform (exit 3).
            guard FileManager.default.fileExists(atPath: StateDirectory(statePath).simulatorPath) else {
                throw .device(.notPresent)
            }
            do { return (try SimulatorWorkflow.platform(statePath: statePath), .simulated) } catch { throw .simulator(error) }
        }
    }

    /// Takes the lock for `digest` (`attest`, the first use of the VM): HOST_DATA must be the
    /// digest's prefix (launch lock), or be zero, in which case the state directory's
    /// create-once lock file must hold `digest` or is now created with it (runtime lock).
    /// Throws `StateError` otherwise.
    public static func take(_ report: AttestationReport, digest: ManifestDigest,
                            state: StateDirectory) throws(StateError) -> EvidenceBundle.Lock {
        if report.hostData.isZero {
            try state.takeRuntimeLock(digest)
            return .runtime
        }
        return try launchLock(report, digest: digest)
    }

    /// Checks, writing nothing, that this VM is locked to `digest` (a sealed `run`, after
    /// `attest` took the lock): HOST_DATA is the digest's prefix, or zero with the lock file
    /// holding `digest`. Throws `StateError` otherwise.
    public static func check(_ report: AttestationReport, digest: ManifestDigest,
                             state: StateDirectory) throws(StateError) -> EvidenceBundle.Lock {
        guard report.hostData.isZero else { return try launchLock(report, digest: digest) }
        let lockFile = "\(state.path)/\(StateDirectory.lockFile)"
        let held: String?
        do { held = try state.runtimeLock() } catch { throw .file(error) }
        guard let held else { throw .notLocked(lockFile: lockFile) }
        guard held == digest.description else {
            throw .lockedToAnotherManifest(lockFile: lockFile, held: held, requested: digest.description)
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

/// Why this VM has no platform to ask for reports.
public enum PlatformError: TwoCVMError {
    /// No SEV-SNP guest device (or it failed).
    case device(GuestDeviceError)
    /// No simulated VM in the state directory (or it cannot be read).
    case simulator(SimulatorWorkflowError)

    public var exitStatus: ExitStatus {
        switch self {
        case let .device(error): return error.exitStatus
        case let .simulator(error): return error.exitStatus
        }
    }

    public var description: String {
        switch self {
        case let .device(error): return error.description
        case let .simulator(error): return error.description
        }
    }
}

import Foundation
import Manifest
import SNP

/// `twocvm sim launch|root`: a simulated SNP VM in a state directory, for development and CI.
public enum SimulatorWorkflow {
    /// Launches a simulated VM in `statePath`: fresh AMD-like keys, the first measurement of
    /// the reference values, HOST_DATA from the manifest (or zero with `runtimeLock`), the
    /// reference's guest policy. A new VM starts with new TEE keys and no lock.
    @discardableResult
    public static func launch(statePath: String, referencePath: String, manifestPath: String,
                              runtimeLock: Bool = false) throws(SimulatorWorkflowError) -> SimulatedPlatform {
        let reference: ReferenceValues
        do { reference = try ReferenceValuesWorkflow.load(referencePath) } catch { throw .reference(error) }
        let digest: ManifestDigest
        do { digest = try ManifestWorkflow.load(manifestPath).digest } catch { throw .manifest(error) }
        guard let first = reference.measurements.first,
              let measurement = Measurement(bytes: first.measurement.bytes) else {
            throw .noMeasurement(referencePath)
        }
        let hostData = runtimeLock ? HostData(uncheckedBytes: [UInt8](repeating: 0, count: 32))
                                   : HostData(uncheckedBytes: digest.hostData)
        let platform: SimulatedPlatform
        do {
            platform = try SimulatedPlatform.create(measurement: measurement, hostData: hostData, policy: reference.guestPolicy)
        } catch {
            throw .platform(error)
        }
        let state = StateDirectory(statePath)
        do { try state.reset() } catch { throw .file(error) }
        do {
            try FileIO.makeDirectory(state.simulatorPath, mode: 0o700)
            for (name, bytes) in platform.files {
                try FileIO.writeAtomically(bytes, to: "\(state.simulatorPath)/\(name)",
                                           mode: SimulatedPlatform.File.secret.contains(name) ? 0o600 : 0o644)
            }
        } catch {
            throw .file(error)
        }
        return platform
    }

    /// The simulated platform in `statePath`.
    public static func platform(statePath: String) throws(SimulatorWorkflowError) -> SimulatedPlatform {
        let directory = StateDirectory(statePath).simulatorPath
        guard FileManager.default.fileExists(atPath: directory) else { throw .notLaunched(statePath) }
        var files: [String: [UInt8]] = [:]
        for name in [SimulatedPlatform.File.ark, SimulatedPlatform.File.ask, SimulatedPlatform.File.asvk,
                     SimulatedPlatform.File.vcek, SimulatedPlatform.File.vcekKey, SimulatedPlatform.File.launch] {
            do { files[name] = try FileIO.read("\(directory)/\(name)", limit: 1 << 20) } catch { throw .file(error) }
        }
        do { return try SimulatedPlatform(files: files) } catch { throw .platform(error) }
    }

    /// The path of the simulated ARK (PEM) in `statePath`.
    public static func rootPath(statePath: String) throws(SimulatorWorkflowError) -> String {
        let path = "\(StateDirectory(statePath).simulatorPath)/\(SimulatedPlatform.File.ark)"
        guard FileManager.default.fileExists(atPath: path) else { throw .notLaunched(statePath) }
        return path
    }
}

public enum SimulatorWorkflowError: TwoCVMError {
    case notLaunched(String)
    case noMeasurement(String)
    /// A file of the simulated VM cannot be read or written.
    case file(FileIOError)
    case reference(ReferenceValuesWorkflowError)
    case manifest(ManifestWorkflowError)
    /// The simulated VM's files do not make a platform.
    case platform(SimulatorError)

    /// No simulated VM in the state directory: the environment (3); reference values without
    /// a measurement: the input (2).
    public var exitStatus: ExitStatus {
        switch self {
        case .notLaunched: return .environment
        case let .file(error): return error.exitStatus
        case let .reference(error): return error.exitStatus
        case let .manifest(error): return error.exitStatus
        case .noMeasurement, .platform: return .badInput
        }
    }

    public var description: String {
        switch self {
        case let .notLaunched(state): return "\(state): no simulated VM here (run `twocvm sim launch --state \(state) …` first)"
        case let .noMeasurement(path): return "\(path): the reference values list no measurement"
        case let .file(error): return error.description
        case let .reference(error): return error.description
        case let .manifest(error): return error.description
        case let .platform(error): return "simulated VM: \(error)"
        }
    }
}

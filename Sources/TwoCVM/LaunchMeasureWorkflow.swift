import Foundation
import SNP

/// `twocvm launch-measure`: the expected launch MEASUREMENT of an SEV-SNP guest
/// (sev-snp-measure's computation, SNP's `LaunchMeasurement`), and, with a manifest, the
/// reference values that bind it to that manifest (``ReferenceValuesWorkflow``).
public enum LaunchMeasureWorkflow {
    /// Where and how to record the measurement as a reference value.
    public struct Reference: Sendable {
        public let manifestPath: String
        public let path: String
        /// The guest policy to require; nil keeps the file's (or the default).
        public let guestPolicy: UInt64?
        /// The minimum TCB to require; nil keeps the file's (or none).
        public let minimumTCB: ReferenceValues.MinimumTCB?
        /// The vCPU type name, when it is what chose the vCPU signature (recorded for readers).
        public let vcpuType: String?

        public init(manifestPath: String, path: String, guestPolicy: UInt64?, minimumTCB: ReferenceValues.MinimumTCB?,
                    vcpuType: String?) {
            self.manifestPath = manifestPath
            self.path = path
            self.guestPolicy = guestPolicy
            self.minimumTCB = minimumTCB
            self.vcpuType = vcpuType
        }
    }

    /// What `measure` computed and wrote.
    public struct Outcome: Sendable {
        public let result: LaunchMeasurementResult
        /// The reference-values file as written, when a ``Reference`` was given.
        public let reference: ReferenceValuesOutcome?
        /// The VMSA page files written (`--dump-vmsa`).
        public let vmsaFiles: [String]
    }

    /// The firmware-only digest (`--mode snp:ovmf-hash`).
    public static func firmwareDigest(ofFirmwareAt path: String) throws(LaunchMeasurementError) -> LaunchDigest {
        try LaunchMeasurement.firmwareDigest(ofFirmwareAt: path)
    }

    /// Measures `configuration`; records the measurement in `reference` if given; writes each
    /// vCPU's VMSA page to `<vmsaDirectory>/vmsa<N>.bin` if a directory is given.
    public static func measure(_ configuration: LaunchConfiguration, reference: Reference?,
                               vmsaDirectory: String?) throws(LaunchMeasureError) -> Outcome {
        let result: LaunchMeasurementResult
        do { result = try LaunchMeasurement.measure(configuration) } catch { throw .measurement(error) }
        let recorded: ReferenceValuesOutcome?
        do {
            recorded = try reference.map { reference throws(ReferenceValuesWorkflowError) in
                try ReferenceValuesWorkflow.record(accepted(result, configuration, vcpuType: reference.vcpuType),
                                                   manifestAt: reference.manifestPath, to: reference.path,
                                                   guestPolicy: reference.guestPolicy, minimumTCB: reference.minimumTCB)
            }
        } catch {
            throw .reference(error)
        }
        var vmsaFiles: [String] = []
        if let vmsaDirectory {
            for index in 0..<configuration.vcpus {
                let path = vmsaDirectory == "." ? "vmsa\(index).bin" : "\(vmsaDirectory)/vmsa\(index).bin"
                do { try FileIO.writeAtomically(result.vmsaPages.page(forVCPU: index)!, to: path) } catch { throw .vmsa(error) }
                vmsaFiles.append(path)
            }
        }
        return Outcome(result: result, reference: recorded, vmsaFiles: vmsaFiles)
    }

    /// The reference-values entry for `result`: the measurement and the launch it was computed for.
    private static func accepted(_ result: LaunchMeasurementResult, _ configuration: LaunchConfiguration,
                                 vcpuType: String?) -> ReferenceValues.AcceptedMeasurement {
        let usesSignature = configuration.vmm.usesVCPUSignature
        return ReferenceValues.AcceptedMeasurement(
            measurement: result.measurement,
            launch: ReferenceValues.Launch(
                vcpus: configuration.vcpus,
                vcpuType: usesSignature ? vcpuType : nil,
                vcpuSignature: usesSignature ? configuration.vcpuSignature?.description : nil,
                guestFeatures: configuration.guestFeatures.description, vmm: configuration.vmm.rawValue,
                firmwareDigest: result.firmwareDigest.hex,
                kernelSHA256: result.hashes.map { Hex.encode($0.kernel) }, initrdSHA256: result.hashes.map { Hex.encode($0.initrd) },
                cmdlineSHA256: result.hashes.map { Hex.encode($0.cmdline) }))
    }
}

/// Why `launch-measure` stopped: each case keeps the error of the step that failed, and exits
/// and reads as that error does.
public enum LaunchMeasureError: TwoCVMError {
    /// The launch inputs cannot be measured (a file, the firmware's tables, a value).
    case measurement(LaunchMeasurementError)
    /// The measurement cannot be recorded in the reference-values file.
    case reference(ReferenceValuesWorkflowError)
    /// A VMSA page file (`--dump-vmsa`) cannot be written.
    case vmsa(FileIOError)

    public var exitStatus: ExitStatus {
        switch self {
        case let .measurement(error): return error.exitStatus
        case let .reference(error): return error.exitStatus
        case let .vmsa(error): return error.exitStatus
        }
    }

    public var description: String {
        switch self {
        case let .measurement(error): return error.description
        case let .reference(error): return error.description
        case let .vmsa(error): return error.description
        }
    }
}

// Every way a launch measurement can fail, each naming the file, field or value at fault.

/// Errors from computing an SEV-SNP launch digest.
public enum LaunchMeasurementError: Error, Equatable, CustomStringConvertible {
    /// A file (firmware, kernel, initrd) could not be opened or read.
    case unreadable(path: String, reason: String)
    /// The firmware image's size cannot be mapped below 4 GiB as whole pages.
    case badFirmwareSize(path: String, size: UInt64, reason: String)
    /// The firmware's footer GUID table or SEV metadata is inconsistent.
    case malformedFirmware(path: String, field: String, reason: String)
    /// The firmware's footer table lacks an entry the measurement needs.
    case missingFirmwareEntry(path: String, entry: String)
    /// An SEV metadata section has a type this measurement does not know.
    case unknownMetadataSection(path: String, index: Int, type: UInt32)
    /// `--kernel` was given but the firmware has no SNP_KERNEL_HASHES section to put the
    /// kernel, initrd and command-line hashes in.
    case kernelHashesUnsupported(path: String)
    /// `--initrd` or `--append` without `--kernel`: there is nothing to attach them to.
    case inputWithoutKernel(String)
    /// More than one vCPU, but the firmware gives no AP reset address.
    case missingAPResetAddress(path: String)
    /// The vCPU count is outside 1...`LaunchConfiguration.maximumVCPUs`.
    case invalidVCPUCount(Int)
    /// No `--vcpu-type`, `--vcpu-sig` or family/model/stepping for a VMM that needs one.
    case missingVCPUSignature(vmm: String)
    /// `--vcpu-type` names no known model.
    case unknownVCPUType(String, known: [String])
    /// A family, model or stepping does not fit the CPUID signature encoding.
    case vcpuSignatureOutOfRange(field: String, value: Int, range: String)
    /// `--vmm-type` names no known VMM.
    case unknownVMMType(String, known: [String])
    /// A digest (such as `--snp-ovmf-hash`) is not 48 bytes of hex.
    case malformedDigest(reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): cannot read: \(reason)"
        case let .badFirmwareSize(path, size, reason):
            return "\(path): firmware of \(size) bytes cannot be measured: \(reason)"
        case let .malformedFirmware(path, field, reason):
            return "\(path): malformed firmware \(field): \(reason)"
        case let .missingFirmwareEntry(path, entry):
            return "\(path): can't find \(entry) entry in the OVMF footer table"
        case let .unknownMetadataSection(path, index, type):
            return "\(path): SEV metadata section \(index) has unknown type 0x\(String(type, radix: 16))"
        case let .kernelHashesUnsupported(path):
            return "Kernel specified but OVMF metadata doesn't include SNP_KERNEL_HASHES section "
                + "(\(path) cannot measure a kernel, initrd or command line; use an AmdSev OVMF build, "
                + "or drop --kernel/--initrd/--append)"
        case let .inputWithoutKernel(option):
            return "\(option) needs --kernel: an initrd and a command line are measured only for a direct-boot kernel"
        case let .missingAPResetAddress(path):
            return "\(path): the SEV-ES reset block gives no AP reset address, so only --vcpus 1 can be measured"
        case let .invalidVCPUCount(count):
            return "--vcpus \(count): the vCPU count must be 1...\(LaunchConfiguration.maximumVCPUs)"
        case let .missingVCPUSignature(vmm):
            return "missing --vcpu-type or --vcpu-sig or --vcpu-family for VMM \(vmm)"
        case let .unknownVCPUType(name, known):
            return "unknown vCPU type '\(name)' (known: \(known.joined(separator: ", ")))"
        case let .vcpuSignatureOutOfRange(field, value, range):
            return "vCPU \(field) \(value) is out of range \(range)"
        case let .unknownVMMType(name, known):
            return "unknown VMM type '\(name)' (known: \(known.joined(separator: ", ")))"
        case let .malformedDigest(reason):
            return "malformed launch digest: \(reason)"
        }
    }
}

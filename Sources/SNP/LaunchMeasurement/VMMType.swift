// Which VMM launches the guest. The SNP firmware measures whatever the VMM hands it, and VMMs
// differ in small ways: the initial register state of each vCPU (VMSA.swift) and how a few
// firmware metadata sections are presented (LaunchMeasurement.swift).

/// The virtual machine monitor whose launch sequence is reproduced.
public enum VMMType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// QEMU/KVM (the default of sev-snp-measure).
    case qemu = "QEMU"
    /// Amazon EC2. Measured as sev-snp-measure 0.0.13 does (EC2's VMSA with RDX = 0x600, the
    /// CPUID page measured after every other metadata section); see Docs/launch-measurement.md
    /// for why that, and not virtee/sev's older EC2 VMSA, is the one followed.
    case ec2
    /// Google Compute Engine: SEC memory is pre-validated but unmeasured, and the hypervisor
    /// sets its own PAT.
    case gce

    /// Parses the name as sev-snp-measure's `--vmm-type` spells it (`QEMU`, `ec2`, `gce`),
    /// ignoring case.
    ///
    /// - Throws: `LaunchMeasurementError.unknownVMMType`.
    public init(named name: String) throws(LaunchMeasurementError) {
        guard let type = Self.allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }) else {
            throw LaunchMeasurementError.unknownVMMType(name, known: Self.allCases.map(\.rawValue))
        }
        self = type
    }

    /// The name as sev-snp-measure prints it.
    public var description: String { rawValue }

    /// Whether this VMM loads the vCPU signature into RDX; the cloud VMMs put a fixed value
    /// there, so for them no `--vcpu-type` is needed.
    public var usesVCPUSignature: Bool { self == .qemu }
}

// The vCPU signature a VMM puts in RDX at reset, and QEMU's named EPYC models.
//
// A vCPU's initial RDX holds its CPUID Fn0000_0001_EAX value (family, model, stepping), so the
// signature is part of every measured VMSA page (see VMSA.swift). AMD's CPUID Specification
// (publication #25481, "CPUID Fn0000_0001_EAX Family, Model, Stepping Identifiers") fixes the
// encoding; QEMU's `builtin_x86_defs` fixes which family/model/stepping each `-cpu` name means.

/// The 32-bit CPUID Fn0000_0001_EAX signature of a guest vCPU.
public struct VCPUSignature: Sendable, Hashable, CustomStringConvertible {
    /// The EAX value, as QEMU loads it into RDX at vCPU reset.
    public let rawValue: UInt32

    /// Wraps a signature given as a number (`--vcpu-sig 0xa00f11`).
    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// Encodes family, model and stepping as AMD's CPUID specification does: families above
    /// 0xF are split into the base family 0xF plus an extended family of `family - 0xF`;
    /// the model is split into its low nibble and an extended-model nibble.
    ///
    /// - Throws: `LaunchMeasurementError.vcpuSignatureOutOfRange` when a field does not fit
    ///   its encoding (family 0...0x10E, model 0...0xFF, stepping 0...0xF).
    public init(family: Int, model: Int, stepping: Int) throws(LaunchMeasurementError) {
        guard (0...0x10E).contains(family) else {
            throw LaunchMeasurementError.vcpuSignatureOutOfRange(field: "family", value: family, range: "0...270")
        }
        guard (0...0xFF).contains(model) else {
            throw LaunchMeasurementError.vcpuSignatureOutOfRange(field: "model", value: model, range: "0...255")
        }
        guard (0...0xF).contains(stepping) else {
            throw LaunchMeasurementError.vcpuSignatureOutOfRange(field: "stepping", value: stepping, range: "0...15")
        }
        let baseFamily = UInt32(min(family, 0xF))
        let extendedFamily = UInt32(max(family - 0xF, 0))
        let baseModel = UInt32(model & 0xF)
        let extendedModel = UInt32(model >> 4)
        rawValue = extendedFamily << 20 | extendedModel << 16 | baseFamily << 8 | baseModel << 4 | UInt32(stepping)
    }

    /// The displayed family (base family plus extended family).
    public var family: Int {
        let base = Int(rawValue >> 8 & 0xF)
        return base == 0xF ? base + Int(rawValue >> 20 & 0xFF) : base
    }

    /// The displayed model (extended model nibble above the base model nibble).
    public var model: Int { Int(rawValue >> 16 & 0xF) << 4 | Int(rawValue >> 4 & 0xF) }

    /// The stepping.
    public var stepping: Int { Int(rawValue & 0xF) }

    /// `0x` and lowercase hex, as `--vcpu-sig` takes it.
    public var description: String { "0x" + String(rawValue, radix: 16) }
}

/// A named vCPU model of QEMU (`-cpu EPYC-Milan`) and the signature it presents.
public struct VCPUType: Sendable, Hashable, CustomStringConvertible {
    /// QEMU's model name, exactly as `-cpu` and `--vcpu-type` spell it.
    public let name: String
    /// The CPUID signature QEMU gives a vCPU of this model.
    public let signature: VCPUSignature

    public var description: String { name }

    /// Looks a model up by its exact (case-sensitive) QEMU name.
    ///
    /// - Throws: `LaunchMeasurementError.unknownVCPUType`, listing the known names.
    public init(named name: String) throws(LaunchMeasurementError) {
        guard let known = Self.all.first(where: { $0.name == name }) else {
            throw LaunchMeasurementError.unknownVCPUType(name, known: Self.all.map(\.name))
        }
        self = known
    }

    private init(_ name: String, family: Int, model: Int, stepping: Int) {
        self.name = name
        // The table's values are in range by construction.
        self.signature = try! VCPUSignature(family: family, model: model, stepping: stepping)
    }

    /// Every EPYC model of QEMU's `builtin_x86_defs` that can run an SEV-SNP guest, in the
    /// order sev-snp-measure 0.0.13 lists them.
    public static let all: [VCPUType] = [
        VCPUType("EPYC", family: 23, model: 1, stepping: 2),
        VCPUType("EPYC-v1", family: 23, model: 1, stepping: 2),
        VCPUType("EPYC-v2", family: 23, model: 1, stepping: 2),
        VCPUType("EPYC-IBPB", family: 23, model: 1, stepping: 2),
        VCPUType("EPYC-v3", family: 23, model: 1, stepping: 2),
        VCPUType("EPYC-v4", family: 23, model: 1, stepping: 2),
        VCPUType("EPYC-Rome", family: 23, model: 49, stepping: 0),
        VCPUType("EPYC-Rome-v1", family: 23, model: 49, stepping: 0),
        VCPUType("EPYC-Rome-v2", family: 23, model: 49, stepping: 0),
        VCPUType("EPYC-Rome-v3", family: 23, model: 49, stepping: 0),
        VCPUType("EPYC-Milan", family: 25, model: 1, stepping: 1),
        VCPUType("EPYC-Milan-v1", family: 25, model: 1, stepping: 1),
        VCPUType("EPYC-Milan-v2", family: 25, model: 1, stepping: 1),
        VCPUType("EPYC-Genoa", family: 25, model: 17, stepping: 0),
        VCPUType("EPYC-Genoa-v1", family: 25, model: 17, stepping: 0),
        VCPUType("EPYC-Turin", family: 26, model: 0, stepping: 0),
    ]
}

import ArgumentParser
import Foundation
import TwoCVM

/// `twocvm launch-measure`: the expected SEV-SNP launch MEASUREMENT, a drop-in replacement
/// for `sev-snp-measure --mode snp` (same flags, same stdout), and optionally the reference
/// values that bind it to a Commitment Manifest.
struct LaunchMeasureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launch-measure",
        abstract: "Compute the expected SEV-SNP launch MEASUREMENT.",
        discussion: """
            Takes the flags of `sev-snp-measure --mode snp` and prints exactly what it prints. With --manifest and --reference-out, also records the measurement, HOST_DATA (the first 32 bytes of the manifest digest) and the guest policy in a reference-values file for `twocvm verify`; running again for the same manifest adds to that file. See Docs/launch-measurement.md.

            Examples:
              twocvm launch-measure --vcpus 4 --vcpu-type EPYC-Milan --ovmf OVMF.fd
              twocvm launch-measure --vcpus 2 --vcpu-type EPYC-Genoa --ovmf OVMF.amdsev.fd --kernel vmlinuz --initrd initrd.img --append "console=ttyS0" --manifest manifest.toml --reference-out reference.json
            """)

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case hex, base64
    }

    @Option(help: "Guest mode: snp, or snp:ovmf-hash to print the firmware-only digest. (sev-snp-measure's other modes are not SEV-SNP and are refused.)")
    var mode: String = "snp"

    @Option(help: ArgumentHelp("Number of guest vCPUs.", valueName: "N"))
    var vcpus: Int?

    @Option(help: ArgumentHelp("Type of guest vCPU (\(VCPUType.all.map(\.name).joined(separator: ", "))).", valueName: "CPUTYPE"))
    var vcpuType: String?

    @Option(help: ArgumentHelp("Guest vCPU signature value (e.g. 0xa00f11).", valueName: "VALUE"))
    var vcpuSig: String?

    @Option(help: ArgumentHelp("Guest vCPU family.", valueName: "FAMILY"))
    var vcpuFamily: Int?

    @Option(help: ArgumentHelp("Guest vCPU model.", valueName: "MODEL"))
    var vcpuModel: Int?

    @Option(help: ArgumentHelp("Guest vCPU stepping.", valueName: "STEPPING"))
    var vcpuStepping: Int?

    @Option(help: ArgumentHelp("Type of guest VMM (QEMU, ec2, gce).", valueName: "VMMTYPE"))
    var vmmType: String = "QEMU"

    @Option(help: ArgumentHelp("OVMF file to calculate the hash from.", valueName: "PATH"))
    var ovmf: String

    @Option(help: ArgumentHelp("Kernel file to calculate the hash from.", valueName: "PATH"))
    var kernel: String?

    @Option(help: ArgumentHelp("Initrd file to calculate the hash from (use with --kernel).", valueName: "PATH"))
    var initrd: String?

    @Option(help: ArgumentHelp("Kernel command line to calculate the hash from (use with --kernel).", valueName: "CMDLINE"))
    var append: String?

    @Option(help: ArgumentHelp("Guest kernel features (SEV_FEATURES) expected in each VMSA.", valueName: "VALUE"))
    var guestFeatures: String = "0x1"

    @Option(help: "Measurement output format.")
    var outputFormat: OutputFormat = .hex

    @Option(help: ArgumentHelp("Precalculated hash of the OVMF binary (hex), from --mode snp:ovmf-hash.", valueName: "HASH"))
    var snpOvmfHash: String?

    @OptionGroup var progress: ProgressOptions
    @Flag(name: .customLong("dump-vmsa"), help: "Write the measured VMSAs to vmsa<N>.bin in the current directory.")
    var dumpVMSA = false

    @Flag(name: [.short, .long], help: "Print the measurement with a label.")
    var verbose = false

    @Option(help: ArgumentHelp("Commitment Manifest the guest is launched for (with --reference-out).", valueName: "M"))
    var manifest: String?

    @Option(help: ArgumentHelp("Write (or add to) a reference-values file for `verify`.", valueName: "REF"))
    var referenceOut: String?

    @Option(help: ArgumentHelp("Guest policy to require in the reference values (default 0x30000).", valueName: "VALUE"))
    var policy: String?

    @Option(help: ArgumentHelp("Minimum TCB to require in the reference values.", valueName: "bl=N,tee=N,snp=N,ucode=N[,fmc=N]"))
    var minTcb: String?

    func validate() throws {
        guard ["snp", "snp:ovmf-hash"].contains(mode) else {
            throw ValidationError("--mode \(mode) is not supported: twocvm measures SEV-SNP guests only (snp, snp:ovmf-hash)")
        }
        guard (manifest == nil) == (referenceOut == nil) else {
            throw ValidationError("--manifest and --reference-out go together")
        }
        if mode == "snp:ovmf-hash" {
            if referenceOut != nil { throw ValidationError("--reference-out needs --mode snp") }
            return
        }
        if initrd != nil && kernel == nil { throw ValidationError("--kernel required when using --initrd") }
        if let append, !append.isEmpty, kernel == nil { throw ValidationError("--kernel required when using --append") }
        guard let vcpus else { throw ValidationError("missing --vcpus N in guest mode '\(mode)'") }
        guard (1...LaunchConfiguration.maximumVCPUs).contains(vcpus) else {
            throw ValidationError("--vcpus must be 1...\(LaunchConfiguration.maximumVCPUs)")
        }
        if vcpuFamily != nil && (vcpuModel == nil || vcpuStepping == nil) {
            throw ValidationError("--vcpu-family needs --vcpu-model and --vcpu-stepping")
        }
        if policy == nil && minTcb == nil { return }
        guard referenceOut != nil else { throw ValidationError("--policy and --min-tcb go with --reference-out") }
        if let minTcb { _ = try PolicyOptions.parseTCB(minTcb) }
    }

    func run() throws {
        progress.apply()
        let endProgress = LaunchMeasureProgress.begin(kernel: kernel, initrd: initrd)
        defer { endProgress() }
        try measure()
    }

    private func measure() throws {
        if mode == "snp:ovmf-hash" {
            Console.out(try LaunchMeasureWorkflow.firmwareDigest(ofFirmwareAt: ovmf).hex)
            return
        }
        let configuration = LaunchConfiguration(
            firmwarePath: ovmf, vcpus: vcpus!, vcpuSignature: try signature(),
            guestFeatures: GuestFeatures(rawValue: try Self.integer(guestFeatures, option: "--guest-features")),
            vmm: try VMMType(named: vmmType), kernelPath: kernel.flatMap { $0.isEmpty ? nil : $0 },
            initrdPath: initrd.flatMap { $0.isEmpty ? nil : $0 }, commandLine: append,
            firmwareDigest: try snpOvmfHash.map { try Self.digest($0, option: "--snp-ovmf-hash") })
        let reference = try referenceOut.map { path in
            LaunchMeasureWorkflow.Reference(
                manifestPath: manifest!, path: path, guestPolicy: try policy.map { try Self.integer($0, option: "--policy") },
                minimumTCB: try minTcb.map { ReferenceValues.MinimumTCB(try PolicyOptions.parseTCB($0)) },
                vcpuType: vcpuFamily == nil && vcpuSig == nil ? vcpuType : nil)
        }
        let outcome = try LaunchMeasureWorkflow.measure(configuration, reference: reference, vmsaDirectory: dumpVMSA ? "." : nil)
        if let recorded = outcome.reference, let referenceOut {
            let count = recorded.values.measurements.count
            let action = recorded.created ? "wrote" : recorded.added ? "added to" : "already in"
            Console.progress("reference values: \(action) \(referenceOut) (\(count) measurement\(count == 1 ? "" : "s"))")
        }
        let measurement = outcome.result.measurement
        let text = outputFormat == .hex ? measurement.hex : measurement.base64
        Console.out(verbose ? "Calculated SEV_SNP guest measurement: \(text)" : text)
    }

    /// The vCPU signature, from the first of family/model/stepping, --vcpu-sig, --vcpu-type
    /// (sev-snp-measure's order); nil when none is given (fine for EC2 and GCE).
    private func signature() throws -> VCPUSignature? {
        if let vcpuFamily, let vcpuModel, let vcpuStepping {
            return try VCPUSignature(family: vcpuFamily, model: vcpuModel, stepping: vcpuStepping)
        }
        if let vcpuSig {
            let value = try Self.integer(vcpuSig, option: "--vcpu-sig")
            guard let raw = UInt32(exactly: value) else {
                throw CommandFailure(.badInput, "--vcpu-sig \(vcpuSig): a CPUID signature is 32 bits")
            }
            return VCPUSignature(rawValue: raw)
        }
        return try vcpuType.map { try VCPUType(named: $0).signature }
    }

    /// Parses a 48-byte digest given in hex (the rule of every hex flag: `Hex.decode(input:)`).
    static func digest(_ text: String, option: String) throws -> LaunchDigest {
        guard let bytes = Hex.decode(input: text) else { throw CommandFailure(.badInput, "\(option) must be hex; got \"\(text)\"") }
        return try LaunchDigest(bytes: bytes)
    }

    /// Parses an integer as Python's `int(text, 0)` does (sev-snp-measure's parser for
    /// --guest-features and --vcpu-sig): decimal, or 0x/0o/0b prefixed, with `_` between
    /// digits and surrounding whitespace allowed; negative values are refused.
    static func integer(_ text: String, option: String) throws -> UInt64 {
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        if body.hasPrefix("+") { body = body.dropFirst() }
        var radix = 10
        let prefixes: [(String, Int)] = [("0x", 16), ("0o", 8), ("0b", 2)]
        if let (prefix, base) = prefixes.first(where: { body.lowercased().hasPrefix($0.0) }) {
            radix = base
            body = body.dropFirst(prefix.count)
            if body.hasPrefix("_") { body = body.dropFirst() }
        }
        let groups = body.split(separator: "_", omittingEmptySubsequences: false)
        let digits = groups.joined()
        let leadingZero = radix == 10 && digits.count > 1 && digits.hasPrefix("0") && digits.contains { $0 != "0" }
        guard !digits.isEmpty, !groups.contains(where: \.isEmpty), !leadingZero,
              let value = UInt64(digits, radix: radix) else {
            throw CommandFailure(.badInput, "\(option) \(text): expected a non-negative integer (decimal, or 0x/0o/0b prefixed) below 2^64")
        }
        return value
    }
}

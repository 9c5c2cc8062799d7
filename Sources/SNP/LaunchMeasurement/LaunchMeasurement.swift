// The SEV-SNP launch measurement: the order in which a VMM (QEMU, EC2, GCE) hands pages to
// the SNP firmware, and so the order in which they enter the launch digest.
//
//   1. every page of the firmware image, as normal pages ending at 4 GiB;
//   2. the SEV metadata sections of the firmware, in its order: SEC memory as zero pages
//      (unmeasured on GCE), the secrets page, the CPUID page (last of all on EC2), the
//      kernel-hashes page (the SEV hashes table when a kernel is given, else zeros), the SVSM
//      calling area as zeros;
//   3. one VMSA page per vCPU.
//
// The result equals sev-snp-measure 0.0.13 `--mode snp` bit for bit. Large inputs are
// streamed: the firmware's pages and the kernel's and initrd's SHA-256 are computed at the
// same time on separate threads, each through one fixed buffer.

import Dispatch
import Foundation
import Synchronization

/// What to measure: the firmware and direct-boot inputs, and how the VMM starts the vCPUs.
public struct LaunchConfiguration: Sendable {
    /// The largest vCPU count accepted (KVM's limit on x86).
    public static let maximumVCPUs = 4096

    /// The OVMF image (`--ovmf`).
    public var firmwarePath: String
    /// The number of vCPUs (`--vcpus`).
    public var vcpus: Int
    /// The vCPU signature; required for QEMU, ignored by EC2 and GCE.
    public var vcpuSignature: VCPUSignature?
    /// SEV_FEATURES of every VMSA (`--guest-features`).
    public var guestFeatures: GuestFeatures
    /// The VMM whose launch sequence is reproduced (`--vmm-type`).
    public var vmm: VMMType
    /// The kernel for direct boot (`--kernel`); needs a firmware with SNP_KERNEL_HASHES.
    public var kernelPath: String?
    /// The initrd (`--initrd`); only with a kernel.
    public var initrdPath: String?
    /// The kernel command line (`--append`); only with a kernel.
    public var commandLine: String?
    /// The digest over the firmware's pages if already known (`--snp-ovmf-hash`): the image is
    /// then only read for its tables.
    public var firmwareDigest: LaunchDigest?

    public init(
        firmwarePath: String, vcpus: Int, vcpuSignature: VCPUSignature?,
        guestFeatures: GuestFeatures = .default, vmm: VMMType = .qemu,
        kernelPath: String? = nil, initrdPath: String? = nil, commandLine: String? = nil,
        firmwareDigest: LaunchDigest? = nil
    ) {
        self.firmwarePath = firmwarePath
        self.vcpus = vcpus
        self.vcpuSignature = vcpuSignature
        self.guestFeatures = guestFeatures
        self.vmm = vmm
        self.kernelPath = kernelPath
        self.initrdPath = initrdPath
        self.commandLine = commandLine
        self.firmwareDigest = firmwareDigest
    }
}

/// A computed launch measurement and the intermediate values a reference-values file records.
public struct LaunchMeasurementResult: Sendable {
    /// The expected MEASUREMENT of the guest's attestation reports.
    public let measurement: LaunchDigest
    /// The digest after the firmware's pages alone (what `--snp-ovmf-hash` takes).
    public let firmwareDigest: LaunchDigest
    /// The kernel, initrd and command-line hashes, when a kernel was measured.
    public let hashes: SEVHashesTable?
    /// The VMSA pages that were measured.
    public let vmsaPages: VMSAPages
}

/// Computes SEV-SNP launch digests.
public enum LaunchMeasurement {
    /// The launch digest of the guest `configuration` describes.
    ///
    /// - Throws: `LaunchMeasurementError` naming the file or value that cannot be used.
    public static func measure(_ configuration: LaunchConfiguration) throws(LaunchMeasurementError) -> LaunchMeasurementResult {
        let config = configuration
        guard (1...LaunchConfiguration.maximumVCPUs).contains(config.vcpus) else {
            throw LaunchMeasurementError.invalidVCPUCount(config.vcpus)
        }
        if config.vmm.usesVCPUSignature && config.vcpuSignature == nil {
            throw LaunchMeasurementError.missingVCPUSignature(vmm: config.vmm.rawValue)
        }
        if config.kernelPath == nil {
            if config.initrdPath != nil { throw LaunchMeasurementError.inputWithoutKernel("--initrd") }
            if let commandLine = config.commandLine, !commandLine.isEmpty {
                throw LaunchMeasurementError.inputWithoutKernel("--append")
            }
        }

        // Everything that can fail on the firmware's tables fails before any hashing.
        let firmware = try OVMFFirmware(path: config.firmwarePath)
        if config.kernelPath != nil {
            guard firmware.hasMetadataSection(.snpKernelHashes) else {
                throw LaunchMeasurementError.kernelHashesUnsupported(path: firmware.path)
            }
            let zeros = [UInt8](repeating: 0, count: 32)
            for section in firmware.metadataSections where section.type == .snpKernelHashes {
                _ = try kernelHashesPage(SEVHashesTable(kernel: zeros, initrd: zeros, cmdline: zeros), firmware: firmware, section: section)
            }
        }
        let apResetEIP = try firmware.sevESResetEIP()
        if config.vcpus > 1 && apResetEIP == 0 {
            throw LaunchMeasurementError.missingAPResetAddress(path: firmware.path)
        }
        for (index, section) in firmware.metadataSections.enumerated() where section.type == nil {
            throw LaunchMeasurementError.unknownMetadataSection(path: firmware.path, index: index, type: section.rawType)
        }

        let (firmwareDigest, hashes) = try hashInputs(firmware: firmware, config: config)
        var context = LaunchDigestContext(seed: firmwareDigest)
        try addMetadataSections(of: firmware, hashes: hashes, vmm: config.vmm, to: &context)
        let vmsaPages = VMSAPages(
            apResetEIP: apResetEIP, features: config.guestFeatures, signature: config.vcpuSignature, vmm: config.vmm)
        for index in 0..<config.vcpus {
            // Checked above: an AP page exists whenever there is more than one vCPU.
            context.addVMSAPage(vmsaPages.page(forVCPU: index)!)
        }
        return LaunchMeasurementResult(
            measurement: context.digest, firmwareDigest: firmwareDigest, hashes: hashes, vmsaPages: vmsaPages)
    }

    /// The digest over the firmware's pages alone (`sev-snp-measure --mode snp:ovmf-hash`),
    /// to pass later as `LaunchConfiguration.firmwareDigest`.
    public static func firmwareDigest(ofFirmwareAt path: String) throws(LaunchMeasurementError) -> LaunchDigest {
        let firmware = try OVMFFirmware(path: path)
        var context = LaunchDigestContext()
        try firmware.addPages(to: &context)
        return context.digest
    }

    // MARK: - Steps

    /// Step 1 and the hashes step 2 needs, computed at the same time: the firmware's pages,
    /// the kernel's SHA-256 and the initrd's SHA-256 are independent until they are combined.
    private static func hashInputs(
        firmware: OVMFFirmware, config: LaunchConfiguration
    ) throws(LaunchMeasurementError) -> (LaunchDigest, SEVHashesTable?) {
        var jobs: [Job] = []
        if config.firmwareDigest == nil {
            jobs.append(Job(size: firmware.size) { () throws(LaunchMeasurementError) in
                var context = LaunchDigestContext()
                try firmware.addPages(to: &context)
                return context.digest.bytes
            })
        }
        if let kernel = config.kernelPath {
            jobs.append(Job(size: LaunchInputFile.sizeHint(kernel)) { () throws(LaunchMeasurementError) in
                try SEVHashesTable.sha256(ofFileAt: kernel)
            })
            if let initrd = config.initrdPath {
                jobs.append(Job(size: LaunchInputFile.sizeHint(initrd)) { () throws(LaunchMeasurementError) in
                    try SEVHashesTable.sha256(ofFileAt: initrd)
                })
            }
        }
        var results = try runConcurrently(jobs)

        let firmwareDigest: LaunchDigest
        if let known = config.firmwareDigest { firmwareDigest = known } else { firmwareDigest = try LaunchDigest(bytes: results.removeFirst()) }
        guard config.kernelPath != nil else { return (firmwareDigest, nil) }
        let kernel = results.removeFirst()
        let initrd = config.initrdPath == nil ? SEVHashesTable.emptyInitrd : results.removeFirst()
        let hashes = SEVHashesTable(
            kernel: kernel, initrd: initrd, cmdline: SEVHashesTable.sha256(commandLine: config.commandLine))
        return (firmwareDigest, hashes)
    }

    /// Step 2: the SEV metadata sections, as the VMM adds them.
    private static func addMetadataSections(
        of firmware: OVMFFirmware, hashes: SEVHashesTable?, vmm: VMMType, to context: inout LaunchDigestContext
    ) throws(LaunchMeasurementError) {
        for (index, section) in firmware.metadataSections.enumerated() {
            let gpa = UInt64(section.gpa), size = UInt64(section.size)
            guard size % UInt64(LaunchDigestContext.pageSize) == 0 else {
                throw LaunchMeasurementError.malformedFirmware(
                    path: firmware.path, field: "SEV metadata section at 0x\(String(gpa, radix: 16))",
                    reason: "size 0x\(String(size, radix: 16)) is not a whole number of pages")
            }
            switch section.type {
            case .snpSecMem:
                if vmm == .gce {
                    context.addUnmeasuredPages(gpa: gpa, length: size)
                } else {
                    context.addZeroPages(gpa: gpa, length: size)
                }
            case .snpSecrets:
                context.addSecretsPage(gpa: gpa)
            case .cpuid:
                if vmm != .ec2 { context.addCPUIDPage(gpa: gpa) }
            case .snpKernelHashes:
                if let hashes {
                    let page = try kernelHashesPage(hashes, firmware: firmware, section: section)
                    context.addNormalPages(page, gpa: gpa)
                } else {
                    context.addZeroPages(gpa: gpa, length: size)
                }
            case .svsmCAA:
                context.addZeroPages(gpa: gpa, length: size)
            case nil:
                throw LaunchMeasurementError.unknownMetadataSection(path: firmware.path, index: index, type: section.rawType)
            }
        }
        // EC2 adds the CPUID page after every other section.
        if vmm == .ec2 {
            for section in firmware.metadataSections where section.type == .cpuid {
                context.addCPUIDPage(gpa: UInt64(section.gpa))
            }
        }
    }

    /// The kernel-hashes page: the SEV hashes table at the in-page offset of the GPA the
    /// firmware's footer table gives for it.
    private static func kernelHashesPage(
        _ hashes: SEVHashesTable, firmware: OVMFFirmware, section: SEVMetadataSection
    ) throws(LaunchMeasurementError) -> [UInt8] {
        let field = "SNP_KERNEL_HASHES section"
        guard section.size == UInt32(LaunchDigestContext.pageSize) else {
            throw LaunchMeasurementError.malformedFirmware(
                path: firmware.path, field: field, reason: "size 0x\(String(section.size, radix: 16)) is not one page")
        }
        let offset = Int(try firmware.sevHashesTableGPA()) & (LaunchDigestContext.pageSize - 1)
        guard let page = hashes.page(tableOffset: offset) else {
            throw LaunchMeasurementError.malformedFirmware(
                path: firmware.path, field: field, reason: "the hashes table does not fit at page offset 0x\(String(offset, radix: 16))")
        }
        return page
    }

    /// A piece of hashing work, with the size of the file it reads.
    private struct Job: Sendable {
        let size: UInt64
        let run: @Sendable () throws(LaunchMeasurementError) -> [UInt8]
    }

    /// Runs `jobs` at the same time, largest file first, the largest on the calling thread and
    /// each other one on a thread of its own, and returns their results in the given order, or
    /// the first job's error.
    private static func runConcurrently(_ jobs: [Job]) throws(LaunchMeasurementError) -> [[UInt8]] {
        if jobs.count <= 1 { return try jobs.map { job throws(LaunchMeasurementError) in try job.run() } }
        let order = jobs.indices.sorted { jobs[$0].size > jobs[$1].size }
        let results = Mutex<[Result<[UInt8], LaunchMeasurementError>?]>(Array(repeating: nil, count: jobs.count))
        let finished = DispatchSemaphore(value: 0)
        for index in order.dropFirst() {
            let job = jobs[index]
            Thread.detachNewThread {
                let result = Result { () throws(LaunchMeasurementError) in try job.run() }
                results.withLock { $0[index] = result }
                finished.signal()
            }
        }
        let first = Result { () throws(LaunchMeasurementError) in try jobs[order[0]].run() }
        results.withLock { $0[order[0]] = first }
        for _ in order.dropFirst() { finished.wait() }
        return try results.withLock { $0 }.map { result throws(LaunchMeasurementError) in try result!.get() }
    }
}

// The VMSA: each vCPU's initial register state, encrypted and measured as one page at launch
// (SNP_LAUNCH_UPDATE with PAGE_TYPE_VMSA). Its layout is the SEV-ES save area of AMD APM
// Vol. 2, Table B-4 (Linux: `struct sev_es_save_area`); its values are the x86 reset state
// as KVM sets it for an SEV-SNP guest, with the small differences each VMM introduces.
//
// The bootstrap processor (vCPU 0) starts at the reset vector 0xFFFFFFF0; every other vCPU
// starts at the AP reset address OVMF declares in its SEV-ES reset block.

/// A segment register in the save area: selector, attributes, limit, base (16 bytes).
public struct VMSASegment: Sendable, Hashable {
    public var selector: UInt16
    public var attributes: UInt16
    public var limit: UInt32
    public var base: UInt64

    public init(selector: UInt16, attributes: UInt16, limit: UInt32, base: UInt64) {
        self.selector = selector
        self.attributes = attributes
        self.limit = limit
        self.base = base
    }

    /// A real-mode data segment as the reset state has it.
    fileprivate static func realMode(attributes: UInt16) -> VMSASegment {
        VMSASegment(selector: 0, attributes: attributes, limit: 0xFFFF, base: 0)
    }
}

/// The fields of the save area a launch sets; every other byte of the page is zero.
public struct VMSASaveArea: Sendable, Hashable {
    /// The reset vector of the bootstrap processor.
    public static let bspResetEIP: UInt32 = 0xFFFF_FFF0

    public var es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr: VMSASegment
    public var efer, cr4, cr0, dr7, dr6, rflags, rip: UInt64
    public var gPAT: UInt64
    public var rdx: UInt64
    public var sevFeatures: UInt64
    public var xcr0: UInt64
    public var mxcsr: UInt32
    public var x87FCW: UInt16

    /// The reset state of a vCPU starting at `eip`, as `vmm` sets it up.
    ///
    /// The code segment's base holds the upper half of `eip` and RIP the lower half, as after
    /// an x86 reset. QEMU puts the vCPU signature in RDX and initialises MXCSR and the x87
    /// control word (KVM ≥ 6.9); EC2 and GCE put 0x600 in RDX and leave the FPU state zero;
    /// EC2 also differs in segment attributes, GCE in its PAT.
    public init(eip: UInt32, features: GuestFeatures, signature: VCPUSignature?, vmm: VMMType) {
        let csAttributes: UInt16, ssAttributes: UInt16, trAttributes: UInt16
        switch vmm {
        case .qemu:
            (csAttributes, ssAttributes, trAttributes) = (0x9B, 0x93, 0x8B)
            rdx = UInt64(signature?.rawValue ?? 0)
            (mxcsr, x87FCW) = (0x1F80, 0x37F)
            gPAT = Self.defaultPAT
        case .ec2:
            csAttributes = eip == Self.bspResetEIP ? 0x9A : 0x9B
            (ssAttributes, trAttributes) = (0x92, 0x83)
            rdx = 0x600
            (mxcsr, x87FCW) = (0, 0)
            gPAT = Self.defaultPAT
        case .gce:
            (csAttributes, ssAttributes, trAttributes) = (0x9B, 0x93, 0x8B)
            rdx = 0x600
            (mxcsr, x87FCW) = (0, 0)
            gPAT = 0x0007_0106  // the GCE hypervisor sets its own PAT
        }
        es = .realMode(attributes: 0x93)
        cs = VMSASegment(selector: 0xF000, attributes: csAttributes, limit: 0xFFFF, base: UInt64(eip & 0xFFFF_0000))
        ss = .realMode(attributes: ssAttributes)
        ds = .realMode(attributes: 0x93)
        fs = .realMode(attributes: 0x93)
        gs = .realMode(attributes: 0x93)
        gdtr = .realMode(attributes: 0)
        ldtr = .realMode(attributes: 0x82)
        idtr = .realMode(attributes: 0)
        tr = .realMode(attributes: trAttributes)
        efer = 0x1000  // SVME: KVM enables it for SEV-ES guests
        cr4 = 0x40  // MCE: KVM enables it
        cr0 = 0x10  // ET
        dr7 = 0x400
        dr6 = 0xFFFF_0FF0
        rflags = 0x2
        rip = UInt64(eip & 0xFFFF)
        sevFeatures = features.rawValue
        xcr0 = 0x1
    }

    /// The PAT MSR's power-on value (AMD APM Vol. 2, section A.3).
    public static let defaultPAT: UInt64 = 0x0007_0406_0007_0406

    /// The 4 KiB VMSA page.
    public var page: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: LaunchDigestContext.pageSize) { buffer, count in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            raw.initializeMemory(as: UInt8.self, repeating: 0)
            let segments = [es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr]
            for (index, segment) in segments.enumerated() {
                let offset = Offset.segments + 16 * index
                raw.storeBytes(of: segment.selector.littleEndian, toByteOffset: offset, as: UInt16.self)
                raw.storeBytes(of: segment.attributes.littleEndian, toByteOffset: offset + 2, as: UInt16.self)
                raw.storeBytes(of: segment.limit.littleEndian, toByteOffset: offset + 4, as: UInt32.self)
                raw.storeBytes(of: segment.base.littleEndian, toByteOffset: offset + 8, as: UInt64.self)
            }
            let quadwords: [(Int, UInt64)] = [
                (Offset.efer, efer), (Offset.cr4, cr4), (Offset.cr0, cr0), (Offset.dr7, dr7),
                (Offset.dr6, dr6), (Offset.rflags, rflags), (Offset.rip, rip), (Offset.gPAT, gPAT),
                (Offset.rdx, rdx), (Offset.sevFeatures, sevFeatures), (Offset.xcr0, xcr0),
            ]
            for (offset, value) in quadwords {
                raw.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt64.self)
            }
            raw.storeBytes(of: mxcsr.littleEndian, toByteOffset: Offset.mxcsr, as: UInt32.self)
            raw.storeBytes(of: x87FCW.littleEndian, toByteOffset: Offset.x87FCW, as: UInt16.self)
            count = LaunchDigestContext.pageSize
        }
    }

    /// Byte offsets in the save area (AMD APM Vol. 2, Table B-4).
    public enum Offset {
        /// ES, CS, SS, DS, FS, GS, GDTR, LDTR, IDTR, TR: 16 bytes each.
        public static let segments = 0x000
        public static let efer = 0x0D0
        public static let cr4 = 0x148
        public static let cr0 = 0x158
        public static let dr7 = 0x160
        public static let dr6 = 0x168
        public static let rflags = 0x170
        public static let rip = 0x178
        public static let gPAT = 0x268
        public static let rdx = 0x310
        public static let sevFeatures = 0x3B0
        public static let xcr0 = 0x3E8
        public static let mxcsr = 0x408
        public static let x87FCW = 0x410
    }
}

/// The VMSA pages of a guest: one for the bootstrap processor, one shared by all APs.
public struct VMSAPages: Sendable {
    /// vCPU 0's page.
    public let bootstrap: [UInt8]
    /// The page of every other vCPU; nil when the firmware has no AP reset address.
    public let application: [UInt8]?

    /// Builds the pages for a guest whose APs start at `apResetEIP` (0: no APs possible).
    public init(apResetEIP: UInt32, features: GuestFeatures, signature: VCPUSignature?, vmm: VMMType) {
        bootstrap = VMSASaveArea(eip: VMSASaveArea.bspResetEIP, features: features, signature: signature, vmm: vmm).page
        application = apResetEIP == 0
            ? nil : VMSASaveArea(eip: apResetEIP, features: features, signature: signature, vmm: vmm).page
    }

    /// The page of vCPU `index` (0-based); nil for an AP when there is no AP page.
    public func page(forVCPU index: Int) -> [UInt8]? {
        index == 0 ? bootstrap : application
    }
}

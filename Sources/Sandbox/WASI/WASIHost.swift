import Glibc

/// The host side of WASI preview 1 for one component run, written for the sandbox rather than
/// borrowed from a general-purpose WASI library, so that every function is visibly confined:
/// files are the ``VirtualFileSystem`` (`/in` read-only, `/out` declared names only), the
/// environment is empty, stdin is empty, stdout and stderr are captured, clocks and randomness
/// exist only when granted, and nothing reaches a host file, socket or process.
///
/// The host is engine-neutral: an engine adapter calls ``call(_:_:memory:)`` with the raw
/// integer arguments and the guest memory, and returns the errno it gets back.
final class WASIHost {
    let arguments: [String]
    let capabilities: SandboxCapabilities
    let fileSystem: VirtualFileSystem
    var stdout: StreamCapture
    var stderr: StreamCapture
    /// Open descriptors by number; 0–2 are stdio, 3 and 4 the preopened `/in` and `/out`.
    var descriptors: [UInt32: Descriptor] = [:]

    /// The most descriptors open at once.
    static let maxDescriptors = 64

    init(arguments: [String], inputs: [String: [UInt8]], inputFiles: [String: SandboxInputFile] = [:],
         outputLimits: [String: Int], capabilities: SandboxCapabilities, streamLimit: Int) {
        self.arguments = arguments
        self.capabilities = capabilities
        self.fileSystem = VirtualFileSystem(inputs: inputs.mapValues { .bytes($0) }.merging(inputFiles.mapValues { .file($0) }) { $1 },
                                            outputLimits: outputLimits)
        self.stdout = StreamCapture(limit: streamLimit)
        self.stderr = StreamCapture(limit: streamLimit)
        descriptors[0] = Descriptor(target: .stdin, rightsBase: WASIABI.Rights.fdRead, rightsInheriting: 0)
        descriptors[1] = Descriptor(target: .stdout, rightsBase: WASIABI.Rights.fdWrite, rightsInheriting: 0)
        descriptors[2] = Descriptor(target: .stderr, rightsBase: WASIABI.Rights.fdWrite, rightsInheriting: 0)
        descriptors[3] = Descriptor.preopen(.inputs)
        descriptors[4] = Descriptor.preopen(.outputs)
    }

    /// Whether `function` is linked for this run: its group must be granted.
    func provides(_ function: WASIFunction) -> Bool {
        capabilities.groups.contains(function.group)
    }

    /// Runs `function` with raw arguments (i32 and i64 as their bit patterns). Returns the errno
    /// for functions that return one, nil for `proc_exit` (which throws instead). Throws
    /// ``HostStop`` to end the run; every other failure is an errno.
    func call(_ function: WASIFunction, _ arguments: [UInt64], memory: any GuestMemory) throws(HostStop) -> UInt32? {
        guard provides(function) else { return UInt32(WASIABI.Errno.nosys.rawValue) }
        do {
            try dispatch(function, Arguments(arguments), memory)
            return UInt32(WASIABI.Errno.success.rawValue)
        } catch let errno as WASIABI.Errno {
            return UInt32(errno.rawValue)
        } catch let stop as HostStop {
            throw stop
        } catch {
            return UInt32(WASIABI.Errno.io.rawValue)
        }
    }

    private func dispatch(_ function: WASIFunction, _ a: Arguments, _ memory: any GuestMemory) throws {
        switch function {
        case .argsSizesGet: try sizes(of: arguments, a.u32(0), a.u32(1), memory)
        case .argsGet: try strings(arguments, a.u32(0), a.u32(1), memory)
        case .environSizesGet: try sizes(of: [], a.u32(0), a.u32(1), memory)
        case .environGet: try strings([], a.u32(0), a.u32(1), memory)
        case .clockResGet: try memory.storeU64(try clockResolution(a.u32(0)), at: a.u32(1))
        case .clockTimeGet: try memory.storeU64(try clockNow(a.u32(0)), at: a.u32(2))
        case .pollOneoff: try pollOneoff(a.u32(0), a.u32(1), a.u32(2), a.u32(3), memory)
        case .randomGet: try randomGet(a.u32(0), a.u32(1), memory)
        case .procExit: throw HostStop.exit(a.u32(0))
        case .schedYield: return
        case .fdAdvise: _ = try file(a.u32(0))
        case .fdAllocate: throw WASIABI.Errno.notsup
        case .fdClose: try close(a.u32(0))
        case .fdDatasync, .fdSync: _ = try descriptor(a.u32(0))
        case .fdFdstatGet: try fdstat(a.u32(0), a.u32(1), memory)
        case .fdFdstatSetFlags: try setFlags(a.u32(0), UInt16(truncatingIfNeeded: a.u64(1)))
        case .fdFdstatSetRights: try setRights(a.u32(0), a.u64(1), a.u64(2))
        case .fdFilestatGet: try filestat(of: try descriptor(a.u32(0)).node, a.u32(1), memory)
        case .fdFilestatSetSize: try setSize(a.u32(0), a.u64(1))
        case .fdFilestatSetTimes, .pathFilestatSetTimes: throw WASIABI.Errno.notsup
        case .fdPread: try read(a.u32(0), a.u32(1), a.u32(2), at: a.u64(3), a.u32(4), memory)
        case .fdRead: try read(a.u32(0), a.u32(1), a.u32(2), at: nil, a.u32(3), memory)
        case .fdPwrite: try write(a.u32(0), a.u32(1), a.u32(2), at: a.u64(3), a.u32(4), memory)
        case .fdWrite: try write(a.u32(0), a.u32(1), a.u32(2), at: nil, a.u32(3), memory)
        case .fdPrestatGet: try prestat(a.u32(0), a.u32(1), memory)
        case .fdPrestatDirName: try prestatName(a.u32(0), a.u32(1), a.u32(2), memory)
        case .fdReaddir: try readdir(a.u32(0), a.u32(1), a.u32(2), cookie: a.u64(3), a.u32(4), memory)
        case .fdRenumber: try renumber(a.u32(0), a.u32(1))
        case .fdSeek: try seek(a.u32(0), Int64(bitPattern: a.u64(1)), a.u32(2), a.u32(3), memory)
        case .fdTell: try memory.storeU64(UInt64(try file(a.u32(0)).position), at: a.u32(1))
        case .pathOpen:
            try pathOpen(directory: a.u32(0), path: try memory.loadPath(a.u32(2), length: a.u32(3)),
                         openFlags: a.u32(4), rights: a.u64(5), inheriting: a.u64(6),
                         flags: UInt16(truncatingIfNeeded: a.u64(7)), result: a.u32(8), memory)
        case .pathFilestatGet:
            try filestat(of: try resolve(a.u32(0), try memory.loadPath(a.u32(2), length: a.u32(3))), a.u32(4), memory)
        case .pathUnlinkFile: try unlink(a.u32(0), try memory.loadPath(a.u32(1), length: a.u32(2)))
        case .pathReadlink:
            _ = try resolve(a.u32(0), try memory.loadPath(a.u32(1), length: a.u32(2)))
            throw WASIABI.Errno.inval  // nothing here is a symbolic link
        case .pathCreateDirectory, .pathRemoveDirectory, .pathLink, .pathRename, .pathSymlink:
            try refuseTreeChange(a.u32(0))
        case .procRaise, .sockAccept, .sockRecv, .sockSend, .sockShutdown:
            throw WASIABI.Errno.nosys  // never linked (see `provides`); kept for exhaustiveness
        }
    }

    // MARK: - Arguments and environment

    private func sizes(of strings: [String], _ countAddress: UInt32, _ sizeAddress: UInt32, _ memory: any GuestMemory) throws {
        try memory.storeU32(UInt32(strings.count), at: countAddress)
        try memory.storeU32(UInt32(strings.reduce(0) { $0 + $1.utf8.count + 1 }), at: sizeAddress)
    }

    private func strings(_ strings: [String], _ pointers: UInt32, _ buffer: UInt32, _ memory: any GuestMemory) throws {
        var offset = UInt64(buffer)
        for (index, string) in strings.enumerated() {
            let bytes = Array(string.utf8) + [0]
            guard offset + UInt64(bytes.count) <= UInt64(memory.byteCount) else { throw WASIABI.Errno.fault }
            try memory.storeU32(UInt32(offset), at: pointers &+ UInt32(index * 4))
            try memory.store(bytes, at: UInt32(offset))
            offset += UInt64(bytes.count)
        }
    }

    // MARK: - Clocks and randomness (only when granted)

    private func clockResolution(_ id: UInt32) throws -> UInt64 {
        guard WASIABI.ClockID(rawValue: id) != nil else { throw WASIABI.Errno.inval }
        return 1_000
    }

    func clockNow(_ id: UInt32) throws -> UInt64 {
        guard let clock = WASIABI.ClockID(rawValue: id) else { throw WASIABI.Errno.inval }
        let hostClock: clockid_t
        switch clock {
        case .realtime: hostClock = CLOCK_REALTIME
        case .monotonic: hostClock = CLOCK_MONOTONIC
        case .processCPUTime: hostClock = CLOCK_PROCESS_CPUTIME_ID
        case .threadCPUTime: hostClock = CLOCK_THREAD_CPUTIME_ID
        }
        var now = timespec()
        guard clock_gettime(hostClock, &now) == 0 else { throw WASIABI.Errno.io }
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    private func randomGet(_ address: UInt32, _ length: UInt32, _ memory: any GuestMemory) throws {
        var generator = SystemRandomNumberGenerator()
        try memory.withBytes(at: address, count: Int(length)) { buffer in
            for index in buffer.indices { buffer[index] = generator.next() }
        }
    }
}

/// The raw arguments of one call, read as the types preview 1 declares.
struct Arguments {
    private let values: [UInt64]
    init(_ values: [UInt64]) { self.values = values }
    func u32(_ index: Int) -> UInt32 { UInt32(truncatingIfNeeded: values[index]) }
    func u64(_ index: Int) -> UInt64 { values[index] }
}

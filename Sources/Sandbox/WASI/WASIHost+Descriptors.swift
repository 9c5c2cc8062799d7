/// `fd_*`: reading, writing, seeking and describing open descriptors.
extension WASIHost {
    func descriptor(_ fd: UInt32) throws -> Descriptor {
        guard let descriptor = descriptors[fd] else { throw WASIABI.Errno.badf }
        return descriptor
    }

    /// A descriptor that is a file (not stdio, not a directory).
    func file(_ fd: UInt32) throws -> Descriptor {
        let descriptor = try descriptor(fd)
        switch descriptor.target {
        case .input, .output: return descriptor
        case .directory: throw WASIABI.Errno.isdir
        case .stdin, .stdout, .stderr: throw WASIABI.Errno.spipe
        }
    }

    func close(_ fd: UInt32) throws {
        guard descriptors.removeValue(forKey: fd) != nil else { throw WASIABI.Errno.badf }
    }

    func renumber(_ from: UInt32, _ to: UInt32) throws {
        let moved = try descriptor(from)
        _ = try descriptor(to)
        descriptors[to] = moved
        descriptors[from] = nil
    }

    func fdstat(_ fd: UInt32, _ address: UInt32, _ memory: any GuestMemory) throws {
        let descriptor = try descriptor(fd)
        try memory.store(repeatElement(0, count: WASIABI.FDStat.size), at: address)
        try memory.storeU8(descriptor.fileType.rawValue, at: address + UInt32(WASIABI.FDStat.filetype))
        try memory.storeU16(descriptor.flags, at: address + UInt32(WASIABI.FDStat.flags))
        try memory.storeU64(descriptor.rightsBase, at: address + UInt32(WASIABI.FDStat.rightsBase))
        try memory.storeU64(descriptor.rightsInheriting, at: address + UInt32(WASIABI.FDStat.rightsInheriting))
    }

    func setFlags(_ fd: UInt32, _ flags: UInt16) throws {
        var descriptor = try descriptor(fd)
        descriptor.flags = flags & WASIABI.FDFlags.append
        descriptors[fd] = descriptor
    }

    /// Rights may only be dropped, never gained.
    func setRights(_ fd: UInt32, _ base: UInt64, _ inheriting: UInt64) throws {
        var descriptor = try descriptor(fd)
        guard base & ~descriptor.rightsBase == 0, inheriting & ~descriptor.rightsInheriting == 0 else {
            throw WASIABI.Errno.notcapable
        }
        descriptor.rightsBase = base
        descriptor.rightsInheriting = inheriting
        descriptors[fd] = descriptor
    }

    func filestat(of node: VirtualFileSystem.Node?, _ address: UInt32, _ memory: any GuestMemory) throws {
        try memory.store(repeatElement(0, count: WASIABI.FileStat.size), at: address)
        let type: WASIABI.FileType
        var size = 0, inode: UInt64 = 0
        switch node {
        case nil: type = .characterDevice
        case let .directory(directory)?:
            type = .directory
            inode = directory == .inputs ? 1 : 2
        case let .input(name)?:
            type = .regularFile
            size = fileSystem.size(of: .input(name))
            inode = 0x1_0000 + UInt64(fileSystem.entries(of: .inputs).firstIndex(of: name) ?? 0)
        case let .output(name, exists)?:
            guard exists else { throw WASIABI.Errno.noent }
            type = .regularFile
            size = fileSystem.size(of: .output(name, exists: true))
            inode = 0x2_0000 + UInt64(fileSystem.outputLimits.keys.sorted().firstIndex(of: name) ?? 0)
        }
        try memory.storeU64(inode, at: address + UInt32(WASIABI.FileStat.inode))
        try memory.storeU8(type.rawValue, at: address + UInt32(WASIABI.FileStat.filetype))
        try memory.storeU64(1, at: address + UInt32(WASIABI.FileStat.linkCount))
        try memory.storeU64(UInt64(size), at: address + UInt32(WASIABI.FileStat.fileSize))
    }

    func setSize(_ fd: UInt32, _ size: UInt64) throws {
        let descriptor = try file(fd)
        guard case let .output(name) = descriptor.target else { throw WASIABI.Errno.rofs }
        try descriptor.require(WASIABI.Rights.fdFilestatSetSize)
        guard size <= UInt64(Int32.max) else { throw HostStop.violation(.outputTooLarge(name: name, limit: fileSystem.outputLimits[name] ?? 0)) }
        try fileSystem.resize(output: name, to: Int(size))
    }

    /// `fd_read` (offset nil: from and advancing the position) and `fd_pread`.
    func read(_ fd: UInt32, _ vectors: UInt32, _ count: UInt32, at offset: UInt64?, _ result: UInt32,
              _ memory: any GuestMemory) throws {
        var descriptor = try descriptor(fd)
        try descriptor.require(WASIABI.Rights.fdRead)
        let content: InputContent
        switch descriptor.target {
        case .stdin:
            guard offset == nil else { throw WASIABI.Errno.spipe }
            content = .bytes([])
        case let .input(name): content = fileSystem.inputs[name] ?? .bytes([])
        case .directory: throw WASIABI.Errno.isdir
        case .stdout, .stderr, .output: throw WASIABI.Errno.badf
        }
        var position = offset.map { Int(clamping: $0) } ?? descriptor.position
        var total = 0
        for vector in try memory.loadVectors(vectors, count: count) where position < content.size {
            let n = min(vector.length, content.size - position)
            try content.copy(from: position, count: n, to: vector.address, in: memory)
            position += n
            total += n
        }
        if offset == nil {
            descriptor.position = position
            descriptors[fd] = descriptor
        }
        try memory.storeU32(UInt32(total), at: result)
    }

    /// `fd_write` (offset nil: at the position, or the end when appending) and `fd_pwrite`.
    func write(_ fd: UInt32, _ vectors: UInt32, _ count: UInt32, at offset: UInt64?, _ result: UInt32,
               _ memory: any GuestMemory) throws {
        var descriptor = try descriptor(fd)
        try descriptor.require(WASIABI.Rights.fdWrite)
        let chunks = try memory.loadVectors(vectors, count: count)
        var total = 0
        switch descriptor.target {
        case .stdout, .stderr:
            guard offset == nil else { throw WASIABI.Errno.spipe }
            for chunk in chunks {
                let bytes = try memory.load(chunk.address, count: chunk.length)
                if descriptor.target == .stdout { stdout.append(bytes) } else { stderr.append(bytes) }
                total += bytes.count
            }
        case let .output(name):
            let append = descriptor.flags & WASIABI.FDFlags.append != 0
            var position = offset.map { Int(clamping: min($0, UInt64(Int32.max))) }
                ?? (append ? fileSystem.size(of: .output(name, exists: true)) : descriptor.position)
            for chunk in chunks {
                let bytes = try memory.load(chunk.address, count: chunk.length)
                try fileSystem.write(bytes, toOutput: name, at: position)
                position += bytes.count
                total += bytes.count
            }
            if offset == nil {
                descriptor.position = position
                descriptors[fd] = descriptor
            }
        case .directory: throw WASIABI.Errno.isdir
        case .stdin, .input: throw WASIABI.Errno.badf
        }
        try memory.storeU32(UInt32(total), at: result)
    }

    func seek(_ fd: UInt32, _ offset: Int64, _ whence: UInt32, _ result: UInt32, _ memory: any GuestMemory) throws {
        var descriptor = try file(fd)
        try descriptor.require(WASIABI.Rights.fdSeek)
        guard let whence = WASIABI.Whence(rawValue: whence) else { throw WASIABI.Errno.inval }
        let base: Int64
        switch whence {
        case .set: base = 0
        case .current: base = Int64(descriptor.position)
        case .end: base = Int64(fileSystem.size(of: descriptor.node!))
        }
        let (position, overflow) = base.addingReportingOverflow(offset)
        guard !overflow, position >= 0, position <= Int64(Int32.max) else { throw WASIABI.Errno.inval }
        descriptor.position = Int(position)
        descriptors[fd] = descriptor
        try memory.storeU64(UInt64(position), at: result)
    }

    func prestat(_ fd: UInt32, _ address: UInt32, _ memory: any GuestMemory) throws {
        let descriptor = try descriptor(fd)
        guard descriptor.isPreopen, case let .directory(directory) = descriptor.target else { throw WASIABI.Errno.badf }
        try memory.store(repeatElement(0, count: WASIABI.Prestat.size), at: address)
        try memory.storeU32(UInt32(directory.path.utf8.count), at: address + UInt32(WASIABI.Prestat.nameLength))
    }

    func prestatName(_ fd: UInt32, _ address: UInt32, _ length: UInt32, _ memory: any GuestMemory) throws {
        let descriptor = try descriptor(fd)
        guard descriptor.isPreopen, case let .directory(directory) = descriptor.target else { throw WASIABI.Errno.badf }
        try memory.store(Array(directory.path.utf8).prefix(Int(length)), at: address)
    }

    /// `fd_readdir`: entries from `cookie` on, each a `dirent` and its name, cut off at the end
    /// of the buffer (a full buffer tells the guest to ask again).
    func readdir(_ fd: UInt32, _ buffer: UInt32, _ length: UInt32, cookie: UInt64, _ result: UInt32,
                 _ memory: any GuestMemory) throws {
        guard case let .directory(directory) = try descriptor(fd).target else { throw WASIABI.Errno.notdir }
        var bytes: [UInt8] = []
        let names = fileSystem.entries(of: directory)
        var index = Int(clamping: cookie)
        while index < names.count, bytes.count < Int(length) {
            var entry = [UInt8](repeating: 0, count: WASIABI.Dirent.size)
            let name = Array(names[index].utf8)
            withUnsafeBytes(of: UInt64(index + 1).littleEndian) { entry.replaceSubrange(0..<8, with: $0) }
            withUnsafeBytes(of: UInt64(index + 3).littleEndian) { entry.replaceSubrange(8..<16, with: $0) }
            withUnsafeBytes(of: UInt32(name.count).littleEndian) { entry.replaceSubrange(16..<20, with: $0) }
            entry[WASIABI.Dirent.type] = WASIABI.FileType.regularFile.rawValue
            bytes += entry + name
            index += 1
        }
        let used = min(bytes.count, Int(length))
        try memory.store(bytes.prefix(used), at: buffer)
        try memory.storeU32(UInt32(used), at: result)
    }
}

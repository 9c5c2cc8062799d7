import Glibc

/// `path_*`: opening and inspecting names under `/in` and `/out`.
extension WASIHost {
    /// The directory a path is relative to.
    func directory(_ fd: UInt32) throws -> VirtualFileSystem.Directory {
        guard case let .directory(directory) = try descriptor(fd).target else { throw WASIABI.Errno.notdir }
        return directory
    }

    func resolve(_ fd: UInt32, _ path: String) throws -> VirtualFileSystem.Node {
        try fileSystem.resolve(path, in: try directory(fd))
    }

    /// `path_open`. Write intent (write rights, create or truncate) under `/in` is `EROFS`; under
    /// `/out` a file may be created only under a declared name (anything else stops the run),
    /// and is write-only. Rights are what was asked for, within what the directory passes on.
    func pathOpen(directory fd: UInt32, path: String, openFlags: UInt32, rights: UInt64, inheriting: UInt64,
                  flags: UInt16, result: UInt32, _ memory: any GuestMemory) throws {
        let parent = try descriptor(fd)
        try parent.require(WASIABI.Rights.pathOpen)
        guard case let .directory(directory) = parent.target else { throw WASIABI.Errno.notdir }
        let create = openFlags & WASIABI.OpenFlags.create != 0
        let truncate = openFlags & WASIABI.OpenFlags.truncate != 0
        let wantsWrite = create || truncate || rights & WASIABI.Rights.fdWrite != 0
            || flags & WASIABI.FDFlags.append != 0

        let node: VirtualFileSystem.Node
        do {
            node = try fileSystem.resolve(path, in: directory)
        } catch WASIABI.Errno.noent where directory == .inputs && create {
            throw WASIABI.Errno.rofs
        }

        var opened: Descriptor
        switch node {
        case let .directory(target):
            guard !wantsWrite else { throw WASIABI.Errno.isdir }
            opened = Descriptor(target: .directory(target), rightsBase: parent.rightsBase,
                                rightsInheriting: parent.rightsInheriting)
        case let .input(name):
            guard openFlags & WASIABI.OpenFlags.directory == 0 else { throw WASIABI.Errno.notdir }
            guard !wantsWrite else { throw WASIABI.Errno.rofs }
            guard !(create && openFlags & WASIABI.OpenFlags.exclusive != 0) else { throw WASIABI.Errno.exist }
            opened = Descriptor(target: .input(name), rightsBase: rights & parent.rightsInheriting
                                & WASIABI.Rights.readFile, rightsInheriting: 0)
        case let .output(name, exists):
            guard openFlags & WASIABI.OpenFlags.directory == 0 else { throw exists ? WASIABI.Errno.notdir : WASIABI.Errno.noent }
            if exists {
                guard !(create && openFlags & WASIABI.OpenFlags.exclusive != 0) else { throw WASIABI.Errno.exist }
            } else {
                guard create else { throw WASIABI.Errno.noent }
            }
            // Outputs are write-only: reading one back would make /out a scratch channel.
            guard wantsWrite else { throw WASIABI.Errno.access }
            try fileSystem.createOutput(name, truncate: truncate)
            opened = Descriptor(target: .output(name), rightsBase: rights & parent.rightsInheriting
                                & WASIABI.Rights.writeFile, rightsInheriting: 0)
        }
        opened.flags = flags & WASIABI.FDFlags.append
        let number = try allocateDescriptor()
        try memory.storeU32(number, at: result)
        descriptors[number] = opened
    }

    /// `path_unlink_file`: a created output may be removed (it then is not produced); inputs not.
    func unlink(_ fd: UInt32, _ path: String) throws {
        switch try resolve(fd, path) {
        case .directory: throw WASIABI.Errno.isdir
        case .input: throw WASIABI.Errno.rofs
        case let .output(name, exists):
            guard exists else { throw WASIABI.Errno.noent }
            try fileSystem.removeOutput(name)
            for (number, descriptor) in descriptors where descriptor.target == .output(name) {
                descriptors[number] = nil
            }
        }
    }

    /// Directories, links and renames do not exist in the sandbox: `EROFS` under `/in`,
    /// `ENOTCAPABLE` under `/out`.
    func refuseTreeChange(_ fd: UInt32) throws {
        throw try directory(fd) == .inputs ? WASIABI.Errno.rofs : WASIABI.Errno.notcapable
    }

    private func allocateDescriptor() throws -> UInt32 {
        guard descriptors.count < Self.maxDescriptors else { throw WASIABI.Errno.mfile }
        var number: UInt32 = 5
        while descriptors[number] != nil { number += 1 }
        return number
    }
}

/// `poll_oneoff`, linked only with the clock capability: waits on clock subscriptions; a
/// descriptor subscription is answered at once with `ENOTSUP` (nothing here ever blocks).
extension WASIHost {
    func pollOneoff(_ subscriptions: UInt32, _ events: UInt32, _ count: UInt32, _ result: UInt32,
                    _ memory: any GuestMemory) throws {
        guard count > 0, count <= 1024 else { throw WASIABI.Errno.inval }
        typealias Layout = WASIABI.Poll
        var deadlines: [(userData: UInt64, wait: UInt64)] = []
        var immediate: [(userData: UInt64, type: UInt8)] = []
        for index in 0..<count {
            let base = subscriptions &+ index &* UInt32(Layout.subscriptionSize)
            let userData = try memory.loadU64(base)
            let tag = try memory.loadU8(base &+ UInt32(Layout.subscriptionTag))
            guard tag == 0 else {
                immediate.append((userData, tag))
                continue
            }
            let clock = try memory.loadU32(base &+ UInt32(Layout.clockID))
            let timeout = try memory.loadU64(base &+ UInt32(Layout.clockTimeout))
            let absolute = try memory.loadU16(base &+ UInt32(Layout.clockFlags)) & Layout.absoluteTime != 0
            let now = try clockNow(clock)
            deadlines.append((userData, absolute ? (timeout > now ? timeout - now : 0) : timeout))
        }
        var fired: [(userData: UInt64, error: UInt16, type: UInt8)] = immediate.map {
            ($0.userData, WASIABI.Errno.notsup.rawValue, $0.type)
        }
        if fired.isEmpty, let shortest = deadlines.map(\.wait).min() {
            sleep(nanoseconds: shortest)
            fired = deadlines.filter { $0.wait == shortest }.map { ($0.userData, 0, 0) }
        }
        for (index, event) in fired.enumerated() {
            let base = events &+ UInt32(index * Layout.eventSize)
            try memory.store(repeatElement(0, count: Layout.eventSize), at: base)
            try memory.storeU64(event.userData, at: base)
            try memory.storeU16(event.error, at: base &+ UInt32(Layout.eventError))
            try memory.storeU8(event.type, at: base &+ UInt32(Layout.eventType))
        }
        try memory.storeU32(UInt32(fired.count), at: result)
    }

    private func sleep(nanoseconds: UInt64) {
        var request = timespec(tv_sec: Int(min(nanoseconds / 1_000_000_000, UInt64(Int32.max))),
                               tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}

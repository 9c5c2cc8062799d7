/// One open file descriptor of the guest.
struct Descriptor {
    enum Target: Equatable {
        case stdin, stdout, stderr
        case directory(VirtualFileSystem.Directory)
        case input(String)
        case output(String)
    }

    var target: Target
    var rightsBase: UInt64
    var rightsInheriting: UInt64
    var flags: UInt16 = 0
    /// The file offset (files only).
    var position = 0
    /// Preopened directories answer `fd_prestat_get`.
    var isPreopen = false

    /// `/in` or `/out` as the guest finds them at start: what files opened beneath may do.
    static func preopen(_ directory: VirtualFileSystem.Directory) -> Descriptor {
        let inheriting = directory == .inputs ? WASIABI.Rights.readFile : WASIABI.Rights.writeFile
        return Descriptor(target: .directory(directory), rightsBase: WASIABI.Rights.directory,
                          rightsInheriting: inheriting | WASIABI.Rights.directory, isPreopen: true)
    }

    var fileType: WASIABI.FileType {
        switch target {
        case .stdin, .stdout, .stderr: return .characterDevice
        case .directory: return .directory
        case .input, .output: return .regularFile
        }
    }

    /// The filesystem node behind the descriptor (stdio has none).
    var node: VirtualFileSystem.Node? {
        switch target {
        case .stdin, .stdout, .stderr: return nil
        case let .directory(directory): return .directory(directory)
        case let .input(name): return .input(name)
        case let .output(name): return .output(name, exists: true)
        }
    }

    func require(_ right: UInt64) throws {
        guard rightsBase & right == right else { throw WASIABI.Errno.notcapable }
    }
}

/// The numbers of WASI preview 1 (`wasi_snapshot_preview1`) that the host side needs: error
/// codes, file types, flags, rights and the byte layouts of the structures it writes into guest
/// memory. Values and offsets follow the witx definitions of the legacy preview 1 ABI.
enum WASIABI {
    /// `errno`: every preview 1 function returns one of these as its `i32` result.
    enum Errno: UInt16, Error {
        case success = 0
        case access = 2          // EACCES
        case badf = 8            // EBADF
        case exist = 20          // EEXIST
        case fault = 21          // EFAULT
        case inval = 28          // EINVAL
        case io = 29             // EIO
        case isdir = 31          // EISDIR
        case mfile = 33          // EMFILE
        case nametoolong = 37    // ENAMETOOLONG
        case noent = 44          // ENOENT
        case nosys = 52          // ENOSYS
        case notdir = 54         // ENOTDIR
        case notempty = 55       // ENOTEMPTY
        case notsup = 58         // ENOTSUP
        case overflow = 61       // EOVERFLOW
        case perm = 63           // EPERM
        case rofs = 69           // EROFS
        case spipe = 70          // ESPIPE
        case notcapable = 76     // ENOTCAPABLE
    }

    /// `filetype`.
    enum FileType: UInt8 {
        case unknown = 0
        case characterDevice = 2
        case directory = 3
        case regularFile = 4
    }

    /// `oflags` of `path_open`.
    enum OpenFlags {
        static let create: UInt32 = 1 << 0
        static let directory: UInt32 = 1 << 1
        static let exclusive: UInt32 = 1 << 2
        static let truncate: UInt32 = 1 << 3
    }

    /// `fdflags`.
    enum FDFlags {
        static let append: UInt16 = 1 << 0
    }

    /// `whence` of `fd_seek`.
    enum Whence: UInt32 {
        case set = 0, current = 1, end = 2
    }

    /// `rights`: what a descriptor may be used for.
    enum Rights {
        static let fdDatasync: UInt64 = 1 << 0
        static let fdRead: UInt64 = 1 << 1
        static let fdSeek: UInt64 = 1 << 2
        static let fdFdstatSetFlags: UInt64 = 1 << 3
        static let fdSync: UInt64 = 1 << 4
        static let fdTell: UInt64 = 1 << 5
        static let fdWrite: UInt64 = 1 << 6
        static let fdAdvise: UInt64 = 1 << 7
        static let fdAllocate: UInt64 = 1 << 8
        static let pathCreateFile: UInt64 = 1 << 10
        static let pathOpen: UInt64 = 1 << 13
        static let fdReaddir: UInt64 = 1 << 14
        static let pathFilestatGet: UInt64 = 1 << 18
        static let fdFilestatGet: UInt64 = 1 << 21
        static let fdFilestatSetSize: UInt64 = 1 << 22
        static let pathUnlinkFile: UInt64 = 1 << 26
        static let pollFdReadwrite: UInt64 = 1 << 27

        /// What a file opened for reading may do.
        static let readFile: UInt64 = fdRead | fdSeek | fdTell | fdFilestatGet | fdAdvise | pollFdReadwrite | fdFdstatSetFlags
        /// What a file opened for writing may do.
        static let writeFile: UInt64 = fdWrite | fdSeek | fdTell | fdFilestatGet | fdDatasync | fdSync
            | fdFilestatSetSize | fdAdvise | pollFdReadwrite | fdFdstatSetFlags
        /// What a directory may do.
        static let directory: UInt64 = pathOpen | fdReaddir | pathFilestatGet | fdFilestatGet
    }

    /// `clockid`.
    enum ClockID: UInt32 {
        case realtime = 0, monotonic = 1, processCPUTime = 2, threadCPUTime = 3
    }

    /// Layout of `fdstat` (24 bytes).
    enum FDStat {
        static let size = 24
        static let filetype = 0, flags = 2, rightsBase = 8, rightsInheriting = 16
    }

    /// Layout of `filestat` (64 bytes).
    enum FileStat {
        static let size = 64
        static let device = 0, inode = 8, filetype = 16, linkCount = 24, fileSize = 32
        static let accessTime = 40, modificationTime = 48, changeTime = 56
    }

    /// Layout of `prestat` (8 bytes): tag 0 (directory) and the length of its name.
    enum Prestat {
        static let size = 8
        static let nameLength = 4
    }

    /// Layout of `dirent` (24 bytes, then the name).
    enum Dirent {
        static let size = 24
        static let next = 0, inode = 8, nameLength = 16, type = 20
    }

    /// Layout of `subscription` (48 bytes) and `event` (32 bytes) of `poll_oneoff`.
    enum Poll {
        static let subscriptionSize = 48
        static let subscriptionTag = 8, clockID = 16, clockTimeout = 24, clockFlags = 40
        static let eventSize = 32
        static let eventError = 8, eventType = 10
        /// `subclockflags`: the timeout is an absolute time.
        static let absoluteTime: UInt16 = 1
    }
}

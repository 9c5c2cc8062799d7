/// Every function of `wasi_snapshot_preview1`, with its Wasm signature and the capability group
/// it belongs to. The table is the single source for both checks a component meets: `compose`
/// refuses imports outside the allowed groups (``ImportPolicy``), and the runtime links only
/// the functions of the allowed groups (anything else fails to link).
enum WASIFunction: String, CaseIterable, Sendable {
    case argsGet = "args_get", argsSizesGet = "args_sizes_get"
    case environGet = "environ_get", environSizesGet = "environ_sizes_get"
    case clockResGet = "clock_res_get", clockTimeGet = "clock_time_get"
    case fdAdvise = "fd_advise", fdAllocate = "fd_allocate", fdClose = "fd_close"
    case fdDatasync = "fd_datasync", fdFdstatGet = "fd_fdstat_get"
    case fdFdstatSetFlags = "fd_fdstat_set_flags", fdFdstatSetRights = "fd_fdstat_set_rights"
    case fdFilestatGet = "fd_filestat_get", fdFilestatSetSize = "fd_filestat_set_size"
    case fdFilestatSetTimes = "fd_filestat_set_times", fdPread = "fd_pread"
    case fdPrestatGet = "fd_prestat_get", fdPrestatDirName = "fd_prestat_dir_name"
    case fdPwrite = "fd_pwrite", fdRead = "fd_read", fdReaddir = "fd_readdir"
    case fdRenumber = "fd_renumber", fdSeek = "fd_seek", fdSync = "fd_sync", fdTell = "fd_tell"
    case fdWrite = "fd_write"
    case pathCreateDirectory = "path_create_directory", pathFilestatGet = "path_filestat_get"
    case pathFilestatSetTimes = "path_filestat_set_times", pathLink = "path_link"
    case pathOpen = "path_open", pathReadlink = "path_readlink"
    case pathRemoveDirectory = "path_remove_directory", pathRename = "path_rename"
    case pathSymlink = "path_symlink", pathUnlinkFile = "path_unlink_file"
    case pollOneoff = "poll_oneoff", procExit = "proc_exit", procRaise = "proc_raise"
    case schedYield = "sched_yield", randomGet = "random_get"
    case sockAccept = "sock_accept", sockRecv = "sock_recv", sockSend = "sock_send"
    case sockShutdown = "sock_shutdown"

    /// The import module name of WASI preview 1.
    static let moduleName = "wasi_snapshot_preview1"

    /// The group that decides whether a component may import the function.
    var group: WASIGroup {
        switch self {
        case .clockResGet, .clockTimeGet, .pollOneoff: return .clock
        case .randomGet: return .random
        case .sockAccept, .sockRecv, .sockSend, .sockShutdown: return .sockets
        case .procRaise: return .signals
        default: return .base
        }
    }

    /// The Wasm signature preview 1 defines for the function.
    var signature: WasmSignature {
        let (parameters, returnsErrno): ([WasmValueType], Bool) = {
            switch self {
            case .argsGet, .argsSizesGet, .environGet, .environSizesGet, .clockResGet, .fdFdstatGet,
                 .fdFdstatSetFlags, .fdFilestatGet, .fdPrestatGet, .fdRenumber, .fdTell, .randomGet,
                 .sockShutdown:
                return ([.i32, .i32], true)
            case .clockTimeGet: return ([.i32, .i64, .i32], true)
            case .fdAdvise: return ([.i32, .i64, .i64, .i32], true)
            case .fdAllocate, .fdFdstatSetRights: return ([.i32, .i64, .i64], true)
            case .fdClose, .fdDatasync, .fdSync, .procRaise: return ([.i32], true)
            case .fdFilestatSetSize: return ([.i32, .i64], true)
            case .fdFilestatSetTimes: return ([.i32, .i64, .i64, .i32], true)
            case .fdPread, .fdPwrite, .fdReaddir: return ([.i32, .i32, .i32, .i64, .i32], true)
            case .fdPrestatDirName, .pathCreateDirectory, .pathRemoveDirectory, .pathUnlinkFile,
                 .sockAccept:
                return ([.i32, .i32, .i32], true)
            case .fdRead, .fdWrite, .pollOneoff: return ([.i32, .i32, .i32, .i32], true)
            case .fdSeek: return ([.i32, .i64, .i32, .i32], true)
            case .pathFilestatGet, .pathSymlink, .sockSend: return ([.i32, .i32, .i32, .i32, .i32], true)
            case .pathFilestatSetTimes: return ([.i32, .i32, .i32, .i32, .i64, .i64, .i32], true)
            case .pathLink: return ([.i32, .i32, .i32, .i32, .i32, .i32, .i32], true)
            case .pathOpen: return ([.i32, .i32, .i32, .i32, .i32, .i64, .i64, .i32, .i32], true)
            case .pathReadlink, .pathRename, .sockRecv: return ([.i32, .i32, .i32, .i32, .i32, .i32], true)
            case .procExit: return ([.i32], false)
            case .schedYield: return ([], true)
            }
        }()
        return WasmSignature(parameters: parameters, results: returnsErrno ? [.i32] : [])
    }
}

/// Groups of WASI preview 1 functions, as the manifest's `wasi` list grants them (SPEC §8).
public enum WASIGroup: String, Sendable, CaseIterable {
    /// Always available: arguments, (empty) environment, files and paths on the component's
    /// virtual filesystem, `proc_exit`, and `sched_yield` (a no-op in a single-threaded sandbox).
    case base
    /// `clock_res_get`, `clock_time_get`, `poll_oneoff` on clocks: only with `wasi = ["clock"]`.
    case clock
    /// `random_get`: only with `wasi = ["random"]`.
    case random
    /// `sock_*`: never; a component has no network.
    case sockets
    /// `proc_raise`: never; signals have no meaning inside the sandbox.
    case signals
}

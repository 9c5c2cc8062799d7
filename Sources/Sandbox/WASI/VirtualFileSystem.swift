import Glibc

/// Why the host stopped the guest; thrown out of a host function, through the engine, back to
/// the sandbox, which turns it into the run's outcome.
enum HostStop: Error {
    /// `proc_exit(code)`.
    case exit(UInt32)
    /// A rule of the sandbox was broken (undeclared output, output over its limit).
    case violation(SandboxOutcome)
}

/// The whole filesystem a component sees, held in memory: two directories and nothing else.
///
/// * `/in` holds exactly the component's inputs, read-only. Creating, truncating or writing
///   anything there is `EROFS`.
/// * `/out` starts empty; the component may create exactly its declared output names. Creating
///   any other name stops the run (``SandboxOutcome/undeclaredOutput(name:)``), and so does
///   writing past an output's size limit, so the host never holds more than the limits allow.
///
/// There is no root, no `..` above either directory, no links and no subdirectories.
final class VirtualFileSystem {
    /// The two directories, preopened as file descriptors 3 (`/in`) and 4 (`/out`).
    enum Directory: CaseIterable {
        case inputs, outputs

        var path: String { self == .inputs ? "/in" : "/out" }
    }

    /// What a path resolves to.
    enum Node: Equatable {
        case directory(Directory)
        case input(String)
        /// A name under `/out`; `exists` is false until the component creates it.
        case output(String, exists: Bool)
    }

    let inputs: [String: InputContent]
    let outputLimits: [String: Int]
    /// The outputs created so far, by name.
    private(set) var outputs: [String: [UInt8]] = [:]

    init(inputs: [String: InputContent], outputLimits: [String: Int]) {
        self.inputs = inputs
        self.outputLimits = outputLimits
    }

    /// Resolves `path` relative to `directory`. Absolute paths and `..` above the directory are
    /// `ENOTCAPABLE`; a name that does not exist is `ENOENT` (or an absent output).
    func resolve(_ path: String, in directory: Directory) throws -> Node {
        guard !path.hasPrefix("/") else { throw WASIABI.Errno.notcapable }
        var name: String?
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".": continue
            case "..":
                guard name != nil else { throw WASIABI.Errno.notcapable }
                // `file/..`: a file has no entries to step out of.
                throw WASIABI.Errno.notdir
            default:
                guard name == nil else {
                    throw exists(name!, in: directory) ? WASIABI.Errno.notdir : WASIABI.Errno.noent
                }
                name = String(component)
            }
        }
        guard let name else { return .directory(directory) }
        switch directory {
        case .inputs:
            guard inputs[name] != nil else { throw WASIABI.Errno.noent }
            return .input(name)
        case .outputs:
            return .output(name, exists: outputs[name] != nil)
        }
    }

    /// Creates (or truncates) the output `name`; an undeclared name stops the run.
    func createOutput(_ name: String, truncate: Bool) throws {
        guard outputLimits[name] != nil else { throw HostStop.violation(.undeclaredOutput(name: name)) }
        if outputs[name] == nil || truncate { outputs[name] = [] }
    }

    /// Removes a created output (`unlink`): it then counts as never written.
    func removeOutput(_ name: String) throws {
        guard outputs.removeValue(forKey: name) != nil else { throw WASIABI.Errno.noent }
    }

    /// Writes `bytes` at `offset` into output `name`, zero-filling any gap; a result over the
    /// limit stops the run before anything is stored.
    func write(_ bytes: some Collection<UInt8>, toOutput name: String, at offset: Int) throws {
        guard let limit = outputLimits[name], var content = outputs[name] else { throw WASIABI.Errno.badf }
        let end = offset + bytes.count
        guard end <= limit else { throw HostStop.violation(.outputTooLarge(name: name, limit: limit)) }
        outputs[name] = nil  // keep the buffer uniquely referenced while it changes
        if end > content.count { content.append(contentsOf: repeatElement(0, count: end - content.count)) }
        content.replaceSubrange(offset..<end, with: bytes)
        outputs[name] = content
    }

    /// Sets the size of output `name` (`ftruncate`), within its limit.
    func resize(output name: String, to size: Int) throws {
        guard let limit = outputLimits[name], var content = outputs[name] else { throw WASIABI.Errno.badf }
        guard size <= limit else { throw HostStop.violation(.outputTooLarge(name: name, limit: limit)) }
        outputs[name] = nil
        if size < content.count {
            content.removeSubrange(size...)
        } else {
            content.append(contentsOf: repeatElement(0, count: size - content.count))
        }
        outputs[name] = content
    }

    /// The size of a file node.
    func size(of node: Node) -> Int {
        switch node {
        case .directory: return 0
        case let .input(name): return inputs[name]?.size ?? 0
        case let .output(name, _): return outputs[name]?.count ?? 0
        }
    }

    /// The entry names of `directory`, sorted (for `fd_readdir`).
    func entries(of directory: Directory) -> [String] {
        switch directory {
        case .inputs: return inputs.keys.sorted()
        case .outputs: return outputs.keys.sorted()
        }
    }

    private func exists(_ name: String, in directory: Directory) -> Bool {
        directory == .inputs ? inputs[name] != nil : outputs[name] != nil
    }
}

/// Captures one of the guest's standard streams, keeping at most `limit` bytes.
struct StreamCapture {
    let limit: Int
    private(set) var bytes: [UInt8] = []
    /// Everything written, including what was dropped.
    private(set) var total = 0

    init(limit: Int) { self.limit = limit }

    mutating func append(_ chunk: some Collection<UInt8>) {
        total += chunk.count
        let room = limit - bytes.count
        if room > 0 { bytes.append(contentsOf: chunk.prefix(room)) }
    }
}

/// An input as the host serves it: bytes in memory, or a sealed file read at offsets straight
/// into guest memory (a component's child gets its inputs as sealed memfds from the broker, so
/// they never sit in its own memory: Docs/sandbox.md).
enum InputContent {
    case bytes([UInt8])
    case file(SandboxInputFile)

    var size: Int {
        switch self {
        case let .bytes(bytes): return bytes.count
        case let .file(file): return file.size
        }
    }

    /// Copies the `count` bytes at `offset` (within ``size``) to `address` in guest memory.
    func copy(from offset: Int, count: Int, to address: UInt32, in memory: any GuestMemory) throws {
        switch self {
        case let .bytes(bytes):
            try memory.store(bytes[offset..<offset + count], at: address)
        case let .file(file):
            try memory.withBytes(at: address, count: count) { buffer in
                var done = 0
                while done < count {
                    let n = pread(file.descriptor, buffer.baseAddress! + done, count - done, off_t(offset + done))
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { throw WASIABI.Errno.io }  // the sealed file cannot shrink: a host fault
                    done += n
                }
            }
        }
    }
}

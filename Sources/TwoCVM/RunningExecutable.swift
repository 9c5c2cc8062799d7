import Glibc

/// The binary this process runs (`/proc/self/exe`): the one a component's child re-executes,
/// and where an installed engine library is looked for beside it.
enum RunningExecutable {
    static var path: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return length > 0 ? String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "/proc/self/exe"
    }
}

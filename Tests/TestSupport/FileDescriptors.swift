import Foundation

/// The descriptors this test process has open, for tests that check a workflow closes what it
/// opened. The runtime's own event machinery is left out: libdispatch creates its epoll,
/// eventfd and timerfd descriptors (`anon_inode:[…]`) lazily, on a thread of its own, which
/// under a loaded machine can happen in the middle of a test.
public enum FileDescriptors {
    public static func open() -> Set<Int32> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        var descriptors = Set<Int32>()
        for name in names {
            guard let fd = Int32(name),
                  let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(name)") else { continue }
            // The directory listing's own descriptor is gone by now, so its link no longer resolves.
            if !target.hasPrefix("anon_inode:") { descriptors.insert(fd) }
        }
        return descriptors
    }
}

import Glibc

/// Runs guest code on a thread of its own with a large native stack, so that deep host-side
/// recursion in the engine (a debug build does not always turn the interpreter's tail calls into
/// jumps) ends in the engine's own "call stack exhausted" trap rather than a native overflow.
enum LargeStack {
    static let size = 64 << 20

    /// Runs `body` on a new thread with a `size`-byte stack and waits for it (on this thread
    /// when no thread can be had, rather than fail the run).
    static func run<T>(_ body: () -> T) -> T {
        var result: T?
        withoutActuallyEscaping({ result = body() }) { work in
            guard let thread = NativeThread.start(stackSize: size, work) else { return work() }
            thread.join()
        }
        return result!
    }
}

import Glibc

/// Runs guest code on a thread of its own with a large native stack, so that deep host-side
/// recursion in the engine (a debug build does not always turn the interpreter's tail calls into
/// jumps) ends in the engine's own "call stack exhausted" trap rather than a native overflow.
enum LargeStack {
    static let size = 64 << 20

    /// Runs `body` on a new thread with a `size`-byte stack and waits for it.
    static func run<T>(_ body: () -> T) -> T {
        var result: T?
        withoutActuallyEscaping({ result = body() }) { work in
            let job = Job(work)
            var attributes = pthread_attr_t()
            pthread_attr_init(&attributes)
            defer { pthread_attr_destroy(&attributes) }
            pthread_attr_setstacksize(&attributes, size)
            var thread = pthread_t()
            let context = Unmanaged.passRetained(job).toOpaque()
            let created = pthread_create(&thread, &attributes, { context in
                Unmanaged<Job>.fromOpaque(context!).takeRetainedValue().work()
                return nil
            }, context)
            guard created == 0 else {
                // No thread to be had: run on this one rather than fail the run.
                Unmanaged<Job>.fromOpaque(context).release()
                work()
                return
            }
            pthread_join(thread, nil)
        }
        return result!
    }

    /// Carries the work to the thread; only one thread touches it at a time (the creator waits
    /// in `pthread_join`).
    private final class Job: @unchecked Sendable {
        let work: () -> Void
        init(_ work: @escaping () -> Void) { self.work = work }
    }
}

import Glibc

/// A native thread running one piece of work, joined by whoever started it: the engine's
/// threads outside wasmtime's own (``LargeStack``, ``WasmtimeLibrary/startOpening()``).
struct NativeThread {
    private let thread: pthread_t

    /// Starts `work` on a new thread with `stackSize` bytes of stack (nil: the default); nil
    /// when no thread can be had (the caller then does the work itself).
    static func start(stackSize: Int? = nil, _ work: @escaping () -> Void) -> NativeThread? {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        if let stackSize { pthread_attr_setstacksize(&attributes, stackSize) }
        let context = Unmanaged.passRetained(Work(work)).toOpaque()
        var thread = pthread_t()
        guard pthread_create(&thread, &attributes, { context in
            Unmanaged<Work>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context) == 0 else {
            Unmanaged<Work>.fromOpaque(context).release()
            return nil
        }
        return NativeThread(thread: thread)
    }

    /// Waits for the work to end.
    func join() {
        pthread_join(thread, nil)
    }

    /// Carries the work to the thread.
    private final class Work: @unchecked Sendable {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }
}

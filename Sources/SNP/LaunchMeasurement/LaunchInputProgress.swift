import Synchronization

/// Bytes of kernel and initrd hashed so far, for a progress line: a process-wide hook that the
/// command line installs (SNP never prints). The hashing threads report each chunk they read.
public enum LaunchInputProgress {
    private static let state = Mutex<(done: UInt64, handler: (@Sendable (UInt64) -> Void)?)>((0, nil))

    /// Installs (or, with nil, removes) the handler and resets the count; the handler receives
    /// the total bytes hashed so far, on the hashing thread that read them.
    public static func install(_ handler: (@Sendable (_ bytesHashed: UInt64) -> Void)?) {
        state.withLock { $0 = (0, handler) }
    }

    /// Counts `bytes` more and tells the handler, if one is installed.
    static func advance(by bytes: Int) {
        let (done, handler) = state.withLock { state -> (UInt64, (@Sendable (UInt64) -> Void)?) in
            guard state.handler != nil else { return (0, nil) }
            state.done += UInt64(bytes)
            return (state.done, state.handler)
        }
        handler?(done)
    }
}

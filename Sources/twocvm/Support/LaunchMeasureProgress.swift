import TwoCVM

/// The progress line of `launch-measure`: bytes of kernel and initrd hashed, shown (through
/// `ProgressReporting`) when they exceed 64 MiB together.
enum LaunchMeasureProgress {
    /// Starts reporting for these inputs; returns what ends it (clears the line).
    static func begin(kernel: String?, initrd: String?) -> () -> Void {
        let total = [kernel, initrd].compactMap { $0 }.reduce(UInt64(0)) { $0 + (FileIO.size(of: $1) ?? 0) }
        guard ProgressReporting.wants(total) else { return {} }
        LaunchInputProgress.install { done in
            ProgressReporting.report(ProgressUpdate(task: "launch-measure", phase: "hashing kernel and initrd",
                                                    done: min(done, total), total: total))
        }
        return {
            LaunchInputProgress.install(nil)
            ProgressReporting.finish()
        }
    }
}

import CSeccomp
import Glibc

/// How a component's input files reach its child process. The child's stdin is one end of a
/// Unix socket pair; before the request, the broker sends the sealed input files
/// (``SealedInputFile``) over it as descriptors (SCM_RIGHTS), in order, in messages of at most
/// `TWOCVM_HANDOVER_BATCH` whose one payload byte says how many each carries; a message with
/// the byte 0 and no descriptor ends the handover. The request then names input `i` as
/// descriptor `3 + i`.
///
/// Handing the files over after the start, rather than as inherited descriptors at `exec`,
/// lets the broker start a child before it knows the job (``ChildProcessLauncher/prestart()``),
/// so that the child's start-up overlaps the broker's own work.
public enum InputHandover {
    /// Descriptors one child may receive (each input of a component is one).
    static let maxDescriptors = 4096

    /// The broker's side: sends `files`, then the end mark. Returns an errno on failure (the
    /// child died or closed its stdin): the caller reports the child's own failure.
    static func send(_ files: [Int32], on socket: Int32) -> Int32? {
        var start = 0
        while start < files.count {
            let count = min(Int(TWOCVM_HANDOVER_BATCH), files.count - start)
            let sent = files[start..<(start + count)].withUnsafeBufferPointer {
                twocvm_send_descriptors(socket, $0.baseAddress, Int32(count), UInt8(count))
            }
            guard sent == 0 else { return -sent }
            start += count
        }
        let ended = twocvm_send_descriptors(socket, nil, 0, 0)
        return ended == 0 ? nil : -ended
    }

    /// The child's side: the descriptors the broker sends on `socket` (stdin), in order, up to
    /// the end mark. Refuses a message whose byte does not count its descriptors, more than
    /// ``maxDescriptors``, anything but descriptors, and a stream that ends first; on a refusal
    /// every descriptor received so far is closed.
    public static func receive(from socket: Int32) throws(WireError) -> [Int32] {
        var received: [Int32] = []
        var batch = [Int32](repeating: -1, count: Int(TWOCVM_HANDOVER_BATCH))
        func refuse(_ reason: String) -> WireError {
            received.forEach { _ = close($0) }
            return .handover(reason: reason)
        }
        while true {
            var announced: UInt8 = 0
            let count = Int(batch.withUnsafeMutableBufferPointer {
                twocvm_receive_descriptors(socket, $0.baseAddress, TWOCVM_HANDOVER_BATCH, &announced)
            })
            guard count >= 0 else { throw refuse(String(cString: strerror(Int32(-count)))) }
            received += batch[..<count]
            guard count == Int(announced) else { throw refuse("a message announced \(announced) descriptors and carried \(count)") }
            guard received.count <= maxDescriptors else { throw refuse("more than \(maxDescriptors) descriptors") }
            if announced == 0 { return received }
        }
    }
}

import CSeccomp
import Foundation
import Glibc
import Sandbox

/// Starts one component run somewhere and waits for its result.
public protocol ComponentLauncher: Sendable {
    func launch(_ job: ComponentJob) throws(ComponentRunError) -> ComponentStatistics
    /// A hint that the next launch will most likely run on `runtime`: a launcher may start
    /// loading it now. Nothing depends on it (the launch's job says what runs).
    func prepare(for runtime: SandboxRuntime)
}

extension ComponentLauncher {
    public func prepare(for runtime: SandboxRuntime) {}
}

/// Runs the component in this process. No process isolation: for tests of the orchestration
/// only; `twocvm run` always uses ``ChildProcessLauncher``.
public struct InProcessLauncher: ComponentLauncher {
    public init() {}

    public func launch(_ job: ComponentJob) throws(ComponentRunError) -> ComponentStatistics {
        let start = MonotonicClock.now()
        let result = try job.runHere()
        try job.checkInterruption(result)
        return ComponentStatistics(job: job, result: result, seconds: MonotonicClock.now() - start, peakResidentBytes: nil)
    }
}

/// Runs each component in a child process of its own: the same `twocvm` binary in its internal
/// `_component` mode, with an empty environment and no descriptors but its stdin (a Unix
/// socket) and two pipes. On stdin it receives one sealed memory file per input
/// (``SealedInputFile``, handed over as descriptors: ``InputHandover``) and then the job
/// (module, limits, which descriptor holds which input); it answers on stdout. The broker kills
/// it (SIGKILL) at its wall-clock limit, or as soon as it has answered, and always reaps it; a
/// child that dies or answers garbage fails the run with an error naming the component.
/// ``finish()`` must be called before the process exits.
///
/// ``prestart()`` starts the first child before its job is known, on a thread of its own, so
/// that its start (spawn, exec, loading, the Swift runtime) overlaps the broker's work on its
/// arguments, the plan and the inputs.
public struct ChildProcessLauncher: ComponentLauncher {
    public let executable: String
    public let arguments: [String]
    /// Where the child keeps the modules wasmtime compiles (nil: it compiles every time).
    public let compiledModuleCache: CompiledModuleCache?

    public init(executable: String, arguments: [String] = ["_component"], compiledModuleCache: CompiledModuleCache? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.compiledModuleCache = compiledModuleCache
    }

    /// A launcher that re-executes the running binary (`/proc/self/exe`), with the compiled-module
    /// cache the environment chooses (``EngineLibraries/compiledModuleCache(environment:)``; a
    /// value it refuses has already stopped the run when the engines were resolved).
    public static func currentExecutable() -> ChildProcessLauncher {
        ChildProcessLauncher(executable: RunningExecutable.path,
                             compiledModuleCache: try? EngineLibraries.compiledModuleCache(environment: ProcessInfo.processInfo.environment))
    }

    /// Starts a child now, on a thread of its own, idle until the next ``launch(_:)`` of this
    /// executable and arguments takes it (or until this process exits: it then reads the end of
    /// its stdin and exits). At most one waits at a time. Returns at once.
    public func prestart() {
        SpareChild.shared.fill(executable: executable, arguments: arguments)
    }

    /// Tells the child ``prestart()`` started which engine library its component will most likely
    /// need, so that it opens it (about 1.5–4 ms) while this process checks the plan. The
    /// launch that takes the child sends its job's own runtime to a child not told yet.
    public func prepare(for runtime: SandboxRuntime) {
        SpareChild.shared.prepare(executable: executable, arguments: arguments, runtime: runtime)
    }

    /// Stops and reaps the child ``prestart()`` started if no launch took it (a run that failed
    /// before its first component), and waits for the children let go after their answers
    /// (``ChildProcess/release()``): no process of this one's is left for init to reap.
    public static func finish() {
        SpareChild.shared.discard()
        ReleasedChildren.shared.reap(waiting: true)
    }

    /// The most stderr kept from a child, for the error message when it dies.
    static let diagnosticsBytes = 16 << 10

    /// The engine settings a benchmark asks for with `TWOCVM_ENGINE` (a name of
    /// ``SandboxEngineSettings/named`` or `compilation/dispatch/bounds`); `nil` when unset. Every
    /// setting keeps fuel metering, bounds checks and validation; only speed differs. The child
    /// itself runs with an empty environment, so the broker passes the choice in the request.
    /// An unknown value fails every launch rather than silently measuring something else.
    static let engineOverride: Result<SandboxEngineSettings?, ComponentRunError.EngineChoice> = {
        guard let value = getenv("TWOCVM_ENGINE").map({ String(cString: $0) }), !value.isEmpty else { return .success(nil) }
        guard let settings = SandboxEngineSettings(value) else { return .failure(.init(value: value)) }
        return .success(settings)
    }()

    public func launch(_ job: ComponentJob) throws(ComponentRunError) -> ComponentStatistics {
        ReleasedChildren.shared.reap(waiting: false)
        var job = job
        job.compiledModuleCache = compiledModuleCache
        switch Self.engineOverride {
        case let .success(engine?): job.engine = engine
        case .success(nil): break
        case let .failure(choice):
            throw .launchFailed(component: job.component, reason: "TWOCVM_ENGINE=\(choice.value) is none of "
                                + SandboxEngineSettings.named.keys.sorted().joined(separator: ", "))
        }
        // Each input as a sealed memfd, handed over in name order: the child names the i-th 3 + i.
        // Inputs already in one (the caller's, which it closes) are handed over as they are.
        let names = job.inputSizes.keys.sorted()
        var files: [Int32] = []
        defer { files.forEach { _ = Glibc.close($0) } }
        for name in names {
            do throws(SealedInputFileError) {
                if let bytes = job.inputs[name] {
                    files.append(try SealedInputFile.make(bytes, name: name))
                } else {
                    let copy = fcntl(job.inputFiles[name]!.descriptor, F_DUPFD_CLOEXEC, 3)
                    guard copy >= 0 else { throw SealedInputFileError.create(name: name, errno: errno) }
                    files.append(copy)
                }
            } catch {
                throw .inputFile(component: job.component, error)
            }
        }
        let descriptors = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, Int32(3 + $0)) })
        let request = ComponentProcessProtocol.encodeRequest(job, descriptors: descriptors)
        let responseLimit = job.outputs.values.reduce(0, +) + 2 * job.limits.capturedStreamBytes + (1 << 20)
        let start = MonotonicClock.now()
        var child: ChildProcess
        if let spare = SpareChild.shared.take(executable: executable, arguments: arguments) {
            child = spare
        } else {
            do throws(ChildProcess.StartFailure) {
                child = try ChildProcess(executable: executable, arguments: arguments)
            } catch {
                throw .launchFailed(component: job.component, reason: error.reason)
            }
        }
        if !child.isPrepared { child.prepare(job.runtime) }
        child.handOver(files)  // a child that cannot take them has died or quit: reported below
        let exchange = child.exchange(request: request, responseLimit: responseLimit,
                                      deadline: start + Double(job.timeoutSeconds))
        let seconds = MonotonicClock.now() - start
        switch exchange {
        case .timedOut:
            _ = child.reap(kill: true)
            throw .timedOut(component: job.component, seconds: job.timeoutSeconds)
        case .responseTooLarge:
            _ = child.reap(kill: true)
            throw .badResponse(component: job.component, .responseTooLarge(limit: responseLimit))
        case .finished: break
        }
        // The child has closed its output: what it answered, or why its answer is refused.
        let failure: ComponentRunError
        switch Result(catching: { () throws(WireError) in
            try ComponentProcessProtocol.decodeResponse(child.stdout, for: job, limit: responseLimit)
        }) {
        case let .success(.success(result)):
            // A complete, valid result: the child has nothing left to do. It is let go at once,
            // and the kernel tears it down while this process goes on with the result.
            let peakResidentBytes = child.release()
            try job.checkInterruption(result)
            return ComponentStatistics(job: job, result: result, seconds: seconds, peakResidentBytes: peakResidentBytes)
        case let .success(.failure(refusal)):
            failure = .refusedInChild(component: job.component, message: refusal.message, environment: refusal.environment)
        case let .failure(error):
            failure = .badResponse(component: job.component, error)
        }
        // Anything else is explained first by how the child ended.
        let status = child.reap(kill: false)
        let diagnostics = String(decoding: child.stderr.suffix(2048), as: UTF8.self)
        if status.signal != 0 {
            throw .crashed(component: job.component, detail: "killed by signal \(status.signal)"
                           + (diagnostics.isEmpty ? "" : "; stderr: \(diagnostics)"))
        }
        guard status.exitCode == 0 else {
            throw .crashed(component: job.component, detail: "exit status \(status.exitCode)"
                           + (diagnostics.isEmpty ? "" : "; stderr: \(diagnostics)"))
        }
        throw failure
    }
}

/// A spawned child with a Unix socket as its stdin and pipes as stdout and stderr, driven by
/// `poll` until it has read its request and closed its output, or the deadline passes. Having
/// answered, the child waits for the end of its stdin: the broker either lets it go at once
/// (``release()``) or reaps it to see how it ended (``reap(kill:)``), which closes that stdin.
private struct ChildProcess {
    enum Exchange: Equatable { case finished, timedOut, responseTooLarge }
    /// Why a child could not be started (the launch names the component).
    struct StartFailure: Error { let reason: String }

    let pid: pid_t
    let executable: String
    let arguments: [String]
    var stdinFD: Int32, stdoutFD: Int32, stderrFD: Int32
    var stdout: [UInt8] = []
    var stderr: [UInt8] = []
    /// Whether its preparation (``prepare(_:)``) has been sent.
    private(set) var isPrepared = false

    /// Starts `executable` with the socket and the two pipes as descriptors 0–2 and nothing
    /// else open. Its job is not known yet: ``handOver(_:)`` and ``exchange`` give it.
    init(executable: String, arguments: [String]) throws(StartFailure) {
        // A child that dies while we write must not take the broker with it.
        signal(SIGPIPE, SIG_IGN)
        (self.executable, self.arguments) = (executable, arguments)
        var input: [Int32] = [-1, -1], output: [Int32] = [-1, -1], errors: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &input) == 0,
              pipe(&output) == 0, pipe(&errors) == 0 else {
            let reason = String(cString: strerror(errno))
            (input + output + errors).filter { $0 >= 0 }.forEach { _ = Glibc.close($0) }
            throw StartFailure(reason: "socket or pipe: \(reason)")
        }
        for fd in output + errors { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Nothing but the socket and the two pipes reaches the child, whatever else this
        // process has open or opens meanwhile (on another thread, without close-on-exec): the
        // three are put in place, then every descriptor above them is closed.
        posix_spawn_file_actions_adddup2(&actions, input[1], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errors[1], 2)
        let closing = twocvm_spawn_close_from(&actions, 3)
        guard closing == 0 else {
            (input + output + errors).forEach { _ = Glibc.close($0) }
            throw StartFailure(reason: "posix_spawn_file_actions_addclosefrom_np: \(String(cString: strerror(closing)))")
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let environment: [UnsafeMutablePointer<CChar>?] = [nil]
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environment)
        Glibc.close(input[1])
        Glibc.close(output[1])
        Glibc.close(errors[1])
        guard spawned == 0 else {
            [input[0], output[0], errors[0]].forEach { _ = Glibc.close($0) }
            throw StartFailure(reason: "\(executable): \(String(cString: strerror(spawned)))")
        }
        self.pid = pid
        (stdinFD, stdoutFD, stderrFD) = (input[0], output[0], errors[0])
    }

    /// Sends the child its preparation, the first thing it reads (`ComponentProcessProtocol`):
    /// the engine library to open while it waits for its job. A child that cannot take it has
    /// died or quit; the launch finds out.
    mutating func prepare(_ runtime: SandboxRuntime) {
        isPrepared = true
        try? FileIO.writeAll(ComponentProcessProtocol.encodePreparation(runtime), to: stdinFD, path: "the child's stdin")
    }

    /// Hands the child its input files (``InputHandover``), then switches to non-blocking
    /// descriptors for ``exchange``. A child that has died cannot take them: its stdin is then
    /// closed, and the exchange and the reaping report how it ended.
    mutating func handOver(_ files: [Int32]) {
        if InputHandover.send(files, on: stdinFD) != nil {
            Glibc.close(stdinFD)
            stdinFD = -1
        }
        for fd in [stdinFD, stdoutFD, stderrFD] where fd >= 0 { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    }

    /// Stops a child that never got a job: kills and reaps it.
    mutating func discard() {
        _ = reap(kill: true)
    }

    /// Writes the request (its frames in order) and reads both streams until the child closes
    /// them. Its stdin stays open (the child waits for its end once it has answered).
    mutating func exchange(request: [[UInt8]], responseLimit: Int, deadline: Double) -> Exchange {
        var frames = request.filter { !$0.isEmpty }[...]
        var written = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        defer { closeOutput() }
        while stdoutFD >= 0 || stderrFD >= 0 {
            let remaining = deadline - MonotonicClock.now()
            guard remaining > 0 else { return .timedOut }
            var fds: [pollfd] = []
            if stdinFD >= 0 && !frames.isEmpty { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
            if stdoutFD >= 0 { fds.append(pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)) }
            if stderrFD >= 0 { fds.append(pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(remaining * 1000 + 1, 1000)))
            if ready < 0 && errno != EINTR { return .finished }
            for entry in fds where entry.revents != 0 {
                if entry.fd == stdinFD {
                    let frame = frames.first!
                    let n = frame.withUnsafeBytes { Glibc.write(stdinFD, $0.baseAddress! + written, frame.count - written) }
                    if n > 0 { written += n }
                    if written == frame.count { frames.removeFirst(); written = 0 }
                    if n < 0 && errno != EAGAIN && errno != EINTR {  // it has stopped reading
                        Glibc.close(stdinFD)
                        stdinFD = -1
                    }
                    continue
                }
                let n = chunk.withUnsafeMutableBytes { Glibc.read(entry.fd, $0.baseAddress!, $0.count) }
                if n > 0 {
                    if entry.fd == stdoutFD {
                        stdout.append(contentsOf: chunk[0..<n])
                        if stdout.count > responseLimit { return .responseTooLarge }
                    } else if stderr.count < ChildProcessLauncher.diagnosticsBytes {
                        stderr.append(contentsOf: chunk[0..<n])
                    }
                } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
                    Glibc.close(entry.fd)
                    if entry.fd == stdoutFD { stdoutFD = -1 } else { stderrFD = -1 }
                }
            }
        }
        return .finished
    }

    /// Waits for the child (killing it first if asked) and returns how it ended. Closing its
    /// stdin first ends the wait of a child that has answered.
    mutating func reap(kill shouldKill: Bool) -> (exitCode: Int32, signal: Int32) {
        if shouldKill { kill(pid, SIGKILL) }
        closeInput()
        closeOutput()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7F
        let exitCode = (status >> 8) & 0xFF
        return (signal == 0 ? exitCode : 0, signal)
    }

    /// Lets go of a child that has answered and returns its peak resident set. The figure is
    /// the kernel's (`VmHWM` in /proc/PID/status), read while the child waits for its stdin to
    /// end. The child is then killed: it has nothing left to do, and must not outlive its answer.
    /// ``ReleasedChildren`` reaps it later, so that this process goes on with the answer while
    /// the kernel tears the child down (a millisecond or two).
    mutating func release() -> Int? {
        let peak = Self.peakResidentBytes(of: pid)
        kill(pid, SIGKILL)
        closeInput()
        closeOutput()
        ReleasedChildren.shared.add(pid)
        return peak
    }

    private mutating func closeInput() {
        if stdinFD >= 0 { Glibc.close(stdinFD) }
        stdinFD = -1
    }

    private mutating func closeOutput() {
        for fd in [stdoutFD, stderrFD] where fd >= 0 { Glibc.close(fd) }
        (stdoutFD, stderrFD) = (-1, -1)
    }

    /// `VmHWM` of a live process, in bytes (nil if /proc does not say).
    private static func peakResidentBytes(of pid: pid_t) -> Int? {
        let fd = open("/proc/\(pid)/status", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
        guard count > 0 else { return nil }
        let status = String(decoding: buffer[..<count], as: UTF8.self)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kibibytes = Int(line.dropFirst("VmHWM:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
        else { return nil }
        return kibibytes * 1024
    }
}

/// Children let go after answering (``ChildProcess/release()``) and not reaped yet. The kernel
/// takes a millisecond or two to tear a killed process down; the broker spends that time on the
/// answer and reaps the child afterwards: each launch reaps those already gone, and
/// ``ChildProcessLauncher/finish()`` waits for the rest. Their exit status (SIGKILL) says nothing.
final class ReleasedChildren: @unchecked Sendable {
    static let shared = ReleasedChildren()
    private let lock = NSLock()
    private var pids: [pid_t] = []

    func add(_ pid: pid_t) {
        lock.withLock { pids.append(pid) }
    }

    /// Reaps the children already gone, and with `waiting` the others too, once they are.
    func reap(waiting: Bool) {
        lock.withLock {
            pids.removeAll { pid in
                var status: Int32 = 0
                var reaped: pid_t
                repeat { reaped = waitpid(pid, &status, waiting ? 0 : WNOHANG) } while reaped < 0 && errno == EINTR
                return reaped != 0
            }
        }
    }
}

/// The child ``ChildProcessLauncher/prestart()`` started ahead of its job: at most one, taken
/// by the next launch of the same executable and arguments. It is started on a thread of its
/// own (the caller goes on at once); whoever looks at it first waits for that thread.
final class SpareChild: @unchecked Sendable {
    static let shared = SpareChild()
    private let condition = NSCondition()
    private var spare: ChildProcess?
    /// Whether a thread is still starting the spare.
    private var startPending = false

    /// The waiting child's process id (tests).
    var waitingPID: pid_t? {
        whenStarted { spare?.pid }
    }

    /// Starts a child on a thread of its own, unless one is waiting or starting. A child that
    /// cannot be started is left to the launch, which reports the failure with the component's
    /// name.
    func fill(executable: String, arguments: [String]) {
        condition.lock()
        defer { condition.unlock() }
        guard spare == nil, !startPending else { return }
        let start = Unmanaged.passRetained(Start(owner: self, executable: executable, arguments: arguments)).toOpaque()
        var thread = pthread_t()
        guard pthread_create(&thread, nil, { context in
            let start = Unmanaged<Start>.fromOpaque(context!).takeRetainedValue()
            start.owner.keep(try? ChildProcess(executable: start.executable, arguments: start.arguments))
            return nil
        }, start) == 0 else {
            // No thread to be had: start it on this one.
            Unmanaged<Start>.fromOpaque(start).release()
            spare = try? ChildProcess(executable: executable, arguments: arguments)
            return
        }
        pthread_detach(thread)  // its end is seen in `startPending`
        startPending = true
    }

    /// What the starting thread starts, and for whom.
    private final class Start {
        let owner: SpareChild
        let executable: String
        let arguments: [String]
        init(owner: SpareChild, executable: String, arguments: [String]) {
            (self.owner, self.executable, self.arguments) = (owner, executable, arguments)
        }
    }

    /// The starting thread's result.
    private func keep(_ child: ChildProcess?) {
        condition.lock()
        defer { condition.unlock() }
        spare = child
        startPending = false
        condition.broadcast()
    }

    /// Sends the waiting child its preparation (``ChildProcess/prepare(_:)``), if it runs
    /// `executable` with `arguments` and has not had one.
    func prepare(executable: String, arguments: [String], runtime: SandboxRuntime) {
        whenStarted {
            guard spare?.executable == executable, spare?.arguments == arguments, spare?.isPrepared == false else { return }
            spare?.prepare(runtime)
        }
    }

    /// Stops the waiting child, if any.
    func discard() {
        var child = remove()
        child?.discard()
    }

    /// The waiting child if it runs `executable` with `arguments` (another one is discarded).
    fileprivate func take(executable: String, arguments: [String]) -> ChildProcess? {
        guard var child = remove() else { return nil }
        guard child.executable == executable, child.arguments == arguments else {
            child.discard()
            return nil
        }
        return child
    }

    /// The waiting child, no longer waiting.
    private func remove() -> ChildProcess? {
        whenStarted {
            defer { spare = nil }
            return spare
        }
    }

    /// `body`, once the starting thread (if any) has kept its child.
    private func whenStarted<T>(_ body: () -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        while startPending { condition.wait() }
        return body()
    }
}

/// Seconds on the monotonic clock.
enum MonotonicClock {
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

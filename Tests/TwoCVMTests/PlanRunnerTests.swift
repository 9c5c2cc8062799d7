import Foundation
import Sandbox
import TestSupport
import XCTest

@testable import TwoCVM

/// The orchestration: dataflow along channels only, failures that release nothing, and child
/// processes that die, hang or answer garbage.
final class PlanRunnerTests: XCTestCase {
    private func project(second: String = Components.copy("mid", to: "report", suffix: "+2", probe: "notes"),
                         timeout: Int = 30, engine: String = "wasmkit", body: String = PlanFixture.twoStagePipeline) throws -> ExecutionPlan {
        let limits = "engine = \"\(engine)\"\nlimits = { fuel = 10_000_000, memory_mib = 1, timeout_s = \(timeout) }"
        return try PlanFixture(self, components: [("first", Components.copy("notes", to: "mid", suffix: "+1"), limits),
                                                  ("second", second, limits)], body: body).compose()
    }

    /// Both engines, when the wasmtime library is installed (`make deps`); under CI its absence fails.
    /// The pinned wasmtime library, verified from a copy in this test's folder: a library object
    /// no other test has opened, in a file the test may change.
    private func pinnedLibraryCopy() throws -> WasmtimeLibrary {
        _ = try engines()
        guard case let .wasmtime(pinned) = try EngineLibraries().runtime(for: .wasmtime) else {
            throw Requirement.missing("the wasmtime engine library", install: "the pinned wheel with `make deps`")
        }
        let copy = try TestPaths.temporaryDirectory(self).appendingPathComponent("libwasmtime.so")
        try FileManager.default.copyItem(atPath: pinned.path, toPath: copy.path)
        return try WasmtimeLibrary.load(copy.path)
    }

    /// The built twocvm, beside the test executable.
    private func builtTwocvm() throws -> String {
        let twocvm = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.deletingLastPathComponent()
            .appendingPathComponent("twocvm").path
        try Requirement.requireExecutable(twocvm, install: "the twocvm product (swift build)")
        return twocvm
    }

    private func engines() throws -> [String] {
        do {
            _ = try EngineLibraries().runtime(for: .wasmtime)
            return ["wasmkit", "wasmtime"]
        } catch {
            throw Requirement.missing("the wasmtime engine library (\(error))", install: "the pinned wheel with `make deps`")
        }
    }

    func testDataMovesOnlyAlongChannels() throws {
        for engine in try engines() {
            let plan = try project(engine: engine)
            let result = try PlanRunner(plan: plan, launcher: InProcessLauncher()).run(inputs: ["notes": Array("n".utf8)])
            // `second` probed /in/notes (the first component's input): ENOENT (44), then copied /in/mid.
            XCTAssertEqual(result.outputs["report"], [44] + Array("n+1+2".utf8), engine)
            XCTAssertEqual(Array(result.outputs.keys), ["report"], "only released outputs leave the run")
            XCTAssertEqual(result.statistics.map(\.component), ["first", "second"])
            XCTAssertEqual(result.statistics.map(\.engine), [engine, engine])
        }
    }

    func testFailingComponentStopsTheRunAndReleasesNothing() throws {
        for engine in try engines() {
            XCTAssertThrowsError(try PlanRunner(plan: try project(second: Components.trap, engine: engine), launcher: InProcessLauncher())
                .run(inputs: ["notes": [1]])) { error in
                guard case let .failed(component, .trap(message), _)? = error as? PlanRunError else { return XCTFail("\(error)") }
                XCTAssertEqual(component, "second")
                XCTAssertTrue(message.contains("unreachable"), message)
            }
        }
    }

    /// A pinned input is checked against the digest the caller already holds for exactly those
    /// bytes (a sealed run: the plaintext digest its open verified) instead of being hashed
    /// again; an input without one is hashed here.
    func testAPinnedInputIsCheckedWithTheCallersDigestOrHashed() throws {
        let notes = Array("n".utf8), other = Array("other".utf8)
        let pinned = ContentDigest(of: notes), otherDigest = ContentDigest(of: other)
        let body = PlanFixture.twoStagePipeline.replacingOccurrences(of: "id = \"notes\"\n", with: "id = \"notes\"\ndigest = \"\(pinned)\"\n")
        XCTAssertNotEqual(body, PlanFixture.twoStagePipeline)
        let runner = PlanRunner(plan: try project(body: body), launcher: InProcessLauncher())
        XCTAssertNoThrow(try runner.run(inputs: ["notes": notes]))
        XCTAssertNoThrow(try runner.run(inputs: ["notes": notes], knownDigests: ["notes": pinned]))
        for (input, known) in [(other, nil), (notes, otherDigest)] as [([UInt8], ContentDigest?)] {
            XCTAssertThrowsError(try runner.run(inputs: ["notes": input], knownDigests: known.map { ["notes": $0] } ?? [:])) { error in
                guard case let .inputDigestMismatch(data, expected, actual)? = error as? PlanRunError else { return XCTFail("\(error)") }
                XCTAssertEqual([data, expected.description, actual.description], ["notes", pinned.description, otherDigest.description])
            }
        }
    }

    /// Inputs the caller put in sealed memory files (`run --dev` and sealed runs do) reach the
    /// components as bytes would, in this process and in a component's child, on both engines;
    /// a pinned one is hashed from its file; the caller's files stay open for it to close, and
    /// the run leaves no other descriptor behind.
    func testInputsInSealedFilesReachTheComponentsAndAreCheckedAgainstTheirPin() throws {
        let twocvm = try builtTwocvm()
        let folder = try TestPaths.temporaryDirectory(self)
        let notesPath = folder.appendingPathComponent("notes").path
        try Data("from a file".utf8).write(to: URL(fileURLWithPath: notesPath))
        let notes = try SealedInputFile.copy(fromFile: notesPath, limit: 1 << 20, name: "notes")
        defer { close(notes.descriptor) }
        let pinned = ContentDigest(of: Array("from a file".utf8)), other = ContentDigest(of: Array("other".utf8))
        let before = FileDescriptors.open()
        for engine in try engines() {
            for launcher in [InProcessLauncher(), ChildProcessLauncher(executable: twocvm)] as [any ComponentLauncher] {
                let result = try PlanRunner(plan: try project(engine: engine), launcher: launcher).run(inputFiles: ["notes": notes])
                XCTAssertEqual(result.outputs["report"], [44] + Array("from a file+1+2".utf8), "\(engine), \(launcher)")
            }
            for (digest, matches) in [(pinned, true), (other, false)] {
                let body = PlanFixture.twoStagePipeline.replacingOccurrences(of: "id = \"notes\"\n", with: "id = \"notes\"\ndigest = \"\(digest)\"\n")
                let runner = PlanRunner(plan: try project(engine: engine, body: body), launcher: InProcessLauncher())
                if matches {
                    XCTAssertNoThrow(try runner.run(inputFiles: ["notes": notes]))
                } else {
                    XCTAssertThrowsError(try runner.run(inputFiles: ["notes": notes])) { error in
                        guard case let .inputDigestMismatch(data, expected, actual)? = error as? PlanRunError else { return XCTFail("\(error)") }
                        XCTAssertEqual([data, expected.description, actual.description], ["notes", other.description, pinned.description])
                    }
                }
            }
        }
        XCTAssertEqual(FileDescriptors.open(), before, "no descriptor left behind, the caller's file still open")
        XCTAssertNotEqual(fcntl(notes.descriptor, F_GETFD), -1)
    }

    func testMissingInputIsNamed() throws {
        XCTAssertThrowsError(try PlanRunner(plan: try project(), launcher: InProcessLauncher()).run(inputs: [:])) { error in
            XCTAssertEqual("\(error)", "no input for data item notes")
        }
    }

    func testCrashingChildFailsTheRunCleanly() throws {
        let launcher = ChildProcessLauncher(executable: "/bin/sh", arguments: ["-c", "kill -SEGV $$"])
        XCTAssertThrowsError(try PlanRunner(plan: try project(), launcher: launcher).run(inputs: ["notes": [1]])) { error in
            guard case .component(.crashed(component: "first", let detail))? = error as? PlanRunError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("signal 11"), detail)
        }
    }

    /// `prestart` starts the child before its job; the next launch gives that very child its
    /// inputs and request.
    func testAPrestartedChildIsTheOneThatRunsTheComponent() throws {
        let launcher = ChildProcessLauncher(executable: "/bin/sh", arguments: ["-c", "echo pid=$$ >&2; exit 9"])
        launcher.prestart()
        let waiting = try XCTUnwrap(SpareChild.shared.waitingPID)
        launcher.prestart()
        XCTAssertEqual(SpareChild.shared.waitingPID, waiting, "one spare at a time")
        XCTAssertThrowsError(try PlanRunner(plan: try project(), launcher: launcher).run(inputs: ["notes": [1]])) { error in
            guard case .component(.crashed(component: "first", let detail))? = error as? PlanRunError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("exit status 9") && detail.contains("pid=\(waiting)"), detail)
        }
        XCTAssertNil(SpareChild.shared.waitingPID, "taken by the launch")
    }

    /// A prestarted child told which engine library its component will need maps it while it
    /// still waits for its job (the broker checks the plan meanwhile); the launch then runs the
    /// component on it.
    func testAPreparedChildOpensItsLibraryBeforeItsJob() throws {
        let twocvm = try builtTwocvm()
        let library = try pinnedLibraryCopy()
        let launcher = ChildProcessLauncher(executable: twocvm)
        launcher.prestart()
        let waiting = try XCTUnwrap(SpareChild.shared.waitingPID)
        func mapped() -> Bool {
            ((try? String(contentsOfFile: "/proc/\(waiting)/maps", encoding: .utf8)) ?? "").contains(library.path)
        }
        usleep(300_000)
        XCTAssertFalse(mapped(), "not before it is told")
        launcher.prepare(for: .wasmtime(library))
        let deadline = Date().addingTimeInterval(10)
        while !mapped() && Date() < deadline { usleep(20_000) }
        XCTAssertTrue(mapped(), "the library is mapped before the job arrives")
        let plan = try project(engine: "wasmtime")
        let result = try PlanRunner(plan: plan, launcher: launcher, engines: EngineLibraries(explicitLibrary: library.path))
            .run(inputs: ["notes": Array("n".utf8)])
        XCTAssertEqual(result.outputs["report"], [44] + Array("n+1+2".utf8))
        XCTAssertNil(SpareChild.shared.waitingPID, "taken by the launch")
        ChildProcessLauncher.finish()
    }

    /// A prestarted child that died before its job (it cannot take its inputs) is that
    /// component's crash, not a hang; a spare of another executable is stopped, not used.
    func testADeadOrForeignSpareChildIsHandledByTheLaunch() throws {
        let dying = ChildProcessLauncher(executable: "/bin/sh", arguments: ["-c", "exit 7"])
        dying.prestart()
        usleep(200_000)
        XCTAssertThrowsError(try PlanRunner(plan: try project(), launcher: dying).run(inputs: ["notes": [1]])) { error in
            guard case .component(.crashed(component: "first", let detail))? = error as? PlanRunError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("exit status 7"), detail)
        }
        let foreign = ChildProcessLauncher(executable: "/bin/sh", arguments: ["-c", "exec sleep 60"])
        foreign.prestart()
        let stale = try XCTUnwrap(SpareChild.shared.waitingPID)
        XCTAssertThrowsError(try PlanRunner(plan: try project(), launcher: dying).run(inputs: ["notes": [1]])) { error in
            guard case .component(.crashed(component: "first", let detail))? = error as? PlanRunError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("exit status 7"), "the launch's own child ran: \(detail)")
        }
        XCTAssertEqual(kill(stale, 0), -1, "the other executable's spare was stopped and reaped")
        XCTAssertEqual(errno, ESRCH)
    }

    func testChildPastItsWallClockLimitIsKilled() throws {
        let launcher = ChildProcessLauncher(executable: "/bin/sh", arguments: ["-c", "exec sleep 60"])
        let start = Date()
        XCTAssertThrowsError(try PlanRunner(plan: try project(timeout: 1), launcher: launcher).run(inputs: ["notes": [1]])) { error in
            guard case .component(.timedOut(component: "first", seconds: 1))? = error as? PlanRunError else { return XCTFail("\(error)") }
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    }

    /// A child that has answered is let go at once, not waited for: the launch returns its
    /// result with the kernel's figure of its peak memory, and the child is killed. Here the
    /// child closes its output after a valid answer and then lingers (30 s); nothing of
    /// it is left once the launcher has finished (not even a zombie).
    func testAChildThatHasAnsweredIsKilledNotAwaited() throws {
        let folder = try TestPaths.temporaryDirectory(self)
        let answer = folder.appendingPathComponent("answer"), pidFile = folder.appendingPathComponent("pid")
        try Data(ComponentProcessProtocol.encodeResponse(.success(SandboxResult(
            outcome: .ok, outputs: ["mid": Array("answered".utf8)], fuelUsed: 7, peakMemoryBytes: 65_536, stdout: [], stderr: []))))
            .write(to: answer)
        // Python closes its output only once it is running for good, so the broker reads the
        // peak of a settled process (a shell closing them for `exec sleep` would race the exec).
        let script = """
            import os, sys, time
            sys.stdout.buffer.write(open(sys.argv[1], "rb").read()); sys.stdout.flush()
            open(sys.argv[2], "w").write(str(os.getpid()))
            os.close(1); os.close(2)
            time.sleep(30)
            """
        let launcher = ChildProcessLauncher(executable: "/usr/bin/python3", arguments: ["-c", script, answer.path, pidFile.path])
        let module = Array("(module)".utf8)
        let job = ComponentJob(component: "first", moduleFile: "first.wat", moduleSource: module, digest: ContentDigest(of: module),
                               inputs: [:], outputs: ["mid": 64], capabilities: [],
                               limits: SandboxLimits(fuel: 1_000, memoryBytes: 65_536), timeoutSeconds: 30)
        let start = Date()
        let statistics = try launcher.launch(job)
        ChildProcessLauncher.finish()
        XCTAssertLessThan(Date().timeIntervalSince(start), 10, "the child was killed, not awaited")
        XCTAssertEqual(statistics.result.outputs["mid"], Array("answered".utf8))
        XCTAssertEqual(statistics.fuelUsed, 7)
        XCTAssertGreaterThan(statistics.peakResidentBytes ?? 0, 64 << 10, "VmHWM of the waiting child")
        let pid = try XCTUnwrap(pid_t(String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        XCTAssertEqual(kill(pid, 0), -1, "killed and reaped")
        XCTAssertEqual(errno, ESRCH)
    }

    func testGarbageFromTheChildIsRefused() throws {
        let launcher = ChildProcessLauncher(executable: "/bin/sh", arguments: ["-c", "echo not-cbor"])
        XCTAssertThrowsError(try PlanRunner(plan: try project(), launcher: launcher).run(inputs: ["notes": [1]])) { error in
            guard case .component(.badResponse(component: "first", _))? = error as? PlanRunError else { return XCTFail("\(error)") }
        }
    }

    func testChildSeesNoEnvironmentAndNoDescriptorsButItsSocketAndPipes() throws {
        // The child reports its environment, its open descriptors and what its stdin is on
        // stderr, then dies. Its one input is not among its descriptors: it waits on the
        // socket (InputHandover), for a real child to receive (ComponentProcessProtocolTests).
        let script = "env >&2; ls /proc/self/fd >&2; readlink /proc/self/fd/0 >&2; exit 9"
        let launcher = ChildProcessLauncher(executable: "/bin/sh", arguments: ["-c", script])
        // A descriptor of the broker's without close-on-exec is not inherited either.
        let inheritable = open("/dev/null", O_RDONLY)
        XCTAssertGreaterThan(inheritable, 2)
        defer { close(inheritable) }
        XCTAssertThrowsError(try PlanRunner(plan: try project(), launcher: launcher).run(inputs: ["notes": [1]])) { error in
            guard case let .component(.crashed(_, detail))? = error as? PlanRunError else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("exit status 9"), detail)
            XCTAssertFalse(detail.contains("HOME="), detail)
            XCTAssertTrue(detail.contains("socket:["), "stdin is the handover socket: \(detail)")
            // The `ls` lines: numbers alone on their line (the environment's lines may hold digits too).
            let fds = detail.split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 2 }
            XCTAssertLessThanOrEqual(Set(fds).count, 1, "ls's own directory descriptor only: \(detail)")
        }
    }

    func testLoadingAJobWaitsForItsLibraryToOpenEvenWhenTheModuleIsRefused() throws {
        _ = try engines()
        // A library object of its own, so that nothing has opened it yet.
        let library = try pinnedLibraryCopy()
        XCTAssertFalse(library.isOpen)
        // The library starts opening on a second thread (about 1.5 ms); the digest check fails in
        // microseconds. A child locks itself down right after a refusal, so load() must not return
        // while that thread still maps code: the library is open by the time it does.
        let module = Array(#"(module (memory (export "memory") 1) (func (export "_start")))"#.utf8)
        let job = ComponentJob(component: "first", moduleFile: "first.wat", moduleSource: module,
                               digest: ContentDigest(of: module + [0]), inputs: [:], outputs: [:], capabilities: [],
                               limits: SandboxLimits(fuel: 1_000_000, memoryBytes: 1 << 16), timeoutSeconds: 30,
                               runtime: .wasmtime(library))
        XCTAssertThrowsError(try job.load()) { error in
            guard case .digestMismatch(component: "first", _, _)? = error as? ComponentRunError else { return XCTFail("\(error)") }
        }
        XCTAssertTrue(library.isOpen)
    }

    func testAnEngineLibraryChangedAfterTheBrokersCheckIsAnEnvironmentRefusal() throws {
        _ = try engines()
        let twocvm = try builtTwocvm()
        // The broker verifies a copy of the pinned library; the copy changes before the child opens it.
        let library = try pinnedLibraryCopy()
        var times = [timespec(tv_sec: 1_000_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000_000, tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, library.path, &times, 0), 0)
        let module = Array(#"(module (memory (export "memory") 1) (func (export "_start")))"#.utf8)
        let job = ComponentJob(component: "first", moduleFile: "first.wat", moduleSource: module, digest: ContentDigest(of: module),
                               inputs: ["notes": [1]], outputs: [:], capabilities: [],
                               limits: SandboxLimits(fuel: 1_000_000, memoryBytes: 1 << 16), timeoutSeconds: 30,
                               runtime: .wasmtime(library))
        XCTAssertThrowsError(try ChildProcessLauncher(executable: twocvm).launch(job)) { error in
            guard case let .refusedInChild(component, message, environment)? = error as? ComponentRunError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(component, "first")
            XCTAssertTrue(environment, message)
            XCTAssertTrue(message.contains("changed after it was verified"), message)
            XCTAssertEqual((error as? ComponentRunError)?.exitStatus, .environment)
        }
    }
}

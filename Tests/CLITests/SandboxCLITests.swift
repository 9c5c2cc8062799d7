import Foundation
import XCTest

/// `compose` and `run` refusals as a user meets them: exit codes, messages naming the culprit,
/// and an untouched --out after a failed run; each on both engines (the manifest's `engine`).
final class SandboxCLITests: XCTestCase {
    static let engines = ["wasmkit", "wasmtime"]

    /// A one-participant project over one `.wat` component reading data `notes` and writing
    /// output `report`; returns the plan path after compose (or the compose result on failure).
    private func project(_ wat: String, limits: String = "limits = { fuel = 10_000_000, memory_mib = 1, timeout_s = 30 }",
                         engine: String = "wasmkit", environment: [String: String]? = nil)
        throws -> (work: String, compose: CLIResult) {
        let work = try TestPaths.temporaryDirectory(self).path
        XCTAssertEqual(try CLI.run(["keygen", "--out", "\(work)/keys"]).status, 0)
        let signing = try String(contentsOfFile: "\(work)/keys/signing.pub.pem", encoding: .utf8)
        let encryption = try String(contentsOfFile: "\(work)/keys/encryption.pub.pem", encoding: .utf8)
        try FileManager.default.createDirectory(atPath: "\(work)/components", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(work)/inputs", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(work)/approvals", withIntermediateDirectories: true)
        try Data(wat.utf8).write(to: URL(fileURLWithPath: "\(work)/components/worker.wat"))
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: "\(work)/inputs/notes"))
        let digest = Array(wat.utf8).sha256Hex
        let manifest = """
            version = 1
            name = "cli-sandbox"

            [[participants]]
            id = "lab"
            display_name = "Lab"
            signing_key = \"\"\"
            \(signing)\"\"\"
            encryption_key = \"\"\"
            \(encryption)\"\"\"

            [[components]]
            id = "worker"
            owner = "lab"
            digest = "sha256:\(digest)"
            engine = "\(engine)"
            \(limits)

            [[data]]
            id = "notes"
            owner = "lab"

            [[channels]]
            from = "data.notes"
            to = "worker"

            [[outputs]]
            id = "report"
            from = "worker"
            to = ["lab"]
            max_bytes = 1024

            """
        try Data(manifest.utf8).write(to: URL(fileURLWithPath: "\(work)/manifest.toml"))
        let sign = try CLI.run(["manifest", "sign", "\(work)/manifest.toml", "--key", "\(work)/keys", "--participant", "lab",
                                "-o", "\(work)/approvals/lab.cose"])
        XCTAssertEqual(sign.status, 0, sign.stderr)
        let compose = try CLI.run(["compose", "\(work)/manifest.toml", "--components", "\(work)/components",
                                   "--approvals", "\(work)/approvals", "-o", "\(work)/plan.cbor"], environment: environment)
        return (work, compose)
    }

    private func run(_ work: String, dev: Bool = true, environment: [String: String]? = nil) throws -> CLIResult {
        try CLI.run(["run", "\(work)/plan.cbor", "--inputs", "\(work)/inputs", "--out", "\(work)/out"] + (dev ? ["--dev"] : []),
                    environment: environment)
    }

    /// A module that first writes its declared output `report` in full, then does `then`: so
    /// a run that still releases nothing proves the failure withheld a finished output.
    private func writesReportThen(_ then: String) -> String {
        """
        (module
          (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1) (data (i32.const 16) "stolen-notes") (data (i32.const 32) "report") (data (i32.const 48) "done")
          (func (export "_start")
            (if (call $open (i32.const 4) (i32.const 0) (i32.const 32) (i32.const 6) (i32.const 9) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 8))
              (then unreachable))
            (i32.store (i32.const 0) (i32.const 48)) (i32.store (i32.const 4) (i32.const 4))
            (if (call $write (i32.load (i32.const 8)) (i32.const 0) (i32.const 1) (i32.const 12)) (then unreachable))
            \(then)))
        """
    }

    private var writesUndeclared: String {
        writesReportThen("(drop (call $open (i32.const 4) (i32.const 0) (i32.const 16) (i32.const 12) (i32.const 9) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 8)))")
    }

    func testUndeclaredOutputFailsTheRunNamingItAndWritesNothing() throws {
        for engine in Self.engines {
            let (work, compose) = try project(writesUndeclared, engine: engine)
            XCTAssertEqual(compose.status, 0, compose.stderr)
            let result = try run(work)
            XCTAssertEqual(result.status, 1, engine)
            XCTAssertTrue(result.stderr.contains("/out/stolen-notes, which is not a declared output"), result.stderr)
            XCTAssertTrue(result.stderr.contains("nothing written"), result.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/out"), "\(engine): the finished report is withheld")
        }
    }

    func testAFinishedReportIsReleasedOnBothEngines() throws {
        for engine in Self.engines {
            let (work, compose) = try project(writesReportThen("(nop)"), engine: engine)
            XCTAssertEqual(compose.status, 0, compose.stderr)
            XCTAssertTrue(compose.stdout.contains("ok (\(engine))"), compose.stdout)
            let result = try CLI.run(["run", "\(work)/plan.cbor", "--inputs", "\(work)/inputs", "--out", "\(work)/out", "--dev", "--json"])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(try String(contentsOfFile: "\(work)/out/report", encoding: .utf8), "done")
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            let component = try XCTUnwrap((json["components"] as? [[String: Any]])?.first)
            XCTAssertEqual(component["engine"] as? String, engine)
            XCTAssertEqual(component["engineLibrary"] as? String,
                           engine == "wasmtime" ? "sha256:3127ca42fe7cdd3f0a43a358e79177dcfedd46c1746329826403b9d854de6178" : nil)
        }
    }

    func testTheCompiledModuleCacheIsWhereTheEnvironmentSaysAndOffWhenAsked() throws {
        let (work, compose) = try project(writesReportThen("(nop)"), engine: "wasmtime")
        XCTAssertEqual(compose.status, 0, compose.stderr)
        let folder = "\(work)/engine-cache"
        var environment = ProcessInfo.processInfo.environment
        environment["TWOCVM_ENGINE_CACHE"] = folder
        for round in 1...2 {
            try? FileManager.default.removeItem(atPath: "\(work)/out")
            let result = try run(work, environment: environment)
            XCTAssertEqual(result.status, 0, "round \(round): \(result.stderr)")
            XCTAssertEqual(try String(contentsOfFile: "\(work)/out/report", encoding: .utf8), "done", "round \(round)")
            let entries = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
            XCTAssertEqual(entries.filter { $0.hasSuffix(".cwasm") }.count, 1, "round \(round): \(entries)")
            XCTAssertEqual(entries.filter { $0.hasPrefix("verified-") }.count, 1, "round \(round): \(entries)")
        }
        environment["TWOCVM_ENGINE_CACHE"] = "off"
        try FileManager.default.removeItem(atPath: folder)
        try FileManager.default.removeItem(atPath: "\(work)/out")
        let result = try run(work, environment: environment)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder), "off: nothing cached")

        // A value that is neither `off` nor an absolute folder never switches the cache on.
        for value in ["OFF", "relative/cache"] {
            environment["TWOCVM_ENGINE_CACHE"] = value
            let refused = try run(work, environment: environment)
            XCTAssertEqual(refused.status, 3, refused.stderr)
            XCTAssertTrue(refused.stderr.contains("TWOCVM_ENGINE_CACHE=\(value): expected off or an absolute folder"), refused.stderr)
        }
    }

    func testMissingOrWrongWasmtimeLibraryIsAnEnvironmentErrorNamingTheFix() throws {
        let (work, compose) = try project(writesReportThen("(nop)"), engine: "wasmtime")
        XCTAssertEqual(compose.status, 0, compose.stderr)
        let missing = try CLI.run(["compose", "\(work)/manifest.toml", "--components", "\(work)/components", "--approvals",
                                   "\(work)/approvals", "-o", "\(work)/plan2.cbor", "--engine-library", "\(work)/nowhere.so"])
        XCTAssertEqual(missing.status, 3, missing.stderr)
        XCTAssertTrue(missing.stderr.contains("component worker"), missing.stderr)
        XCTAssertTrue(missing.stderr.contains("\(work)/nowhere.so") && missing.stderr.contains("make deps"), missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/plan2.cbor"))

        // Another file in its place: refused by digest, naming both digests, before any component runs.
        let impostor = "\(work)/libwasmtime.so"
        try Data("not the pinned build".utf8).write(to: URL(fileURLWithPath: impostor))
        let wrong = try run(work, environment: ["TWOCVM_WASMTIME_LIBRARY": impostor])
        XCTAssertEqual(wrong.status, 3, wrong.stderr)
        XCTAssertTrue(wrong.stderr.contains(impostor), wrong.stderr)
        XCTAssertTrue(wrong.stderr.contains(Array("not the pinned build".utf8).sha256Hex), wrong.stderr)
        XCTAssertTrue(wrong.stderr.contains("3127ca42fe7cdd3f0a43a358e79177dcfedd46c1746329826403b9d854de6178"), wrong.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/out"))
    }

    func testModuleWasmtimeRejectsIsRefusedAtComposeNamingTheComponent() throws {
        // Valid text, invalid module: the function returns an i64 where it declares an i32.
        let invalid = #"(module (memory (export "memory") 1) (func (export "_start")) (func (result i32) (i64.const 1)))"#
        let (work, compose) = try project(invalid, engine: "wasmtime")
        XCTAssertEqual(compose.status, 1, compose.stderr)
        XCTAssertTrue(compose.stderr.contains("component worker"), compose.stderr)
        XCTAssertTrue(compose.stderr.contains("invalid module"), compose.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/plan.cbor"))
    }

    func testSealedRunOutsideAnyVMIsAnEnvironmentError() throws {
        guard !FileManager.default.fileExists(atPath: "/dev/sev-guest"),
              !FileManager.default.fileExists(atPath: "/sys/kernel/config/tsm/report") else { throw XCTSkip("inside an SNP guest") }
        let (work, compose) = try project(writesUndeclared)
        XCTAssertEqual(compose.status, 0, compose.stderr)
        let result = try run(work, dev: false)
        XCTAssertEqual(result.status, 3, "no guest device and no simulated VM: \(result.stderr)")
        XCTAssertTrue(result.stderr.contains("sealed runs happen inside the confidential VM"), result.stderr)
        // The whole fix at once: launch a simulated VM and name its state directory.
        XCTAssertTrue(result.stderr.contains("twocvm sim launch --state DIR") && result.stderr.contains("--platform simulated --state DIR"),
                      result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/out"))
    }

    func testWallClockLimitStopsTheComponent() throws {
        for engine in Self.engines {
            let limits = "limits = { fuel = 1_000_000_000_000_000, memory_mib = 1, timeout_s = 1 }"
            let (work, compose) = try project(writesReportThen("(loop $l (br $l))"), limits: limits, engine: engine)
            XCTAssertEqual(compose.status, 0, compose.stderr)
            let start = Date()
            let result = try run(work)
            XCTAssertEqual(result.status, 1, engine)
            XCTAssertTrue(result.stderr.contains("component worker: killed after its wall-clock limit of 1 s"), result.stderr)
            XCTAssertLessThan(Date().timeIntervalSince(start), 15)
            XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/out"), "\(engine): the finished report is withheld")
        }
    }

    func testComposeRefusesSocketImportWithExitOne() throws {
        let hostile = #"(module (import "wasi_snapshot_preview1" "sock_recv" (func (param i32 i32 i32 i32 i32 i32) (result i32))) (memory (export "memory") 1) (func (export "_start")))"#
        for engine in Self.engines {
            let (work, compose) = try project(hostile, engine: engine)
            XCTAssertEqual(compose.status, 1)
            XCTAssertTrue(compose.stderr.contains("wasi_snapshot_preview1.sock_recv"), compose.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/plan.cbor"))
        }
    }

    func testATamperedPlanIsAFailedCheckAndAnUnreadableOneBadInput() throws {
        let (work, compose) = try project(writesReportThen("(nop)"))
        XCTAssertEqual(compose.status, 0, compose.stderr)
        var plan = try Data(contentsOf: URL(fileURLWithPath: "\(work)/plan.cbor"))
        // Raise the fuel limit in place: 10_000_000 is 0x1a 0x00 0x98 0x96 0x80.
        let fuel = Data([0x1A, 0x00, 0x98, 0x96, 0x80])
        let at = try XCTUnwrap(plan.range(of: fuel)).lowerBound
        plan[at + 1] = 0x01
        try plan.write(to: URL(fileURLWithPath: "\(work)/plan.cbor"))
        let tampered = try run(work)
        XCTAssertEqual(tampered.status, 1, tampered.stderr)
        XCTAssertTrue(tampered.stderr.contains("plan:"), tampered.stderr)
        try Data("not a plan".utf8).write(to: URL(fileURLWithPath: "\(work)/plan.cbor"))
        XCTAssertEqual(try run(work).status, 2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/out"))
    }

    func testComposeRefusesAJunkFileInTheApprovalsFolderNamingIt() throws {
        let (work, compose) = try project(writesReportThen("(nop)"))
        XCTAssertEqual(compose.status, 0, compose.stderr)
        try Data("junk".utf8).write(to: URL(fileURLWithPath: "\(work)/approvals/stale.cose"))
        let again = try CLI.run(["compose", "\(work)/manifest.toml", "--components", "\(work)/components",
                                 "--approvals", "\(work)/approvals", "-o", "\(work)/plan2.cbor"])
        XCTAssertEqual(again.status, 1, again.stderr)
        XCTAssertTrue(again.stderr.contains("\(work)/approvals/stale.cose"), again.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/plan2.cbor"))
        // `manifest approvals` applies the same rule to the same files.
        let approvals = try CLI.run(["manifest", "approvals", "\(work)/manifest.toml", "\(work)/approvals/lab.cose",
                                     "\(work)/approvals/stale.cose"])
        XCTAssertEqual(approvals.status, 1, approvals.stdout)
    }

    func testAMisspeltSubcommandSuggestsTheClosestOne() throws {
        let top = try CLI.run(["compse", "manifest.toml"])
        XCTAssertEqual(top.status, 2)
        XCTAssertTrue(top.stderr.contains("did you mean 'compose'?"), top.stderr)
        let nested = try CLI.run(["manifest", "lnt", "manifest.toml"])
        XCTAssertEqual(nested.status, 2)
        XCTAssertTrue(nested.stderr.contains("unknown subcommand 'lnt' of 'twocvm manifest'; did you mean 'lint'?"), nested.stderr)
    }
}

import Foundation
import XCTest

/// `compose` and `run` refusals as a user meets them: exit codes, messages naming the culprit,
/// and an untouched --out after a failed run.
final class SandboxCLITests: XCTestCase {
    /// A one-participant project over one `.wat` component reading data `notes` and writing
    /// output `report`; returns the plan path after compose (or the compose result on failure).
    private func project(_ wat: String, limits: String = "limits = { fuel = 10_000_000, memory_mib = 1, timeout_s = 30 }")
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
                                   "--approvals", "\(work)/approvals", "-o", "\(work)/plan.cbor"])
        return (work, compose)
    }

    private func run(_ work: String, dev: Bool = true) throws -> CLIResult {
        try CLI.run(["run", "\(work)/plan.cbor", "--inputs", "\(work)/inputs", "--out", "\(work)/out"] + (dev ? ["--dev"] : []))
    }

    private let writesUndeclared = """
        (module
          (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
          (memory (export "memory") 1) (data (i32.const 16) "stolen-notes")
          (func (export "_start")
            (drop (call $open (i32.const 4) (i32.const 0) (i32.const 16) (i32.const 12) (i32.const 9) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 8)))))
        """

    func testUndeclaredOutputFailsTheRunNamingItAndWritesNothing() throws {
        let (work, compose) = try project(writesUndeclared)
        XCTAssertEqual(compose.status, 0, compose.stderr)
        let result = try run(work)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("/out/stolen-notes, which is not a declared output"), result.stderr)
        XCTAssertTrue(result.stderr.contains("nothing written"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/out/report"))
    }

    func testSealedRunOutsideAnyVMIsAnEnvironmentError() throws {
        guard !FileManager.default.fileExists(atPath: "/dev/sev-guest"),
              !FileManager.default.fileExists(atPath: "/sys/kernel/config/tsm/report") else { throw XCTSkip("inside an SNP guest") }
        let (work, compose) = try project(writesUndeclared)
        XCTAssertEqual(compose.status, 0, compose.stderr)
        let result = try run(work, dev: false)
        XCTAssertEqual(result.status, 3, "no guest device and no simulated VM: \(result.stderr)")
        XCTAssertTrue(result.stderr.contains("sealed runs happen inside the confidential VM"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/out"))
    }

    func testWallClockLimitKillsTheChild() throws {
        let loop = #"(module (memory (export "memory") 1) (func (export "_start") (loop $l (br $l))))"#
        let (work, compose) = try project(loop, limits: "limits = { fuel = 1_000_000_000_000_000, memory_mib = 1, timeout_s = 1 }")
        XCTAssertEqual(compose.status, 0, compose.stderr)
        let start = Date()
        let result = try run(work)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("component worker: killed after its wall-clock limit of 1 s"), result.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(start), 15)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/out/report"))
    }

    func testComposeRefusesSocketImportWithExitOne() throws {
        let hostile = #"(module (import "wasi_snapshot_preview1" "sock_recv" (func (param i32 i32 i32 i32 i32 i32) (result i32))) (memory (export "memory") 1) (func (export "_start")))"#
        let (work, compose) = try project(hostile)
        XCTAssertEqual(compose.status, 1)
        XCTAssertTrue(compose.stderr.contains("wasi_snapshot_preview1.sock_recv"), compose.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/plan.cbor"))
    }
}

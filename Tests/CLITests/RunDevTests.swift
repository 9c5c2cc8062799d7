import Foundation
import TestSupport
import XCTest

/// `make demo` in miniature: the two-party example end to end through the built `twocvm`
/// (keygen, the manifest generator, approvals, compose, run --dev), its report checked against
/// the same C programs compiled natively; then the sealed story on the simulated platform
/// (reference, sim launch, attest, seal by each owner, sealed run, open by each recipient),
/// whose opened reports must equal the --dev one.
final class RunDevTests: XCTestCase {
    func testTwoPartyExampleMatchesTheNativeBuildSealedOrNot() throws {
        let gcc = "/usr/bin/gcc"
        try Requirement.requireExecutable(gcc, install: "Debian's gcc package (make deps)")
        let root = TestPaths.repositoryRoot.appendingPathComponent("Examples/two-party")
        let work = try TestPaths.temporaryDirectory(self).path
        for id in ["fab", "designer"] {
            XCTAssertEqual(try CLI.run(["keygen", "--out", "\(work)/keys/\(id)"]).status, 0)
        }
        let generator = try shell(root.appendingPathComponent("make-manifest.sh").path,
                                  ["\(work)/keys/fab", "\(work)/keys/designer", "\(work)/manifest.toml"])
        XCTAssertEqual(generator, 0)
        try FileManager.default.createDirectory(atPath: "\(work)/approvals", withIntermediateDirectories: true)
        for id in ["fab", "designer"] {
            let sign = try CLI.run(["manifest", "sign", "\(work)/manifest.toml", "--key", "\(work)/keys/\(id)",
                                    "--participant", id, "-o", "\(work)/approvals/\(id).cose"])
            XCTAssertEqual(sign.status, 0, sign.stderr)
        }
        let compose = try CLI.run(["compose", "\(work)/manifest.toml", "--components", root.appendingPathComponent("components").path,
                                   "--approvals", "\(work)/approvals", "-o", "\(work)/plan.cbor"])
        XCTAssertEqual(compose.status, 0, compose.stderr)
        XCTAssertTrue(compose.stdout.contains("order wafer-parser -> yield-model"), compose.stdout)

        // A slice of the sample data keeps the debug-build run short: two lots, whole wafers.
        let csv = try String(contentsOf: root.appendingPathComponent("data/wafer-maps.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n", omittingEmptySubsequences: false)
        let slice = lines.prefix(1).joined() + "\n" + lines.dropFirst().filter { $0.hasPrefix("L2406B,1,") || $0.hasPrefix("L2407C,2,") }
            .joined(separator: "\n") + "\n"
        for directory in ["inputs", "sealed"] {
            try FileManager.default.createDirectory(atPath: "\(work)/\(directory)", withIntermediateDirectories: true)
        }
        try Data(slice.utf8).write(to: URL(fileURLWithPath: "\(work)/inputs/wafer-maps"))
        try FileManager.default.copyItem(atPath: root.appendingPathComponent("data/product-spec.txt").path,
                                         toPath: "\(work)/inputs/product-spec")

        // Each component's process is let go once it has answered; none outlives the run.
        let (run, adopted) = try runAdoptingOrphans(["run", "\(work)/plan.cbor", "--inputs", "\(work)/inputs", "--out", "\(work)/out", "--dev"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(adopted, 0, "a component process outlived the run")
        for component in ["wafer-parser", "yield-model"] {
            XCTAssertTrue(run.stdout.contains("\(component) [wasmtime]: ok, fuel "), run.stdout)
        }
        // with each process's peak resident set, as the kernel counts it (several MiB)
        let peaks = run.stdout.split(separator: "\n").compactMap { line in
            line.range(of: "process peak RSS ").flatMap { Double(line[$0.upperBound...].prefix { $0 != " " }) }
        }
        XCTAssertEqual(peaks.count, 2, run.stdout)
        XCTAssertTrue(peaks.allSatisfy { $0 > 4 }, run.stdout)
        // An output folder that cannot be made (its parent is a file): the environment, exit 3,
        // as in a sealed run below.
        try Data("a file".utf8).write(to: URL(fileURLWithPath: "\(work)/a-file"))
        let unwritable = try CLI.run(["run", "\(work)/plan.cbor", "--inputs", "\(work)/inputs", "--out", "\(work)/a-file/out", "--dev"])
        XCTAssertEqual(unwritable.status, 3, unwritable.stderr)
        XCTAssertTrue(unwritable.stderr.contains("cannot write"), unwritable.stderr)

        for program in ["wafer-parser", "yield-model"] {
            XCTAssertEqual(try shell(gcc, ["-O2", "-o", "\(work)/\(program)", root.appendingPathComponent("components/\(program).c").path, "-lm"]), 0)
        }
        XCTAssertEqual(try shell("\(work)/wafer-parser", ["\(work)/inputs/wafer-maps", "\(work)/features"]), 0)
        XCTAssertEqual(try shell("\(work)/yield-model", ["\(work)/features", "\(work)/inputs/product-spec", "\(work)/native-report"]), 0)
        let sandboxed = try String(contentsOfFile: "\(work)/out/yield-report", encoding: .utf8)
        XCTAssertEqual(sandboxed, try String(contentsOfFile: "\(work)/native-report", encoding: .utf8))
        XCTAssertTrue(sandboxed.contains("\nL2406B,"), sandboxed)
        XCTAssertTrue(sandboxed.contains("\nALL,"), sandboxed)

        // The same agreement on the interpreter (ENGINE=wasmkit: another manifest, so new
        // approvals and plan) releases the very same report.
        let interpreted = "\(work)/wasmkit"
        XCTAssertEqual(try shell(root.appendingPathComponent("make-manifest.sh").path,
                                 ["\(work)/keys/fab", "\(work)/keys/designer", "\(interpreted).toml"], environment: ["ENGINE": "wasmkit"]), 0)
        try FileManager.default.createDirectory(atPath: "\(interpreted)-approvals", withIntermediateDirectories: true)
        for id in ["fab", "designer"] {
            XCTAssertEqual(try CLI.run(["manifest", "sign", "\(interpreted).toml", "--key", "\(work)/keys/\(id)", "--participant", id,
                                        "-o", "\(interpreted)-approvals/\(id).cose"]).status, 0)
        }
        let composeInterpreted = try CLI.run(["compose", "\(interpreted).toml", "--components", root.appendingPathComponent("components").path,
                                              "--approvals", "\(interpreted)-approvals", "-o", "\(interpreted).plan"])
        XCTAssertEqual(composeInterpreted.status, 0, composeInterpreted.stderr)
        let runInterpreted = try CLI.run(["run", "\(interpreted).plan", "--inputs", "\(work)/inputs", "--out", "\(interpreted)-out", "--dev"])
        XCTAssertEqual(runInterpreted.status, 0, runInterpreted.stderr)
        XCTAssertTrue(runInterpreted.stdout.contains("yield-model [wasmkit]: ok, fuel "), runInterpreted.stdout)
        XCTAssertEqual(try String(contentsOfFile: "\(interpreted)-out/yield-report", encoding: .utf8), sandboxed)

        try sealedRun(work: work, expected: sandboxed)
    }

    /// The same plan and plaintext, sealed: each owner seals to the verified VM, the run seals
    /// the report to both recipients with a receipt, and each recipient opens its own copy.
    private func sealedRun(work: String, expected: String) throws {
        let ovmf = "/usr/share/ovmf/OVMF.fd"
        try Requirement.requireFile(ovmf, install: "Debian's ovmf package (make deps)")
        let manifest = "\(work)/manifest.toml", reference = "\(work)/reference.json", state = "\(work)/vm"
        let evidence = "\(work)/evidence.cbor", nonce = String(repeating: "c3", count: 32)
        XCTAssertEqual(try CLI.run(["launch-measure", "--mode", "snp", "--vcpus", "2", "--vcpu-type", "EPYC-v4", "--ovmf", ovmf,
                                    "--manifest", manifest, "--reference-out", reference]).status, 0)
        XCTAssertEqual(try CLI.run(["sim", "launch", "--state", state, "--reference", reference, "--manifest", manifest]).status, 0)
        XCTAssertEqual(try CLI.run(["attest", manifest, "--nonce", nonce, "-o", evidence, "--state", state]).status, 0)
        let root = try CLI.run(["sim", "root", "--state", state]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        for (data, owner) in [("wafer-maps", "fab"), ("product-spec", "designer")] {
            let seal = try CLI.run(["seal", evidence, "--manifest", manifest, "--reference", reference, "--nonce", nonce,
                                    "--trust-root", root, "--data", data, "--in", "\(work)/inputs/\(data)", "--key", "\(work)/keys/\(owner)",
                                    "-o", "\(work)/sealed/\(data).sealed", "--json"])
            XCTAssertEqual(seal.status, 0, seal.stderr)
            // `sealedSHA256` is the written file's SHA-256 (sha256sum's), what the receipt will list.
            let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(seal.stdout.utf8)) as? [String: String])
            XCTAssertEqual(report["sealedSHA256"], "sha256:" + (try sha256Hex("\(work)/sealed/\(data).sealed")), data)
            XCTAssertNil(report["sha256"], "\(data): the plaintext is hashed only when the manifest pins it")
        }
        let run = try CLI.run(["run", "\(work)/plan.cbor", "--inputs", "\(work)/sealed", "--out", "\(work)/results", "--state", state])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("launch lock holds"), run.stdout)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(work)/results").sorted(),
                       ["receipt.cose", "yield-report.designer.sealed", "yield-report.fab.sealed"])
        let unwritable = try CLI.run(["run", "\(work)/plan.cbor", "--inputs", "\(work)/sealed", "--out", "\(work)/a-file/results",
                                      "--state", state])
        XCTAssertEqual(unwritable.status, 3, "a failed write exits 3, as in run --dev: \(unwritable.stderr)")
        XCTAssertTrue(unwritable.stderr.contains("cannot write"), unwritable.stderr)

        for recipient in ["fab", "designer"] {
            let open = try CLI.run(["open", "\(work)/results/yield-report.\(recipient).sealed", "--key", "\(work)/keys/\(recipient)",
                                    "--receipt", "\(work)/results/receipt.cose", "--evidence", evidence, "--trust-root", root,
                                    "--manifest", manifest, "--reference", reference, "-o", "\(work)/opened-\(recipient).csv"])
            XCTAssertEqual(open.status, 0, open.stderr)
            XCTAssertEqual(try String(contentsOfFile: "\(work)/opened-\(recipient).csv", encoding: .utf8), expected)
            XCTAssertTrue(open.stdout.contains("sealed file sha256:" + (try sha256Hex("\(work)/results/yield-report.\(recipient).sealed"))),
                          open.stdout)
        }
        // The fab's key does not open the designer's copy; nothing is written.
        let crossed = try CLI.run(["open", "\(work)/results/yield-report.designer.sealed", "--key", "\(work)/keys/fab",
                                   "--receipt", "\(work)/results/receipt.cose", "--evidence", evidence, "--trust-root", root,
                                   "-o", "\(work)/crossed.csv"])
        XCTAssertEqual(crossed.status, 1, crossed.stderr)
        XCTAssertTrue(crossed.stderr.contains("it was sealed to 'designer'"), crossed.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/crossed.csv"))
        // An auditor replays the receipt: the plan and every sealed file are listed; a file that is not, is named.
        let listed = ["\(work)/plan.cbor", "\(work)/sealed/wafer-maps.sealed", "\(work)/sealed/product-spec.sealed",
                      "\(work)/results/yield-report.fab.sealed", "\(work)/results/yield-report.designer.sealed"]
        let audit = try CLI.run(["receipt", "verify", "\(work)/results/receipt.cose", "--evidence", evidence, "--trust-root", root,
                                 "--manifest", manifest, "--reference", reference, "--json"] + listed)
        XCTAssertEqual(audit.status, 0, audit.stderr)
        let components = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [String: Any])?["components"] as? [[String: Any]])
        XCTAssertEqual(components.compactMap { $0["engine"] as? String }, ["wasmtime", "wasmtime"], "the receipt records the engine")
        XCTAssertEqual(Set(components.compactMap { $0["engineLibrary"] as? String }),
                       ["sha256:3127ca42fe7cdd3f0a43a358e79177dcfedd46c1746329826403b9d854de6178"])
        let files = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [String: Any])?["files"] as? [[String: Any]])
        XCTAssertEqual(files.compactMap { $0["listedAs"] as? String },
                       ["plan", "input wafer-maps", "input product-spec", "output yield-report for fab", "output yield-report for designer"])
        let unlisted = try CLI.run(["receipt", "verify", "\(work)/results/receipt.cose", "--evidence", evidence, "--trust-root", root,
                                    "\(work)/inputs/wafer-maps"])
        XCTAssertEqual(unlisted.status, 1, unlisted.stdout)
        XCTAssertTrue(unlisted.stdout.contains("NOT LISTED \(work)/inputs/wafer-maps"), unlisted.stdout)

        // A sealed input altered by one byte: exit 1, no component ran, nothing written.
        var altered = try Data(contentsOf: URL(fileURLWithPath: "\(work)/sealed/product-spec.sealed"))
        altered[altered.count / 2] ^= 0x20
        try altered.write(to: URL(fileURLWithPath: "\(work)/sealed/product-spec.sealed"))
        let refused = try CLI.run(["run", "\(work)/plan.cbor", "--inputs", "\(work)/sealed", "--out", "\(work)/refused", "--state", state])
        XCTAssertEqual(refused.status, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("refusing sealed input 'product-spec' before any component ran"), refused.stderr)
        XCTAssertFalse(refused.stderr.contains("wafer-parser [wasmtime]: ok"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/refused"))

        // Without the simulated root the evidence, and so the receipt, is not trusted.
        let untrusted = try CLI.run(["open", "\(work)/results/yield-report.fab.sealed", "--key", "\(work)/keys/fab",
                                     "--receipt", "\(work)/results/receipt.cose", "--evidence", evidence, "-o", "\(work)/untrusted.csv"])
        XCTAssertEqual(untrusted.status, 1, untrusted.stderr)
        XCTAssertTrue(untrusted.stderr.contains("failed: platform"), untrusted.stderr)
    }

    func testCommittedManifestPinsTheCommittedComponents() throws {
        let root = TestPaths.repositoryRoot.appendingPathComponent("Examples/two-party")
        let manifest = try String(contentsOf: root.appendingPathComponent("manifest.toml"), encoding: .utf8)
        for component in ["wafer-parser", "yield-model"] {
            let bytes = try Data(contentsOf: root.appendingPathComponent("components/\(component).wasm"))
            let digest = Array(bytes).sha256Hex
            XCTAssertTrue(manifest.contains("digest = \"sha256:\(digest)\""), "\(component).wasm digest not in manifest.toml")
        }
    }

    /// `run` starts its first component's process before it reads anything; a run refused before
    /// that component (here: no plan) stops and reaps that process itself, leaving none for init.
    func testARunRefusedBeforeItsFirstComponentLeavesNoProcessBehind() throws {
        let work = try TestPaths.temporaryDirectory(self).path
        let (result, adopted) = try runAdoptingOrphans(["run", "\(work)/no-plan.cbor", "--inputs", work, "--out", "\(work)/out", "--dev"])
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertTrue(result.stderr.contains("no-plan.cbor"), result.stderr)
        XCTAssertEqual(adopted, 0, "a component process outlived the run")
    }

    /// Runs `twocvm` under a Python parent that adopts orphans (PR_SET_CHILD_SUBREAPER): the run,
    /// and how many processes it left behind. The broker lets each component's process go once
    /// it has answered, and must still reap them all before it exits.
    private func runAdoptingOrphans(_ arguments: [String]) throws -> (CLIResult, adopted: Int) {
        let script = """
            import ctypes, json, os, subprocess, sys, time
            assert ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
            run = subprocess.run(sys.argv[1:], capture_output=True, text=True)
            time.sleep(0.5)  # an orphan would be torn down, or read the end of its stdin and exit, by now
            adopted = []
            while True:
                try:
                    pid, _ = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    time.sleep(0.1)
                    continue
                adopted.append(pid)
            print(json.dumps({"status": run.returncode, "stdout": run.stdout, "stderr": run.stderr, "adopted": len(adopted)}))
            """
        let twocvm = CLI.productsDirectory.appendingPathComponent("twocvm").path
        let python = try CLI.run(["-c", script, twocvm] + arguments, executable: "/usr/bin/python3")
        XCTAssertEqual(python.status, 0, python.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(python.stdout.utf8)) as? [String: Any], python.stdout)
        let result = CLIResult(status: Int32(report["status"] as? Int ?? -1), stdout: report["stdout"] as? String ?? "",
                               stderr: report["stderr"] as? String ?? "")
        return (result, report["adopted"] as? Int ?? -1)
    }

    private func shell(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

extension Array where Element == UInt8 {
    /// SHA-256 through the system's sha256sum (the CLI tests link no crypto library).
    var sha256Hex: String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("twocvm-digest-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        try? Data(self).write(to: url)
        let process = Process(), pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [url.path]
        process.standardOutput = pipe
        try? process.run()
        process.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }
}

import Foundation
import XCTest

/// `make demo-dev` in miniature: the two-party example end to end through the built `twocvm`
/// (keygen, the manifest generator, approvals, compose, run --dev), its report checked against
/// the same C programs compiled natively.
final class RunDevTests: XCTestCase {
    func testTwoPartyExampleMatchesTheNativeBuild() throws {
        let gcc = "/usr/bin/gcc"
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: gcc), "needs gcc for the native comparison")
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
        try FileManager.default.createDirectory(atPath: "\(work)/inputs", withIntermediateDirectories: true)
        try Data(slice.utf8).write(to: URL(fileURLWithPath: "\(work)/inputs/wafer-maps"))

        let run = try CLI.run(["run", "\(work)/plan.cbor", "--inputs", "\(work)/inputs", "--out", "\(work)/out", "--dev"])
        XCTAssertEqual(run.status, 0, run.stderr)
        for component in ["wafer-parser", "yield-model"] {
            XCTAssertTrue(run.stdout.contains("\(component): ok, fuel "), run.stdout)
        }
        XCTAssertTrue(run.stdout.contains("peak memory"), run.stdout)

        for program in ["wafer-parser", "yield-model"] {
            XCTAssertEqual(try shell(gcc, ["-O2", "-o", "\(work)/\(program)", root.appendingPathComponent("components/\(program).c").path, "-lm"]), 0)
        }
        XCTAssertEqual(try shell("\(work)/wafer-parser", ["\(work)/inputs/wafer-maps", "\(work)/features"]), 0)
        XCTAssertEqual(try shell("\(work)/yield-model", ["\(work)/features", "\(work)/native-report"]), 0)
        let sandboxed = try String(contentsOfFile: "\(work)/out/yield-report", encoding: .utf8)
        XCTAssertEqual(sandboxed, try String(contentsOfFile: "\(work)/native-report", encoding: .utf8))
        XCTAssertTrue(sandboxed.contains("\nL2406B,"), sandboxed)
        XCTAssertTrue(sandboxed.contains("\nALL,"), sandboxed)
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

    private func shell(_ executable: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
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

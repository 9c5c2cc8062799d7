import Foundation
import XCTest

/// `twocvm keygen` and `twocvm manifest …` as a user runs them: exit codes, output, files.
final class ManifestCommandTests: XCTestCase {
    private var directory: URL!
    private var example: String { TestPaths.repositoryRoot.appendingPathComponent("Examples/two-party/manifest.toml").path }

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory(self)
    }

    /// Two participants with fresh keys and a manifest naming them (the Example with its keys swapped).
    private func makeManifest() throws -> String {
        var text = try String(contentsOfFile: example, encoding: .utf8)
        for participant in ["fab", "designer"] {
            let keys = directory.appendingPathComponent(participant).path
            XCTAssertEqual(try CLI.run(["keygen", "--out", keys]).status, 0)
            for kind in ["signing", "encryption"] {
                let fresh = try String(contentsOfFile: "\(keys)/\(kind).pub.pem", encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                let marker = "id = \"\(participant)\""
                let start = text.range(of: marker)!.upperBound
                let keyStart = text.range(of: "\(kind)_key = \"\"\"\n", range: start..<text.endIndex)!.upperBound
                let keyEnd = text.range(of: "\n\"\"\"", range: keyStart..<text.endIndex)!.lowerBound
                text.replaceSubrange(keyStart..<keyEnd, with: fresh)
            }
        }
        let path = directory.appendingPathComponent("manifest.toml").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func testKeygenWritesPrivateKeysWithMode0600AndRefusesToOverwrite() throws {
        let keys = directory.appendingPathComponent("k").path
        let result = try CLI.run(["keygen", "--out", keys])
        XCTAssertEqual(result.status, 0, result.stderr)
        for (file, mode) in [("signing.key", 0o600), ("encryption.key", 0o600), ("signing.pub.pem", 0o644), ("encryption.pub.pem", 0o644)] {
            let attributes = try FileManager.default.attributesOfItem(atPath: "\(keys)/\(file)")
            XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, mode, file)
        }
        let privatePEM = try String(contentsOfFile: "\(keys)/signing.key", encoding: .utf8)
        XCTAssertFalse(result.stdout.contains(privatePEM.split(separator: "\n")[1]), "private key printed")
        let again = try CLI.run(["keygen", "--out", keys])
        XCTAssertEqual(again.status, 2)
        XCTAssertTrue(again.stderr.contains("refusing to overwrite"), again.stderr)
    }

    func testLintCleanExampleExitsZero() throws {
        let result = try CLI.run(["manifest", "lint", example])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("ok"), result.stdout)
    }

    func testLintFindingsExitOneWithFileLineColumnAndJSON() throws {
        var text = try String(contentsOfFile: example, encoding: .utf8)
        text = text.replacingOccurrences(of: "owner = \"designer\"", with: "owner = \"mallory\"")
        let path = directory.appendingPathComponent("bad.toml").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let line = text.components(separatedBy: "\n").firstIndex { $0.contains("mallory") }! + 1
        let result = try CLI.run(["manifest", "lint", path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stdout.contains("\(path):\(line):9: error[unknown-owner]"), result.stdout)
        let json = try CLI.run(["manifest", "lint", path, "--json"])
        XCTAssertEqual(json.status, 1)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], json.stdout)
        XCTAssertEqual(report["ok"] as? Bool, false)
        let first = try XCTUnwrap((report["diagnostics"] as? [[String: Any]])?.first, json.stdout)
        XCTAssertEqual(first["code"] as? String, "unknown-owner")
        XCTAssertEqual(first["line"] as? Int, line)
        XCTAssertEqual(first["severity"] as? String, "error")
    }

    func testHostileInputsExitTwoQuickly() throws {
        let garbage = directory.appendingPathComponent("garbage.toml")
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: garbage)
        let huge = directory.appendingPathComponent("huge.toml")
        FileManager.default.createFile(atPath: huge.path, contents: nil)
        let handle = try FileHandle(forWritingTo: huge)
        try handle.truncate(atOffset: 100 << 20)  // 100 MB (sparse)
        try handle.close()
        let nested = directory.appendingPathComponent("nested.toml")
        try Data(("x = " + String(repeating: "[", count: 500_000) + String(repeating: "]", count: 500_000)).utf8).write(to: nested)
        for file in [garbage, huge, nested] {
            for command in [["manifest", "lint", file.path], ["manifest", "hash", file.path]] {
                let start = Date()
                let result = try CLI.run(command)
                XCTAssertEqual(result.status, 2, "\(command): \(result.stdout) \(result.stderr)")
                XCTAssertTrue((result.stdout + result.stderr).contains(file.path), "error names the file")
                XCTAssertLessThan(Date().timeIntervalSince(start), 1.0, "\(command)")
            }
        }
        let missing = try CLI.run(["manifest", "lint", directory.appendingPathComponent("nope.toml").path])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("nope.toml"), missing.stderr)
    }

    func testHashPrintsDigestAndHostData() throws {
        let digest = try CLI.run(["manifest", "hash", example])
        XCTAssertEqual(digest.status, 0)
        let line = digest.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(line.hasPrefix("sha384:") && line.count == 103, line)
        let hostHex = try CLI.run(["manifest", "hash", example, "--host-data"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(hostHex, String(line.dropFirst(7).prefix(64)))
        let hostBase64 = try CLI.run(["manifest", "hash", example, "--host-data", "--encoding", "base64"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(Data(base64Encoded: hostBase64)?.map { String(format: "%02x", $0) }.joined(), hostHex)
        let hashed = try CLI.run(["manifest", "hash", example, "--json"]).stdout
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(hashed.utf8)) as? [String: String], hashed)
        XCTAssertEqual(json["digest"], line)
        XCTAssertEqual(json["host_data_base64"], hostBase64)
    }

    func testSignCreatesTheFolderOfItsOutput() throws {
        let manifest = try makeManifest()
        let nested = directory.appendingPathComponent("not-yet/approvals/fab.cose").path
        let sign = try CLI.run(["manifest", "sign", manifest, "--key", directory.appendingPathComponent("fab").path,
                                "--participant", "fab", "-o", nested])
        XCTAssertEqual(sign.status, 0, sign.stderr)
        XCTAssertEqual(try CLI.run(["manifest", "approvals", manifest, nested]).stdout.contains("approved  fab"), true)
    }

    func testSignAndApprovalsEndToEnd() throws {
        let manifest = try makeManifest()
        let approvals = directory.appendingPathComponent("approvals").path
        try FileManager.default.createDirectory(atPath: approvals, withIntermediateDirectories: true)
        let fab = "\(approvals)/fab.cose", designer = "\(approvals)/designer.cose"
        XCTAssertEqual(try CLI.run(["manifest", "sign", manifest, "--key", directory.appendingPathComponent("fab").path,
                                    "--participant", "fab", "-o", fab]).status, 0)

        let partial = try CLI.run(["manifest", "approvals", manifest, fab])
        XCTAssertEqual(partial.status, 1)
        XCTAssertTrue(partial.stdout.contains("MISSING   designer"), partial.stdout)

        // Signing as designer with fab's key is refused: it is not designer's key in the manifest.
        let wrongKey = try CLI.run(["manifest", "sign", manifest, "--key", directory.appendingPathComponent("fab").path,
                                    "--participant", "designer", "-o", designer])
        XCTAssertEqual(wrongKey.status, 2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: designer), "no partial output")

        XCTAssertEqual(try CLI.run(["manifest", "sign", manifest, "--key", directory.appendingPathComponent("designer").path,
                                    "--participant", "designer", "-o", designer]).status, 0)
        let complete = try CLI.run(["manifest", "approvals", manifest, fab, designer, "--json"])
        XCTAssertEqual(complete.status, 0, complete.stdout)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(complete.stdout.utf8)) as? [String: Any])?["ok"] as? Bool, true)

        // A tampered approval: exit 1, naming the participant whose approval is now invalid.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: designer))
        bytes[bytes.count - 5] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: designer))
        let tampered = try CLI.run(["manifest", "approvals", manifest, fab, designer])
        XCTAssertEqual(tampered.status, 1)
        XCTAssertTrue(tampered.stdout.contains("INVALID   designer"), tampered.stdout)
        XCTAssertTrue(tampered.stdout.contains("MISSING   designer"), tampered.stdout)
    }

    func testPycoseVerifiesAnApprovalWrittenByTheCLI() throws {
        let manifest = try makeManifest()
        let approval = directory.appendingPathComponent("fab.cose").path
        XCTAssertEqual(try CLI.run(["manifest", "sign", manifest, "--key", directory.appendingPathComponent("fab").path,
                                    "--participant", "fab", "-o", approval]).status, 0)
        let digest = try CLI.run(["manifest", "hash", manifest]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let script = """
            import sys
            from cryptography.hazmat.primitives.serialization import load_pem_public_key
            from pycose.messages import Sign1Message
            from pycose.keys import EC2Key
            from pycose.keys.curves import P384
            msg = Sign1Message.decode(open(sys.argv[1], "rb").read())
            pub = load_pem_public_key(open(sys.argv[2], "rb").read()).public_numbers()
            msg.key = EC2Key(crv=P384, x=pub.x.to_bytes(48, "big"), y=pub.y.to_bytes(48, "big"))
            assert msg.verify_signature()
            print("sha384:" + msg.payload.hex(), msg.phdr, msg.uhdr)
            """
        let python = Process()
        python.executableURL = URL(fileURLWithPath: TestPaths.python)
        python.arguments = ["-c", script, approval, directory.appendingPathComponent("fab/signing.pub.pem").path]
        let out = Pipe()
        python.standardOutput = out
        try python.run()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        python.waitUntilExit()
        XCTAssertEqual(python.terminationStatus, 0)
        XCTAssertTrue(output.hasPrefix(digest), output)
        XCTAssertTrue(output.contains("KID'>: b'fab'}"), "the kid is protected: \(output)")
        XCTAssertTrue(output.hasSuffix(" {}\n"), "nothing is unprotected: \(output)")
    }

    func testUsageErrorsExitTwo() throws {
        XCTAssertEqual(try CLI.run(["manifest", "hash"]).status, 2)
        XCTAssertEqual(try CLI.run(["manifest", "frobnicate"]).status, 2)
        XCTAssertEqual(try CLI.run(["manifest", "lint", "--help"]).status, 0)
        XCTAssertTrue(try CLI.run(["manifest", "sign", "--help"]).stdout.contains("Example"))
    }
}

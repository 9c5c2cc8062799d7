import Foundation
import XCTest

/// `twocvm report show|verify` as a user runs them: exit statuses, the named checks, `--json`
/// shapes, and `report show --json` against the shared expected-parse.json.
final class ReportCommandTests: XCTestCase {
    private var snp: URL { TestPaths.testData.appendingPathComponent("snp") }
    private func path(_ relative: String) -> String { snp.appendingPathComponent(relative).path }

    /// (expected-parse.json name, report file) for every report in the shared data.
    private let reports = [
        ("gsg_attestation", "go-sev-guest/attestation.bin"),
        ("virtee_report_milan", "virtee-sev/report_milan.hex"),
        ("trustee_test_report", "trustee/test-report.bin"),
        ("trustee_vlek_report", "trustee/test-vlek-report.bin"),
        ("az_genoa", "trustee/az-genoa-snp-report.bin"),
        ("az_milan", "trustee/az-milan-snp-report.bin"),
        ("box2_turin", "confidential-secrets-vault/box2-turin-report.bin"),
    ]

    func testShowJSONEqualsTheSharedExpectedFields() throws {
        let data = try Data(contentsOf: snp.appendingPathComponent("expected-parse.json"))
        let vectors = try XCTUnwrap((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["vectors"] as? [String: Any])
        for (name, file) in reports {
            let result = try CLI.run(["report", "show", path(file), "--json"])
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
            let got = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            let want = try XCTUnwrap((vectors[name] as? [String: Any])?["report"] as? [String: Any])
            // Reserved fields are not printed: a report only parses when they are zero.
            for (key, value) in want where key != "reserved_0x4c" && key != "nonzero_reserved" {
                XCTAssertTrue(Self.jsonEqual(got[key], value), "\(name).\(key): got \(String(describing: got[key])), expected \(value)")
            }
        }
    }

    func testShowPrintsEveryFieldAsText() throws {
        let result = try CLI.run(["report", "show", path("confidential-secrets-vault/box2-turin-report.bin")])
        XCTAssertEqual(result.status, 0, result.stderr)
        for field in ["version", "cpuid_fam_id", "policy", "measurement", "reported_tcb:", "  fmc", "launch_mit_vector", "sig_r_le"] {
            XCTAssertTrue(result.stdout.contains(field), field)
        }
        XCTAssertTrue(result.stdout.contains("4b29a3b0804ec7dbd70309fd556d94f796ad8dfe7e87fba14a0fcd9644e000c7fc0a4f834bc249b18f3f542a0412d1ac"))
    }

    /// Each real report verifies with the flags its MANIFEST.md calls for (exit 0), and fails the
    /// named check without them (exit 1).
    func testVerifyFollowsTheManifests() throws {
        let cases: [(report: String, cert: String, flags: [String], withoutFlags: String?)] = [
            ("go-sev-guest/attestation.bin", "go-sev-guest/vcek.testcer", ["--allow-debug"], "policy"),
            ("virtee-sev/report_milan.hex", "virtee-sev/vcek_milan.der", [], nil),
            ("trustee/test-report.bin", "trustee/test-vcek.der", ["--allow-provisional"], "provisional"),
            ("trustee/test-vlek-report.bin", "trustee/test-vlek.der", ["--allow-provisional", "--at", "2025-06-01T00:00:00Z"], nil),
            ("trustee/az-genoa-snp-report.bin", "trustee/az-vcek-genoa.pem", [], nil),
            ("trustee/az-milan-snp-report.bin", "trustee/az-vcek-milan-chain.pem", ["--allow-provisional"], "provisional"),
            ("confidential-secrets-vault/box2-turin-report.bin", "confidential-secrets-vault/box2-turin-vcek.der", [], nil),
        ]
        for entry in cases {
            let pass = try reportVerify([path(entry.report), "--cert", path(entry.cert)] + entry.flags)
            XCTAssertEqual(pass.status, 0, "\(entry.report): \(pass.stdout)\(pass.stderr)")
            XCTAssertTrue(pass.stdout.contains("verified"), entry.report)
            if let check = entry.withoutFlags {
                let fail = try reportVerify([path(entry.report), "--cert", path(entry.cert)])
                XCTAssertEqual(fail.status, 1, entry.report)
                XCTAssertEqual(Self.failedChecks(fail.stdout), [check], entry.report)
            }
        }
    }

    /// The expired VLEK passes at a time inside its validity and fails after it (chain check).
    func testExpiredVLEKVerifiesOnlyInsideItsValidity() throws {
        let base = ["report", "verify", path("trustee/test-vlek-report.bin"), "--cert", path("trustee/test-vlek.der"),
                    "--chain", path("trustee/milan_ask_ark_asvk.pem"), "--allow-provisional", "--json"]
        let pinned = try CLI.run(base + ["--at", "2025-06-01T00:00:00Z"])
        XCTAssertEqual(pinned.status, 0, pinned.stdout)
        let later = try CLI.run(base + ["--at", Self.verificationTime])
        XCTAssertEqual(later.status, 1)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(later.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["ok"] as? Bool, false)
        let checks = try XCTUnwrap(json["checks"] as? [[String: Any]])
        XCTAssertEqual(checks.filter { $0["ok"] as? Bool == false }.compactMap { $0["name"] as? String }, ["chain"])
        XCTAssertTrue((checks.first { $0["name"] as? String == "chain" }?["detail"] as? String)?.contains("not valid at") ?? false)
        XCTAssertEqual((json["report"] as? [String: Any])?["signing_key"] as? String, "VLEK")
    }

    func testVerifyJSONHasOkChecksAndReport() throws {
        let result = try reportVerify([path("trustee/az-genoa-snp-report.bin"), "--cert", path("trustee/az-vcek-genoa.pem"),
                                  "--chain", path("go-sev-guest/ask_ark_genoa.pem"), "--min-abi", "1.55", "--vmpl", "0", "--json"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(Set(json.keys), ["ok", "checks", "report"])
        XCTAssertEqual(json["ok"] as? Bool, true)
        let names = try XCTUnwrap(json["checks"] as? [[String: Any]]).compactMap { $0["name"] as? String }
        XCTAssertEqual(names, ["report-parses", "product", "chain", "signature", "tcb-extensions", "hwid", "policy",
                               "min-abi", "vmpl", "tcb", "provisional"])
        XCTAssertEqual((json["report"] as? [String: Any])?["version"] as? Int, 3)
    }

    func testTamperedCopiesFailTheNamedCheck() throws {
        let dir = try TestPaths.temporaryDirectory(self)
        let report = try Data(contentsOf: snp.appendingPathComponent("trustee/az-genoa-snp-report.bin"))
        let cert = path("trustee/az-vcek-genoa.pem")
        func tampered(_ name: String, _ change: (inout [UInt8]) -> Void) throws -> String {
            var bytes = [UInt8](report)
            change(&bytes)
            let url = dir.appendingPathComponent(name)
            try Data(bytes).write(to: url)
            return url.path
        }
        let cases: [(String, (inout [UInt8]) -> Void, [String])] = [
            ("measurement.bin", { $0[0x90] ^= 0x01 }, ["signature"]),
            ("r.bin", { $0[0x2A0] ^= 0x80 }, ["signature"]),
            ("s.bin", { $0[0x2E8 + 5] ^= 0x04 }, ["signature"]),
            ("reserved.bin", { $0[0x1F8] ^= 0x01 }, ["report-parses"]),
        ]
        for (name, change, expected) in cases {
            let result = try reportVerify([try tampered(name, change), "--cert", cert])
            XCTAssertEqual(result.status, 1, name)
            XCTAssertEqual(Self.failedChecks(result.stdout), expected, "\(name): \(result.stdout)")
        }
        // A tampered certificate breaks the chain.
        var vcek = try [UInt8](Data(contentsOf: snp.appendingPathComponent("go-sev-guest/vcek.testcer")))
        vcek[vcek.count - 10] ^= 0x01
        let vcekURL = dir.appendingPathComponent("vcek.der")
        try Data(vcek).write(to: vcekURL)
        let chain = try reportVerify([path("go-sev-guest/attestation.bin"), "--cert", vcekURL.path, "--allow-debug"])
        XCTAssertEqual(chain.status, 1)
        XCTAssertEqual(Self.failedChecks(chain.stdout), ["chain"])
    }

    func testWrongChainsFailTheChainCheck() throws {
        let dir = try TestPaths.temporaryDirectory(self)
        let genoaASKMilanARK = dir.appendingPathComponent("genoa-ask-milan-ark.pem")
        try (try Data(contentsOf: snp.appendingPathComponent("virtee-sev/builtin_genoa_ask.pem"))
             + Data(contentsOf: snp.appendingPathComponent("virtee-sev/builtin_milan_ark.pem"))).write(to: genoaASKMilanARK)
        let cases = [
            (path("go-sev-guest/attestation.bin"), path("go-sev-guest/vcek.testcer"), genoaASKMilanARK.path, "is issued by SEV-Milan"),
            (path("confidential-secrets-vault/box2-turin-report.bin"), path("confidential-secrets-vault/box2-turin-vcek.der"),
             path("go-sev-guest/ask_ark_genoa.pem"), "is not AMD's pinned ARK-Turin"),
        ]
        for (report, cert, chain, reason) in cases {
            let result = try reportVerify([report, "--cert", cert, "--chain", chain, "--allow-debug"])
            XCTAssertEqual(result.status, 1)
            XCTAssertEqual(Self.failedChecks(result.stdout), ["chain"], result.stdout)
            XCTAssertTrue(result.stdout.contains(reason), result.stdout)
        }
    }

    /// Truncated, oversized and random inputs, and unusable flags, exit 2 with a clear message.
    func testUnreadableInputsExitTwo() throws {
        let dir = try TestPaths.temporaryDirectory(self)
        let report = try Data(contentsOf: snp.appendingPathComponent("go-sev-guest/attestation.bin"))
        var generator = SplitMix64(seed: 777)
        let files: [(String, Data, String)] = [
            ("truncated.bin", report.prefix(1000), "input is 1000 bytes"),
            ("oversized.bin", report + Data(count: 16), "input is 1200 bytes"),
            ("random.bin", Data(generator.bytes(777)), "1184 bytes"),
            ("huge.bin", Data(count: 100_000), "over the limit"),
            ("empty.bin", Data(), "input is 0 bytes"),
        ]
        for (name, bytes, message) in files {
            let url = dir.appendingPathComponent(name)
            try bytes.write(to: url)
            for command in [["report", "show", url.path], ["report", "verify", url.path, "--cert", path("go-sev-guest/vcek.testcer")]] {
                let result = try CLI.run(command)
                XCTAssertEqual(result.status, 2, "\(command): \(result.stdout)")
                XCTAssertTrue(result.stderr.contains(message), "\(name): \(result.stderr)")
            }
        }
        let notCert = dir.appendingPathComponent("vek.pem")
        try Data("hello".utf8).write(to: notCert)
        let badCert = try CLI.run(["report", "verify", path("go-sev-guest/attestation.bin"), "--cert", notCert.path])
        XCTAssertEqual(badCert.status, 2)
        XCTAssertTrue(badCert.stderr.contains("vek.pem: not a valid X.509 certificate"), badCert.stderr)
        let missing = try CLI.run(["report", "verify", path("go-sev-guest/attestation.bin"), "--cert", dir.appendingPathComponent("nope").path])
        XCTAssertEqual(missing.status, 2)
        for flags in [["--min-tcb", "bl=1,xyz=2"], ["--min-abi", "1"], ["--measurement", "abcd"], ["--at", "yesterday"], ["--vmpl", "4"], ["--product", "Naples"]] {
            let result = try CLI.run(["report", "verify", path("go-sev-guest/attestation.bin"), "--cert", path("go-sev-guest/vcek.testcer")] + flags)
            XCTAssertEqual(result.status, 2, "\(flags)")
            XCTAssertTrue(result.stderr.contains(flags[0]), "\(flags): \(result.stderr)")
        }
    }

    func testFuzzCorpusReplays() throws {
        for target in ["report", "certificate", "sealed", "evidence"] {
            let directory = TestPaths.repositoryRoot.appendingPathComponent("Fuzz/corpus/\(target)")
            let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted().map { directory.appendingPathComponent($0).path }
            XCTAssertGreaterThan(files.count, 3)
            let result = try CLI.run([target] + files, executable: "twocvm-fuzz")
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stdout.contains("replayed \(files.count) inputs"), result.stdout)
        }
    }

    func testWriteSeedsMakesTheTargetFoldersAndItsSeedsReplay() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seeds-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        let written = try CLI.run(["--write-seeds", directory.path], executable: "twocvm-fuzz")
        XCTAssertEqual(written.status, 0, written.stderr)
        for (target, names) in ["sealed": ["seed-output", "seed-output-v2"], "evidence": ["seed-receipt"]] {
            let files = names.map { directory.appendingPathComponent("\(target)/\($0)").path }
            let replay = try CLI.run([target] + files, executable: "twocvm-fuzz")
            XCTAssertEqual(replay.status, 0, replay.stderr)
            XCTAssertTrue(replay.stdout.contains("replayed \(files.count) inputs"), replay.stdout)
        }
        // A folder that cannot be made: the command fails, naming the seed, instead of writing nothing.
        let blocked = directory.appendingPathComponent("file")
        try Data().write(to: blocked)
        let refused = try CLI.run(["--write-seeds", blocked.path], executable: "twocvm-fuzz")
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("cannot write seed \(blocked.path)/"), refused.stderr)
    }

    /// go-sev-guest's VCEK (valid to 2029-09-24 00:55:28 UTC) verifies up to its notAfter and
    /// fails the chain check one second later: vectors expire, so tests never verify at "now".
    func testAnExpiredVCEKFailsTheChainCheckAfterItsNotAfter() throws {
        let base = [path("go-sev-guest/attestation.bin"), "--cert", path("go-sev-guest/vcek.testcer"), "--allow-debug"]
        let lastValid = try reportVerify(base + ["--at", "2029-09-24T00:55:28Z"])
        XCTAssertEqual(lastValid.status, 0, lastValid.stdout)
        let expired = try reportVerify(base + ["--at", "2029-09-24T00:55:29Z"])
        XCTAssertEqual(expired.status, 1, expired.stdout)
        XCTAssertEqual(Self.failedChecks(expired.stdout), ["chain"], expired.stdout)
        XCTAssertTrue(expired.stdout.contains("SEV-VCEK is not valid at 2029-09-24T00:55:29Z"), expired.stdout)
    }

    // MARK: - Helpers

    /// The time real vectors are verified at (inside every certificate's validity but the
    /// expired VLEK's; see SNPTestData.verificationTime).
    static let verificationTime = "2027-06-01T00:00:00Z"

    /// `twocvm report verify ARGUMENTS`, at `verificationTime` unless the arguments name a time.
    private func reportVerify(_ arguments: [String]) throws -> CLIResult {
        try CLI.run(["report", "verify"] + arguments + (arguments.contains("--at") ? [] : ["--at", Self.verificationTime]))
    }

    /// The names of the FAIL lines of `report verify`'s text output.
    static func failedChecks(_ output: String) -> [String] {
        output.split(separator: "\n").filter { $0.hasPrefix("FAIL") }.compactMap { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.map(String.init) }
    }

    static func jsonEqual(_ lhs: Any?, _ rhs: Any?) -> Bool {
        switch (lhs, rhs) {
        case (nil, nil): return true
        case let (l as [String: Any], r as [String: Any]): return l.count == r.count && l.allSatisfy { jsonEqual($0.value, r[$0.key]) }
        case let (l as [Any], r as [Any]): return l.count == r.count && zip(l, r).allSatisfy { jsonEqual($0, $1) }
        case let (l as NSObject, r as NSObject): return l.isEqual(r)
        default: return false
        }
    }
}

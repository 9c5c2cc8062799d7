import Foundation
import XCTest

/// `twocvm report verify` and `twocvm verify` with several files: one result per file in input
/// order whatever the number of workers, a bad file named without stopping the others, and the
/// exit status of the worst file.
final class BatchVerifyCLITests: XCTestCase {
    private var snp: URL { TestPaths.testData.appendingPathComponent("snp") }
    private func path(_ relative: String) -> String { snp.appendingPathComponent(relative).path }

    /// Real reports that verify with no flag but --allow-provisional, each with its own VCEK.
    private var genuine: [(report: String, cert: String)] {
        [
            (path("virtee-sev/report_milan.hex"), path("virtee-sev/vcek_milan.der")),
            (path("trustee/az-genoa-snp-report.bin"), path("trustee/az-vcek-genoa.pem")),
            (path("trustee/az-milan-snp-report.bin"), path("trustee/az-vcek-milan-chain.pem")),
            (path("confidential-secrets-vault/box2-turin-report.bin"), path("confidential-secrets-vault/box2-turin-vcek.der")),
            (path("trustee/test-report.bin"), path("trustee/test-vcek.der")),
        ]
    }

    /// The genuine reports with a copy of the Genoa one, MEASUREMENT bit flipped, third.
    private func batchWithTamperedCopy() throws -> (reports: [String], certs: [String]) {
        let dir = try TestPaths.temporaryDirectory(self)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: genuine[1].report)))
        bytes[0x90] ^= 0x01
        let tampered = dir.appendingPathComponent("tampered-genoa.bin")
        try Data(bytes).write(to: tampered)
        var entries = genuine
        entries.insert((tampered.path, genuine[1].cert), at: 2)
        return (entries.map(\.report), entries.map(\.cert))
    }

    private func verify(_ reports: [String], certs: [String], _ extra: [String] = []) throws -> CLIResult {
        try CLI.run(["report", "verify"] + reports + certs.flatMap { ["--cert", $0] } + ["--allow-provisional"] + extra)
    }

    func testAListFileGivesTheSameVerdictsAsArgumentsAndNamesABadLine() throws {
        let (reports, certs) = try batchWithTamperedCopy()
        let pinned = ["--at", "2026-11-01T00:00:00Z"]  // the output names the verification time
        let fromArguments = try verify(reports, certs: certs, ["--jobs", "2"] + pinned)
        let dir = try TestPaths.temporaryDirectory(self)
        let list = dir.appendingPathComponent("reports.tsv")
        // Every form of line: REPORT<tab>VEK for all but the last, which takes --cert; blank lines
        // skipped; CRLF line ends.
        var lines = zip(reports, certs).dropLast().map { "\($0)\t\($1)" }
        lines.insert("", at: 1)
        lines.append(reports.last!)
        try Data((lines.joined(separator: "\r\n") + "\r\n").utf8).write(to: list)  // CRLF, as a Windows editor saves it
        let fromList = try CLI.run(["report", "verify", "--files-from", list.path, "--cert", certs.last!,
                                    "--allow-provisional", "--jobs", "2"] + pinned)
        XCTAssertEqual(fromList.status, 1, fromList.stderr)
        XCTAssertEqual(fromList.stdout, fromArguments.stdout, "the same verdicts, in the same order")

        try Data("\(reports[0])\t\(certs[0])\n\(reports[1])\t\t\(certs[1])\n".utf8).write(to: list)
        let bad = try CLI.run(["report", "verify", "--files-from", list.path, "--allow-provisional"])
        XCTAssertEqual(bad.status, 2, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("\(list.path):2: expected REPORT"), bad.stderr)

        let both = try CLI.run(["report", "verify", reports[0], "--files-from", list.path, "--cert", certs[0]])
        XCTAssertEqual(both.status, 2, both.stderr)
        XCTAssertTrue(both.stderr.contains("not both"), both.stderr)
    }

    func testTamperedCopyInABatchFailsAloneAndExitsOne() throws {
        let (reports, certs) = try batchWithTamperedCopy()
        let result = try verify(reports, certs: certs, ["--jobs", "2"])
        XCTAssertEqual(result.status, 1, result.stderr)
        let verdicts = result.stdout.split(separator: "\n").filter { $0.contains("verified") && !$0.hasPrefix("pass") }
            .map(String.init)
        // One verdict line per file, in input order, then the tally.
        XCTAssertEqual(verdicts.count, reports.count + 1, result.stdout)
        for (index, report) in reports.enumerated() {
            let expected = index == 2 ? "\(report): NOT verified (1 of 9 checks failed)" : "\(report): verified (9 checks passed)"
            XCTAssertEqual(verdicts[index], expected)
        }
        XCTAssertEqual(verdicts.last, "6 files: 5 verified, 1 NOT verified, 0 unreadable")
        XCTAssertEqual(ReportCommandTests.failedChecks(result.stdout), ["signature"])
    }

    func testBatchJSONIsAnArrayInInputOrder() throws {
        let (reports, certs) = try batchWithTamperedCopy()
        let result = try verify(reports, certs: certs, ["--json"])
        XCTAssertEqual(result.status, 1, result.stderr)
        let array = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(array.compactMap { $0["file"] as? String }, reports)
        XCTAssertEqual(array.compactMap { $0["ok"] as? Bool }, [true, true, false, true, true, true])
        for object in array {
            XCTAssertNotNil(object["checks"] as? [[String: Any]])
            XCTAssertNotNil(object["report"] as? [String: Any])
        }
    }

    func testOneAndTwoJobsPrintTheSameBytes() throws {
        let (reports, certs) = try batchWithTamperedCopy()
        // Repeated, so that two workers really interleave.
        let many = Array(repeating: reports, count: 4).flatMap { $0 }
        let manyCerts = Array(repeating: certs, count: 4).flatMap { $0 }
        // A pinned time: the chain check prints the time it checked validity at.
        let pinned = ["--at", "2026-11-01T00:00:00Z"]
        for format in [[], ["--json"]] {
            let one = try verify(many, certs: manyCerts, ["--jobs", "1"] + pinned + format)
            let two = try verify(many, certs: manyCerts, ["--jobs", "2"] + pinned + format)
            XCTAssertEqual(one.status, 1)
            XCTAssertEqual(two.status, 1)
            XCTAssertEqual(one.stdout, two.stdout, "--jobs 1 and --jobs 2 differ \(format)")
        }
    }

    func testUnreadableFileIsNamedAndTheOthersStillChecked() throws {
        let reports = [genuine[0].report, "/nonexistent/report.bin", genuine[3].report]
        let certs = [genuine[0].cert, genuine[0].cert, genuine[3].cert]
        let result = try verify(reports, certs: certs, ["--jobs", "2"])
        XCTAssertEqual(result.status, 2, "an unreadable file is bad input")
        XCTAssertTrue(result.stdout.contains("\(reports[0]): verified"), result.stdout)
        XCTAssertTrue(result.stdout.contains("/nonexistent/report.bin: NOT checked (/nonexistent/report.bin: cannot read"), result.stdout)
        XCTAssertTrue(result.stdout.contains("\(reports[2]): verified"), result.stdout)
        let json = try verify(reports, certs: certs, ["--json"])
        let array = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(array.compactMap { $0["ok"] as? Bool }, [true, false, true])
        XCTAssertNotNil(array[1]["error"] as? String)
    }

    func testOneFileBatchPrintsExactlyTheSingleFileOutput() throws {
        let single = try CLI.run(["report", "verify", genuine[1].report, "--cert", genuine[1].cert, "--at", "2026-11-01T00:00:00Z"])
        let withJobs = try CLI.run(["report", "verify", genuine[1].report, "--cert", genuine[1].cert, "--at", "2026-11-01T00:00:00Z",
                                    "--jobs", "2"])
        XCTAssertEqual(single.status, 0)
        XCTAssertEqual(single.stdout, withJobs.stdout)
        XCTAssertFalse(single.stdout.contains("files:"))
    }

    func testOneCertificateServesEveryReport() throws {
        let report = genuine[0]
        let result = try verify([report.report, report.report, report.report], certs: [report.cert], ["--json"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
    }

    func testBadJobsAndCertificateCountsAreUsageErrors() throws {
        let report = genuine[0]
        XCTAssertEqual(try verify([report.report, report.report], certs: [report.cert], ["--jobs", "0"]).status, 2)
        XCTAssertEqual(try verify([report.report], certs: [report.cert], ["--jobs", "0"]).status, 2)
        let mismatched = try verify([report.report, report.report, report.report], certs: [report.cert, report.cert])
        XCTAssertEqual(mismatched.status, 2)
        XCTAssertTrue(mismatched.stderr.contains("--cert given 2 times for 3 files"), mismatched.stderr)
    }

    /// `verify` with several evidence files: each verdict in order, a garbage file named, exit 2.
    func testEvidenceBatchKeepsInputOrder() throws {
        let ovmf = "/usr/share/ovmf/OVMF.fd"
        guard FileManager.default.fileExists(atPath: ovmf) else { throw XCTSkip("no \(ovmf): run make deps") }
        let directory = try TestPaths.temporaryDirectory(self).path
        let manifest = TestPaths.repositoryRoot.appendingPathComponent("Examples/two-party/manifest.toml").path
        let reference = "\(directory)/ref.json", state = "\(directory)/vm"
        let nonce = String(repeating: "5a", count: 32)
        XCTAssertEqual(try CLI.run(["launch-measure", "--mode", "snp", "--vcpus", "2", "--vcpu-type", "EPYC-v4", "--ovmf", ovmf,
                                    "--manifest", manifest, "--reference-out", reference]).status, 0)
        XCTAssertEqual(try CLI.run(["sim", "launch", "--state", state, "--reference", reference, "--manifest", manifest]).status, 0)
        let evidence = ["\(directory)/a.cbor", "\(directory)/b.cbor"]
        for file in evidence {
            let attest = try CLI.run(["attest", manifest, "--nonce", nonce, "-o", file, "--platform", "simulated", "--state", state])
            XCTAssertEqual(attest.status, 0, attest.stderr)
        }
        let garbage = "\(directory)/garbage.cbor"
        try Data([0xA1, 0x61, 0x61, 0x01]).write(to: URL(fileURLWithPath: garbage))
        let root = try CLI.run(["sim", "root", "--state", state]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let files = [evidence[0], garbage, evidence[1]]
        let base = ["verify"] + files + ["--manifest", manifest, "--reference", reference, "--nonce", nonce, "--trust-root", root]

        let text = try CLI.run(base + ["--jobs", "2"])
        XCTAssertEqual(text.status, 2)
        let verdicts = text.stdout.split(separator: "\n").filter { $0.hasPrefix(directory) }.map(String.init)
        XCTAssertEqual(verdicts.count, 3, text.stdout)
        XCTAssertTrue(verdicts[0].hasPrefix("\(evidence[0]): verified (SIMULATED platform)"), verdicts[0])
        XCTAssertTrue(verdicts[1].hasPrefix("\(garbage): NOT checked"), verdicts[1])
        XCTAssertTrue(verdicts[2].hasPrefix("\(evidence[1]): verified (SIMULATED platform)"), verdicts[2])
        // (Whole outputs may differ: the chain check prints the second it checked validity at.)
        let serial = try CLI.run(base + ["--jobs", "1"]).stdout
        XCTAssertEqual(serial.split(separator: "\n").filter { $0.hasPrefix(directory) }.map(String.init), verdicts)

        let json = try CLI.run(base + ["--json"])
        let array = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(array.compactMap { $0["file"] as? String }, files)
        XCTAssertEqual(array.compactMap { $0["ok"] as? Bool }, [true, false, true])
        XCTAssertEqual(array[0]["platform"] as? String, "simulated")
    }
}

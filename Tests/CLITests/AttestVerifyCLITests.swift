import Foundation
import XCTest

/// sim launch → attest → verify as a user runs them, with Debian's OVMF for the reference.
final class AttestVerifyCLITests: XCTestCase {
    func testSimulatedEndToEndExitCodesAndOutputs() throws {
        let ovmf = "/usr/share/ovmf/OVMF.fd"
        try Requirement.requireFile(ovmf, install: "Debian's ovmf package (make deps)")
        let directory = try TestPaths.temporaryDirectory(self).path
        let manifest = TestPaths.repositoryRoot.appendingPathComponent("Examples/two-party/manifest.toml").path
        let reference = "\(directory)/ref.json", state = "\(directory)/vm", evidence = "\(directory)/ev.cbor"
        let nonce = String(repeating: "5a", count: 32)

        let measured = try CLI.run(["launch-measure", "--mode", "snp", "--vcpus", "2", "--vcpu-type", "EPYC-v4", "--ovmf", ovmf,
                                    "--manifest", manifest, "--reference-out", reference])
        XCTAssertEqual(measured.status, 0, measured.stderr)
        XCTAssertEqual(try CLI.run(["sim", "launch", "--state", state, "--reference", reference, "--manifest", manifest]).status, 0)
        let attest = try CLI.run(["attest", manifest, "--nonce", nonce, "-o", evidence, "--platform", "simulated", "--state", state])
        XCTAssertEqual(attest.status, 0, attest.stderr)
        XCTAssertTrue(attest.stdout.contains("SIMULATED"), attest.stdout)
        let root = try CLI.run(["sim", "root", "--state", state]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        let verify = ["verify", evidence, "--manifest", manifest, "--reference", reference, "--nonce", nonce]
        let ok = try CLI.run(verify + ["--trust-root", root])
        XCTAssertEqual(ok.status, 0, ok.stdout)
        XCTAssertTrue(ok.stdout.contains("verified (SIMULATED platform), launch lock"), ok.stdout)

        // One hex rule for every flag (Docs/cli.md): --nonce takes a 0x prefix and upper case as
        // --report-data does.
        let prefixed = try CLI.run(["verify", evidence, "--manifest", manifest, "--reference", reference,
                                    "--nonce", "0x" + nonce.uppercased(), "--trust-root", root])
        XCTAssertEqual(prefixed.status, 0, prefixed.stdout + prefixed.stderr)
        XCTAssertEqual(try CLI.run(verify + ["--trust-root", root, "--nonce", "0x5g"]).status, 2)

        let json = try CLI.run(verify + ["--trust-root", root, "--json"])
        let verdict = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], json.stdout)
        XCTAssertEqual(verdict["ok"] as? Bool, true)
        XCTAssertEqual(verdict["platform"] as? String, "simulated")
        XCTAssertNotNil((verdict["tee"] as? [String: String])?["hpke_public_key"])

        let ear = try CLI.run(verify + ["--trust-root", root, "--ear"])
        let result = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(ear.stdout.utf8)) as? [String: Any], ear.stdout)
        let submodules = try XCTUnwrap(result["submods"] as? [String: [String: Any]], "EAR has no submods: \(ear.stdout)")
        let submodule = try XCTUnwrap(submodules["twocvm"], "EAR has no twocvm submodule: \(ear.stdout)")
        XCTAssertEqual(submodule["ear.status"] as? String, "warning", "simulated evidence is never affirming")

        // --at: the simulated certificates are valid 25 years from launch; a century later the
        // chain fails, and a malformed time is a usage error.
        let future = try CLI.run(verify + ["--trust-root", root, "--at", "2126-01-01T00:00:00Z"])
        XCTAssertEqual(future.status, 1, future.stdout)
        XCTAssertTrue(future.stdout.contains("FAIL  chain"), future.stdout)
        XCTAssertTrue(future.stdout.contains("is not valid at 2126-01-01T00:00:00Z"), future.stdout)
        XCTAssertEqual(try CLI.run(verify + ["--trust-root", root, "--at", "tomorrow"]).status, 2)

        let untrusted = try CLI.run(verify)
        XCTAssertEqual(untrusted.status, 1)
        XCTAssertTrue(untrusted.stdout.contains("FAIL  platform"), untrusted.stdout)
        let wrongNonce = try CLI.run(["verify", evidence, "--manifest", manifest, "--reference", reference,
                                      "--nonce", String(repeating: "00", count: 32), "--trust-root", root])
        XCTAssertEqual(wrongNonce.status, 1)
        XCTAssertTrue(wrongNonce.stdout.contains("FAIL  nonce"), wrongNonce.stdout)

        let shown = try CLI.run(["report", "show", evidence])
        XCTAssertEqual(shown.status, 0, shown.stderr)
        XCTAssertTrue(shown.stderr.contains("SIMULATED evidence"), shown.stderr)

        let garbage = "\(directory)/garbage.cbor"
        try Data([0xA1, 0x61, 0x61, 0x01]).write(to: URL(fileURLWithPath: garbage))
        XCTAssertEqual(try CLI.run(["verify", garbage, "--manifest", manifest, "--reference", reference, "--nonce", nonce]).status, 2)
    }

    func testAttestWithoutAnyPlatformExitsThree() throws {
        let directory = try TestPaths.temporaryDirectory(self).path
        let manifest = TestPaths.repositoryRoot.appendingPathComponent("Examples/two-party/manifest.toml").path
        if FileManager.default.fileExists(atPath: "/dev/sev-guest") || FileManager.default.fileExists(atPath: "/sys/kernel/config/tsm/report") {
            // Inside an SNP guest the device is there: attest must not claim it is missing.
            let result = try CLI.run(["attest", manifest, "--nonce", String(repeating: "11", count: 16), "-o", "\(directory)/e",
                                      "--platform", "snp", "--state", "\(directory)/vm"])
            XCTAssertFalse(result.stderr.contains("no SEV-SNP guest device"), result.stderr)
            return
        }
        let result = try CLI.run(["attest", manifest, "--nonce", String(repeating: "11", count: 16), "-o", "\(directory)/e",
                                  "--platform", "snp", "--state", "\(directory)/vm"])
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertTrue(result.stderr.contains("no SEV-SNP guest device"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/e"))
        let auto = try CLI.run(["attest", manifest, "--nonce", String(repeating: "11", count: 16), "-o", "\(directory)/e",
                                "--state", "\(directory)/vm"])
        XCTAssertEqual(auto.status, 3, "auto without a device or a simulated VM: \(auto.stderr)")
    }
}

import Foundation
import XCTest

/// `launch-measure --manifest M --reference-out REF`: the reference-values file `verify` reads.
/// HOST_DATA and the manifest digest are checked against SPEC §3's reference computation in
/// Python (`sha384(cbor2.dumps(tomllib.load(f), canonical=True))`).
final class LaunchMeasureReferenceValuesTests: XCTestCase {
    private var suffix: String {
        TestPaths.testData.appendingPathComponent("snp/measure/ovmf_AmdSev_suffix.bin").path
    }

    func testReferenceOutRecordsMeasurementHostDataAndPolicy() throws {
        let directory = try TestPaths.temporaryDirectory(self)
        let manifest = TestPaths.repositoryRoot.appendingPathComponent("Examples/two-party/manifest.toml").path
        let reference = directory.appendingPathComponent("reference.json").path
        let result = try launchMeasure(["--vcpus", "2", "--vcpu-type", "EPYC-Milan", "--ovmf", suffix,
                                        "--manifest", manifest, "--reference-out", reference,
                                        "--min-tcb", "bl=3,tee=0,snp=8,ucode=115"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let plain = try CLI.run(["launch-measure", "--vcpus", "2", "--vcpu-type", "EPYC-Milan", "--ovmf", suffix])
        XCTAssertEqual(result.stdout, plain.stdout, "stdout is the same as without --reference-out")

        let json = try referenceJSON(reference)
        let expectedDigest = try pythonManifestDigest(manifest)
        XCTAssertEqual(json["format"] as? String, "twocvm-reference-values")
        XCTAssertEqual(json["version"] as? Int, 1)
        XCTAssertEqual(json["manifest_digest"] as? String, "sha384:" + expectedDigest)
        XCTAssertEqual(json["host_data"] as? String, String(expectedDigest.prefix(64)), "HOST_DATA = first 32 digest bytes")
        XCTAssertEqual(json["guest_policy"] as? String, "0x30000")
        XCTAssertEqual(json["minimum_tcb"] as? [String: Int], ["bootloader": 3, "tee": 0, "snp": 8, "microcode": 115])
        let measurements = try XCTUnwrap(json["measurements"] as? [[String: Any]])
        XCTAssertEqual(measurements.map { $0["measurement"] as? String }, [plain.stdout.trimmingCharacters(in: .newlines)])
        let launch = try XCTUnwrap(measurements.first?["launch"] as? [String: Any])
        XCTAssertEqual(launch["vcpus"] as? Int, 2)
        XCTAssertEqual(launch["vcpu_signature"] as? String, "0xa00f11")
        XCTAssertEqual(launch["vmm"] as? String, "QEMU")
    }

    /// `launch-measure --min-tcb` and `verify`'s `--min-tcb` are one parser: the same short form
    /// is taken (omitted components 0), the same values are refused with the same message, exit 2.
    func testMinTCBIsParsedAsVerifyParsesIt() throws {
        let directory = try TestPaths.temporaryDirectory(self)
        let manifest = try writeManifest(in: directory)
        let reference = directory.appendingPathComponent("reference.json").path
        let measure = ["--vcpus", "1", "--vcpu-type", "EPYC-Milan", "--ovmf", suffix, "--manifest", manifest, "--reference-out", reference]
        let short = try launchMeasure(measure + ["--min-tcb", "SNP=8, ucode=115"])
        XCTAssertEqual(short.status, 0, short.stderr)
        XCTAssertEqual(try referenceJSON(reference)["minimum_tcb"] as? [String: Int], ["bootloader": 0, "tee": 0, "snp": 8, "microcode": 115])

        let snp = TestPaths.testData.appendingPathComponent("snp/go-sev-guest").path
        let verify = ["report", "verify", "\(snp)/attestation.bin", "--cert", "\(snp)/vcek.testcer"]
        let refused = [("bl=1,xyz=2", #"--min-tcb: unknown component "xyz""#), ("bl=3,ucode=256", #"--min-tcb: "ucode=256" is not NAME=N"#),
                       ("tee=1,TEE=1", "--min-tcb: tee given twice"), ("", #"--min-tcb: "" is not NAME=N"#)]
        for (value, message) in refused {
            for arguments in [["launch-measure"] + measure, verify] {
                let result = try CLI.run(arguments + ["--min-tcb", value])
                XCTAssertEqual(result.status, 2, "\(arguments[0]) --min-tcb '\(value)': \(result.stderr)")
                XCTAssertTrue(result.stderr.contains("Error: " + message), "\(arguments[0]) --min-tcb '\(value)': \(result.stderr)")
            }
        }
    }

    func testRunningAgainForTheSameManifestMergesMeasurements() throws {
        let directory = try TestPaths.temporaryDirectory(self)
        let manifest = try writeManifest(in: directory)
        let reference = directory.appendingPathComponent("reference.json").path
        var expected: [String] = []
        for vcpus in ["1", "4", "4"] {
            let result = try launchMeasure(["--vcpus", vcpus, "--vcpu-type", "EPYC-Genoa", "--ovmf", suffix,
                                            "--kernel", "/dev/null", "--manifest", manifest, "--reference-out", reference])
            XCTAssertEqual(result.status, 0, result.stderr)
            let measurement = result.stdout.trimmingCharacters(in: .newlines)
            if !expected.contains(measurement) { expected.append(measurement) }
        }
        let measurements = try XCTUnwrap(try referenceJSON(reference)["measurements"] as? [[String: Any]])
        XCTAssertEqual(measurements.map { $0["measurement"] as? String }, expected, "one entry per distinct measurement")
        XCTAssertEqual(expected.count, 2)
    }

    func testAReferenceFileForAnotherManifestIsNeverOverwritten() throws {
        let directory = try TestPaths.temporaryDirectory(self)
        let first = try writeManifest(in: directory, name: "first")
        let second = try writeManifest(in: directory, name: "second")
        let reference = directory.appendingPathComponent("reference.json").path
        let base = ["--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", suffix, "--reference-out", reference]
        let created = try launchMeasure(base + ["--manifest", first])
        XCTAssertEqual(created.status, 0, created.stderr)
        let before = try Data(contentsOf: URL(fileURLWithPath: reference))

        let other = try launchMeasure(base + ["--manifest", second])
        XCTAssertEqual(other.status, 2)
        XCTAssertEqual(other.stdout, "")
        XCTAssertTrue(other.stderr.contains("holds reference values for manifest"), other.stderr)
        let policy = try launchMeasure(base + ["--manifest", first, "--policy", "0x70000"])
        XCTAssertEqual(policy.status, 2)
        XCTAssertTrue(policy.stderr.contains("guest_policy"), policy.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: reference)), before, "the file is unchanged")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [], "no partial file is left behind")
    }

    // MARK: Helpers

    private func launchMeasure(_ arguments: [String]) throws -> CLIResult {
        try CLI.run(["launch-measure"] + arguments)
    }

    /// A small valid manifest per SPEC §3 (two participants, one component, one input, one output).
    private func writeManifest(in directory: URL, name: String = "launch-measure-test") throws -> String {
        let keys = [
            "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEKoVw0e0B+i1doxq/fk2dVpUKpA4FTXP7\nqrnv7vDku1iDPXrYBizhbgKVxZKpSw/VbVeGMoae6S0IOIciX3j0vP1Pm10RFhd/\n1Fimo8oFDvya413gNmi6Ro3s0AV8F45i",
            "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEAQpsFXbuykrhC6Dv6agQVJUbKUI0TdmS\nCL9HuMjHLJ3yaDVaEFvAaChichqbZ1oRp6Iw5XLiZGlVzoftuXlXGz6S2CToVkk4\nULFnFwao/FjQLzZKvE3CTw43J9L1lr3+",
            "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEMqlrUmyZtgewhhE9WrjmgEfQbuguIYgu\nD71bnhWhp1nKZ1E+tPheiAUNrusI6QMFB4RziwIf82GqWqRLnVsBuz/P8imIGqqI\n87lHTVLc8xO6n93DW5/s4LDkSjn5NY21",
            "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAE3GPXzfF34LXjuQ6u5HnnwYJ8JyM+xgMu\nSq7CcGi3SSRHypyiQbk0fDGafHkfevfOup4hwLTsIJ2hW6U1Xw75ab/ksuky8PY4\nSg4YpcHFvVgIyh4AQn6KGIftBKgiNsJ3",
        ].map { "\"\"\"\n-----BEGIN PUBLIC KEY-----\n\($0)\n-----END PUBLIC KEY-----\n\"\"\"" }
        let text = """
            version = 1
            name = "\(name)"

            [[participants]]
            id = "fab"
            display_name = "Fab Research Lab"
            signing_key = \(keys[0])
            encryption_key = \(keys[1])

            [[participants]]
            id = "designer"
            display_name = "Chip Designer"
            signing_key = \(keys[2])
            encryption_key = \(keys[3])

            [[components]]
            id = "yield-model"
            owner = "designer"
            digest = "sha256:\(String(repeating: "ab", count: 32))"
            limits = { fuel = 1_000_000, memory_mib = 64, timeout_s = 60 }

            [[data]]
            id = "wafer-maps"
            owner = "fab"

            [[channels]]
            from = "data.wafer-maps"
            to = "yield-model"

            [[outputs]]
            id = "yield-report"
            from = "yield-model"
            to = ["fab", "designer"]
            max_bytes = 1_048_576

            """
        let path = directory.appendingPathComponent("\(name).toml").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func referenceJSON(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// SPEC §3's reference digest, computed by Python (tomllib + cbor2 canonical), as hex.
    private func pythonManifestDigest(_ path: String) throws -> String {
        try PythonReference.run("import sys, tomllib, cbor2, hashlib; "
            + "print(hashlib.sha384(cbor2.dumps(tomllib.load(open(sys.argv[1], 'rb')), canonical=True)).hexdigest())", [path])
    }
}

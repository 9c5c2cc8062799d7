import Foundation
import XCTest

/// `twocvm launch-measure` as a drop-in for `sev-snp-measure --mode snp`: every MANIFEST.md
/// command line, unchanged but for the program name, prints the recorded stdout.
final class LaunchMeasureCLITests: XCTestCase {
    private var measureDirectory: URL { TestPaths.testData.appendingPathComponent("snp/measure") }

    func testEveryManifestCommandLinePrintsTheRecordedOutput() throws {
        let directory = try workingDirectoryWithManifestInputs()
        let rows = try manifestRows()
        XCTAssertEqual(rows.count, 62)
        for row in rows {
            let result = try CLI.run(["launch-measure"] + row.arguments, currentDirectory: directory)
            let context = "row \(row.number): \(row.arguments.joined(separator: " "))\n\(result.stderr)"
            if row.status == 0 {
                XCTAssertEqual(result.status, 0, context)
                XCTAssertEqual(result.stdout, row.output + "\n", context)
            } else {
                XCTAssertNotEqual(result.status, 0, context)
                XCTAssertEqual(result.stdout, "", context)
                XCTAssertTrue(result.stderr.contains(row.output.replacingOccurrences(of: "Error: ", with: "")), context)
            }
        }
    }

    func testVerboseLabelsTheMeasurementLikeSevSnpMeasure() throws {
        let result = try CLI.run(["launch-measure", "-v", "--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4",
                                  "--ovmf", measureDirectory.appendingPathComponent("ovmf_AmdSev_suffix.bin").path])
        XCTAssertEqual(result.stdout, "Calculated SEV_SNP guest measurement: "
                       + "19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d\n")
    }

    func testUnknownVCPUTypeExitsNonZeroNamingTheKnownTypes() throws {
        let result = try CLI.run(["launch-measure", "--vcpus", "1", "--vcpu-type", "EPYC-Zen9", "--ovmf", "/usr/share/ovmf/OVMF.fd"])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.stdout, "")
        XCTAssertTrue(result.stderr.contains("unknown vCPU type 'EPYC-Zen9'") && result.stderr.contains("EPYC-Genoa"), result.stderr)
    }

    func testUnreadableFilesExitNonZeroNamingTheFile() throws {
        let suffix = measureDirectory.appendingPathComponent("ovmf_AmdSev_suffix.bin").path
        for (arguments, path) in [
            (["--ovmf", "/nonexistent/OVMF.fd"], "/nonexistent/OVMF.fd"),
            (["--ovmf", suffix, "--kernel", "/nonexistent/vmlinuz"], "/nonexistent/vmlinuz"),
            (["--ovmf", suffix, "--kernel", "/dev/null", "--initrd", "/nonexistent/initrd"], "/nonexistent/initrd"),
        ] {
            let result = try CLI.run(["launch-measure", "--vcpus", "1", "--vcpu-type", "EPYC-v4"] + arguments)
            XCTAssertEqual(result.status, 2, result.stderr)
            XCTAssertTrue(result.stderr.contains("\(path): cannot read"), result.stderr)
        }
    }

    func testUsageErrorsOfSevSnpMeasureAreUsageErrorsHere() throws {
        let ovmf = "/usr/share/ovmf/OVMF.fd"
        let cases: [([String], String)] = [
            (["--vcpu-type", "EPYC-v4", "--ovmf", ovmf], "missing --vcpus"),
            (["--vcpus", "1", "--ovmf", ovmf], "missing --vcpu-type or --vcpu-sig or --vcpu-family"),
            (["--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", ovmf, "--initrd", "/dev/null"], "--kernel required"),
            (["--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", ovmf, "--append", "quiet"], "--kernel required"),
            (["--mode", "sev", "--ovmf", ovmf], "SEV-SNP guests only"),
            (["--mode", "snp:svsm", "--vcpus", "1", "--ovmf", ovmf], "SEV-SNP guests only"),
            (["--vcpus", "1", "--vcpu-type", "EPYC-v4", "--vmm-type", "xen", "--ovmf", ovmf], "unknown VMM type 'xen'"),
            (["--vcpus", "1", "--vcpu-type", "EPYC-v4", "--guest-features", "-1", "--ovmf", ovmf], "--guest-features"),
            (["--vcpus", "1", "--vcpu-type", "EPYC-v4", "--snp-ovmf-hash", "abcd", "--ovmf", ovmf], "malformed launch digest"),
            (["--vcpus", "1", "--vcpu-type", "EPYC-v4", "--manifest", "m.toml", "--ovmf", ovmf], "--reference-out"),
        ]
        for (arguments, message) in cases {
            let result = try CLI.run(["launch-measure"] + arguments)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stdout, "", "\(arguments)")
            XCTAssertTrue(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }

    func testIntegerFlagsAcceptPythonIntegerSyntax() throws {
        let suffix = measureDirectory.appendingPathComponent("ovmf_AmdSev_suffix.bin").path
        var outputs = Set<String>()
        for features in ["0x21", "33", "0b100001", "0o41", "0x_21", "0X21"] {
            let result = try CLI.run(["launch-measure", "--vcpus", "1", "--vcpu-sig", "0x80_0F12",
                                      "--guest-features", features, "--ovmf", suffix])
            XCTAssertEqual(result.status, 0, "\(features): \(result.stderr)")
            outputs.insert(result.stdout)
        }
        // Row 58 of MANIFEST.md: EPYC-v4 (signature 0x800f12), features 0x21.
        XCTAssertEqual(outputs, ["e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b\n"])
        let leadingZero = try CLI.run(["launch-measure", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--guest-features", "033", "--ovmf", suffix])
        XCTAssertEqual(leadingZero.status, 2, "Python's int(x, 0) refuses leading zeros")
    }

    // MARK: Helpers

    struct Row {
        let number: Int
        let arguments: [String]
        let output: String
        let status: Int32
    }

    /// The results table of MANIFEST.md.
    private func manifestRows() throws -> [Row] {
        let text = try String(contentsOf: measureDirectory.appendingPathComponent("MANIFEST.md"), encoding: .utf8)
        return text.split(separator: "\n").compactMap { line -> Row? in
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 6, let number = Int(cells[1]), let status = Int32(cells[4]) else { return nil }
            let words = Self.shellWords(String(cells[2].dropFirst().dropLast()))
            return Row(number: number, arguments: Array(words.dropFirst()), output: String(cells[3].dropFirst().dropLast()), status: status)
        }
    }

    /// A directory where the MANIFEST.md command lines find their inputs under the names used
    /// there: the Debian OVMF images linked in from the `ovmf` package, the rest from testdata.
    private func workingDirectoryWithManifestInputs() throws -> URL {
        let directory = try TestPaths.temporaryDirectory(self)
        let links = [
            "debian-bookworm-OVMF.fd": "/usr/share/ovmf/OVMF.fd",
            "debian-bookworm-OVMF_CODE.fd": "/usr/share/OVMF/OVMF_CODE.fd",
        ].merging(["ovmf_AmdSev_suffix.bin", "ovmf_OvmfX64_suffix.bin", "kernel.bin", "initrd.bin"].map {
            ($0, measureDirectory.appendingPathComponent($0).path)
        }) { first, _ in first }
        for (name, target) in links {
            try FileManager.default.createSymbolicLink(atPath: directory.appendingPathComponent(name).path, withDestinationPath: target)
        }
        return directory
    }

    static func shellWords(_ line: String) -> [String] {
        var words: [String] = [], current = "", quoted = false, inWord = false
        for character in line {
            switch character {
            case "\"": quoted.toggle(); inWord = true
            case " " where !quoted:
                if inWord { words.append(current) }
                current = ""; inWord = false
            default: current.append(character); inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }
}

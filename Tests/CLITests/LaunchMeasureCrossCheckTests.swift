import Foundation
import XCTest

/// `twocvm launch-measure` against the real `sev-snp-measure` 0.0.13 (the project venv's), on
/// randomly generated kernels, initrds and command lines, every vCPU type, 1–64 vCPUs, every
/// VMM and assorted guest features. Seeded (fixed by default; TWOCVM_SEED picks another seed).
final class LaunchMeasureCrossCheckTests: XCTestCase {
    private static let configurations = 30

    private var measureDirectory: URL { TestPaths.testData.appendingPathComponent("snp/measure") }

    func testRandomConfigurationsMatchSevSnpMeasure() throws {
        try requireSevSnpMeasure()
        // A fixed seed, so every run checks the same configurations; TWOCVM_SEED explores others.
        let seed = ProcessInfo.processInfo.environment["TWOCVM_SEED"].flatMap { UInt64($0) } ?? 20_261_121
        var random = SplitMix64(seed: seed)
        let directory = try TestPaths.temporaryDirectory(self)
        let types = ["EPYC", "EPYC-v1", "EPYC-v2", "EPYC-IBPB", "EPYC-v3", "EPYC-v4", "EPYC-Rome", "EPYC-Rome-v1",
                     "EPYC-Rome-v2", "EPYC-Rome-v3", "EPYC-Milan", "EPYC-Milan-v1", "EPYC-Milan-v2", "EPYC-Genoa",
                     "EPYC-Genoa-v1", "EPYC-Turin"]
        let kernelHashesFirmware = measureDirectory.appendingPathComponent("ovmf_AmdSev_suffix.bin").path

        for index in 0..<Self.configurations {
            var arguments = ["--mode", "snp", "--vcpus", String(random.next(in: 1...64))]
            // Every type at least once, then random ones; now and then the other spellings.
            let type = types[index < types.count ? index : random.next(in: 0...types.count - 1)]
            switch random.next(in: 0...9) {
            case 0: arguments += ["--vmm-type", "ec2"]
            case 1: arguments += ["--vmm-type", "gce"]
            default: arguments += ["--vcpu-type", type]
            }
            let features = [0x1, 0x21, 0x1 | UInt64(random.next(in: 0...0xFFFF)) & 0xD7FF]
            arguments += ["--guest-features", "0x" + String(features[random.next(in: 0...2)], radix: 16)]

            if random.next(in: 0...4) == 0 {
                arguments += ["--ovmf", "/usr/share/ovmf/OVMF.fd"]  // a real image, no kernel hashes
            } else {
                arguments += ["--ovmf", kernelHashesFirmware]
                let kernel = directory.appendingPathComponent("kernel-\(index)").path
                // Mostly small, sometimes several 256 KiB read chunks.
                try Data(random.bytes(random.next(in: 0...3) == 0 ? random.next(in: 1_000_000...3_000_000) : random.next(in: 0...70_000)))
                    .write(to: URL(fileURLWithPath: kernel))
                arguments += ["--kernel", kernel]
                if random.next(in: 0...2) > 0 {
                    let initrd = directory.appendingPathComponent("initrd-\(index)").path
                    try Data(random.bytes(random.next(in: 0...200_000))).write(to: URL(fileURLWithPath: initrd))
                    arguments += ["--initrd", initrd]
                }
                if random.next(in: 0...3) > 0 { arguments += ["--append", random.commandLine()] }
            }
            if random.next(in: 0...4) == 0 { arguments += ["--output-format", "base64"] }

            let ours = try CLI.run(["launch-measure"] + arguments)
            let theirs = try Self.runSevSnpMeasure(arguments)
            XCTAssertEqual(theirs.status, 0, "sev-snp-measure failed: \(theirs.stderr)")
            XCTAssertEqual(ours.status, 0, "seed \(seed), configuration \(index): \(ours.stderr)")
            XCTAssertEqual(ours.stdout, theirs.stdout,
                           "seed \(seed) (TWOCVM_SEED=\(seed) replays it), configuration \(index): \(arguments.joined(separator: " "))")
        }
    }

    /// The VMSA pages themselves, byte for byte, for each VMM (`--dump-vmsa` in both tools).
    func testDumpedVMSAPagesAreIdenticalToSevSnpMeasures() throws {
        try requireSevSnpMeasure()
        let ovmf = "/usr/share/ovmf/OVMF.fd"
        for vmm in [["--vcpu-type", "EPYC-Genoa"], ["--vmm-type", "ec2"], ["--vmm-type", "gce"]] {
            let ourDirectory = try TestPaths.temporaryDirectory(self), theirDirectory = try TestPaths.temporaryDirectory(self)
            let arguments = ["--mode", "snp", "--vcpus", "2", "--guest-features", "0x21", "--ovmf", ovmf, "--dump-vmsa"] + vmm
            XCTAssertEqual(try CLI.run(["launch-measure"] + arguments, currentDirectory: ourDirectory).status, 0)
            XCTAssertEqual(try Self.runSevSnpMeasure(arguments, currentDirectory: theirDirectory).status, 0)
            for page in ["vmsa0.bin", "vmsa1.bin"] {
                let ours = try Data(contentsOf: ourDirectory.appendingPathComponent(page))
                let theirs = try Data(contentsOf: theirDirectory.appendingPathComponent(page))
                XCTAssertEqual(ours.count, 4096)
                XCTAssertEqual(ours, theirs, "\(vmm) \(page)")
            }
        }
    }

    func testFirmwareOnlyDigestMatchesSevSnpMeasure() throws {
        try requireSevSnpMeasure()
        for ovmf in ["/usr/share/ovmf/OVMF.fd", "/usr/share/OVMF/OVMF_CODE.fd"] {
            let arguments = ["--mode", "snp:ovmf-hash", "--ovmf", ovmf]
            let ours = try CLI.run(["launch-measure"] + arguments)
            XCTAssertEqual(ours.status, 0, ours.stderr)
            XCTAssertEqual(ours.stdout, try Self.runSevSnpMeasure(arguments).stdout, ovmf)
        }
    }

    // MARK: Helpers

    private func requireSevSnpMeasure() throws {
        try PythonReference.requireVenv()
        let version = try Self.runSevSnpMeasure(["--version"])
        XCTAssertEqual(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "sev-snp-measure 0.0.13",
                       "the cross-check is against sev-snp-measure 0.0.13 (make deps)")
    }

    /// Runs sev-snp-measure from the project venv (`python -m sevsnpmeasure.cli`).
    static func runSevSnpMeasure(_ arguments: [String], currentDirectory: URL? = nil) throws -> CLIResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestPaths.python)
        process.arguments = ["-m", "sevsnpmeasure.cli"] + arguments
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Outputs are a line or two, far below a pipe's buffer.
        process.waitUntilExit()
        return CLIResult(
            status: process.terminationStatus,
            stdout: String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
            stderr: String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }
}

extension SplitMix64 {
    /// A kernel command line: printable ASCII words, now and then non-ASCII text, or empty.
    mutating func commandLine() -> String {
        if next(in: 0...9) == 0 { return "" }
        let words = ["console=ttyS0", "root=/dev/vda1", "quiet", "loglevel=7", "init=/sbin/init", "ro",
                     "mitigations=off", "twocvm.manifest=sha384:ab", "é=ü", "name=\"a b\""]
        return (0..<next(in: 1...6)).map { _ in words[next(in: 0...words.count - 1)] }.joined(separator: " ")
    }
}

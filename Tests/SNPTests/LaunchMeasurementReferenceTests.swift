import Foundation
import TestSupport
import XCTest

@testable import SNP

/// The launch-measurement fixtures and sev-snp-measure's reference results: `Tests/Data/snp/measure`.
enum LaunchMeasurementTestData {
    static let measureDirectory = TestPaths.testData.appendingPathComponent("snp/measure")

    static func path(_ name: String) -> String { measureDirectory.appendingPathComponent(name).path }

    /// The file a MANIFEST.md command line names, on this machine: the Debian OVMF images
    /// from the `ovmf` package, everything else from the measure directory.
    static func resolve(_ name: String) -> String {
        switch name {
        case "debian-bookworm-OVMF.fd": return "/usr/share/ovmf/OVMF.fd"
        case "debian-bookworm-OVMF_CODE.fd": return "/usr/share/OVMF/OVMF_CODE.fd"
        case let absolute where absolute.hasPrefix("/"): return absolute
        default: return path(name)
        }
    }

    /// One row of the results table of MANIFEST.md.
    struct Row {
        let number: Int
        /// The command's arguments after `sev-snp-measure`.
        let arguments: [String]
        let output: String
        let exitStatus: Int32
    }

    /// Every row of MANIFEST.md's results table.
    static func manifestRows() throws -> [Row] {
        let text = try String(contentsOf: measureDirectory.appendingPathComponent("MANIFEST.md"), encoding: .utf8)
        return try text.split(separator: "\n").compactMap { line -> Row? in
            let cells = line.split(separator: "|", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 6, let number = Int(cells[1]), let status = Int32(cells[4]) else { return nil }
            let command = try shellWords(unquoted(cells[2]))
            guard command.first == "sev-snp-measure" else { throw CocoaError(.fileReadCorruptFile) }
            return Row(number: number, arguments: Array(command.dropFirst()), output: unquoted(cells[3]), exitStatus: status)
        }
    }

    private static func unquoted(_ cell: String) -> String {
        cell.hasPrefix("`") && cell.hasSuffix("`") ? String(cell.dropFirst().dropLast()) : cell
    }

    /// Splits a command line into words, honouring double quotes (all the table uses).
    static func shellWords(_ line: String) throws -> [String] {
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
        guard !quoted else { throw CocoaError(.fileReadCorruptFile) }
        if inWord { words.append(current) }
        return words
    }
}

/// Every result of Tests/Data/snp/measure/MANIFEST.md (sev-snp-measure 0.0.13),
/// computed through the library API.
final class LaunchMeasurementReferenceTests: XCTestCase {
    func testDebianFirmwareIsTheOneTheReferenceResultsWereTakenWith() throws {
        let debian = "/usr/share/ovmf/OVMF.fd"
        guard FileManager.default.fileExists(atPath: debian) else {
            return XCTFail("\(debian) is missing: install Debian's ovmf package (make deps)")
        }
        XCTAssertEqual(try sha256Hex(debian), "7b456907dd0786d415999e801a1ac4637b8ed4d7cf5378cfc6edbe5e574dd773",
                       "MANIFEST.md's Debian rows were produced with ovmf 2022.11-6+deb12u2")
    }

    func testEveryManifestResultIsReproducedBitForBit() throws {
        let rows = try LaunchMeasurementTestData.manifestRows()
        XCTAssertEqual(rows.count, 62, "MANIFEST.md lists 62 results")
        for row in rows {
            let options = try Options(row.arguments)
            do {
                let output: String
                if options.mode == "snp:ovmf-hash" {
                    output = try LaunchMeasurement.firmwareDigest(ofFirmwareAt: options.firmware).hex
                } else {
                    let measurement = try LaunchMeasurement.measure(options.configuration()).measurement
                    output = options.base64 ? measurement.base64 : measurement.hex
                }
                XCTAssertEqual(row.exitStatus, 0, "row \(row.number) should have failed")
                XCTAssertEqual(output, row.output, "row \(row.number): \(row.arguments.joined(separator: " "))")
            } catch let error as LaunchMeasurementError {
                XCTAssertNotEqual(row.exitStatus, 0, "row \(row.number) failed: \(error)")
                XCTAssertTrue(row.output.hasPrefix("Error: "), "row \(row.number)")
                XCTAssertTrue(error.description.hasPrefix(String(row.output.dropFirst("Error: ".count))),
                              "row \(row.number): \(error)")
            }
        }
    }

    /// The MANIFEST.md flags, mapped onto the library's configuration.
    private struct Options {
        var mode = "snp", firmware = "", vcpus = 0, base64 = false
        var vcpuType: String?, vcpuSig: UInt32?, family: Int?, model: Int?, stepping: Int?
        var vmm = VMMType.qemu, features = GuestFeatures.default
        var kernel: String?, initrd: String?, append: String?, firmwareDigest: String?

        init(_ arguments: [String]) throws {
            var index = 0
            func value() -> String {
                index += 1
                return arguments[index]
            }
            while index < arguments.count {
                switch arguments[index] {
                case "--mode": mode = value()
                case "--ovmf": firmware = LaunchMeasurementTestData.resolve(value())
                case "--vcpus": vcpus = Int(value())!
                case "--vcpu-type": vcpuType = value()
                case "--vcpu-sig": vcpuSig = UInt32(value().dropFirst(2), radix: 16)!
                case "--vcpu-family": family = Int(value())!
                case "--vcpu-model": model = Int(value())!
                case "--vcpu-stepping": stepping = Int(value())!
                case "--vmm-type": vmm = try VMMType(named: value())
                case "--guest-features": features = GuestFeatures(rawValue: UInt64(value().dropFirst(2), radix: 16)!)
                case "--kernel": kernel = LaunchMeasurementTestData.resolve(value())
                case "--initrd": initrd = LaunchMeasurementTestData.resolve(value())
                case "--append": append = value()
                case "--snp-ovmf-hash": firmwareDigest = value()
                case "--output-format": base64 = value() == "base64"
                case let other: throw CocoaError(.featureUnsupported, userInfo: ["flag": other])
                }
                index += 1
            }
        }

        func configuration() throws -> LaunchConfiguration {
            let signature: VCPUSignature?
            if let family, let model, let stepping {
                signature = try VCPUSignature(family: family, model: model, stepping: stepping)
            } else if let vcpuSig {
                signature = VCPUSignature(rawValue: vcpuSig)
            } else {
                signature = try vcpuType.map { try VCPUType(named: $0).signature }
            }
            return LaunchConfiguration(
                firmwarePath: firmware, vcpus: vcpus, vcpuSignature: signature, guestFeatures: features, vmm: vmm,
                kernelPath: kernel, initrdPath: initrd, commandLine: append,
                firmwareDigest: try firmwareDigest.map { try LaunchDigest(hex: $0) })
        }
    }
}


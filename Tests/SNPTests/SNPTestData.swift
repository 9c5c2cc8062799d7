import Foundation
import SNP
import TestSupport
import XCTest

/// Locates the real vectors in `Tests/Data/snp` (provenance and licences in its README.md) and
/// describes them.
enum SNPTestData {
    static let directory = TestPaths.testData.appendingPathComponent("snp")

    static func bytes(_ relativePath: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(relativePath)))
    }

    /// `expected-parse.json`'s `vectors` object.
    static func expected() throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent("expected-parse.json"))
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try XCTUnwrap(root["vectors"] as? [String: Any])
    }

    /// One report + endorsement key pairing, named as in `expected-parse.json`, with the files
    /// its `inputs` entry lists.
    struct Vector {
        let name: String
        let report: String
        let vek: String
        let chain: [String]
        /// The flags the vector's MANIFEST.md says it needs to pass (see `Verdicts`).
        var allowDebug = false
        var allowProvisional = false
        /// The time it is verified at: inside every one of its certificates' validity.
        var at = SNPTestData.verificationTime

        func files() throws -> EndorsementFiles {
            let chainBytes = try chain.isEmpty ? nil : chain.flatMap { try SNPTestData.bytes($0) }
            return EndorsementFiles(endorsementKey: try SNPTestData.bytes(vek), endorsementKeySource: vek,
                                    chain: chainBytes, chainSource: chain.joined(separator: "+"))
        }

        func reportBytes() throws -> [UInt8] { try SNPTestData.bytes(report) }

        /// The options the MANIFEST calls for.
        var options: ValidationOptions {
            var options = ValidationOptions()
            options.allowDebug = allowDebug
            options.allowProvisional = allowProvisional
            options.at = SNPTestData.date(at)
            return options
        }
    }

    /// The time real vectors are verified at, never "now": inside the validity of every
    /// certificate here except the AWS VLEK (expired 2025-12-10), which has its own. The first
    /// to expire is go-sev-guest's VCEK, on 2029-09-24.
    static let verificationTime = "2027-06-01T00:00:00Z"

    /// `text` (RFC 3339) as a date.
    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    /// Options for a vector-less check at the fixed verification time.
    static var fixedTimeOptions: ValidationOptions {
        var options = ValidationOptions()
        options.at = date(verificationTime)
        return options
    }

    /// The real reports, each with its own endorsement key, and the flags under which each
    /// MANIFEST.md says it verifies:
    /// go-sev-guest/attestation.bin allows DEBUG (policy 0xb0000); trustee's test-report.bin,
    /// test-vlek-report.bin and az-milan run provisional firmware (COMMITTED_TCB below
    /// CURRENT_TCB); the VLEK expired 2025-12-10 and verifies only at a time of its own.
    static let realVectors: [Vector] = [
        Vector(name: "gsg_attestation", report: "go-sev-guest/attestation.bin", vek: "go-sev-guest/vcek.testcer",
               chain: ["go-sev-guest/ask_ark_milan.pem"], allowDebug: true),
        Vector(name: "virtee_report_milan", report: "virtee-sev/report_milan.hex", vek: "virtee-sev/vcek_milan.der",
               chain: ["virtee-sev/builtin_milan_ask.pem", "virtee-sev/builtin_milan_ark.pem"]),
        Vector(name: "trustee_test_report", report: "trustee/test-report.bin", vek: "trustee/test-vcek.der",
               chain: ["trustee/milan_ask_ark_asvk.pem"], allowProvisional: true),
        Vector(name: "trustee_vlek_report", report: "trustee/test-vlek-report.bin", vek: "trustee/test-vlek.der",
               chain: ["trustee/milan_ask_ark_asvk.pem"], allowProvisional: true, at: "2025-06-01T00:00:00Z"),
        Vector(name: "az_genoa", report: "trustee/az-genoa-snp-report.bin", vek: "trustee/az-vcek-genoa.pem",
               chain: ["go-sev-guest/ask_ark_genoa.pem"]),
        Vector(name: "az_milan", report: "trustee/az-milan-snp-report.bin", vek: "trustee/az-vcek-milan-chain.pem",
               chain: [], allowProvisional: true),
        Vector(name: "box2_turin", report: "confidential-secrets-vault/box2-turin-report.bin",
               vek: "confidential-secrets-vault/box2-turin-vcek.der", chain: ["go-sev-guest/ask_ark_turin_vcek.pem"]),
    ]

    /// Pairings the data marks as negative (wrong or forged endorsement key).
    static let negativeVectors: [Vector] = [
        Vector(name: "virtee_vcek_turin_chain_only", report: "go-sev-guest/attestation.bin", vek: "virtee-sev/vcek_turin.der",
               chain: ["go-sev-guest/ask_ark_turin_vcek.pem"]),
        Vector(name: "trustee_invalid_legacy", report: "trustee/test-report.bin", vek: "trustee/test-vcek-invalid-legacy.der",
               chain: ["trustee/milan_ask_ark_asvk.pem"]),
        Vector(name: "trustee_invalid_new", report: "trustee/test-report.bin", vek: "trustee/test-vcek-invalid-new.der",
               chain: ["trustee/milan_ask_ark_asvk.pem"]),
    ]

    static func vector(_ name: String) -> Vector {
        (realVectors + negativeVectors).first { $0.name == name }!
    }
}

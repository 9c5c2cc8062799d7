import Foundation
import SNP

/// `twocvm-bench verify SNP_TESTDATA_DIR [SECONDS]`: reports verified per second on one core,
/// over the real vectors of `Tests/Data/snp` taken in turn, in two settings:
///
/// * `cold`: no chain cache, so every report also parses its certificates and verifies the
///   RSA-PSS chain (what a one-shot `twocvm report verify` does, minus process start-up);
/// * `warm`: the in-process chain cache already holds each file set, so a report costs its
///   parse, one ECDSA P-384 verification and the validation checks.
///
/// Every verification must succeed (the flags are those each MANIFEST.md calls for), so the
/// numbers count only complete, passing verifications. They are verified at a fixed time inside
/// their certificates' validity (as the tests do), so the benchmark does not expire with them.
func verifyBenchmark(_ arguments: [String]) throws -> [String: String] {
    guard let directory = arguments.first else {
        throw BenchError.usage("twocvm-bench verify SNP_TESTDATA_DIR [SECONDS]")
    }
    let seconds = arguments.count > 1 ? (Double(arguments[1]) ?? 2) : 2
    let vectors = try BenchVector.load(from: URL(fileURLWithPath: directory))

    let warmCache = ChainCache()
    let warm = ReportVerifier(cache: warmCache)
    let cold = ReportVerifier(cache: nil)
    for vector in vectors {
        guard try warm.verify(reportInput: vector.report, files: vector.files, options: vector.options).ok else {
            throw BenchError.failed(vector.name)
        }
    }

    let coldRate = try rate(seconds: seconds, vectors: vectors, verifier: cold)
    let warmRate = try rate(seconds: seconds, vectors: vectors, verifier: warm)
    var summary: [String: String] = [
        "vectors": vectors.map(\.name).joined(separator: ","),
        "seconds_per_setting": String(format: "%.1f", seconds),
        "cold_reports_per_second": String(format: "%.0f", coldRate),
        "warm_reports_per_second": String(format: "%.0f", warmRate),
    ]
    for vector in vectors {
        summary["warm_\(vector.name)"] = String(format: "%.0f", try rate(seconds: seconds / 4, vectors: [vector], verifier: warm))
    }
    return summary
}

/// Verifications per second, cycling through `vectors` for about `seconds`.
private func rate(seconds: Double, vectors: [BenchVector], verifier: ReportVerifier) throws -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    let budget = Duration.milliseconds(Int64(seconds * 1000))
    var count = 0
    while clock.now - start < budget {
        for vector in vectors {
            guard try verifier.verify(reportInput: vector.report, files: vector.files, options: vector.options).ok else {
                throw BenchError.failed(vector.name)
            }
            count += 1
        }
    }
    let elapsed = clock.now - start
    let elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return Double(count) / elapsedSeconds
}

/// A real report with its certificate files and the flags its MANIFEST.md calls for.
private struct BenchVector {
    let name: String
    let report: [UInt8]
    let files: EndorsementFiles
    let options: ValidationOptions

    static func load(from directory: URL) throws -> [BenchVector] {
        func read(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: directory.appendingPathComponent(path))) }
        func vector(_ name: String, _ report: String, _ vek: String, _ chain: String?,
                    configure: (inout ValidationOptions) -> Void = { _ in }) throws -> BenchVector {
            var options = ValidationOptions()
            options.at = fixed
            configure(&options)
            let files = EndorsementFiles(endorsementKey: try read(vek), chain: try chain.map(read))
            return BenchVector(name: name, report: try read(report), files: files, options: options)
        }
        let fixed = ISO8601DateFormatter().date(from: "2027-06-01T00:00:00Z")
        let pinned = ISO8601DateFormatter().date(from: "2025-06-01T00:00:00Z")
        return [
            try vector("milan-v2", "go-sev-guest/attestation.bin", "go-sev-guest/vcek.testcer", "go-sev-guest/ask_ark_milan.pem") {
                $0.allowDebug = true
            },
            try vector("milan-v2-hex", "virtee-sev/report_milan.hex", "virtee-sev/vcek_milan.der", nil),
            try vector("milan-v2-idblock", "trustee/test-report.bin", "trustee/test-vcek.der", "trustee/milan_ask_ark_asvk.pem") {
                $0.allowProvisional = true
            },
            try vector("milan-v3-vlek", "trustee/test-vlek-report.bin", "trustee/test-vlek.der", "trustee/milan_ask_ark_asvk.pem") {
                $0.allowProvisional = true
                $0.at = pinned
            },
            try vector("genoa-v3", "trustee/az-genoa-snp-report.bin", "trustee/az-vcek-genoa.pem", "go-sev-guest/ask_ark_genoa.pem"),
            try vector("milan-v2-azure", "trustee/az-milan-snp-report.bin", "trustee/az-vcek-milan-chain.pem", nil) {
                $0.allowProvisional = true
            },
            try vector("turin-v5", "confidential-secrets-vault/box2-turin-report.bin",
                       "confidential-secrets-vault/box2-turin-vcek.der", "go-sev-guest/ask_ark_turin_vcek.pem"),
        ]
    }
}

private enum BenchError: Error, CustomStringConvertible {
    case usage(String)
    case failed(String)

    var description: String {
        switch self {
        case let .usage(text): return "usage: \(text)"
        case let .failed(name): return "\(name) did not verify"
        }
    }
}

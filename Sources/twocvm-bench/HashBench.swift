// `twocvm-bench hash-speed [MiB]`: swift-crypto's (BoringSSL's) SHA-256, SHA-384 and AES-256-GCM
// on one core over an in-memory buffer, in 1 MiB updates as the sealed-file passes make them:
// the primitives `seal` and `open` are bound by. Prints {"sha256_mb_per_s", …}.

import Crypto
import Foundation

@Sendable func hashSpeedBenchmark(_ arguments: [String]) throws -> [String: String] {
    let mebibytes = arguments.first.flatMap { Int($0) } ?? 256
    let block = [UInt8](repeating: 0x5a, count: 1 << 20)
    func rate(_ body: () throws -> Void) rethrows -> String {
        let start = Date()
        try body()
        return String(format: "%.0f", Double(mebibytes << 20) / Date().timeIntervalSince(start) / 1e6)
    }
    var results: [String: String] = [:]
    results["sha256_mb_per_s"] = rate {
        var hash = SHA256()
        for _ in 0..<mebibytes { hash.update(data: block) }
        _ = hash.finalize()
    }
    results["sha384_mb_per_s"] = rate {
        var hash = SHA384()
        for _ in 0..<mebibytes { hash.update(data: block) }
        _ = hash.finalize()
    }
    let key = SymmetricKey(size: .bits256)
    results["aes256gcm_mb_per_s"] = try rate {
        for _ in 0..<mebibytes { _ = try AES.GCM.seal(block, using: key) }
    }
    return results
}

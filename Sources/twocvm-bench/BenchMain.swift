// In-process micro-benchmarks for `make bench` (never run by the unit tests).
//
// `twocvm-bench NAME [ARGS...]` runs one benchmark and prints one JSON object on stdout, which
// the Benchmarks/ scripts turn into rows of Docs/performance.md.

import Foundation

/// The benchmarks, by name. Each takes its arguments and returns a JSON-encodable summary.
let benchmarks: [String: @Sendable ([String]) throws -> [String: String]] = [
    "verify": verifyBenchmark,
    "open-input": openInputBenchmark,
    "hash-speed": hashSpeedBenchmark,
]

@main
enum BenchMain {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard let name = arguments.first, let benchmark = benchmarks[name] else {
            FileHandle.standardError.write(Data("usage: twocvm-bench \(benchmarks.keys.sorted().joined(separator: "|")) ARGS...\n".utf8))
            exit(2)
        }
        do {
            let summary = try benchmark(Array(arguments.dropFirst()))
            let data = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } catch {
            FileHandle.standardError.write(Data("twocvm-bench \(name): \(error)\n".utf8))
            exit(1)
        }
    }
}

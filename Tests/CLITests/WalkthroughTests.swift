import Foundation
import XCTest

/// Docs/walkthrough.md works when pasted: every `sh` block, in order, run by one bash with
/// `set -e` from a folder that holds the repository's Examples (as the repository root does),
/// with the built twocvm first on PATH, must succeed, and the opened report must match the
/// development run (the walkthrough's own last check).
final class WalkthroughTests: XCTestCase {
    func testEveryCommandOfTheWalkthroughSucceedsAsWritten() throws {
        try Requirement.requireFile("/usr/share/ovmf/OVMF.fd", install: "Debian's ovmf package (make deps)")
        let root = TestPaths.repositoryRoot
        let text = try String(contentsOf: root.appendingPathComponent("Docs/walkthrough.md"), encoding: .utf8)
        let blocks = Self.shellBlocks(in: text)
        XCTAssertGreaterThanOrEqual(blocks.count, 13, "one block per step at least")
        let work = try TestPaths.temporaryDirectory(self)
        try FileManager.default.createSymbolicLink(at: work.appendingPathComponent("Examples"),
                                                   withDestinationURL: root.appendingPathComponent("Examples"))
        let script = "set -euo pipefail\n" + blocks.joined(separator: "\n")
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = CLI.productsDirectory.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        let result = try CLI.run(["-c", script], executable: "/bin/bash", environment: environment, currentDirectory: work)
        XCTAssertEqual(result.status, 0, "stdout:\n\(result.stdout.suffix(3000))\nstderr:\n\(result.stderr.suffix(3000))")
        let opened = try Data(contentsOf: work.appendingPathComponent("W/yield-report.csv"))
        XCTAssertEqual(opened, try Data(contentsOf: work.appendingPathComponent("W/dev-out/yield-report")))
        XCTAssertTrue(String(decoding: opened, as: UTF8.self).contains("lot"), "a yield report")
    }

    /// The contents of the fenced blocks marked `sh`, in document order.
    static func shellBlocks(in markdown: String) -> [String] {
        var blocks: [String] = [], current: [Substring]?
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```sh" {
                current = []
            } else if current != nil, line == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }
}

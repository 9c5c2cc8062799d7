import Foundation
import XCTest

/// The exit-status table of Docs/cli.md, driven through the built binary: every documented code
/// has a command that ends with it, and the same kind of problem ends with the same code in
/// every command (a file that cannot be written exits 3 wherever it happens).
final class ExitStatusCLITests: XCTestCase {
    private var directory: URL!
    private var example: String { TestPaths.repositoryRoot.appendingPathComponent("Examples/two-party/manifest.toml").path }

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory(self)
    }

    /// The codes of the table's rows (`| 0 | success | … |`).
    private func documentedCodes() throws -> Set<Int32> {
        let text = try String(contentsOf: TestPaths.repositoryRoot.appendingPathComponent("Docs/cli.md"), encoding: .utf8)
        let codes = text.split(separator: "\n").compactMap { line -> Int32? in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            return line.hasPrefix("|") ? cells.first.flatMap { Int32($0) } : nil
        }
        return Set(codes)
    }

    func testEveryDocumentedExitStatusComesOutOfTheBinary() throws {
        let bad = directory.appendingPathComponent("bad.toml").path
        let text = try String(contentsOfFile: example, encoding: .utf8)
        try Data(text.replacingOccurrences(of: "owner = \"designer\"", with: "owner = \"mallory\"").utf8)
            .write(to: URL(fileURLWithPath: bad))
        let blocker = directory.appendingPathComponent("a-file").path
        try Data("not a folder".utf8).write(to: URL(fileURLWithPath: blocker))
        let missing = directory.appendingPathComponent("missing.toml").path

        let cases: [(code: Int32, arguments: [String], says: String)] = [
            (0, ["manifest", "hash", example], ""),
            (1, ["manifest", "lint", bad], ""),
            (2, ["manifest", "hash", missing], "cannot read"),
            (2, ["manifest", "hash"], "Missing expected argument"),
            (2, ["attest", example, "--nonce", "not-hex", "-o", "\(directory.path)/ev.cbor"], "--nonce"),
            (3, ["keygen", "--out", "\(blocker)/keys"], "cannot write"),
            (3, ["sim", "root", "--state", "\(directory.path)/no-vm"], "no simulated VM"),
            (3, ["attest", example, "--nonce", "00112233445566778899aabbccddeeff", "-o", "\(directory.path)/ev.cbor",
                 "--platform", "auto", "--state", "\(directory.path)/no-vm"], ""),
        ]
        for (code, arguments, says) in cases {
            let result = try CLI.run(arguments)
            XCTAssertEqual(result.status, code, "twocvm \(arguments.joined(separator: " ")): \(result.stderr)")
            XCTAssertTrue(says.isEmpty || result.stderr.contains(says), "twocvm \(arguments.joined(separator: " ")): \(result.stderr)")
        }
        XCTAssertEqual(try documentedCodes(), Set(cases.map(\.code)), "Docs/cli.md documents exactly the codes driven here")
    }
}

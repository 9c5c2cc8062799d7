import CBOR
import Foundation
import TOMLKit
import TestSupport
import XCTest
@testable import Manifest

/// The canonical digest (SPEC §3): reproduced by the Python reference, stable under
/// reformatting, changed by any value.
final class DigestTests: XCTestCase {
    private let fixture = ManifestFixture()

    private func digest(_ text: String) -> ManifestDigest? {
        ManifestDocument.parse(Array(text.utf8), fileName: "m.toml").digest
    }

    private func write(_ texts: [String]) throws -> [String] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("twocvm-digest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        return try texts.enumerated().map { index, text in
            let url = directory.appendingPathComponent("m\(index).toml")
            try Data(text.utf8).write(to: url)
            return url.path
        }
    }

    func testDigestEqualsThePythonReference() throws {
        let variants = [
            fixture.text,
            fixture.reformattedText,
            fixture.text + "\n[[data]]\nid = \"extra\"\nowner = \"designer\"\n",
            fixture.replacing("display_name = \"Fab Research Lab\"", with: "display_name = \"Fäb Résearch 研究所 \\\"lab\\\"\\n\""),
            fixture.replacing("max_bytes = 1_048_576", with: "max_bytes = 1_073_741_824"),
        ]
        let ours = variants.map { digest($0)?.description }
        XCTAssertFalse(ours.contains(nil), "every variant lints clean")
        let reference = try PythonReference.manifestDigests(try write(variants))
        XCTAssertEqual(ours.compactMap { $0 }, reference)
    }

    func testExampleManifestDigestEqualsThePythonReference() throws {
        let example = TestPaths.repositoryRoot.appendingPathComponent("Examples/two-party/manifest.toml")
        guard let bytes = FileManager.default.contents(atPath: example.path) else {
            return XCTFail("Examples/two-party/manifest.toml is missing")
        }
        let document = ManifestDocument.parse(Array(bytes), fileName: example.path)
        XCTAssertFalse(document.hasErrors, "\(document.diagnostics)")
        XCTAssertEqual([document.digest?.description ?? ""], try PythonReference.manifestDigests([example.path]))
    }

    func testReformattingKeepsTheDigest() {
        XCTAssertNotNil(digest(fixture.text))
        XCTAssertEqual(digest(fixture.text), digest(fixture.reformattedText))
        XCTAssertEqual(digest(fixture.text), digest("# leading comment\n\n" + fixture.text.replacingOccurrences(of: " = ", with: "=")))
    }

    func testChangingAnyValueChangesTheDigest() {
        let base = digest(fixture.text)
        let changes: [(String, String)] = [
            ("name = \"wafer-yield\"", "name = \"wafer-yields\""),
            ("memory_mib = 128", "memory_mib = 129"),
            ("to = [\"fab\", \"designer\"]", "to = [\"designer\", \"fab\"]"),
            ("wasi = [\"clock\"]", "wasi = [\"clock\", \"random\"]"),
            ("display_name = \"Fab Research Lab\"", "display_name = \"Fab Research Lab \""),
            (ManifestFixture.wafersDigest, "sha256:" + String(repeating: "c4", count: 32)),
        ]
        for (old, new) in changes {
            let changed = digest(fixture.replacing(old, with: new))
            XCTAssertNotNil(changed, new)
            XCTAssertNotEqual(changed, base, "changing \(old) must change the digest")
        }
        XCTAssertNotEqual(digest(fixture.text + "\n[[data]]\nid = \"x\"\nowner = \"fab\"\n"), base)
    }

    func testCanonicalBytesAreDeterministicCBOROfTheDataModel() throws {
        let document = ManifestDocument.parse(Array(fixture.text.utf8), fileName: "m.toml")
        let cbor = try XCTUnwrap(document.canonicalCBOR)
        let decoded = try CBORDecoder.decode(cbor, requireCanonical: true)
        XCTAssertEqual(decoded[text: "version"], .unsigned(1))
        XCTAssertEqual(decoded[text: "outputs"]?.arrayItems?.first?[text: "max_bytes"], .unsigned(1_048_576))
        XCTAssertNil(decoded[text: "data"]?.arrayItems?.first?[text: "limits"], "nothing defaulted")
    }

    /// The worked example of Docs/manifest.md, against the values written there (computed with
    /// cbor2 and hashlib): its canonical bytes, its digest, and HOST_DATA as its first 32 bytes.
    func testWorkedExampleHasTheDocumentedBytesDigestAndHostData() throws {
        // (Not a lintable manifest: the canonical form and digest do not depend on lint.)
        let cbor = CanonicalForm.encode(try TOMLTable(string: "version = 1\nname = \"demo\"\n\n[[outputs]]\nid = \"r\"\nto = [\"a\"]\n"))
        XCTAssertEqual(Hex.encode(cbor), "a3646e616d656464656d6f676f75747075747381a2626964617262746f8161616776657273696f6e01")
        let digest = ManifestDigest(of: cbor)
        XCTAssertEqual(digest.description,
                       "sha384:e738b67318dfc421f27bfd0d1460db6c9432b74b787f962bd283e1c46de03c57181b35a3424f393e2429a87a27761a0a")
        XCTAssertEqual(Hex.encode(digest.hostData), "e738b67318dfc421f27bfd0d1460db6c9432b74b787f962bd283e1c46de03c57")
    }

    func testCanonicalBytesEqualCbor2ForTheWorkedExample() throws {
        // The worked example of Docs/manifest.md: our canonical bytes equal cbor2's, byte for byte.
        let text = "version = 1\nname = \"demo\"\n\n[[outputs]]\nid = \"r\"\nto = [\"a\"]\n"
        let ours = Hex.encode(CanonicalForm.encode(try TOMLTable(string: text)))
        let script = "import sys, tomllib, cbor2; print(cbor2.dumps(tomllib.loads(sys.argv[1]), canonical=True).hex())"
        XCTAssertEqual(ours, try PythonReference.run(script, [text]))
    }
}

import Foundation
import XCTest

/// The repository stands alone: a clone with nothing beside it passes its own tests. No file
/// reads data from a sibling folder, and the data the tests and benchmarks read is inside it.
final class StandaloneRepositoryTests: XCTestCase {
    /// No source, test, script, benchmark or doc names the old sibling data folder. (Written in
    /// two halves so that this file does not name it either.) Docs/performance.md is left out:
    /// `make bench` writes it from Benchmarks/*.sh, which are checked here.
    func testNoFileNamesAFolderOutsideTheRepository() throws {
        let forbidden = ["../" + "shared", "shared/" + "testdata"].map { Data($0.utf8) }
        let root = TestPaths.repositoryRoot
        var offenders: [String] = [], checked = 0
        for top in ["Sources", "Tests", "Benchmarks", "scripts", "Docs", "Examples", "Fuzz", "Makefile", "README.md", "Package.swift"] {
            for path in try Self.files(under: root.appendingPathComponent(top)) {
                let relative = String(path.dropFirst(root.path.count + 1))
                guard relative != "Docs/performance.md", let data = FileManager.default.contents(atPath: path) else { continue }
                checked += 1
                if forbidden.contains(where: { data.range(of: $0) != nil }) { offenders.append(relative) }
            }
        }
        XCTAssertEqual(offenders, [])
        XCTAssertGreaterThan(checked, 150, "the walk reached the repository's files")
    }

    /// Every file the SNP tests and the benchmarks read is in Tests/Data, with its provenance.
    func testTheTestDataIsInsideTheRepositoryWithItsProvenance() throws {
        let snp = TestPaths.testData.appendingPathComponent("snp")
        XCTAssertTrue(snp.path.hasPrefix(TestPaths.repositoryRoot.path + "/"))
        for file in ["README.md", "MANIFEST.md", "expected-parse.json", "go-sev-guest/MANIFEST.md", "virtee-sev/MANIFEST.md",
                     "trustee/MANIFEST.md", "confidential-secrets-vault/MANIFEST.md", "measure/MANIFEST.md",
                     "measure/ovmf_AmdSev_suffix.bin", "go-sev-guest/attestation.bin", "confidential-secrets-vault/box2-turin-report.bin"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: snp.appendingPathComponent(file).path), file)
        }
        let readme = try String(contentsOf: snp.appendingPathComponent("README.md"), encoding: .utf8)
        for licence in ["Apache-2.0", "no licence file"] { XCTAssertTrue(readme.contains(licence), licence) }
    }

    /// Regular files under `url` (or `url` itself), skipping build products and the venv.
    private static func files(under url: URL) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else { return [url.path] }
        let enumerator = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.isRegularFileKey])
        var paths: [String] = []
        while let item = enumerator?.nextObject() as? URL {
            let name = item.lastPathComponent
            if name.hasPrefix(".build") || name == ".venv" || name == "work" || name == "build" {
                enumerator?.skipDescendants()
                continue
            }
            if try item.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true { paths.append(item.path) }
        }
        return paths
    }
}

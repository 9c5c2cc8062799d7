import Crypto
import Foundation
import XCTest

/// A realistic two-party manifest with fresh P-384 keys, and helpers to break it one way at a
/// time. Keys are generated per test run, so no test depends on a committed key.
struct ManifestFixture {
    let fabSigning = P384.Signing.PrivateKey()
    let fabEncryption = P384.KeyAgreement.PrivateKey()
    let designerSigning = P384.Signing.PrivateKey()
    let designerEncryption = P384.KeyAgreement.PrivateKey()

    static let preprocessDigest = "sha256:" + String(repeating: "a1", count: 32)
    static let modelDigest = "sha256:" + String(repeating: "b2", count: 32)
    static let wafersDigest = "sha256:" + String(repeating: "c3", count: 32)

    /// The valid manifest text.
    var text: String {
        """
        # Wafer yield study: the fab's wafer maps, the designer's proprietary yield model.
        version = 1
        name = "wafer-yield"

        [[participants]]
        id = "fab"
        display_name = "Fab Research Lab"
        signing_key = \"\"\"
        \(fabSigning.publicKey.pemRepresentation)
        \"\"\"
        encryption_key = \"\"\"
        \(fabEncryption.publicKey.pemRepresentation)
        \"\"\"

        [[participants]]
        id = "designer"
        display_name = "Chip Designer Inc."
        signing_key = \"\"\"
        \(designerSigning.publicKey.pemRepresentation)
        \"\"\"
        encryption_key = \"\"\"
        \(designerEncryption.publicKey.pemRepresentation)
        \"\"\"

        [[components]]
        id = "preprocess"
        owner = "fab"
        digest = "\(Self.preprocessDigest)"
        limits = { fuel = 5_000_000_000, memory_mib = 128, timeout_s = 120 }

        [[components]]
        id = "yield-model"
        owner = "designer"
        digest = "\(Self.modelDigest)"
        wasi = ["clock"]
        limits = { fuel = 20_000_000_000, memory_mib = 256, timeout_s = 600 }

        [[data]]
        id = "wafer-maps"
        owner = "fab"
        digest = "\(Self.wafersDigest)"

        [[channels]]
        from = "data.wafer-maps"
        to = "preprocess"

        [[channels]]
        from = "preprocess.features"
        to = "yield-model"

        [[outputs]]
        id = "yield-report"
        from = "yield-model"
        to = ["fab", "designer"]
        max_bytes = 1_048_576

        """
    }

    /// The same values written differently: other key order, standard instead of inline
    /// tables, literal strings, comments, CRLF line endings, other integer spellings.
    var reformattedText: String {
        let lines = """
        name = 'wafer-yield'   # same name, literal string
        version = 0x1

        [[participants]]
        encryption_key = \"\"\"
        \(fabEncryption.publicKey.pemRepresentation)
        \"\"\"
        signing_key = '''
        \(fabSigning.publicKey.pemRepresentation)
        '''
        display_name = "Fab Research Lab"
        id = "fab"

        [[participants]]
        id = "designer"
        display_name = "Chip\\u0020Designer Inc."
        signing_key = \"\"\"
        \(designerSigning.publicKey.pemRepresentation)
        \"\"\"
        encryption_key = \"\"\"
        \(designerEncryption.publicKey.pemRepresentation)
        \"\"\"

        [[components]]
        owner = "fab"
        id = "preprocess"
        digest = "\(Self.preprocessDigest)"
        [components.limits]
        timeout_s = 120
        memory_mib = 0o200
        fuel = 5000000000

        [[components]]
        id = "yield-model"
        limits.fuel = 20_000_000_000
        limits.memory_mib = 256
        limits.timeout_s = 600
        owner = "designer"
        wasi = [
          "clock",  # only the clock
        ]
        digest = "\(Self.modelDigest)"

        [[data]]
        digest = "\(Self.wafersDigest)"
        owner = "fab"
        id = "wafer-maps"

        [[outputs]]
        to = ["fab", "designer",]
        max_bytes = 1048576
        from = "yield-model"
        id = "yield-report"

        [[channels]]
        to = "preprocess"
        from = "data.wafer-maps"

        [[channels]]
        from = "preprocess.features"
        to = "yield-model"
        """
        return lines.replacingOccurrences(of: "\n", with: "\r\n")
    }

    /// The text with the first occurrence of `old` replaced by `new` (the test fails if absent).
    func replacing(_ old: String, with new: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        guard let range = text.range(of: old) else {
            XCTFail("fixture has no '\(old)'", file: file, line: line)
            return text
        }
        return text.replacingCharacters(in: range, with: new)
    }

    /// The 1-based line of the first line containing `marker` in `text`.
    static func line(of marker: String, in text: String) -> Int? {
        text.components(separatedBy: "\n").firstIndex { $0.contains(marker) }.map { $0 + 1 }
    }
}

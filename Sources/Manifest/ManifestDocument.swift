import Crypto
import Foundation
import Hexadecimal
import TOMLKit

/// A manifest file read, linted and (when clean) digested.
///
/// `parse` never throws and never crashes on any bytes: everything wrong with the file becomes
/// a `Diagnostic`. The manifest, its canonical CBOR and its digest exist only when there is no
/// error (warnings allowed).
public struct ManifestDocument: Sendable {
    /// The largest manifest accepted (SPEC §3).
    public static let maxFileBytes = 1 << 20
    /// The deepest nesting of tables and arrays accepted.
    public static let maxNesting = 32

    public let fileName: String
    /// Every finding, in source order.
    public let diagnostics: [Diagnostic]
    /// The typed manifest; nil if there is any error.
    public let manifest: Manifest?
    /// The canonical CBOR encoding of the TOML data model (SPEC §3); nil if there is any error.
    public let canonicalCBOR: [UInt8]?
    /// `sha384(canonicalCBOR)`; nil if there is any error.
    public let digest: ManifestDigest?

    /// True if any finding is an error.
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// True if the file could not be read as TOML at all (too large, not UTF-8, syntax, nesting).
    public var isUnreadable: Bool {
        diagnostics.contains { LintRule(rawValue: $0.code)?.makesFileUnreadable == true }
    }

    /// Reads, lints and digests the manifest in `source`, naming it `fileName` in findings.
    public static func parse(_ source: [UInt8], fileName: String) -> ManifestDocument {
        var sink = DiagnosticSink(fileName: fileName)
        guard let text = readableText(source, sink: &sink) else {
            return ManifestDocument(fileName: fileName, sink: sink)
        }
        // TOMLKit's tree (toml++ nodes) is read out once and released at the end of this block.
        let tree: TOMLTree
        do {
            tree = TOMLTree(try TOMLTable(string: text))
        } catch let error as TOMLParseError {
            sink.report(.tomlSyntax, at: .init(line: error.source.begin.line, column: error.source.begin.column),
                        path: ManifestPath(), message: "TOML syntax: \(error.description)",
                        hint: "fix the TOML syntax at this position")
            return ManifestDocument(fileName: fileName, sink: sink)
        } catch {
            sink.report(.tomlSyntax, at: .init(line: 1, column: 1), path: ManifestPath(),
                        message: "TOML syntax: \(error)", hint: "fix the TOML syntax")
            return ManifestDocument(fileName: fileName, sink: sink)
        }
        // Positions are found by scanning the source (SourceLocator), which costs as much as the
        // TOML parse itself; a clean manifest never needs them, so the scan runs only when a
        // finding is reported, or when the text may hold a NUL escape (found by that scan).
        let utf8 = Array(text.utf8)
        sink.source = utf8
        for position in Self.mayHoldNulEscape(utf8) ? sink.scannedLocator().nulEscapes : [] {
            sink.report(.nulInString, at: position, path: ManifestPath(),
                        message: "string contains a NUL character (\\u0000)", hint: "remove the NUL escape")
        }
        let canonical = CanonicalForm.checkDataModel(tree, sink: &sink)
        let draft = SchemaDecoder.decode(tree, sink: &sink)
        LintRules.check(draft, sink: &sink)
        guard !sink.hasErrors, let manifest = draft.build() else {
            return ManifestDocument(fileName: fileName, sink: sink)
        }
        let cbor = canonical.encoded()
        return ManifestDocument(fileName: fileName, diagnostics: sink.sorted, manifest: manifest,
                                canonicalCBOR: cbor, digest: ManifestDigest(of: cbor))
    }

    /// The document for a file of `size` bytes over `maxFileBytes`, which need not be read.
    public static func tooLarge(fileName: String, size: Int) -> ManifestDocument {
        var sink = DiagnosticSink(fileName: fileName)
        reportTooLarge(size: size, sink: &sink)
        return ManifestDocument(fileName: fileName, sink: sink)
    }

    private static func reportTooLarge(size: Int, sink: inout DiagnosticSink) {
        sink.report(.fileTooLarge, at: .init(line: 1, column: 1), path: ManifestPath(),
                    message: "file is \(size) bytes; a manifest may be at most \(maxFileBytes) bytes",
                    hint: "a manifest holds keys and digests, not data: move large content out")
    }

    /// Size, UTF-8 and nesting checks that come before any parser sees the text. Returns the
    /// text with CRLF line endings normalised to LF (SPEC §3: newlines in strings are LF).
    private static func readableText(_ source: [UInt8], sink: inout DiagnosticSink) -> String? {
        guard source.count <= maxFileBytes else {
            reportTooLarge(size: source.count, sink: &sink)
            return nil
        }
        guard !source.contains(0), let decoded = String(validating: source, as: UTF8.self) else {
            let offset = source.firstIndex(of: 0) ?? 0
            sink.report(.notUTF8, at: .init(line: 1, column: 1), path: ManifestPath(),
                        message: "file is not UTF-8 text (binary content near byte \(offset))",
                        hint: "a manifest is a UTF-8 TOML text file")
            return nil
        }
        // CRLF → LF on the bytes (a manifest without CR, the usual case, is left as it is).
        let text = source.contains(0x0D) ? String(decoding: normalisingLineEndings(source), as: UTF8.self) : decoded
        // TOML allows no control characters but tab and newlines, anywhere; refusing them here
        // also keeps them from toml++, which asserts on some (found by fuzzing: "[\u{1}").
        if let (position, byte) = firstControlCharacter(in: Array(text.utf8)) {
            sink.report(.tomlSyntax, at: position, path: ManifestPath(),
                        message: "TOML syntax: control character U+\(String(format: "%04X", byte)) is not allowed",
                        hint: "remove the control character")
            return nil
        }
        switch SourceLocator.preScan(Array(text.utf8), nestingLimit: maxNesting) {
        case let .tooDeep(position)?:
            sink.report(.nestingTooDeep, at: position, path: ManifestPath(),
                        message: "arrays, tables or dotted keys nest deeper than \(maxNesting) levels",
                        hint: "flatten the structure")
            return nil
        case let .malformedHeader(position)?:
            sink.report(.tomlSyntax, at: position, path: ManifestPath(),
                        message: "TOML syntax: a table header must start with a key", hint: "write [name] or [[name]]")
            return nil
        case let .dateOrTime(position)?:
            sink.report(.dateValue, at: position, path: ManifestPath(),
                        message: "a TOML date or time value; manifests do not allow them", hint: "write it as a string if you need it")
            return nil
        case let .mismatchedBracket(position)?:
            sink.report(.tomlSyntax, at: position, path: ManifestPath(),
                        message: "TOML syntax: this bracket does not close the array or inline table opened before it",
                        hint: "match every [ with ] and every { with }")
            return nil
        case nil:
            break
        }
        return text
    }

    /// `source` with every CR LF pair replaced by LF (a lone CR stays, and is refused later).
    private static func normalisingLineEndings(_ source: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(source.count)
        var index = 0
        while index < source.count {
            if source[index] == 0x0D, index + 1 < source.count, source[index + 1] == 0x0A {
                index += 1
                continue
            }
            out.append(source[index])
            index += 1
        }
        return out
    }

    /// True if the bytes contain `\u0000` or `\U00000000` anywhere (in a string or not: the
    /// source scan decides).
    static func mayHoldNulEscape(_ bytes: [UInt8]) -> Bool {
        let short = Array("\\u0000".utf8), long = Array("\\U00000000".utf8)
        return bytes.withUnsafeBufferPointer { buffer in
            var index = 0
            while let found = buffer[index...].firstIndex(of: 0x5C) {
                let rest = buffer[found...]
                if rest.starts(with: short) || rest.starts(with: long) { return true }
                index = found + 1
            }
            return false
        }
    }

    /// The first byte TOML forbids everywhere (C0 controls but tab and LF, a lone CR, DEL).
    private static func firstControlCharacter(in bytes: [UInt8]) -> (SourceLocator.Position, UInt8)? {
        var line = 1, column = 1
        for byte in bytes {
            if (byte < 0x20 && byte != 0x09 && byte != 0x0A) || byte == 0x7F {
                return (.init(line: line, column: column), byte)
            }
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return nil
    }

    private init(fileName: String, sink: DiagnosticSink) {
        self.init(fileName: fileName, diagnostics: sink.sorted, manifest: nil, canonicalCBOR: nil, digest: nil)
    }

    private init(fileName: String, diagnostics: [Diagnostic], manifest: Manifest?,
                 canonicalCBOR: [UInt8]?, digest: ManifestDigest?) {
        self.fileName = fileName
        self.diagnostics = diagnostics
        self.manifest = manifest
        self.canonicalCBOR = canonicalCBOR
        self.digest = digest
    }
}

/// The manifest digest: SHA-384 of the canonical CBOR, printed `sha384:<96 hex>`.
public struct ManifestDigest: Hashable, Sendable, CustomStringConvertible, Codable {
    /// The 48 digest bytes.
    public let bytes: [UInt8]

    /// The digest of the canonical CBOR bytes `cbor`.
    public init(of cbor: [UInt8]) {
        bytes = Array(SHA384.hash(data: cbor))
    }

    /// Parses `sha384:<96 lowercase hex>`; nil otherwise.
    public init?(_ text: String) {
        guard let digest = HexDigest(text), digest.algorithm == .sha384 else { return nil }
        bytes = digest.bytes
    }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 48 else { return nil }
        self.bytes = bytes
    }

    /// HOST_DATA for the launch lock: the first 32 bytes of the digest (SPEC §4).
    public var hostData: [UInt8] { Array(bytes.prefix(32)) }

    /// The digest as `algorithm:hex`.
    public var hexDigest: HexDigest { HexDigest(.sha384, bytes: bytes) }

    public var description: String { hexDigest.description }

    public init(from decoder: Decoder) throws {
        let digest = try HexDigest(from: decoder)
        guard digest.algorithm == .sha384 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a sha384 digest: \(digest)"))
        }
        bytes = digest.bytes
    }

    public func encode(to encoder: Encoder) throws {
        try hexDigest.encode(to: encoder)
    }
}

/// Collects findings, placing each at the source position of its path.
struct DiagnosticSink {
    let fileName: String
    /// The (normalised) source text, scanned for positions on the first finding that needs one.
    var source: [UInt8]? {
        didSet { locator = nil }
    }
    private var locator: SourceLocator?
    private(set) var diagnostics: [Diagnostic] = []

    init(fileName: String) {
        self.fileName = fileName
    }

    var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// Findings in source order (line, then column), stable for equal positions.
    var sorted: [Diagnostic] {
        diagnostics.enumerated().sorted { a, b in
            (a.element.line, a.element.column, a.offset) < (b.element.line, b.element.column, b.offset)
        }.map(\.element)
    }

    /// Reports a finding at the key of `path` (or at its value with `atValue`).
    mutating func report(_ rule: LintRule, _ severity: Diagnostic.Severity = .error, path: ManifestPath,
                         atValue: Bool = false, message: String, hint: String) {
        let located = source == nil ? nil : scannedLocator()
        let position = atValue
            ? (located?.valuePosition(of: path) ?? .init(line: 1, column: 1))
            : (located?.position(of: path) ?? .init(line: 1, column: 1))
        report(rule, severity, at: position, path: path, message: message, hint: hint)
    }

    /// The positions of every key and value in `source`, scanned once on first use.
    mutating func scannedLocator() -> SourceLocator {
        if let locator { return locator }
        let scanned = SourceLocator(source: source ?? [])
        locator = scanned
        return scanned
    }

    mutating func report(_ rule: LintRule, _ severity: Diagnostic.Severity = .error, at position: SourceLocator.Position,
                         path: ManifestPath, message: String, hint: String) {
        diagnostics.append(Diagnostic(code: rule.rawValue, severity: severity, file: fileName,
                                      line: position.line, column: position.column,
                                      path: path.description, message: message, hint: hint))
    }
}

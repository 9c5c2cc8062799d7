import XCTest
@testable import Manifest

/// Every lint rule of SPEC §3, each with a manifest broken in exactly one way: the findings must
/// be exactly the expected codes, the first at the expected line.
final class LintRuleTests: XCTestCase {
    private let fixture = ManifestFixture()

    private func lint(_ text: String) -> ManifestDocument {
        ManifestDocument.parse(Array(text.utf8), fileName: "m.toml")
    }

    /// Asserts the findings' codes are exactly `codes` and that a finding with the first code
    /// stands at the line containing `marker`.
    private func assertFindings(_ text: String, _ codes: Set<LintRule>, atLineOf marker: String, lineOffset: Int = 0,
                                file: StaticString = #filePath, line: UInt = #line) {
        let document = lint(text)
        XCTAssertEqual(Set(document.diagnostics.compactMap { LintRule(rawValue: $0.code) }), codes,
                       "\(document.diagnostics.map(\.description))", file: file, line: line)
        guard let expectedLine = ManifestFixture.line(of: marker, in: text).map({ $0 + lineOffset }) else {
            return XCTFail("marker '\(marker)' not in text", file: file, line: line)
        }
        let lines = document.diagnostics.map(\.line)
        XCTAssertTrue(lines.contains(expectedLine), "expected a finding at line \(expectedLine), got \(document.diagnostics.map(\.description))",
                      file: file, line: line)
        XCTAssertTrue(document.diagnostics.allSatisfy { $0.file == "m.toml" && $0.column >= 1 && !$0.hint.isEmpty },
                      file: file, line: line)
    }

    func testValidManifestHasNoFindingsAndADigest() {
        let document = lint(fixture.text)
        XCTAssertEqual(document.diagnostics, [])
        XCTAssertNotNil(document.manifest)
        XCTAssertEqual(document.digest?.description.count, 7 + 96)
        XCTAssertEqual(document.manifest?.participants.map(\.id), ["fab", "designer"])
        XCTAssertEqual(document.manifest?.component("yield-model")?.wasi, [.clock])
        XCTAssertEqual(document.manifest?.component("preprocess")?.limits,
                       ComponentLimits(fuel: 5_000_000_000, memoryMiB: 128, timeoutSeconds: 120))
        XCTAssertEqual(document.manifest?.channels.map(\.inputName), ["wafer-maps", "features"])
    }

    func testUnknownKey() {
        let text = fixture.replacing("owner = \"designer\"", with: "owner = \"designer\"\ncolour = \"blue\"")
        assertFindings(text, [.unknownKey], atLineOf: "colour")
    }

    func testUnknownKeyInInlineTable() {
        let text = fixture.replacing("timeout_s = 120 }", with: "timeout_s = 120, gpus = 1 }")
        assertFindings(text, [.unknownKey], atLineOf: "gpus")
        XCTAssertEqual(lint(text).diagnostics.first?.path, "components[0].limits.gpus")
    }

    func testDuplicateID() {
        let text = fixture.replacing("id = \"yield-model\"", with: "id = \"preprocess\" # dup")
        // The references to the renamed component now dangle too.
        assertFindings(text, [.duplicateID, .danglingReference], atLineOf: "# dup")
    }

    func testDuplicateParticipantID() {
        let text = fixture.replacing("id = \"designer\"", with: "id = \"fab\" # dup")
        assertFindings(text, [.duplicateID, .unknownOwner, .unknownRecipient], atLineOf: "# dup")
    }

    func testDanglingChannelDestination() {
        let text = fixture.replacing("to = \"preprocess\"", with: "to = \"nowhere\"")
        assertFindings(text, [.danglingReference], atLineOf: "nowhere")
    }

    func testDanglingChannelSource() {
        let text = fixture.replacing("from = \"data.wafer-maps\"", with: "from = \"data.die-maps\"")
        assertFindings(text, [.danglingReference, .unconsumedData], atLineOf: "die-maps")
    }

    func testUnknownOwner() {
        let text = fixture.replacing("owner = \"designer\"", with: "owner = \"mallory\"")
        assertFindings(text, [.unknownOwner], atLineOf: "mallory")
    }

    func testChannelCycle() {
        let text = fixture.text + "\n[[channels]] # back edge\nfrom = \"yield-model.hints\"\nto = \"preprocess\"\n"
        assertFindings(text, [.channelCycle], atLineOf: "# back edge")
        XCTAssertTrue(lint(text).diagnostics[0].message.contains("preprocess → yield-model → preprocess"))
    }

    func testSelfLoopIsACycle() {
        let text = fixture.text + "\n[[channels]] # self\nfrom = \"yield-model.state\"\nto = \"yield-model\"\n"
        assertFindings(text, [.channelCycle], atLineOf: "# self")
    }

    func testUnconsumedDataIsAWarning() {
        let text = fixture.text + "\n[[data]]\nid = \"spare-maps\"\nowner = \"fab\"\n"
        assertFindings(text, [.unconsumedData], atLineOf: "spare-maps")
        let document = lint(text)
        XCTAssertEqual(document.diagnostics.first?.severity, .warning)
        XCTAssertNotNil(document.digest, "warnings do not prevent the digest")
    }

    func testUnreachableComponentIsAWarning() {
        let text = fixture.text + "\n[[components]]\nid = \"idle\"\nowner = \"fab\"\ndigest = \"\(ManifestFixture.modelDigest)\"\n"
        assertFindings(text, [.unreachableComponent], atLineOf: "\"idle\"")
        XCTAssertEqual(lint(text).diagnostics.first?.severity, .warning)
    }

    func testOutputWithoutRecipients() {
        let text = fixture.replacing("to = [\"fab\", \"designer\"]", with: "to = []")
        assertFindings(text, [.outputWithoutRecipients], atLineOf: "to = []")
    }

    func testUnknownRecipient() {
        let text = fixture.replacing("to = [\"fab\", \"designer\"]", with: "to = [\"fab\", \"auditor\"]")
        assertFindings(text, [.unknownRecipient], atLineOf: "auditor")
    }

    func testMalformedDigest() {
        let text = fixture.replacing(ManifestFixture.wafersDigest, with: "sha256:XYZ")
        assertFindings(text, [.malformedDigest], atLineOf: "XYZ")
    }

    func testBadKey() {
        let text = fixture.replacing("display_name = \"Chip Designer Inc.\"",
                                     with: "display_name = \"Chip Designer Inc.\"\nsigning_key = \"not a key\"")
        // The replaced participant now has two signing_key entries: TOML itself refuses that.
        XCTAssertTrue(lint(text).isUnreadable)
        let p256 = """
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEVqLEsvn9wZFvdjsrvkJotr7N8lPyoHWzU0E9p2yUHVOVmjS4e9G5bGZF
        0bWBKNqM3hdC6BBgqcKKqHtBC3tgqg==
        -----END PUBLIC KEY-----
        """
        let pem = fixture.designerSigning.publicKey.pemRepresentation
        let broken = fixture.text.replacingOccurrences(of: pem, with: p256)
        // Reported where the value starts: the `signing_key = """` line, two lines above the base64.
        assertFindings(broken, [.badKey], atLineOf: "MFkwEwYHKoZIzj0CAQYI", lineOffset: -2)
        let leaked = fixture.text.replacingOccurrences(of: pem, with: fixture.designerSigning.pemRepresentation)
        XCTAssertEqual(lint(leaked).diagnostics.map(\.code), ["bad-key"])
        XCTAssertTrue(lint(leaked).diagnostics[0].message.contains("PRIVATE"))
    }

    func testKeyTooLongIsAlsoUnknown() {
        let text = fixture.replacing("name = \"wafer-yield\"", with: "name = \"wafer-yield\"\nan_extremely_long_key_name = 1")
        assertFindings(text, [.keyTooLong, .unknownKey], atLineOf: "an_extremely_long")
    }

    func testFloatValue() {
        let text = fixture.replacing("memory_mib = 128", with: "memory_mib = 128.0")
        assertFindings(text, [.floatValue], atLineOf: "128.0")
    }

    func testDateValue() {
        let text = fixture.replacing("display_name = \"Fab Research Lab\"", with: "display_name = 2026-11-21")
        assertFindings(text, [.dateValue], atLineOf: "2026-11-21")
        XCTAssertEqual(lint(text).diagnostics.first?.column, 16)
        // Dates and times never reach the TOML parser (toml++ asserts on "x=2026-11-21T:",
        // found by `make fuzz`); integers and strings that merely contain digits are untouched.
        for date in ["x=2026-11-21T:", "x = 07:30:00", "x = [1, 2026-01-01]", "x = {a = 1979-05-27T07:32:00Z}"] {
            XCTAssertEqual(lint(date).diagnostics.map(\.code), ["date-value"], date)
        }
        XCTAssertFalse(lint(fixture.text.replacingOccurrences(of: "timeout_s = 120", with: "timeout_s = 1200")).hasErrors)
        XCTAssertFalse(lint(fixture.replacing("Fab Research Lab", with: "Fab 2026-11-21 07:30")).hasErrors)
    }

    func testLimitOutOfRange() {
        let text = fixture.replacing("memory_mib = 256", with: "memory_mib = 100000")
        assertFindings(text, [.limitOutOfRange], atLineOf: "100000")
        let zeroFuel = fixture.replacing("fuel = 5_000_000_000", with: "fuel = 0")
        assertFindings(zeroFuel, [.limitOutOfRange], atLineOf: "fuel = 0")
        let huge = fixture.replacing("max_bytes = 1_048_576", with: "max_bytes = 8_589_934_592")
        assertFindings(huge, [.limitOutOfRange], atLineOf: "8_589_934_592")
    }

    func testInvalidID() {
        let text = fixture.replacing("id = \"wafer-maps\"", with: "id = \"Wafer Maps\"")
        // The channel from data.wafer-maps now dangles too.
        assertFindings(text, [.invalidID, .danglingReference], atLineOf: "Wafer Maps")
    }

    func testInvalidName() {
        let text = fixture.replacing("name = \"wafer-yield\"", with: "name = \"Wafer Yield!\"")
        assertFindings(text, [.invalidName], atLineOf: "Wafer Yield!")
    }

    func testMissingKey() {
        // Reported at the table that lacks the key: the first [[participants]] header.
        let text = fixture.replacing("display_name = \"Fab Research Lab\"\n", with: "")
        assertFindings(text, [.missingKey], atLineOf: "[[participants]]")
    }

    func testWrongType() {
        let text = fixture.replacing("version = 1", with: "version = \"1\"")
        assertFindings(text, [.wrongType], atLineOf: "version = \"1\"")
    }

    func testUnsupportedVersion() {
        let text = fixture.replacing("version = 1", with: "version = 2")
        assertFindings(text, [.unsupportedVersion], atLineOf: "version = 2")
    }

    func testUnknownCapability() {
        let text = fixture.replacing("wasi = [\"clock\"]", with: "wasi = [\"clock\", \"sockets\"]")
        assertFindings(text, [.unknownCapability], atLineOf: "sockets")
    }

    func testUnknownEngine() {
        let text = fixture.replacing("wasi = [\"clock\"]", with: "engine = \"v8\" # engine\nwasi = [\"clock\"]")
        assertFindings(text, [.unknownEngine], atLineOf: "# engine")
    }

    func testEngineIsReadAndAbsentMeansWasmKit() throws {
        let absent = try XCTUnwrap(ManifestDocument.parse(Array(fixture.text.utf8), fileName: "m.toml").manifest)
        XCTAssertEqual(Set(absent.components.map(\.engine)), [.wasmkit])
        let named = fixture.replacing("wasi = [\"clock\"]", with: "engine = \"wasmtime\"\nwasi = [\"clock\"]")
        let document = ManifestDocument.parse(Array(named.utf8), fileName: "m.toml")
        let manifest = try XCTUnwrap(document.manifest, "\(document.diagnostics)")
        XCTAssertTrue(manifest.components.contains { $0.engine == .wasmtime })
        // The engine is a term of the agreement: naming it changes the digest.
        XCTAssertNotEqual(document.digest, ManifestDocument.parse(Array(fixture.text.utf8), fileName: "m.toml").digest)
    }

    func testInputNameClash() {
        let text = fixture.text + "\n[[data]]\nid = \"features\"\nowner = \"designer\"\n\n[[channels]]\nfrom = \"data.features\" # clash\nto = \"yield-model\"\n"
        assertFindings(text, [.inputNameClash], atLineOf: "# clash")
    }

    func testDuplicateChannel() {
        let text = fixture.text + "\n[[channels]] # again\nfrom = \"data.wafer-maps\"\nto = \"preprocess\"\n"
        assertFindings(text, [.duplicateChannel], atLineOf: "# again")
    }

    func testMalformedChannelSource() {
        let text = fixture.replacing("from = \"preprocess.features\"", with: "from = \"preprocess\"")
        assertFindings(text, [.invalidValue, .unreachableComponent], atLineOf: "from = \"preprocess\"")
    }

    func testNulEscapeInString() {
        let text = fixture.replacing("\"Fab Research Lab\"", with: "\"Fab\\u0000Lab\"")
        assertFindings(text, [.nulInString], atLineOf: "Fab\\u0000Lab")
    }

    func testTOMLSyntaxErrorIsUnreadable() {
        let text = fixture.replacing("owner = \"designer\"", with: "owner = \"designer")
        assertFindings(text, [.tomlSyntax], atLineOf: "owner = \"designer")
        XCTAssertTrue(lint(text).isUnreadable)
    }

    func testControlCharactersAreSyntaxErrorsBeforeTheParserSeesThem() {
        // "[\u{1}" made toml++ (inside TOMLKit) fail an assertion; found by `make fuzz`.
        let document = ManifestDocument.parse([UInt8(ascii: "["), 0x01], fileName: "m.toml")
        XCTAssertEqual(document.diagnostics.map(\.code), ["toml-syntax"])
        XCTAssertEqual(document.diagnostics.first?.column, 2)
        let text = fixture.replacing("Fab Research Lab", with: "Fab\u{7F}Lab")
        assertFindings(text, [.tomlSyntax], atLineOf: "Fab\u{7F}Lab")
    }

    func testMalformedTableHeadersAreSyntaxErrorsBeforeTheParserSeesThem() {
        // toml++ asserts on a header whose key starts with anything but a key character
        // ("[=", found by `make fuzz`); each must be an ordinary syntax error.
        for text in ["[=", "[[=]]\n", "[ =\n", "[\n", "[[\n", "[.a]\n", "version = 1\n  [ \t#x]\n", "a=[}", "a={b=[1}}\n", "a=[{]\n"] {
            let document = lint(text)
            XCTAssertEqual(document.diagnostics.map(\.code), ["toml-syntax"], text.debugDescription)
        }
        XCTAssertEqual(lint("version = 1\n  [ \t#x]\n").diagnostics.first?.line, 2)
        // Headers that are fine stay fine, including quoted keys and brackets inside values.
        XCTAssertFalse(lint(fixture.text + "\n[[data]]\nid = \"x\" # [=\nowner = \"fab\"\n").isUnreadable)
        XCTAssertFalse(lint("a = [\n  [1], [2]\n]\n[ \"quoted\".b ]\nc = 1\n").isUnreadable)
    }

    func testDuplicateTOMLKeyIsASyntaxError() {
        let text = fixture.replacing("owner = \"designer\"", with: "owner = \"designer\"\nowner = \"fab\" # again")
        assertFindings(text, [.tomlSyntax], atLineOf: "# again")
    }

    func testNotUTF8() {
        var bytes = Array(fixture.text.utf8)
        bytes.insert(0xFF, at: 20)
        let document = ManifestDocument.parse(bytes, fileName: "m.toml")
        XCTAssertEqual(document.diagnostics.map(\.code), ["not-utf8"])
        XCTAssertTrue(document.isUnreadable)
    }

    func testFileTooLarge() {
        let padding = String(repeating: "# padding padding padding padding\n", count: 40_000)
        let document = lint(fixture.text + padding)
        XCTAssertEqual(document.diagnostics.map(\.code), ["file-too-large"])
        XCTAssertTrue(document.isUnreadable)
    }

    func testDeepNestingIsRefusedBeforeParsing() {
        let deepArrays = "version = 1\nx = " + String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000) + "\n"
        let deepKeys = "version = 1\n" + Array(repeating: "a", count: 100_000).joined(separator: ".") + " = 1\n"
        let deepTables = "version = 1\nx = " + String(repeating: "{a=", count: 100) + "1" + String(repeating: "}", count: 100) + "\n"
        for text in [deepArrays, deepKeys, deepTables] {
            let start = Date()
            let document = lint(text)
            XCTAssertEqual(document.diagnostics.map(\.code), ["nesting-too-deep"])
            XCTAssertEqual(document.diagnostics.first?.line, 2)
            XCTAssertLessThan(Date().timeIntervalSince(start), 1.0)
        }
    }

    func testEveryRuleHasATest() {
        // Keeps this file honest when a rule is added.
        let tested: Set<LintRule> = [.fileTooLarge, .notUTF8, .tomlSyntax, .nestingTooDeep, .floatValue, .dateValue,
            .keyTooLong, .nulInString, .unknownKey, .missingKey, .wrongType, .unsupportedVersion, .invalidName, .invalidID,
            .invalidValue, .duplicateID, .malformedDigest, .badKey, .limitOutOfRange, .unknownCapability, .unknownEngine, .unknownOwner,
            .danglingReference, .unknownRecipient, .outputWithoutRecipients, .inputNameClash, .duplicateChannel,
            .channelCycle, .unconsumedData, .unreachableComponent]
        XCTAssertEqual(tested, Set(LintRule.allCases))
    }
}

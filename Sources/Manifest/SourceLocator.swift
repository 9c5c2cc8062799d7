/// Where each key and value of a TOML document stands in its source text.
///
/// TOMLKit gives the data model but not source positions, and lint findings must name
/// `file:line:col`. This scanner walks the text once, following table headers, arrays of tables,
/// dotted keys, inline tables and arrays, and records the position of every key and value by
/// its path (`components[1].limits.fuel`). It runs only on text TOMLKit has accepted; on
/// anything it does not follow it stops quietly and the findings fall back to line 1.
/// It also reports the two things TOMLKit hides: NUL escapes in strings (TOMLKit would cut the
/// string there) and how deep arrays and inline tables nest.
struct SourceLocator {
    /// A position in the source: 1-based line and column (columns count characters).
    struct Position: Equatable, Sendable {
        var line: Int
        var column: Int
    }

    private(set) var keys: [String: Position] = [:]
    private(set) var values: [String: Position] = [:]
    /// Positions of strings containing a `\u0000` escape.
    private(set) var nulEscapes: [Position] = []

    private let text: [UInt8]
    private var index = 0
    private var line = 1
    private var column = 1
    private var arrayTableCounts: [String: Int] = [:]

    init(source: [UInt8]) {
        text = source
        scanDocument()
    }

    /// The position of the key at `path`, else of its value, else of the nearest parent.
    func position(of path: ManifestPath) -> Position {
        var path = path
        while !path.isEmpty {
            if let p = keys[path.description] ?? values[path.description] { return p }
            path.removeLast()
        }
        return Position(line: 1, column: 1)
    }

    /// The position of the value at `path` (falling back to its key, then its parents).
    func valuePosition(of path: ManifestPath) -> Position {
        values[path.description] ?? position(of: path)
    }

    /// What the pre-scan refuses before the TOML parser sees the text.
    enum PreScanFinding: Equatable {
        /// Arrays, inline tables and dotted keys nest deeper than the limit here.
        case tooDeep(Position)
        /// A table header whose key does not start with a key character (`[=`, `[ .a]`):
        /// toml++ asserts on these instead of reporting them (found by fuzzing).
        case malformedHeader(Position)
        /// A `]` closing a `{`, or a `}` closing a `[` (`a=[}`: another toml++ assertion).
        case mismatchedBracket(Position)
        /// A value that starts like a TOML date or time (`2026-11-21`, `07:30`). Manifests allow
        /// none, and toml++'s date parser asserts on malformed ones (`x=2026-11-21T:`), so the
        /// text never reaches it.
        case dateOrTime(Position)
    }

    /// Scans outside strings and comments for nesting beyond `limit` and malformed table
    /// headers; nil if the text has neither.
    static func preScan(_ source: [UInt8], nestingLimit limit: Int) -> PreScanFinding? {
        var scanner = SourceLocator(unscanned: source)
        return scanner.scanStructure(limit: limit)
    }

    private init(unscanned source: [UInt8]) {
        text = source
    }

    // MARK: - Document structure

    private mutating func scanDocument() {
        var table = ManifestPath()
        while !atEnd {
            skipBlankAndComments()
            guard let byte = peek() else { return }
            if byte == UInt8(ascii: "[") {
                guard let header = scanTableHeader() else { return }
                table = header
            } else {
                guard scanKeyValue(in: table) else { return }
            }
        }
    }

    /// `[a.b]` or `[[a.b]]`; returns the path new keys go under.
    private mutating func scanTableHeader() -> ManifestPath? {
        let isArray = peek(1) == UInt8(ascii: "[")
        advance(isArray ? 2 : 1)
        skipSpaces()
        let start = here
        guard let segments = scanKey() else { return nil }
        skipSpaces()
        guard peek() == UInt8(ascii: "]") else { return nil }
        advance(isArray ? 2 : 1)
        var path = ManifestPath()
        for (offset, segment) in segments.enumerated() {
            path.append(.key(segment))
            let isLast = offset == segments.count - 1
            if isLast && isArray {
                let next = arrayTableCounts[path.description, default: 0]
                arrayTableCounts[path.description] = next + 1
                keys[path.description] = keys[path.description] ?? start
                path.append(.index(next))
                keys[path.description] = start
            } else if let count = arrayTableCounts[path.description] {
                path.append(.index(count - 1))
            }
        }
        if !isArray { keys[path.description] = keys[path.description] ?? start }
        return path
    }

    /// `key = value` under `table`; false if the text is not followed.
    private mutating func scanKeyValue(in table: ManifestPath) -> Bool {
        let keyStart = here
        guard let segments = scanKey() else { return false }
        skipSpaces()
        guard peek() == UInt8(ascii: "=") else { return false }
        advance(1)
        skipSpaces()
        var path = table
        for segment in segments { path.append(.key(segment)) }
        keys[path.description] = keyStart
        return scanValue(at: path)
    }

    /// A dotted key: bare, "basic" and 'literal' segments.
    private mutating func scanKey() -> [String]? {
        var segments: [String] = []
        while true {
            skipSpaces()
            guard let byte = peek() else { return nil }
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                guard let s = scanString() else { return nil }
                segments.append(s)
            } else {
                var bare: [UInt8] = []
                while let b = peek(), isBareKeyByte(b) {
                    bare.append(b)
                    advance(1)
                }
                guard !bare.isEmpty else { return nil }
                segments.append(String(decoding: bare, as: UTF8.self))
            }
            skipSpaces()
            guard peek() == UInt8(ascii: ".") else { return segments }
            advance(1)
        }
    }

    // MARK: - Values

    private mutating func scanValue(at path: ManifestPath) -> Bool {
        values[path.description] = here
        guard let byte = peek() else { return false }
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            return skipString()
        case UInt8(ascii: "["):
            return scanArray(at: path)
        case UInt8(ascii: "{"):
            return scanInlineTable(at: path)
        default:
            while let b = peek(), !isValueTerminator(b) { advance(1) }
            return true
        }
    }

    private mutating func scanArray(at path: ManifestPath) -> Bool {
        advance(1)
        var element = 0
        while true {
            skipBlankAndComments()
            guard let byte = peek() else { return false }
            if byte == UInt8(ascii: "]") {
                advance(1)
                return true
            }
            guard scanValue(at: path.appending(.index(element))) else { return false }
            element += 1
            skipBlankAndComments()
            if peek() == UInt8(ascii: ",") { advance(1) }
        }
    }

    private mutating func scanInlineTable(at path: ManifestPath) -> Bool {
        advance(1)
        while true {
            skipSpaces()
            guard let byte = peek() else { return false }
            if byte == UInt8(ascii: "}") {
                advance(1)
                return true
            }
            guard scanKeyValue(in: path) else { return false }
            skipSpaces()
            if peek() == UInt8(ascii: ",") { advance(1) }
        }
    }

    /// Any of the four TOML string forms; returns its raw content (escapes are not decoded,
    /// which is enough for key paths made of the bare-key alphabet).
    /// Moves past the string at hand (as ``scanString()``) without building its content;
    /// false if it does not close.
    private mutating func skipString() -> Bool {
        scanString(keepingContent: false) != nil
    }

    private mutating func scanString(keepingContent: Bool = true) -> String? {
        let start = here
        let quote = peek()!
        let multiline = peek(1) == quote && peek(2) == quote
        advance(multiline ? 3 : 1)
        var content: [UInt8] = []
        while let byte = peek() {
            if byte == quote && (!multiline || (peek(1) == quote && peek(2) == quote)) {
                if multiline {
                    // Up to two more quotes may belong to the content (`""""` ends with one).
                    var extra = 0
                    while extra < 2 && peek(3 + extra) == quote { extra += 1 }
                    advance(3 + extra)
                } else {
                    advance(1)
                }
                return keepingContent ? String(decoding: content, as: UTF8.self) : ""
            }
            if byte == UInt8(ascii: "\\") && quote == UInt8(ascii: "\"") {
                if isNulEscape() { nulEscapes.append(start) }
                if keepingContent { content.append(byte) }
                advance(1)
                if let next = peek() {
                    if keepingContent { content.append(next) }
                    advance(1)
                }
                continue
            }
            if byte == UInt8(ascii: "\n") && !multiline { return nil }
            if keepingContent { content.append(byte) }
            advance(1)
        }
        return nil
    }

    /// At a backslash: is this `\u0000` or `\U00000000`?
    private func isNulEscape() -> Bool {
        let short = Array("\\u0000".utf8), long = Array("\\U00000000".utf8)
        func matches(_ pattern: [UInt8]) -> Bool {
            guard index + pattern.count <= text.count else { return false }
            return Array(text[index..<index + pattern.count]) == pattern
        }
        return matches(short) || matches(long)
    }

    // MARK: - Nesting pre-scan

    /// Counts open arrays and inline tables plus the segments of the dotted key being read
    /// (`a.b.c = 1` nests as deep as `a = {b = {c = 1}}`).
    private mutating func scanStructure(limit: Int) -> PreScanFinding? {
        var containers: [UInt8] = []
        var inKey = true, inHeader = false
        var keyDots = 0
        var atTokenStart = true
        while let byte = peek() {
            switch byte {
            case UInt8(ascii: "#"):
                while let b = peek(), b != UInt8(ascii: "\n") { advance(1) }
                continue
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                if !skipString() { advance(1) }
                continue
            case UInt8(ascii: "\n"):
                if containers.isEmpty {
                    inKey = true
                    keyDots = 0
                }
            case UInt8(ascii: "="):
                inKey = false
            case UInt8(ascii: "["):
                if containers.isEmpty && inKey && !inHeader {
                    inHeader = true  // a [table] or [[array]] header, not nesting
                    var ahead = peek(1) == UInt8(ascii: "[") ? 2 : 1
                    while peek(ahead) == UInt8(ascii: " ") || peek(ahead) == UInt8(ascii: "\t") { ahead += 1 }
                    guard let first = peek(ahead),
                          isBareKeyByte(first) || first == UInt8(ascii: "\"") || first == UInt8(ascii: "'") else {
                        return .malformedHeader(here)
                    }
                } else if !inHeader {
                    containers.append(byte)
                }
            case UInt8(ascii: "{"):
                containers.append(byte)
                inKey = true
            case UInt8(ascii: "]"):
                if inHeader {
                    if peek(1) != UInt8(ascii: "]") { inHeader = false }
                } else if let open = containers.popLast(), open != UInt8(ascii: "[") {
                    return .mismatchedBracket(here)
                }
            case UInt8(ascii: "}"):
                if let open = containers.popLast(), open != UInt8(ascii: "{") {
                    return .mismatchedBracket(here)
                }
            case UInt8(ascii: ","):
                if containers.last == UInt8(ascii: "{") {
                    inKey = true
                    keyDots = 0
                }
            case UInt8(ascii: "."):
                if inKey { keyDots += 1 }
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if !inKey && !inHeader && atTokenStart && startsDateOrTime() { return .dateOrTime(here) }
            default: break
            }
            switch byte {
            case UInt8(ascii: "="), UInt8(ascii: "["), UInt8(ascii: ","), UInt8(ascii: " "), UInt8(ascii: "\t"),
                 UInt8(ascii: "\n"), UInt8(ascii: "{"):
                atTokenStart = true
            default:
                atTokenStart = false
            }
            if containers.count + keyDots > limit { return .tooDeep(here) }
            advance(1)
        }
        return nil
    }

    /// At a digit: does a date (`dddd-`) or a time (`dd:`) start here?
    private func startsDateOrTime() -> Bool {
        func digit(_ ahead: Int) -> Bool { peek(ahead).map { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } ?? false }
        if digit(0) && digit(1) && peek(2) == UInt8(ascii: ":") { return true }
        return digit(0) && digit(1) && digit(2) && digit(3) && peek(4) == UInt8(ascii: "-")
    }

    // MARK: - Low-level reading

    private var atEnd: Bool { index >= text.count }
    private var here: Position { Position(line: line, column: column) }

    private func peek(_ ahead: Int = 0) -> UInt8? {
        index + ahead < text.count ? text[index + ahead] : nil
    }

    private mutating func advance(_ count: Int) {
        for _ in 0..<count where index < text.count {
            let byte = text[index]
            index += 1
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
    }

    private mutating func skipSpaces() {
        while let b = peek(), b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") { advance(1) }
    }

    private mutating func skipBlankAndComments() {
        while let b = peek() {
            if b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r") {
                advance(1)
            } else if b == UInt8(ascii: "#") {
                while let c = peek(), c != UInt8(ascii: "\n") { advance(1) }
            } else {
                return
            }
        }
    }

    private func isBareKeyByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
    }

    private func isValueTerminator(_ b: UInt8) -> Bool {
        b == UInt8(ascii: ",") || b == UInt8(ascii: "]") || b == UInt8(ascii: "}") || b == UInt8(ascii: "\n")
            || b == UInt8(ascii: "#") || b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\r")
    }
}

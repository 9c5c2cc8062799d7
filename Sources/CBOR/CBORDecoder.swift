import CLibCBOR

/// Limits enforced while decoding untrusted CBOR, before anything is allocated for it.
public struct CBORDecodingLimits: Sendable, Equatable {
    /// The largest input accepted, in bytes.
    public var maxInputBytes: Int
    /// The deepest nesting of arrays, maps and tags accepted.
    public var maxDepth: Int
    /// The most data items (of any kind, counted as headers are read) accepted.
    public var maxItems: Int

    public init(maxInputBytes: Int = 16 << 20, maxDepth: Int = 32, maxItems: Int = 1 << 20) {
        self.maxInputBytes = maxInputBytes
        self.maxDepth = maxDepth
        self.maxItems = maxItems
    }

    /// 16 MiB, depth 32, a million items.
    public static let `default` = CBORDecodingLimits()
}

/// Why untrusted bytes were refused. Offsets count from the start of the input.
public enum CBORDecodingError: Error, Equatable, CustomStringConvertible {
    case empty
    case inputTooLarge(size: Int, limit: Int)
    case truncated(offset: Int)
    case malformed(offset: Int)
    case lengthExceedsInput(offset: Int, declared: UInt64, remaining: Int)
    case tooDeep(offset: Int, limit: Int)
    case tooManyItems(offset: Int, limit: Int)
    case invalidUTF8(offset: Int)
    case duplicateMapKey(offset: Int)
    case unsupported(offset: Int, what: String)
    case trailingBytes(offset: Int)
    case notCanonical(offset: Int, reason: String)

    public var description: String {
        switch self {
        case .empty: return "CBOR: empty input"
        case let .inputTooLarge(size, limit): return "CBOR: input of \(size) bytes exceeds the limit of \(limit) bytes"
        case let .truncated(offset): return "CBOR: input ends inside the item at offset \(offset)"
        case let .malformed(offset): return "CBOR: malformed item at offset \(offset)"
        case let .lengthExceedsInput(offset, declared, remaining):
            return "CBOR: item at offset \(offset) declares \(declared) elements/bytes but only \(remaining) bytes remain"
        case let .tooDeep(offset, limit): return "CBOR: nesting deeper than \(limit) at offset \(offset)"
        case let .tooManyItems(offset, limit): return "CBOR: more than \(limit) items (at offset \(offset))"
        case let .invalidUTF8(offset): return "CBOR: text string at offset \(offset) is not valid UTF-8"
        case let .duplicateMapKey(offset): return "CBOR: duplicate map key at offset \(offset)"
        case let .unsupported(offset, what): return "CBOR: unsupported \(what) at offset \(offset)"
        case let .trailingBytes(offset): return "CBOR: unexpected bytes after the item, at offset \(offset)"
        case let .notCanonical(offset, reason): return "CBOR: not in deterministic encoding at offset \(offset): \(reason)"
        }
    }
}

/// Decodes one CBOR item from untrusted bytes.
///
/// libcbor's streaming decoder (`cbor_stream_decode`) reads one header at a time and never
/// allocates; this type builds the value itself, checking every declared length against the
/// bytes that remain, the nesting depth and the item count *before* reserving memory. It never
/// calls `cbor_load`, which in libcbor 0.8 allocates whatever a short header claims (upstream
/// issue 418). With `requireCanonical`, anything but RFC 8949 §4.2.1 deterministic encoding is
/// refused (non-shortest heads, indefinite lengths, unsorted map keys, over-wide floats).
public enum CBORDecoder {
    /// Decodes exactly one item filling all of `bytes`.
    public static func decode(
        _ bytes: [UInt8], limits: CBORDecodingLimits = .default, requireCanonical: Bool = false
    ) throws -> CBOR {
        guard !bytes.isEmpty else { throw CBORDecodingError.empty }
        guard bytes.count <= limits.maxInputBytes else {
            throw CBORDecodingError.inputTooLarge(size: bytes.count, limit: limits.maxInputBytes)
        }
        return try bytes.withUnsafeBufferPointer { buffer in
            var builder = TreeBuilder(input: buffer, limits: limits, canonical: requireCanonical)
            return try builder.run()
        }
    }
}

// MARK: - The event source: one libcbor header at a time

/// One header as libcbor reported it, with the byte span it covered.
enum StreamEvent {
    case unsigned(UInt64)
    case negative(UInt64)
    case bytes(UnsafeBufferPointer<UInt8>)
    case text(UnsafeBufferPointer<UInt8>)
    case indefiniteBytes
    case indefiniteText
    case arrayStart(UInt64)
    case indefiniteArray
    case mapStart(UInt64)
    case indefiniteMap
    case tag(UInt64)
    case float(Double, width: Int)
    case bool(Bool)
    case null
    case undefined
    case breakMarker
}

/// Receives libcbor's callbacks for a single `cbor_stream_decode` call.
private final class EventSink {
    var event: StreamEvent?
}

private func sink(_ context: UnsafeMutableRawPointer?) -> EventSink {
    Unmanaged<EventSink>.fromOpaque(context!).takeUnretainedValue()
}

private let eventCallbacks: cbor_callbacks = {
    var c = cbor_empty_callbacks
    c.uint8 = { ctx, v in sink(ctx).event = .unsigned(UInt64(v)) }
    c.uint16 = { ctx, v in sink(ctx).event = .unsigned(UInt64(v)) }
    c.uint32 = { ctx, v in sink(ctx).event = .unsigned(UInt64(v)) }
    c.uint64 = { ctx, v in sink(ctx).event = .unsigned(v) }
    c.negint8 = { ctx, v in sink(ctx).event = .negative(UInt64(v)) }
    c.negint16 = { ctx, v in sink(ctx).event = .negative(UInt64(v)) }
    c.negint32 = { ctx, v in sink(ctx).event = .negative(UInt64(v)) }
    c.negint64 = { ctx, v in sink(ctx).event = .negative(v) }
    c.byte_string = { ctx, data, length in
        sink(ctx).event = .bytes(UnsafeBufferPointer(start: data, count: length))
    }
    c.byte_string_start = { ctx in sink(ctx).event = .indefiniteBytes }
    c.string = { ctx, data, length in
        sink(ctx).event = .text(UnsafeBufferPointer(start: data, count: length))
    }
    c.string_start = { ctx in sink(ctx).event = .indefiniteText }
    c.array_start = { ctx, size in sink(ctx).event = .arrayStart(UInt64(UInt(bitPattern: size))) }
    c.indef_array_start = { ctx in sink(ctx).event = .indefiniteArray }
    c.map_start = { ctx, size in sink(ctx).event = .mapStart(UInt64(UInt(bitPattern: size))) }
    c.indef_map_start = { ctx in sink(ctx).event = .indefiniteMap }
    c.tag = { ctx, v in sink(ctx).event = .tag(v) }
    c.float2 = { ctx, v in sink(ctx).event = .float(Double(v), width: 2) }
    c.float4 = { ctx, v in sink(ctx).event = .float(Double(v), width: 4) }
    c.float8 = { ctx, v in sink(ctx).event = .float(v, width: 8) }
    c.boolean = { ctx, v in sink(ctx).event = .bool(v) }
    c.null = { ctx in sink(ctx).event = .null }
    c.undefined = { ctx in sink(ctx).event = .undefined }
    c.indef_break = { ctx in sink(ctx).event = .breakMarker }
    return c
}()

// MARK: - Building the tree without recursion

/// Turns the event stream into a `CBOR` value with an explicit stack, enforcing the limits.
private struct TreeBuilder {
    let input: UnsafeBufferPointer<UInt8>
    let limits: CBORDecodingLimits
    let canonical: Bool
    var stack: [Frame] = []
    var offset = 0
    var items = 0

    /// An open container waiting for its children.
    enum Frame {
        case array(remaining: Int?, items: [CBOR])
        case map(remaining: Int?, entries: [CBOR.Entry], pendingKey: CBOR?, keySpan: KeySpans)
        case tag(UInt64)
        case chunks(text: Bool, bytes: [UInt8], start: Int)
    }

    /// Byte spans of map keys, for the canonical order and duplicate checks.
    struct KeySpans {
        var currentStart: Int?
        var previous: Range<Int>?
        /// Deterministic encodings of the keys so far: equal keys (including every NaN, and
        /// integers written in different widths) collide here.
        var seen: Set<[UInt8]> = []
    }

    init(input: UnsafeBufferPointer<UInt8>, limits: CBORDecodingLimits, canonical: Bool) {
        self.input = input
        self.limits = limits
        self.canonical = canonical
    }

    mutating func run() throws -> CBOR {
        let sink = EventSink()
        var callbacks = eventCallbacks
        return try withExtendedLifetime(sink) {
            let context = Unmanaged.passUnretained(sink).toOpaque()
            while offset < input.count {
                let start = offset
                markKeyStart(at: start)
                let (event, headLength) = try nextEvent(at: start, sink: sink, callbacks: &callbacks, context: context)
                offset = start + headLength
                items += 1
                guard items <= limits.maxItems else {
                    throw CBORDecodingError.tooManyItems(offset: start, limit: limits.maxItems)
                }
                if let value = try handle(event, start: start, headLength: headLength) {
                    if let finished = try attach(value, start: start) {
                        guard offset == input.count else { throw CBORDecodingError.trailingBytes(offset: offset) }
                        return finished
                    }
                }
            }
            throw CBORDecodingError.truncated(offset: offset)
        }
    }

    /// Reads the header at `start` through libcbor. Tag heads are read here instead: libcbor
    /// 0.8's streaming decoder rejects tags 6–20 as "unassigned", and COSE_Sign1 is tag 18.
    private func nextEvent(
        at start: Int, sink: EventSink, callbacks: inout cbor_callbacks, context: UnsafeMutableRawPointer
    ) throws -> (StreamEvent, Int) {
        if input[start] >> 5 == 6 {
            let (tag, length) = try readTagHead(at: start)
            return (.tag(tag), length)
        }
        sink.event = nil
        let result = cbor_stream_decode(input.baseAddress! + start, input.count - start, &callbacks, context)
        switch result.status {
        case CBOR_DECODER_FINISHED: break
        case CBOR_DECODER_NEDATA: throw CBORDecodingError.truncated(offset: start)
        default: throw CBORDecodingError.malformed(offset: start)
        }
        guard let event = sink.event, result.read > 0 else {
            throw CBORDecodingError.unsupported(offset: start, what: "simple value")
        }
        return (event, result.read)
    }

    /// Decodes a major-type-6 head: the tag number and the head's length.
    private func readTagHead(at start: Int) throws -> (UInt64, Int) {
        let info = Int(input[start] & 0x1F)
        let width: Int
        switch info {
        case 0..<24: return (UInt64(info), 1)
        case 24: width = 1
        case 25: width = 2
        case 26: width = 4
        case 27: width = 8
        default: throw CBORDecodingError.malformed(offset: start)
        }
        guard input.count - start - 1 >= width else { throw CBORDecodingError.truncated(offset: start) }
        var value: UInt64 = 0
        for index in 1...width { value = value << 8 | UInt64(input[start + index]) }
        return (value, 1 + width)
    }

    /// Records where a map key begins, when the innermost open map is waiting for one.
    private mutating func markKeyStart(at position: Int) {
        guard case .map(let remaining, let entries, nil, var spans) = stack.last,
              spans.currentStart == nil else { return }
        spans.currentStart = position
        stack[stack.count - 1] = .map(remaining: remaining, entries: entries, pendingKey: nil, keySpan: spans)
    }

    /// Handles one event: returns a finished leaf value, or opens a frame and returns nil.
    private mutating func handle(_ event: StreamEvent, start: Int, headLength: Int) throws -> CBOR? {
        let remainingBytes = input.count - offset
        switch event {
        case let .unsigned(n):
            try checkShortest(n, headLength: headLength, at: start)
            return .unsigned(n)
        case let .negative(n):
            try checkShortest(n, headLength: headLength, at: start)
            return .negative(n)
        case let .bytes(data):
            try checkShortest(UInt64(data.count), headLength: headLength - data.count, at: start)
            return try appendChunk(Array(data), text: false, at: start)
        case let .text(data):
            try checkShortest(UInt64(data.count), headLength: headLength - data.count, at: start)
            return try appendChunk(Array(data), text: true, at: start)
        case .indefiniteBytes, .indefiniteText:
            try refuseIfCanonical("indefinite-length string", at: start)
            if case .chunks = stack.last { throw CBORDecodingError.malformed(offset: start) }
            try push(.chunks(text: { if case .indefiniteText = event { return true }; return false }(), bytes: [], start: start), at: start)
            return nil
        case let .arrayStart(declared):
            try checkShortest(declared, headLength: headLength, at: start)
            guard declared <= UInt64(remainingBytes) else {
                throw CBORDecodingError.lengthExceedsInput(offset: start, declared: declared, remaining: remainingBytes)
            }
            let count = Int(declared)
            if count == 0 { return .array([]) }
            var items: [CBOR] = []
            items.reserveCapacity(count)
            try push(.array(remaining: count, items: items), at: start)
            return nil
        case .indefiniteArray:
            try refuseIfCanonical("indefinite-length array", at: start)
            try push(.array(remaining: nil, items: []), at: start)
            return nil
        case let .mapStart(declared):
            try checkShortest(declared, headLength: headLength, at: start)
            guard declared <= UInt64(remainingBytes / 2) else {
                throw CBORDecodingError.lengthExceedsInput(offset: start, declared: declared, remaining: remainingBytes)
            }
            let count = Int(declared)
            if count == 0 { return .map([]) }
            var entries: [CBOR.Entry] = []
            entries.reserveCapacity(count)
            try push(.map(remaining: count, entries: entries, pendingKey: nil, keySpan: KeySpans()), at: start)
            return nil
        case .indefiniteMap:
            try refuseIfCanonical("indefinite-length map", at: start)
            try push(.map(remaining: nil, entries: [], pendingKey: nil, keySpan: KeySpans()), at: start)
            return nil
        case let .tag(tag):
            try checkShortest(tag, headLength: headLength, at: start)
            try push(.tag(tag), at: start)
            return nil
        case let .float(value, width):
            try checkFloatWidth(value, width: width, at: start)
            return .float(value)
        case let .bool(b): return .bool(b)
        case .null: return .null
        case .undefined: return .undefined
        case .breakMarker:
            return try closeIndefinite(at: start)
        }
    }

    /// Adds a finished value to the innermost frame; returns the root once it is complete.
    private mutating func attach(_ value: CBOR, start: Int) throws -> CBOR? {
        var value = value
        while let frame = stack.popLast() {
            switch frame {
            case let .tag(tag):
                value = .tagged(tag, value)
                continue
            case .array(let remaining, var items):
                items.append(value)
                if let left = remaining {
                    if left > 1 {
                        stack.append(.array(remaining: left - 1, items: items))
                        return nil
                    }
                    value = .array(items)
                    continue
                }
                stack.append(.array(remaining: nil, items: items))
                return nil
            case .map(let remaining, var entries, let pendingKey, var spans):
                guard let key = pendingKey else {
                    try admitKey(value, spans: &spans, end: offset)
                    stack.append(.map(remaining: remaining, entries: entries, pendingKey: value, keySpan: spans))
                    return nil
                }
                entries.append(CBOR.Entry(key, value))
                if let left = remaining {
                    if left > 1 {
                        stack.append(.map(remaining: left - 1, entries: entries, pendingKey: nil, keySpan: spans))
                        return nil
                    }
                    value = .map(entries)
                    continue
                }
                stack.append(.map(remaining: nil, entries: entries, pendingKey: nil, keySpan: spans))
                return nil
            case .chunks:
                throw CBORDecodingError.malformed(offset: start)
            }
        }
        return value
    }

    /// Checks a completed map key: no duplicates, and in canonical mode strictly ascending bytes.
    private func admitKey(_ key: CBOR, spans: inout KeySpans, end: Int) throws {
        let start = spans.currentStart ?? end
        guard spans.seen.insert(key.encoded()).inserted else { throw CBORDecodingError.duplicateMapKey(offset: start) }
        let span = start..<end
        if canonical, let previous = spans.previous {
            let ordered = UnsafeBufferPointer(rebasing: input[previous])
                .lexicographicallyPrecedes(UnsafeBufferPointer(rebasing: input[span]))
            guard ordered else {
                throw CBORDecodingError.notCanonical(offset: start, reason: "map keys not in bytewise order")
            }
        }
        spans.previous = span
        spans.currentStart = nil
    }

    /// A definite string: a leaf, or a chunk of an open indefinite string.
    private mutating func appendChunk(_ data: [UInt8], text: Bool, at start: Int) throws -> CBOR? {
        if case .chunks(let isText, var bytes, let chunkStart) = stack.last {
            guard isText == text else { throw CBORDecodingError.malformed(offset: start) }
            bytes.append(contentsOf: data)
            stack[stack.count - 1] = .chunks(text: isText, bytes: bytes, start: chunkStart)
            return nil
        }
        return try makeString(data, text: text, at: start)
    }

    private func makeString(_ data: [UInt8], text: Bool, at start: Int) throws -> CBOR {
        guard text else { return .bytes(data) }
        guard let string = String(validating: data, as: UTF8.self) else {
            throw CBORDecodingError.invalidUTF8(offset: start)
        }
        return .text(string)
    }

    /// A "break": closes the innermost indefinite container.
    private mutating func closeIndefinite(at start: Int) throws -> CBOR? {
        switch stack.popLast() {
        case let .array(nil, items)?: return .array(items)
        case let .map(nil, entries, nil, _)?: return .map(entries)
        case let .chunks(text, bytes, chunkStart)?: return try makeString(bytes, text: text, at: chunkStart)
        default: throw CBORDecodingError.malformed(offset: start)
        }
    }

    private mutating func push(_ frame: Frame, at start: Int) throws {
        guard stack.count < limits.maxDepth else { throw CBORDecodingError.tooDeep(offset: start, limit: limits.maxDepth) }
        stack.append(frame)
    }

    private func checkShortest(_ argument: UInt64, headLength: Int, at start: Int) throws {
        guard canonical, headLength != CBOR.shortestHeadLength(argument) else { return }
        throw CBORDecodingError.notCanonical(offset: start, reason: "integer, length or tag not in shortest form")
    }

    private func checkFloatWidth(_ value: Double, width: Int, at start: Int) throws {
        guard canonical else { return }
        let expected = CBOR.float(value).encoded().count - 1
        guard expected == width else {
            throw CBORDecodingError.notCanonical(offset: start, reason: "float not in shortest exact width")
        }
    }

    private func refuseIfCanonical(_ what: String, at start: Int) throws {
        if canonical { throw CBORDecodingError.notCanonical(offset: start, reason: what) }
    }
}

/// Writes the sandbox's ceilings into a module before any engine sees it.
///
/// The memory limit is enforced the way the Wasm specification enforces any declared maximum:
/// the memory section's maximum is lowered to the ceiling, so `memory.grow` past it returns -1
/// in every engine, with no engine-specific hook. Table maxima get the same treatment. A module
/// whose *initial* memory or table already exceeds the ceiling is refused. Every other section is
/// copied byte for byte. The module has parsed (``ModuleSummary``) before this runs; this code
/// still checks every length it reads.
enum ModuleRewriter {
    /// Section ids of the binary format.
    private enum SectionID {
        static let table: UInt8 = 4
        static let memory: UInt8 = 5
        static let start: UInt8 = 8
    }

    /// The most table elements any table may have.
    static let maxTableElements: UInt64 = 1 << 20

    /// Returns `binary` with memory and table maxima lowered to the ceilings; with
    /// `dropStart`, also without its start section (for validating without running code).
    static func apply(to binary: [UInt8], memoryPages: UInt64, module: String,
                      dropStart: Bool = false) throws(SandboxError) -> [UInt8] {
        var reader = ByteReader(bytes: binary, module: module)
        var out = Array(binary.prefix(8))
        reader.offset = 8
        while !reader.atEnd {
            let id = try reader.byte()
            let size = Int(try reader.leb())
            let content = try reader.take(size)
            switch id {
            case SectionID.memory:
                append(section: id, content: try clampMemories(content, pages: memoryPages, module: module), to: &out)
            case SectionID.table:
                append(section: id, content: try clampTables(content, module: module), to: &out)
            case SectionID.start where dropStart:
                continue
            default:
                out.append(id)
                appendLEB(UInt64(size), to: &out)
                out.append(contentsOf: content)
            }
        }
        return out
    }

    private static func clampMemories(_ content: ArraySlice<UInt8>, pages: UInt64, module: String) throws(SandboxError) -> [UInt8] {
        var reader = ByteReader(bytes: Array(content), module: module)
        let count = try reader.leb()
        guard count <= 1 else { throw .unsupportedFeature(module: module, feature: "several memories") }
        var out: [UInt8] = []
        appendLEB(count, to: &out)
        if count == 1 {
            let (minimum, maximum) = try readLimits(&reader, what: "memory")
            guard minimum <= pages else {
                throw .initialMemoryTooLarge(module: module, bytes: minimum &* WasmPage.size, limit: pages * WasmPage.size)
            }
            appendLimits(minimum: minimum, maximum: Swift.min(maximum ?? pages, pages), to: &out)
        }
        guard reader.atEnd else { throw .malformed(module: module, reason: "trailing bytes in the memory section") }
        return out
    }

    private static func clampTables(_ content: ArraySlice<UInt8>, module: String) throws(SandboxError) -> [UInt8] {
        var reader = ByteReader(bytes: Array(content), module: module)
        let count = try reader.leb()
        var out: [UInt8] = []
        appendLEB(count, to: &out)
        for _ in 0..<count {
            let elementType = try reader.byte()
            // funcref and externref only: typed references (0x63/0x64) and the initializer form
            // (0x40) belong to proposals the engine does not enable.
            guard elementType == 0x70 || elementType == 0x6F else {
                throw .unsupportedFeature(module: module, feature: "table element type 0x\(String(elementType, radix: 16))")
            }
            let (minimum, maximum) = try readLimits(&reader, what: "table")
            guard minimum <= maxTableElements else {
                throw .initialTableTooLarge(module: module, elements: minimum, limit: maxTableElements)
            }
            out.append(elementType)
            appendLimits(minimum: minimum, maximum: Swift.min(maximum ?? maxTableElements, maxTableElements), to: &out)
        }
        guard reader.atEnd else { throw .malformed(module: module, reason: "trailing bytes in the table section") }
        return out
    }

    /// Reads `limits`: flag 0 (minimum) or 1 (minimum and maximum); shared and 64-bit forms are
    /// refused.
    private static func readLimits(_ reader: inout ByteReader, what: String) throws(SandboxError) -> (UInt64, UInt64?) {
        let flags = try reader.byte()
        switch flags {
        case 0x00: return (try reader.leb(), nil)
        case 0x01: return (try reader.leb(), try reader.leb())
        default:
            let feature = flags & 0x02 != 0 ? "shared \(what)" : (flags & 0x04 != 0 ? "64-bit \(what)" : "\(what) limits flag \(flags)")
            throw .unsupportedFeature(module: reader.module, feature: feature)
        }
    }

    private static func appendLimits(minimum: UInt64, maximum: UInt64, to out: inout [UInt8]) {
        out.append(0x01)
        appendLEB(minimum, to: &out)
        appendLEB(maximum, to: &out)  // below the minimum only if the module was invalid already
    }

    private static func append(section id: UInt8, content: [UInt8], to out: inout [UInt8]) {
        out.append(id)
        appendLEB(UInt64(content.count), to: &out)
        out.append(contentsOf: content)
    }

    private static func appendLEB(_ value: UInt64, to out: inout [UInt8]) {
        var value = value
        repeat {
            var byte = UInt8(value & 0x7F)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            out.append(byte)
        } while value != 0
    }
}

/// Reads bytes and unsigned LEB128 numbers, throwing on anything that runs past the end.
private struct ByteReader {
    let bytes: [UInt8]
    let module: String
    var offset = 0

    init(bytes: [UInt8], module: String) {
        self.bytes = bytes
        self.module = module
    }

    var atEnd: Bool { offset >= bytes.count }

    mutating func byte() throws(SandboxError) -> UInt8 {
        guard offset < bytes.count else { throw truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func take(_ count: Int) throws(SandboxError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= bytes.count - offset else { throw truncated }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    /// An unsigned LEB128 of at most 10 bytes (values above 2^32 are left to the engine's
    /// validation, which refuses them for wasm32).
    mutating func leb() throws(SandboxError) -> UInt64 {
        var result: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            let next = try byte()
            result |= UInt64(next & 0x7F) << UInt64(shift)
            if next & 0x80 == 0 { return result }
        }
        throw SandboxError.malformed(module: module, reason: "LEB128 number longer than 10 bytes at offset \(offset)")
    }

    private var truncated: SandboxError {
        .malformed(module: module, reason: "section runs past the end of the module at offset \(offset)")
    }
}

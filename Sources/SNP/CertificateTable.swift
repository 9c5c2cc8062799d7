/// The SEV-SNP certificate table (GHCB spec, "SNP Extended Guest Request"; go-sev-guest
/// `abi.CertTable`): the certificates the host supplies with an extended report, as a list of
/// `{GUID (16 bytes), offset (u32 LE), length (u32 LE)}` entries ended by an all-zero entry,
/// followed by the certificate bytes. Offsets count from the start of the table. The configfs-tsm
/// `auxblob` has the same format.
public struct CertificateTable: Sendable, Equatable {
    /// Which certificate an entry holds, by its GUID (bytes in the order the string is written).
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case vcek, vlek, ask, ark, crl

        /// The GUID as it appears in the table.
        public var guid: [UInt8] {
            switch self {
            case .vcek: return [0x63, 0xDA, 0x75, 0x8D, 0xE6, 0x64, 0x45, 0x64, 0xAD, 0xC5, 0xF4, 0xB9, 0x3B, 0xE8, 0xAC, 0xCD]
            case .vlek: return [0xA8, 0x07, 0x4B, 0xC2, 0xA2, 0x5A, 0x48, 0x3E, 0xAA, 0xE6, 0x39, 0xC0, 0x45, 0xA0, 0xB8, 0xA1]
            case .ask: return [0x4A, 0xB7, 0xB3, 0x79, 0xBB, 0xAC, 0x4F, 0xE4, 0xA0, 0x2F, 0x05, 0xAE, 0xF3, 0x27, 0xC7, 0x82]
            case .ark: return [0xC0, 0xB4, 0x06, 0xA4, 0xA8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3F, 0xB6, 0x01, 0x4C, 0xD0, 0xAE]
            case .crl: return [0x92, 0xF8, 0x1B, 0xC3, 0x58, 0x11, 0x4D, 0x3D, 0x97, 0xFF, 0xD1, 0x9F, 0x88, 0xDC, 0x67, 0xEA]
            }
        }

        init?(guid: ArraySlice<UInt8>) {
            guard let kind = Kind.allCases.first(where: { $0.guid.elementsEqual(guid) }) else { return nil }
            self = kind
        }
    }

    /// One certificate: its kind (nil for a GUID twocvm does not know) and bytes.
    public struct Entry: Sendable, Equatable {
        public let guid: [UInt8]
        public let kind: Kind?
        public let bytes: [UInt8]

        public init(kind: Kind, bytes: [UInt8]) {
            self.guid = kind.guid
            self.kind = kind
            self.bytes = bytes
        }

        init(guid: [UInt8], bytes: [UInt8]) {
            self.guid = guid
            self.kind = Kind(guid: guid[...])
            self.bytes = bytes
        }
    }

    static let entrySize = 24
    /// At most this many entries are read.
    static let maxEntries = 64

    public let entries: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries
    }

    /// The bytes of the first certificate of `kind`.
    public subscript(kind: Kind) -> [UInt8]? { entries.first { $0.kind == kind }?.bytes }

    /// Parses a table from untrusted bytes (an all-zero or empty buffer is an empty table).
    public static func parse(_ bytes: [UInt8]) throws(GuestDeviceError) -> CertificateTable {
        var entries: [Entry] = []
        var position = 0
        while true {
            guard position + entrySize <= bytes.count else {
                if bytes.count == 0 { return CertificateTable(entries: []) }
                throw .malformedCertificateTable("entry \(entries.count) runs past the end of the table")
            }
            let guid = Array(bytes[position..<position + 16])
            let offset = Int(LittleEndian.read(bytes, at: position + 16, size: 4))
            let length = Int(LittleEndian.read(bytes, at: position + 20, size: 4))
            if guid.allSatisfy({ $0 == 0 }) {
                guard offset == 0 && length == 0 else {
                    throw .malformedCertificateTable("terminating entry has a non-zero offset or length")
                }
                return CertificateTable(entries: entries)
            }
            guard entries.count < maxEntries else { throw .malformedCertificateTable("more than \(maxEntries) entries") }
            guard offset <= bytes.count, length <= bytes.count - offset else {
                throw .malformedCertificateTable("entry \(entries.count) points outside the table (offset \(offset), length \(length))")
            }
            entries.append(Entry(guid: guid, bytes: Array(bytes[offset..<offset + length])))
            position += entrySize
        }
    }

    /// The table's bytes: headers, a zero terminator, then each certificate in order.
    public func serialized() -> [UInt8] {
        var headers: [UInt8] = []
        var body: [UInt8] = []
        let start = (entries.count + 1) * Self.entrySize
        for entry in entries {
            headers += entry.guid
            headers += LittleEndian.bytes(UInt64(start + body.count), size: 4)
            headers += LittleEndian.bytes(UInt64(entry.bytes.count), size: 4)
            body += entry.bytes
        }
        return headers + [UInt8](repeating: 0, count: Self.entrySize) + body
    }
}

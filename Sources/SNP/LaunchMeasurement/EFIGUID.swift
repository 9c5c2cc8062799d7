// EFI GUIDs as firmware tables store them: the first three fields little-endian, the last
// eight bytes as written (UEFI specification, EFI_GUID; Python's `uuid.UUID.bytes_le`).

/// A GUID in its 16-byte EFI encoding, as found in OVMF's footer table and the SEV hashes
/// table.
public struct EFIGUID: Sendable, Hashable, CustomStringConvertible {
    /// The 16 bytes in EFI (mixed-endian) order.
    public let bytes: [UInt8]

    /// Wraps 16 bytes read from a firmware table.
    init(efiBytes: some Collection<UInt8>) {
        precondition(efiBytes.count == 16)
        bytes = Array(efiBytes)
    }

    /// Encodes a canonical `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` string. Only used for the
    /// constants below, so a malformed string is a programming error.
    init(_ text: StaticString) {
        let digits = text.description.utf8.filter { $0 != UInt8(ascii: "-") }.map { digit -> UInt8 in
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
            default: preconditionFailure("not a lowercase GUID: \(text)")
            }
        }
        precondition(digits.count == 32, "not a GUID: \(text)")
        let canonical = (0..<16).map { digits[2 * $0] << 4 | digits[2 * $0 + 1] }
        // Data1 (4 bytes), Data2 and Data3 (2 bytes each) are stored little-endian.
        bytes = canonical[0..<4].reversed() + canonical[4..<6].reversed() + canonical[6..<8].reversed()
            + canonical[8..<16]
    }

    /// The canonical lowercase string form.
    public var description: String {
        let canonical = bytes[0..<4].reversed() + bytes[4..<6].reversed() + bytes[6..<8].reversed() + bytes[8..<16]
        let hex = canonical.map { String($0, radix: 16).leftPadded(to: 2) }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]]
            .map { $0.joined() }.joined(separator: "-")
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

import Foundation

/// Splits PEM text into the DER bytes of its `CERTIFICATE` blocks (RFC 7468), strictly: every
/// block must be a certificate with valid base64, text outside blocks is ignored.
enum PEMBlocks {
    private static let beginMarker = Array("-----BEGIN ".utf8)

    /// True if the bytes contain a PEM begin line (so they are not DER).
    static func looksLikePEM(_ bytes: [UInt8]) -> Bool {
        firstIndex(of: beginMarker, in: bytes[...]) != nil
    }

    /// The decoded DER of each `CERTIFICATE` block, in order.
    static func decode(_ bytes: [UInt8], source: String, limit: Int) throws(CertificateError) -> [[UInt8]] {
        let text = String(decoding: bytes, as: UTF8.self)
        var blocks: [[UInt8]] = []
        var label: String? = nil
        var body = ""
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if label == nil {
                guard line.hasPrefix("-----BEGIN "), line.hasSuffix("-----") else { continue }
                let name = String(line.dropFirst(11).dropLast(5))
                guard name == "CERTIFICATE" else { throw .notACertificateBlock(source: source, label: name) }
                label = name
                body = ""
            } else if line.hasPrefix("-----END ") {
                guard line == "-----END \(label ?? "")-----" else {
                    throw .malformed(source: source, reason: "PEM block \(blocks.count + 1) ends with \"\(line)\"")
                }
                guard let der = Data(base64Encoded: body), !der.isEmpty else {
                    throw .malformed(source: source, reason: "PEM block \(blocks.count + 1) is not valid base64")
                }
                guard blocks.count < limit else { throw .tooMany(source: source, limit: limit) }
                blocks.append(Array(der))
                label = nil
            } else {
                body += line
            }
        }
        guard label == nil else {
            throw .malformed(source: source, reason: "PEM block \(blocks.count + 1) has no END line")
        }
        guard !blocks.isEmpty else { throw .malformed(source: source, reason: "no PEM CERTIFICATE block") }
        return blocks
    }

    private static func firstIndex(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var index = haystack.startIndex
        while index + needle.count <= haystack.endIndex {
            if haystack[index] == needle[0], haystack[index..<(index + needle.count)].elementsEqual(needle) {
                return index
            }
            index += 1
        }
        return nil
    }
}

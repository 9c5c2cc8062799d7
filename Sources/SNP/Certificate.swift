import COpenSSL
import Crypto
import Foundation
import Hexadecimal

/// An X.509 certificate of the AMD hierarchy (ARK, ASK/ASVK, VCEK/VLEK), parsed once by OpenSSL
/// and kept with its exact DER bytes, which signatures and fingerprints are computed over.
///
/// Immutable after construction; the OpenSSL object is only read, so instances are shared freely
/// between threads.
public final class Certificate: @unchecked Sendable, Hashable, CustomStringConvertible {
    /// The certificate's DER encoding, exactly as read.
    public let der: [UInt8]
    /// The subject's common name (`ARK-Milan`, `SEV-Milan`, `SEV-VCEK`, …).
    public let subjectCommonName: String
    /// The issuer's common name.
    public let issuerCommonName: String
    /// The serial number as `0x` and lower-case hex (`0x0` for a VCEK).
    public let serial: String
    /// Start of the validity period.
    public let notBefore: Date
    /// End of the validity period.
    public let notAfter: Date
    /// SHA-256 of `der`: what AMD roots are pinned by.
    public let fingerprint: [UInt8]
    /// The signature algorithm's OpenSSL long name (`rsassaPss` for AMD certificates).
    public let signatureAlgorithm: String
    /// The hash the signature algorithm declares (`SHA384` for AMD certificates), if any.
    public let signatureHash: String?

    let x509: OpaquePointer
    /// The exact bytes of the signed part (tbsCertificate) and the signature value.
    let tbs: ArraySlice<UInt8>
    let signatureValue: [UInt8]
    /// Whether the outer signatureAlgorithm is byte-identical to the signed tbsCertificate's
    /// signature field (RFC 5280 §4.1.1.2); the outer one is not covered by the signature.
    let algorithmsAgree: Bool

    /// Parses one DER certificate; `source` names the file in errors.
    public init(der: [UInt8], source: String = "certificate") throws(CertificateError) {
        guard !der.isEmpty else { throw .empty(source: source) }
        // Slice the signed part from the exact input bytes first: the signature must cover what
        // was received, never OpenSSL's re-encoding of it.
        let parts: (tbs: Range<Int>, signature: [UInt8], algorithmsAgree: Bool)
        do {
            parts = try Self.split(der)
        } catch {
            throw .malformed(source: source, reason: error.description)
        }
        var cursor: UnsafePointer<UInt8>? = nil
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            cursor = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
        guard let x509 = parsed else {
            throw .malformed(source: source, reason: OpenSSLError.drain(default: "OpenSSL cannot parse it"))
        }
        guard let notBefore = Self.date(X509_get0_notBefore(x509)),
              let notAfter = Self.date(X509_get0_notAfter(x509)) else {
            X509_free(x509)
            throw .malformed(source: source, reason: "validity dates cannot be read")
        }
        let nid = X509_get_signature_nid(x509)
        var hashNID: Int32 = 0, keyNID: Int32 = 0, securityBits: Int32 = 0
        var flags: UInt32 = 0
        let hasInfo = X509_get_signature_info(x509, &hashNID, &keyNID, &securityBits, &flags) == 1
        ERR_clear_error()
        // Nothing throws below: every property is set, and deinit frees `x509`.
        self.x509 = x509
        self.der = der
        self.tbs = der[parts.tbs]
        self.signatureValue = parts.signature
        self.algorithmsAgree = parts.algorithmsAgree
        self.fingerprint = Array(SHA256.hash(data: der))
        self.subjectCommonName = Self.commonName(X509_get_subject_name(x509)) ?? ""
        self.issuerCommonName = Self.commonName(X509_get_issuer_name(x509)) ?? ""
        self.serial = Self.serialHex(x509)
        self.signatureAlgorithm = OBJ_nid2ln(nid).map { String(cString: $0) } ?? "unknown"
        self.signatureHash = hasInfo && hashNID != NID_undef ? OBJ_nid2sn(hashNID).map { String(cString: $0) } : nil
        self.notBefore = notBefore
        self.notAfter = notAfter
    }

    deinit { X509_free(x509) }

    /// Loads every certificate in a file: one DER certificate, or PEM text with one or more
    /// `CERTIFICATE` blocks (a bundle such as AMD's `cert_chain`). At most `limit` certificates.
    public static func load(_ bytes: [UInt8], source: String, limit: Int = 16) throws(CertificateError) -> [Certificate] {
        guard !bytes.isEmpty else { throw .empty(source: source) }
        guard PEMBlocks.looksLikePEM(bytes) else {
            return [try Certificate(der: bytes, source: source)]
        }
        let blocks = try PEMBlocks.decode(bytes, source: source, limit: limit)
        var certificates: [Certificate] = []
        for (index, block) in blocks.enumerated() {
            certificates.append(try Certificate(der: block, source: "\(source) (certificate \(index + 1))"))
        }
        return certificates
    }

    /// One PEM `CERTIFICATE` block for `der`: the form in which several certificates can be
    /// concatenated into one chain file that `load` reads back.
    public static func pem(der: [UInt8]) -> [UInt8] {
        let base64 = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return Array("-----BEGIN CERTIFICATE-----\n\(base64)\n-----END CERTIFICATE-----\n".utf8)
    }

    /// True if the subject and issuer names are equal (a root).
    public var isSelfIssued: Bool {
        X509_NAME_cmp(X509_get_subject_name(x509), X509_get_issuer_name(x509)) == 0
    }

    /// True if `issuer`'s subject name is this certificate's issuer name.
    public func isIssued(byNameOf issuer: Certificate) -> Bool {
        X509_NAME_cmp(X509_get_issuer_name(x509), X509_get_subject_name(issuer.x509)) == 0
    }

    /// True if `date` lies within the validity period (inclusive).
    public func isValid(at date: Date) -> Bool { notBefore <= date && date <= notAfter }

    /// The fingerprint as lower-case hex.
    public var fingerprintHex: String { Hex.encode(fingerprint) }

    /// The raw value (the extnValue OCTET STRING's content) of every extension, by dotted OID.
    func extensionValues() -> [String: [UInt8]] {
        var values: [String: [UInt8]] = [:]
        let count = X509_get_ext_count(x509)
        guard count > 0 else { return values }
        var buffer = [CChar](repeating: 0, count: 128)
        for index in 0..<count {
            guard let ext = X509_get_ext(x509, index), let object = X509_EXTENSION_get_object(ext),
                  let data = X509_EXTENSION_get_data(ext) else { continue }
            let length = OBJ_obj2txt(&buffer, Int32(buffer.count), object, 1)
            guard length > 0, Int(length) < buffer.count else { continue }
            let oid = String(decoding: buffer[0..<Int(length)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            values[oid] = Self.bytes(of: data)
        }
        return values
    }

    /// The SubjectPublicKeyInfo in DER, if OpenSSL can decode the key.
    func subjectPublicKeyInfo() -> [UInt8]? {
        guard let key = X509_get0_pubkey(x509) else {
            ERR_clear_error()
            return nil
        }
        let length = i2d_PUBKEY(key, nil)
        guard length > 0 else { return nil }
        var out = [UInt8](repeating: 0, count: Int(length))
        let written = out.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d_PUBKEY(key, &cursor)
        }
        return written == length ? out : nil
    }

    public static func == (lhs: Certificate, rhs: Certificate) -> Bool { lhs.der == rhs.der }
    public func hash(into hasher: inout Hasher) { hasher.combine(fingerprint) }

    public var description: String { "\(subjectCommonName) (issuer \(issuerCommonName), serial \(serial))" }

    // MARK: - Helpers

    /// Splits Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue },
    /// and compares signatureAlgorithm with tbsCertificate's signature field
    /// (tbsCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature, … }).
    private static func split(_ der: [UInt8]) throws(DERError) -> (tbs: Range<Int>, signature: [UInt8], algorithmsAgree: Bool) {
        var outer = DERReader(der)
        let certificate = try outer.next(tag: DERElement.sequence)
        guard outer.isAtEnd else { throw .trailingBytes(offset: certificate.whole.upperBound) }
        var fields = outer.children(of: certificate)
        let tbs = try fields.next(tag: DERElement.sequence)
        let algorithm = try fields.next(tag: DERElement.sequence)
        let bits = try fields.next(tag: DERElement.bitString)
        guard fields.isAtEnd else { throw .trailingBytes(offset: bits.whole.upperBound) }
        guard let unused = der[bits.content].first, unused == 0 else {
            throw .badLength(offset: bits.whole.lowerBound)
        }
        var tbsFields = outer.children(of: tbs)
        var first = try tbsFields.next()
        if first.tag == 0xA0 { first = try tbsFields.next() }  // [0] version, then serialNumber
        let signedAlgorithm = try tbsFields.next(tag: DERElement.sequence)
        let agree = der[signedAlgorithm.whole].elementsEqual(der[algorithm.whole])
        return (tbs.whole, Array(der[bits.content].dropFirst()), agree)
    }

    private static func commonName(_ name: OpaquePointer?) -> String? {
        guard let name else { return nil }
        let index = X509_NAME_get_index_by_NID(name, NID_commonName, -1)
        guard index >= 0, let entry = X509_NAME_get_entry(name, index),
              let data = X509_NAME_ENTRY_get_data(entry) else { return nil }
        var utf8: UnsafeMutablePointer<UInt8>? = nil
        let length = ASN1_STRING_to_UTF8(&utf8, data)
        guard length >= 0, let utf8 else {
            ERR_clear_error()
            return nil
        }
        defer { CRYPTO_free(utf8, nil, 0) }
        return String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self)
    }

    private static func serialHex(_ x509: OpaquePointer) -> String {
        guard let integer = X509_get0_serialNumber(x509), let number = ASN1_INTEGER_to_BN(integer, nil) else {
            ERR_clear_error()
            return "unknown"
        }
        defer { BN_free(number) }
        guard let text = BN_bn2hex(number) else { return "unknown" }
        defer { CRYPTO_free(text, nil, 0) }
        var hex = String(cString: text).lowercased()
        let negative = hex.hasPrefix("-")
        if negative { hex.removeFirst() }
        while hex.count > 1, hex.hasPrefix("0") { hex.removeFirst() }
        return (negative ? "-0x" : "0x") + hex
    }

    private static func date(_ time: UnsafePointer<ASN1_TIME>?) -> Date? {
        guard let time else { return nil }
        var parts = tm()
        guard ASN1_TIME_to_tm(time, &parts) == 1 else {
            ERR_clear_error()
            return nil
        }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }

    private static func bytes(of string: UnsafePointer<ASN1_STRING>) -> [UInt8] {
        let length = Int(ASN1_STRING_length(string))
        guard length > 0, let data = ASN1_STRING_get0_data(string) else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: length))
    }
}

/// Why a certificate file could not be loaded. Each case names the file.
public enum CertificateError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty(source: String)
    case malformed(source: String, reason: String)
    case notACertificateBlock(source: String, label: String)
    case tooMany(source: String, limit: Int)

    public var description: String {
        switch self {
        case let .empty(source): return "\(source): no certificate (empty input)"
        case let .malformed(source, reason): return "\(source): not a valid X.509 certificate: \(reason)"
        case let .notACertificateBlock(source, label):
            return "\(source): PEM block \"\(label)\" is not a CERTIFICATE"
        case let .tooMany(source, limit): return "\(source): more than \(limit) certificates"
        }
    }
}

/// Reads and clears OpenSSL's thread-local error queue.
enum OpenSSLError {
    /// The first queued error's text, or `fallback` when the queue is empty. Clears the queue.
    static func drain(default fallback: String) -> String {
        let code = ERR_get_error()
        defer { ERR_clear_error() }
        guard code != 0 else { return fallback }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        let text = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: text, as: UTF8.self)
    }
}

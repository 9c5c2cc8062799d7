import Foundation

/// The AMD certificate chain of a report's endorsement key:
/// ARK (pinned) → ASK (VCEK) or ASVK (VLEK) → VCEK/VLEK, every link RSASSA-PSS SHA-384.
///
/// `verify` establishes the time-independent facts once (and `ChainCache` remembers them per
/// certificate file set); `checkValidity(at:)` checks the three validity periods for one moment.
public struct VerifiedChain: Sendable {
    /// The product whose root anchors the chain.
    public let product: Product
    /// VCEK or VLEK.
    public let kind: EndorsementKeyKind
    /// The pinned root.
    public let ark: Certificate
    /// The ASK or ASVK that signed the endorsement key.
    public let signingKey: Certificate
    /// The endorsement key.
    public let endorsementKey: EndorsementKey

    /// Checks that every certificate of the chain is valid at `date`.
    public func checkValidity(at date: Date) throws(ChainError) {
        for certificate in [endorsementKey.certificate, signingKey, ark] where !certificate.isValid(at: date) {
            throw .notValid(subject: certificate.subjectCommonName, at: date,
                            notBefore: certificate.notBefore, notAfter: certificate.notAfter)
        }
    }
}

public enum CertificateChain {
    /// Verifies that `endorsementKey` chains to the pinned root of `product`.
    ///
    /// `supplied` are the other certificates the caller brought (`--chain`, and any extra
    /// certificates in the `--cert` file). A supplied root must be the pinned ARK itself. When
    /// supplied certificates include signing keys, the endorsement key's issuer must be one of
    /// them (a supplied chain is used, never silently replaced); otherwise the embedded ASK/ASVK
    /// of `product` is used.
    public static func verify(endorsementKey: EndorsementKey, supplied: [Certificate], product: Product,
                              anchors: TrustAnchors) throws(ChainError) -> VerifiedChain {
        let vek = endorsementKey.certificate
        guard let kind = endorsementKey.kind else { throw .notAnEndorsementKey(subject: vek.subjectCommonName) }
        guard let roots = anchors.roots[product] else { throw .noRoots(product) }

        for root in supplied where root.isSelfIssued && root != roots.ark {
            throw .untrustedRoot(subject: root.subjectCommonName, fingerprint: root.fingerprintHex,
                                 expected: product.rootCommonName, expectedFingerprint: roots.ark.fingerprintHex)
        }
        let intermediates = supplied.filter { !$0.isSelfIssued && $0 != vek && EndorsementKey.kindOf($0) == nil }
        let signingKey: Certificate
        if intermediates.isEmpty {
            signingKey = roots.signingKey(for: kind)
        } else if let issuer = intermediates.first(where: { vek.isIssued(byNameOf: $0) }) {
            signingKey = issuer
        } else {
            throw .issuerNotSupplied(issuer: vek.issuerCommonName, supplied: intermediates.map(\.subjectCommonName))
        }

        let expectedName = product.signingKeyCommonName(for: kind)
        guard signingKey.subjectCommonName == expectedName else {
            throw .wrongSigningKey(found: signingKey.subjectCommonName, expected: expectedName, kind: kind)
        }
        guard vek.isIssued(byNameOf: signingKey) else {
            throw .issuerNameMismatch(subject: vek.subjectCommonName, issuer: vek.issuerCommonName, expected: signingKey.subjectCommonName)
        }
        guard signingKey.isIssued(byNameOf: roots.ark) else {
            throw .issuerNameMismatch(subject: signingKey.subjectCommonName, issuer: signingKey.issuerCommonName,
                                      expected: roots.ark.subjectCommonName)
        }
        // The embedded signing keys were verified under their ARK when the anchors loaded.
        if signingKey != roots.signingKey(for: kind), let reason = signingKey.verifyRSAPSSSignature(issuer: roots.ark) {
            throw .badSignature(subject: signingKey.subjectCommonName, issuer: roots.ark.subjectCommonName, reason: reason)
        }
        if let reason = vek.verifyRSAPSSSignature(issuer: signingKey) {
            throw .badSignature(subject: vek.subjectCommonName, issuer: signingKey.subjectCommonName, reason: reason)
        }
        return VerifiedChain(product: product, kind: kind, ark: roots.ark, signingKey: signingKey, endorsementKey: endorsementKey)
    }
}

extension EndorsementKey {
    /// VCEK or VLEK by subject name, or nil for any other certificate.
    static func kindOf(_ certificate: Certificate) -> EndorsementKeyKind? {
        switch certificate.subjectCommonName {
        case "SEV-VCEK": return .vcek
        case "SEV-VLEK": return .vlek
        default: return nil
        }
    }
}

/// Why an endorsement key does not chain to a pinned AMD root.
public enum ChainError: Error, Sendable, Equatable, CustomStringConvertible {
    case notAnEndorsementKey(subject: String)
    case noRoots(Product)
    case untrustedRoot(subject: String, fingerprint: String, expected: String, expectedFingerprint: String)
    case issuerNotSupplied(issuer: String, supplied: [String])
    case wrongSigningKey(found: String, expected: String, kind: EndorsementKeyKind)
    case issuerNameMismatch(subject: String, issuer: String, expected: String)
    case badSignature(subject: String, issuer: String, reason: String)
    case notValid(subject: String, at: Date, notBefore: Date, notAfter: Date)
    case wrongProduct(verified: Product, required: Product)

    public var description: String {
        switch self {
        case let .notAnEndorsementKey(subject):
            return "the certificate \(subject) is not a VCEK or VLEK (subject must be SEV-VCEK or SEV-VLEK)"
        case let .noRoots(product):
            return "no trusted \(product.rootCommonName) root is available"
        case let .untrustedRoot(subject, fingerprint, expected, expectedFingerprint):
            return "root \(subject) (sha256 \(fingerprint)) is not AMD's pinned \(expected) (sha256 \(expectedFingerprint))"
        case let .issuerNotSupplied(issuer, supplied):
            return "the endorsement key is issued by \(issuer), but the supplied chain has only \(supplied.joined(separator: ", "))"
        case let .wrongSigningKey(found, expected, kind):
            return "the \(kind) is issued by \(found), but must be issued by \(expected)"
        case let .issuerNameMismatch(subject, issuer, expected):
            return "\(subject) names issuer \(issuer), not \(expected)"
        case let .badSignature(subject, issuer, reason):
            return "\(subject) is not signed by \(issuer): \(reason)"
        case let .notValid(subject, at, notBefore, notAfter):
            return "\(subject) is not valid at \(ChainError.format(at)) (valid \(ChainError.format(notBefore)) to \(ChainError.format(notAfter)))"
        case let .wrongProduct(verified, required):
            return "the chain was verified for \(verified), but the report needs \(required)"
        }
    }

    static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle())
    }
}

import Foundation
import SNP

/// Feeds bytes to the SEV-SNP report parser: the input framing (raw or hex), the ABI decoder
/// with each product's TCB layout, and the JSON summary. Must never crash; a report that parses
/// must re-parse from its own bytes to the same value.
func fuzzReport(_ bytes: [UInt8]) {
    guard let report = try? AttestationReport(input: bytes) else { return }
    for product in Product.allCases {
        let interpreted = report.interpreted(as: product)
        _ = interpreted.summary
        _ = interpreted.reportedTCB.parts.description
    }
    guard (try? AttestationReport(bytes: report.bytes)) == report else {
        fatalError("a parsed report does not re-parse to itself")
    }
    _ = try? JSONEncoder().encode(report)
}

/// Feeds bytes to the certificate loader (DER, PEM and PEM bundles) and, for every certificate
/// it accepts, to the AMD extension decoder and the chain verifier against the embedded roots.
func fuzzCertificate(_ bytes: [UInt8]) {
    guard let certificates = try? Certificate.load(bytes, source: "fuzz") else { return }
    for certificate in certificates {
        _ = certificate.description
        _ = certificate.isSelfIssued
        guard let key = try? EndorsementKey(certificate) else { continue }
        _ = key.extensions.tcb(layout: .milanGenoa)
        _ = key.extensions.tcb(layout: .turin)
        if let product = key.product {
            _ = try? CertificateChain.verify(endorsementKey: key, supplied: certificates, product: product, anchors: .amd)
        }
    }
}

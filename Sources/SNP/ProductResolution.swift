/// Decides which product a report comes from: the CPUID fields of a version 3+ report, else the
/// endorsement key's productName (or issuer), else the caller's `--product`. Every source that
/// is present must agree.
enum ProductResolution {
    static func resolve(report: AttestationReport, endorsementKey: EndorsementKey,
                        requested: Product?) -> (Product?, Check) {
        var sources: [(String, Product)] = []
        if let cpuid = report.cpuid {
            guard let product = cpuid.product else {
                return (endorsementKey.product ?? requested,
                        .fail(.product, "CPUID family 0x\(hex(cpuid.family)) model 0x\(hex(cpuid.model)) is not a known SEV-SNP product"))
            }
            sources.append(("CPUID family 0x\(hex(cpuid.family)) model 0x\(hex(cpuid.model)) stepping \(cpuid.stepping)", product))
        }
        if let product = endorsementKey.product {
            let name = endorsementKey.extensions.productName.map { "productName \($0)" }
                ?? "issuer \(endorsementKey.certificate.issuerCommonName)"
            sources.append(("\(endorsementKey.kind?.description ?? "certificate") \(name)", product))
        }
        if let requested { sources.append(("--product", requested)) }

        guard let (firstSource, product) = sources.first else {
            return (nil, .fail(.product, "a version \(report.version) report names no product and the certificate names none; pass --product"))
        }
        let disagreeing = sources.filter { $0.1 != product }
        guard disagreeing.isEmpty else {
            let list = sources.map { "\($0.0) says \($0.1)" }.joined(separator: ", ")
            return (product, .fail(.product, "sources disagree: \(list)"))
        }
        let others = sources.dropFirst().map(\.0)
        let agreement = others.isEmpty ? "" : "; \(others.joined(separator: ", ")) \(others.count == 1 ? "agrees" : "agree")"
        return (product, .pass(.product, "\(product) from \(firstSource)\(agreement)"))
    }

    private static func hex(_ value: UInt8) -> String { String(value, radix: 16) }
}

import Foundation

/// Verifies an attestation report from any tool (snpguest, go-sev-guest, Trustee) against its
/// endorsement key and AMD's pinned roots, then validates it (SPEC §6). Every check is reported
/// by name; a failed check does not stop the later ones when they can still run, so a tampered
/// report shows every check it breaks.
public struct ReportVerifier: Sendable {
    /// The roots trusted (default: AMD's embedded roots).
    public var anchors: TrustAnchors
    /// The chain cache (default: the process-wide cache); nil verifies every chain afresh.
    public var cache: ChainCache?

    public init(anchors: TrustAnchors = .amd, cache: ChainCache? = .shared) {
        self.anchors = anchors
        self.cache = cache
    }

    /// Verifies the report in `reportInput` (raw or hex) with the certificates in `files`.
    ///
    /// Throws `VerificationInputError` only when an input cannot be read at all: the report is
    /// not 1184 bytes (raw or hex) or has an unknown version, or a certificate file does not
    /// parse. A report that breaks the ABI otherwise fails the `report-parses` check.
    public func verify(reportInput: [UInt8], files: EndorsementFiles, product requested: Product? = nil,
                       options: ValidationOptions = ValidationOptions()) throws(VerificationInputError) -> ReportVerification {
        let bytes: [UInt8]
        do {
            bytes = try ReportABI.rawBytes(fromInput: reportInput)
        } catch {
            throw .report(error)
        }
        // An unknown version means the bytes are not a report we can read at all; any other
        // ABI violation fails `report-parses` once the certificates are known to be readable.
        var formatError: ReportError? = nil
        do {
            _ = try AttestationReport(bytes: bytes)
        } catch where error.isUnreadable {
            throw .report(error)
        } catch {
            formatError = error
        }
        let handle: ChainCache.Handle?
        let loaded: LoadedEndorsement
        do {
            if let cache {
                let entry = try cache.entry(files)
                (handle, loaded) = (entry, entry.loaded)
            } else {
                (handle, loaded) = (nil, try LoadedEndorsement(files: files))
            }
        } catch {
            throw .certificate(error)
        }
        if let formatError {
            return ReportVerification(checks: [.fail(.reportParses, formatError.description)], report: nil)
        }
        return verify(reportBytes: bytes, endorsement: loaded, product: requested, options: options) { product in
            if let cache, let handle { return cache.chain(handle, product: product, anchors: anchors) }
            return Result { () throws(ChainError) in
                try CertificateChain.verify(endorsementKey: loaded.endorsementKey, supplied: loaded.supplied,
                                            product: product, anchors: anchors)
            }
        }
    }

    /// Verifies 1184 report bytes with already loaded certificates, verifying the chain for the
    /// product the report resolves to (not cached).
    public func verify(reportBytes: [UInt8], endorsement: LoadedEndorsement, product requested: Product? = nil,
                       options: ValidationOptions = ValidationOptions()) -> ReportVerification {
        verify(reportBytes: reportBytes, endorsement: endorsement, product: requested, options: options) { product in
            Result { () throws(ChainError) in
                try CertificateChain.verify(endorsementKey: endorsement.endorsementKey, supplied: endorsement.supplied,
                                            product: product, anchors: anchors)
            }
        }
    }

    /// Verifies 1184 report bytes against a chain verified beforehand (the time-independent part;
    /// validity at `options.at` is still checked). This is how many reports are checked against
    /// one endorsement key cheaply.
    public func verify(reportBytes: [UInt8], chain: VerifiedChain, product requested: Product? = nil,
                       options: ValidationOptions = ValidationOptions()) -> ReportVerification {
        let endorsement = LoadedEndorsement(endorsementKey: chain.endorsementKey, supplied: [])
        return verify(reportBytes: reportBytes, endorsement: endorsement, product: requested, options: options) { product in
            product == chain.product ? .success(chain) : .failure(.wrongProduct(verified: chain.product, required: product))
        }
    }

    private func verify(reportBytes: [UInt8], endorsement: LoadedEndorsement, product requested: Product?,
                        options: ValidationOptions,
                        chainFor: (Product) -> Result<VerifiedChain, ChainError>) -> ReportVerification {
        let vek = endorsement.endorsementKey
        let parsed: AttestationReport
        do {
            parsed = try AttestationReport(bytes: reportBytes, product: requested ?? vek.product)
        } catch {
            return ReportVerification(checks: [.fail(.reportParses, error.description)], report: nil)
        }
        var checks = [Check.pass(.reportParses, "version \(parsed.version) report, reserved bytes zero, ECDSA P-384 SHA-384")]

        let (product, productCheck) = ProductResolution.resolve(report: parsed, endorsementKey: vek, requested: requested)
        checks.append(productCheck)
        let report = product.map { parsed.interpreted(as: $0) } ?? parsed

        checks.append(chainCheck(report: report, endorsementKey: vek, product: product, at: options.at ?? Date(), chainFor: chainFor))
        checks.append(signatureCheck(report: report, endorsementKey: vek))
        checks += ReportValidator.validate(report, endorsementKey: vek, options: options)
        return ReportVerification(checks: checks, report: report)
    }

    private func chainCheck(report: AttestationReport, endorsementKey vek: EndorsementKey, product: Product?, at date: Date,
                            chainFor: (Product) -> Result<VerifiedChain, ChainError>) -> Check {
        guard let product else { return .fail(.chain, "no product, so no root to verify against (pass --product)") }
        switch chainFor(product) {
        case let .failure(error):
            return .fail(.chain, error.description)
        case let .success(chain):
            do {
                try chain.checkValidity(at: date)
            } catch {
                return .fail(.chain, error.description)
            }
            if let signer = report.signerInfo.signingKey.endorsementKeyKind, signer != chain.kind {
                return .fail(.chain, "the report is signed by a \(signer) (SIGNER_INFO) but the certificate is a \(chain.kind)")
            }
            return .pass(.chain, "\(chain.kind) ← \(chain.signingKey.subjectCommonName) ← \(chain.ark.subjectCommonName) (pinned sha256 \(chain.ark.fingerprintHex.prefix(16))…), RSA-PSS SHA-384, valid at \(ChainError.format(date))")
        }
    }

    private func signatureCheck(report: AttestationReport, endorsementKey vek: EndorsementKey) -> Check {
        do {
            try report.verifySignature(with: vek)
            return .pass(.signature, "ECDSA P-384 SHA-384 over bytes 0x000–0x29F verifies with the \(vek.kind?.description ?? "endorsement key")")
        } catch {
            return .fail(.signature, error.description)
        }
    }
}

/// The outcome of a verification: every check run, in order, and the decoded report (nil when
/// it did not parse).
public struct ReportVerification: Sendable {
    public let checks: [Check]
    public let report: AttestationReport?

    /// True only if every check passed.
    public var ok: Bool { !checks.isEmpty && checks.allSatisfy(\.ok) }

    /// The check named `name`, if it ran.
    public func check(_ name: CheckName) -> Check? { checks.first { $0.name == name } }
}

/// An input that cannot be read at all (CLI exit status 2).
public enum VerificationInputError: Error, Sendable, CustomStringConvertible {
    case report(ReportError)
    case certificate(CertificateError)

    public var description: String {
        switch self {
        case let .report(error): return error.description
        case let .certificate(error): return error.description
        }
    }
}

extension LoadedEndorsement {
    init(endorsementKey: EndorsementKey, supplied: [Certificate]) {
        self.endorsementKey = endorsementKey
        self.supplied = supplied
    }
}

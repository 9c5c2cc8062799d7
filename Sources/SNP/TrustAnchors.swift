/// The AMD keys a verification trusts, per product: the root (ARK), pinned by the SHA-256 of its
/// DER, and AMD's two signing keys under it (ASK signs VCEKs, ASVK signs VLEKs).
///
/// `TrustAnchors.amd` holds the certificates embedded in twocvm (`AMDRootsData`). Each ARK's
/// fingerprint and self-signature, and each ASK/ASVK's signature by its ARK, are checked once,
/// when the anchors are first used; a product whose embedded set fails those checks is absent,
/// and every chain for it fails.
public struct TrustAnchors: Sendable {
    /// One product's pinned root and signing keys.
    public struct ProductRoots: Sendable {
        public let ark: Certificate
        public let ask: Certificate
        public let asvk: Certificate

        /// The signing key for endorsement keys of `kind`.
        public func signingKey(for kind: EndorsementKeyKind) -> Certificate {
            kind == .vcek ? ask : asvk
        }
    }

    /// The roots, by product.
    public let roots: [Product: ProductRoots]

    /// Anchors with exactly these roots (tests and simulated platforms bring their own).
    public init(roots: [Product: ProductRoots]) {
        self.roots = roots
    }

    /// AMD's roots for Milan, Genoa and Turin, embedded in the binary.
    public static let amd = TrustAnchors(roots: loadEmbedded())

    /// Builds and checks one product's roots: the ARK must be self-signed with RSA-PSS SHA-384
    /// and match `pinnedFingerprint`; the ASK and ASVK must be signed by it.
    public static func checkedRoots(ark: Certificate, ask: Certificate, asvk: Certificate,
                                    pinnedFingerprint: String) -> ProductRoots? {
        guard ark.fingerprintHex == pinnedFingerprint, ark.isSelfIssued,
              ark.verifyRSAPSSSignature(issuer: ark) == nil,
              ask.isIssued(byNameOf: ark), ask.verifyRSAPSSSignature(issuer: ark) == nil,
              asvk.isIssued(byNameOf: ark), asvk.verifyRSAPSSSignature(issuer: ark) == nil else {
            return nil
        }
        return ProductRoots(ark: ark, ask: ask, asvk: asvk)
    }

    private static func loadEmbedded() -> [Product: ProductRoots] {
        let sources: [(Product, String, String, String)] = [
            (.milan, AMDRootsData.milanARK, AMDRootsData.milanASK, AMDRootsData.milanASVK),
            (.genoa, AMDRootsData.genoaARK, AMDRootsData.genoaASK, AMDRootsData.genoaASVK),
            (.turin, AMDRootsData.turinARK, AMDRootsData.turinASK, AMDRootsData.turinASVK),
        ]
        var roots: [Product: ProductRoots] = [:]
        for (product, arkPEM, askPEM, asvkPEM) in sources {
            guard let ark = try? Certificate.load(Array(arkPEM.utf8), source: "embedded \(product.rootCommonName)").first,
                  let ask = try? Certificate.load(Array(askPEM.utf8), source: "embedded ASK").first,
                  let asvk = try? Certificate.load(Array(asvkPEM.utf8), source: "embedded ASVK").first,
                  let pinned = AMDRootsData.arkFingerprints[product],
                  let checked = checkedRoots(ark: ark, ask: ask, asvk: asvk, pinnedFingerprint: pinned) else {
                continue
            }
            roots[product] = checked
        }
        return roots
    }
}

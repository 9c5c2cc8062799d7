import COpenSSL

extension Certificate {
    /// The AMD certificate signature scheme: RSASSA-PSS with SHA-384, MGF1-SHA-384, salt 48.
    static let pssSaltLength: Int32 = 48

    /// Checks that `issuer`'s key signed this certificate with RSASSA-PSS SHA-384 (MGF1 SHA-384,
    /// salt length 48), over the exact tbsCertificate bytes as read. Returns nil if it did, else
    /// the reason it did not.
    ///
    /// The declared algorithm must be RSASSA-PSS with SHA-384 too; the verification itself does
    /// not trust the declared parameters but imposes AMD's.
    func verifyRSAPSSSignature(issuer: Certificate) -> String? {
        guard algorithmsAgree else {
            return "the signature algorithm outside the signed part differs from the one inside it"
        }
        guard signatureAlgorithm == "rsassaPss", signatureHash == "SHA384" else {
            return "signature algorithm is \(signatureAlgorithm)\(signatureHash.map { " with \($0)" } ?? ""), not RSASSA-PSS with SHA-384"
        }
        guard let key = X509_get0_pubkey(issuer.x509) else {
            return "the public key of \(issuer.subjectCommonName) cannot be read: \(OpenSSLError.drain(default: "unknown key"))"
        }
        guard let context = EVP_MD_CTX_new() else { return "out of memory" }
        defer {
            EVP_MD_CTX_free(context)
            ERR_clear_error()
        }
        var keyContext: OpaquePointer? = nil
        guard EVP_DigestVerifyInit(context, &keyContext, EVP_sha384(), nil, key) == 1,
              EVP_PKEY_CTX_set_rsa_padding(keyContext, RSA_PKCS1_PSS_PADDING) == 1,
              EVP_PKEY_CTX_set_rsa_pss_saltlen(keyContext, Self.pssSaltLength) == 1,
              EVP_PKEY_CTX_set_rsa_mgf1_md(keyContext, EVP_sha384()) == 1 else {
            return "the key of \(issuer.subjectCommonName) is not an RSA key usable for RSASSA-PSS"
        }
        let verified = tbs.withUnsafeBufferPointer { message in
            signatureValue.withUnsafeBufferPointer { signature in
                EVP_DigestVerify(context, signature.baseAddress, signature.count, message.baseAddress, message.count)
            }
        }
        return verified == 1 ? nil : "the RSASSA-PSS SHA-384 signature does not verify with the key of \(issuer.subjectCommonName)"
    }
}

import COpenSSL
import Foundation

/// Issues certificates shaped like AMD's, for the simulated platform: RSA keys signing with
/// RSASSA-PSS (SHA-384, MGF1-SHA-384, salt 48) as the ARK/ASK/ASVK do, and a VCEK carrying the
/// AMD extensions (1.3.6.1.4.1.3704.1.*: productName, TCB SPLs, hwID). Nothing here is trusted
/// by default: a simulated ARK is trusted only when a verifier names it (`--trust-root`).
enum SimulatedCertificateAuthority {
    /// Subject fields of AMD's KDS certificates (all but the common name).
    static let amdName: [(String, String)] = [
        ("OU", "Engineering"), ("C", "US"), ("L", "Santa Clara"), ("ST", "CA"), ("O", "Advanced Micro Devices"),
    ]

    /// An RSA private key (PEM) of `bits`.
    static func makeRSAKey(bits: Int32 = 2048) throws(SimulatorError) -> [UInt8] {
        guard let context = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nil) else { throw .openssl("EVP_PKEY_CTX_new_id") }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer? = nil
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_CTX_set_rsa_keygen_bits(context, bits) == 1,
              EVP_PKEY_keygen(context, &key) == 1, let key else { throw .openssl("RSA key generation") }
        defer { EVP_PKEY_free(key) }
        return try privateKeyPEM(key)
    }

    /// Issues a certificate for `subjectKeyPEM`'s public key (a private key PEM for RSA keys,
    /// or a SPKI PEM), signed by `issuerKeyPEM` with RSA-PSS SHA-384.
    static func issue(subjectCommonName: String, subjectPublicKeyPEM: [UInt8], issuerCommonName: String,
                      issuerKeyPEM: [UInt8], serial: Int, isCA: Bool, extensions: [(oid: String, value: [UInt8])] = [],
                      validFrom: Date, validDays: Int) throws(SimulatorError) -> [UInt8] {
        guard let certificate = X509_new() else { throw .openssl("X509_new") }
        defer { X509_free(certificate) }
        let subjectKey = try loadPublicKey(subjectPublicKeyPEM)
        defer { EVP_PKEY_free(subjectKey) }
        let issuerKey = try loadPrivateKey(issuerKeyPEM)
        defer { EVP_PKEY_free(issuerKey) }
        var start = time_t(validFrom.timeIntervalSince1970)
        guard X509_set_version(certificate, 2) == 1,
              ASN1_INTEGER_set(X509_get_serialNumber(certificate), serial) == 1,
              X509_time_adj_ex(X509_getm_notBefore(certificate), 0, 0, &start) != nil,
              X509_time_adj_ex(X509_getm_notAfter(certificate), Int32(validDays), 0, &start) != nil,
              X509_set_pubkey(certificate, subjectKey) == 1 else { throw .openssl("certificate fields") }
        try setName(subjectCommonName) { X509_set_subject_name(certificate, $0) }
        try setName(issuerCommonName) { X509_set_issuer_name(certificate, $0) }
        if isCA {
            guard let constraints = X509V3_EXT_conf_nid(nil, nil, NID_basic_constraints, "critical,CA:TRUE"),
                  X509_add_ext(certificate, constraints, -1) == 1 else { throw .openssl("basicConstraints") }
            X509_EXTENSION_free(constraints)
        }
        for (oid, value) in extensions {
            guard let object = OBJ_txt2obj(oid, 1), let octets = ASN1_OCTET_STRING_new() else { throw .openssl("extension \(oid)") }
            defer { ASN1_OBJECT_free(object); ASN1_OCTET_STRING_free(octets) }
            guard ASN1_OCTET_STRING_set(octets, value, Int32(value.count)) == 1,
                  let extensionValue = X509_EXTENSION_create_by_OBJ(nil, object, 0, octets) else { throw .openssl("extension \(oid)") }
            defer { X509_EXTENSION_free(extensionValue) }
            guard X509_add_ext(certificate, extensionValue, -1) == 1 else { throw .openssl("extension \(oid)") }
        }
        try signPSS(certificate, with: issuerKey)
        var out: UnsafeMutablePointer<UInt8>? = nil
        let length = i2d_X509(certificate, &out)
        guard length > 0, let out else { throw .openssl("i2d_X509") }
        defer { CRYPTO_free(out, #fileID, #line) }
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }

    /// DER of an INTEGER (a TCB SPL extension value).
    static func derInteger(_ value: UInt8) -> [UInt8] {
        value < 0x80 ? [0x02, 0x01, value] : [0x02, 0x02, 0x00, value]
    }

    /// DER of an IA5String (the productName extension value).
    static func derIA5String(_ text: String) -> [UInt8] {
        [0x16, UInt8(text.utf8.count)] + Array(text.utf8)
    }

    private static func signPSS(_ certificate: OpaquePointer, with key: OpaquePointer) throws(SimulatorError) {
        guard let context = EVP_MD_CTX_new() else { throw .openssl("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(context) }
        var keyContext: OpaquePointer? = nil
        guard EVP_DigestSignInit(context, &keyContext, EVP_sha384(), nil, key) == 1,
              EVP_PKEY_CTX_set_rsa_padding(keyContext, RSA_PKCS1_PSS_PADDING) == 1,
              EVP_PKEY_CTX_set_rsa_pss_saltlen(keyContext, 48) == 1,
              EVP_PKEY_CTX_set_rsa_mgf1_md(keyContext, EVP_sha384()) == 1,
              X509_sign_ctx(certificate, context) > 0 else { throw .openssl("RSA-PSS signature") }
    }

    private static func setName(_ commonName: String, _ apply: (OpaquePointer) -> Int32) throws(SimulatorError) {
        guard let name = X509_NAME_new() else { throw .openssl("X509_NAME_new") }
        defer { X509_NAME_free(name) }
        for (field, value) in amdName + [("CN", commonName)] {
            guard X509_NAME_add_entry_by_txt(name, field, MBSTRING_ASC, value, -1, -1, 0) == 1 else {
                throw .openssl("name \(field)")
            }
        }
        guard apply(name) == 1 else { throw .openssl("set name") }
    }

    private static func loadPrivateKey(_ pem: [UInt8]) throws(SimulatorError) -> OpaquePointer {
        let bio = pem.withUnsafeBytes { BIO_new_mem_buf($0.baseAddress, Int32($0.count)) }
        defer { BIO_free(bio) }
        guard let key = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else { throw .openssl("private key PEM") }
        return key
    }

    private static func loadPublicKey(_ pem: [UInt8]) throws(SimulatorError) -> OpaquePointer {
        if String(decoding: pem, as: UTF8.self).contains("PRIVATE KEY") { return try loadPrivateKey(pem) }
        let bio = pem.withUnsafeBytes { BIO_new_mem_buf($0.baseAddress, Int32($0.count)) }
        defer { BIO_free(bio) }
        guard let key = PEM_read_bio_PUBKEY(bio, nil, nil, nil) else { throw .openssl("public key PEM") }
        return key
    }

    private static func privateKeyPEM(_ key: OpaquePointer) throws(SimulatorError) -> [UInt8] {
        guard let bio = BIO_new(BIO_s_mem()) else { throw .openssl("BIO_new") }
        defer { BIO_free(bio) }
        guard PEM_write_bio_PrivateKey(bio, key, nil, nil, 0, nil, nil) == 1 else { throw .openssl("PEM_write") }
        var pointer: UnsafeMutablePointer<CChar>? = nil
        let length = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &pointer)
        guard length > 0, let pointer else { throw .openssl("BIO read") }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: Int(length)) { Array(UnsafeBufferPointer(start: $0, count: Int(length))) }
    }
}

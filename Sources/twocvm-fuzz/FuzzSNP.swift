import SNP

/// Feeds bytes to the SEV-SNP report parser. Placeholder until the SNP parser exists.
func fuzzReport(_ bytes: [UInt8]) {}

/// Feeds bytes to the certificate loader (DER and PEM). Placeholder until the SNP chain exists.
func fuzzCertificate(_ bytes: [UInt8]) {}

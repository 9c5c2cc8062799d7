// A fake AMD hierarchy for negative tests: an RSA-PSS SHA-384 (salt 48) self-signed "ARK-Milan"
// and a "SEV-Milan" signed by it, with exactly AMD's subject names. The pair is internally valid,
// so the only thing wrong with it is that the root is not AMD's: pinning must catch it.
// Generated once with the openssl CLI (genpkey RSA 2048; req -x509 / x509 -req with
// -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:48 -sigopt rsa_mgf1_md:sha384).

enum FakeAMDHierarchy {
    /// Self-signed, subject "ARK-Milan", not AMD's key.
    static let arkPEM = """
        -----BEGIN CERTIFICATE-----
        MIIEMDCCAuSgAwIBAgIDAQAAMEEGCSqGSIb3DQEBCjA0oA8wDQYJYIZIAWUDBAIC
        BQChHDAaBgkqhkiG9w0BAQgwDQYJYIZIAWUDBAICBQCiAwIBMDB7MRQwEgYDVQQL
        DAtFbmdpbmVlcmluZzELMAkGA1UEBhMCVVMxFDASBgNVBAcMC1NhbnRhIENsYXJh
        MQswCQYDVQQIDAJDQTEfMB0GA1UECgwWQWR2YW5jZWQgTWljcm8gRGV2aWNlczES
        MBAGA1UEAwwJQVJLLU1pbGFuMCAXDTI2MTEyMTA1MjcxMloYDzIwNTEwNzEzMDUy
        NzEyWjB7MRQwEgYDVQQLDAtFbmdpbmVlcmluZzELMAkGA1UEBhMCVVMxFDASBgNV
        BAcMC1NhbnRhIENsYXJhMQswCQYDVQQIDAJDQTEfMB0GA1UECgwWQWR2YW5jZWQg
        TWljcm8gRGV2aWNlczESMBAGA1UEAwwJQVJLLU1pbGFuMIIBIjANBgkqhkiG9w0B
        AQEFAAOCAQ8AMIIBCgKCAQEA06pdeCNzNREKk4j/e7LVxMzcvkyIspDSGgrFHhhI
        qIxj3tReZwEhaaU6yOZf767F9m9dBaZxAYfTYcpIwi/z1Y2noo9s8ilcTIb7JcfF
        IGbZmZS6XLbjnC2md1iLF3DyPbl4eAkglDigGy59nz3aKKAF7YsFYyEs9/3nRD7x
        jdj994STA+Mv+AJ5jKOnQoRS//1LXKlC7wbrCoW/+sBWnE4vmt2zUHrd7wmCZ5Mj
        jbMX7eXTs9ZKq8ezToiavCFUZeaXlLM2Sqi+VwfoHhYFQtTx4CW5yHH6HNlNRuJq
        vHGVIkYefMS73ensVZShQKsisKIsBnjMJVUGzcKCRLpWRQIDAQABo1MwUTAdBgNV
        HQ4EFgQUZS++L3x3UKAnhuBwWmqQA9gcUMgwHwYDVR0jBBgwFoAUZS++L3x3UKAn
        huBwWmqQA9gcUMgwDwYDVR0TAQH/BAUwAwEB/zBBBgkqhkiG9w0BAQowNKAPMA0G
        CWCGSAFlAwQCAgUAoRwwGgYJKoZIhvcNAQEIMA0GCWCGSAFlAwQCAgUAogMCATAD
        ggEBAJUR4qx2Z3YULRFRoF6xt2VBAR1zX6rR+y4OoagG9BXy8ZjGncdG663lUsM5
        WH/A+2eNha6QxbpnnsvZeF6qbv8DdCdlRBrGqct0OPcvRQb2Kj/lE25IVPdhOKIn
        rGxPXVm1jiM6fA+AElRCjQJAQ/ETwBoIl4oRLAMq7O/gN5ojltTHojwWVHM3EdLQ
        9m4Z8rn694ST+GH+Uor2vRm2ikPLUevbNpgUbzcqoGLizhaIeP7+3Hb4OdzenQiA
        b2tDENffRTUrbaY2BeMu8sNpsxvDoZFhTiMcp/nJiaKQU7CUQ18k0yosSUTbrS0e
        EPbwq6VVg7GG/xKozudrcUEZv2s=
        -----END CERTIFICATE-----
        """

    /// "SEV-Milan" signed by the fake ARK.
    static let askPEM = """
        -----BEGIN CERTIFICATE-----
        MIIEQDCCAvSgAwIBAgIDAQABMEEGCSqGSIb3DQEBCjA0oA8wDQYJYIZIAWUDBAIC
        BQChHDAaBgkqhkiG9w0BAQgwDQYJYIZIAWUDBAICBQCiAwIBMDB7MRQwEgYDVQQL
        DAtFbmdpbmVlcmluZzELMAkGA1UEBhMCVVMxFDASBgNVBAcMC1NhbnRhIENsYXJh
        MQswCQYDVQQIDAJDQTEfMB0GA1UECgwWQWR2YW5jZWQgTWljcm8gRGV2aWNlczES
        MBAGA1UEAwwJQVJLLU1pbGFuMCAXDTI2MTEyMTA1MjcxMloYDzIwNTEwNzEzMDUy
        NzEyWjB7MRQwEgYDVQQLDAtFbmdpbmVlcmluZzELMAkGA1UEBhMCVVMxFDASBgNV
        BAcMC1NhbnRhIENsYXJhMQswCQYDVQQIDAJDQTEfMB0GA1UECgwWQWR2YW5jZWQg
        TWljcm8gRGV2aWNlczESMBAGA1UEAwwJU0VWLU1pbGFuMIIBIjANBgkqhkiG9w0B
        AQEFAAOCAQ8AMIIBCgKCAQEAoUSVX+QQ9GDSrXu/piQvfbNeEoE3ZicLytPPcdEL
        rFDzXdZVZY9BD/vrdA6gMPAF2qy+1QZZGhNXLjFihyobu5RL5t1sg30kOrwuUaof
        ug7GW2XyyHKetXL0ekWT24O4h7CQn7TMna4OSeHdrG0WMLhN12GXzeBcPCKGb7UV
        wyjMv7Zzl0tmGOfX71niDhDHGyMAgwA+gaEfvrYzC4CBQzJ5xFnqo8maV5IM81dQ
        a8ckFNY9k9/Yd9AU2HRYrlynXfh3O8N0OYT98VceZFxPSWbugGJuzrh/OFj2h63/
        PUvyEjGDPObsJP9+t5qFVJ4QqrXA9kkCAVQ+np34MJksZQIDAQABo2MwYTAPBgNV
        HRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAdBgNVHQ4EFgQUwTBUtUtfv7nc
        wCzqQ9SzrL6CJ5AwHwYDVR0jBBgwFoAUZS++L3x3UKAnhuBwWmqQA9gcUMgwQQYJ
        KoZIhvcNAQEKMDSgDzANBglghkgBZQMEAgIFAKEcMBoGCSqGSIb3DQEBCDANBglg
        hkgBZQMEAgIFAKIDAgEwA4IBAQCdm8gxWY+Y6D8+ObC3ZXo9c7dh7Z0f7NkPDs3Z
        ERAs+Cq6KdGpLcNwz86MBS8NHeUtfVwJtlUXmR0917nC3eOydWMW5EO9QsIfWm1k
        vINbNXhcTImNACelmrwQAVSaWkxbupaTuuO5eP/D2msHDirlNPAt53Dk5pwmKGCT
        bwmaxA4E2Am82fVASSnuuVsH+0z1eyF3OKZeNLcwiQhJBPSx81oQLcAxoDU/vwOr
        8sSLo8SkxGzHR9koXD+cCdWOOpW7dnqC7qoaG/BIg7/6PN9+IpFKzkPXg4wx+HQV
        Q2M1SLm5t8EOBqDsZYmaJ4RvnqBQVo1KTaAqpJ/BhMzCm+/y
        -----END CERTIFICATE-----
        """
}

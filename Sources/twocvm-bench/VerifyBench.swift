import SNP

/// Reports verified per second (placeholder until the SNP verifier exists).
func verifyBenchmark(_ arguments: [String]) throws -> [String: String] { [:] }

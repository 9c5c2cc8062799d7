import Foundation
import Manifest

/// An EAR (EAT Attestation Result, draft-ietf-rats-ear) for a verify verdict: JSON claims,
/// unsigned (twocvm verifies locally; a service would sign them as a JWT or CWT).
///
/// Claims: `eat_profile` = `tag:github.com,2023:veraison/ear`, `iat`, `ear.verifier-id`, and one
/// submodule `twocvm` with `ear.status` (affirming / warning / contraindicated), an AR4SI
/// `ear.trustworthiness-vector` (`hardware`, `executables`, `configuration`, `instance-identity`),
/// `ear.appraisal-policy-id`, and twocvm's own `twocvm.manifest`, `twocvm.lock`,
/// `twocvm.platform`, `twocvm.failed-checks`.
public struct AttestationResult: Encodable, Sendable {
    /// AR4SI trustworthiness tiers used here (draft-ietf-rats-ar4si): 2 affirming, 32 warning,
    /// 96 contraindicated (the "not affirmed" value of each claim).
    enum Tier: Int { case affirming = 2, warning = 32, contraindicated = 96 }

    let issuedAt: Int
    let status: String
    let vector: [String: Int]
    let manifest: String
    let lock: String
    let platform: String
    let failed: [String]

    public init(_ verdict: VerifyWorkflow.Verdict, manifest: ManifestDigest, now: Date = Date()) {
        func passed(_ names: [VerifyWorkflow.CheckName]) -> Bool {
            names.allSatisfy { name in verdict.checks.first { $0.name == name }?.ok ?? false }
        }
        let hardware = passed([.platform, .report(.chain), .report(.signature), .report(.tcbExtensions), .report(.hwid)])
        let executables = passed([.referenceMeasurement])
        let configuration = passed([.manifest, .manifestLock, .report(.policy), .referencePolicy, .report(.tcb)])
        let identity = passed([.reportData, .nonce])
        let tier = { (ok: Bool) in ok ? Tier.affirming.rawValue : Tier.contraindicated.rawValue }
        var vector = ["hardware": tier(hardware), "executables": tier(executables),
                      "configuration": tier(configuration), "instance-identity": tier(identity)]
        if verdict.ok && verdict.lock == .runtime { vector["configuration"] = Tier.warning.rawValue }
        issuedAt = Int(now.timeIntervalSince1970)
        status = !verdict.ok ? "contraindicated" : (verdict.lock == .runtime || verdict.platform == .simulated ? "warning" : "affirming")
        self.vector = vector
        self.manifest = manifest.description
        lock = verdict.lock.rawValue
        platform = verdict.platform.rawValue
        failed = verdict.checks.filter { !$0.ok }.map(\.name.description)
    }

    enum CodingKeys: String, CodingKey {
        case profile = "eat_profile", iat, verifier = "ear.verifier-id", submods
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("tag:github.com,2023:veraison/ear", forKey: .profile)
        try container.encode(issuedAt, forKey: .iat)
        try container.encode(["developer": "twocvm", "build": "twocvm \(ToolVersion.current)"], forKey: .verifier)
        try container.encode(["twocvm": Submodule(result: self)], forKey: .submods)
    }

    private struct Submodule: Encodable {
        let result: AttestationResult

        enum CodingKeys: String, CodingKey {
            case status = "ear.status", vector = "ear.trustworthiness-vector", policy = "ear.appraisal-policy-id"
            case manifest = "twocvm.manifest", lock = "twocvm.lock", platform = "twocvm.platform", failed = "twocvm.failed-checks"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(result.status, forKey: .status)
            try container.encode(result.vector, forKey: .vector)
            try container.encode("twocvm:verify/1", forKey: .policy)
            try container.encode(result.manifest, forKey: .manifest)
            try container.encode(result.lock, forKey: .lock)
            try container.encode(result.platform, forKey: .platform)
            try container.encode(result.failed, forKey: .failed)
        }
    }
}

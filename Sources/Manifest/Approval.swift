import COSE
import Crypto

/// A participant's approval of a manifest (SPEC §3): COSE_Sign1, ES384, payload = the 48-byte
/// manifest digest, protected header `{alg: -35, content type: "application/twocvm-manifest-digest"}`,
/// kid = the participant id, also protected (the unprotected header is empty).
public enum Approval {
    public static let contentType = "application/twocvm-manifest-digest"

    /// Signs `digest` as participant `participantID`; returns the COSE_Sign1 bytes.
    public static func sign(_ digest: ManifestDigest, participantID: String, key: P384.Signing.PrivateKey) throws -> [UInt8] {
        try COSESign1.sign(payload: digest.bytes, contentType: contentType,
                           keyID: Array(participantID.utf8), key: key, protectKeyID: true).encoded()
    }

    /// Checks approval files against `manifest`: who approved, who is missing, which files are
    /// invalid and why. Never throws: every problem is part of the verdict.
    public static func verify(_ files: [(name: String, bytes: [UInt8])], manifest: Manifest,
                              digest: ManifestDigest) -> ApprovalVerdict {
        var approvedBy: [String: String] = [:]
        var invalid: [ApprovalVerdict.Invalid] = []
        for file in files {
            switch check(file.bytes, manifest: manifest, digest: digest) {
            case let .success(participant):
                approvedBy[participant] = approvedBy[participant] ?? file.name
            case let .failure(problem):
                invalid.append(.init(file: file.name, participant: problem.participant, reason: problem.reason))
            }
        }
        let missing = manifest.participants.map(\.id).filter { approvedBy[$0] == nil }
        return ApprovalVerdict(approvedBy: approvedBy, missing: missing, invalid: invalid)
    }

    private struct Problem: Error {
        let participant: String?
        let reason: String
    }

    private static func check(_ bytes: [UInt8], manifest: Manifest, digest: ManifestDigest) -> Result<String, Problem> {
        let message: COSESign1
        do {
            message = try COSESign1.decode(bytes)
        } catch {
            return .failure(Problem(participant: nil, reason: error.description))
        }
        // The kid is protected (signed), so an approval cannot be relabelled; nothing is unprotected.
        guard let kid = message.signedKeyID, let participantID = String(validating: kid, as: UTF8.self) else {
            return .failure(Problem(participant: nil, reason: "no protected kid naming the participant (or an unprotected header)"))
        }
        guard let participant = manifest.participant(participantID) else {
            return .failure(Problem(participant: participantID, reason: "'\(participantID)' is not a participant of this manifest"))
        }
        guard message.contentType == contentType else {
            return .failure(Problem(participant: participantID, reason: "content type is not \(contentType)"))
        }
        guard message.payload == digest.bytes else {
            let other = ManifestDigest(bytes: message.payload).map { "\($0)" } ?? "\(message.payload.count) bytes"
            return .failure(Problem(participant: participantID, reason: "approves another manifest (\(other))"))
        }
        do {
            try message.verify(with: participant.signingKey)
        } catch {
            return .failure(Problem(participant: participantID,
                                    reason: "\(error.description) with \(participantID)'s signing_key from the manifest"))
        }
        return .success(participantID)
    }
}

/// The outcome of checking approvals against a manifest.
public struct ApprovalVerdict: Sendable, Codable, Equatable {
    /// An approval file that does not count, and why.
    public struct Invalid: Sendable, Codable, Equatable {
        public let file: String
        /// The participant it claims to be from, when readable.
        public let participant: String?
        public let reason: String
    }

    /// Participant id → the file holding its valid approval.
    public let approvedBy: [String: String]
    /// Participants without a valid approval, in manifest order.
    public let missing: [String]
    public let invalid: [Invalid]

    /// True when every participant approved.
    public var complete: Bool { missing.isEmpty }
}

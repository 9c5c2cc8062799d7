import CBOR
import Crypto

/// An evidence file (`twocvm attest -o EVIDENCE`): everything a verifier needs, offline, to
/// check what a 2cVM runs. Deterministic CBOR (RFC 8949 §4.2.1), a map with text keys:
///
/// | key | type | content |
/// | --- | --- | --- |
/// | `type` | text | `"twocvm-evidence"` |
/// | `version` | uint | 1 |
/// | `platform` | text | `"snp"` (a real AMD SEV-SNP guest) or `"simulated"` |
/// | `tool` | text | the attesting twocvm's version, e.g. `"twocvm 0.1.0"` |
/// | `report` | bytes | the raw ATTESTATION_REPORT (0x4A0 bytes) as the device returned it |
/// | `certificates` | array | `[kind, DER]` pairs as obtained (`kind`: vcek, vlek, ask, ark, crl, or the GUID in hex) |
/// | `manifest` | bytes | the manifest's canonical CBOR (its SHA-384 is the manifest digest) |
/// | `runtime-data` | bytes | RFC 8785 JSON of the runtime data bound in REPORT_DATA |
/// | `lock` | text | `"launch"` (HOST_DATA holds the manifest) or `"runtime"` (lock file in the VM) |
/// | `signature` | bytes | ES384 (r ‖ s) by the TEE signing key over the encoding of all other fields |
///
/// The signature makes every byte of the file count: the report binds the TEE signing key (in
/// the runtime data), and that key signs the rest, so metadata such as `tool` or a redundant
/// certificate cannot be altered unnoticed.
///
/// Docs/evidence.md is the normative description.
public struct EvidenceBundle: Sendable, Equatable {
    public enum Platform: String, Sendable, Codable {
        case snp
        case simulated
    }

    /// How the manifest is locked to the VM (SPEC §4).
    public enum Lock: String, Sendable, Codable {
        /// HOST_DATA, set at launch, holds the manifest digest prefix.
        case launch
        /// HOST_DATA is zero; a create-once lock file inside the VM holds the manifest.
        case runtime
    }

    /// One certificate as obtained from the host.
    public struct Certificate: Sendable, Equatable {
        /// `vcek`, `vlek`, `ask`, `ark`, `crl`, or the table GUID in hex.
        public let kind: String
        public let der: [UInt8]

        public init(kind: String, der: [UInt8]) {
            self.kind = kind
            self.der = der
        }
    }

    public static let typeName = "twocvm-evidence"
    public static let currentVersion: UInt64 = 1
    /// The largest evidence file accepted.
    public static let maxBytes = 1 << 20

    public let platform: Platform
    public let tool: String
    public let report: [UInt8]
    public let certificates: [Certificate]
    public let manifestCBOR: [UInt8]
    public let runtimeData: [UInt8]
    public let lock: Lock
    /// ES384 signature (r ‖ s) by the TEE signing key over `signedBytes`.
    public let signature: [UInt8]

    public init(platform: Platform, tool: String, report: [UInt8], certificates: [Certificate],
                manifestCBOR: [UInt8], runtimeData: [UInt8], lock: Lock, signature: [UInt8] = []) {
        self.platform = platform
        self.tool = tool
        self.report = report
        self.certificates = certificates
        self.manifestCBOR = manifestCBOR
        self.runtimeData = runtimeData
        self.lock = lock
        self.signature = signature
    }

    /// This bundle signed by the TEE signing key.
    public func signed(by key: P384.Signing.PrivateKey) throws -> EvidenceBundle {
        let signature = try key.signature(for: signedBytes)
        return EvidenceBundle(platform: platform, tool: tool, report: report, certificates: certificates,
                              manifestCBOR: manifestCBOR, runtimeData: runtimeData, lock: lock,
                              signature: Array(signature.rawRepresentation))
    }

    /// True if `signature` verifies with `key` over `signedBytes`.
    public func isSigned(by key: P384.Signing.PublicKey) -> Bool {
        guard signature.count == 96, let ecdsa = try? P384.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
        return key.isValidSignature(ecdsa, for: signedBytes)
    }

    /// The deterministic CBOR encoding of every field but `signature`: what the TEE signs.
    public var signedBytes: [UInt8] { CBOR.textMap(fields).encoded() }

    /// The deterministic CBOR encoding.
    public func encoded() -> [UInt8] {
        CBOR.textMap(fields + [("signature", .bytes(signature))]).encoded()
    }

    private var fields: [(String, CBOR)] {
        [
            ("type", .text(Self.typeName)),
            ("version", .unsigned(Self.currentVersion)),
            ("platform", .text(platform.rawValue)),
            ("tool", .text(tool)),
            ("report", .bytes(report)),
            ("certificates", .array(certificates.map { .array([.text($0.kind), .bytes($0.der)]) })),
            ("manifest", .bytes(manifestCBOR)),
            ("runtime-data", .bytes(runtimeData)),
            ("lock", .text(lock.rawValue)),
        ]
    }

    /// Reads an evidence file from untrusted bytes. It must be in deterministic encoding, so
    /// that one evidence has exactly one byte representation.
    public static func decode(_ bytes: [UInt8]) throws(EvidenceError) -> EvidenceBundle {
        let value: CBOR
        do {
            value = try CBORDecoder.decode(bytes, limits: .init(maxInputBytes: maxBytes, maxDepth: 6, maxItems: 512),
                                           requireCanonical: true)
        } catch {
            throw .malformed(field: "file", reason: "\(error)")
        }
        guard let entries = value.mapEntries else { throw .malformed(field: "file", reason: "not a CBOR map") }
        let known: Set<String> = ["type", "version", "platform", "tool", "report", "certificates", "manifest", "runtime-data", "lock", "signature"]
        for entry in entries {
            guard let key = entry.key.textString, known.contains(key) else {
                throw .malformed(field: entry.key.textString ?? "\(entry.key)", reason: "unknown field")
            }
        }
        guard value[text: "type"]?.textString == typeName else { throw .malformed(field: "type", reason: "not \(typeName)") }
        guard case .unsigned(currentVersion)? = value[text: "version"] else {
            throw .malformed(field: "version", reason: "unsupported evidence version")
        }
        guard let platformText = value[text: "platform"]?.textString, let platform = Platform(rawValue: platformText) else {
            throw .malformed(field: "platform", reason: "must be snp or simulated")
        }
        guard let tool = value[text: "tool"]?.textString else { throw .malformed(field: "tool", reason: "missing text") }
        guard let report = value[text: "report"]?.byteString else { throw .malformed(field: "report", reason: "missing bytes") }
        guard let manifest = value[text: "manifest"]?.byteString else { throw .malformed(field: "manifest", reason: "missing bytes") }
        guard let runtime = value[text: "runtime-data"]?.byteString else {
            throw .malformed(field: "runtime-data", reason: "missing bytes")
        }
        guard let lockText = value[text: "lock"]?.textString, let lock = Lock(rawValue: lockText) else {
            throw .malformed(field: "lock", reason: "must be launch or runtime")
        }
        guard let signature = value[text: "signature"]?.byteString else {
            throw .malformed(field: "signature", reason: "missing bytes")
        }
        guard let items = value[text: "certificates"]?.arrayItems else {
            throw .malformed(field: "certificates", reason: "missing array")
        }
        var certificates: [Certificate] = []
        for (index, item) in items.enumerated() {
            guard let pair = item.arrayItems, pair.count == 2, let kind = pair[0].textString, let der = pair[1].byteString else {
                throw .malformed(field: "certificates[\(index)]", reason: "must be [kind, DER]")
            }
            certificates.append(Certificate(kind: kind, der: der))
        }
        return EvidenceBundle(platform: platform, tool: tool, report: report, certificates: certificates,
                              manifestCBOR: manifest, runtimeData: runtime, lock: lock, signature: signature)
    }

    /// The DER of the first certificate of `kind`.
    public func certificate(_ kind: String) -> [UInt8]? { certificates.first { $0.kind == kind }?.der }
}

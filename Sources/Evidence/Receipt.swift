import CBOR
import COSE
import Crypto
import Manifest

/// A run receipt (SPEC §8): what ran on which inputs and what was released, signed by the TEE
/// signing key bound in the VM's evidence, so an auditor can replay it later from files.
///
/// COSE_Sign1 (RFC 9052), ES384; protected header {alg: -35, content type:
/// `application/twocvm-receipt+cbor`, kid: `tee`}, empty unprotected header (so every byte of a
/// receipt is covered by its signature); the payload is a deterministic CBOR map:
///
/// | key | type | content |
/// | --- | --- | --- |
/// | `type` | text | `"twocvm-receipt"` |
/// | `version` | uint | 1 |
/// | `manifest` | bytes (48) | the manifest digest |
/// | `plan` | bytes (48) | SHA-384 of the execution plan file |
/// | `components` | array | `{"id", "digest" (32 bytes, SHA-256 of the module), "engine" (`wasmkit` or `wasmtime`), "engine-library" (32 bytes, SHA-256 of the wasmtime library; wasmtime only)}` in run order |
/// | `inputs` | array | `{"id", "sha256"}` of each sealed input file as received |
/// | `outputs` | array | `{"id", "recipient", "sha256"}` of each sealed output file written |
/// | `start`, `end` | text | RFC 3339 UTC times of the run |
public struct Receipt: Sendable, Equatable {
    /// One component that ran.
    public struct Component: Sendable, Equatable {
        public let id: String
        public let digest: [UInt8]
        /// The engine that ran it (`wasmkit` or `wasmtime`; receipts written before engines were
        /// recorded read as `wasmkit`).
        public let engine: String
        /// SHA-256 of the engine's library (wasmtime); nil for the built-in WasmKit.
        public let engineLibrary: [UInt8]?

        public init(id: String, digest: [UInt8], engine: String = "wasmkit", engineLibrary: [UInt8]? = nil) {
            self.id = id
            self.digest = digest
            self.engine = engine
            self.engineLibrary = engineLibrary
        }
    }

    /// One sealed file: an input (no recipient) or an output for one recipient.
    public struct SealedEntry: Sendable, Equatable {
        public let id: String
        public let recipient: String?
        /// SHA-256 of the sealed file's bytes.
        public let sha256: [UInt8]

        public init(id: String, recipient: String? = nil, sha256: [UInt8]) {
            self.id = id
            self.recipient = recipient
            self.sha256 = sha256
        }
    }

    public static let contentType = "application/twocvm-receipt+cbor"
    public static let typeName = "twocvm-receipt"

    public let manifest: ManifestDigest
    public let plan: [UInt8]
    public let components: [Component]
    public let inputs: [SealedEntry]
    public let outputs: [SealedEntry]
    public let start: String
    public let end: String

    public init(manifest: ManifestDigest, plan: [UInt8], components: [Component], inputs: [SealedEntry],
                outputs: [SealedEntry], start: String, end: String) {
        self.manifest = manifest
        self.plan = plan
        self.components = components
        self.inputs = inputs
        self.outputs = outputs
        self.start = start
        self.end = end
    }

    /// The receipt signed by the TEE signing key: COSE_Sign1 bytes.
    public func signed(by key: P384.Signing.PrivateKey) throws -> [UInt8] {
        try COSESign1.sign(payload: payload(), contentType: Self.contentType, keyID: Array("tee".utf8), key: key,
                           protectKeyID: true).encoded()
    }

    /// The output entry for a sealed file with these bytes and this recipient, if listed.
    public func output(sealedBytes: [UInt8], recipient: String) -> SealedEntry? {
        let digest = Array(SHA256.hash(data: sealedBytes))
        return outputs.first { $0.sha256 == digest && $0.recipient == recipient }
    }

    /// Reads a receipt, checking its COSE signature with the TEE signing key `signer`.
    public static func verify(_ bytes: [UInt8], signer: P384.Signing.PublicKey) throws(ReceiptError) -> Receipt {
        let message: COSESign1
        do {
            message = try COSESign1.decode(bytes)
            try message.verify(with: signer)
        } catch {
            throw .signature("\(error)")
        }
        guard message.contentType == contentType else { throw .malformed("content type is not \(contentType)") }
        guard message.signedKeyID == Array("tee".utf8) else {
            throw .malformed("headers must be protected, with kid \"tee\"")
        }
        return try decodePayload(message.payload)
    }

    /// Reads a receipt's content WITHOUT checking its signature: for display and fuzzing only.
    /// Anything that acts on a receipt uses ``verify(_:signer:)``.
    public static func decode(unverified bytes: [UInt8]) throws(ReceiptError) -> Receipt {
        let message: COSESign1
        do { message = try COSESign1.decode(bytes) } catch { throw .malformed("\(error)") }
        return try decodePayload(message.payload)
    }

    func payload() -> [UInt8] {
        func entry(_ e: SealedEntry) -> CBOR {
            var pairs: [(String, CBOR)] = [("id", .text(e.id)), ("sha256", .bytes(e.sha256))]
            if let recipient = e.recipient { pairs.append(("recipient", .text(recipient))) }
            return .textMap(pairs)
        }
        return CBOR.textMap([
            ("type", .text(Self.typeName)), ("version", .unsigned(1)),
            ("manifest", .bytes(manifest.bytes)), ("plan", .bytes(plan)),
            ("components", .array(components.map { component in
                .textMap([("id", .text(component.id)), ("digest", .bytes(component.digest)), ("engine", .text(component.engine))]
                         + (component.engineLibrary.map { [("engine-library", CBOR.bytes($0))] } ?? []))
            })),
            ("inputs", .array(inputs.map(entry))), ("outputs", .array(outputs.map(entry))),
            ("start", .text(start)), ("end", .text(end)),
        ]).encoded()
    }

    static func decodePayload(_ bytes: [UInt8]) throws(ReceiptError) -> Receipt {
        guard let value = try? CBORDecoder.decode(bytes, limits: .init(maxInputBytes: 1 << 20, maxDepth: 6, maxItems: 1 << 14),
                                                   requireCanonical: true),
              value[text: "type"]?.textString == typeName, value[text: "version"] == .unsigned(1),
              let manifestBytes = value[text: "manifest"]?.byteString, let manifest = ManifestDigest(bytes: manifestBytes),
              let plan = value[text: "plan"]?.byteString, plan.count == 48,
              let componentItems = value[text: "components"]?.arrayItems,
              let inputItems = value[text: "inputs"]?.arrayItems, let outputItems = value[text: "outputs"]?.arrayItems,
              let start = value[text: "start"]?.textString, let end = value[text: "end"]?.textString,
              value.mapEntries?.count == 9 else {
            throw .malformed("not a version 1 twocvm receipt")
        }
        var components: [Component] = []
        for item in componentItems {
            guard let id = item[text: "id"]?.textString, let digest = item[text: "digest"]?.byteString, digest.count == 32 else {
                throw .malformed("component entry")
            }
            let engine = item[text: "engine"]?.textString ?? "wasmkit"
            let library = item[text: "engine-library"]?.byteString
            guard ["wasmkit", "wasmtime"].contains(engine), library.map({ $0.count == 32 }) ?? true,
                  (library != nil) == (engine == "wasmtime") else {
                throw .malformed("component \(id): engine entry")
            }
            components.append(Component(id: id, digest: digest, engine: engine, engineLibrary: library))
        }
        func entries(_ items: [CBOR], outputs: Bool) throws(ReceiptError) -> [SealedEntry] {
            var result: [SealedEntry] = []
            for item in items {
                guard let id = item[text: "id"]?.textString, let sha = item[text: "sha256"]?.byteString, sha.count == 32 else {
                    throw .malformed("sealed-file entry")
                }
                let recipient = item[text: "recipient"]?.textString
                guard (recipient != nil) == outputs else { throw .malformed("recipient only on outputs") }
                result.append(SealedEntry(id: id, recipient: recipient, sha256: sha))
            }
            return result
        }
        return Receipt(manifest: manifest, plan: plan, components: components, inputs: try entries(inputItems, outputs: false),
                       outputs: try entries(outputItems, outputs: true), start: start, end: end)
    }
}

/// Why a receipt was refused.
public enum ReceiptError: Error, Equatable, CustomStringConvertible {
    case signature(String)
    case malformed(String)

    public var description: String {
        switch self {
        case let .signature(reason): return "receipt: \(reason) with the TEE signing key from the evidence"
        case let .malformed(reason): return "receipt: \(reason)"
        }
    }
}

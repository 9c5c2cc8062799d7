import Crypto
// The one hex codec (and with it the digest text rule) is the manifest's vocabulary: whoever
// reads a manifest's digests reads them with it.
@_exported import Hexadecimal

/// A Commitment Manifest (SPEC §3): who takes part, which Wasm components run, which data
/// flows where, and who receives which output. Built only by `ManifestDocument` from a
/// lint-clean TOML file, so every reference in it resolves and every key parses.
public struct Manifest: Sendable {
    public let version: Int
    public let name: String
    public let participants: [Participant]
    public let components: [Component]
    public let data: [DataItem]
    public let channels: [Channel]
    public let outputs: [Output]

    /// The participant with `id`, if any.
    public func participant(_ id: String) -> Participant? { participants.first { $0.id == id } }

    /// The component with `id`, if any.
    public func component(_ id: String) -> Component? { components.first { $0.id == id } }

    /// The data item with `id`, if any.
    public func dataItem(_ id: String) -> DataItem? { data.first { $0.id == id } }
}

/// An organisation taking part: its keys sign approvals and inputs, and receive outputs.
public struct Participant: Sendable {
    public let id: String
    public let displayName: String
    /// ECDSA P-384 key that signs approvals and sealed inputs.
    public let signingKey: P384.Signing.PublicKey
    /// P-384 key that outputs are sealed to (HPKE recipient).
    public let encryptionKey: P384.KeyAgreement.PublicKey
}

/// A WebAssembly component: the exact binary admitted, its owner, capabilities and limits.
public struct Component: Sendable {
    public let id: String
    public let owner: String
    public let digest: ContentDigest
    public let wasi: Set<WASICapability>
    public let limits: ComponentLimits
    /// The WebAssembly engine that runs it (`engine`; absent means ``ComponentEngine/wasmkit``).
    public let engine: ComponentEngine
}

/// The WebAssembly engine a component runs on: a term of the agreement, like its digest, so
/// that every participant knows what executes their data (SPEC §3, §8). Absent means
/// ``wasmkit``: the digest of a manifest never depends on what a machine has installed.
public enum ComponentEngine: String, Sendable, CaseIterable, Codable {
    /// WasmKit, the interpreter built into twocvm (fuel counts executed instructions).
    case wasmkit
    /// wasmtime (Cranelift), the compiling engine loaded from its pinned C library at run time
    /// (fuel counts wasmtime's fuel units).
    case wasmtime

    /// What the manifest means when it names no engine.
    public static let `default` = ComponentEngine.wasmkit
}

/// Host capabilities a component may have beyond its channels (SPEC §3, §8).
public enum WASICapability: String, Sendable, CaseIterable, Codable {
    /// `clock_*` and `poll_oneoff` on clocks.
    case clock
    /// `random_get`.
    case random
}

/// Resource limits of one component.
public struct ComponentLimits: Sendable, Equatable, Codable {
    public let fuel: UInt64
    public let memoryMiB: Int
    public let timeoutSeconds: Int

    public init(fuel: UInt64, memoryMiB: Int, timeoutSeconds: Int) {
        self.fuel = fuel
        self.memoryMiB = memoryMiB
        self.timeoutSeconds = timeoutSeconds
    }

    /// Used for any limit the manifest leaves out.
    public static let `default` = ComponentLimits(fuel: 10_000_000_000, memoryMiB: 256, timeoutSeconds: 600)
    /// The accepted range of each limit.
    public static let fuelRange: ClosedRange<Int> = 1...1_000_000_000_000_000
    public static let memoryMiBRange: ClosedRange<Int> = 1...4096
    public static let timeoutSecondsRange: ClosedRange<Int> = 1...86_400
}

/// An input dataset owned by one participant.
public struct DataItem: Sendable {
    public let id: String
    public let owner: String
    /// Pins the exact plaintext when present.
    public let digest: ContentDigest?
}

/// One edge of the dataflow graph: the only ways data moves.
public struct Channel: Sendable, Equatable {
    public enum Source: Sendable, Equatable, CustomStringConvertible {
        /// `data.<id>`: an input dataset.
        case data(String)
        /// `<component>.<name>`: a named output file of another component.
        case component(String, output: String)

        public var description: String {
            switch self {
            case let .data(id): return "data.\(id)"
            case let .component(id, output): return "\(id).\(output)"
            }
        }
    }

    public let from: Source
    /// The receiving component's id.
    public let to: String

    /// The file name the receiving component sees, as `/in/<name>`.
    public var inputName: String {
        switch from {
        case let .data(id): return id
        case let .component(_, output): return output
        }
    }
}

/// An authorised result: written by one component, sealed separately to each recipient.
public struct Output: Sendable {
    public let id: String
    /// The component writing `/out/<id>`.
    public let from: String
    /// Participant ids receiving it.
    public let to: [String]
    public let maxBytes: Int

    public static let maxBytesRange: ClosedRange<Int> = 1...(1 << 30)
    public static let defaultMaxBytes = 16 << 20
}

/// A SHA-256 content digest written `sha256:<64 hex>` (a ``HexDigest``).
public struct ContentDigest: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// Parses `sha256:<64 lowercase hex>`; nil otherwise.
    public init?(_ text: String) {
        guard let digest = HexDigest(text), digest.algorithm == .sha256 else { return nil }
        bytes = digest.bytes
    }

    /// Wraps 32 bytes; nil for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == HexDigest.Algorithm.sha256.byteCount else { return nil }
        self.bytes = bytes
    }

    /// The digest of `content`.
    public init(of content: some Sequence<UInt8>) {
        var hasher = SHA256()
        hasher.update(data: Array(content))
        bytes = Array(hasher.finalize())
    }

    /// The digest as `algorithm:hex`.
    public var hexDigest: HexDigest { HexDigest(.sha256, bytes: bytes) }

    public var description: String { hexDigest.description }
}

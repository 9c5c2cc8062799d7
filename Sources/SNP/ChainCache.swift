import Crypto
import Synchronization

/// The certificate files of one verification, as read: the endorsement key file (`--cert`, DER
/// or PEM, possibly a bundle that also holds the ASK and ARK) and the optional chain file
/// (`--chain`). `source` strings name the files in errors.
public struct EndorsementFiles: Sendable, Hashable {
    public var endorsementKey: [UInt8]
    public var endorsementKeySource: String
    public var chain: [UInt8]?
    public var chainSource: String

    public init(endorsementKey: [UInt8], endorsementKeySource: String = "--cert",
                chain: [UInt8]? = nil, chainSource: String = "--chain") {
        self.endorsementKey = endorsementKey
        self.endorsementKeySource = endorsementKeySource
        self.chain = chain
        self.chainSource = chainSource
    }
}

/// The certificates of a file set, parsed: the endorsement key and everything else supplied.
public struct LoadedEndorsement: Sendable {
    public let endorsementKey: EndorsementKey
    public let supplied: [Certificate]

    /// Parses `files`. The endorsement key is the VCEK/VLEK in the `--cert` file (its first
    /// certificate if none is named SEV-VCEK or SEV-VLEK); every other certificate is supplied
    /// chain material.
    public init(files: EndorsementFiles) throws(CertificateError) {
        let inCertFile = try Certificate.load(files.endorsementKey, source: files.endorsementKeySource)
        let chainFile = try files.chain.map { bytes throws(CertificateError) in
            try Certificate.load(bytes, source: files.chainSource)
        } ?? []
        let vek = inCertFile.first { EndorsementKey.kindOf($0) != nil } ?? inCertFile[0]
        endorsementKey = try EndorsementKey(vek)
        supplied = inCertFile.filter { $0 != vek } + chainFile
    }
}

/// An in-process cache of chain results keyed by the certificate file set (the SHA-256 of the
/// files' bytes) and product: parsing and the RSA signature checks happen once per file set;
/// a hit costs a hash and a lookup. Validity periods are not cached: they are checked for every
/// verification's own time.
public final class ChainCache: Sendable {
    /// The cache the CLI and library use unless told otherwise.
    public static let shared = ChainCache()

    private struct Entry {
        var loaded: LoadedEndorsement
        var chains: [Product: Result<VerifiedChain, ChainError>]
    }

    private let capacity: Int
    private let entries = Mutex<[SHA256Digest: Entry]>([:])

    /// A cache holding at most `capacity` file sets (it empties itself when full).
    public init(capacity: Int = 64) {
        self.capacity = max(1, capacity)
    }

    /// The number of file sets cached.
    public var count: Int { entries.withLock { $0.count } }

    /// The parsed certificates of `files`, parsed once per file set.
    public func loaded(_ files: EndorsementFiles) throws(CertificateError) -> LoadedEndorsement {
        try entry(files).loaded
    }

    /// The time-independent chain result for `files` and `product`, computed once.
    public func chain(_ files: EndorsementFiles, product: Product, anchors: TrustAnchors) throws(CertificateError)
        -> Result<VerifiedChain, ChainError> {
        chain(try entry(files), product: product, anchors: anchors)
    }

    /// A file set's cache key and parsed certificates (hashing the files once per verification).
    struct Handle {
        let key: SHA256Digest
        let loaded: LoadedEndorsement
    }

    func entry(_ files: EndorsementFiles) throws(CertificateError) -> Handle {
        let key = Self.key(files)
        if let hit = entries.withLock({ $0[key]?.loaded }) { return Handle(key: key, loaded: hit) }
        let loaded = try LoadedEndorsement(files: files)
        entries.withLock { entries in
            if entries[key] == nil {
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
                entries[key] = Entry(loaded: loaded, chains: [:])
            }
        }
        return Handle(key: key, loaded: loaded)
    }

    func chain(_ handle: Handle, product: Product, anchors: TrustAnchors) -> Result<VerifiedChain, ChainError> {
        if let hit = entries.withLock({ $0[handle.key]?.chains[product] }) { return hit }
        let result = Result { () throws(ChainError) in
            try CertificateChain.verify(endorsementKey: handle.loaded.endorsementKey, supplied: handle.loaded.supplied,
                                        product: product, anchors: anchors)
        }
        entries.withLock { $0[handle.key]?.chains[product] = result }
        return result
    }

    private static func key(_ files: EndorsementFiles) -> SHA256Digest {
        var hasher = SHA256()
        hasher.update(data: Array(SHA256.hash(data: files.endorsementKey)))
        if let chain = files.chain {
            hasher.update(data: [1])
            hasher.update(data: Array(SHA256.hash(data: chain)))
        } else {
            hasher.update(data: [0])
        }
        return hasher.finalize()
    }
}

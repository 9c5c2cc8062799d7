import Crypto

/// What the schema decoder could read, element by element with its path. The graph rules run
/// on it (so a bad key elsewhere does not hide a dangling reference), and it becomes a
/// `Manifest` once there is no error.
struct ManifestDraft {
    struct ParticipantDraft {
        let path: ManifestPath
        var id: String?
        var displayName: String?
        var signingKey: P384.Signing.PublicKey?
        var encryptionKey: P384.KeyAgreement.PublicKey?
    }

    struct ComponentDraft {
        let path: ManifestPath
        var id: String?
        var owner: String?
        var digest: ContentDigest?
        var wasi: Set<WASICapability> = []
        var limits = ComponentLimits.default
        var engine = ComponentEngine.default
    }

    struct DataDraft {
        let path: ManifestPath
        var id: String?
        var owner: String?
        var digest: ContentDigest?
    }

    struct ChannelDraft {
        let path: ManifestPath
        var from: Channel.Source?
        var to: String?
    }

    struct OutputDraft {
        let path: ManifestPath
        var id: String?
        var from: String?
        var to: [String]?
        var maxBytes = Output.defaultMaxBytes
    }

    var version = SchemaDecoder.supportedVersion
    var name: String?
    var participants: [ParticipantDraft] = []
    var components: [ComponentDraft] = []
    var data: [DataDraft] = []
    var channels: [ChannelDraft] = []
    var outputs: [OutputDraft] = []

    /// The manifest, if every required piece was read.
    func build() -> Manifest? {
        guard let name else { return nil }
        var ps: [Participant] = []
        for p in participants {
            guard let id = p.id, let displayName = p.displayName, let s = p.signingKey, let e = p.encryptionKey else { return nil }
            ps.append(Participant(id: id, displayName: displayName, signingKey: s, encryptionKey: e))
        }
        var cs: [Component] = []
        for c in components {
            guard let id = c.id, let owner = c.owner, let digest = c.digest else { return nil }
            cs.append(Component(id: id, owner: owner, digest: digest, wasi: c.wasi, limits: c.limits, engine: c.engine))
        }
        var ds: [DataItem] = []
        for d in data {
            guard let id = d.id, let owner = d.owner else { return nil }
            ds.append(DataItem(id: id, owner: owner, digest: d.digest))
        }
        var chs: [Channel] = []
        for c in channels {
            guard let from = c.from, let to = c.to else { return nil }
            chs.append(Channel(from: from, to: to))
        }
        var os: [Output] = []
        for o in outputs {
            guard let id = o.id, let from = o.from, let to = o.to else { return nil }
            os.append(Output(id: id, from: from, to: to, maxBytes: o.maxBytes))
        }
        return Manifest(version: version, name: name, participants: ps, components: cs, data: ds, channels: chs, outputs: os)
    }
}

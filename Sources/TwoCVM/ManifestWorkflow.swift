import Foundation

/// The manifest digest as other workflows need it (launch-measure reference values, attest).
public struct ManifestDigestSummary: Sendable, Equatable {
    /// `sha384:<96 hex>`.
    public let digest: String
    /// The 48 digest bytes.
    public let digestBytes: [UInt8]
    /// HOST_DATA: the first 32 bytes of the digest (SPEC §4).
    public var hostData: [UInt8] { Array(digestBytes.prefix(32)) }
}

/// Workflows over manifest files. (Filled in by the manifest engine work.)
public enum ManifestWorkflow {
    /// Parses, lints and digests the manifest at `path`; throws if it cannot be used.
    public static func digest(ofManifestAt path: String) throws -> ManifestDigestSummary {
        fatalError("not yet implemented")
    }
}

import CBOR
import COSE
import Manifest

/// Feeds bytes to the bounded CBOR decoder, in both lax and canonical mode. Anything accepted
/// must re-encode deterministically, and that encoding must be accepted as canonical and be a
/// fixed point (maps compare in entry order, so the check is on bytes).
@Sendable func fuzzCBOR(_ bytes: [UInt8]) {
    if let value = try? CBORDecoder.decode(bytes, limits: .init(maxInputBytes: 1 << 20, maxDepth: 32, maxItems: 1 << 16)) {
        let encoded = value.encoded()
        guard let again = try? CBORDecoder.decode(encoded, requireCanonical: true), again.encoded() == encoded else {
            fatalError("the deterministic re-encoding is not canonical or not a fixed point")
        }
    }
    _ = try? CBORDecoder.decode(bytes, requireCanonical: true)
    _ = try? COSESign1.decode(bytes)
}

/// Feeds bytes to the manifest parser and linter (which must never crash on any input).
@Sendable func fuzzManifest(_ bytes: [UInt8]) {
    let document = ManifestDocument.parse(bytes, fileName: "fuzz.toml")
    if document.hasErrors {
        guard document.digest == nil, document.manifest == nil else { fatalError("a manifest with errors got a digest") }
    }
}

import CBOR
import COSE
import Manifest

/// Feeds bytes to the bounded CBOR decoder, in both lax and canonical mode. Anything accepted
/// must re-encode deterministically and decode canonically to the same value.
@Sendable func fuzzCBOR(_ bytes: [UInt8]) {
    if let value = try? CBORDecoder.decode(bytes, limits: .init(maxInputBytes: 1 << 20, maxDepth: 32, maxItems: 1 << 16)) {
        let encoded = value.encoded()
        guard (try? CBORDecoder.decode(encoded, requireCanonical: true)) == value || value.containsNaN else {
            fatalError("re-encoding changed the value")
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

extension CBOR {
    /// NaN never equals itself, so round-trip checks skip values holding one.
    var containsNaN: Bool {
        switch self {
        case let .float(d): return d.isNaN
        case let .array(items): return items.contains { $0.containsNaN }
        case let .map(entries): return entries.contains { $0.key.containsNaN || $0.value.containsNaN }
        case let .tagged(_, item): return item.containsNaN
        default: return false
        }
    }
}

import CBOR
import Manifest

/// Feeds bytes to the bounded CBOR decoder, in both lax and canonical mode.
func fuzzCBOR(_ bytes: [UInt8]) {}

/// Feeds bytes to the manifest parser and linter.
func fuzzManifest(_ bytes: [UInt8]) {}

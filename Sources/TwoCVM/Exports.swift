// TwoCVM's public API is made of the lower targets' types: a workflow returns an
// `AttestationReport` or `ReportVerification` (SNP), an `EvidenceBundle` (Evidence), a
// `ManifestDigest` or `Diagnostic` (Manifest); flags become `ValidationOptions` (SNP) and hex
// goes through `Hex` (Hexadecimal). Whoever imports TwoCVM gets them, so the executable depends
// on TwoCVM (and ArgumentParser) alone (SPEC §2, Docs/architecture.md).
@_exported import Evidence
@_exported import Hexadecimal
@_exported import Manifest
@_exported import SNP

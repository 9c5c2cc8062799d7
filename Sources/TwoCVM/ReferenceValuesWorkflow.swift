import Foundation
import Manifest
import SNP

/// Why a reference-values file could not be written.
public enum ReferenceValuesWorkflowError: TwoCVMError {
    /// REF already holds values for another manifest; merging would mix two guests.
    case manifestMismatch(path: String, recorded: HexDigest, manifest: HexDigest)
    /// REF's HOST_DATA is not the prefix of its own manifest digest (the file was edited).
    case hostDataMismatch(path: String)
    /// REF was written with another guest policy than the one asked for now.
    case guestPolicyMismatch(path: String, recorded: UInt64, requested: UInt64)
    /// REF was written with another minimum TCB than the one asked for now.
    case minimumTCBMismatch(path: String)
    /// The file cannot be read or written.
    case file(FileIOError)
    /// The file is not valid reference values, or the values asked for are not (a guest policy).
    case malformed(ReferenceValuesError)
    /// The manifest the values are recorded for cannot be read or has lint errors.
    case manifest(ManifestWorkflowError)

    /// A file that is not reference values, or cannot take these values: the input (2); a file
    /// or manifest that cannot be used exits as its own error says.
    public var exitStatus: ExitStatus {
        switch self {
        case let .file(error): return error.exitStatus
        case let .manifest(error): return error.exitStatus
        case .manifestMismatch, .hostDataMismatch, .guestPolicyMismatch, .minimumTCBMismatch, .malformed: return .badInput
        }
    }

    public var description: String {
        switch self {
        case let .manifestMismatch(path, recorded, manifest):
            return "\(path): holds reference values for manifest \(recorded), not \(manifest); "
                + "write them to another file or remove it"
        case let .hostDataMismatch(path):
            return "\(path): host_data is not the first 32 bytes of its manifest_digest"
        case let .guestPolicyMismatch(path, recorded, requested):
            return "\(path): guest_policy is 0x\(String(recorded, radix: 16)), not the requested "
                + "0x\(String(requested, radix: 16)); one file holds one policy"
        case let .file(error):
            return error.description
        case let .malformed(error):
            return error.description
        case let .manifest(error):
            return error.description
        case let .minimumTCBMismatch(path):
            return "\(path): minimum_tcb differs from the requested --min-tcb; one file holds one minimum"
        }
    }
}

/// What `record` did.
public struct ReferenceValuesOutcome: Sendable {
    /// The values now in the file.
    public let values: ReferenceValues
    /// Whether the file was newly created (rather than merged into).
    public let created: Bool
    /// Whether the measurement was new to the file (false: it was already accepted).
    public let added: Bool
}

/// `launch-measure --manifest M --reference-out REF`: binds launch measurements to a manifest
/// in a reference-values file that `verify` reads (SPEC §4, §6 check 8).
///
/// HOST_DATA is the first 32 bytes of the manifest digest (the launch lock). Running the
/// command again for the same manifest (for another vCPU count, say) adds the new measurement
/// to the same file; a file for another manifest is never overwritten.
public enum ReferenceValuesWorkflow {
    /// Reference-values files are small; anything larger is not one.
    public static let sizeLimit = 4 << 20

    /// Digests the manifest at `manifestPath` and records `entry` in the file at `path`.
    ///
    /// - Parameters:
    ///   - guestPolicy: the policy to require; nil keeps the file's (or the default for a new one).
    ///   - minimumTCB: the minimum TCB to require; nil keeps the file's (none for a new one).
    @discardableResult
    public static func record(
        _ entry: ReferenceValues.AcceptedMeasurement, manifestAt manifestPath: String, to path: String,
        guestPolicy: UInt64? = nil, minimumTCB: ReferenceValues.MinimumTCB? = nil
    ) throws(ReferenceValuesWorkflowError) -> ReferenceValuesOutcome {
        let manifest: ManifestDigest
        do { manifest = try ManifestWorkflow.load(manifestPath).digest } catch { throw .manifest(error) }
        return try record(entry, manifest: manifest, to: path, guestPolicy: guestPolicy, minimumTCB: minimumTCB)
    }

    /// Records `entry` for an already digested manifest; written atomically.
    @discardableResult
    public static func record(
        _ entry: ReferenceValues.AcceptedMeasurement, manifest: ManifestDigest, to path: String,
        guestPolicy: UInt64? = nil, minimumTCB: ReferenceValues.MinimumTCB? = nil
    ) throws(ReferenceValuesWorkflowError) -> ReferenceValuesOutcome {
        var values: ReferenceValues
        let created: Bool
        if FileManager.default.fileExists(atPath: path) {
            values = try load(path)
            guard values.manifestDigest == manifest.hexDigest else {
                throw ReferenceValuesWorkflowError.manifestMismatch(
                    path: path, recorded: values.manifestDigest, manifest: manifest.hexDigest)
            }
            guard values.hostData == manifest.hostData else {
                throw ReferenceValuesWorkflowError.hostDataMismatch(path: path)
            }
            if let guestPolicy, guestPolicy != values.guestPolicy {
                throw ReferenceValuesWorkflowError.guestPolicyMismatch(
                    path: path, recorded: values.guestPolicy, requested: guestPolicy)
            }
            if let minimumTCB {
                if let recorded = values.minimumTCB, recorded != minimumTCB {
                    throw ReferenceValuesWorkflowError.minimumTCBMismatch(path: path)
                }
                values.minimumTCB = minimumTCB
            }
            created = false
        } else {
            do {
                values = try ReferenceValues(
                    manifestDigest: manifest.hexDigest, hostData: manifest.hostData,
                    guestPolicy: guestPolicy ?? ReferenceValues.defaultGuestPolicy, minimumTCB: minimumTCB)
            } catch {
                throw .malformed(error)
            }
            created = true
        }
        let added = values.add(entry)
        do { try FileIO.writeAtomically(values.encoded(), to: path) } catch { throw .file(error) }
        return ReferenceValuesOutcome(values: values, created: created, added: added)
    }

    /// Reads and checks the reference-values file at `path` (what `verify --reference` reads).
    public static func load(_ path: String) throws(ReferenceValuesWorkflowError) -> ReferenceValues {
        let bytes: [UInt8]
        do { bytes = try FileIO.read(path, limit: sizeLimit) } catch { throw .file(error) }
        do { return try ReferenceValues.decode(bytes, path: path) } catch { throw .malformed(error) }
    }
}

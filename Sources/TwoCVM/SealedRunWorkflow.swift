import Crypto
import Evidence
import Foundation
import Manifest
import Sandbox
import SNP

/// `twocvm run PLAN --inputs DIR --out DIR` inside the confidential VM (SPEC §8): checks the
/// manifest lock, opens every sealed input with the TEE key before any component starts, runs
/// the plan, seals each released output to each of its recipients, and signs a receipt with
/// the TEE signing key. Plaintext stays in sealed memory files (memfd, never on disk), this
/// process's memory and its children's pipes;
/// nothing is written unless the whole run succeeded.
public enum SealedRunWorkflow {
    /// The name the TEE goes by in sealed files: recipient of inputs, sender of outputs.
    public static let teeName = "tee"
    /// The largest sealed input opened (plaintext bytes): inputs are held in memory files.
    public static let maxInputBytes: UInt64 = 1 << 30
    /// The receipt's file name in the output directory.
    public static let receiptFile = "receipt.cose"

    /// One sealed output file written.
    public struct SealedOutput: Sendable {
        public let id: String
        public let recipient: String
        public let path: String
        /// Plaintext bytes.
        public let length: Int
        /// SHA-256 of the sealed file, as the receipt lists it.
        public let sha256: [UInt8]
    }

    /// What a sealed run did.
    public struct Outcome: Sendable {
        public let receipt: Receipt
        public let receiptPath: String
        public let outputs: [SealedOutput]
        public let statistics: [ComponentStatistics]
        public let platform: EvidenceBundle.Platform
        public let lock: EvidenceBundle.Lock
    }

    /// Runs the plan at `planPath` on `inputsDirectory/<data-id>.sealed`, writing
    /// `outputDirectory/<output-id>.<recipient>.sealed` and `outputDirectory/receipt.cose`.
    public static func run(planPath: String, inputsDirectory: String, outputDirectory: String, statePath: String,
                           platform: AttestWorkflow.Platform = .auto, launcher: any ComponentLauncher,
                           engines: EngineLibraries = EngineLibraries(),
                           progress: (ComponentStatistics) -> Void = { _ in }) throws(SealedRunError) -> Outcome {
        let plan: ExecutionPlan
        do { plan = try PlanRunner.loadPlan(planPath, launcher: launcher, engines: engines) } catch { throw .plan(error) }

        // 1. This VM, locked to this manifest, with the TEE keys inputs were sealed to.
        let vm = try lockedVM(for: plan, platform: platform, statePath: statePath)

        // 2. Every input opened and checked before any component starts.
        // Each plaintext goes straight into a sealed memory file the components' children read.
        var plaintexts: [String: SandboxInputFile] = [:]
        defer { plaintexts.values.forEach { _ = close($0.descriptor) } }
        var plaintextDigests: [String: ContentDigest] = [:]
        var sealedInputs: [Receipt.SealedEntry] = []
        for item in plan.data {
            guard let owner = plan.manifest.participant(item.owner) else { throw .unknownOwner(data: item.id, owner: item.owner) }
            let opened = try openInput(item, owner: owner, directory: inputsDirectory, digest: plan.manifestDigest, key: vm.keys.hpke)
            plaintexts[item.id] = opened.plaintext
            plaintextDigests[item.id] = opened.plaintextDigest  // version 1 only; the runner hashes the rest if pinned
            sealedInputs.append(Receipt.SealedEntry(id: item.id, sha256: opened.fileSHA256))
        }

        // 3. The components, as in --dev. The runner checks each input against the digest the
        // manifest pins (the one place that check is made), before any component starts; the
        // plaintext digests version 1 opens verified spare it hashing those inputs again.
        let start = Date()
        let result: PlanRunResult
        do {
            result = try PlanRunner(plan: plan, launcher: launcher, engines: engines)
                .run(inputFiles: plaintexts, knownDigests: plaintextDigests, progress: progress)
        } catch PlanRunError.inputDigestMismatch(let data, let expected, let actual) {
            throw .inputDigestMismatch(data: data, path: inputPath(data, in: inputsDirectory), pinned: expected.hexDigest,
                                       found: actual.hexDigest)
        } catch {
            throw .run(error, outputDirectory: outputDirectory)
        }
        let end = Date()

        // 4. Each released output sealed to each recipient, in memory; then the receipt.
        let files = try sealOutputs(of: plan, result: result, directory: outputDirectory, senderKey: vm.keys.signing)
        let receipt = Receipt(
            manifest: plan.manifestDigest, plan: plan.digest,
            components: zip(plan.steps, result.statistics).map { step, stats in
                Receipt.Component(id: step.id, digest: step.digest.bytes, engine: stats.engine, engineLibrary: stats.engineLibrary)
            },
            inputs: sealedInputs,
            outputs: files.map { Receipt.SealedEntry(id: $0.0.id, recipient: $0.0.recipient, sha256: $0.0.sha256) },
            start: timestamp(start), end: timestamp(end))
        let receiptBytes: [UInt8]
        do { receiptBytes = try receipt.signed(by: vm.keys.signing) } catch { throw .receiptSigning(error) }

        // 5. Written only now, each file atomically, the receipt last.
        let receiptPath = "\(outputDirectory)/\(receiptFile)"
        do {
            try FileIO.makeDirectory(outputDirectory)
            for (output, bytes) in files {
                try FileIO.writeAtomically(bytes, to: output.path, mode: 0o644)
            }
            try FileIO.writeAtomically(receiptBytes, to: receiptPath, mode: 0o644)
        } catch {
            throw .write(error)
        }
        return Outcome(receipt: receipt, receiptPath: receiptPath, outputs: files.map(\.0), statistics: result.statistics,
                       platform: vm.platform, lock: vm.lock)
    }

    /// This VM as step 1 found it: its TEE keys, the platform it runs on and its manifest lock.
    private struct LockedVM {
        let keys: (hpke: P384.KeyAgreement.PrivateKey, signing: P384.Signing.PrivateKey)
        let platform: EvidenceBundle.Platform
        let lock: EvidenceBundle.Lock
    }

    /// Step 1: the TEE keys (which must exist: inputs were sealed to them) and a fresh report
    /// of this VM, whose HOST_DATA or runtime lock must name the plan's manifest.
    private static func lockedVM(for plan: ExecutionPlan, platform: AttestWorkflow.Platform,
                                 statePath: String) throws(SealedRunError) -> LockedVM {
        let state = StateDirectory(statePath)
        let (device, kind) = try platformDevice(platform, statePath: statePath)
        let keys: (hpke: P384.KeyAgreement.PrivateKey, signing: P384.Signing.PrivateKey)
        do { keys = try state.teeKeys(create: false) } catch { throw .state(error) }
        let selfCheck: RuntimeData
        do {
            selfCheck = try RuntimeData(manifest: plan.manifestDigest, nonce: randomNonce(),
                                        teePublicKey: keys.hpke.publicKey, teeSigningKey: keys.signing.publicKey)
        } catch {
            throw .runtimeData(error)
        }
        let reportBytes: [UInt8]
        do { reportBytes = try device.report(reportData: selfCheck.reportData, vmpl: nil).report } catch { throw .notInConfidentialVM(error) }
        let report: AttestationReport
        do { report = try AttestationReport(bytes: reportBytes) } catch { throw .report(error) }
        let lock: EvidenceBundle.Lock
        do { lock = try VMLock.check(report, digest: plan.manifestDigest, state: state) } catch { throw .state(error) }
        return LockedVM(keys: keys, platform: kind, lock: lock)
    }

    /// Step 4: every released output sealed to each of its recipients, in memory, with the
    /// path it will be written to.
    private static func sealOutputs(of plan: ExecutionPlan, result: PlanRunResult, directory: String,
                                    senderKey: P384.Signing.PrivateKey) throws(SealedRunError) -> [(SealedOutput, [UInt8])] {
        var files: [(SealedOutput, [UInt8])] = []
        for output in plan.outputs {
            guard let plaintext = result.outputs[output.id] else {
                throw .run(.missingOutput(component: output.from, name: output.id), outputDirectory: directory)
            }
            for recipient in output.to {
                guard let participant = plan.manifest.participant(recipient) else {
                    throw .unknownRecipient(output: output.id, recipient: recipient)
                }
                // The streaming sealer, into memory: it returns the file's SHA-256 (the receipt's
                // name for it) from the hash its signature needs, so the file is hashed once.
                var sealed: [UInt8] = []
                let result: SealedFile.Sealed
                do {
                    result = try SealedFile.seal(reading: { SealedFile.bufferReader(over: plaintext) }, length: UInt64(plaintext.count),
                                                 manifest: plan.manifestDigest, purpose: .output, id: output.id,
                                                 recipientName: recipient, recipientKey: participant.encryptionKey,
                                                 sender: teeName, senderKey: senderKey, write: { sealed += $0 })
                } catch {
                    throw .outputSealing(output: output.id, recipient: recipient, error)
                }
                let path = "\(directory)/\(output.id).\(recipient).sealed"
                files.append((SealedOutput(id: output.id, recipient: recipient, path: path, length: plaintext.count,
                                           sha256: result.fileSHA256), sealed))
            }
        }
        return files
    }

    /// The guest device of this VM; without one, sealed runs cannot happen here.
    private static func platformDevice(_ platform: AttestWorkflow.Platform,
                                       statePath: String) throws(SealedRunError) -> (any GuestDevice, EvidenceBundle.Platform) {
        do {
            return try VMLock.device(platform, statePath: statePath)
        } catch {
            switch error {
            case let .device(error): throw .notInConfidentialVM(error)
            case let .simulator(error): throw .simulator(error)
            }
        }
    }

    /// Where the sealed input for data item `id` is read from.
    private static func inputPath(_ id: String, in directory: String) -> String { "\(directory)/\(id).sealed" }

    /// Opens `directory/<id>.sealed`: sealed to the TEE for this manifest and data id, signed by
    /// the data's owner. Returns the plaintext, its SHA-256 if the open established it (a
    /// version 1 header's, which the open checked against the plaintext; version 2 declares
    /// none, and the runner hashes the plaintext only if the manifest pins it) and the SHA-256
    /// of the sealed file as read.
    private static func openInput(_ item: PlanData, owner: Participant, directory: String, digest: ManifestDigest,
                                  key: P384.KeyAgreement.PrivateKey) throws(SealedRunError)
        -> (plaintext: SandboxInputFile, plaintextDigest: ContentDigest?, fileSHA256: [UInt8]) {
        let path = inputPath(item.id, in: directory)
        guard FileManager.default.fileExists(atPath: path) else { throw .missingInput(data: item.id, path: path) }
        let file = SealedFileOnDisk(path: path)
        let expect = SealedFile.Expectation(manifest: digest, purpose: .input, id: item.id, recipient: teeName,
                                            sender: owner.id, senderKey: owner.signingKey)
        let claimed: SealedFileHeader
        do { claimed = try file.header() } catch { throw .inputRefused(data: item.id, path: path, reason: error) }
        guard claimed.length <= maxInputBytes else { throw .inputTooLarge(data: item.id, path: path, length: claimed.length) }
        // Dropped, and so closed, unless the whole open succeeds.
        let plaintext: SealedInputFile.Writer
        do { plaintext = try SealedInputFile.Writer(name: item.id) } catch { throw .inputFile(error) }
        var memoryFailure: SealedInputFileError?
        let opened: (header: SealedFileHeader, sha256: [UInt8])
        do throws(SealError) {
            // Bounded by the length checked above: the open reads the header again, and a file
            // swapped in between must not grow the memory file past it before its signature fails.
            opened = try file.open(recipientKey: key, expect: expect, claimed: claimed) { chunk in
                guard plaintext.length + chunk.count <= claimed.length else {
                    throw FileIOError.tooLarge(path: path, size: plaintext.length + chunk.count, limit: Int(claimed.length))
                }
                do throws(SealedInputFileError) { try plaintext.append(chunk) } catch { memoryFailure = error; throw error }
            }
        } catch {
            if let memoryFailure { throw .inputFile(memoryFailure) }
            throw .inputRefused(data: item.id, path: path, reason: error)
        }
        let sealed: SandboxInputFile
        do { sealed = try plaintext.seal() } catch { throw .inputFile(error) }
        return (sealed, opened.header.sha256.flatMap(ContentDigest.init(bytes:)), opened.sha256)
    }

    private static func randomNonce() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// RFC 3339 UTC with seconds, as receipts carry times.
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

/// Why a sealed run refused or stopped. Nothing is written when it does.
public enum SealedRunError: TwoCVMError {
    /// The plan cannot be used.
    case plan(PlanError)
    /// No guest device to run in.
    case notInConfidentialVM(GuestDeviceError)
    /// No simulated VM to run in (`--platform simulated`, or `auto` with a `sim/` folder).
    case simulator(SimulatorWorkflowError)
    /// The VM is locked to another manifest, or has no TEE keys yet.
    case state(StateError)
    /// This VM's own report could not be asked for or read.
    case runtimeData(EvidenceError)
    case report(ReportError)
    case outputSealing(output: String, recipient: String, SealError)
    case receiptSigning(any Error)
    /// An output or the receipt cannot be written.
    case write(FileIOError)
    case missingInput(data: String, path: String)
    case inputTooLarge(data: String, path: String, length: UInt64)
    /// An opened input could not be put in a sealed memory file (the machine's memory or limits).
    case inputFile(SealedInputFileError)
    /// The sealed input is not this manifest's data item, from its owner, to this TEE, intact.
    case inputRefused(data: String, path: String, reason: SealError)
    case inputDigestMismatch(data: String, path: String, pinned: HexDigest, found: HexDigest)
    case unknownOwner(data: String, owner: String)
    case unknownRecipient(output: String, recipient: String)
    /// The run stopped; nothing was written to the output directory.
    case run(PlanRunError, outputDirectory: String)

    /// Inputs that are missing or name unknown participants exit 2; inputs refused by their
    /// checks exit 1; a run exits as its ``PlanRunError`` says; no confidential VM exits 3.
    public var exitStatus: ExitStatus {
        switch self {
        case let .plan(error): return error.exitStatus
        case let .simulator(error): return error.exitStatus
        case let .state(error): return error.exitStatus
        case .runtimeData, .report, .outputSealing, .receiptSigning: return .badInput
        case let .write(error): return error.exitStatus
        case .notInConfidentialVM, .inputFile: return .environment
        case .missingInput, .unknownOwner, .unknownRecipient: return .badInput
        case .inputTooLarge, .inputRefused, .inputDigestMismatch: return .checkFailed
        case let .run(error, _): return error.exitStatus
        }
    }

    public var description: String {
        switch self {
        case let .plan(error): return error.description
        case let .simulator(error): return error.description
        case let .state(error): return error.description
        case let .runtimeData(error): return "this VM's runtime data: \(error)"
        case let .report(error): return "this VM's report: \(error)"
        case let .outputSealing(output, recipient, error): return "sealing output '\(output)' for '\(recipient)': \(error)"
        case let .receiptSigning(error): return "signing the receipt: \(error)"
        case let .write(error): return error.description
        case let .notInConfidentialVM(error):
            return "sealed runs happen inside the confidential VM: \(error)"
        case let .missingInput(data, path):
            return "\(path): no sealed input for data item '\(data)' (the owner makes it with `twocvm seal … --data \(data)`)"
        case let .inputTooLarge(data, path, length):
            return "\(path): sealed input '\(data)' claims \(length) bytes, over the \(SealedRunWorkflow.maxInputBytes)-byte limit"
        case let .inputFile(error): return error.description
        case let .inputRefused(data, path, reason):
            return "\(path): refusing sealed input '\(data)' before any component ran: \(reason)"
        case let .inputDigestMismatch(data, path, pinned, found):
            return "\(path): sealed input '\(data)' is \(found), but the manifest pins \(pinned)"
        case let .unknownOwner(data, owner):
            return "data item '\(data)' names owner '\(owner)', who is not a participant"
        case let .unknownRecipient(output, recipient):
            return "output '\(output)' names recipient '\(recipient)', who is not a participant"
        case let .run(error, outputDirectory):
            return "run failed, nothing written to \(outputDirectory): \(error)"
        }
    }
}

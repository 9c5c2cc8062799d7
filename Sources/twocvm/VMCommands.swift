import ArgumentParser
import Foundation
import TwoCVM

/// `twocvm sim launch|root`: the simulated SNP platform for development and CI.
struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim", abstract: "A simulated SEV-SNP VM for development and CI (never trusted by default).",
        subcommands: [SimLaunchCommand.self, SimRootCommand.self])
}

struct SimLaunchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launch",
        abstract: "Launch a simulated SNP VM: its own AMD-like keys, the reference measurement, HOST_DATA from the manifest.",
        discussion: """
            Replaces any VM state in DIR (TEE keys, lock, simulated platform). Evidence from it is
            labelled simulated and verifies only with --trust-root naming its ARK (`twocvm sim root`).

            Example:
              twocvm sim launch --state /tmp/vm --reference ref.json --manifest manifest.toml
            """)

    @Option(name: .long, help: ArgumentHelp("State directory of the VM.", valueName: "DIR")) var state: String
    @Option(name: .long, help: ArgumentHelp("Reference values (launch-measure --reference-out).", valueName: "REF")) var reference: String
    @Option(name: .long, help: ArgumentHelp("The manifest whose digest prefix becomes HOST_DATA.", valueName: "MANIFEST")) var manifest: String
    @Flag(name: .long, help: "Leave HOST_DATA zero (the VM then takes a runtime lock at first attest).") var runtimeLock = false
    @Flag(name: .long, help: "Print the result as JSON.") var json = false

    func run() throws {
        let platform = try SimulatorWorkflow.launch(statePath: state, referencePath: reference, manifestPath: manifest,
                                                    runtimeLock: runtimeLock)
        if json {
            try Console.json(["state": state, "measurement": platform.launch.measurement, "host_data": platform.launch.hostData,
                              "ark": try SimulatorWorkflow.rootPath(statePath: state)])
        } else {
            Console.out("simulated \(platform.launch.product) VM launched in \(state)")
            Console.out("  MEASUREMENT \(platform.launch.measurement)")
            Console.out("  HOST_DATA   \(platform.launch.hostData)\(runtimeLock ? " (runtime lock)" : "")")
            Console.out("  ARK         \(try SimulatorWorkflow.rootPath(statePath: state)) (simulated; trust it explicitly)")
        }
    }
}

struct SimRootCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "root", abstract: "Print the path of the simulated ARK (PEM).",
        discussion: "Example:\n  twocvm verify ev.cbor … --trust-root $(twocvm sim root --state /tmp/vm)")

    @Option(name: .long, help: ArgumentHelp("State directory of the VM.", valueName: "DIR")) var state: String

    func run() throws {
        Console.out(try SimulatorWorkflow.rootPath(statePath: state))
    }
}

/// `twocvm attest`
struct AttestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attest",
        abstract: "Inside the CVM: bind the manifest, a nonce and the TEE keys into a report; write the evidence file.",
        discussion: """
            Refuses a manifest other than the one the VM is locked to (HOST_DATA, or the runtime
            lock file when HOST_DATA is zero). Exit 3 when no guest device is available.

            Example:
              twocvm attest manifest.toml --nonce $(openssl rand -hex 32) -o evidence.cbor
            """)

    @Argument(help: ArgumentHelp("The manifest (TOML).", valueName: "MANIFEST")) var manifest: String
    @Option(name: .long, help: ArgumentHelp("The verifier's nonce, 16 to 64 bytes in hex.", valueName: "HEX")) var nonce: String
    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the evidence.", valueName: "EVIDENCE")) var output: String
    @Option(name: .long, help: "auto, snp or simulated.") var platform: String = "auto"
    @Option(name: .long, help: ArgumentHelp("State directory (TEE keys, lock).", valueName: "DIR"))
    var state: String = StateDirectory.defaultPath
    @Flag(name: .long, help: "Print the result as JSON.") var json = false

    func run() throws {
        guard let kind = AttestWorkflow.Platform(rawValue: platform) else {
            throw CommandFailure(.badInput, "--platform must be auto, snp or simulated; got \(platform)")
        }
        guard let nonceBytes = Hex.decode(input: nonce) else { throw CommandFailure(.badInput, "--nonce is not hex") }
        let outcome = try AttestWorkflow.attest(manifestPath: manifest, nonce: nonceBytes, output: output, platform: kind,
                                                statePath: state)
        if json {
            try Console.json(["evidence": output, "manifest": outcome.digest.description, "platform": outcome.bundle.platform.rawValue,
                              "lock": outcome.bundle.lock.rawValue, "device": outcome.deviceName])
        } else {
            Console.out("wrote \(output): \(outcome.bundle.platform == .simulated ? "SIMULATED " : "")evidence from \(outcome.deviceName), "
                        + "manifest \(outcome.digest), \(outcome.bundle.lock.rawValue) lock")
        }
    }
}

/// `twocvm verify`
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify an evidence file offline: AMD chain, report, launch measurement, manifest lock, nonce, TEE keys.",
        discussion: """
            Exit 0 only when every check passes; 1 when a check fails; 2 when an input is unreadable.

            Example:
              twocvm verify evidence.cbor --manifest manifest.toml --reference ref.json --nonce $NONCE
            """)

    @Argument(help: ArgumentHelp("The evidence file (twocvm attest). Several: a batch.", valueName: "EVIDENCE")) var evidenceFiles: [String]
    @Option(name: .long, help: ArgumentHelp("The manifest (TOML).", valueName: "MANIFEST")) var manifest: String
    @Option(name: .long, help: ArgumentHelp("Reference values (launch-measure --reference-out).", valueName: "REF")) var reference: String
    @Option(name: .long, help: ArgumentHelp("The nonce you sent, in hex.", valueName: "HEX")) var nonce: String
    @Option(name: .long, help: ArgumentHelp("Trust this (simulated) ARK; never needed for real AMD evidence.", valueName: "ARK.pem"))
    var trustRoot: String?
    @OptionGroup var policy: PolicyOptions
    @Flag(name: .long, help: "Print the verdict as JSON.") var json = false
    @Flag(name: .long, help: "Print an EAR attestation result (draft-ietf-rats-ear, unsigned JSON claims).") var ear = false
    @OptionGroup(title: "Batch") var batch: BatchOptions

    private var evidence: String { evidenceFiles[0] }

    func run() throws {
        guard let nonceBytes = Hex.decode(input: nonce) else { throw CommandFailure(.badInput, "--nonce is not hex") }
        if evidenceFiles.count > 1 { return try runBatch(nonce: nonceBytes) }
        let verdict = try VerifyWorkflow.verify(evidencePath: evidence, manifestPath: manifest, referencePath: reference,
                                                nonce: nonceBytes, trustRootPath: trustRoot, options: try policy.validationOptions())
        if ear {
            try Console.json(AttestationResult(verdict, manifest: verdict.manifest))
        } else if json {
            try Console.json(EvidenceVerdictOutput(verdict))
        } else {
            Console.out(Self.text(verdict, file: evidence))
        }
        if !verdict.ok { throw ExitCode(ExitStatus.checkFailed.rawValue) }
    }

    /// Several evidence files: checked in parallel (BatchVerify), one result each in input order.
    private func runBatch(nonce: [UInt8]) throws {
        let digest = try ManifestWorkflow.load(manifest).digest
        let outcomes = BatchVerify.evidence(evidenceFiles, digest: digest, reference: try ReferenceValuesWorkflow.load(reference),
                                            nonce: nonce, trustRoot: try trustRoot.map { try FileIO.read($0, limit: 1 << 20) },
                                            options: try policy.validationOptions(), jobs: batch.workers)
        let status = try BatchOutput.print(outcomes, files: evidenceFiles, json: json || ear, jobs: batch.workers, ok: \.ok, text: Self.text) { verdict in
            ear ? AttestationResult(verdict, manifest: digest) as any Encodable : EvidenceVerdictOutput(verdict)
        }
        if status != .success { throw ExitCode(status.rawValue) }
    }

    /// The text lines of one verdict.
    static func text(_ verdict: VerifyWorkflow.Verdict, file: String) -> String {
        var lines = verdict.checks.map { check in
            "\(check.ok ? "pass" : "FAIL")  \(check.name.description.padding(toLength: 22, withPad: " ", startingAt: 0))\(check.detail)"
        }
        let failed = verdict.checks.filter { !$0.ok }.count
        let label = verdict.platform == .simulated ? " (SIMULATED platform)" : ""
        lines.append(verdict.ok ? "\(file): verified\(label), \(verdict.lock.rawValue) lock (\(verdict.checks.count) checks passed)"
                                : "\(file): NOT verified\(label) (\(failed) of \(verdict.checks.count) checks failed)")
        return lines.joined(separator: "\n")
    }
}

/// The `--json` shape of `verify`: `{"ok", "platform", "lock", "checks", "report", "tee"}`.
struct EvidenceVerdictOutput: Encodable {
    let verdict: VerifyWorkflow.Verdict

    init(_ verdict: VerifyWorkflow.Verdict) { self.verdict = verdict }

    enum CodingKeys: String, CodingKey { case ok, platform, lock, checks, report, tee }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(verdict.ok, forKey: .ok)
        try container.encode(verdict.platform.rawValue, forKey: .platform)
        try container.encode(verdict.lock.rawValue, forKey: .lock)
        try container.encode(verdict.checks, forKey: .checks)
        try container.encodeIfPresent(verdict.report, forKey: .report)
        if let runtime = verdict.runtimeData {
            try container.encode(["hpke_public_key": Hex.encode(runtime.teePublicKey.rawRepresentation),
                                  "signing_public_key": Hex.encode(runtime.teeSigningKey.rawRepresentation),
                                  "nonce": Hex.encode(runtime.nonce), "manifest": runtime.manifest.description], forKey: .tee)
        }
    }
}

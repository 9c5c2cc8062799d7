import Crypto
import Evidence
import Manifest

/// Fixed keys, so the seed corpus holds files these targets can open and the fuzzer mutates
/// past the header checks into the signature, the chunks and the plaintext digest.
enum FuzzKeys {
    static let recipient = try! P384.KeyAgreement.PrivateKey(rawRepresentation: [UInt8](repeating: 0x11, count: 48))
    static let sender = try! P384.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x22, count: 48))
    static let manifest = ManifestDigest(of: Array("fuzz manifest".utf8))
    static let expectation = SealedFile.Expectation(manifest: manifest, purpose: .output, id: "report", recipient: "lab",
                                                    sender: "tee", senderKey: sender.publicKey)
}

/// Sealed files: the header parser, and a full open with the fixed keys. Whatever is opened
/// must be exactly as long as its header says, and the one-pass open (what `open` and a sealed
/// `run` use) must reach the same verdict as the two passes, with the same plaintext.
@Sendable func fuzzSealed(_ bytes: [UInt8]) {
    _ = try? SealedFileFormat.decodeHeader(bytes)
    let twoPasses = try? SealedFile.open(bytes, recipientKey: FuzzKeys.recipient, expect: FuzzKeys.expectation)
    if let plaintext = twoPasses {
        guard let header = try? SealedFile.readHeader(streaming: { SealedFile.reader(over: bytes) }),
              header.length == UInt64(plaintext.count) else {
            fatalError("an opened sealed file's plaintext does not have its header's length")
        }
    }
    let onePass = openInOnePass(bytes)
    guard onePass == twoPasses else {
        fatalError("the one-pass open \(onePass == nil ? "refused" : "opened") what the two passes \(twoPasses == nil ? "refused" : "opened")"
                   + (onePass != nil && twoPasses != nil ? " (different plaintext)" : ""))
    }
}

/// The plaintext the one-pass open publishes (nil: refused), reading `bytes` in 64 KiB reads.
private func openInOnePass(_ bytes: [UInt8]) -> [UInt8]? {
    final class Collected: @unchecked Sendable { var bytes: [UInt8] = [] }  // one writer thread, read after the open returns
    let collected = Collected()
    do {
        let opened = try SealedFile.openInOnePass(reading: { SealedFile.bufferReader(over: bytes, step: 64 << 10) },
                                                  recipientKey: FuzzKeys.recipient, expect: FuzzKeys.expectation) { collected.bytes += $0 }
        try opened.result()
        return collected.bytes
    } catch {
        return nil
    }
}

/// Receipts (COSE_Sign1 and the payload map) and evidence bundles with their runtime data.
@Sendable func fuzzEvidence(_ bytes: [UInt8]) {
    if let receipt = try? Receipt.decode(unverified: bytes) {
        guard (try? receipt.signed(by: FuzzKeys.sender)).flatMap({ try? Receipt.verify($0, signer: FuzzKeys.sender.publicKey) }) == receipt else {
            fatalError("a decoded receipt does not survive signing and verifying")
        }
    }
    if let bundle = try? EvidenceBundle.decode(bytes) {
        _ = try? RuntimeData.parse(canonicalBytes: bundle.runtimeData)
        _ = bundle.isSigned(by: FuzzKeys.sender.publicKey)
    }
}

/// Seed inputs for `Fuzz/corpus/sealed` and `Fuzz/corpus/evidence` (`twocvm-fuzz --write-seeds DIR`).
func fuzzSeeds() throws -> [String: [UInt8]] {
    // One file of each format version this build opens (version 1: the previous releases').
    let sealed = { (version: Int64) in
        try SealedFile.seal(Array("lot,yield\nL1,0.91\n".utf8), manifest: FuzzKeys.manifest, purpose: .output, id: "report",
                            recipientName: "lab", recipientKey: FuzzKeys.recipient.publicKey, sender: "tee",
                            senderKey: FuzzKeys.sender, chunkSize: 8, version: version)
    }
    let receipt = Receipt(manifest: FuzzKeys.manifest, plan: [UInt8](repeating: 1, count: 48),
                          components: [.init(id: "first", digest: [UInt8](repeating: 2, count: 32))],
                          inputs: [.init(id: "notes", sha256: [UInt8](repeating: 3, count: 32))],
                          outputs: [.init(id: "report", recipient: "lab", sha256: [UInt8](repeating: 4, count: 32))],
                          start: "2026-11-21T08:00:00Z", end: "2026-11-21T08:00:01Z")
    return ["sealed/seed-output": try sealed(1), "sealed/seed-output-v2": try sealed(2),
            "evidence/seed-receipt": try receipt.signed(by: FuzzKeys.sender)]
}

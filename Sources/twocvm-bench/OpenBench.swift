// `twocvm-bench open-input SEALED --state DIR --manifest M --data ID --out FILE`: opens a sealed
// input the way a sealed `twocvm run` does inside the VM (the TEE's HPKE key from the state
// directory, the data owner's signature, the manifest digest), with the Evidence library's
// one-pass open (`SealedFile.openInOnePass`, as `run` does through SealedFileOnDisk): the file
// read once, its signature hash, its SHA-256 (what receipts list), the decryption in place and
// the plaintext's SHA-256 on three threads, plaintext streamed to a temporary file renamed only
// if every check passed; memory bounded by a few chunks.
// Prints {"bytes", "seconds", "mb_per_s"}.

import Crypto
import Evidence
import Foundation
import Manifest
import TwoCVM

@Sendable func openInputBenchmark(_ arguments: [String]) throws -> [String: String] {
    func option(_ name: String) -> String? {
        guard let at = arguments.firstIndex(of: "--\(name)"), at + 1 < arguments.count else { return nil }
        return arguments[at + 1]
    }
    guard let sealedPath = arguments.first, !sealedPath.hasPrefix("--"), let state = option("state"),
          let manifestPath = option("manifest"), let data = option("data"), let output = option("out") else {
        throw OpenBenchError("usage: twocvm-bench open-input SEALED --state DIR --manifest M --data ID --out FILE")
    }
    let (manifest, digest, _) = try ManifestWorkflow.load(manifestPath)
    guard let item = manifest.data.first(where: { $0.id == data }), let owner = manifest.participant(item.owner) else {
        throw OpenBenchError("no data item \(data) with an owner in \(manifestPath)")
    }
    let key = try StateDirectory(state).teeKeys(create: false).hpke
    let expect = SealedFile.Expectation(manifest: digest, purpose: .input, id: data, recipient: SealedRunWorkflow.teeName,
                                        sender: owner.id, senderKey: owner.signingKey)
    let start = Date()
    var bytes = 0
    try FileIO.streamAtomically(to: output, mode: 0o600) { write in
        let opened = try SealedFile.openInOnePass(reading: FileIO.bufferReader(sealedPath), recipientKey: key, expect: expect,
                                                  digestingFile: true) { chunk in
            bytes += chunk.count
            try write(chunk)
        }
        try opened.result()
    }
    let seconds = Date().timeIntervalSince(start)
    return ["bytes": "\(bytes)", "seconds": String(format: "%.3f", seconds),
            "mb_per_s": String(format: "%.1f", Double(bytes) / seconds / 1e6)]
}

private struct OpenBenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

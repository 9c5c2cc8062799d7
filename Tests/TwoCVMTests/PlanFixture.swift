import Foundation
import XCTest

@testable import TwoCVM

/// A scratch project: participants with fresh keys, a manifest over `.wat` components written
/// here, every participant's approval, and the paths `compose` reads.
struct PlanFixture {
    /// data.notes → first → (first.mid) → second → report, for the lab participant.
    static let twoStagePipeline = """

        [[data]]
        id = "notes"
        owner = "lab"

        [[channels]]
        from = "data.notes"
        to = "first"

        [[channels]]
        from = "first.mid"
        to = "second"

        [[outputs]]
        id = "report"
        from = "second"
        to = ["lab"]
        max_bytes = 4096

        """

    let root: URL
    var manifest: String { root.appendingPathComponent("manifest.toml").path }
    var components: String { root.appendingPathComponent("components").path }
    var approvals: String { root.appendingPathComponent("approvals").path }

    /// `components`: id → (module text, extra manifest keys such as `wasi = ["clock"]`).
    /// `body`: the data, channels and outputs tables.
    init(_ testCase: XCTestCase, participants: [String] = ["lab"], components: [(id: String, wat: String, extra: String)],
         body: String, approve: [String]? = nil) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("twocvm-plan-\(UUID().uuidString)")
        let root = self.root
        testCase.addTeardownBlock { try? FileManager.default.removeItem(at: root) }
        for directory in ["components", "approvals", "keys"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(directory), withIntermediateDirectories: true)
        }
        var text = "version = 1\nname = \"fixture\"\n"
        for id in participants {
            let keys = try ParticipantKeys.generate(into: root.appendingPathComponent("keys/\(id)").path)
            text += """

                [[participants]]
                id = "\(id)"
                display_name = "\(id)"
                signing_key = \"\"\"
                \(keys.signingKey.publicKey.pemRepresentation)
                \"\"\"
                encryption_key = \"\"\"
                \(keys.encryptionKey.publicKey.pemRepresentation)
                \"\"\"

                """
        }
        for component in components {
            let bytes = Array(component.wat.utf8)
            try Data(bytes).write(to: root.appendingPathComponent("components/\(component.id).wat"))
            let digest = "sha256:" + SHA256Hex.of(bytes)
            text += """

                [[components]]
                id = "\(component.id)"
                owner = "\(participants[0])"
                digest = "\(digest)"
                \(component.extra)

                """
        }
        text += body
        try Data(text.utf8).write(to: URL(fileURLWithPath: manifest))
        for id in approve ?? participants {
            _ = try ManifestWorkflow.sign(manifest, keyDirectory: root.appendingPathComponent("keys/\(id)").path,
                                          participant: id, output: "\(approvals)/\(id).cose")
        }
    }

    func compose() throws -> ExecutionPlan {
        try ComposeWorkflow.compose(manifest: manifest, components: components, approvals: approvals)
    }
}

import Crypto
import Manifest

enum SHA256Hex {
    static func of(_ bytes: [UInt8]) -> String { Hex.encode(SHA256.hash(data: bytes)) }
}

/// Hand-written components.
enum Components {
    static let imports = """
        (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
        """

    /// Copies `/in/<input>` to `/out/<output>`, appending `suffix`; first records the errno of
    /// opening `/in/<probe>` (if given) as one byte before the copy.
    static func copy(_ input: String, to output: String, suffix: String = "", probe: String? = nil) -> String {
        """
        (module \(imports) (memory (export "memory") 1)
          (data (i32.const 100) "\(input)") (data (i32.const 200) "\(output)") (data (i32.const 300) "\(probe ?? "")")
          (data (i32.const 400) "\(suffix)")
          (func (export "_start") (local $in i32) (local $out i32) (local $n i32) (local $at i32)
            (local.set $at (i32.const 1024))
            \(probe.map { """
                (i32.store8 (i32.const 1024) (call $path_open (i32.const 3) (i32.const 0) (i32.const 300) (i32.const \($0.utf8.count))
                  (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 8)))
                (local.set $at (i32.const 1025))
                """ } ?? "")
            (if (call $path_open (i32.const 3) (i32.const 0) (i32.const 100) (i32.const \(input.utf8.count))
                  (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 8)) (then unreachable))
            (local.set $in (i32.load (i32.const 8)))
            (i32.store (i32.const 0) (local.get $at)) (i32.store (i32.const 4) (i32.const 4096))
            (drop (call $fd_read (local.get $in) (i32.const 0) (i32.const 1) (i32.const 12)))
            (local.set $n (i32.add (i32.sub (local.get $at) (i32.const 1024)) (i32.load (i32.const 12))))
            (memory.copy (i32.add (i32.const 1024) (local.get $n)) (i32.const 400) (i32.const \(suffix.utf8.count)))
            (local.set $n (i32.add (local.get $n) (i32.const \(suffix.utf8.count))))
            (if (call $path_open (i32.const 4) (i32.const 0) (i32.const 200) (i32.const \(output.utf8.count))
                  (i32.const 9) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 8)) (then unreachable))
            (i32.store (i32.const 0) (i32.const 1024)) (i32.store (i32.const 4) (local.get $n))
            (drop (call $fd_write (i32.load (i32.const 8)) (i32.const 0) (i32.const 1) (i32.const 12)))))
        """
    }

    /// A component that could write files (it imports path_open, so compose admits it with
    /// outputs) but traps, or loops, before it does.
    static let trap = "(module \(imports) (memory (export \"memory\") 1) (func (export \"_start\") unreachable))"
    static let loop = "(module \(imports) (memory (export \"memory\") 1) (func (export \"_start\") (loop $l (br $l))))"

    static let limits = "limits = { fuel = 10_000_000, memory_mib = 1, timeout_s = 30 }"
}

import Foundation
import Sandbox
import TestSupport
import XCTest

/// The compiled-module cache: an unchanged module is taken from it, a damaged or foreign entry
/// is compiled again, a folder others may write is never used, and a library is verified once
/// per unchanged file.
final class CompiledModuleCacheTests: XCTestCase {
    /// Writes `text` to `/out/result`: which module ran is visible in the output.
    private func writer(_ text: String) throws -> WasmModule {
        try Fixtures.module("""
            (module
              \(Fixtures.imports)
              (memory (export "memory") 1)
              \(Fixtures.helpers)
              (data (i32.const 256) "\(text)")
              (func (export "_start") (call $emit (i32.const 256) (i32.const \(text.utf8.count)))))
            """)
    }

    private func run(_ module: WasmModule, cache: CompiledModuleCache?) throws -> SandboxResult {
        try Sandbox.run(SandboxRequest(module: module, arguments: ["writer"], inputs: [:], outputs: ["result": 64],
                                       capabilities: [], limits: SandboxLimits(fuel: 1_000_000, memoryBytes: 1 << 16),
                                       runtime: .wasmtime(try Fixtures.wasmtime()), compiledModuleCache: cache))
    }

    private func entries(_ folder: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "cwasm" }
    }

    func testACompiledModuleIsFiledAndTakenBackWhenUnchanged() throws {
        let folder = try TestPaths.temporaryDirectory(self).appendingPathComponent("cache/wasmtime")
        let cache = CompiledModuleCache(directory: folder.path)
        XCTAssertEqual(try run(writer("first"), cache: cache).outputs["result"], Array("first".utf8))
        let filed = try entries(folder)
        XCTAssertEqual(filed.count, 1, "one entry for one module")
        let attributes = try FileManager.default.attributesOfItem(atPath: folder.path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o700, "a private folder")

        // The entry is what runs: put another module's compiled form under this module's name.
        XCTAssertEqual(try run(writer("other"), cache: cache).outputs["result"], Array("other".utf8))
        let both = try entries(folder)
        XCTAssertEqual(both.count, 2)
        let otherEntry = try XCTUnwrap(both.first { $0 != filed[0] })
        try FileManager.default.removeItem(at: filed[0])
        try FileManager.default.copyItem(at: otherEntry, to: filed[0])
        XCTAssertEqual(try run(writer("first"), cache: cache).outputs["result"], Array("other".utf8),
                       "an entry is trusted as the folder is: the cache was used, not the compiler")
    }

    func testADamagedEntryIsCompiledAgainAndReplaced() throws {
        let folder = try TestPaths.temporaryDirectory(self).appendingPathComponent("cache")
        let cache = CompiledModuleCache(directory: folder.path)
        _ = try run(writer("kept"), cache: cache)
        let entry = try XCTUnwrap(try entries(folder).first)
        let good = try Data(contentsOf: entry)
        try Data("not a compiled module".utf8).write(to: entry)
        XCTAssertEqual(try run(writer("kept"), cache: cache).outputs["result"], Array("kept".utf8))
        XCTAssertEqual(try Data(contentsOf: entry), good, "the damaged entry was replaced by a fresh compilation")
    }

    func testAFolderOthersMayWriteIsNeverUsed() throws {
        let folder = try TestPaths.temporaryDirectory(self).appendingPathComponent("shared")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o777])
        chmod(folder.path, 0o777)  // past the umask
        let cache = CompiledModuleCache(directory: folder.path)
        XCTAssertEqual(try run(writer("alone"), cache: cache).outputs["result"], Array("alone".utf8))
        XCTAssertEqual(try entries(folder).count, 0, "nothing filed in a folder anyone may write")

        // An entry planted there is not taken either.
        chmod(folder.path, 0o700)
        _ = try run(writer("planted"), cache: cache)
        let planted = try XCTUnwrap(try entries(folder).first)
        _ = try run(writer("alone"), cache: cache)
        let aloneEntry = try XCTUnwrap(try entries(folder).first { $0 != planted })
        try FileManager.default.removeItem(at: aloneEntry)
        try FileManager.default.copyItem(at: planted, to: aloneEntry)
        chmod(folder.path, 0o777)
        XCTAssertEqual(try run(writer("alone"), cache: cache).outputs["result"], Array("alone".utf8))
    }

    func testALibraryIsHashedOncePerUnchangedFile() throws {
        let pinned = try Fixtures.wasmtime()
        let folder = try TestPaths.temporaryDirectory(self)
        let copy = folder.appendingPathComponent("libwasmtime.so")
        try FileManager.default.copyItem(atPath: pinned.path, toPath: copy.path)
        let records = CompiledModuleCache(directory: folder.appendingPathComponent("cache").path)
        func recorded() -> Int {
            ((try? FileManager.default.contentsOfDirectory(atPath: records.directory)) ?? []).filter { $0.hasPrefix("verified-") }.count
        }
        // A file changed in the last two seconds is verified but not recorded: its change time
        // could still hide a write in the same clock tick.
        let fresh = folder.appendingPathComponent("fresh.so")
        try FileManager.default.copyItem(atPath: pinned.path, toPath: fresh.path)
        XCTAssertEqual(try WasmtimeLibrary.load(fresh.path, records: records).digest, WasmtimeLibrary.pinnedDigest)
        XCTAssertEqual(recorded(), 0, "a file changed in the last two seconds is not recorded")
        Thread.sleep(forTimeInterval: 2.2)
        XCTAssertEqual(try WasmtimeLibrary.load(copy.path, records: records).digest, WasmtimeLibrary.pinnedDigest)
        XCTAssertEqual(recorded(), 1, "the verification of a settled file is recorded")

        // Rewritten in place with another build, the size kept and the modification time set
        // back as an impostor would: only the change time moves, and that is enough for the
        // record not to match, so the file is hashed (and refused) again.
        var before = stat()
        XCTAssertEqual(stat(copy.path, &before), 0)
        let handle = try FileHandle(forWritingTo: copy)
        try handle.write(contentsOf: Data("another build".utf8))
        try handle.close()
        var times = [before.st_atim, before.st_mtim]
        XCTAssertEqual(utimensat(AT_FDCWD, copy.path, &times, 0), 0)
        var after = stat()
        XCTAssertEqual(stat(copy.path, &after), 0)
        XCTAssertEqual(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec)
        XCTAssertEqual(after.st_size, before.st_size)
        XCTAssertThrowsError(try WasmtimeLibrary.load(copy.path, records: records)) { error in
            guard case .wrongDigest? = error as? EngineLibraryError else { return XCTFail("\(error)") }
        }
    }
}

import Foundation
import XCTest
@testable import TwoCVM

/// The file layer under seal and open: reads straight into buffers, atomic streamed writes.
final class FileIOStreamingTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("twocvm-fileio-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        directory = url.path
    }

    func testAFailedStreamedWriteLeavesNoFileAndNoTemporaryFile() throws {
        let path = "\(directory!)/out.bin"
        struct DiskFull: Error {}
        XCTAssertThrowsError(try FileIO.streamAtomically(to: path) { write in
            let block = [UInt8](repeating: 7, count: 1 << 20)
            for _ in 0..<3 { try block.withUnsafeBytes { try write($0) } }
            throw DiskFull()
        }) { XCTAssertTrue($0 is DiskFull) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [], "no partial file, no temp file")
        // An output whose folder cannot be created (a file is in the way): refused by name.
        try Data("x".utf8).write(to: URL(fileURLWithPath: "\(directory!)/blocker"))
        XCTAssertThrowsError(try FileIO.streamAtomically(to: "\(directory!)/blocker/out.bin") { _ in }) {
            guard case FileIOError.unwritable(path: "\(directory!)/blocker/out.bin", _)? = $0 as? FileIOError else { return XCTFail("\($0)") }
        }
        // An output in folders that do not exist yet: they are created, the file written whole.
        try FileIO.writeAtomically(Array("whole".utf8), to: "\(directory!)/new/nested/out.bin")
        XCTAssertEqual(try FileIO.read("\(directory!)/new/nested/out.bin", limit: 16), Array("whole".utf8))
    }

    /// Folders are made with the parents they lack, each with exactly the mode asked for
    /// whatever the umask (a key folder is 0700); an existing folder is left as it is, and a
    /// file in the way is refused by name.
    func testMakeDirectoryMakesTheMissingParentsWithTheirModeAndKeepsWhatExists() throws {
        let previous = umask(0o077)
        defer { umask(previous) }
        let nested = "\(directory!)/a/b/c"
        try FileIO.makeDirectory(nested, mode: 0o750)
        for path in ["\(directory!)/a", "\(directory!)/a/b", nested] {
            var info = stat()
            XCTAssertEqual(stat(path, &info), 0, path)
            XCTAssertEqual(info.st_mode & S_IFMT, S_IFDIR, path)
            XCTAssertEqual(info.st_mode & 0o777, 0o750, path)
        }
        XCTAssertEqual(chmod("\(directory!)/a", 0o700), 0)
        try FileIO.makeDirectory("\(directory!)/a/", mode: 0o755)  // exists (trailing slash too): untouched
        var info = stat()
        XCTAssertEqual(stat("\(directory!)/a", &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o700)
        try Data("x".utf8).write(to: URL(fileURLWithPath: "\(directory!)/file"))
        for blocked in ["\(directory!)/file", "\(directory!)/file/sub"] {
            XCTAssertThrowsError(try FileIO.makeDirectory(blocked)) {
                guard case FileIOError.unwritable(path: blocked, _)? = $0 as? FileIOError else { return XCTFail("\($0)") }
            }
        }
    }

    /// While an output is being written it has no name at all (an unnamed O_TMPFILE file in
    /// the target's folder): a process killed mid-write (a plaintext being opened, a key being
    /// written) leaves nothing behind. The file appears, whole and with its mode, only at the end.
    func testAStreamedWriteHasNoNameUntilItIsComplete() throws {
        let path = "\(directory!)/out.bin"
        var seenWhileWriting: [String] = []
        try FileIO.streamAtomically(to: path, mode: 0o600) { write in
            let block = [UInt8](repeating: 9, count: 1 << 20)
            for _ in 0..<3 { try block.withUnsafeBytes { try write($0) } }
            seenWhileWriting = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? ["unreadable"]
        }
        XCTAssertEqual(seenWhileWriting, [], "nothing named in the folder while the content is written")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["out.bin"])
        XCTAssertEqual(FileIO.size(of: path), 3 << 20)
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
        XCTAssertEqual(mode, 0o600)
        // Written again: replaced whole, still nothing else in the folder.
        try FileIO.writeAtomically(Array("second".utf8), to: path)
        XCTAssertEqual(try FileIO.read(path, limit: 16), Array("second".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["out.bin"])
    }

    /// Seal reads its plaintext twice (hash, then encrypt): a file edited in place, grown or
    /// replaced between or during the passes is refused by name, not sealed into a file whose
    /// header names other bytes than its chunks hold.
    func testStableReaderRefusesAFileThatChangesBetweenOrDuringPasses() throws {
        let path = "\(directory!)/in.bin"
        let bytes = [UInt8](repeating: 5, count: 200_000)
        func drain(_ read: (UnsafeMutableRawBufferPointer) throws(FileIOError) -> Int) throws -> Int {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 64)
            defer { buffer.deallocate() }
            var total = 0
            while case let n = try read(buffer), n > 0 { total += n }
            return total
        }
        func overwriteInPlace(_ byte: UInt8) throws {
            usleep(20_000)  // past the file system's timestamp granularity
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.write(contentsOf: Data([byte]))  // one byte, at offset 0: same size
            try handle.close()
        }
        func assertChanged(_ expression: @autoclosure () throws -> Int, _ what: String) {
            XCTAssertThrowsError(try expression(), what) {
                guard case let FileIOError.unreadable(path: named, reason)? = $0 as? FileIOError else { return XCTFail("\(what): \($0)") }
                XCTAssertEqual(named, path, what)
                XCTAssertTrue(reason.contains("changed while it was being read"), "\(what): \(reason)")
            }
        }
        try FileIO.writeAtomically(bytes, to: path)

        // Unchanged: every pass reads the whole file.
        var passes = FileIO.stableBufferReader(path)
        XCTAssertEqual(try drain(try passes()), bytes.count)
        XCTAssertEqual(try drain(try passes()), bytes.count)
        // Edited in place between the passes, size unchanged: the next pass is refused.
        try overwriteInPlace(6)
        assertChanged(try drain(try passes()), "edited between passes")

        // Edited during a pass: refused at the end of that pass.
        passes = FileIO.stableBufferReader(path)
        let read = try passes()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1000, alignment: 64)
        defer { buffer.deallocate() }
        XCTAssertEqual(try read(buffer), 1000)
        try overwriteInPlace(7)
        assertChanged(try drain(read), "edited during a pass")

        // Replaced by another file of the same content (rename): another inode, refused.
        passes = FileIO.stableBufferReader(path)
        XCTAssertEqual(try drain(try passes()), bytes.count)
        try FileIO.writeAtomically(try FileIO.read(path, limit: 1 << 20), to: path)
        assertChanged(try drain(try passes()), "replaced between passes")
    }

    func testBufferReaderReadsTheWholeFileInBlocksAndStartsAfreshEachPass() throws {
        let path = "\(directory!)/in.bin"
        let bytes = (0..<300_001).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try FileIO.streamAtomically(to: path) { write in try bytes.withUnsafeBytes { try write($0) } }
        XCTAssertEqual(FileIO.size(of: path), 300_001)
        let makeReader = FileIO.bufferReader(path)
        for _ in 0..<2 {
            let read = try makeReader()
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 64)
            defer { buffer.deallocate() }
            var got: [UInt8] = []
            while true {
                let count = try read(buffer)
                if count == 0 { break }
                got += UnsafeRawBufferPointer(rebasing: buffer[..<count])
            }
            XCTAssertEqual(got, bytes)
        }
        XCTAssertThrowsError(try FileIO.bufferReader("\(directory!)/absent")()) {
            guard case FileIOError.unreadable? = $0 as? FileIOError else { return XCTFail("\($0)") }
        }
    }
}

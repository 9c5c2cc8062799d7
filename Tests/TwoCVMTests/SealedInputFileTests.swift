import Foundation
import Manifest
import Sandbox
import TestSupport
import XCTest

@testable import TwoCVM

/// The sealed memory files a component's inputs travel in: a plaintext file copied in by the
/// kernel (`run --dev`), a file filled piece by piece (a sealed input as it is opened), exactly
/// the bytes given, sealed, and no descriptor left behind by a copy or a fill that fails.
final class SealedInputFileTests: XCTestCase {
    private func contents(_ file: SandboxInputFile) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: file.size + 1)
        let n = bytes.withUnsafeMutableBytes { pread(file.descriptor, $0.baseAddress, file.size + 1, 0) }
        return Array(bytes.prefix(max(0, n)))
    }

    private func openDescriptors() -> Set<Int32> { FileDescriptors.open() }

    func testACopiedFileHoldsExactlyTheFilesBytesSealed() throws {
        let folder = try TestPaths.temporaryDirectory(self)
        var generator = SplitMix64(seed: 7)
        for size in [0, 1, 4096, 3 << 20 | 5] {
            let bytes = Array((0..<(size + 7) / 8).flatMap { _ in withUnsafeBytes(of: generator.next()) { Array($0) } }.prefix(size))
            let path = folder.appendingPathComponent("input-\(size)").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let file = try SealedInputFile.copy(fromFile: path, limit: 4 << 20, name: "orders")
            defer { close(file.descriptor) }
            XCTAssertEqual(file.size, size)
            XCTAssertEqual(contents(file), bytes, "size \(size)")
            XCTAssertEqual(try file.contentDigest(), ContentDigest(of: bytes))
            XCTAssertEqual(try SealedInputFile.take(descriptor: file.descriptor, size: size, name: "orders"), file,
                           "what a component's child accepts")
            XCTAssertEqual(write(file.descriptor, [1], 1), -1, "sealed: no write")
            XCTAssertNotEqual(ftruncate(file.descriptor, off_t(size + 1)), 0, "sealed: no growth")
            XCTAssertTrue(fcntl(file.descriptor, F_GETFD) & FD_CLOEXEC != 0, "not inherited by any child")
            XCTAssertGreaterThan(file.descriptor, 2)
        }
    }

    func testACopyRefusesWhatIsNotARegularFileWithinTheLimitAndLeavesNothingOpen() throws {
        let folder = try TestPaths.temporaryDirectory(self)
        let big = folder.appendingPathComponent("big").path
        try Data(count: 1025).write(to: URL(fileURLWithPath: big))
        let before = openDescriptors()
        let cases: [(String, String)] = [
            (folder.appendingPathComponent("missing").path, "No such file"),
            (folder.path, "not a regular file"),
            (big, "1025 bytes, over the limit of 1024"),
        ]
        for (path, expected) in cases {
            XCTAssertThrowsError(try SealedInputFile.copy(fromFile: path, limit: 1024, name: "orders")) { error in
                guard case let .file(fileError)? = error as? SealedInputCopyError else { return XCTFail("\(error)") }
                XCTAssertTrue(fileError.description.hasPrefix(path) && fileError.description.contains(expected), fileError.description)
                XCTAssertEqual(fileError.exitStatus, .badInput)
            }
        }
        XCTAssertEqual(openDescriptors(), before)
    }

    func testAFillDroppedBeforeItsSealClosesItsFileAndASealedOneIsTheCallers() throws {
        let before = openDescriptors()
        do {
            let writer = try SealedInputFile.Writer(name: "notes")
            try [UInt8]("half an inp".utf8).withUnsafeBytes { buffer in try writer.append(buffer) }
            XCTAssertEqual(writer.length, 11)
            XCTAssertEqual(openDescriptors().count, before.count + 1)
        }
        XCTAssertEqual(openDescriptors(), before, "an open that failed half-way leaves no memory file behind")
        let writer = try SealedInputFile.Writer(name: "notes")
        for piece in ["whole ", "input"] {
            try [UInt8](piece.utf8).withUnsafeBytes { buffer in try writer.append(buffer) }
        }
        let file = try writer.seal()
        XCTAssertEqual(contents(file), Array("whole input".utf8))
        XCTAssertEqual(try SealedInputFile.take(descriptor: file.descriptor, size: 11, name: "notes"), file)
        XCTAssertEqual(fcntl(file.descriptor, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC, "still open: the caller closes it")
        close(file.descriptor)
        XCTAssertEqual(openDescriptors(), before)
    }
}

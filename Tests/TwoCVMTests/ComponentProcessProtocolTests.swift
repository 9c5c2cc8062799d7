import Manifest
import Sandbox
import XCTest

@testable import TwoCVM

/// The broker → child request: a framed header and the module, inputs as sealed memfds, read
/// back exactly; every way a request can be cut short, oversized or padded, and every input
/// descriptor that is not a sealed file of its size, refused before anything runs.
final class ComponentProcessProtocolTests: XCTestCase {
    private var opened: [Int32] = []

    override func tearDown() {
        opened.forEach { _ = close($0) }
        opened = []
        super.tearDown()
    }

    private func job(inputs: [String: [UInt8]]) -> ComponentJob {
        let module = Array("(module)".utf8)
        return ComponentJob(component: "joiner", moduleFile: "joiner.wat", moduleSource: module,
                            digest: ContentDigest(of: module), inputs: inputs, outputs: ["report": 4096],
                            capabilities: [.clock], limits: SandboxLimits(fuel: 1_000, memoryBytes: 65_536, wallClockSeconds: 7),
                            timeoutSeconds: 7)
    }

    /// The request for `job` with its inputs in sealed memfds of this process.
    private func request(_ job: ComponentJob) throws -> [UInt8] {
        var descriptors: [String: Int32] = [:]
        for (name, bytes) in job.inputs {
            let fd = try SealedInputFile.make(bytes, name: name, minimum: 3)
            opened.append(fd)
            descriptors[name] = fd
        }
        return Array(ComponentProcessProtocol.encodeRequest(job, descriptors: descriptors).joined())
    }

    private func read(_ bytes: [UInt8]) throws -> ComponentJob {
        try ComponentProcessProtocol.readRequest(from: BytesSource(bytes))
    }

    private func contents(_ file: SandboxInputFile) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: file.size)
        let n = bytes.withUnsafeMutableBytes { pread(file.descriptor, $0.baseAddress, file.size, 0) }
        return Array(bytes.prefix(max(0, n)))
    }

    func testRequestRoundTripsModuleInputsAndLimits() throws {
        let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let sent = job(inputs: ["orders": big, "empty": [], "rates": Array("eur,1.0".utf8)])
        let received = try read(try request(sent))
        XCTAssertEqual(received.component, "joiner")
        XCTAssertEqual(received.moduleFile, "joiner.wat")
        XCTAssertEqual(received.moduleSource, sent.moduleSource)
        XCTAssertEqual(received.digest, sent.digest)
        XCTAssertEqual(received.inputFiles.mapValues(contents), sent.inputs)
        XCTAssertEqual(received.outputs, ["report": 4096])
        XCTAssertEqual(received.capabilities, [.clock])
        XCTAssertEqual(received.limits.fuel, 1_000)
        XCTAssertEqual(received.limits.memoryBytes, 65_536)
        XCTAssertEqual(received.timeoutSeconds, 7)
    }

    func testInputsTravelAsSealedFilesNotThroughThePipe() throws {
        let input = [UInt8](repeating: 7, count: 1 << 16)
        let bytes = try request(job(inputs: ["a": input]))
        XCTAssertLessThan(bytes.count, 4096, "header and module only")
        let file = try XCTUnwrap(try read(bytes).inputFiles["a"])
        XCTAssertEqual(contents(file), input)
        XCTAssertEqual(write(file.descriptor, [1, 2, 3], 3), -1, "a sealed input cannot be written")
        XCTAssertEqual(errno, EPERM)
        XCTAssertNotEqual(ftruncate(file.descriptor, 1), 0, "nor shrunk")
    }

    func testAnInputDescriptorThatIsNotASealedFileOfItsSizeIsRefused() throws {
        // An unsealed memfd, a pipe, and a sealed file announced with another size.
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        opened += fds
        let sealed = try SealedInputFile.make([1, 2, 3], name: "x", minimum: 3)
        opened.append(sealed)
        let cases: [(Int32, Int, String)] = [(fds[0], 0, "is not a file"), (sealed, 4, "is not a file of 4 bytes")]
        for (descriptor, size, expected) in cases {
            XCTAssertThrowsError(try SealedInputFile.take(descriptor: descriptor, size: size, name: "x")) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
        let template = FileManager.default.temporaryDirectory.appendingPathComponent("unsealed-\(UUID().uuidString)")
        try Data([1, 2, 3]).write(to: template)
        defer { try? FileManager.default.removeItem(at: template) }
        let plain = open(template.path, O_RDONLY)
        opened.append(plain)
        XCTAssertThrowsError(try SealedInputFile.take(descriptor: plain, size: 3, name: "x")) { error in
            XCTAssertTrue("\(error)".contains("is not sealed"), "\(error)")
        }
        XCTAssertEqual(try SealedInputFile.take(descriptor: sealed, size: 3, name: "x"), SandboxInputFile(descriptor: sealed, size: 3))
    }

    func testEveryTruncationIsRefused() throws {
        let bytes = try request(job(inputs: ["a": Array(repeating: 1, count: 100)]))
        for length in 0..<bytes.count {
            XCTAssertThrowsError(try read(Array(bytes[0..<length])), "cut at \(length) of \(bytes.count)") { error in
                XCTAssertTrue(error is WireError, "\(error)")
            }
        }
        XCTAssertNoThrow(try read(bytes))
    }

    func testTrailingBytesAreRefused() throws {
        XCTAssertThrowsError(try read(try request(job(inputs: [:])) + [0])) { error in
            XCTAssertEqual("\(error)", "bytes after the module")
        }
    }

    func testOversizedHeaderIsRefusedBeforeReadingIt() {
        let length = ComponentProcessProtocol.maxHeaderBytes + 1
        let prefix: [UInt8] = [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        XCTAssertThrowsError(try read(prefix)) { error in
            XCTAssertEqual("\(error)", "request header of \(length) bytes")
        }
    }
}

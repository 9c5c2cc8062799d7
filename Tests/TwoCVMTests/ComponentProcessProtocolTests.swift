import CSeccomp
import Foundation
import Manifest
import Sandbox
import TestSupport
import XCTest

@testable import TwoCVM

/// The broker → child request: a framed header and the module, inputs as sealed memfds, read
/// back exactly; every way a request can be cut short or oversized, and every input
/// descriptor that is not a sealed file of its size, refused before anything runs.
final class ComponentProcessProtocolTests: XCTestCase {
    private var opened: [Int32] = []
    /// The descriptors the last `request` hands over, in order (input `i` is named `3 + i`).
    private var handedOver: [Int32] = []

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

    /// The request for `job` with its inputs in sealed memfds of this process, handed over in
    /// name order as the launcher does.
    private func request(_ job: ComponentJob) throws -> [UInt8] {
        var descriptors: [String: Int32] = [:]
        handedOver = []
        for (index, name) in job.inputs.keys.sorted().enumerated() {
            let fd = try SealedInputFile.make(job.inputs[name]!, name: name)
            opened.append(fd)
            handedOver.append(fd)
            descriptors[name] = Int32(3 + index)
        }
        return Array(ComponentProcessProtocol.encodeRequest(job, descriptors: descriptors).joined())
    }

    private func read(_ bytes: [UInt8]) throws -> ComponentJob {
        try ComponentProcessProtocol.readRequest(from: BytesSource(bytes), handedOver: handedOver)
    }

    private func openDescriptors() -> Set<Int32> { FileDescriptors.open() }

    private func socketPair() -> (broker: Int32, child: Int32) {
        var pair: [Int32] = [-1, -1]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair), 0)
        opened += pair
        return (pair[0], pair[1])
    }

    /// Many inputs (more than one message holds) arrive in order, each the file sent, and the
    /// request after them reads as usual from the same stream.
    func testInputDescriptorsArriveInOrderOverTheSocketThenTheRequest() throws {
        let (broker, child) = socketPair()
        let files = try (0..<300).map { index -> Int32 in
            let fd = try SealedInputFile.make(Array("input \(index)".utf8), name: "in\(index)")
            opened.append(fd)
            return fd
        }
        XCTAssertNil(InputHandover.send(files, on: broker))
        XCTAssertEqual(write(broker, [0x2A], 1), 1)  // the request's first byte follows the handover
        let received = try InputHandover.receive(from: child)
        opened += received
        XCTAssertEqual(received.count, 300)
        for (sent, got) in zip(files, received) {
            var a = stat(), b = stat()
            XCTAssertEqual(fstat(sent, &a), 0)
            XCTAssertEqual(fstat(got, &b), 0)
            XCTAssertEqual(a.st_ino, b.st_ino, "the same file, in the same place in the order")
            XCTAssertNotEqual(fcntl(got, F_GETFD) & FD_CLOEXEC, 0, "close-on-exec")
        }
        var next: UInt8 = 0
        XCTAssertEqual(Glibc.read(child, &next, 1), 1)
        XCTAssertEqual(next, 0x2A, "the handover consumed no byte of the request")
    }

    /// A message whose count is wrong, or a stream that ends before the end mark: refused, and
    /// every descriptor received so far closed again.
    func testABrokenHandoverIsRefusedAndLeavesNoDescriptorOpen() throws {
        let file = try SealedInputFile.make([1], name: "x")
        opened.append(file)
        let before = openDescriptors()
        for (tag, count, ending) in [(UInt8(3), 2, "announced 3 descriptors and carried 2"), (UInt8(1), 1, "Broken pipe")] {
            let (broker, child) = socketPair()
            let fds = [Int32](repeating: file, count: count)
            XCTAssertEqual(fds.withUnsafeBufferPointer { twocvm_send_descriptors(broker, $0.baseAddress, Int32(count), tag) }, 0)
            shutdown(broker, Int32(SHUT_WR))  // no end mark
            XCTAssertThrowsError(try InputHandover.receive(from: child)) { error in
                guard case let .handover(reason)? = error as? WireError else { return XCTFail("\(error)") }
                XCTAssertTrue(reason.contains(ending), reason)
            }
            XCTAssertEqual(openDescriptors().subtracting(before), [broker, child], "only the socket pair is left open")
            [broker, child].forEach { _ = close($0) }
            opened.removeAll { $0 == broker || $0 == child }
        }
    }

    /// The request must name every descriptor handed over, each once, and no other.
    func testTheRequestNamesExactlyTheDescriptorsHandedOver() throws {
        let bytes = try request(job(inputs: ["a": [1], "b": [2]]))
        let both = handedOver
        handedOver = [both[0]]  // "b" is named as 4, which did not arrive
        XCTAssertThrowsError(try read(bytes)) { XCTAssertEqual("\($0)", "bad inputs") }
        handedOver = both + [both[0]]  // a third descriptor nobody names
        XCTAssertThrowsError(try read(bytes)) {
            XCTAssertEqual("\($0)", "receiving the input descriptors: descriptors the request does not name")
        }
        handedOver = both
        XCTAssertEqual(try read(bytes).inputFiles.keys.sorted(), ["a", "b"])
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
        let sealed = try SealedInputFile.make([1, 2, 3], name: "x")
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

    /// The broker keeps the child's stdin open after the request (until it lets the child go),
    /// so the request ends where its module does: reading it takes no byte more. Here the
    /// socket is non-blocking, and one read past the module would fail with EAGAIN.
    func testTheRequestEndsWithItsModuleOnAStreamThatStaysOpen() throws {
        let (broker, child) = socketPair()
        let sent = try request(job(inputs: [:]))
        XCTAssertEqual(sent.withUnsafeBytes { write(broker, $0.baseAddress!, $0.count) }, sent.count)
        XCTAssertEqual(fcntl(child, F_SETFL, fcntl(child, F_GETFL) | O_NONBLOCK), 0)
        let received = try ComponentProcessProtocol.readRequest(from: FileDescriptorSource(descriptor: child), handedOver: [])
        XCTAssertEqual(received.moduleSource, Array("(module)".utf8))
    }

    /// The preparation names the library the broker verified (the child gets the very library
    /// object the request will name), or nothing for WasmKit; cut short, it is refused.
    func testThePreparationNamesTheVerifiedLibraryOrNothing() throws {
        XCTAssertNil(try ComponentProcessProtocol.readPreparation(from: BytesSource(ComponentProcessProtocol.encodePreparation(.wasmkit))))
        guard case let .wasmtime(library)? = try? EngineLibraries().runtime(for: .wasmtime) else {
            throw Requirement.missing("the wasmtime engine library", install: "the pinned wheel with `make deps`")
        }
        let frame = ComponentProcessProtocol.encodePreparation(.wasmtime(library))
        let prepared = try XCTUnwrap(try ComponentProcessProtocol.readPreparation(from: BytesSource(frame)))
        XCTAssertTrue(prepared === library)
        for length in 0..<frame.count {
            XCTAssertThrowsError(try ComponentProcessProtocol.readPreparation(from: BytesSource(Array(frame[0..<length]))))
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

import Manifest
import Sandbox
import XCTest

@testable import TwoCVM

/// The broker → child request: framed header and payloads, read back exactly, and every way a
/// request can be cut short, oversized or padded refused before anything runs.
final class ComponentProcessProtocolTests: XCTestCase {
    private func job(inputs: [String: [UInt8]]) -> ComponentJob {
        let module = Array("(module)".utf8)
        return ComponentJob(component: "joiner", moduleFile: "joiner.wat", moduleSource: module,
                            digest: ContentDigest(of: module), inputs: inputs, outputs: ["report": 4096],
                            capabilities: [.clock], limits: SandboxLimits(fuel: 1_000, memoryBytes: 65_536, wallClockSeconds: 7),
                            timeoutSeconds: 7)
    }

    private func read(_ bytes: [UInt8]) throws -> ComponentJob {
        try ComponentProcessProtocol.readRequest(from: BytesSource(bytes))
    }

    func testRequestRoundTripsModuleInputsAndLimits() throws {
        let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let sent = job(inputs: ["orders": big, "empty": [], "rates": Array("eur,1.0".utf8)])
        let received = try read(Array(ComponentProcessProtocol.encodeRequest(sent).joined()))
        XCTAssertEqual(received.component, "joiner")
        XCTAssertEqual(received.moduleFile, "joiner.wat")
        XCTAssertEqual(received.moduleSource, sent.moduleSource)
        XCTAssertEqual(received.digest, sent.digest)
        XCTAssertEqual(received.inputs, sent.inputs)
        XCTAssertEqual(received.outputs, ["report": 4096])
        XCTAssertEqual(received.capabilities, [.clock])
        XCTAssertEqual(received.limits.fuel, 1_000)
        XCTAssertEqual(received.limits.memoryBytes, 65_536)
        XCTAssertEqual(received.timeoutSeconds, 7)
    }

    func testPayloadsTravelAsFramesNotCopies() {
        let input = [UInt8](repeating: 7, count: 1 << 16)
        let frames = ComponentProcessProtocol.encodeRequest(job(inputs: ["a": input]))
        XCTAssertEqual(frames.count, 3, "header, module, one input")
        XCTAssertEqual(frames[2], input)
    }

    func testEveryTruncationIsRefused() throws {
        let bytes = Array(ComponentProcessProtocol.encodeRequest(job(inputs: ["a": Array(repeating: 1, count: 100)])).joined())
        for length in stride(from: 0, to: bytes.count, by: 1) {
            XCTAssertThrowsError(try read(Array(bytes[0..<length])), "cut at \(length) of \(bytes.count)") { error in
                XCTAssertTrue(error is WireError, "\(error)")
            }
        }
        XCTAssertNoThrow(try read(bytes))
    }

    func testTrailingBytesAreRefused() {
        let bytes = Array(ComponentProcessProtocol.encodeRequest(job(inputs: [:])).joined()) + [0]
        XCTAssertThrowsError(try read(bytes)) { error in
            XCTAssertEqual("\(error)", "bytes after the last payload")
        }
    }

    func testOversizedHeaderIsRefusedBeforeReadingIt() {
        let length = ComponentProcessProtocol.maxHeaderBytes + 1
        let prefix: [UInt8] = [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        XCTAssertThrowsError(try read(prefix)) { error in
            XCTAssertEqual("\(error)", "request header of \(length) bytes")
        }
    }

    func testAnnouncedPayloadsOverTheLimitAreRefusedBeforeAllocating() throws {
        // A header that announces 2 × 600 MiB of inputs, with no payload behind it.
        var frames = ComponentProcessProtocol.encodeRequest(job(inputs: ["a": [1], "b": [2]]))
        let header = Array(frames[0].dropFirst(4))
        let size = UInt64(600 << 20)
        let patched = try XCTUnwrap(patchInputSizes(header, to: size))
        let length = UInt32(patched.count)
        frames = [[UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] + patched]
        XCTAssertThrowsError(try read(Array(frames.joined()))) { error in
            XCTAssertEqual("\(error)", "request payloads over \(ComponentProcessProtocol.maxRequestBytes) bytes")
        }
    }

    /// The header with every input size replaced by `size` (a CBOR unsigned of 1 byte becomes 9).
    private func patchInputSizes(_ header: [UInt8], to size: UInt64) -> [UInt8]? {
        // Input entries are encoded as [name, size]: 0x82, text "a"/"b" (0x61, byte), size 0x01/0x01.
        var out: [UInt8] = []
        var index = 0
        var patched = 0
        while index < header.count {
            if index + 3 < header.count, header[index] == 0x82, header[index + 1] == 0x61,
               header[index + 2] == UInt8(ascii: "a") || header[index + 2] == UInt8(ascii: "b"), header[index + 3] == 0x01 {
                out += header[index..<index + 3] + [0x1B] + (0..<8).reversed().map { UInt8(truncatingIfNeeded: size >> (8 * UInt64($0))) }
                index += 4
                patched += 1
            } else {
                out.append(header[index])
                index += 1
            }
        }
        return patched == 2 ? out : nil
    }
}

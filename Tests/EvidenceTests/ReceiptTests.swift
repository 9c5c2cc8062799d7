import COSE
import Crypto
import Manifest
import TestSupport
import XCTest
@testable import Evidence

/// Receipts: signed by the TEE key, every field covered, readable by pycose.
final class ReceiptTests: XCTestCase {
    private let tee = P384.Signing.PrivateKey()
    private let sealedOutput = Array("sealed output bytes".utf8)

    private var receipt: Receipt {
        Receipt(manifest: ManifestDigest(of: [1]), plan: [UInt8](repeating: 2, count: 48),
                components: [.init(id: "wafer-parser", digest: [UInt8](repeating: 3, count: 32))],
                inputs: [.init(id: "wafer-maps", sha256: [UInt8](repeating: 4, count: 32))],
                outputs: [.init(id: "yield-report", recipient: "fab", sha256: Array(SHA256.hash(data: sealedOutput)))],
                start: "2026-11-21T07:00:00Z", end: "2026-11-21T07:00:09Z")
    }

    func testSignedReceiptVerifiesAndListsItsOutputs() throws {
        let bytes = try receipt.signed(by: tee)
        let read = try Receipt.verify(bytes, signer: tee.publicKey)
        XCTAssertEqual(read, receipt)
        XCTAssertNotNil(read.output(sealedBytes: sealedOutput, recipient: "fab"))
        XCTAssertNil(read.output(sealedBytes: sealedOutput, recipient: "designer"), "not listed for another recipient")
        XCTAssertNil(read.output(sealedBytes: sealedOutput + [0], recipient: "fab"))
    }

    func testAnyChangedByteOrAnotherSignerIsRefused() throws {
        let bytes = try receipt.signed(by: tee)
        XCTAssertThrowsError(try Receipt.verify(bytes, signer: P384.Signing.PrivateKey().publicKey))
        for offset in bytes.indices {
            var tampered = bytes
            tampered[offset] ^= 0x01
            XCTAssertThrowsError(try Receipt.verify(tampered, signer: tee.publicKey), "offset \(offset)")
        }
    }

    func testPycoseVerifiesTheReceipt() throws {
        let bytes = try receipt.signed(by: tee)
        let script = """
            import sys, cbor2
            from pycose.messages import Sign1Message
            from pycose.keys import EC2Key
            from pycose.keys.curves import P384
            raw = bytes.fromhex(sys.argv[2])
            msg = Sign1Message.decode(bytes.fromhex(sys.argv[1]))
            msg.key = EC2Key(crv=P384, x=raw[:48], y=raw[48:])
            payload = cbor2.loads(msg.payload)
            print(msg.verify_signature(), payload["type"], payload["outputs"][0]["recipient"])
            """
        let output = try PythonReference.run(script, [Hex.encode(bytes), Hex.encode(tee.publicKey.rawRepresentation)])
        XCTAssertEqual(output, "True twocvm-receipt fab")
    }
}

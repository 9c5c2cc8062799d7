import Crypto
import Foundation
import Manifest
import TestSupport
import XCTest
@testable import Evidence

/// A sealed output opened by an independent implementation: Python parses the file with cbor2,
/// rebuilds the HPKE info and chunk AADs from the format description, opens every chunk with
/// pyhpke (RFC 9180) and checks the ES384 signature with cryptography.
final class SealedFilePythonTests: XCTestCase {
    private let tee = P384.Signing.PrivateKey()
    private let manifest = ManifestDigest(of: Array("manifest".utf8))

    func testOpenedByPyHPKE() throws {
        let plaintext = Array("sealed output for bob, opened by pyhpke".utf8)
        let bob = P384.KeyAgreement.PrivateKey()
        let sealed = try SealedFile.seal(plaintext, manifest: manifest, purpose: .output, id: "result",
                                         recipientName: "bob", recipientKey: bob.publicKey, sender: "tee",
                                         senderKey: tee, chunkSize: 16)
        // Python parses the CBOR sequence itself, rebuilds info and AAD, opens every chunk with
        // pyhpke and checks the ES384 signature with cryptography.
        let script = """
            import sys, hashlib, io, cbor2
            from pyhpke import AEADId, CipherSuite, KDFId, KEMId
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import ec
            from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
            sealed, skr_raw, signer = (bytes.fromhex(a) for a in sys.argv[1:4])
            stream = io.BytesIO(sealed)
            decoder, items = cbor2.CBORDecoder(stream), []
            while stream.tell() < len(sealed):
                items.append(decoder.decode())
            header_bytes, chunks, sig = items[0], items[1:-1], items[-1]
            h = cbor2.loads(header_bytes)
            assert h["type"] == "twocvm-sealed" and h["version"] == 1 and h["suite"] == [0x11, 2, 2]
            assert cbor2.dumps(h, canonical=True) == header_bytes
            pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP384R1(), signer)
            der = encode_dss_signature(int.from_bytes(sig[:48], "big"), int.from_bytes(sig[48:], "big"))
            pub.verify(der, header_bytes + b"".join(chunks), ec.ECDSA(hashes.SHA384()))
            suite = CipherSuite.new(KEMId.DHKEM_P384_HKDF_SHA384, KDFId.HKDF_SHA384, AEADId.AES256_GCM)
            info = cbor2.dumps(["twocvm-sealed/v1", h["manifest"], h["purpose"], h["id"], h["recipient"]])
            ctx = suite.create_recipient_context(h["enc"], suite.kem.deserialize_private_key(skr_raw), info=info)
            hd = hashlib.sha384(header_bytes).digest()
            out = b"".join(ctx.open(c, aad=hd + i.to_bytes(8, "big") + bytes([i == len(chunks) - 1]))
                           for i, c in enumerate(chunks))
            assert len(out) == h["length"] and hashlib.sha256(out).digest() == h["sha256"]
            print(h["purpose"], h["id"], h["recipient"], h["sender"], len(chunks))
            print(out.hex())
            """
        let output = try PythonReference.run(script, [hex(sealed), hex(Array(bob.rawRepresentation)), hex(Array(tee.publicKey.x963Representation))])
        XCTAssertEqual(output, "output result bob tee 3\n" + hex(plaintext))
    }

    func testInputSealedByPyHPKEIsOpened() throws {
        let owner = P384.Signing.PrivateKey()
        let teeHPKE = P384.KeyAgreement.PrivateKey()
        let plaintext = Array("an owner's input, sealed by an independent implementation".utf8)
        // Python writes the whole file from Docs/formats.md: canonical header, pyhpke chunks, ES384.
        let script = """
            import sys, hashlib, cbor2
            from pyhpke import AEADId, CipherSuite, KDFId, KEMId
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import ec
            from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
            pt, pkr_raw, sks_raw, manifest = (bytes.fromhex(a) for a in sys.argv[1:5])
            suite = CipherSuite.new(KEMId.DHKEM_P384_HKDF_SHA384, KDFId.HKDF_SHA384, AEADId.AES256_GCM)
            info = cbor2.dumps(["twocvm-sealed/v1", manifest, "input", "genomes", "tee"])
            enc, ctx = suite.create_sender_context(suite.kem.deserialize_public_key(pkr_raw), info=info)
            size = 10
            parts = [pt[i:i + size] for i in range(0, len(pt), size)] or [b""]
            header = cbor2.dumps({"type": "twocvm-sealed", "version": 1, "manifest": manifest, "purpose": "input",
                                  "id": "genomes", "recipient": "tee", "sender": "alice", "suite": [0x11, 2, 2],
                                  "enc": enc, "chunk-size": size, "length": len(pt),
                                  "sha256": hashlib.sha256(pt).digest()}, canonical=True)
            hd = hashlib.sha384(header).digest()
            chunks = [ctx.seal(p, aad=hd + i.to_bytes(8, "big") + bytes([i == len(parts) - 1])) for i, p in enumerate(parts)]
            key = ec.derive_private_key(int.from_bytes(sks_raw, "big"), ec.SECP384R1())
            r, s = decode_dss_signature(key.sign(header + b"".join(chunks), ec.ECDSA(hashes.SHA384())))
            sig = r.to_bytes(48, "big") + s.to_bytes(48, "big")
            print(b"".join(cbor2.dumps(item) for item in [header, *chunks, sig]).hex())
            """
        let output = try PythonReference.run(script, [hex(plaintext), hex(Array(teeHPKE.publicKey.x963Representation)),
                                            hex(Array(owner.rawRepresentation)), hex(manifest.bytes)])
        let sealed = try XCTUnwrap(Hex.decode(output))
        let expect = SealedFile.Expectation(manifest: manifest, purpose: .input, id: "genomes", recipient: "tee",
                                            sender: "alice", senderKey: owner.publicKey)
        XCTAssertEqual(try SealedFile.open(sealed, recipientKey: teeHPKE, expect: expect), plaintext)
    }

    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}

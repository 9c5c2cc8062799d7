import Crypto
import Foundation
import Manifest
import TestSupport
import XCTest
@testable import Evidence

/// Sealed files against an independent implementation, in both format versions: Python parses
/// the file with cbor2, rebuilds the HPKE info and chunk AADs from Docs/formats.md, opens every
/// chunk with pyhpke (RFC 9180) and checks the ES384 signature with cryptography; and Python
/// writes a whole file from the same description that `SealedFile.open` opens.
final class SealedFilePythonTests: XCTestCase {
    private let tee = P384.Signing.PrivateKey()
    private let manifest = ManifestDigest(of: Array("manifest".utf8))

    /// Python's opener: prints purpose, id, recipient, sender, the chunk count and the plaintext.
    private let pythonOpener = """
        import sys, hashlib, io, cbor2
        from pyhpke import AEADId, CipherSuite, KDFId, KEMId
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
        sealed, skr_raw, signer = (bytes.fromhex(a) for a in sys.argv[1:4])
        version = int(sys.argv[4])
        stream = io.BytesIO(sealed)
        decoder, items = cbor2.CBORDecoder(stream), []
        while stream.tell() < len(sealed):
            items.append(decoder.decode())
        header_bytes, chunks, sig = items[0], items[1:-1], items[-1]
        h = cbor2.loads(header_bytes)
        assert h["type"] == "twocvm-sealed" and h["version"] == version and h["suite"] == [0x11, 2, 2]
        assert cbor2.dumps(h, canonical=True) == header_bytes
        assert len(h) == 12 and ("sha256" in h) == (version == 1) and ("commit" in h) == (version == 2)
        pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP384R1(), signer)
        der = encode_dss_signature(int.from_bytes(sig[:48], "big"), int.from_bytes(sig[48:], "big"))
        if version == 1:
            pub.verify(der, header_bytes + b"".join(chunks), ec.ECDSA(hashes.SHA384()))
        else:
            n = 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973
            assert int.from_bytes(sig[48:], "big") <= n // 2, "version 2 signatures have the low s"
            before_signature = sealed[:len(sealed) - len(cbor2.dumps(sig))]
            assert before_signature == b"".join(cbor2.dumps(item) for item in [header_bytes, *chunks])
            pub.verify(der, b"twocvm-sealed/v2 signature" + hashlib.sha256(before_signature).digest(), ec.ECDSA(hashes.SHA384()))
        suite = CipherSuite.new(KEMId.DHKEM_P384_HKDF_SHA384, KDFId.HKDF_SHA384, AEADId.AES256_GCM)
        info = cbor2.dumps([f"twocvm-sealed/v{version}", h["manifest"], h["purpose"], h["id"], h["recipient"]])
        ctx = suite.create_recipient_context(h["enc"], suite.kem.deserialize_private_key(skr_raw), info=info)
        assert version == 1 or ctx.export(b"twocvm-sealed/v2 commit", 32) == h["commit"]
        hd = hashlib.sha384(header_bytes).digest()
        out = b"".join(ctx.open(c, aad=hd + i.to_bytes(8, "big") + bytes([i == len(chunks) - 1]))
                       for i, c in enumerate(chunks))
        assert len(out) == h["length"]
        assert version != 1 or hashlib.sha256(out).digest() == h["sha256"]
        print(h["purpose"], h["id"], h["recipient"], h["sender"], len(chunks))
        print(out.hex())
        """

    func testOpenedByPyHPKE() throws {
        let plaintext = Array("sealed output for bob, opened by pyhpke".utf8)
        let bob = P384.KeyAgreement.PrivateKey()
        for version: Int64 in [2, 1] {
            let sealed = try SealedFile.seal(plaintext, manifest: manifest, purpose: .output, id: "result",
                                             recipientName: "bob", recipientKey: bob.publicKey, sender: "tee",
                                             senderKey: tee, chunkSize: 16, version: version)
            let output = try PythonReference.run(pythonOpener, [hex(sealed), hex(Array(bob.rawRepresentation)),
                                                                hex(Array(tee.publicKey.x963Representation)), "\(version)"])
            XCTAssertEqual(output, "output result bob tee 3\n" + hex(plaintext), "version \(version)")
        }
    }

    func testVersion2SealedByTheStreamingSealerIsOpenedByPyHPKE() throws {
        // The file `twocvm seal` writes: one pass, the signature's hash on the second thread.
        let plaintext = (0..<30_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let bob = P384.KeyAgreement.PrivateKey()
        var sealed: [UInt8] = []
        let result = try SealedFile.seal(reading: { SealedFile.bufferReader(over: plaintext) }, length: UInt64(plaintext.count),
                                         manifest: manifest, purpose: .output, id: "result", recipientName: "bob",
                                         recipientKey: bob.publicKey, sender: "tee", senderKey: tee, chunkSize: 4096,
                                         write: { sealed += $0 })
        XCTAssertEqual(result.fileSHA256, Array(SHA256.hash(data: sealed)))
        let output = try PythonReference.run(pythonOpener, [hex(sealed), hex(Array(bob.rawRepresentation)),
                                                            hex(Array(tee.publicKey.x963Representation)), "2"])
        XCTAssertEqual(output, "output result bob tee 8\n" + hex(plaintext))
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
            version = int(sys.argv[5])
            suite = CipherSuite.new(KEMId.DHKEM_P384_HKDF_SHA384, KDFId.HKDF_SHA384, AEADId.AES256_GCM)
            info = cbor2.dumps([f"twocvm-sealed/v{version}", manifest, "input", "genomes", "tee"])
            enc, ctx = suite.create_sender_context(suite.kem.deserialize_public_key(pkr_raw), info=info)
            size = 10
            parts = [pt[i:i + size] for i in range(0, len(pt), size)] or [b""]
            fields = {"type": "twocvm-sealed", "version": version, "manifest": manifest, "purpose": "input",
                      "id": "genomes", "recipient": "tee", "sender": "alice", "suite": [0x11, 2, 2],
                      "enc": enc, "chunk-size": size, "length": len(pt)}
            if version == 1:
                fields["sha256"] = hashlib.sha256(pt).digest()
            else:
                fields["commit"] = ctx.export(b"twocvm-sealed/v2 commit", 32)
            header = cbor2.dumps(fields, canonical=True)
            hd = hashlib.sha384(header).digest()
            chunks = [ctx.seal(p, aad=hd + i.to_bytes(8, "big") + bytes([i == len(parts) - 1])) for i, p in enumerate(parts)]
            body = b"".join(cbor2.dumps(item) for item in [header, *chunks])
            key = ec.derive_private_key(int.from_bytes(sks_raw, "big"), ec.SECP384R1())
            if version == 1:
                signed = header + b"".join(chunks)
            else:
                signed = b"twocvm-sealed/v2 signature" + hashlib.sha256(body).digest()
            r, s = decode_dss_signature(key.sign(signed, ec.ECDSA(hashes.SHA384())))
            n = 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973
            if version == 2:
                s = min(s, n - s)  # version 2 signatures have the low s
            print((body + cbor2.dumps(r.to_bytes(48, "big") + s.to_bytes(48, "big"))).hex())
            """
        let expect = SealedFile.Expectation(manifest: manifest, purpose: .input, id: "genomes", recipient: "tee",
                                            sender: "alice", senderKey: owner.publicKey)
        for version in [2, 1] {
            let output = try PythonReference.run(script, [hex(plaintext), hex(Array(teeHPKE.publicKey.x963Representation)),
                                                          hex(Array(owner.rawRepresentation)), hex(manifest.bytes), "\(version)"])
            let sealed = try XCTUnwrap(Hex.decode(output))
            XCTAssertEqual(try SealedFile.open(sealed, recipientKey: teeHPKE, expect: expect), plaintext, "version \(version)")
            let opened = try SealedFile.openInOnePass(reading: { SealedFile.bufferReader(over: sealed) }, recipientKey: teeHPKE,
                                                      expect: expect, digestingFile: true) { _ in }
            XCTAssertNoThrow(try opened.result(), "version \(version)")
            XCTAssertEqual(opened.checked.header.version, Int64(version))
            XCTAssertEqual(opened.checked.fileSHA256, Array(SHA256.hash(data: sealed)), "version \(version)")
        }
    }

    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}

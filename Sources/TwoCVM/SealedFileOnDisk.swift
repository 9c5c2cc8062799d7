import Crypto
import Evidence
import Foundation

/// A sealed file on disk, opened with bounded memory, together with the SHA-256 of its bytes
/// (what receipts name). The digest is taken over the pass that checks the signature, which
/// reads every byte, so it is the digest of the file that was opened, not of a file that was
/// swapped in between.
struct SealedFileOnDisk {
    let path: String

    /// The SHA-256 of the whole file, read in chunks.
    func sha256() throws -> [UInt8] {
        let read = try FileIO.chunkReader(path)()
        var hash = SHA256()
        while true {
            let part = try read(1 << 20)
            if part.isEmpty { break }
            hash.update(data: part)
        }
        return Array(hash.finalize())
    }

    /// The header the file claims (not yet checked).
    func header() throws(SealError) -> SealedFileHeader {
        try SealedFile.readHeader(streaming: FileIO.chunkReader(path))
    }

    /// Opens the file into `write`; returns its header and the SHA-256 of the bytes whose
    /// signature was checked.
    func open(recipientKey: P384.KeyAgreement.PrivateKey, expect: SealedFile.Expectation,
              write: ([UInt8]) throws -> Void) throws(SealError) -> (header: SealedFileHeader, sha256: [UInt8]) {
        let passes = PassHashes()
        let reader = FileIO.chunkReader(path)
        let header = try SealedFile.open(streaming: {
            let read = try reader()
            let pass = passes.begin()
            return { count in
                let part = try read(count)
                passes.update(pass, part)
                return part
            }
        }, recipientKey: recipientKey, expect: expect, write: write)
        return (header, passes.digest(0))
    }
}

/// Running SHA-256 digests, one per read pass.
private final class PassHashes {
    private var hashes: [SHA256] = []

    func begin() -> Int {
        hashes.append(SHA256())
        return hashes.count - 1
    }

    func update(_ pass: Int, _ bytes: [UInt8]) { hashes[pass].update(data: bytes) }

    func digest(_ pass: Int) -> [UInt8] { Array(hashes[pass].finalize()) }
}

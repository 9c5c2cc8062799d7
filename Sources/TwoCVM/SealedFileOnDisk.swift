import Crypto
import Evidence
import Foundation

/// A sealed file on disk, opened with bounded memory, together with the SHA-256 of its bytes
/// (what receipts name). The digest is taken over the pass that checks the signature, which
/// reads every byte, so it is the digest of the file that was opened, not of a file that was
/// swapped in between.
struct SealedFileOnDisk {
    let path: String

    /// The SHA-256 (how receipts name sealed files) and SHA-384 (how they name the plan) of
    /// the whole file, from one read in 1 MiB blocks into one reused buffer (OpenSSL's hashes).
    func digests() throws(FileIOError) -> (sha256: [UInt8], sha384: [UInt8]) {
        let read = try FileIO.bufferReader(path)()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        let sha256: SealedHash, sha384: SealedHash
        do { (sha256, sha384) = (try SealedHash(.sha256), try SealedHash(.sha384)) } catch {
            throw .unreadable(path: path, reason: error.description)
        }
        while true {
            let count = try read(buffer)
            if count == 0 { break }
            let block = UnsafeRawBufferPointer(rebasing: buffer[..<count])
            sha256.update(block)
            sha384.update(block)
        }
        return (sha256.digest(), sha384.digest())
    }

    /// The header the file claims (not yet checked).
    func header() throws(SealError) -> SealedFileHeader {
        try SealedFile.readHeader(reading: FileIO.bufferReader(path))
    }

    /// The first pass of opening (framing, header, signature, and the file's SHA-256); see
    /// `SealedFile.check`. Reports progress for large files. `claimed` is the header the
    /// caller read first (``header()``): its length sizes the progress line; the pass checks
    /// the file's own header.
    func check(expect: SealedFile.Expectation, claimed: SealedFileHeader, task: String) throws(SealError) -> CheckedSealedFile {
        let progress = ProgressReporting.sealedFile(task: task, length: claimed.length)
        do {
            return try SealedFile.check(reading: FileIO.bufferReader(path), expect: expect, digestingFile: true, progress: progress)
        } catch {
            if progress != nil { ProgressReporting.finish() }
            throw error
        }
    }

    /// The second pass: decrypts `checked` (refused if its check failed) into `write`.
    func decrypt(_ checked: CheckedSealedFile, recipientKey: P384.KeyAgreement.PrivateKey, task: String,
                 write: (UnsafeRawBufferPointer) throws -> Void) throws(SealError) {
        let progress = ProgressReporting.sealedFile(task: task, length: checked.header.length)
        defer { if progress != nil { ProgressReporting.finish() } }
        try checked.decrypt(reading: FileIO.bufferReader(path), recipientKey: recipientKey, progress: progress, write: write)
    }

    /// Both passes in one read of the file (`SealedFile.openInOnePass`), with the file's
    /// SHA-256: plaintext reaches `write` before the signature is checked, so `write` must
    /// keep it out of sight until `OpenedSealedFile.result()` passes. `claimed` as for ``check``.
    func openInOnePass(recipientKey: P384.KeyAgreement.PrivateKey, expect: SealedFile.Expectation, claimed: SealedFileHeader,
                       task: String, write: (UnsafeRawBufferPointer) throws -> Void) throws(SealError) -> OpenedSealedFile {
        let progress = ProgressReporting.sealedFile(task: task, length: claimed.length)
        defer { if progress != nil { ProgressReporting.finish() } }
        return try SealedFile.openInOnePass(reading: FileIO.bufferReader(path), recipientKey: recipientKey, expect: expect,
                                            digestingFile: true, progress: progress, write: write)
    }

    /// Opens the file into `write`; returns its header and the SHA-256 of the bytes whose
    /// signature was checked. (A sealed `run` opens its inputs this way, into memory it drops
    /// unless this returns: one read of the file, decrypting while the signature is checked.)
    func open(recipientKey: P384.KeyAgreement.PrivateKey, expect: SealedFile.Expectation, claimed: SealedFileHeader,
              write: (UnsafeRawBufferPointer) throws -> Void) throws(SealError) -> (header: SealedFileHeader, sha256: [UInt8]) {
        let task = "decrypt \(URL(fileURLWithPath: path).lastPathComponent)"
        let opened = try openInOnePass(recipientKey: recipientKey, expect: expect, claimed: claimed, task: task, write: write)
        try opened.result()
        return (opened.checked.header, opened.checked.fileSHA256!)
    }
}

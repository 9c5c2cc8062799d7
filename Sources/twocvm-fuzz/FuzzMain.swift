// One fuzz executable for every parser of untrusted bytes (SPEC §10).
//
// Built two ways:
//  * normally (`swift build --product twocvm-fuzz`): a corpus replayer, `twocvm-fuzz TARGET FILE...`,
//    used by the unit tests and CI to run the committed corpus through each parser;
//  * with libFuzzer (`make fuzz`: `-sanitize=fuzzer -DFUZZING`): libFuzzer drives
//    `LLVMFuzzerTestOneInput`, and the environment variable TWOCVM_FUZZ_TARGET picks the parser.

import Foundation

/// The parsers under fuzzing, by name. Each entry must never crash, whatever the bytes.
let fuzzTargets: [String: @Sendable ([UInt8]) -> Void] = [
    "cbor": fuzzCBOR,
    "manifest": fuzzManifest,
    "report": fuzzReport,
    "certificate": fuzzCertificate,
    "sealed": fuzzSealed,
    "evidence": fuzzEvidence,
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let name = ProcessInfo.processInfo.environment["TWOCVM_FUZZ_TARGET"] ?? "cbor"
    guard let target = fuzzTargets[name] else {
        FileHandle.standardError.write(Data("unknown TWOCVM_FUZZ_TARGET \(name)\n".utf8))
        exit(2)
    }
    target(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

#if FUZZING
/// libFuzzer's driver (compiler-rt, LLVM ≥ 11).
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

/// SwiftPM links executables with `main` defined as this symbol; hand control to libFuzzer.
@_cdecl("twocvm_fuzz_main")
func fuzzerEntryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { data, size in fuzzOneInput(data, size) }
}
#else
@main
enum CorpusReplay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.first == "--write-seeds", let directory = arguments.dropFirst().first {
            // Each seed goes under its target's folder (sealed/, evidence/), made if missing; a
            // seed that cannot be written fails the command, naming it.
            for (name, bytes) in try! fuzzSeeds().sorted(by: { $0.key < $1.key }) {
                let path = URL(fileURLWithPath: directory).appendingPathComponent(name)
                do {
                    try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try Data(bytes).write(to: path, options: .atomic)
                } catch {
                    FileHandle.standardError.write(Data("cannot write seed \(path.path): \(error.localizedDescription)\n".utf8))
                    exit(1)
                }
            }
            return
        }
        guard let name = arguments.first, let target = fuzzTargets[name] else {
            FileHandle.standardError.write(Data("usage: twocvm-fuzz \(fuzzTargets.keys.sorted().joined(separator: "|")) FILE...\n".utf8))
            exit(2)
        }
        var count = 0
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
                exit(2)
            }
            target(Array(data))
            count += 1
        }
        print("replayed \(count) inputs through \(name)")
    }
}
#endif

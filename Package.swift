// swift-tools-version:6.1
//
// twocvm: the toolkit for Two-Way Confidential VMs. See Docs/architecture.md for why the targets
// are split this way; SPEC §2 fixes the dependency rules (SNP, Manifest and Sandbox never import
// each other; only the executable prints). Linux only: the sandbox's child processes use
// seccomp, the guest device is Linux's, and file I/O calls Glibc (Sources/TwoCVM/Platform.swift
// stops a build anywhere else with a clear message).

import PackageDescription

let package = Package(
    name: "twocvm",
    products: [
        .executable(name: "twocvm", targets: ["twocvm"]),
        .library(name: "TwoCVM", targets: ["TwoCVM"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/swiftwasm/WasmKit", exact: "0.4.2"),
    ],
    targets: [
        // System libraries (Debian: libcbor-dev, libssl-dev). libcbor is found through pkg-config.
        .systemLibrary(
            name: "CLibCBOR", pkgConfig: "libcbor",
            providers: [.apt(["libcbor-dev"])]),
        // OpenSSL's libcrypto is linked statically (Sources/COpenSSL/module.modulemap): as a
        // shared library its load and symbol binding cost each process (the broker and every
        // component child) about 2 ms of start-up. No pkg-config: it would add -lssl -lcrypto.
        .systemLibrary(
            name: "COpenSSL",
            providers: [.apt(["libssl-dev"])]),

        // The part of wasmtime's C API the compiling engine uses: the project's own declarations
        // and a dlopen/dlsym loader (nothing links against wasmtime at build time).
        .target(name: "CWasmtime", linkerSettings: [.linkedLibrary("dl")]),

        // The seccomp-BPF allowlist a component child locks itself into (Linux; C for the BPF tables).
        .target(name: "CSeccomp"),

        // Hexadecimal: the one hex codec (data formats strict; typed or pasted input: optional 0x,
        // whitespace ignored). Imports nothing, so SNP and Manifest may both depend on it.
        .target(name: "Hexadecimal"),

        // Deterministic CBOR value model, encoder, and bounded decoder over libcbor.
        .target(name: "CBOR", dependencies: ["CLibCBOR"]),

        // COSE_Sign1 (RFC 9052) with ES384: approvals and run receipts.
        .target(
            name: "COSE",
            dependencies: ["CBOR", .product(name: "Crypto", package: "swift-crypto")]),

        // The Commitment Manifest: TOML model, lint, canonical digest, approvals.
        .target(
            name: "Manifest",
            dependencies: [
                "CBOR", "COSE", "Hexadecimal",
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),

        // AMD SEV-SNP: report ABI, certificate chain, validation, launch measurement, guest device.
        .target(
            name: "SNP",
            dependencies: [
                "COpenSSL", "Hexadecimal",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),

        // The WebAssembly sandbox: one isolated instance per component, on WasmKit or wasmtime
        // behind one engine boundary (Crypto: the pinned wasmtime library's SHA-256).
        .target(
            name: "Sandbox",
            dependencies: [
                "CWasmtime", "Hexadecimal",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "WasmKit", package: "WasmKit"),
                .product(name: "WAT", package: "WasmKit"),
                .product(name: "WasmParser", package: "WasmKit"),
            ]),

        // Evidence bundles, REPORT_DATA binding, HPKE sealing, COSE receipts (COpenSSL: the
        // sealed-file data path's AES-256-GCM and hashes over reused buffers).
        .target(
            name: "Evidence",
            dependencies: [
                "CBOR", "COSE", "SNP", "Manifest", "COpenSSL",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),

        // The workflows behind each subcommand.
        .target(
            name: "TwoCVM",
            dependencies: [
                "CBOR", "COSE", "Manifest", "SNP", "Sandbox", "Evidence", "CSeccomp",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),

        // The executable: argument parsing, human and --json output, exit codes. The lower
        // targets' types it prints come through TwoCVM (Sources/TwoCVM/Exports.swift).
        .executableTarget(
            name: "twocvm",
            dependencies: [
                "TwoCVM",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Fuzz entry points for every parser of untrusted bytes (corpus replayer unless built
        // with -sanitize=fuzzer -DFUZZING; see `make fuzz`).
        .executableTarget(
            name: "twocvm-fuzz",
            dependencies: ["CBOR", "COSE", "Manifest", "SNP", "Evidence",
                           .product(name: "Crypto", package: "swift-crypto")]),

        // In-process benchmarks driven by `make bench` (Benchmarks/).
        .executableTarget(
            name: "twocvm-bench",
            dependencies: ["CBOR", "Manifest", "SNP", "TwoCVM", "Evidence",
                           .product(name: "Crypto", package: "swift-crypto")]),

        // Helpers shared by the test targets: the Python cross-check runner, test paths
        // (Tests/Data), the seeded generator, and the skip-or-fail rule for missing requirements.
        .target(name: "TestSupport", path: "Tests/TestSupport"),

        .testTarget(name: "CBORTests", dependencies: ["CBOR", "TestSupport"]),
        .testTarget(
            name: "COSETests",
            dependencies: ["COSE", "CBOR", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(
            name: "ManifestTests",
            dependencies: [
                "Manifest", "CBOR", "COSE", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]),
        .testTarget(name: "SNPTests", dependencies: ["SNP", "Hexadecimal", "TestSupport"]),
        .testTarget(name: "HexadecimalTests", dependencies: ["Hexadecimal"]),
        .testTarget(name: "SandboxTests", dependencies: ["Sandbox", "TestSupport"]),
        .testTarget(
            name: "EvidenceTests",
            dependencies: ["Evidence", "CBOR", "Manifest", "TestSupport", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(
            name: "TwoCVMTests",
            dependencies: [
                "TwoCVM", "Manifest", "Sandbox", "CBOR", "SNP", "Evidence", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .testTarget(name: "CLITests", dependencies: ["twocvm", "twocvm-fuzz", "TestSupport"]),
    ]
)

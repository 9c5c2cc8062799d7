import Foundation
import XCTest

/// Examples/README.md's recipe for building your own C component works as written from a
/// fresh clone: `make wasm-resource` assembles the resource directory it names, and the
/// documented clang command then builds a module that `compose` admits.
final class ExamplesRecipeTests: XCTestCase {
    func testTheDocumentedCRecipeBuildsAComponent() throws {
        let clang = "/opt/swift/usr/bin/clang"
        try Requirement.requireExecutable(clang, install: "the Swift toolchain's clang (/opt/swift)")
        try Requirement.requireFile("/usr/lib/wasm32-wasi/libc.a", install: "Debian's wasi-libc package (make deps)")
        let root = TestPaths.repositoryRoot.path
        let make = try CLI.run(["-C", root, "--no-print-directory", "wasm-resource"], executable: "/usr/bin/make")
        XCTAssertEqual(make.status, 0, make.stdout + make.stderr)

        let work = try TestPaths.temporaryDirectory(self).path
        let source = "\(work)/component.c"
        try Data("""
            #include <stdio.h>
            int main(void) {
                FILE *out = fopen("/out/report", "w");
                if (!out) return 1;
                fputs("made by the README's recipe\\n", out);
                return fclose(out) != 0;
            }
            """.utf8).write(to: URL(fileURLWithPath: source))
        // The command as Examples/README.md gives it, from the repository root.
        let compile = try CLI.run(["--target=wasm32-wasi", "--sysroot=/usr", "-resource-dir", "Examples/build/wasm-resource", "-O2",
                                   "-o", "\(work)/component.wasm", source, "-Wl,--strip-all", "-lm"],
                                  executable: clang, currentDirectory: TestPaths.repositoryRoot)
        XCTAssertEqual(compile.status, 0, compile.stderr)
        let module = try Data(contentsOf: URL(fileURLWithPath: "\(work)/component.wasm"))
        XCTAssertEqual(Array(module.prefix(4)), [0x00, 0x61, 0x73, 0x6D], "a WebAssembly binary")
    }
}

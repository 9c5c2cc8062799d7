# Wasm examples and the dev-mode demo, included by the top-level Makefile.
#
#   make examples   rebuild the committed component binaries from their sources
#   make demo-dev   the two-party dev loop: keys, manifest, approvals, compose, run --dev, and a
#                   check of the report against the same C programs compiled natively
#
# C components: the Swift toolchain's clang targeting wasm32-wasi, with Debian's wasi-libc
# (package wasi-libc: /usr/lib/wasm32-wasi, /usr/include/wasm32-wasi) and compiler-rt builtins
# (package libclang-rt-dev-wasm32). clang looks for the builtins in its resource directory, so
# a small one is assembled under Examples/build/: Debian's builtins archive plus the
# toolchain's own headers (stddef.h & co).
# The Rust example: Debian's rustc with its wasm32 standard library (packages rustc,
# libstd-rust-dev-wasm32); the committed binary runs without them.

WASM_CC          ?= /opt/swift/usr/bin/clang
WASM_BUILTINS    ?= $(firstword $(wildcard /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a))
WASM_RESOURCE    := Examples/build/wasm-resource
WASM_CFLAGS      := --target=wasm32-wasi --sysroot=/usr -resource-dir $(CURDIR)/$(WASM_RESOURCE) -O2 -Wall -Wextra
WASM_LDFLAGS     := -Wl,--strip-all -lm
RUSTC_WASM       ?= /usr/bin/rustc
NATIVE_CC        ?= gcc

TWO_PARTY_WASM   := Examples/two-party/components/wafer-parser.wasm Examples/two-party/components/yield-model.wasm
RUST_WASM        := Examples/rust/lot-summary.wasm

.PHONY: examples examples-deps demo-dev wasm-resource

examples: $(TWO_PARTY_WASM) $(RUST_WASM)

# The resource directory alone, for building your own C components (Examples/README.md).
wasm-resource: $(WASM_RESOURCE)/.ready

# The Debian packages `make examples` needs beyond `make deps`.
examples-deps:
	@missing=""; for p in rustc libstd-rust-dev-wasm32; do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(WASM_RESOURCE)/.ready:
	@test -n "$(WASM_BUILTINS)" || { echo "no wasm32 compiler-rt builtins: make deps (libclang-rt-dev-wasm32)"; exit 1; }
	mkdir -p $(WASM_RESOURCE)/lib/wasi
	ln -sf $(WASM_BUILTINS) $(WASM_RESOURCE)/lib/wasi/libclang_rt.builtins-wasm32.a
	ln -sfn $$($(WASM_CC) -print-resource-dir)/include $(WASM_RESOURCE)/include
	touch $@

Examples/two-party/components/%.wasm: Examples/two-party/components/%.c $(WASM_RESOURCE)/.ready
	$(WASM_CC) $(WASM_CFLAGS) -o $@ $< $(WASM_LDFLAGS)

Examples/rust/%.wasm: Examples/rust/%.rs
	$(RUSTC_WASM) --edition 2021 --target wasm32-wasi -C opt-level=2 -C strip=symbols -o $@ $<

demo-dev: deps-apt build
	Examples/two-party/demo-dev.sh $(BIN)

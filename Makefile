# twocvm: build, test, demo and benchmarks. `make help` lists the targets.
#
# Everything a fresh Debian 12 machine with Swift lacks is installed by `make deps`:
# system packages through apt, Python cross-check tools into the project-local venv .venv/.

SHELL        := /bin/bash
SWIFT        ?= swift
PREFIX       ?= /usr/local
CONFIG       ?= debug
VENV         := $(CURDIR)/.venv
PYTHON       := $(VENV)/bin/python
export TWOCVM_PYTHON := $(PYTHON)

# Debian packages: C libraries we link, firmware for launch-measure tests, the wasm32-wasi C
# toolchain pieces for the examples, and timing tools for the benchmarks.
APT_PACKAGES := libssl-dev libcbor-dev pkg-config python3 python3-venv gcc linux-libc-dev ovmf wasi-libc libclang-rt-dev-wasm32 wabt hyperfine time
# Python cross-check tools (independent implementations the tests compare against), and the
# pinned wasmtime wheel whose C library (wasmtime/linux-x86_64/_libwasmtime.so) is the compiling
# engine (its SHA-256 is pinned in Sources/Sandbox/Engine/WasmtimeLibrary.swift).
# cbor2 stays below 6 because pycose 1.1 needs it.
WASMTIME_VERSION := 50.0.1
PY_PACKAGES  := "cbor2<6" "pycose==1.1.0" "pyhpke" "rfc8785" "sev-snp-measure==0.0.13" "cryptography" "wasmtime==$(WASMTIME_VERSION)"


BIN          = $(shell $(SWIFT) build -c $(CONFIG) --show-bin-path)/twocvm

# Release builds of the product only: a statically linked Swift runtime starts faster and uses
# less memory (Docs/performance.md). Only `--product twocvm`: Tests/TestSupport imports XCTest,
# which has no static build. `make demo` and `make install` share this build.
RELEASE      := -c release --static-swift-stdlib

# `make demo` builds in debug: on a fresh clone of a shared 2-core machine, debug build + demo
# took 563 s and release build + demo 1979 s (the release build alone 1949 s, measured while
# another build ran; the release demo itself takes 10 s against 64 s in debug). See README.
# DEMO_CONFIG=release builds the same binary `make install` installs.
DEMO_CONFIG  ?= debug

# Where `make install` puts things (DESTDIR for packaging).
BINDIR       := $(DESTDIR)$(PREFIX)/bin
LIBDIR       := $(DESTDIR)$(PREFIX)/lib/twocvm
MANDIR       := $(DESTDIR)$(PREFIX)/share/man/man1
BASHCOMPDIR  := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR   := $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHCOMPDIR  := $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d

# Wasm examples and the dev-mode demo (clang + wasi-libc recipes live in Examples/examples.mk).
-include Examples/examples.mk

.PHONY: help deps deps-apt deps-python build test fuzz-replay install uninstall man demo demo-dev examples fuzz bench docs clean

help:
	@echo "make deps     install missing system packages and the Python venv (.venv)"
	@echo "make build    build twocvm (CONFIG=debug|release)"
	@echo "make test     deps + all unit, CLI and cross-check tests + fuzz corpus replay + 10 s of libFuzzer per parser"
	@echo "make demo     deps + the two-party demo on the simulated SNP platform"
	@echo "make install  install twocvm, its man page and bash/zsh/fish completions under PREFIX (default /usr/local)"
	@echo "make uninstall  remove what make install installed under PREFIX"
	@echo "make fuzz     build the libFuzzer targets and run each briefly"
	@echo "make bench    run the benchmarks and write Docs/performance.md"

deps: deps-apt deps-python

deps-apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

deps-python: $(VENV)/.installed

$(VENV)/.installed: Makefile
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --disable-pip-version-check $(PY_PACKAGES)
	touch $@

build:
	$(SWIFT) build -c $(CONFIG)

# The unit tests print the closing line, so the fuzzers (libFuzzer, a short seeded budget per
# parser) run first. TWOCVM_NO_SKIP=1: a test whose tool, venv, firmware or library is missing
# fails, naming what to install, instead of skipping (Tests/TestSupport/Requirement.swift).
test: deps
	$(SWIFT) build --build-tests
	scripts/generate-manual-tool.sh "$(SWIFT)" > /dev/null
	$(MAKE) --no-print-directory fuzz-replay
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10 FUZZ_FLAGS=-seed=1
	@status=0; TWOCVM_NO_SKIP=1 $(SWIFT) test --skip-build --parallel --num-workers 2 --xunit-output .build/xunit.xml || status=$$?; \
	python3 scripts/test-summary.py .build/xunit.xml && exit $$status

# Replays the committed fuzz corpus through every parser (the normal build's replayer).
fuzz-replay:
	@bin=$$($(SWIFT) build --show-bin-path)/twocvm-fuzz; \
	for dir in Fuzz/corpus/*/; do \
	  target=$$(basename $$dir); files=$$(find $$dir -type f | sort); \
	  [ -n "$$files" ] && $$bin $$target $$files; \
	done; true

# libFuzzer: a separate scratch path, since every Swift module is instrumented.
FUZZ_SECONDS ?= 20
FUZZ_TARGETS ?= $(notdir $(wildcard Fuzz/corpus/*))
FUZZ_FLAGS   ?=
fuzz:
	$(SWIFT) build --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING \
	  -Xswiftc -parse-as-library --product twocvm-fuzz
	@for target in $(FUZZ_TARGETS); do \
	  dir=Fuzz/corpus/$$target; mkdir -p .build-fuzz/corpus/$$target; \
	  if SWIFT_BACKTRACE=enable=no TWOCVM_FUZZ_TARGET=$$target .build-fuzz/debug/twocvm-fuzz -max_total_time=$(FUZZ_SECONDS) \
	      -max_len=65536 -rss_limit_mb=2048 -artifact_prefix=.build-fuzz/crash-$$target- $(FUZZ_FLAGS) \
	      .build-fuzz/corpus/$$target $$dir > .build-fuzz/$$target.log 2>&1; then \
	    echo "fuzz $$target: $$(grep -E '^#[0-9]+[[:space:]]+DONE' .build-fuzz/$$target.log | tail -1)"; \
	  else \
	    tail -40 .build-fuzz/$$target.log; echo "fuzz $$target: FAILED (input saved as .build-fuzz/crash-$$target-*)"; exit 1; \
	  fi; \
	done

# Installs the release binary, its man page (generated by swift-argument-parser's
# generate-manual from the binary's own help) and its bash, zsh and fish completions.
# INSTALL_FROM=DIR installs the binaries already built in DIR instead of building (the install
# test uses the debug build: a release build takes minutes).
INSTALL_FROM ?=
install:
	@set -e; from="$(INSTALL_FROM)"; \
	if [ -z "$$from" ]; then \
	  echo "building twocvm (release, static Swift runtime)"; \
	  $(SWIFT) build $(RELEASE) --product twocvm; from=$$($(SWIFT) build $(RELEASE) --show-bin-path); \
	fi; \
	install -d "$(BINDIR)" "$(MANDIR)" "$(BASHCOMPDIR)" "$(ZSHCOMPDIR)" "$(FISHCOMPDIR)"; \
	install -m 0755 "$$from/twocvm" "$(BINDIR)/twocvm"; \
	$(MAKE) --no-print-directory deps-python; \
	install -d "$(LIBDIR)"; \
	install -m 0644 "$$(ls $(VENV)/lib/python3*/site-packages/wasmtime/linux-x86_64/_libwasmtime.so | head -1)" "$(LIBDIR)/libwasmtime.so"; \
	"$$from/twocvm" --generate-completion-script bash > "$(BASHCOMPDIR)/twocvm"; \
	"$$from/twocvm" --generate-completion-script zsh > "$(ZSHCOMPDIR)/_twocvm"; \
	"$$from/twocvm" --generate-completion-script fish > "$(FISHCOMPDIR)/twocvm.fish"; \
	$(MAKE) --no-print-directory man TWOCVM_BIN="$$from/twocvm" MAN_OUT="$(MANDIR)"; \
	echo "installed $(BINDIR)/twocvm, $(LIBDIR)/libwasmtime.so (the pinned wasmtime engine), $(MANDIR)/twocvm.1 and completions under $(DESTDIR)$(PREFIX)/share"

# The man page, twocvm.1, from the binary's --experimental-dump-help by swift-argument-parser's
# generate-manual (built once as the GenerateManual plugin's tool, then run directly).
TWOCVM_BIN ?= $(BIN)
MAN_OUT    ?= .build
man:
	@set -e; tool=$$(scripts/generate-manual-tool.sh "$(SWIFT)"); \
	"$$tool" "$(TWOCVM_BIN)" --output-directory "$(MAN_OUT)"; \
	chmod 0644 "$(MAN_OUT)/twocvm.1"

uninstall:
	rm -f "$(BINDIR)/twocvm" "$(MANDIR)/twocvm.1" "$(BASHCOMPDIR)/twocvm" "$(ZSHCOMPDIR)/_twocvm" "$(FISHCOMPDIR)/twocvm.fish"
	rm -rf "$(LIBDIR)"

# The two-party story on the simulated SNP platform (README's main command): each phase says
# what it does and how long it took.
demo:
	@scripts/timed.sh "deps: Debian packages and the Python venv" $(MAKE) --no-print-directory deps
	@scripts/timed.sh "build: twocvm ($(DEMO_CONFIG))" $(MAKE) --no-print-directory demo-build
	@scripts/timed.sh "demo: the two-party story" scripts/demo.sh \
	  "$$(if [ "$(DEMO_CONFIG)" = release ]; then $(SWIFT) build $(RELEASE) --show-bin-path; else $(SWIFT) build --show-bin-path; fi)/twocvm"

demo-build:
ifeq ($(DEMO_CONFIG),release)
	$(SWIFT) build $(RELEASE) --product twocvm
else
	$(SWIFT) build --product twocvm
endif

# Regenerates Docs/cli.md from the binary's --help.
docs: build
	scripts/cli-doc.sh $(BIN)

# Benchmarks: writes Docs/performance.md (never part of `make test`).
bench: deps
	scripts/bench.sh

clean:
	rm -rf .build .build-fuzz .build-release

# The overhead-study workloads, native and wasm32-wasi, from the same C sources.
#
#   make -f Benchmarks/workloads.mk [WORKLOAD_OUT=DIR]      (run from the repository root)
#
# The wasm recipe is the examples' one (Examples/examples.mk: the Swift toolchain's clang,
# Debian's wasi-libc and compiler-rt builtins); native builds use gcc. Both at -O2.

include Examples/examples.mk
.DEFAULT_GOAL := workloads

WORKLOAD_OUT     ?= .build-bench/workloads
WORKLOADS        := empty stream pointer-chase compute mixed
WORKLOAD_NATIVE  := $(WORKLOADS:%=$(WORKLOAD_OUT)/%.native)
WORKLOAD_WASM    := $(WORKLOADS:%=$(WORKLOAD_OUT)/%.wasm)

.PHONY: workloads
workloads: $(WORKLOAD_NATIVE) $(WORKLOAD_WASM)

$(WORKLOAD_OUT)/%.native: Benchmarks/workloads/%.c Benchmarks/workloads/bench.h
	@mkdir -p $(@D)
	$(NATIVE_CC) -O2 -Wall -Wextra -o $@ $<

$(WORKLOAD_OUT)/%.wasm: Benchmarks/workloads/%.c Benchmarks/workloads/bench.h $(WASM_RESOURCE)/.ready
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM_CFLAGS) -o $@ $< $(WASM_LDFLAGS)

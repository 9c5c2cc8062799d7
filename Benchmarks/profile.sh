#!/usr/bin/env bash
# Benchmarks/profile.sh: where the time goes in the worst workload class under `twocvm run`
# (the largest twocvm ÷ native kernel ratio in RESULTS), sampled with `perf record` over the
# broker and its component child (or, without a working perf, `valgrind --tool=callgrind`).
# Prints a Markdown section on stdout: the top functions by self time, the same grouped by
# part (interpreter, fuel metering, WASI host, kernel, …), and what that means.
#
#   Benchmarks/profile.sh RESULTS.tsv     (called by Benchmarks/wasm-overhead.sh)
#
# Environment: BENCH_WORK (the work directory of wasm-overhead.sh: plans and inputs),
# TWOCVM_BIN, TWOCVM_PYTHON.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
results=$1
work=${BENCH_WORK:?}
twocvm=${TWOCVM_BIN:?}
python=${TWOCVM_PYTHON:-$root/.venv/bin/python}
demangle=$(command -v swift-demangle || echo "$(dirname "$(readlink -f "$(command -v swift)")")/swift-demangle")

worst=$("$python" - "$results" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
def med(w, runner):
    v = [float(r["kernel_s"]) for r in rows if r["workload"] == w and r["runner"] == runner]
    return statistics.median(v) if v else 0
ratios = {w: med(w, "twocvm") / med(w, "native") for w in {r["workload"] for r in rows} if med(w, "native") > 1e-3}
print(max(ratios, key=ratios.get))
PY
)
echo "profiling $worst under twocvm run…" >&2
prof=$work/profile
mkdir -p "$prof"
run=("$twocvm" run "$work/$worst/plan.cbor" --inputs "$work/$worst/inputs" --out "$prof/out" --dev)

tool=
if command -v perf > /dev/null && perf record -q -F 2000 -g -o "$prof/perf.data" -- "${run[@]}" > /dev/null 2>&1; then
    tool="perf record -F 2000 -g (broker and child), \`perf report --no-children --sort symbol\`"
    perf report -i "$prof/perf.data" --no-children --sort symbol --stdio 2> /dev/null \
        | awk '/^ +[0-9.]+%/ { pct = $1; sub(/%/, "", pct); $1 = ""; sub(/^ +\[[^]]*\] +/, ""); sub(/( +-)+ *$/, ""); sub(/ +$/, ""); print pct "\t" $0 }' \
        > "$prof/self.tsv"
elif command -v valgrind > /dev/null; then
    tool="valgrind --tool=callgrind --trace-children=yes, \`callgrind_annotate\` (instructions, self)"
    (cd "$prof" && valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$prof/callgrind.%p" "${run[@]}" > /dev/null 2>&1)
    biggest=$(ls -S "$prof"/callgrind.* | head -1)
    callgrind_annotate --threshold=99 "$biggest" 2> /dev/null | "$python" -c '
import re, sys
lines = sys.stdin.read().splitlines()
total = next(int(l.split()[0].replace(",", "")) for l in lines if l.strip().endswith("PROGRAM TOTALS"))
for l in lines:
    m = re.match(r"\s*([\d,]+) \([^)]*\)\s+\S*:(.+?)(?: \[.*\])?$", l) or re.match(r"\s*([\d,]+)\s+\S*:(.+?)(?: \[.*\])?$", l)
    if m and "PROGRAM TOTALS" not in l:
        print(f"{100 * int(m.group(1).replace(",", "")) / total:.2f}\t{m.group(2).strip()}")
' > "$prof/self.tsv"
else
    echo "profile.sh: neither perf nor valgrind works here; no profile" >&2
    printf '## Where the time goes\n\nNo profiler available on this machine (perf or valgrind); install linux-perf or valgrind.\n'
    exit 0
fi

"$demangle" --simplified < "$prof/self.tsv" > "$prof/self-demangled.tsv" 2> /dev/null || cp "$prof/self.tsv" "$prof/self-demangled.tsv"

"$python" - "$prof/self-demangled.tsv" "$worst" "$tool" <<'PY'
import sys
path, worst, tool = sys.argv[1:4]
rows = []
for line in open(path):
    pct, _, name = line.rstrip("\n").partition("\t")
    try:
        rows.append((float(pct), name))
    except ValueError:
        pass
total = sum(p for p, _ in rows) or 1.0

def part(name):
    if "consumeFuel" in name:
        return "WasmKit fuel metering (consumeFuel)"
    if name.startswith("wasmkit_tc_") or "Execution." in name:
        return "WasmKit interpreter: instruction handlers"
    if "WasmKit" in name or "Translator" in name or "InstructionVisitor" in name or "WasmParser" in name:
        return "WasmKit translation, parsing, instantiation"
    if "WASIHost" in name or "GuestMemory" in name or "VirtualFileSystem" in name or "Sandbox" in name:
        return "twocvm WASI host and sandbox"
    if "memmove" in name or "memcpy" in name or "memset" in name:
        return "memory copies (libc memmove/memset)"
    if name.startswith("[k]") or "page_fault" in name or "clear_page" in name or name.startswith("__x64") or "_raw_spin" in name:
        return "Linux kernel (page faults, syscalls)"
    if "CBOR" in name or "ComponentProcess" in name or "FileIO" in name or "Plan" in name:
        return "twocvm broker and process boundary"
    return "other (Swift runtime, dynamic loader, libc, …)"

parts = {}
for p, name in rows:
    parts[part(name)] = parts.get(part(name), 0.0) + p

print(f"## Where the time goes: {worst} under `twocvm run`")
print()
print(f"The class with the largest twocvm ÷ native kernel ratio, profiled in the same `make bench` run")
print(f"with {tool}: one `twocvm run` of the `{worst}` plan (broker and component child together).")
print()
print("| part | share of samples |")
print("| --- | ---: |")
for name, p in sorted(parts.items(), key=lambda kv: -kv[1]):
    print(f"| {name} | {100 * p / total:.1f}% |")
print()
print("Top functions by self time:")
print()
print("| function | self |")
print("| --- | ---: |")
for p, name in sorted(rows, key=lambda r: -r[0])[:15]:
    short = name if len(name) < 90 else name[:87] + "…"
    print(f"| `{short.replace('|', '/')}` | {100 * p / total:.1f}% |")
print()
interp = 100 * parts.get("WasmKit interpreter: instruction handlers", 0) / total
fuel = 100 * parts.get("WasmKit fuel metering (consumeFuel)", 0) / total
host = 100 * (parts.get("twocvm WASI host and sandbox", 0) + parts.get("twocvm broker and process boundary", 0)) / total
print(f"Reading: {interp:.0f}% of the samples are WasmKit's instruction handlers (`wasmkit_tc_*`, one")
print(f"small function per interpreted instruction, each ending in a tail call to the next), fuel")
print(f"metering is {fuel:.1f}% and twocvm's own code (WASI host, sandbox, broker, process boundary)")
print(f"{host:.1f}%.")
print()
PY
cat <<'MD'
The gap to native and to wasmtime is interpretation itself: WasmKit translates each Wasm
function into a register-based internal code (with an accumulator register and fused
instructions such as `i32AddImm`, `i32RotlImmToAcc`) and executes it one handler per
instruction. Each handler is a handful of machine instructions (decode two 16-bit slot
offsets, load, operate, store, indirect jump), so a Wasm instruction that wasmtime's Cranelift
turns into one machine instruction costs about 10–15 here, plus the moves between stack slots
(`copyStack*`) that a JIT would keep in registers. That is why the ratio is largest for
compute-bound code (SHA-256 rounds: rotates, adds, xors in registers), smaller for the
sort/parse mix, and near 1× where the time is spent waiting for memory (pointer chasing: the
cache and TLB misses cost the same in both). Fuel metering adds one `consumeFuel` per basic
block, not per instruction. The remaining levers are in WasmKit (a JIT or a wider
superinstruction set), not in twocvm's configuration: see the engine table above.
MD

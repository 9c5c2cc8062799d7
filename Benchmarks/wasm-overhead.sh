#!/usr/bin/env bash
# Benchmarks/wasm-overhead.sh: the cost of the sandbox by workload class (the 2cVM paper's
# headline), side by side: each workload of Benchmarks/workloads/ compiled natively (gcc -O2)
# and to wasm32-wasi (clang -O2, wasi-libc), run
#
#   native      the gcc build, directly;
#   twocvm      `twocvm run PLAN --inputs DIR --out DIR --dev --json`: a one-component manifest,
#               the component in its own sandboxed child process (WasmKit), as in production;
#   twocvm-wasmtime  the same with `engine = "wasmtime"` in the manifest (its own plan): the
#               compiling engine from the pinned library, fuel metering on, with
#               its compiled-module cache (a folder of this run, filled by one warm-up run of
#               each workload before the rounds);
#   twocvm-wasmtime-cold  the same with the cache off (TWOCVM_ENGINE_CACHE=off): every run
#               compiles its module and hashes the library;
#   twocvm@NAME the same binary and plan with TWOCVM_ENGINE=NAME (Sources/Sandbox,
#               SandboxEngineSettings.named): `baseline` is the engine configuration before
#               issue #7, the others change one engine setting (BENCH_ENGINES);
#   wasmtime    the PyPI `wasmtime` package (Cranelift JIT) through Benchmarks/wasmtime-run.py,
#               with the same /in and /out preopens;
#   wasmtime-metered  the same with fuel metering on, as twocvm's wasmtime engine always runs
#               (what that instrumentation costs by itself);
#   wasmtime-epoch  metered and with epoch interruption on too, as twocvm's engine ran before
#               its wall-clock limit moved onto the fuel checks (what that second one costs).
#
# Rounds are interleaved (native, twocvm, wasmtime, twocvm@…, per workload, per round);
# the tables give the median and min–max of BENCH_ROUNDS rounds, both for the whole command
# and for the kernel time each workload measures itself (CLOCK_MONOTONIC around its kernel),
# and the peak RSS (`/usr/bin/time`). Every run's checksum must be the same as the native
# build's, or the script exits 1. Then the worst class under twocvm is profiled with `perf`.
#
# Prints Markdown sections on stdout; progress on stderr.
#
# Environment: TWOCVM_BIN (a release twocvm; required), TWOCVM_PYTHON (default .venv/bin/python),
# BENCH_ROUNDS (default 9), BENCH_WASMKIT_ROUNDS (default 5: the interpreter runs, seconds
# each, take at most this many rounds), BENCH_WORKLOADS (default: all five), BENCH_ENGINES
# (default "baseline token software-bounds"; all but baseline run BENCH_SWEEP_ROUNDS, default
# 3), BENCH_PROFILE (default 1).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
twocvm=${TWOCVM_BIN:?TWOCVM_BIN must name a release twocvm}
python=${TWOCVM_PYTHON:-$root/.venv/bin/python}
rounds=${BENCH_ROUNDS:-9}
wasmkit_rounds=${BENCH_WASMKIT_ROUNDS:-5}
workloads=(${BENCH_WORKLOADS:-empty stream pointer-chase compute mixed})
engines=(${BENCH_ENGINES-baseline token software-bounds})
runners=(native twocvm twocvm-wasmtime twocvm-wasmtime-cold wasmtime wasmtime-metered wasmtime-epoch "${engines[@]/#/twocvm@}")
build=$root/.build-bench/workloads

for tool in /usr/bin/time gcc "$python"; do
    command -v "$tool" > /dev/null || { echo "wasm-overhead.sh: $tool is missing (make deps)" >&2; exit 3; }
done
if ! "$python" -c 'import wasmtime' 2> /dev/null; then
    echo "installing wasmtime 50 (PyPI) into the venv…" >&2
    "$python" -m pip install -q --disable-pip-version-check 'wasmtime==50.*' >&2
fi

echo "building the workloads (native gcc -O2, wasm32-wasi clang -O2)…" >&2
make --no-print-directory -f Benchmarks/workloads.mk WORKLOAD_OUT="$build" >&2

work=$(mktemp -d "${TMPDIR:-/tmp}/twocvm-overhead.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/keys" "$work/components"

# One keygen'd participant; the private half stays in $work (removed at exit).
"$twocvm" keygen --out "$work/keys/bench" > /dev/null
for w in "${workloads[@]}"; do
    mkdir -p "$work/$w/inputs" "$work/$w/approvals" "$work/$w/approvals-wasmtime"
    cp "$build/$w.wasm" "$work/components/$w.wasm"
    data=$([[ $w == mixed ]] && echo orders || true)
    for engine in wasmkit wasmtime; do
        suffix=$([[ $engine == wasmtime ]] && echo -wasmtime || true)
        ENGINE=$engine Benchmarks/make-manifest.sh "$work/keys/bench" "$build/$w.wasm" "$w" "$work/$w/manifest$suffix.toml" $data
        "$twocvm" manifest lint "$work/$w/manifest$suffix.toml" > /dev/null
        "$twocvm" manifest sign "$work/$w/manifest$suffix.toml" --key "$work/keys/bench" --participant bench \
            -o "$work/$w/approvals$suffix/bench.cose" > /dev/null
        "$twocvm" compose "$work/$w/manifest$suffix.toml" --components "$work/components" --approvals "$work/$w/approvals$suffix" \
            -o "$work/$w/plan$suffix.cbor" > /dev/null
    done
done
if [[ " ${workloads[*]} " == *" mixed "* ]]; then
    echo "generating the 20 MB orders CSV (seed 2026)…" >&2
    "$build/mixed.native" --generate "$work/mixed/inputs/orders"
fi

results=$work/results.tsv
printf 'workload\trunner\tround\twall_s\tkernel_s\trss_kib\tchecksum\tfuel\tcomponent_s\tchild_rss\tlinear_bytes\tcompile_s\n' > "$results"

# field NAME LINE: the value of NAME=... in a workload's result line.
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<< "$2"; }

run_one() {  # WORKLOAD RUNNER ROUND
    local w=$1 runner=$2 round=$3 out=$work/$w/out extra=$'\t\t\t\t' start end line
    rm -rf "$out" && mkdir -p "$out"
    start=$EPOCHREALTIME
    case $runner in
        native)
            /usr/bin/time -f %M -o "$work/rss" "$build/$w.native" "$out/result" "$work/$w/inputs/orders" > /dev/null
            end=$EPOCHREALTIME ;;
        twocvm*)
            local engine= plan=$work/$w/plan.cbor cache=$work/engine-cache
            [[ $runner == twocvm@* ]] && engine=${runner#twocvm@}
            [[ $runner == twocvm-wasmtime* ]] && plan=$work/$w/plan-wasmtime.cbor
            [[ $runner == twocvm-wasmtime-cold ]] && cache=off
            TWOCVM_ENGINE=$engine TWOCVM_ENGINE_CACHE=$cache /usr/bin/time -f %M -o "$work/rss" \
                "$twocvm" run "$plan" --inputs "$work/$w/inputs" --out "$out" --dev --json \
                > "$work/run.json" 2> "$work/run.err" || { cat "$work/run.err" >&2; exit 1; }
            end=$EPOCHREALTIME
            extra=$("$python" - "$work/run.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["components"][0]
print(f"{c['fuel']}\t{c['seconds']:.6f}\t{c.get('residentBytes') or ''}\t{c['memoryBytes']}\t")
PY
) ;;
        wasmtime*)
            /usr/bin/time -f %M -o "$work/rss" "$python" Benchmarks/wasmtime-run.py "$build/$w.wasm" "$w" \
                "$work/$w/inputs" "$out" $([[ $runner == wasmtime-metered || $runner == wasmtime-epoch ]] && echo --metered) \
                $([[ $runner == wasmtime-epoch ]] && echo --epoch) > "$work/wasmtime.json"
            end=$EPOCHREALTIME
            extra=$'\t\t\t\t'$("$python" -c 'import json,sys; print("%.6f" % json.load(open(sys.argv[1]))["compile_s"])' "$work/wasmtime.json") ;;
    esac
    # (`end` is taken right after each command: the JSON read above is not part of the run)
    line=$(cat "$out/result")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$runner" "$round" \
        "$("$python" -c "print(f'{$end - $start:.6f}')")" "$(field kernel_s "$line")" "$(tail -1 "$work/rss")" \
        "$(field checksum "$line")" "$extra" >> "$results"
}

# Warm-up: one run of each workload fills the compiled-module cache of twocvm-wasmtime (the
# rounds then measure a repeated run; twocvm-wasmtime-cold measures the first one).
for w in "${workloads[@]}"; do
    echo "warm-up: $w, twocvm-wasmtime" >&2
    run_one "$w" twocvm-wasmtime 0
done
sed -i '/\ttwocvm-wasmtime\t0\t/d' "$results"

for round in $(seq 1 "$rounds"); do
    for w in "${workloads[@]}"; do
        for runner in "${runners[@]}"; do
            # the one-setting sweep (not the baseline) gets fewer rounds, to keep `make bench` short
            [[ $runner == twocvm@* && $runner != twocvm@baseline && $round -gt ${BENCH_SWEEP_ROUNDS:-3} ]] && continue
            [[ ($runner == twocvm || $runner == twocvm@*) && $round -gt $wasmkit_rounds ]] && continue
            echo "round $round/$rounds: $w, $runner" >&2
            run_one "$w" "$runner" "$round"
        done
    done
done
cp "$results" "$root/.build-bench/overhead-results.tsv"

wasmtime_version=$("$python" -c 'import importlib.metadata as m; print(m.version("wasmtime"))')
"$python" Benchmarks/overhead-report.py "$results" --engines "${engines[*]}" --wasmtime "$wasmtime_version" --part overhead

# Start-up: what one process of the twocvm binary costs before it does anything (`twocvm run`
# starts two: the broker and the component's child).
echo "start-up: twocvm --version, dynamic loader statistics…" >&2
hyperfine -N --warmup 3 --runs 30 --export-json "$work/startup.json" "$twocvm --version" > /dev/null
stats=$(LD_DEBUG=statistics "$twocvm" --version 2>&1 >/dev/null | tr -s ' \t' ' ')
relative=$(sed -n 's/.*number of relative relocations: \([0-9]*\).*/\1/p' <<< "$stats" | head -1)
loader_cycles=$(sed -n 's/.*total startup time in dynamic loader: \([0-9]*\) cycles.*/\1/p' <<< "$stats" | head -1)
mhz=$(awk -F: '/cpu MHz/ {print $2; exit}' /proc/cpuinfo)
"$python" - "$work/startup.json" "$results" "$relative" "$loader_cycles" "${mhz:-0}" "$(stat -c %s "$twocvm")" <<'PY'
import csv, json, statistics, sys
startup = json.load(open(sys.argv[1]))["results"][0]
rows = [r for r in csv.DictReader(open(sys.argv[2]), delimiter="\t") if r["workload"] == "empty"]
med = lambda runner, key: statistics.median(float(r[key]) for r in rows if r["runner"] == runner and r[key])
relative, cycles, mhz, size = sys.argv[3], int(sys.argv[4] or 0), float(sys.argv[5]), int(sys.argv[6])
loader_ms = f"{cycles / (mhz * 1000):.1f} ms" if mhz > 0 else f"{cycles} cycles"
if not rows:
    sys.exit(0)
print()
print("### Start-up")
print()
print(f"The *empty* workload measures start-up alone: `twocvm run` takes {med('twocvm', 'wall_s') * 1000:.0f} ms")
print(f"(of which {med('twocvm', 'component_s') * 1000:.0f} ms from handing the component to its child to the child's answer:")
print(f"inputs, request, module load, instantiation, run, response), native {med('native', 'wall_s') * 1000:.0f} ms, wasmtime through Python")
print(f"{med('wasmtime', 'wall_s') * 1000:.0f} ms. One bare start of the {size / 1048576:.0f} MiB twocvm binary (`twocvm --version`)")
print(f"takes {startup['mean'] * 1000:.1f} ± {startup['stddev'] * 1000:.1f} ms, and `run` pays it twice (broker, child), but not one")
print("after the other: `run` starts its first component's child, on a thread of its own, before it parses")
print("its arguments or reads the plan (`ChildProcessLauncher.prestart`), so the two starts overlap on two")
print("cores, and the child opens the wasmtime library while it parses the module. The binary links")
print("OpenSSL's libcrypto statically: loaded as a shared library, it cost each process about 2 ms (loading")
print(f"it and binding its 3,200 symbols). The dynamic loader's own work is about {loader_ms} (`LD_DEBUG=statistics`;")
print(f"{relative} relative relocations of Swift metadata in a position-independent executable); most of the rest")
print("is the kernel's `execve` and the page faults on the binary's pages, then the Swift runtime's start")
print("(its protocol-conformance scans) and the argument parser (a `perf record` of repeated runs of the")
print("empty plan shows the split).")
print("A non-PIE link would remove the relocations but also address-space randomisation of the binary that")
print("runs guest code; a smaller child executable (sandbox and CBOR only) would touch fewer pages.")
PY

echo
"$python" Benchmarks/overhead-report.py "$results" --engines "${engines[*]}" --part engine

if [[ ${BENCH_PROFILE:-1} == 1 ]]; then
    echo
    BENCH_WORK=$work TWOCVM_BIN=$twocvm bash Benchmarks/profile.sh "$results"
fi

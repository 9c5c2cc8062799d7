#!/usr/bin/env bash
# make bench: builds one release binary set and writes Docs/performance.md from the sections
# the Benchmarks/*.sh scripts print (progress on stderr). Figures come only from this run.
#
#   1. the sandbox overhead study (Benchmarks/wasm-overhead.sh: native vs `twocvm run` vs
#      wasmtime per workload class, the engine configuration sweep, and a profile of the worst
#      class, Benchmarks/profile.sh);
#   2. `manifest hash`/`lint` on a 1 MiB manifest (Benchmarks/manifest-hash.sh);
#   3. seal/open throughput on 1 GiB (Benchmarks/seal.sh);
#   4. `report verify` reports/s (Benchmarks/verify.sh);
#   5. `launch-measure` vs sev-snp-measure (Benchmarks/launch-measure.sh).
#
# Environment: TWOCVM_SCRATCH_PATH (default .build-release), and each script's own knobs
# (BENCH_ROUNDS, BENCH_SEAL_RUNS, BENCH_RUNS, …).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
started=$(date +%s)
scratch=${TWOCVM_SCRATCH_PATH:-$root/.build-release}
python=${TWOCVM_PYTHON:-$root/.venv/bin/python}
echo "building release binaries (static Swift runtime) in $scratch…" >&2
swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product twocvm >&2
swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product twocvm-bench >&2
bin=$(swift build -c release --static-swift-stdlib --scratch-path "$scratch" --show-bin-path)

# The Python wasmtime (the JIT baseline of the overhead study) goes into the project venv.
if ! "$python" -c 'import wasmtime' 2> /dev/null; then
    echo "installing wasmtime 50 (PyPI) into .venv…" >&2
    "$python" -m pip install -q --disable-pip-version-check 'wasmtime==50.*' >&2
fi
# A profiler for the overhead study: perf if it works here, else valgrind (installed if missing).
if ! { command -v perf > /dev/null && perf stat -e task-clock true > /dev/null 2>&1; } && ! command -v valgrind > /dev/null; then
    echo "installing valgrind (profiler for Benchmarks/profile.sh)…" >&2
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq valgrind; } >&2 || true
fi
make --no-print-directory -f Benchmarks/workloads.mk >&2

# busy_percent: the share of CPU time all processes used over the next second, from /proc/stat.
busy_percent() {
    local a b
    a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
    local total=0 idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) i
    for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
    echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
}
# The sandbox study compares medians of runs a few hundred milliseconds long on few cores:
# wait (up to 3 minutes) until the machine has been quiet for 3 seconds in a row.
wait_quiet() {
    local quiet=0 waited=0 busy
    while (( quiet < 3 && waited < 180 )); do
        busy=$(busy_percent); waited=$((waited + 1))
        if (( busy < 10 )); then quiet=$((quiet + 1)); else quiet=0; echo "waiting for a quiet machine: ${busy}% CPU busy" >&2; fi
    done
    echo "$busy"
}
version_of() { "$@" 2> /dev/null | head -1 || echo unknown; }
wasmkit=$("$python" -c '
import json, re
try:
    pins = json.load(open("Package.resolved"))["pins"]
    print(next(p["state"].get("version", p["state"].get("revision")) for p in pins if p["identity"] == "wasmkit") + " (Package.resolved)")
except (OSError, StopIteration):
    print(re.search(r"WasmKit\", exact: \"([^\"]+)\"", open("Package.swift").read()).group(1) + " (Package.swift)")')
out=$(mktemp)
trap 'rm -f "$out"' EXIT
{
  echo "# Performance"
  echo
  echo "Written by \`make bench\` on $(date -u +%Y-%m-%dT%H:%MZ); every figure below comes from that one run."
  echo "Do not edit by hand: change the benchmarks in \`Benchmarks/\` and run \`make bench\`."
  echo
  echo "| machine and versions | |"
  echo "| --- | --- |"
  echo "| CPU | $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') ($(nproc) cores) |"
  echo "| memory | $(free -g | awk '/Mem:/ {print $2}') GiB |"
  echo "| kernel | $(uname -sr) |"
  echo "| twocvm | git $(git rev-parse --short=12 HEAD 2> /dev/null || echo unknown)$(git diff --quiet HEAD 2> /dev/null || echo ' (with uncommitted changes)'), release build, static Swift runtime |"
  echo "| Swift | $(version_of swift --version) |"
  echo "| WasmKit | $wasmkit |"
  echo "| wasmtime | $("$python" -c 'import importlib.metadata as m; print(m.version("wasmtime"))') (PyPI \`wasmtime\`, Python $("$python" -c 'import sys; print(sys.version.split()[0])')) |"
  echo "| gcc (native builds) | $(version_of gcc --version) |"
  echo "| clang (wasm32-wasi builds) | $(version_of /opt/swift/usr/bin/clang --version), wasi-libc $(dpkg-query -W -f='${Version}' wasi-libc 2> /dev/null || echo '?') |"
  echo "| OpenSSL | $(openssl version) |"
  echo "| load average at start | $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) |"
  echo "| CPU busy just before the sandbox study | $(wait_quiet)% (it waits up to 3 min for 3 quiet seconds: with $(nproc) cores, other work moves its medians) |"
  echo
  TWOCVM_BIN=$bin/twocvm TWOCVM_PYTHON=$python bash Benchmarks/wasm-overhead.sh
  echo
  TWOCVM_BIN=$bin/twocvm TWOCVM_PYTHON=$python bash Benchmarks/manifest-hash.sh
  echo
  TWOCVM_BIN=$bin/twocvm TWOCVM_BENCH_BIN=$bin/twocvm-bench bash Benchmarks/seal.sh
  echo
  TWOCVM_BIN=$bin/twocvm TWOCVM_BENCH_BIN=$bin/twocvm-bench bash Benchmarks/verify.sh
  echo
  TWOCVM_BIN=$bin/twocvm bash Benchmarks/launch-measure.sh
  echo
  echo "---"
  echo
  echo "\`make bench\` took $(( ($(date +%s) - started) / 60 )) min $(( ($(date +%s) - started) % 60 )) s on this machine, release build included."
} > "$out"
mkdir -p Docs
mv "$out" Docs/performance.md
trap - EXIT
echo "wrote Docs/performance.md ($(( $(date +%s) - started )) s)" >&2

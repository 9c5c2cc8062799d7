#!/usr/bin/env bash
# make bench: builds one release binary set and writes Docs/performance.md from the sections
# the Benchmarks/*.sh scripts print. Figures come only from this run.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
scratch=${TWOCVM_SCRATCH_PATH:-$root/.build-release}
echo "building release binaries (static Swift runtime) in $scratch…" >&2
swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product twocvm >&2
swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product twocvm-bench >&2
bin=$(swift build -c release --static-swift-stdlib --scratch-path "$scratch" --show-bin-path)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
{
  echo "# Performance"
  echo
  echo "Written by \`make bench\` on $(date -u +%Y-%m-%dT%H:%MZ); every figure below comes from that one run."
  echo "Do not edit by hand: change the benchmarks in \`Benchmarks/\` and run \`make bench\`."
  echo
  echo "| machine | |"
  echo "| --- | --- |"
  echo "| CPU | $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') ($(nproc) cores) |"
  echo "| memory | $(free -g | awk '/Mem:/ {print $2}') GiB |"
  echo "| Swift | $(swift --version 2>/dev/null | head -1) |"
  echo "| OpenSSL | $(openssl version) |"
  echo "| load average at start | $(cut -d' ' -f1-3 /proc/loadavg) |"
  echo
  TWOCVM_BENCH_BIN=$bin/twocvm-bench bash Benchmarks/verify.sh
  echo
  TWOCVM_BIN=$bin/twocvm bash Benchmarks/launch-measure.sh
} > "$out"
mkdir -p Docs
mv "$out" Docs/performance.md
trap - EXIT
echo "wrote Docs/performance.md" >&2

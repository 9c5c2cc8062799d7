#!/usr/bin/env bash
# Benchmarks/launch-measure.sh: `twocvm launch-measure` vs `sev-snp-measure` 0.0.13 on the same
# inputs, in one run, printed as a Markdown section (`## launch-measure`) on stdout; progress
# goes to stderr. `make bench` assembles Docs/performance.md from such sections.
#
#   1. Debian's OVMF (/usr/share/ovmf/OVMF.fd), 4 vCPUs, EPYC-v4;
#   2. a 30 MiB kernel and a 60 MiB initrd (random bytes) with a command line, on the
#      kernel-hashes fixture (Tests/Data/snp/measure/ovmf_AmdSev_suffix.bin).
#
# Wall time: hyperfine (mean ± σ, warm page cache). Peak memory: `/usr/bin/time -v` maximum
# resident set size, the median of 5 runs.
#
# Environment: TWOCVM_PYTHON (the venv's python; default .venv/bin/python), TWOCVM_TESTDATA
# (default Tests/Data), TWOCVM_SCRATCH_PATH (a SwiftPM scratch path for the release
# build), TWOCVM_SWIFT_BUILD_FLAGS (default --static-swift-stdlib; empty for a dynamically
# linked build), TWOCVM_BIN (an already built twocvm: no build), BENCH_RUNS (hyperfine runs
# per command, default 30).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=${TWOCVM_PYTHON:-$root/.venv/bin/python}
testdata=${TWOCVM_TESTDATA:-$root/Tests/Data}
runs=${BENCH_RUNS:-30}
# A statically linked Swift runtime starts in about half the time and a third less memory
# (no dynamic loading of libswiftCore/Foundation/ICU); `make install` should build the same way.
build_flags=${TWOCVM_SWIFT_BUILD_FLAGS---static-swift-stdlib}
firmware=/usr/share/ovmf/OVMF.fd
fixture=$testdata/snp/measure/ovmf_AmdSev_suffix.bin

sev_snp_measure=$(dirname "$python")/sev-snp-measure
for tool in hyperfine /usr/bin/time "$sev_snp_measure"; do
    command -v "$tool" > /dev/null || { echo "launch-measure.sh: $tool is missing (make deps)" >&2; exit 3; }
done
[[ -f $firmware && -f $fixture ]] || { echo "launch-measure.sh: need $firmware and $fixture" >&2; exit 3; }

if [[ -n ${TWOCVM_BIN:-} ]]; then
    twocvm=$TWOCVM_BIN
else
    flags=(-c release $build_flags)
    [[ -n ${TWOCVM_SCRATCH_PATH:-} ]] && flags+=(--scratch-path "$TWOCVM_SCRATCH_PATH")
    echo "building twocvm (swift build ${flags[*]})…" >&2
    (cd "$root" && swift build "${flags[@]}" --product twocvm >&2)
    twocvm=$(cd "$root" && swift build "${flags[@]}" --show-bin-path)/twocvm
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c $((30 << 20)) /dev/urandom > "$work/vmlinuz"
head -c $((60 << 20)) /dev/urandom > "$work/initrd.img"

case_names=("Debian OVMF, 4 vCPUs" "30 MiB kernel + 60 MiB initrd, kernel-hashes OVMF")
case_args=(
    "--mode snp --vcpus 4 --vcpu-type EPYC-v4 --ovmf $firmware"
    "--mode snp --vcpus 4 --vcpu-type EPYC-v4 --ovmf $fixture --kernel $work/vmlinuz --initrd $work/initrd.img --append console=ttyS0"
)

# Median peak RSS in KiB of 5 runs of a command.
peak_rss() {
    for _ in 1 2 3 4 5; do
        /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ { print $2 }'
    done | sort -n | sed -n 3p
}

rows=()
for index in "${!case_names[@]}"; do
    read -r -a args <<< "${case_args[$index]}"
    ours=$("$twocvm" launch-measure "${args[@]}")
    theirs=$("$sev_snp_measure" "${args[@]}")
    if [[ $ours != "$theirs" ]]; then
        echo "launch-measure.sh: outputs differ for ${case_names[$index]}: $ours vs $theirs" >&2
        exit 1
    fi
    echo "timing: ${case_names[$index]}" >&2
    hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/times-$index.json" \
        --command-name sev-snp-measure "$sev_snp_measure ${case_args[$index]}" \
        --command-name twocvm "$twocvm launch-measure ${case_args[$index]}" > /dev/null
    rss_theirs=$(peak_rss "$sev_snp_measure" "${args[@]}")
    rss_ours=$(peak_rss "$twocvm" launch-measure "${args[@]}")
    rows+=("$("$python" - "$work/times-$index.json" "${case_names[$index]}" "$rss_theirs" "$rss_ours" <<'PY'
import json, sys
path, name, rss_theirs, rss_ours = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
times = {r["command"]: r for r in json.load(open(path))["results"]}
theirs, ours = times["sev-snp-measure"], times["twocvm"]
ms = lambda r: f"{r['mean'] * 1000:.1f} ± {r['stddev'] * 1000:.1f} ms"
print(f"| {name} | {ms(theirs)} | {ms(ours)} | **{theirs['mean'] / ours['mean']:.1f}×** "
      f"| {rss_theirs / 1024:.1f} MiB | {rss_ours / 1024:.1f} MiB |")
PY
)")
done

cat <<EOF
## launch-measure

\`twocvm launch-measure\` against \`sev-snp-measure\` $("$sev_snp_measure" --version | awk '{ print $2 }') (Python $("$python" -c 'import sys; print(sys.version.split()[0])')) on the same inputs and
the same machine ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)); both print the same digest.
twocvm is a release build (\`swift build -c release --static-swift-stdlib\`).
Wall time is hyperfine's mean ± σ of $runs runs after 3 warm-ups (files in the page cache);
peak memory is the median maximum RSS of 5 runs (\`/usr/bin/time -v\`). The kernel and initrd are
hashed in 256 KiB chunks on two threads next to the firmware pages, so memory does not grow with
their size.

| inputs | sev-snp-measure | twocvm | speed-up | peak RSS sev-snp-measure | peak RSS twocvm |
| --- | --- | --- | --- | --- | --- |
$(printf '%s\n' "${rows[@]}")
EOF

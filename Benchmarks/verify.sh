#!/usr/bin/env bash
# Benchmarks/verify.sh: `report verify` throughput, reports verified per second on one core, on
# the real vectors of Tests/Data/snp (Milan v2/v3 incl. VLEK, Genoa v3, Turin v5), with
# and without a warm chain cache; and `openssl speed ecdsap384` as the raw cost of the one
# ECDSA P-384 verification each report needs. Prints a Markdown section (`## report verify`) on
# stdout; progress goes to stderr. `make bench` assembles Docs/performance.md from such sections.
# Then a `### batch report verify` section: the CLI checking the real vectors as one batch with
# --jobs 1 and --jobs 2 (reports/s of the whole process, and the ratio). `verify.sh batch` prints
# only that section (needs only a twocvm build).
#
# Environment: TWOCVM_TESTDATA (default Tests/Data), TWOCVM_SCRATCH_PATH (a SwiftPM
# scratch path for the release build), TWOCVM_BENCH_BIN (an already built twocvm-bench: no
# build), TWOCVM_BIN (an already built twocvm: no build), BENCH_SECONDS (seconds per setting,
# default 3; the batch runs last at least one second each), BENCH_BATCH_ROUNDS (interleaved
# rounds of the batch, default 5).
set -euo pipefail
mode=${1:-all}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
testdata=${TWOCVM_TESTDATA:-$root/Tests/Data}
seconds=${BENCH_SECONDS:-3}

command -v openssl > /dev/null || { echo "verify.sh: openssl is missing" >&2; exit 3; }
[[ -f $testdata/snp/expected-parse.json ]] || { echo "verify.sh: no SNP test vectors in $testdata/snp" >&2; exit 3; }

scratch=()
[[ -n ${TWOCVM_SCRATCH_PATH:-} ]] && scratch=(--scratch-path "$TWOCVM_SCRATCH_PATH")

# The batch: each real vector with its VEK, flags that every one of them passes with (the expired
# VLEK is left out: it verifies only at a pinned time the Turin VCEK was not yet valid at).
batch_section() {
    local twocvm
    if [[ -n ${TWOCVM_BIN:-} ]]; then
        twocvm=$TWOCVM_BIN
    else
        echo "building twocvm (release)…" >&2
        (cd "$root" && swift build -c release "${scratch[@]}" --product twocvm >&2)
        twocvm=$(cd "$root" && swift build -c release "${scratch[@]}" --show-bin-path)/twocvm
    fi
    local vectors=(
        "go-sev-guest/attestation.bin go-sev-guest/vcek.testcer"
        "virtee-sev/report_milan.hex virtee-sev/vcek_milan.der"
        "trustee/test-report.bin trustee/test-vcek.der"
        "trustee/az-genoa-snp-report.bin trustee/az-vcek-genoa.pem"
        "trustee/az-milan-snp-report.bin trustee/az-vcek-milan-chain.pem"
        "confidential-secrets-vault/box2-turin-report.bin confidential-secrets-vault/box2-turin-vcek.der"
    )
    local repeat=1 jobs1 jobs2 count elapsed
    # Seconds for one batch of the vectors repeated $repeat times with --jobs $1.
    local list
    list=$(mktemp)
    run_batch() {
        local pair r
        : > "$list"
        for ((r = 0; r < repeat; r++)); do
            for pair in "${vectors[@]}"; do
                read -r report cert <<< "$pair"
                printf '%s\t%s\n' "$testdata/snp/$report" "$testdata/snp/$cert" >> "$list"
            done
        done
        local start end
        start=$(date +%s.%N)
        "$twocvm" report verify --files-from "$list" --allow-debug --allow-provisional --jobs "$1" > /dev/null \
            || { echo "verify.sh: the batch did not verify" >&2; exit 1; }
        end=$(date +%s.%N)
        python3 -c "print(f'{$end - $start:.4f}')"
    }
    # Repeat the list until one run with one worker takes at least a second.
    while :; do
        elapsed=$(run_batch 1)
        python3 -c "import sys; sys.exit(0 if $elapsed >= 1.0 else 1)" && break
        repeat=$((repeat * 2))
    done
    count=$((repeat * ${#vectors[@]}))
    # Interleaved rounds, medians: one run of each is at the mercy of this VM's neighbours.
    local rounds=${BENCH_BATCH_ROUNDS:-5} times1=() times2=() round
    for ((round = 1; round <= rounds; round++)); do
        echo "batch of $count reports, round $round/$rounds: --jobs 1, --jobs 2…" >&2
        times1+=("$(run_batch 1)")
        times2+=("$(run_batch 2)")
    done
    median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
    jobs1=$(python3 -c "print(f'{$count / $(median "${times1[@]}"):.0f}')")
    jobs2=$(python3 -c "print(f'{$count / $(median "${times2[@]}"):.0f}')")
    local ratio cores
    ratio=$(python3 -c "print(f'{$jobs2 / $jobs1:.2f}')")
    rm -f "$list"
    cores=$(nproc)
    cat <<MD

### batch report verify

One \`twocvm report verify --files-from LIST\` process checking $count reports (the six real
vectors that verify today, repeated; each line a report and its own VEK, \`--allow-debug
--allow-provisional\`), wall clock including process start-up and reading the list; the workers
share the chain cache. Median of $rounds interleaved rounds. (Given as $((count * 3)) arguments instead, the argument parser's cost,
which grows with the square of their number, is a serial part that caps the speed-up.)
Machine: $cores cores.

| setting | reports/s |
| --- | ---: |
| \`--jobs 1\` | $jobs1 |
| \`--jobs 2\` | $jobs2 |

Two workers check $ratio× as many reports per second as one.
MD
}

if [[ $mode == batch ]]; then
    batch_section
    exit 0
fi

if [[ -n ${TWOCVM_BENCH_BIN:-} ]]; then
    bench=$TWOCVM_BENCH_BIN
else
    echo "building twocvm-bench (release)…" >&2
    (cd "$root" && swift build -c release "${scratch[@]}" --product twocvm-bench >&2)
    bench=$(cd "$root" && swift build -c release "${scratch[@]}" --show-bin-path)/twocvm-bench
fi

echo "twocvm-bench verify (${seconds}s per setting)…" >&2
summary=$("$bench" verify "$testdata/snp" "$seconds")

echo "openssl speed -seconds 3 ecdsap384…" >&2
speed=$(openssl speed -seconds 3 ecdsap384 2>/dev/null | grep -E '^ *384 bits ecdsa')
# "384 bits ecdsa (nistp384)   0.0012s   0.0009s    833.1   1068.0": sign/s and verify/s last.
openssl_verify=$(awk '{print $NF}' <<< "$speed")
openssl_sign=$(awk '{print $(NF-1)}' <<< "$speed")

field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$summary" "$1"; }
cold=$(field cold_reports_per_second)
warm=$(field warm_reports_per_second)
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //' || echo unknown)
ratio=$(python3 -c "print(f'{$warm / $openssl_verify:.2f}')")

cat <<MD
## report verify

Reports verified per second on one core (\`twocvm-bench verify\`, release build, single thread),
cycling through the seven real reports of \`Tests/Data/snp\` with the flags each
MANIFEST.md calls for; every verification runs all checks and passes. *Cold*: no chain cache,
so each report also parses its certificates and verifies the RSA-PSS SHA-384 chain (VEK by
ASK/ASVK; the embedded ARK/ASK are checked once per process). *Warm*: the in-process chain cache
holds each certificate file set, so a report costs its parse, one ECDSA P-384 verification
and the validation checks. Baseline: \`openssl speed -seconds 3 ecdsap384\`, the raw cost of
that one verification. CPU: $cpu.

| setting | reports/s per core |
| --- | ---: |
| cold (chain verified per report) | $cold |
| warm (chain cache hit) | $warm |
| openssl speed ecdsap384, verify/s (raw ECDSA P-384) | $openssl_verify |
| openssl speed ecdsap384, sign/s | $openssl_sign |

Warm verification runs at $ratio× the raw OpenSSL ECDSA P-384 verify rate (the report signature
is checked with swift-crypto's BoringSSL; the chain with OpenSSL 3.0).

| vector (warm) | reports/s |
| --- | ---: |
MD
python3 - "$summary" <<'PY'
import json, sys
summary = json.loads(sys.argv[1])
for name in summary["vectors"].split(","):
    print(f"| {name} | {summary['warm_' + name]} |")
PY
batch_section

#!/usr/bin/env bash
# Benchmarks/verify.sh: `report verify` throughput, reports verified per second on one core, on
# the real vectors of Tests/Data/snp (Milan v2/v3 incl. VLEK, Genoa v3, Turin v5), with
# and without a warm chain cache; and `openssl speed ecdsap384` as the raw cost of the one
# ECDSA P-384 verification each report needs. Prints a Markdown section (`## report verify`) on
# stdout; progress goes to stderr. `make bench` assembles Docs/performance.md from such sections.
#
# Environment: TWOCVM_TESTDATA (default Tests/Data), TWOCVM_SCRATCH_PATH (a SwiftPM
# scratch path for the release build), TWOCVM_BENCH_BIN (an already built twocvm-bench: no
# build), BENCH_SECONDS (seconds per setting, default 3).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
testdata=${TWOCVM_TESTDATA:-$root/Tests/Data}
seconds=${BENCH_SECONDS:-3}

command -v openssl > /dev/null || { echo "verify.sh: openssl is missing" >&2; exit 3; }
[[ -f $testdata/snp/expected-parse.json ]] || { echo "verify.sh: no SNP test vectors in $testdata/snp" >&2; exit 3; }

if [[ -n ${TWOCVM_BENCH_BIN:-} ]]; then
    bench=$TWOCVM_BENCH_BIN
else
    scratch=()
    [[ -n ${TWOCVM_SCRATCH_PATH:-} ]] && scratch=(--scratch-path "$TWOCVM_SCRATCH_PATH")
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

#!/usr/bin/env bash
# The two-party dev loop, end to end (make demo-dev): fresh keys for both participants, the
# manifest with the current component digests, both approvals, compose, run --dev, and a check
# of the released report against the same C programs compiled natively.
#
#   Examples/two-party/demo-dev.sh [TWOCVM]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
twocvm=${1:-twocvm}
cc=${CC_NATIVE:-gcc}
work=$here/work
rm -rf "$work"
mkdir -p "$work"/{keys,approvals,inputs,out,native}

step() { printf '\n== %s\n' "$*"; }

step "keys for fab and designer (private halves stay in $work/keys)"
"$twocvm" keygen --out "$work/keys/fab"
"$twocvm" keygen --out "$work/keys/designer"

step "manifest with the current component digests"
"$here/make-manifest.sh" "$work/keys/fab" "$work/keys/designer" "$work/manifest.toml"
"$twocvm" manifest lint "$work/manifest.toml"

step "each participant approves"
"$twocvm" manifest sign "$work/manifest.toml" --key "$work/keys/fab" --participant fab -o "$work/approvals/fab.cose"
"$twocvm" manifest sign "$work/manifest.toml" --key "$work/keys/designer" --participant designer -o "$work/approvals/designer.cose"

step "compose"
"$twocvm" compose "$work/manifest.toml" --components "$here/components" --approvals "$work/approvals" -o "$work/plan.cbor"

step "run --dev (each component in its own sandboxed process)"
cp "$here/data/wafer-maps.csv" "$work/inputs/wafer-maps"
cp "$here/data/product-spec.txt" "$work/inputs/product-spec"
"$twocvm" run "$work/plan.cbor" --inputs "$work/inputs" --out "$work/out" --dev

step "the same C programs, compiled natively"
"$cc" -O2 -o "$work/native/wafer-parser" "$here/components/wafer-parser.c" -lm
"$cc" -O2 -o "$work/native/yield-model" "$here/components/yield-model.c" -lm
"$work/native/wafer-parser" "$here/data/wafer-maps.csv" "$work/native/die-features"
"$work/native/yield-model" "$work/native/die-features" "$here/data/product-spec.txt" "$work/native/yield-report"

step "yield report"
column -s, -t < "$work/out/yield-report"
if cmp -s "$work/out/yield-report" "$work/native/yield-report"; then
  echo "demo-dev: ok: the sandboxed yield-report is identical to the native build's"
else
  echo "demo-dev: FAILED: the sandboxed yield-report differs from the native build's" >&2
  diff "$work/native/yield-report" "$work/out/yield-report" >&2 || true
  exit 1
fi

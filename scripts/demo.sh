#!/usr/bin/env bash
# make demo: the two-party wafer-yield story on the simulated SEV-SNP platform.
#
# A fab lab and a chip designer create keys, agree on one Commitment Manifest, pin the launch
# measurement of the VM image, and check, from the evidence file alone, that the VM runs
# exactly that manifest. Each seals its confidential input (the fab's wafer maps, the
# designer's product spec) to the VM's attested TEE key; the VM runs the two components in
# per-component sandboxes and seals the yield report to each of them with a signed receipt;
# each opens its own copy, an auditor replays the receipt, and the opened report is checked
# against the same plan run in dev mode on the plaintext.
#
#   scripts/demo.sh [TWOCVM]          (progress on stderr, a summary on stdout)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
twocvm=${1:-twocvm}
example=$root/Examples/two-party
work=$root/Examples/two-party/work/demo
rm -rf "$work"
mkdir -p "$work"/{keys,approvals,plain,dev-out,sealed,opened}
proved=()
# Each step says what it does; the next one (or the end) prints how long it took.
step_name="" step_start=0
step_done() {
  [[ -z $step_name ]] && return
  local ms=$(( ($(date +%s%N) - step_start) / 1000000 ))
  printf '   (step %s: %d.%01d s)\n' "${step_name%%.*}" $((ms / 1000)) $((ms % 1000 / 100)) >&2
}
step() { step_done; step_name=$1 step_start=$(date +%s%N); printf '\n== %s\n' "$*" >&2; }
run() { "$twocvm" "$@" >&2; }

step "1. keys: each participant creates a signing and an encryption key pair"
run keygen --out "$work/keys/fab"
run keygen --out "$work/keys/designer"
proved+=("keys: private keys stay with their owners (0600), public keys go into the manifest")

step "2. manifest: participants, the exact Wasm binaries, channels and outputs"
"$example/make-manifest.sh" "$work/keys/fab" "$work/keys/designer" "$work/manifest.toml" >&2
run manifest lint "$work/manifest.toml"
digest=$("$twocvm" manifest hash "$work/manifest.toml")
proved+=("manifest: lint-clean, digest $digest (reproducible with tomllib + cbor2)")

step "3. approvals: both participants sign the manifest digest"
run manifest sign "$work/manifest.toml" --key "$work/keys/fab" --participant fab -o "$work/approvals/fab.cose"
run manifest sign "$work/manifest.toml" --key "$work/keys/designer" --participant designer -o "$work/approvals/designer.cose"
run manifest approvals "$work/manifest.toml" "$work/approvals/fab.cose" "$work/approvals/designer.cose"
proved+=("approvals: every participant approved exactly this digest (COSE_Sign1 ES384)")

step "4. reference values: the launch measurement of the VM image (Debian OVMF, 4 vCPUs), bound to the manifest"
run launch-measure --mode snp --vcpus 4 --vcpu-type EPYC-v4 --ovmf /usr/share/ovmf/OVMF.fd \
    --manifest "$work/manifest.toml" --reference-out "$work/reference.json"
proved+=("reference: expected MEASUREMENT computed offline, bit-identical to sev-snp-measure")

step "5. the operator launches the (simulated) SNP VM with HOST_DATA = manifest digest prefix"
run sim launch --state "$work/vm" --reference "$work/reference.json" --manifest "$work/manifest.toml"

step "6. a participant sends a nonce; the VM attests"
nonce=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
run attest "$work/manifest.toml" --nonce "$nonce" -o "$work/evidence.cbor" --platform simulated --state "$work/vm"

step "7. each participant verifies the evidence offline (simulated ARK named explicitly)"
root_pem=$("$twocvm" sim root --state "$work/vm")
for who in fab designer; do
  run verify "$work/evidence.cbor" --manifest "$work/manifest.toml" --reference "$work/reference.json" \
      --nonce "$nonce" --trust-root "$root_pem"
done
proved+=("evidence: (simulated) AMD chain, signed report, expected measurement, manifest locked in HOST_DATA, fresh nonce, TEE keys bound")

step "8. each owner seals its input to the TEE key of the VM it just verified"
run seal "$work/evidence.cbor" --manifest "$work/manifest.toml" --reference "$work/reference.json" --nonce "$nonce" \
    --trust-root "$root_pem" --data wafer-maps --in "$example/data/wafer-maps.csv" --key "$work/keys/fab" \
    -o "$work/sealed/wafer-maps.sealed"
run seal "$work/evidence.cbor" --manifest "$work/manifest.toml" --reference "$work/reference.json" --nonce "$nonce" \
    --trust-root "$root_pem" --data product-spec --in "$example/data/product-spec.txt" --key "$work/keys/designer" \
    -o "$work/sealed/product-spec.sealed"
proved+=("seal: wafer maps and product spec encrypted to the verified TEE key only (HPKE P-384), each signed by its owner")

step "9. compose: approvals, component digests, imports and channels checked; plan written"
run compose "$work/manifest.toml" --components "$example/components" --approvals "$work/approvals" -o "$work/plan.cbor"
proved+=("plan: only the approved binaries, each importing only what its manifest entry allows")

step "10. inside the VM: sealed run (lock checked, inputs opened before any component, outputs sealed, receipt signed)"
run run "$work/plan.cbor" --inputs "$work/sealed" --out "$work/results" --state "$work/vm"
proved+=("run: HOST_DATA lock held; both inputs opened and checked before any component ran; each component in its own sandboxed process")
proved+=("outputs: the yield report sealed separately to fab and designer; receipt signed by the TEE signing key")

step "11. each recipient opens its own copy (evidence, receipt signature, receipt listing, then decryption)"
for who in fab designer; do
  run open "$work/results/yield-report.$who.sealed" --key "$work/keys/$who" --receipt "$work/results/receipt.cose" \
      --evidence "$work/evidence.cbor" --manifest "$work/manifest.toml" --reference "$work/reference.json" \
      --trust-root "$root_pem" -o "$work/opened/yield-report.$who.csv"
done
if "$twocvm" open "$work/results/yield-report.designer.sealed" --key "$work/keys/fab" --receipt "$work/results/receipt.cose" \
    --evidence "$work/evidence.cbor" --trust-root "$root_pem" -o "$work/opened/should-not-exist" 2> /dev/null; then
  echo "demo: FAILED: the fab opened the designer's copy" >&2; exit 1
fi
proved+=("open: each recipient opened only its own copy; the fab's key cannot open the designer's")

step "12. an auditor replays the receipt from files: evidence, plan, sealed inputs and outputs"
run receipt verify "$work/results/receipt.cose" --evidence "$work/evidence.cbor" --manifest "$work/manifest.toml" \
    --reference "$work/reference.json" --trust-root "$root_pem" \
    "$work/plan.cbor" "$work/sealed/"*.sealed "$work/results/"*.sealed
proved+=("receipt: plan, component digests, every sealed input and output listed and signed by the attested TEE key")

step "13. the same plan in dev mode on the plaintext: the opened reports must be identical"
cp "$example/data/wafer-maps.csv" "$work/plain/wafer-maps"
cp "$example/data/product-spec.txt" "$work/plain/product-spec"
run run "$work/plan.cbor" --inputs "$work/plain" --out "$work/dev-out" --dev
for who in fab designer; do
  cmp "$work/dev-out/yield-report" "$work/opened/yield-report.$who.csv" \
    || { echo "demo: FAILED: the report opened by $who differs from the dev-mode run" >&2; exit 1; }
done
proved+=("check: the reports opened by fab and designer are byte-identical to run --dev on the plaintext")

step_done
echo "twocvm demo: what each step proved"
for line in "${proved[@]}"; do echo "  - $line"; done
echo "  yield report (as opened by the designer): $work/opened/yield-report.designer.csv"
echo "  (lot, dies, yield %, defect density D0 per cm², predicted yield % of the designer's next die)"
cut -d, -f1,2,4,17,18 "$work/opened/yield-report.designer.csv" | column -s, -t | sed 's/^/    /'

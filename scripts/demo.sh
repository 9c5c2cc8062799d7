#!/usr/bin/env bash
# make demo: the two-party wafer-yield story on the simulated SEV-SNP platform.
#
# A fab lab and a chip designer create keys, agree on one Commitment Manifest, pin the launch
# measurement of the VM image, and check, from the evidence file alone, that the VM runs
# exactly that manifest before the computation runs in per-component sandboxes.
#
#   scripts/demo.sh [TWOCVM]          (progress on stderr, a summary on stdout)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
twocvm=${1:-twocvm}
example=$root/Examples/two-party
work=$root/Examples/two-party/work/demo
rm -rf "$work"
mkdir -p "$work"/{keys,approvals,inputs,out,sealed}
proved=()
step() { printf '\n== %s\n' "$*" >&2; }
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

step "7. each participant verifies the evidence offline"
root_pem=$("$twocvm" sim root --state "$work/vm")
run verify "$work/evidence.cbor" --manifest "$work/manifest.toml" --reference "$work/reference.json" \
    --nonce "$nonce" --trust-root "$root_pem"
proved+=("evidence: (simulated) AMD chain, signed report, expected measurement, manifest locked in HOST_DATA, fresh nonce, TEE keys bound")

step "8. the fab seals its wafer maps to the TEE key of the VM it just verified"
run seal "$work/evidence.cbor" --manifest "$work/manifest.toml" --reference "$work/reference.json" --nonce "$nonce" \
    --trust-root "$root_pem" --data wafer-maps --in "$example/data/wafer-maps.csv" --key "$work/keys/fab" \
    -o "$work/sealed/wafer-maps.sealed"
proved+=("seal: the wafer maps are encrypted to the verified TEE key only, signed by their owner")

step "9. compose: approvals, component digests, imports and channels checked; plan written"
run compose "$work/manifest.toml" --components "$example/components" --approvals "$work/approvals" -o "$work/plan.cbor"
proved+=("plan: only the approved binaries, each importing only what its manifest entry allows")

step "10. run: each component in its own sandboxed process, data only along channels"
cp "$example/data/wafer-maps.csv" "$work/inputs/wafer-maps"
run run "$work/plan.cbor" --inputs "$work/inputs" --out "$work/out" --dev
proved+=("run: the yield report produced in the sandbox (dev mode: plaintext in and out)")

echo "twocvm demo: what each step proved"
for line in "${proved[@]}"; do echo "  - $line"; done
echo "  yield report: $work/out/yield-report"
echo "  (a sealed run, sealed outputs, the signed receipt and open come next; run --dev uses plaintext)"

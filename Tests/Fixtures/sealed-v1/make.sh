#!/usr/bin/env bash
# Makes Tests/Fixtures/sealed-v1 with a given twocvm binary: Tests/Fixtures/sealed-v1/make.sh TWOCVM OUTDIR.
# The committed files were made with twocvm at commit 6b3fa94 (before the streaming rewrite of
# issue 16), so SealedFileStreamingTests proves that files sealed by that release still open.
# tee-hpke.key is the throw-away simulated VM's TEE key, kept so that the test can open them.
set -euo pipefail
twocvm=$1 out=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
q() { "$twocvm" "$@" > /dev/null; }
q keygen --out "$work/owner"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
printf consumer > "$work/consumer.wasm"   # only its digest goes into the manifest
"$root/Benchmarks/make-manifest.sh" "$work/owner" "$work/consumer.wasm" consumer "$work/manifest.toml" blob
q manifest lint "$work/manifest.toml"
q launch-measure --mode snp --vcpus 1 --vcpu-type EPYC-v4 --ovmf /usr/share/ovmf/OVMF.fd \
    --manifest "$work/manifest.toml" --reference-out "$work/reference.json"
q sim launch --state "$work/vm" --reference "$work/reference.json" --manifest "$work/manifest.toml"
nonce=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
q attest "$work/manifest.toml" --nonce "$nonce" -o "$work/evidence.cbor" --platform simulated --state "$work/vm"
root=$("$twocvm" sim root --state "$work/vm")
mkdir -p "$out"
python3 - "$work" <<'PY'
import sys
w = sys.argv[1]
def pattern(n): return bytes(((i * 2654435761) >> 13) & 0xff for i in range(n))
open(f"{w}/small", "wb").write(pattern(3000))
open(f"{w}/two-chunks", "wb").write(pattern((1 << 20) + 4099))
open(f"{w}/empty", "wb").write(b"")
PY
: > "$out/plaintexts.txt"
for name in small two-chunks empty; do
  q seal "$work/evidence.cbor" --manifest "$work/manifest.toml" --reference "$work/reference.json" --nonce "$nonce" \
     --trust-root "$root" --data blob --in "$work/$name" --key "$work/owner" -o "$out/$name.sealed"
  echo "$name.sealed $(stat -c %s "$work/$name") $(sha256sum "$work/$name" | cut -d' ' -f1)" >> "$out/plaintexts.txt"
done
cp "$work/vm/tee-hpke.key" "$out/tee-hpke.key"
cp "$work/owner/signing.pub.pem" "$out/owner-signing.pub.pem"
"$twocvm" manifest hash "$work/manifest.toml" | awk '{print $1}' > "$out/manifest-digest.txt"

#!/usr/bin/env bash
# Benchmarks/manifest-hash.sh: `twocvm manifest hash` and `manifest lint` on the largest manifest
# SPEC §3 allows (1 MiB: the lint limit on the file size), generated here: many participants
# (keys from `twocvm keygen`), components, datasets, channels and outputs, lint-clean. Against
# the SPEC's Python reference (`sha384(cbor2.dumps(tomllib.load(f), canonical=True))`), which
# must print the same digest. Prints a Markdown section on stdout; progress on stderr.
#
# Environment: TWOCVM_BIN (required), TWOCVM_PYTHON (default .venv/bin/python), BENCH_RUNS
# (hyperfine runs, default 20).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
twocvm=${TWOCVM_BIN:?TWOCVM_BIN must name a release twocvm}
python=${TWOCVM_PYTHON:-$root/.venv/bin/python}
runs=${BENCH_RUNS:-20}
command -v hyperfine > /dev/null || { echo "manifest-hash.sh: hyperfine is missing (make deps)" >&2; exit 3; }

work=$(mktemp -d "${TMPDIR:-/tmp}/twocvm-manifest.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "generating a 1 MiB manifest…" >&2
for i in 0 1 2 3 4 5 6 7; do "$twocvm" keygen --out "$work/keys/k$i" > /dev/null; done

"$python" - "$work/keys" "$work/manifest.toml" <<'PY'
import hashlib, sys
keys, out = sys.argv[1], sys.argv[2]
limit = 1 << 20
pems = [(open(f"{keys}/k{i}/signing.pub.pem").read().strip(), open(f"{keys}/k{i}/encryption.pub.pem").read().strip())
        for i in range(8)]
head = ['# A 1 MiB manifest for `make bench` (Benchmarks/manifest-hash.sh).', 'version = 1', 'name = "bench-large"', '']
participants, blocks = 64, []
for p in range(participants):
    sign, enc = pems[p % len(pems)]
    blocks.append(f'[[participants]]\nid = "org-{p}"\ndisplay_name = "Organisation {p}"\n'
                  f'signing_key = """\n{sign}\n"""\nencryption_key = """\n{enc}\n"""\n')
def unit(i):  # one dataset -> one component -> one output, owned by participant i % 64
    owner = f"org-{i % participants}"
    digest = hashlib.sha256(f"component {i}".encode()).hexdigest()
    data_digest = hashlib.sha256(f"data {i}".encode()).hexdigest()
    return (f'[[components]]\nid = "c{i}"\nowner = "{owner}"\ndigest = "sha256:{digest}"\nwasi = ["clock"]\n'
            f'limits = {{ fuel = 1_000_000_000, memory_mib = 64, timeout_s = 60 }}\n\n'
            f'[[data]]\nid = "d{i}"\nowner = "{owner}"\ndigest = "sha256:{data_digest}"\n\n'
            f'[[channels]]\nfrom = "data.d{i}"\nto = "c{i}"\n\n'
            f'[[outputs]]\nid = "o{i}"\nfrom = "c{i}"\nto = ["{owner}", "org-{(i + 1) % participants}"]\nmax_bytes = 65_536\n')
text = "\n".join(head + blocks) + "\n"
i = 0
while True:
    nxt = text + unit(i) + "\n"
    if len(nxt.encode()) > limit:
        break
    text, i = nxt, i + 1
open(out, "w").write(text)
print(f"{participants} participants, {i} components/datasets/channels/outputs, {len(text.encode())} bytes", file=sys.stderr)
PY
size=$(stat -c %s "$work/manifest.toml")
"$twocvm" manifest lint "$work/manifest.toml" > /dev/null || { echo "manifest-hash.sh: the generated manifest does not lint clean" >&2; "$twocvm" manifest lint "$work/manifest.toml" | head >&2; exit 1; }
ours=$("$twocvm" manifest hash "$work/manifest.toml")
cat > "$work/reference.py" <<'PY'
import hashlib, sys, tomllib, cbor2
print("sha384:" + hashlib.sha384(cbor2.dumps(tomllib.load(open(sys.argv[1], "rb")), canonical=True)).hexdigest())
PY
theirs=$("$python" "$work/reference.py" "$work/manifest.toml")
[[ $ours == "$theirs" ]] || { echo "manifest-hash.sh: digests differ: $ours vs $theirs" >&2; exit 1; }
counts=$(grep -c '^\[\[components\]\]' "$work/manifest.toml")

echo "timing manifest hash / lint…" >&2
hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/times.json" \
    --command-name hash "$twocvm manifest hash $work/manifest.toml" \
    --command-name lint "$twocvm manifest lint $work/manifest.toml" \
    --command-name reference "$python $work/reference.py $work/manifest.toml" > /dev/null
rss() { /usr/bin/time -f %M "$@" 2>&1 > /dev/null | tail -1; }
rss_hash=$(rss "$twocvm" manifest hash "$work/manifest.toml")
rss_lint=$(rss "$twocvm" manifest lint "$work/manifest.toml")
rss_ref=$(rss "$python" "$work/reference.py" "$work/manifest.toml")

"$python" - "$work/times.json" "$size" "$counts" "$ours" "$rss_hash" "$rss_lint" "$rss_ref" "$runs" <<'PY'
import json, sys
path, size, counts, digest, rss_hash, rss_lint, rss_ref, runs = sys.argv[1:9]
t = {r["command"]: r for r in json.load(open(path))["results"]}
size = int(size)
ms = lambda r: f"{r['mean'] * 1000:.1f} ± {r['stddev'] * 1000:.1f} ms"
mbs = lambda r: f"{size / r['mean'] / 1e6:.1f} MB/s"
mib = lambda k: f"{int(k) / 1024:.1f} MiB"
print("## manifest hash and lint on a 1 MiB manifest")
print()
print(f"The largest manifest SPEC §3 allows (lint refuses files over 1 MiB = 1,048,576 bytes): generated,")
print(f"{size:,} bytes, 64 participants (P-384 keys from `twocvm keygen`), {counts} components, as many")
print(f"datasets (each with a pinned digest), channels and outputs; lint-clean. `twocvm manifest hash`")
print(f"prints `{digest[:23]}…`, the same digest as SPEC's Python reference")
print(f"(`sha384(cbor2.dumps(tomllib.load(f), canonical=True))`, tomllib + cbor2). Wall time is hyperfine's")
print(f"mean ± σ of {runs} runs (whole process, file in the page cache); peak RSS from `/usr/bin/time`.")
print()
print("| command | wall time | throughput | peak RSS |")
print("| --- | ---: | ---: | ---: |")
print(f"| `twocvm manifest hash` | {ms(t['hash'])} | {mbs(t['hash'])} | {mib(rss_hash)} |")
print(f"| `twocvm manifest lint` (every rule, key parsing) | {ms(t['lint'])} | {mbs(t['lint'])} | {mib(rss_lint)} |")
print(f"| Python reference (tomllib + cbor2 + hashlib) | {ms(t['reference'])} | {mbs(t['reference'])} | {mib(rss_ref)} |")
print()
print(f"`manifest hash` runs at {t['reference']['mean'] / t['hash']['mean']:.1f}× the speed of the Python reference.")
PY

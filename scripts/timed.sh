#!/usr/bin/env bash
# scripts/timed.sh LABEL COMMAND...: says what it is about to do, runs COMMAND, then prints its
# wall time (`make demo` times each phase this way). Exits with COMMAND's status.
set -uo pipefail
label=$1; shift
printf '\n>>> %s\n' "$label" >&2
start=$(date +%s%N)
"$@"
status=$?
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
printf '>>> %s: %d.%01d s%s\n' "${label%%:*}" $((elapsed / 1000)) $((elapsed % 1000 / 100)) "$([ $status = 0 ] || echo " (FAILED, exit $status)")" >&2
exit $status

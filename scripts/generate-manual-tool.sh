#!/usr/bin/env bash
# Prints the path of swift-argument-parser's generate-manual tool (the tool of its
# GenerateManual plugin), building it once through the plugin when it is not built yet.
#   scripts/generate-manual-tool.sh [SWIFT]     build if needed, print the path
#   scripts/generate-manual-tool.sh --find      only look (exit 1 if it is not built)
# `make man` and `make install` run the tool directly on the twocvm binary they install, so the
# man page is generated from the binary's own help (`--experimental-dump-help`).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
find_tool() { find "$root/.build" -path '*/debug/generate-manual-tool' -type f -perm -u+x 2>/dev/null | head -1; }
tool=$(find_tool)
if [[ -z $tool ]]; then
  [[ ${1:-} == --find ]] && exit 1
  echo "building swift-argument-parser's generate-manual (once)" >&2
  (cd "$root" && "${1:-swift}" package plugin generate-manual --help > /dev/null)
  tool=$(find_tool)
  [[ -n $tool ]] || { echo "generate-manual-tool.sh: the GenerateManual plugin built no tool" >&2; exit 3; }
fi
echo "$tool"

#!/usr/bin/env bash
# piuparts on the default recipe's own packages: install → purge, and upgrade from a
# previous build (the same recipe with its own packages' versions one lower).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/prev" "$work/next"
for d in prev next; do cp -r sources "$work/$d/"; cp recipes/xcp-bookworm.lock "$work/$d/"; done
sed 's#path: ../sources/xcp-host#path: sources/xcp-host#' recipes/xcp-bookworm.yaml >"$work/prev/xcp-bookworm.yaml"
sed -E -e 's#path: ../sources/xcp-host#path: sources/xcp-host#' -e 's/^version: 1\.0\.0$/version: 1.0.1/' -e 's/^    version: 1\.0\.0$/    version: 1.0.1/' \
  -e 's/xcp-host: \{ version: ([^,]+),/xcp-host: { version: \1+b1,/' recipes/xcp-bookworm.yaml >"$work/next/xcp-bookworm.yaml"
node dist/cli.js --locked --out "$work/out-prev" repo "$work/prev/xcp-bookworm.yaml" >/dev/null 2>&1
node dist/cli.js --out "$work/out-next" repo "$work/next/xcp-bookworm.yaml" >/dev/null 2>&1
node dist/cli.js --json --out "$work/out-next" piuparts "$work/next/xcp-bookworm.yaml" --previous "$work/out-prev/xcp-bookworm/repo" |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const r of JSON.parse(s).runs)console.log(`piuparts ${r.mode}: ${r.ok?"PASS":"FAIL"} ${r.seconds.toFixed(0)} s`)})'

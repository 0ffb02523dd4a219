#!/usr/bin/env bash
# Times lock, fetch, build (the clean build root), meta and repo: cold (empty cache,
# no outputs), warm (cache full, outputs removed) and no-op (nothing changed). Prints
# one table.
# Usage: bench/repo.sh [recipe-name]   (uses a private cache and output directory)
set -euo pipefail
cd "$(dirname "$0")/.."
recipe=${1:-xcp-bookworm}
. bench/private-recipe.sh
export XCPBUILD_CACHE="$work/cache"
out="$work/out"
x() { node dist/cli.js --json --out "$out" "$@" > "$work/last.json" || { cat "$work/last.json"; exit 1; }; }
t() { local s e; s=$(date +%s%N); "$@"; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }

declare -A res
# lock: cold = no apt lists cached; warm = lists cached, re-resolve; no-op = lock matches recipe
res[lock,cold]=$(t x lock --update "$r")
res[lock,warm]=$(t x lock --update "$r")
res[lock,noop]=$(t x lock "$r")
# fetch: cold = empty content store
res[fetch,cold]=$(t x --locked fetch "$r")
rm -rf "$out/$recipe/fetch"
res[fetch,warm]=$(t x --locked fetch "$r")
res[fetch,noop]=$(t x --locked fetch "$r")
# build: cold = the pristine build root is made (mmdebstrap); warm = it is restored from the tree cache
res[build,cold]=$(t x --locked build "$r")
rm -rf "$out/$recipe/build"
res[build,warm]=$(t x --locked build "$r")
res[build,noop]=$(t x --locked build "$r")
# meta
res[meta,cold]=$(t x --locked meta "$r")
rm -rf "$out/$recipe/meta"
res[meta,warm]=$(t x --locked meta "$r")
res[meta,noop]=$(t x --locked meta "$r")
# repo: cold = the whole chain from an empty cache; warm = cache full, all outputs removed
rm -rf "$out" "$XCPBUILD_CACHE"
res[repo,cold]=$(t x --locked repo "$r")
rm -rf "$out"
res[repo,warm]=$(t x --locked repo "$r")
res[repo,noop]=$(t x --locked repo "$r")

read -r n mib < <(node -e "const l=JSON.parse(require('fs').readFileSync('$work/recipes/$recipe.lock','utf8'));console.log(l.packages.length,(l.packages.reduce((s,p)=>s+p.size,0)/1048576).toFixed(1))")
echo "xcpbuild bench: $recipe ($n packages, $mib MiB), $(nproc) cores"
printf '%-6s %12s %12s %12s\n' stage cold warm no-op
for s in lock fetch build meta repo; do
  printf '%-6s %9d ms %9d ms %9d ms\n' "$s" "${res[$s,cold]}" "${res[$s,warm]}" "${res[$s,noop]}"
done
echo "targets: warm repo <= 10 s, no-op <= 1 s"

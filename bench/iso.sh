#!/usr/bin/env bash
# ISO build figures with the package cache full (downloads are fetch's figure, bench/repo.sh):
#   cold  = no outputs and no cached trees: the target image and the installer layer are made
#   warm  = the trees are cached, every output removed
#   no-op = nothing changed, as `make iso` runs it (make's checks included)
# and the ISO's size. Targets (2 cores): cold <= 238 s (aim <= 150 s), ISO <= 550 MB.
# Usage: bench/iso.sh [recipe-name]   (private output and cache directories)
set -euo pipefail
cd "$(dirname "$0")/.."
recipe=${1:-xcp-bookworm}
work=$(mktemp -d /tmp/xcpbuild-bench-iso-XXXXXX)
trap 'rm -rf "$work"' EXIT
out="$work/out"
shared=${XCPBUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xcpbuild}
export XCPBUILD_CACHE="$work/cache"
mkdir -p "$XCPBUILD_CACHE"
x() { node dist/cli.js --json --locked --out "$out" "$@" > "$work/last.json" || { cat "$work/last.json"; exit 1; }; }
ms() { local s e; s=$(date +%s%N); "$@" >&2; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }

# The package files come from the shared cache (copied, so this bench never changes it).
node dist/cli.js --locked --out "$work/prefetch" fetch "recipes/$recipe.yaml" >/dev/null
cp -a "$shared/sha256" "$XCPBUILD_CACHE/"
x fetch "recipes/$recipe.yaml"
cold=$(ms x iso "recipes/$recipe.yaml")
stages=$(node -e "const r=JSON.parse(require('fs').readFileSync('$work/last.json','utf8'));console.log(r.stages.filter(s=>s.status==='built').map(s=>s.id+' '+s.seconds.toFixed(0)+' s').join(', '))")
rm -rf "$out"
warm=$(ms x iso "recipes/$recipe.yaml")
noop=$(ms make -s iso RECIPE="$recipe" XCPBUILD="node dist/cli.js --locked --out $out")
iso=$(ls "$out/$recipe/iso/"*.iso)
size=$(stat -c %s "$iso")
echo "xcpbuild ISO bench: $recipe, $(nproc) cores"
echo "iso build: cold $((cold / 1000)).$(( (cold % 1000) / 100 )) s ($stages), warm $((warm / 1000)).$(( (warm % 1000) / 100 )) s, no-op (make iso) $((noop / 1000)).$(( (noop % 1000) / 100 )) s   (targets: cold <= 238 s, aim <= 150 s)"
node -e "const m=(f)=>(require('fs').statSync(f).size/1048576).toFixed(1);console.log('iso size: %s MB (%s MiB; target <= 550 MB): repository %s MiB, image %s MiB, installer layer %s MiB, kernel + initrd %s MiB', ($size/1e6).toFixed(1), ($size/1048576).toFixed(1), (Number(require('child_process').execSync('du -bs $out/$recipe/repo/pool').toString().split(/\s/)[0])/1048576).toFixed(1), m('$out/$recipe/image/filesystem.squashfs'), m('$out/$recipe/installer/installer.squashfs'), ((require('fs').statSync('$out/$recipe/installer/vmlinuz').size+require('fs').statSync('$out/$recipe/installer/initrd.img').size)/1048576).toFixed(1))"

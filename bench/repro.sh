#!/usr/bin/env bash
# Reproducibility of the whole ISO: two builds from the same lock in two environments
#   A: output under /tmp/…/a/out, its own cache, umask 022, TZ=UTC, LANG=C.UTF-8
#   B: output under a path with a space, its own cache, umask 077, TZ=Pacific/Chatham,
#      LANG=fr_FR.UTF-8, and a clock 3 days ahead (libfaketime, when installed)
# then compares the sha256 of every output file (repo, image, installer, ISO) and runs
# diffoscope on the first differing file of each stage. Exit 0 only when all are identical.
# Usage: bench/repro.sh [recipe-name]        (`make repro` installs diffoscope and faketime)
set -euo pipefail
cd "$(dirname "$0")/.."
recipe=${1:-xcp-bookworm}
work=$(mktemp -d /tmp/xcpbuild-repro-XXXXXX)
trap 'rm -rf "$work"' EXIT
shared=${XCPBUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xcpbuild}
cli=$PWD/dist/cli.js

# Package files are fetched once into the shared cache, then copied into each build's own cache.
node "$cli" --locked fetch "recipes/$recipe.yaml" >/dev/null

build() { # name out-dir prelude wrapper env...
  local name=$1 out=$2 prelude=$3 wrapper=$4; shift 4
  local cache="$work/$name/cache"
  mkdir -p "$cache" && cp -a "$shared/sha256" "$cache/"
  local s e
  s=$(date +%s)
  env "$@" XCPBUILD_CACHE="$cache" sh -c "$prelude exec $wrapper node '$cli' --locked --out '$out' iso 'recipes/$recipe.yaml'" \
    > "$work/$name.log" 2>&1 || { echo "build $name failed:"; tail -20 "$work/$name.log"; exit 1; }
  e=$(date +%s)
  echo "build $name: $((e - s)) s"
}

clock=""
# NO_FAKE_STAT: only "now" moves; file times read back with stat stay true, as on a builder whose clock differs.
if command -v faketime >/dev/null; then clock="env NO_FAKE_STAT=1 faketime -f +3d"; else echo "(faketime not installed: build B runs at the real time)"; fi
build a "$work/a/out" "umask 022;" "" TZ=UTC LANG=C.UTF-8 LC_ALL=
build b "$work/b/out dir" "umask 077;" "$clock" TZ=Pacific/Chatham LANG=fr_FR.UTF-8 LC_ALL=

sums() { (cd "$1" && find . -type f ! -name .xcpbuild-stage.json -print0 | sort -z | xargs -0 sha256sum); }
status=0
for stage in build meta repo image installer iso; do
  a="$work/a/out/$recipe/$stage" b="$work/b/out dir/$recipe/$stage"
  sums "$a" > "$work/a.$stage.sums"; sums "$b" > "$work/b.$stage.sums"
  n=$(wc -l < "$work/a.$stage.sums")
  if cmp -s "$work/a.$stage.sums" "$work/b.$stage.sums"; then
    echo "$stage: $n files, all identical"
  else
    status=1
    { diff "$work/a.$stage.sums" "$work/b.$stage.sums" || true; } | grep '^[<>]' | awk '{print $3}' | sort -u > "$work/$stage.diff"
    echo "$stage: $(wc -l < "$work/$stage.diff") of $n files differ: $(head -5 "$work/$stage.diff" | tr '\n' ' ')"
    first=$(head -1 "$work/$stage.diff")
    if command -v diffoscope >/dev/null && [ -f "$a/$first" ] && [ -f "$b/$first" ]; then
      timeout 900 diffoscope --text - --max-report-size 200000 "$a/$first" "$b/$first" | head -80 || true
    fi
  fi
done
[ $status -eq 0 ] && echo "reproducible: every output of the two builds is bit-identical"
exit $status

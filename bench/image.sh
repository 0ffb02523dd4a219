#!/usr/bin/env bash
# How the target image is compressed, chosen by measurement: for each squashfs
# compressor, the image size, the time to make it (all cores) and the time to extract it
# on one core (what the installer does, 10-20x slower under TCG). Needs a built image
# (make iso). Usage: bench/image.sh [recipe-name]
set -euo pipefail
cd "$(dirname "$0")/.."
recipe=${1:-xcp-bookworm}
image=out/$recipe/image/filesystem.squashfs
[ -f "$image" ] || { echo "no $image: run make iso first" >&2; exit 1; }
work=$(mktemp -d /tmp/xcpbuild-bench-image-XXXXXX)
trap 'rm -rf "$work"' EXIT
unsquashfs -q -n -d "$work/root" "$image" >/dev/null
echo "image root: $(du -sm "$work/root" | cut -f1) MiB, $(nproc) cores"
printf '%-30s %10s %10s %14s\n' compressor 'size MiB' 'make s' 'extract s (1)'
for c in "zstd -Xcompression-level 3" "zstd -Xcompression-level 9" "zstd -Xcompression-level 9 -b 1M" "zstd -Xcompression-level 15" "zstd -Xcompression-level 19" "xz" "lz4 -Xhc" "gzip"; do
  s=$(date +%s%N)
  mksquashfs "$work/root" "$work/t.sqfs" -comp $c -noappend -no-progress -quiet >/dev/null
  made=$(( ($(date +%s%N) - s) / 1000000 ))
  s=$(date +%s%N)
  unsquashfs -q -n -p 1 -d "$work/x" "$work/t.sqfs" >/dev/null
  ext=$(( ($(date +%s%N) - s) / 1000000 ))
  rm -rf "$work/x"
  awk -v c="$c" -v b="$(stat -c %s "$work/t.sqfs")" -v m="$made" -v x="$ext" 'BEGIN { printf "%-30s %10.1f %10.1f %14.1f\n", c, b / 1048576, m / 1000, x / 1000 }'
done
echo "in use: $(grep -o "'-comp'.*']" src/family/debian/image.ts | tr -d "',")"

#!/usr/bin/env bash
# Install and first-boot times of the ISO under QEMU TCG: each firmware alone, then both
# side by side (as `make test` runs them). Target (2 cores): install + first boot <= 12 min
# per firmware alone. Needs a built ISO (make iso). Usage: bench/boot.sh [recipe-name]
# SIDE_BY_SIDE=0 skips the side-by-side run (make test's boot test prints those figures).
set -euo pipefail
cd "$(dirname "$0")/.."
recipe=${1:-xcp-bookworm}
iso=$(ls out/$recipe/iso/*.iso 2>/dev/null | head -n1)
[ -n "$iso" ] || { echo "no ISO under out/$recipe/iso: run make iso first" >&2; exit 1; }
work=$(mktemp -d /tmp/xcpbuild-bench-boot-XXXXXX)
trap 'rm -rf "$work"' EXIT
run() { node dist/cli.js --json --out "$work/$1" boot-test --firmware "$2" --jobs 2 "$iso" > "$work/$1.json" 2>"$work/$1.err" || true; }
report() {
  node -e "
    const r = JSON.parse(require('fs').readFileSync('$work/$1.json', 'utf8'));
    for (const x of r.reports) {
      const ok = x.checks.filter((c) => c.ok).length;
      console.log('%s %s: install %s s + first boot %s s = %s min; %d of %d checks ok', '$2'.padEnd(12), x.firmware, x.installSeconds.toFixed(0), x.bootSeconds.toFixed(0), ((x.installSeconds + x.bootSeconds) / 60).toFixed(1), ok, x.checks.length);
    }"
}
echo "xcpbuild boot bench: $(basename "$iso"), $(nproc) cores, QEMU TCG"
run bios bios; report bios alone
run uefi uefi; report uefi alone
[ "${SIDE_BY_SIDE:-1}" = 0 ] && exit 0
s=$(date +%s); run both bios,uefi; e=$(date +%s)
report both 'side by side'
echo "side by side, both firmwares: $(( (e - s) / 60 )) min $(( (e - s) % 60 )) s in all   (target: install + first boot <= 12 min per firmware alone)"

#!/usr/bin/env bash
# The upgrade test per firmware with the from-install cached (tests/upgrade/run.sh builds
# or reuses both releases and the install): the upgrade boot (guest, host check,
# full-upgrade) and the boot after the reboot with its checks. Target: ≤ 8 min per firmware.
set -euo pipefail
cd "$(dirname "$0")/.."
for fw in bios uefi; do
  FIRMWARE=$fw bash tests/upgrade/run.sh "${1:-xcp-bookworm}" >/dev/null 2>&1 || true  # makes and caches the install
  log=$(mktemp)
  s=$(date +%s)
  FIRMWARE=$fw bash tests/upgrade/run.sh "${1:-xcp-bookworm}" >"$log" 2>&1 || { tail -20 "$log"; exit 1; }
  e=$(date +%s)
  printf '%s: upgrade + reboot + checks %d s (%s)\n' "$fw" $((e - s)) "$(grep -E 'upgrade boot|^.{8} reboot|passed' "$log" | tr -s ' ' | tr '\n' ';')"
done

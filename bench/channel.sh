#!/usr/bin/env bash
# Times publishing to an update channel: a nightly's channel step (the first publication
# copies the whole pool; later ones only what changed), promote (verify-release, then
# publish), and channel refresh. Uses the nightly tests' repository-only recipe, a
# private output and publish directory. Target: publishing a release to a channel ≤ 10 s.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
recipe=tests/fixtures/recipes/xcp-nightly-test.yaml
t() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo "$(( (e - s) / 1000000 ))"; }
step() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(j.steps.find(x=>x.name==="update the channel").seconds.toFixed(2), j.release)})'; }
read -r first r1 < <(node dist/cli.js --json --out "$work/out" nightly "$recipe" --publish "$work/pub" --skip-piuparts | step)
read -r second r2 < <(node dist/cli.js --json --out "$work/out" nightly "$recipe" --publish "$work/pub" --skip-piuparts | step)
promote1=$(t node dist/cli.js promote "$r1" --channel stable)
promote2=$(t node dist/cli.js promote "$r2" --channel stable)
refresh=$(t node dist/cli.js channel refresh "$work/pub/xcp-nightly-test/channels/stable")
pool=$(du -sm "$r1/repo/pool" | cut -f1)
printf '%-58s %s\n' "nightly → channel, first publication (pool ${pool} MiB copied)" "${first} s" \
  "nightly → channel, next publication (only new packages)" "${second} s" \
  "promote (verify-release + publish), first / next" "$((promote1)) ms / $((promote2)) ms" \
  "channel refresh" "${refresh} ms"

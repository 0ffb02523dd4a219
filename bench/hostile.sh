#!/usr/bin/env bash
# The cost of hostile and maximal inputs, which must stay bounded: a 30 MB lock of nested
# brackets, 3 MB of nested objects, a 1 MB recipe of nested brackets, and `plan` on a
# schema-valid lock of about 28 MB (38,000 extra packages). Prints seconds and peak memory.
# Usage: bench/hostile.sh [recipe-name]     (`make bench` installs GNU time)
set -euo pipefail
cd "$(dirname "$0")/.."
recipe=${1:-xcp-bookworm}
. bench/private-recipe.sh
cp "$lock" "$work/valid.lock"

measure() { # label file-to-install-as-lock-or-recipe command...
  local label=$1; shift
  local stats
  /usr/bin/time -o "$work/time" -f '%e %M' "$@" >/dev/null 2>&1 || true
  stats=$(tail -1 "$work/time")
  printf '%-44s %6s s %8s MiB\n' "$label" "${stats% *}" "$(( ${stats#* } / 1024 ))"
}

printf '%-44s %8s %12s\n' case time 'peak memory'
python3 -c "import sys; sys.stdout.write('[' * 30_000_000)" > "$lock"
measure 'lock: 30 MB of nested [ (refused)' node dist/cli.js --out "$work/out" plan "$r"
python3 -c "import sys; sys.stdout.write('{\"a\":' * 600_000)" > "$lock"
measure 'lock: 3 MB of nested objects (refused)' node dist/cli.js --out "$work/out" plan "$r"
python3 -c "import sys; sys.stdout.write('name: x\nfoo: ' + '[' * 1_000_000 + '\n')" > "$work/nested.yaml"
measure 'recipe: 1 MB of nested [ (refused)' node dist/cli.js validate "$work/nested.yaml"
node -e '
const fs = require("fs"), crypto = require("crypto");
const l = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const fill = (i, s) => ({ ...l.packages[0], name: `zz-filler-${i}${s}-${"x".repeat(150)}`, filename: `pool/main/z/zz${i}${s}/${"y".repeat(200)}.deb`, sha256: crypto.createHash("sha256").update(i + s).digest("hex") });
l.test = [...(l.test || []), ...Array.from({ length: 19000 }, (_, i) => fill(i, "t"))];
l.build = [...(l.build || []), ...Array.from({ length: 19000 }, (_, i) => fill(i, "b"))];
fs.writeFileSync(process.argv[2], JSON.stringify(l, null, 2));' "$work/valid.lock" "$lock"
measure "plan: schema-valid lock of $(( $(stat -c %s "$lock") / 1048576 )) MiB" node dist/cli.js --out "$work/out" plan "$r"

#!/bin/bash
# make upgrade-test: a release of the default recipe pinned to bookworm's older Xen and
# an older dom0 kernel ABI (the "from"), a release of the default recipe as it is (the
# "to"), then `xcpbuild upgrade-test` under each firmware: install from → upgrade → reboot
# → checks. Both releases and the from-install are kept in $WORK and reused by later runs
# (delete $WORK to start over). Prints the table; exit 0 only if every row passed.
set -euo pipefail

RECIPE=${1:-xcp-bookworm}
FIRMWARE=${FIRMWARE:-both}
WORK=${UPGRADE_WORK:-.upgrade-test}
# In bookworm main; the default recipe pins 4.17.7+13 from bookworm-security.
FROM_XEN=4.17.5+72-g01140da4e8-1
FROM_KERNEL='linux-image-6.1.0-50-amd64, version: 6.1.176-1'

xcp() { node dist/cli.js --out "$WORK/out" "$@"; }

# The default recipe with the older pins: every xen-* pin at FROM_XEN, the kernel at FROM_KERNEL.
from_recipe() {
  mkdir -p "$WORK/from/recipes"
  rm -rf "$WORK/from/sources" && cp -r sources "$WORK/from/sources"
  sed -E -e "s/(- \{ name: xen-[a-z0-9.-]+, version: )[^ ]+ \}/\1$FROM_XEN }/" \
    -e "s/- \{ name: linux-image-[0-9][^,]*, version: [^ ]+ \}/- { name: $FROM_KERNEL }/" \
    "recipes/$RECIPE.yaml" >"$WORK/from/recipes/$RECIPE.yaml"
  grep -q "$FROM_XEN" "$WORK/from/recipes/$RECIPE.yaml" || { echo "upgrade-test: the from recipe pins no Xen at $FROM_XEN" >&2; exit 1; }
  echo "$WORK/from/recipes/$RECIPE.yaml"
}

# A release built once: its directory is remembered in $WORK/<side>.release.
release() { # SIDE RECIPE
  local side=$1 recipe=$2 dir
  if [ -f "$WORK/$side.release" ] && dir=$(cat "$WORK/$side.release") && [ -f "$dir/release.json" ]; then
    echo "upgrade-test: reusing the $side release $dir" >&2
  else
    dir=$(xcp --json nightly "$recipe" --publish "$WORK/pub" --skip-boot-test | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).release))')
    echo "$dir" >"$WORK/$side.release"
  fi
  echo "$dir"
}

mkdir -p "$WORK"
from=$(release from "$(from_recipe)")
to=$(release to "$RECIPE")
xcp upgrade-test --from "$from" --to "$to" --firmware "$FIRMWARE"

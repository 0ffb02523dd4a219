#!/usr/bin/env bats
# strip_overlay_xattrs (templates/installer/overlay-xattrs.sh) on a real tree with
# trusted.* attributes (root only), names with spaces and escapes included.

setup() {
  . "$BATS_TEST_DIRNAME/../../templates/installer/overlay-xattrs.sh"
  tree=$(mktemp -d)
  mkdir "$tree/opaque dir" "$tree/plain"
  touch "$tree/a file" "$tree/plain/b"$'\t'"tab"
  ln -s /etc/shadow "$tree/link"
  setfattr -n trusted.overlay.origin -v 0x00fb "$tree/a file"
  setfattr -n trusted.overlay.impure -v y "$tree/plain"
  setfattr -n trusted.overlay.origin -v 0x00fb "$tree/plain/b"$'\t'"tab"
  setfattr -n trusted.overlay.opaque -v y "$tree/opaque dir"
  setfattr -n user.keep -v 1 "$tree/a file"
}

teardown() {
  rm -rf "$tree"
}

@test "overlayfs file handles and impure markers are removed" {
  strip_overlay_xattrs "$tree"
  run getfattr --absolute-names -R -P -h -m '^trusted\.overlay\.(origin|impure)' "$tree"
  [ "$status" -eq 0 ]
  [ -z "$output" ]
}

@test "the opaque marker and other attributes stay; links are not followed" {
  before=$(stat -c %Y /etc/shadow)
  strip_overlay_xattrs "$tree"
  [ "$(getfattr --only-values -n trusted.overlay.opaque "$tree/opaque dir")" = y ]
  [ "$(getfattr --only-values -n user.keep "$tree/a file")" = 1 ]
  [ "$(stat -c %Y /etc/shadow)" = "$before" ]
}

@test "a tree without attributes is left as it is" {
  empty=$(mktemp -d)
  touch "$empty/x"
  strip_overlay_xattrs "$empty"
  [ -z "$(getfattr -R -d -m - "$empty" 2>/dev/null)" ]
  rm -rf "$empty"
}

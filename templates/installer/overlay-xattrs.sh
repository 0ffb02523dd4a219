# Sourced by build-layer.sh (and its bats test): no side effects of its own.

# Overlayfs records build-host internals on what it copies up (trusted.overlay.origin and
# .impure hold file handles made of this host's inode numbers): removed, so the layer is
# the same on every builder. Only the opaque marker means something to the live system.
strip_overlay_xattrs() {
  local line file=
  getfattr --absolute-names --recursive --physical --no-dereference -m '^trusted\.overlay\.' "$1" |
    while IFS= read -r line; do
      case $line in
        '# file: '*) printf -v file '%b' "${line#\# file: }" ;;
        trusted.overlay.opaque | '') ;;
        trusted.overlay.*) setfattr --no-dereference -x "$line" "$file" ;;
      esac
    done
}

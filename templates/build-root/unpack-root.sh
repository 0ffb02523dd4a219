#!/bin/sh
# mmdebstrap setup hook of xcpbuild's clean build root: $1 is an empty directory; the
# pristine root (made once from the lock's build closure, kept in the tree cache like
# mock's root cache) is unpacked into it, so every build starts from the same clean root.
set -eu
tar --extract --file "$XCP_ROOT_TAR" --directory "$1" --numeric-owner --xattrs --xattrs-include='*'

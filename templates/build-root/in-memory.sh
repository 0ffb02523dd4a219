#!/bin/sh
# Runs mmdebstrap ("$@") with its temporary directory, where it makes the root,
# on a tmpfs: writing ~250 MB to disk cost most of a build's time,
# and the root is thrown away (or packed into a tar) afterwards. $XCP_RAM_DIR is an empty
# directory; the tmpfs exists only in this private mount namespace and goes with it.
set -eu
mount -t tmpfs -o mode=0755,size=4g xcpbuild-build-root "$XCP_RAM_DIR"
export TMPDIR="$XCP_RAM_DIR"
exec "$@"

#!/bin/sh
# mmdebstrap customize hook of xcpbuild's clean build root: $1 is the fresh root, made
# only from the lock's build closure. The build's work directory is bind-mounted at
# /build (the only part of the host the build sees) and /build/build.sh runs inside
# the root with a clean environment.
set -eu
root=$1
mkdir -p "$root/build"
mount --bind "$XCP_BUILD_WORK" "$root/build"
trap 'umount "$root/build"' EXIT
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/build LC_ALL=C.UTF-8 TZ=UTC \
  SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" /bin/sh -eu /build/build.sh

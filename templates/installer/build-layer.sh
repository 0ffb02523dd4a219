#!/bin/bash
# Builds the installer's layer over the target image. xcpbuild runs this in private
# mount and PID namespaces: every mount below vanishes with it, however it ends.
#   build-layer.sh IMAGE DEBS OVERLAY MASKED WORK OUT
# IMAGE: the target image (squashfs); DEBS: the lock's installer packages (checked
# copies); OVERLAY: the installer's own files; MASKED: units not to start in the live
# system; WORK: scratch space; OUT: where the layer and the boot files go.
set -euo pipefail

# shellcheck source=overlay-xattrs.sh
. "$(dirname "$0")/overlay-xattrs.sh"

image=$1 debs=$2 overlay=$3 masked=$4 work=$5 out=$6
: "${SOURCE_DATE_EPOCH:?}"
lower=$work/lower upper=$work/upper root=$work/root

mkdir -p "$work"
echo "I: unpacking the target image"
unsquashfs -q -n -d "$lower" "$image" >/dev/null
mkdir -p "$upper" "$work/overlay-work" "$root"
# Relative to $work: overlayfs options split on commas and colons, which a cache path may hold.
(cd "$work" && mount -t overlay overlay -o lowerdir=lower,upperdir=upper,workdir=overlay-work root)
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs tmpfs "$root/run"
mount -t tmpfs tmpfs "$root/tmp"

echo "I: installing the installer packages over the image"
# No service starts while packages are configured in the chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
mkdir "$root/tmp/debs"
cp "$debs"/*.deb "$root/tmp/debs/"
chroot "$root" env SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" DEBIAN_FRONTEND=noninteractive \
  sh -c 'dpkg --install --force-unsafe-io /tmp/debs/*.deb'
rm -f "$root/usr/sbin/policy-rc.d"

echo "I: adding the installer"
cp -a "$overlay/." "$root/"
# The live system is the target image: its services (libvirt, Xen, Open vSwitch, iSCSI,
# multipath, SSH, …) must not start there, and multipathd must not claim the disks.
chroot "$root" systemctl mask --quiet $(grep -v '^#' "$masked")

echo "I: collecting the boot files"
kernel=$(cd "$root/boot" && ls vmlinuz-* | head -n1)
cp "$root/boot/$kernel" "$out/vmlinuz"
cp "$root/boot/initrd.img-${kernel#vmlinuz-}" "$out/initrd.img"
mkdir "$out/isolinux"
for f in ISOLINUX/isolinux.bin ISOLINUX/isohdpfx.bin syslinux/modules/bios/ldlinux.c32 syslinux/modules/bios/libcom32.c32 \
  syslinux/modules/bios/libutil.c32 syslinux/modules/bios/menu.c32; do
  cp "$root/usr/lib/$f" "$out/isolinux/"
done
cp -r "$root/usr/lib/grub/x86_64-efi" "$out/grub-x86_64-efi"

# A process the package scripts left (the PID namespace ends it with us) may still hold a mount: detach lazily then.
umount -R "$root" || umount -lR "$root"
# Logs and backups of this build carry wall-clock times; the live system needs none of them.
rm -rf "$upper/boot" "$upper/var/log" "$upper/var/cache/ldconfig/aux-cache" "$upper/var/lib/dpkg/status-old" \
  "$upper/var/lib/dpkg/diversions-old" "$upper/var/cache/debconf/"*-old "$upper/tmp" "$upper/run"
strip_overlay_xattrs "$upper"
echo "I: compressing the layer"
# With SOURCE_DATE_EPOCH, mksquashfs sets the creation time to it and clamps every file time.
mksquashfs "$upper" "$out/installer.squashfs" -comp zstd -Xcompression-level 15 -noappend -no-progress -quiet

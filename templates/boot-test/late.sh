#!/bin/sh
# Late command of the boot test: installs the check service into the target, and the
# test-only servers (from the lock's boot-test closure on this volume). The checks
# themselves stay on the OEMDRV volume, which the test attaches again for the first
# boot, so a test run can change them without reinstalling.
set -e
T=${TARGET:-/target}
install -m 0755 /run/oemdrv/run-checks.sh "$T/usr/local/sbin/xcp-boot-check"
install -m 0644 /run/oemdrv/xcp-boot-check.service "$T/etc/systemd/system/xcp-boot-check.service"
ln -sf /etc/systemd/system/xcp-boot-check.service "$T/etc/systemd/system/multi-user.target.wants/xcp-boot-check.service"
# Under QEMU TCG the CPU Xen reports lacks VME and SEP, and libvirt's Xen driver finds no CPU
# model for it; a minimal model makes libvirtd start. Test images only.
install -m 0644 /run/oemdrv/x86_xcp-tcg.xml "$T/usr/share/libvirt/cpu_map/x86_xcp-tcg.xml"
sed -i "s|<include filename='x86_qemu64.xml'/>|&\n    <include filename='x86_xcp-tcg.xml'/>|" "$T/usr/share/libvirt/cpu_map/index.xml"
# Guests' consoles are logged (/var/log/xen/console/guest-<name>.log), so the checks can see them boot.
# xenconsoled does not make its log directory.
mkdir -p "$T/var/log/xen/console"
echo 'XENCONSOLED_ARGS="--log=guest --log-dir=/var/log/xen/console"' >>"$T/etc/default/xen"
# NFS and iSCSI servers for dom0 to use on its own loopback (test-only, never in the image).
# busybox's initramfs hook would remake the initramfs (20 minutes under TCG) for nothing
# the test needs: update_initramfs=no while they are installed.
if [ -d /run/oemdrv/test-debs ]; then
  mkdir -p "$T/tmp/xcp-test-debs"
  cp /run/oemdrv/test-debs/*.deb "$T/tmp/xcp-test-debs/"
  conf=$T/etc/initramfs-tools/update-initramfs.conf
  cp -p "$conf" "$conf.xcp-boot-test"
  sed -i 's/^update_initramfs=.*/update_initramfs=no/' "$conf"
  chroot "$T" sh -c 'DEBIAN_FRONTEND=noninteractive dpkg --install --force-unsafe-io /tmp/xcp-test-debs/*.deb'
  mv "$conf.xcp-boot-test" "$conf"
  rm -rf "$T/tmp/xcp-test-debs"
fi

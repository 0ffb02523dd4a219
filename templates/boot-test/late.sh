#!/bin/sh
# Late command of the boot test: installs the check service into the target. The
# checks themselves stay on the OEMDRV volume, which the test attaches again for the
# first boot, so a test run can change them without reinstalling.
set -e
T=${TARGET:-/target}
install -m 0755 /run/oemdrv/run-checks.sh "$T/usr/local/sbin/xcp-boot-check"
install -m 0644 /run/oemdrv/xcp-boot-check.service "$T/etc/systemd/system/xcp-boot-check.service"
ln -sf /etc/systemd/system/xcp-boot-check.service "$T/etc/systemd/system/multi-user.target.wants/xcp-boot-check.service"
# Under QEMU TCG the CPU Xen reports lacks VME and SEP, and libvirt's Xen driver finds no CPU
# model for it; a minimal model makes libvirtd start. Test images only.
install -m 0644 /run/oemdrv/x86_xcp-tcg.xml "$T/usr/share/libvirt/cpu_map/x86_xcp-tcg.xml"
sed -i "s|<include filename='x86_qemu64.xml'/>|&\n    <include filename='x86_xcp-tcg.xml'/>|" "$T/usr/share/libvirt/cpu_map/index.xml"

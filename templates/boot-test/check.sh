#!/bin/bash
# Runs inside dom0 of the installed appliance at first boot; prints one machine-readable
# line per check (XCP_CHECK name=… rc=… seconds=… detail=…) and powers off. The rows are
# the Kronos feature table: Xen and the toolstacks, PV and PVH guests, guest networking
# on the host bridge (Linux bridge or Open vSwitch), NFS and iSCSI storage, LVM-backed
# guest disks; then the appliance's own promises (pinned versions, no readable secrets).
exec > >(tee /dev/kmsg) 2>&1
EXPECT=${1:-/run/oemdrv/expect.txt}
# shellcheck source=check-lib.sh
. "$(dirname "$0")/check-lib.sh"
xen_version=$(want xen)
vg=$(want vg)
backend=$(want backend)
K=$(ls /boot/vmlinuz-* | head -n1)

xl_info() {
  local v
  v=$(xl info | awk -F': *' '/^xen_major/ {M=$2} /^xen_minor/ {m=$2} /^xen_extra/ {e=$2} END {print M "." m e}')
  [ -n "$v" ] || return 1
  echo "xl info: xen $v; expected ${xen_version}"
  case "$xen_version" in "$v"*|"${v%-pre}"*) return 0 ;; esac
  return 1
}
xl_list() { xl list | awk '$1=="Domain-0" {found=1; print} END {exit !found}' | grep 'r'; }
virsh_list() { timeout 120 bash -c 'until virsh -c xen:///system list; do sleep 5; done'; }
ovs_show() { timeout 60 ovs-vsctl --version | head -n1; timeout 60 ovs-vsctl show | grep -E 'Bridge|ovs_version'; }
vg_exists() { vgs --noheadings "$vg"; }

pv_guest() {
  guest_initrd || { echo "cannot make the guests' initramfs"; return 1; }
  lvcreate -q -y -L 64M -n xcp-test-disk "$vg" >/dev/null || return 1
  guest_cfg xcp-pv pv "vif = [ 'mac=00:16:3e:00:00:01' ]" "disk = [ 'phy:/dev/$vg/xcp-test-disk,xvda,w' ]" >/run/xcp-pv.cfg
  xl_create /run/xcp-pv.cfg || return 1
  local ready
  ready=$(guest_ready xcp-pv 180) || { echo "the PV guest did not come up; console: $(console_tail xcp-pv 8)"; return 1; }
  echo "PV guest $(xl domid xcp-pv) booted: $ready"
}
guest_network() {
  local domid vif
  domid=$(xl domid xcp-pv) || { echo "no PV guest"; return 1; }
  vif=vif$domid.0
  if [ "$backend" = openvswitch ]; then
    ovs-vsctl list-ports xenbr0 | grep -qx "$vif" || { echo "$vif is not a port of the Open vSwitch bridge xenbr0: $(ovs-vsctl list-ports xenbr0 | tr '\n' ' ')"; return 1; }
  else
    [ -e "/sys/class/net/xenbr0/brif/$vif" ] || { echo "$vif is not a port of the Linux bridge xenbr0: $(ls /sys/class/net/xenbr0/brif 2>&1 | tr '\n' ' ')"; return 1; }
  fi
  # xl network-list columns: Idx BE Mac handle state evt-ch tx/rx-ring-ref BE-path
  until_ok 60 sh -c '[ "$(timeout 20 xl network-list xcp-pv | awk "NR > 1 {print \$5}")" = 4 ]' || { echo "$vif on xenbr0 ($backend), but the guest's network front end did not connect"; return 1; }
  echo "$vif is a port of xenbr0 ($backend), joined with no manual configuration; the guest's eth0 is connected (state 4)"
}
lv_disk() {
  xl domid xcp-pv >/dev/null 2>&1 || { echo "no PV guest"; return 1; }
  # xl block-list columns: Vdev BE handle state evt-ch ring-ref BE-path
  until_ok 60 sh -c '[ "$(timeout 20 xl block-list xcp-pv | awk "NR > 1 {print \$4}")" = 4 ]' \
    || { echo "disk /dev/$vg/xcp-test-disk attached but not connected: $(timeout 20 xl block-list xcp-pv | tail -n1)"; return 1; }
  echo "LV /dev/$vg/xcp-test-disk is the guest's xvda, connected (state 4)"
}
# Not a check: whatever the PV rows found, the PV guest and its disk go before the next rows.
pv_cleanup() {
  xl domid xcp-pv >/dev/null 2>&1 && timeout 60 xl destroy xcp-pv
  lvremove -q -y "$vg/xcp-test-disk" >/dev/null 2>&1
  true
}
pvh_guest() {
  guest_cfg xcp-pvh pvh >/run/xcp-pvh.cfg
  xl_create /run/xcp-pvh.cfg || return 1
  local ready
  ready=$(guest_ready xcp-pvh 180) || { echo "the PVH guest did not come up; console: $(console_tail xcp-pvh 8)"; timeout 60 xl destroy xcp-pvh; return 1; }
  echo "PVH guest $(xl domid xcp-pvh) booted: $ready"
  timeout 60 xl destroy xcp-pvh
}
nfs() {
  mkdir -p /srv/xcp-nfs /mnt/xcp-nfs /etc/exports.d
  echo "/srv/xcp-nfs 127.0.0.1(rw,sync,no_subtree_check,no_root_squash)" >/etc/exports.d/xcp-boot-test.exports
  systemctl restart nfs-kernel-server || { echo "nfs-kernel-server did not start: $(systemctl status nfs-kernel-server 2>&1 | tail -n3)"; return 1; }
  exportfs -v | grep -q /srv/xcp-nfs || { echo "not exported: $(exportfs -v 2>&1)"; return 1; }
  until_ok 60 timeout 30 mount -t nfs 127.0.0.1:/srv/xcp-nfs /mnt/xcp-nfs || return 1
  echo "written over NFS" >/mnt/xcp-nfs/probe && sync
  [ "$(cat /srv/xcp-nfs/probe)" = "written over NFS" ] || { umount /mnt/xcp-nfs; return 1; }
  echo "dom0 mounted 127.0.0.1:/srv/xcp-nfs ($(findmnt -n -o FSTYPE /mnt/xcp-nfs)), wrote and read back a file"
  umount /mnt/xcp-nfs
}
iscsi() {
  local iqn=iqn.2026-11.org.xcpbuild:boot-test dev
  lvcreate -q -y -L 32M -n xcp-iscsi "$vg" >/dev/null || return 1
  systemctl start tgt || return 1
  until_ok 30 tgtadm --lld iscsi --mode target --op show || return 1
  tgtadm --lld iscsi --mode target --op new --tid 1 -T "$iqn" || return 1
  tgtadm --lld iscsi --mode logicalunit --op new --tid 1 --lun 1 -b "/dev/$vg/xcp-iscsi" || return 1
  tgtadm --lld iscsi --mode target --op bind --tid 1 -I 127.0.0.1 || return 1
  modprobe iscsi_tcp
  timeout 60 iscsiadm -m discovery -t sendtargets -p 127.0.0.1 | grep -q "$iqn" || { echo "discovery found no $iqn"; return 1; }
  timeout 60 iscsiadm -m node -T "$iqn" -p 127.0.0.1 --login >/dev/null || return 1
  until_ok 30 sh -c "ls /dev/disk/by-path/*$iqn-lun-1" || { timeout 60 iscsiadm -m node -T "$iqn" -p 127.0.0.1 --logout; return 1; }
  dev=$(readlink -f /dev/disk/by-path/*"$iqn"-lun-1)
  echo "dom0 logged in to $iqn on 127.0.0.1: $dev, $(blockdev --getsize64 "$dev") bytes"
  # Nothing was written: write-through spares the logout the SYNCHRONIZE CACHE that once never came back under TCG.
  for t in /sys/block/"${dev#/dev/}"/device/scsi_disk/*/cache_type; do echo "write through" >"$t"; done 2>/dev/null
  timeout 60 iscsiadm -m node -T "$iqn" -p 127.0.0.1 --logout >/dev/null
}
extra_packages() {
  local p list
  list=$(want extra)
  [ -n "$list" ] || { echo "none asked for"; return 0; }
  for p in $list; do dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || { echo "$p is not installed"; return 1; }; done
  echo "$list installed from the medium's signed repository (pkgsel/include)"
}
installer_log() {
  local f
  for f in /var/log/xcp-installer.log /var/log/xcp-installer.answers; do
    [ -s "$f" ] || { echo "missing or empty: $f"; return 1; }
    [ "$(stat -c %a "$f")" = 600 ] || { echo "$f has mode $(stat -c %a "$f"), expected 600"; return 1; }
  done
  grep -q 'passwd/root-password-crypted password <redacted>' /var/log/xcp-installer.answers || { echo "the kept answer file still holds the password hash"; return 1; }
  echo "xcp-installer.log $(wc -l </var/log/xcp-installer.log) lines, mode 600; answers kept with the hash redacted, mode 600"
}
secrets() {
  local hash f bad=""
  hash=$(want hash)
  [ -n "$hash" ] || { echo "no hash to look for"; return 1; }
  while IFS= read -r f; do
    case $f in /etc/shadow | /etc/shadow-) continue ;; esac
    # A file that holds the hash is a leak if anyone but root can read it.
    if [ "$(stat -c %U "$f")" != root ] || [ -n "$(find "$f" -maxdepth 0 \( -perm -o=r -o \( -perm -g=r ! -group root \) \))" ]; then
      bad="$bad $f($(stat -c '%a %U:%G' "$f"))"
    fi
  done < <(grep -rlsF -- "$hash" /etc /var /root /home /boot /srv /opt /usr/local /tmp 2>/dev/null)
  [ -z "$bad" ] || { echo "readable by non-root and holding the password hash:$bad"; return 1; }
  echo "the password hash is only in /etc/shadow ($(stat -c '%a %U:%G' /etc/shadow)) and root-only files"
}

echo "XCP_CHECKS_BEGIN"
check xl-info xl_info
check xl-list xl_list
check virsh-list virsh_list
check ovs-vsctl ovs_show
check vm-volume-group vg_exists
check pv-guest pv_guest
check guest-network guest_network
check lv-disk lv_disk
pv_cleanup
check pvh-guest pvh_guest
check nfs nfs
check iscsi iscsi
check dpkg-versions dpkg_versions
check extra-packages extra_packages
check installer-log installer_log
check secrets secrets
echo "XCP_CHECKS_DONE"
sleep 2
systemctl poweroff

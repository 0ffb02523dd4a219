#!/bin/bash
# The upgrade test inside dom0 of an installed appliance (run from the OEMDRV volume as
# check.sh, at each boot). First boot: a PV guest with an LV disk and a vif is defined and
# set to start with the host, the host check runs, then the host upgrades from the signed
# channel repository on the XCPUPDATE medium and reboots. Second boot: the new Xen and
# kernel must be running, GRUB must still boot Xen by default with the old kernel as a
# fallback, every pin must be the new lock's, the guest must be back, and the host check
# must pass. One XCP_CHECK line per row, as the boot test prints them.
exec > >(tee /dev/kmsg) 2>&1
EXPECT=${1:-/run/oemdrv/expect.txt}
# shellcheck source=../boot-test/check-lib.sh
. "$(dirname "$0")/check-lib.sh"
STATE=/var/lib/xcp-upgrade-test
GUEST=xcp-upgrade-pv
vg=$(want vg)
backend=$(want backend)
channel=$(want channel)
keyring=$(want keyring)
K=$(ls /boot/vmlinuz-* | head -n1)
# The guest keeps its own copy of the kernel it was defined with: the host's may go in an upgrade.
GUEST_KERNEL=$STATE/$(basename "$K")
GUEST_INITRD=$STATE/initrd

# The medium's channel as the only apt source, checked against the key the host already trusts.
medium_source() {
  local dev
  until_ok 30 blkid -c /dev/null -L XCPUPDATE >/dev/null || { echo "no XCPUPDATE medium"; return 1; }
  dev=$(blkid -c /dev/null -L XCPUPDATE)
  mkdir -p /run/xcp-update /run/xcp-update-sources
  mountpoint -q /run/xcp-update || mount -o ro "$dev" /run/xcp-update || return 1
  printf 'Types: deb\nURIs: copy:///run/xcp-update/\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/%s\n' "$channel" "$keyring" >/run/xcp-update-sources/update.sources
}
apt_medium() {
  DEBIAN_FRONTEND=noninteractive apt-get -q -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=/run/xcp-update-sources "$@" </dev/null
}
host_check() { # EXPECTED-EXIT-CODES…
  local out rc
  out=$(XCP_SOURCES_DIR=/run/xcp-update-sources xcp-host-info --check-update 2>&1); rc=$?
  echo "exit $rc: $(printf '%s' "$out" | grep -E '^(WARN|FAIL)|PASS,' | tr '\n' ';')"
  for want_rc in "$@"; do [ "$rc" = "$want_rc" ] && return 0; done
  return 1
}

define_guest() {
  mkdir -p "$STATE"
  cp "$K" "$GUEST_KERNEL"
  guest_initrd || { echo "cannot make the guest's initramfs"; return 1; }
  lvcreate -q -y -L 64M -n xcp-upgrade-disk "$vg" >/dev/null || return 1
  mkdir -p /etc/xen/auto
  guest_cfg "$GUEST" pv "vif = [ 'mac=00:16:3e:00:00:02' ]" "disk = [ 'phy:/dev/$vg/xcp-upgrade-disk,xvda,w' ]" >/etc/xen/auto/$GUEST.cfg
  # Shut down and started again with the host, not saved and restored: the guest must come back from its definition.
  sed -i 's/^XENDOMAINS_SAVE=.*/XENDOMAINS_SAVE=""/' /etc/default/xendomains
  xl_create /etc/xen/auto/$GUEST.cfg || return 1
  local ready
  ready=$(guest_ready "$GUEST" 180) || { echo "the PV guest did not come up; console: $(console_tail "$GUEST" 8)"; return 1; }
  echo "PV guest $GUEST (LV /dev/$vg/xcp-upgrade-disk, a vif on xenbr0) running and set to start with the host: $ready"
}

upgrade() {
  uname -r >"$STATE/previous-kernel"
  # Under TCG an initramfs with every module takes ~20 minutes to make; the new kernel's is
  # made with the modules this host uses (the installer's driver-policy dep). Test hosts only.
  echo MODULES=dep >/etc/initramfs-tools/conf.d/xcp-upgrade-test
  apt_medium update >"$STATE/apt-update.log" 2>&1 || { echo "apt-get update from the medium failed: $(grep -E '^(E|W):' "$STATE/apt-update.log" | tr '\n' ' ')"; return 1; }
  if grep -qE '^(E|W):' "$STATE/apt-update.log"; then echo "apt-get update warned: $(grep -E '^(E|W):' "$STATE/apt-update.log" | tr '\n' ' ')"; return 1; fi
  local rc
  apt_medium -y full-upgrade >"$STATE/full-upgrade.log" 2>&1; rc=$?
  [ "$rc" = 0 ] || { echo "apt-get full-upgrade exit $rc: $(tail -n 5 "$STATE/full-upgrade.log" | tr '\n' ' ')"; return 1; }
  local moved
  moved=$(grep -c '^Unpacking ' "$STATE/full-upgrade.log")
  [ "$moved" -gt 0 ] || { echo "full-upgrade upgraded nothing: $(grep -E 'upgraded|^(E|W):' "$STATE/full-upgrade.log" | tr '\n' ' ')"; return 1; }
  if grep -q 'Configuration file .* ==> ' "$STATE/full-upgrade.log"; then echo "a conffile prompt: $(grep -A1 'Configuration file' "$STATE/full-upgrade.log" | tr '\n' ' ')"; return 1; fi
  local audit
  audit=$(dpkg --audit)
  [ -z "$audit" ] || { echo "dpkg --audit: $(printf '%s' "$audit" | tr '\n' ' ')"; return 1; }
  echo "full-upgrade exit 0 from the signed channel '$channel' on the medium: $moved packages unpacked, $(grep -c '^Setting up ' "$STATE/full-upgrade.log") set up, no conffile prompt, dpkg --audit empty"
}

new_xen() {
  local v kernel
  v=$(xl info | awk -F': *' '/^xen_major/ {M=$2} /^xen_minor/ {m=$2} /^xen_extra/ {e=$2} END {print M "." m e}')
  kernel=$(uname -r)
  echo "xl info: xen $v (lock $(want xen)); uname -r: $kernel (lock $(want kernel))"
  case "$(want xen)" in "$v"*) ;; *) return 1 ;; esac
  [ "$kernel" = "$(want kernel)" ]
}

# The entry GRUB boots by default: the literal `set default=` (an index or a title; the
# ones naming a variable are for next_entry and saved_entry) over the top-level entries.
grub_default_title() {
  local cfg=${1:-/boot/grub/grub.cfg} def
  def=$(sed -n 's/^ *set default="\{0,1\}\([^"$]*\)"\{0,1\} *$/\1/p' "$cfg" | head -n1)
  [ -n "$def" ] || def=0
  awk -v def="$def" -v q="'" '
    /^(menuentry|submenu) / {
      title = substr($0, index($0, q) + 1); title = substr(title, 1, index(title, q) - 1)
      if (def ~ /^[0-9]+$/ ? n == def + 0 : title == def) { print title; exit }
      n++
    }' "$cfg"
}
grub_default() {
  local title
  title=$(grub_default_title)
  echo "default entry: ${title:-none}"
  case $title in *"Xen hypervisor"*) return 0 ;; esac
  return 1
}

fallback_kernel() {
  local old
  old=$(cat "$STATE/previous-kernel") || return 1
  if [ "$old" = "$(uname -r)" ]; then
    echo "the kernel did not change ($old): nothing to fall back to"
    [ "$(want kernel-moves)" = no ]
    return
  fi
  [ -e "/boot/vmlinuz-$old" ] || { echo "/boot/vmlinuz-$old is gone"; return 1; }
  grep -qE "^\s*(multiboot2|module2|linux)\s+/(boot/)?vmlinuz-$old " /boot/grub/grub.cfg || { echo "no GRUB entry boots $old"; return 1; }
  echo "$old still installed, with $(grep -cE "vmlinuz-$old " /boot/grub/grub.cfg) GRUB entries (under Xen and alone)"
}

guest_survives() {
  xl domid "$GUEST" >/dev/null 2>&1 || until_ok 120 xl domid "$GUEST" || { echo "$GUEST is not running: $(xl list | tr '\n' ' ')"; return 1; }
  local ready
  ready=$(guest_ready "$GUEST" 180) || { echo "$GUEST did not boot again; console: $(console_tail "$GUEST" 8)"; return 1; }
  until_ok 60 sh -c '[ "$(timeout 20 xl block-list '"$GUEST"' | awk "NR > 1 {print \$4}")" = 4 ]' || { echo "its LV disk is not connected"; return 1; }
  until_ok 60 sh -c '[ "$(timeout 20 xl network-list '"$GUEST"' | awk "NR > 1 {print \$5}")" = 4 ]' || { echo "its vif is not connected"; return 1; }
  echo "$GUEST started with the host after the reboot ($backend), LV disk and vif connected (state 4): $ready"
}

before_upgrade() {
  echo "XCP_CHECKS_BEGIN phase=before"
  check guest-defined define_guest
  medium_source || echo "XCP_CHECK name=upgrade rc=1 seconds=0ms detail=the update medium cannot be used"
  apt_medium update >/dev/null 2>&1
  # Before: the new release's Xen and kernel are pending, so a reboot is announced (WARN, exit 1).
  check host-check-before host_check 1
  # Unpacking a hypervisor and a kernel and making its initramfs take minutes under TCG.
  CHECK_LIMIT=1800 check upgrade upgrade
  # The guest's console log is emptied, so the second boot's guest-ready line is its own.
  : >"/var/log/xen/console/guest-$GUEST.log"
  touch "$STATE/upgraded"
  echo "XCP_UPGRADE_REBOOT"
  sleep 2
  systemctl reboot
}

after_upgrade() {
  echo "XCP_CHECKS_BEGIN phase=after"
  medium_source >/dev/null
  check reboot-into-new-xen new_xen
  check grub-default grub_default
  check fallback-kernel fallback_kernel
  check pins dpkg_versions
  check guest-survives guest_survives
  apt_medium update >/dev/null 2>&1
  check host-check-after host_check 0
  echo "XCP_CHECKS_DONE"
  sleep 2
  systemctl poweroff
}

if [ -e "$STATE/upgraded" ]; then after_upgrade; else before_upgrade; fi

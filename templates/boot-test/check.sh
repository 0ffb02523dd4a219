#!/bin/bash
# Runs inside dom0 of the installed appliance; prints one machine-readable line per
# check (XCP_CHECK name=… rc=… seconds=… detail=…) and powers off.
exec > >(tee /dev/kmsg) 2>&1
EXPECT=${1:-/run/oemdrv/expect.txt}
xen_version=$(awk '$1=="xen" {print $2}' "$EXPECT")
vg=$(awk '$1=="vg" {print $2}' "$EXPECT")

check() {
  local name=$1; shift
  local start end rc detail
  start=$(date +%s%N)
  detail=$("$@" 2>&1); rc=$?
  end=$(date +%s%N)
  detail=$(echo "$detail" | tr '\n' ' ' | cut -c1-160)
  echo "XCP_CHECK name=$name rc=$rc seconds=$(( (end - start) / 1000000 ))ms detail=$detail"
}

xl_info() {
  local v
  v=$(xl info | awk -F': *' '/^xen_major/ {M=$2} /^xen_minor/ {m=$2} /^xen_extra/ {e=$2} END {print M "." m e}')
  [ -n "$v" ] || return 1
  echo "xl info: xen $v; expected ${xen_version}"
  case "$xen_version" in "$v"*|"${v%-pre}"*) return 0 ;; esac
  return 1
}
xl_list() { xl list | awk '$1=="Domain-0" {found=1; print} END {exit !found}' | grep -q 'r'; xl list; }
virsh_list() { timeout 120 bash -c 'until virsh -c xen:///system list; do sleep 5; done'; }
ovs_show() { ovs-vsctl show; }
vg_exists() { vgs --noheadings "$vg"; }
xl_create() {
  local k i
  k=$(ls /boot/vmlinuz-* | head -n1); i=$(ls /boot/initrd.img-* | head -n1)
  cat >/run/xcp-test-guest.cfg <<CFG
name = "xcp-test-guest"
type = "pv"
kernel = "$k"
ramdisk = "$i"
extra = "console=hvc0 panic=-1"
memory = 256
vcpus = 1
on_crash = "destroy"
CFG
  xl create /run/xcp-test-guest.cfg || return 1
  sleep 5
  xl list xcp-test-guest || return 1
  xl destroy xcp-test-guest
}
dpkg_versions() {
  local name want have bad=0
  while read -r kind name want; do
    [ "$kind" = pkg ] || continue
    have=$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null)
    if [ "$have" != "$want" ]; then echo "$name: installed '${have:-none}', lock $want"; bad=1; fi
  done <"$EXPECT"
  [ $bad = 0 ] && echo "all $(grep -c '^pkg ' "$EXPECT") pinned packages at their locked versions"
  return $bad
}
installer_logs() {
  local f out=""
  for f in /var/log/xcp-installer.log /var/log/dpkg.log /var/log/apt/history.log; do
    [ -s "$f" ] || { echo "missing or empty: $f"; return 1; }
    out="$out$f $(wc -l <"$f") lines; "
  done
  echo "$out"
}

echo "XCP_CHECKS_BEGIN"
check xl-info xl_info
check xl-list xl_list
check virsh-list virsh_list
check ovs-vsctl ovs_show
check vm-volume-group vg_exists
check xl-create xl_create
check dpkg-versions dpkg_versions
check installer-logs installer_logs
echo "XCP_CHECKS_DONE"
sleep 2
systemctl poweroff

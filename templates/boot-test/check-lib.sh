#!/bin/bash
# What the boot test's and the upgrade test's checks share (sourced from the OEMDRV
# volume by check.sh and upgrade.sh): bounded checks printed as XCP_CHECK lines, the
# expectations file, and tiny PV test guests made from dom0's own kernel and busybox.
want() { awk -v k="$1" '$1==k {sub($1" ", ""); print}' "$EXPECT"; }

# Runs a check with a time bound: a tool that never returns (an iSCSI logout, say) fails its
# own row, and the rows after it still run, instead of the whole boot test waiting for its timeout.
bounded() {
  local limit=$1; shift
  local out pid waited=0 rc
  out=$(mktemp)
  "$@" >"$out" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$waited" -ge "$limit" ]; then
      pkill -KILL -P "$pid" 2>/dev/null
      kill -KILL "$pid" 2>/dev/null
      cat "$out"
      echo "timed out after ${limit}s"
      rm -f "$out"
      return 124
    fi
    sleep 1
    waited=$((waited + 1))
  done
  wait "$pid"
  rc=$?
  cat "$out"
  rm -f "$out"
  return $rc
}

check() {
  local name=$1; shift
  local start end rc detail
  start=$(date +%s%N)
  detail=$(bounded "${CHECK_LIMIT:-300}" "$@" 2>&1); rc=$?
  end=$(date +%s%N)
  detail=$(printf '%s' "$detail" | tr '\t\n' '  ' | tr -s ' ')
  echo "XCP_CHECK name=$name rc=$rc seconds=$(( (end - start) / 1000000 ))ms detail=$detail"
}

# Waits up to $1 seconds for a command to succeed.
until_ok() { local t=$1; shift; local i; for ((i = 0; i < t; i += 2)); do "$@" >/dev/null 2>&1 && return 0; sleep 2; done; "$@"; }

# A tiny initramfs for the test guests: busybox (from the test closure), the Xen front
# ends of dom0's kernel, and an init that loads them, says so, and waits.
# The guests boot $GUEST_KERNEL (default: dom0's first, $K) with $GUEST_INITRD.
guest_initrd() {
  local d=/run/xcp-guest-initrd kver m kernel=${GUEST_KERNEL:-$K}
  kver=${kernel##*/vmlinuz-}
  rm -rf "$d" && mkdir -p "$d/bin" "$d/dev" "$d/proc" "$d/sys" "$d/modules"
  cp /bin/busybox "$d/bin/busybox" || return 1
  for m in xen-blkfront xen-netfront; do cp "$(modinfo -k "$kver" -n "$m")" "$d/modules/" || return 1; done
  cat >"$d/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
for m in /modules/*.ko; do /bin/busybox insmod "$m"; done
echo "XCP_GUEST_READY kernel $(/bin/busybox uname -r), $(/bin/busybox ls /sys/class/block | /bin/busybox grep -c xvd) xvd disk(s), $(/bin/busybox ls /sys/class/net | /bin/busybox grep -c eth) eth interface(s)"
while :; do /bin/busybox sleep 3600; done
INIT
  chmod 755 "$d/init"
  (cd "$d" && find . | cpio -o -H newc --quiet | gzip -1) >"${GUEST_INITRD:-/run/xcp-guest.initrd}"
}

guest_cfg() { # name type extra-lines…
  local name=$1 type=$2; shift 2
  printf 'name = "%s"\ntype = "%s"\nkernel = "%s"\nramdisk = "%s"\n' "$name" "$type" "${GUEST_KERNEL:-$K}" "${GUEST_INITRD:-/run/xcp-guest.initrd}"
  printf 'extra = "console=hvc0 rdinit=/init"\nmemory = 128\nvcpus = 1\non_crash = "preserve"\non_reboot = "destroy"\n'
  printf '%s\n' "$@"
}
# Waits for a guest's init to report on its console (logged by xenconsoled, see late.sh).
guest_ready() { until_ok "$2" grep -q XCP_GUEST_READY "/var/log/xen/console/guest-$1.log" && grep -o 'XCP_GUEST_READY.*' "/var/log/xen/console/guest-$1.log" | head -n1 | cut -d' ' -f2-; }
console_tail() { tail -n "${2:-5}" "/var/log/xen/console/guest-$1.log" 2>/dev/null | tr -d '\r' | tr '\n' '|'; }

# xl's chatter ("Parsing config from …") only when it failed. Its output goes to a file,
# not a pipe: xl daemonizes, and with its stdout on a pipe it segfaulted (in libgcc_s)
# after creating a PV guest, in 2 of 2 runs; with a file or /dev/null it never did.
xl_create() {
  local log=/run/xcp-xl-create-${1##*/}.log
  timeout 120 xl create "$1" >"$log" 2>&1 && return 0
  echo "xl create $1 failed (exit $?): $(tr '\n' ' ' <"$log") $(dmesg | grep -E 'xl\[[0-9]+\]: segfault' | tail -n1)"
  return 1
}


# Every `pkg NAME VERSION` line of the expectations is the installed version.
dpkg_versions() {
  local kind name want have bad=0
  while read -r kind name want; do
    [ "$kind" = pkg ] || continue
    have=$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null)
    if [ "$have" != "$want" ]; then echo "$name: installed '${have:-none}', lock $want"; bad=1; fi
  done <"$EXPECT"
  [ $bad = 0 ] && echo "all $(grep -c '^pkg ' "$EXPECT") pinned packages at their locked versions"
  return $bad
}

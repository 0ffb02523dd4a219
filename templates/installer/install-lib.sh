# The xcpbuild installer's steps that need no disk: what it writes into the installed
# system, and how it picks the target disk. Sourced by xcp-install; each function
# prints what it makes, so tests/shell/install-lib.bats runs them on their own.
# They read the answers from the ANSWER array (answers.sh) where a step depends on them.

# One shell word, single-quoted: for values written into files that are sourced later.
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# The value of NAME=value on a kernel command line (default: /proc/cmdline).
cmdline_param() {
  local p
  for p in $(cat "${2:-/proc/cmdline}"); do [[ $p == "$1="* ]] && { echo "${p#*=}"; return 0; }; done
  return 1
}

# The device of partition N of DISK: /dev/sda3, /dev/nvme0n1p3.
part_path() { case $1 in *[0-9]) echo "${1}p$2" ;; *) echo "$1$2" ;; esac; }

# The first writable disk of `lsblk -dpno NAME,TYPE,RO` output on stdin that is none of
# the devices given (the medium, the answer volume and the disks they are on).
pick_disk() {
  local d x skip
  while read -r d; do
    skip=0
    for x in "$@"; do if [ -n "$x" ] && [ "$d" = "$x" ]; then skip=1; fi; done
    if [ "$skip" = 0 ]; then echo "$d"; return 0; fi
  done < <(awk '$2=="disk" && $3=="0" {print $1}')
  return 0
}

# The GPT layout (sfdisk script): BIOS boot, ESP, root of ROOT_SIZE, the rest for VM storage.
partition_table() {
  cat <<PARTS
label: gpt
size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name="bios"
size=256MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"
size=${1:-8G}, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"
type=E6D6D379-F507-44C2-A23C-238F2A3DF928, name="vm-storage"
PARTS
}

# /etc/fstab for the root and ESP UUIDs. The ESP is nofail with a long device timeout:
# only boot-loader updates need it, and a slow boot (nested or emulated virtualization)
# must not stop in emergency mode because udev announced it after systemd's default 90 s.
fstab_for() {
  echo "UUID=$1 / ext4 errors=remount-ro 0 1"
  echo "UUID=$2 /boot/efi vfat umask=0077,nofail,x-systemd.device-timeout=300 0 1"
}

# /etc/hosts for HOSTNAME.
hosts_for() { printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$1"; }

# The address stanza of xenbr0: static from the netcfg answers, or DHCP.
xenbr0_address() {
  if [ "${ANSWER[xcp/network]:-dhcp}" = static ]; then
    echo "iface xenbr0 inet static"
    echo "    address ${ANSWER[netcfg/get_ipaddress]}"
    echo "    netmask ${ANSWER[netcfg/get_netmask]}"
    echo "    gateway ${ANSWER[netcfg/get_gateway]}"
    [ -n "${ANSWER[netcfg/get_nameservers]:-}" ] && echo "    dns-nameservers ${ANSWER[netcfg/get_nameservers]}"
  else
    echo "iface xenbr0 inet dhcp"
  fi
  return 0
}

# /etc/network/interfaces: NIC is a port of the BACKEND (bridge or openvswitch) bridge xenbr0, which guests' vifs join.
interfaces_for() {
  local nic=$1 backend=$2
  echo "# Written by the xcpbuild installer: $nic is a port of the $backend bridge xenbr0, which guests' vifs join."
  echo "auto lo"; echo "iface lo inet loopback"; echo
  if [ "$backend" = openvswitch ]; then
    echo "auto xenbr0"; echo "allow-ovs xenbr0"; xenbr0_address
    echo "    ovs_type OVSBridge"; echo "    ovs_ports $nic"; echo
    echo "allow-xenbr0 $nic"; echo "iface $nic inet manual"
    echo "    ovs_bridge xenbr0"; echo "    ovs_type OVSPort"
  else
    echo "iface $nic inet manual"; echo
    echo "auto xenbr0"; xenbr0_address
    echo "    bridge_ports $nic"; echo "    bridge_stp off"; echo "    bridge_fd 0"
  fi
}

# xl.conf (on stdin) with guests' vifs joining xenbr0 through the script of BACKEND.
xl_conf_for() {
  local backend=$1 script=vif-bridge
  [ "$backend" = openvswitch ] && script=vif-openvswitch
  sed -e '/^#\?vif\.default\.script=/d' -e '/^#\?vif\.default\.bridge=/d'
  printf '# Set by the xcpbuild installer (xcp/network-backend %s).\nvif.default.script="%s"\nvif.default.bridge="xenbr0"\n' "$backend" "$script"
}

# The medium's .sources file (on stdin) pointing at URL, and SUITE when given (a channel):
# where the installed system finds its updates.
sources_for() {
  awk -v url="$1" -v suite="${2:-}" '/^URIs: / {print "URIs: " url; next} /^Suites: / && suite != "" {print "Suites: " suite; next} {print}'
}

# The URL and suite an installed host follows: CHANNEL (from the answer file) at the
# medium's channels URL, else the recipe's own source (XCP_REPO_URL, XCP_SOURCE_SUITE).
host_source() {
  local channel=$1
  if [ -n "$channel" ]; then
    [ -n "${XCP_CHANNELS_URL:-}" ] || return 1
    echo "${XCP_CHANNELS_URL%/}/$channel/ $channel"
  else
    echo "$XCP_REPO_URL ${XCP_SOURCE_SUITE:-}"
  fi
}

# /etc/default/grub.d/xcp.cfg: Xen's and dom0's command lines (quoted), serial and VGA consoles.
grub_defaults_for() {
  cat <<GRUB
GRUB_TIMEOUT=3
GRUB_CMDLINE_XEN_DEFAULT=$(shq "$1")
GRUB_CMDLINE_LINUX_XEN_REPLACE_DEFAULT=$(shq "$2")
# The entries without Xen (rescue) talk to the serial port themselves; under Xen it is Xen's.
GRUB_CMDLINE_LINUX_DEFAULT="console=tty0 console=ttyS0,115200n8"
GRUB_TERMINAL="console serial"
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
GRUB
}

# The default entry of a grub.cfg if it is a Xen entry of that file; fails otherwise.
xen_default_entry() {
  local entry
  entry=$(sed -n 's/^ *set default="\(.*[Xx]en.*\)"$/\1/p' "$1" | head -n1)
  [ -n "$entry" ] && grep -qF "menuentry '$entry'" "$1" && echo "$entry"
}

# The packages that own the debconf SELECTIONS (lines "owner question type value"), once each.
selection_owners() { printf '%s\n' "$@" | awk 'NF {print $1}' | sort -u; }

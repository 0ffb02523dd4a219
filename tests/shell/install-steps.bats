#!/usr/bin/env bats
# The installer's steps that need no disk (templates/installer/install-lib.sh and
# answers.sh), run on their own: answer parsing, the disk pick, the partition table,
# fstab, hosts, network and GRUB configuration, the update source.

setup() {
  tpl="$BATS_TEST_DIRNAME/../../templates/installer"
  fixtures="$BATS_TEST_DIRNAME/../fixtures/answers"
  . "$tpl/answers.sh"
  . "$tpl/install-lib.sh"
  tmp=$(mktemp -d)
}

teardown() {
  rm -rf "$tmp"
}

@test "parse_answers fills the answers, keys and selections of a complete file, joining continued lines" {
  parse_answers "$fixtures/good.cfg"
  [ "${#ANSWER_ERRORS[@]}" -eq 0 ]
  [ "${ANSWER[xcp/target-disk]}" = /dev/sda ]
  [ "${ANSWER[netcfg/get_hostname]}" = xen01 ]
  [ "${#SSH_KEYS[@]}" -eq 1 ]
  [[ ${SSH_KEYS[0]} == "ssh-ed25519 "* ]]
  [ "${ANSWER[preseed/late_command]}" = "in-target systemctl enable ssh;      echo done" ]
  [ "${SELECTIONS[0]}" = "openssh-server openssh-server/permit-root-login boolean false" ]
}

@test "parse_answers and validate_answers report every error of a bad file with its line" {
  parse_answers "$fixtures/bad.cfg"
  validate_answers "$fixtures/bad.cfg" automated
  [ "${#ANSWER_ERRORS[@]}" -ge 3 ]
  printf '%s\n' "${ANSWER_ERRORS[@]}" >"$tmp/errors"
  run grep -Evc "^$fixtures/bad.cfg(:[0-9]+)?: " "$tmp/errors"
  [ "$output" = 0 ]
}

@test "a plain-text password is refused, never kept" {
  printf 'd-i passwd/root-password password secret\n' >"$tmp/a.cfg"
  parse_answers "$tmp/a.cfg"
  [[ ${ANSWER_ERRORS[0]} == *"plain-text passwords are not accepted"* ]]
  [ -z "${ANSWER[passwd/root-password]:-}" ]
}

@test "redact_answers keeps no password hash" {
  run redact_answers "$fixtures/good.cfg"
  [ "$status" -eq 0 ]
  [[ $output != *'$6$'* ]]
  [[ $output == *"<redacted>"* ]]
}

@test "cmdline_param reads one parameter of a kernel command line" {
  echo 'BOOT_IMAGE=/live/vmlinuz boot=live xcp.answers=/preseed/a.cfg quiet' >"$tmp/cmdline"
  [ "$(cmdline_param xcp.answers "$tmp/cmdline")" = /preseed/a.cfg ]
  run cmdline_param xcp.rescue "$tmp/cmdline"
  [ "$status" -eq 1 ]
}

@test "pick_disk takes the first writable disk that is not the medium or the answer volume" {
  lsblk_out=$'/dev/sr0 rom 1\n/dev/vda disk 0\n/dev/vdb disk 1\n/dev/vdc disk 0\n/dev/vdd disk 0'
  [ "$(pick_disk /dev/sr0 /dev/ <<<"$lsblk_out")" = /dev/vda ]
  [ "$(pick_disk /dev/sr0 /dev/vda <<<"$lsblk_out")" = /dev/vdc ]
  [ -z "$(pick_disk /dev/vda /dev/vdc /dev/vdd <<<"$lsblk_out")" ]
}

@test "part_path names partitions of sd, vd and nvme disks" {
  [ "$(part_path /dev/sda 3)" = /dev/sda3 ]
  [ "$(part_path /dev/vda 2)" = /dev/vda2 ]
  [ "$(part_path /dev/nvme0n1 4)" = /dev/nvme0n1p4 ]
}

@test "the partition table has BIOS boot, ESP, a root of the asked size and VM storage, and sfdisk accepts it" {
  run partition_table 10G
  [[ ${lines[0]} == "label: gpt" ]]
  [[ $output == *'name="bios"'* && $output == *'name="esp"'* && $output == *'size=10G'* && $output == *'name="vm-storage"'* ]]
  truncate -s 20G "$tmp/disk.img"
  partition_table 10G | sfdisk -q "$tmp/disk.img"
  [ "$(sfdisk -d "$tmp/disk.img" | grep -c '^'"$tmp"'/disk.img[0-9]')" -eq 4 ]
}

@test "fstab mounts the root and a nofail ESP by UUID" {
  run fstab_for 1111-root 2222-esp
  [ "${lines[0]}" = "UUID=1111-root / ext4 errors=remount-ro 0 1" ]
  [[ ${lines[1]} == "UUID=2222-esp /boot/efi vfat "*nofail* ]]
}

@test "hosts names the host on 127.0.1.1" {
  hosts_for xen01 | grep -qP '^127\.0\.1\.1\txen01$'
}

@test "a DHCP bridge: the NIC is a port of xenbr0, which gets the address" {
  declare -A ANSWER=()
  run interfaces_for eth0 bridge
  [[ $output == *"iface eth0 inet manual"* ]]
  [[ $output == *"bridge_ports eth0"* ]]
  [[ $output == *"iface xenbr0 inet dhcp"* ]]
  [[ $output != *ovs_* ]]
}

@test "a static Open vSwitch bridge carries the address, mask, gateway and DNS" {
  declare -A ANSWER=([xcp/network]=static [netcfg/get_ipaddress]=192.0.2.10 [netcfg/get_netmask]=255.255.255.0 [netcfg/get_gateway]=192.0.2.1 [netcfg/get_nameservers]=192.0.2.53)
  run interfaces_for ens3 openvswitch
  [[ $output == *"allow-ovs xenbr0"* && $output == *"ovs_ports ens3"* && $output == *"ovs_bridge xenbr0"* ]]
  [[ $output == *"iface xenbr0 inet static"* && $output == *"address 192.0.2.10"* && $output == *"gateway 192.0.2.1"* && $output == *"dns-nameservers 192.0.2.53"* ]]
}

@test "xl.conf gets exactly one vif script and bridge, the backend's" {
  printf '#vif.default.script="vif-bridge"\nautoballoon="off"\nvif.default.bridge="old"\n' >"$tmp/xl.conf"
  run xl_conf_for openvswitch <"$tmp/xl.conf"
  [ "$(grep -c '^vif.default.script=' <<<"$output")" -eq 1 ]
  [[ $output == *'vif.default.script="vif-openvswitch"'* && $output == *'vif.default.bridge="xenbr0"'* && $output == *'autoballoon="off"'* ]]
  [[ $output != *'"old"'* ]]
}

@test "the installed system's apt source points at the served repository" {
  printf 'Types: deb\nURIs: file:///cdrom/repo\nSuites: xcp\nSigned-By: /usr/share/keyrings/k.gpg\n' >"$tmp/r.sources"
  run sources_for http://xcp.example.org/repo <"$tmp/r.sources"
  [ "${lines[1]}" = "URIs: http://xcp.example.org/repo" ]
  [ "${lines[3]}" = "Signed-By: /usr/share/keyrings/k.gpg" ]
}

@test "GRUB's Xen and dom0 command lines are single shell words, whatever they hold" {
  grub_defaults_for "dom0_mem=2048M,max:2048M console=com1" "console=hvc0 it's" >"$tmp/xcp.cfg"
  ( . "$tmp/xcp.cfg"; [ "$GRUB_CMDLINE_XEN_DEFAULT" = "dom0_mem=2048M,max:2048M console=com1" ] && [ "$GRUB_CMDLINE_LINUX_XEN_REPLACE_DEFAULT" = "console=hvc0 it's" ] )
}

@test "the default GRUB entry must be a Xen entry of the file" {
  printf 'set default="Debian GNU/Linux, with Xen hypervisor"\nmenuentry '"'"'Debian GNU/Linux, with Xen hypervisor'"'"' {\n}\n' >"$tmp/xen.cfg"
  [ "$(xen_default_entry "$tmp/xen.cfg")" = "Debian GNU/Linux, with Xen hypervisor" ]
  printf 'set default="0"\nmenuentry '"'"'Debian GNU/Linux'"'"' {\n}\n' >"$tmp/plain.cfg"
  run xen_default_entry "$tmp/plain.cfg"
  [ "$status" -ne 0 ]
  printf 'set default="Debian GNU/Linux, with Xen hypervisor"\nmenuentry '"'"'Debian GNU/Linux'"'"' {\n}\n' >"$tmp/stale.cfg"
  run xen_default_entry "$tmp/stale.cfg"
  [ "$status" -ne 0 ]
}

@test "each package that owns debconf selections is named once" {
  [ "$(selection_owners 'openssh-server q1 boolean false' 'tzdata q2 select x' 'openssh-server q3 string y' | paste -sd ' ')" = "openssh-server tzdata" ]
}

@test "an update channel rewrites the source's URL and suite" {
  printf 'Types: deb\nURIs: file:///cdrom/repo\nSuites: bookworm\nSigned-By: /usr/share/keyrings/k.gpg\n' >"$tmp/r.sources"
  XCP_CHANNELS_URL=http://xcp.example.org/xcp/channels XCP_REPO_URL=http://xcp.example.org/repo XCP_SOURCE_SUITE=bookworm
  run host_source nightly
  [ "$output" = "http://xcp.example.org/xcp/channels/nightly/ nightly" ]
  run sources_for $output <"$tmp/r.sources"
  [ "${lines[1]}" = "URIs: http://xcp.example.org/xcp/channels/nightly/" ]
  [ "${lines[2]}" = "Suites: nightly" ]
  run host_source ""
  [ "$output" = "http://xcp.example.org/repo bookworm" ]
}

@test "a channel without a channels URL is refused" {
  XCP_CHANNELS_URL= XCP_REPO_URL=http://xcp.example.org/repo
  run host_source stable
  [ "$status" -ne 0 ]
}

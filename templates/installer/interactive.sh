#!/bin/bash
# The text UI of the installer: asks the same questions as the answer file.
# whiptail draws on stdout and prints the answer on stderr: draw on the console (fd 3), capture the answer.
ask() { whiptail --backtitle "xcpbuild installer: $XCP_RECIPE $XCP_VERSION" "$@" 2>&1 >&3; }

ask_answers() {
  local disks=() d size
  while read -r d size; do disks+=("$d" "$size"); done < <(lsblk -dpno NAME,SIZE,TYPE,RO | awk '$3=="disk" && $4=="0" {print $1, $2}')
  ANSWER[xcp/target-disk]=$(ask --title "Target disk" --menu "All data on the chosen disk will be erased." 16 60 6 "${disks[@]}") || fail "cancelled"
  ANSWER[netcfg/get_hostname]=$(ask --inputbox "Host name" 8 60 xcp-host) || fail "cancelled"
  ANSWER[time/zone]=$(ask --inputbox "Time zone (e.g. UTC, Europe/Berlin)" 8 60 UTC) || fail "cancelled"
  if ask --yesno "Configure the network bridge xenbr0 with DHCP?" 8 60; then
    ANSWER[xcp/network]=dhcp
  else
    ANSWER[xcp/network]=static
    ANSWER[netcfg/get_ipaddress]=$(ask --inputbox "IPv4 address" 8 60)
    ANSWER[netcfg/get_netmask]=$(ask --inputbox "Netmask" 8 60 255.255.255.0)
    ANSWER[netcfg/get_gateway]=$(ask --inputbox "Gateway" 8 60)
    ANSWER[netcfg/get_nameservers]=$(ask --inputbox "Name servers" 8 60)
  fi
  local key p1 p2
  key=$(ask --inputbox "SSH public key for root (optional)" 8 78) || true
  [ -n "$key" ] && SSH_KEYS+=("$key")
  while :; do
    p1=$(ask --passwordbox "Root password (there is no default)${key:+; empty for key-only login}" 8 60) || fail "cancelled"
    [ -z "$p1" ] && [ -n "$key" ] && break
    [ -n "$p1" ] || continue
    p2=$(ask --passwordbox "Root password again" 8 60) || fail "cancelled"
    [ "$p1" = "$p2" ] && { ROOT_PASSWORD_PLAIN=$p1; break; }
    ask --msgbox "The passwords differ." 8 40
  done
  ask --yesno "Erase ${ANSWER[xcp/target-disk]} and install?" 8 60 || fail "cancelled"
}

#!/usr/bin/env bats
# xcp-host-info --check-update (sources/xcp-host/libexec/check-update) against fixture
# apt state: a real InRelease signed by a throwaway key and checked by the real gpgv;
# xl, uname, dpkg-query, apt-get, apt-mark and df are shims on PATH with the host's answers.

setup() {
  lib="$BATS_TEST_DIRNAME/../../sources/xcp-host/libexec/check-update"
  tmp=$(mktemp -d)
  export GNUPGHOME=$tmp/gnupg XCP_SOURCES_DIR=$tmp/sources XCP_LISTS_DIR=$tmp/lists XCP_BOOT_DIR=$tmp/boot
  mkdir -m 0700 "$GNUPGHOME"; mkdir "$XCP_SOURCES_DIR" "$XCP_LISTS_DIR" "$XCP_BOOT_DIR" "$tmp/bin"
  gpg --batch --passphrase '' --quick-generate-key 'test <t@example.invalid>' ed25519 sign never 2>/dev/null
  gpg --batch --export >"$tmp/xcp-archive-keyring.gpg"
  printf 'Types: deb\nURIs: http://updates.example.org/xcp/channels/stable/\nSuites: stable\nComponents: main\nSigned-By: %s\n' "$tmp/xcp-archive-keyring.gpg" >"$XCP_SOURCES_DIR/xcp.sources"
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' >"$XCP_SOURCES_DIR/debian.sources"
  touch "$XCP_BOOT_DIR/vmlinuz-6.1.0-56-amd64" "$XCP_BOOT_DIR/vmlinuz-6.1.0-50-amd64"
  export XCP_NOW=$(date -d '2026-12-02 12:00 UTC' +%s)
  shim xl 'printf "xen_major              : 4\nxen_minor              : 17\nxen_extra              : .7\n"'
  shim uname 'echo 6.1.0-56-amd64'
  shim dpkg-query 'printf "xen-hypervisor-4.17-amd64 4.17.7+13-g2445b30a44-0+deb12u1 ii\nxen-hypervisor-common 4.17.9-1 ii\n"'
  shim apt-get 'true'
  shim apt-mark 'true'
  shim df 'printf "Filesystem 1024-blocks Used Available Capacity Mounted\n/dev/vda2 8000000 2000000 6000000 25%% /\n"'
  export PATH="$tmp/bin:$PATH"
}

teardown() {
  gpgconf --kill all 2>/dev/null || true
  rm -rf "$tmp"
}

shim() { printf '#!/bin/sh\n%s\n' "$2" >"$tmp/bin/$1"; chmod +x "$tmp/bin/$1"; }

# The InRelease apt would have fetched for the stable channel, valid until $1.
inrelease() {
  printf 'Suite: stable\nDate: Tue, 01 Dec 2026 12:00:00 UTC\nValid-Until: %s\n' "$1" >"$tmp/Release"
  gpg --batch --yes --clearsign --output "$XCP_LISTS_DIR/updates.example.org_xcp_channels_stable_dists_stable_InRelease" "$tmp/Release" 2>/dev/null
}

@test "a current host on a valid channel passes every check, exit 0" {
  inrelease 'Wed, 30 Dec 2026 12:00:00 UTC'
  run sh "$lib"
  [ "$status" -eq 0 ]
  [[ $output == *"PASS: channel: stable at http://updates.example.org/xcp/channels/stable/"* ]]
  [[ $output == *"PASS: signature: InRelease of channel stable verifies"* ]]
  [[ $output == *"PASS: valid-until: Wed, 30 Dec 2026 12:00:00 UTC (28 days left)"* ]]
  [[ $output == *"PASS: xen: running 4.17.7 = installed 4.17.7"* ]]
  [[ $output == *"9 PASS, 0 WARN, 0 FAIL"* ]]
}

@test "pending hypervisor and kernel upgrades and a running old kernel say reboot, exit 1" {
  inrelease 'Wed, 30 Dec 2026 12:00:00 UTC'
  shim apt-get 'printf "Inst xen-hypervisor-4.17-amd64 [4.17.5] (4.17.7 stable [amd64])\nInst linux-image-6.1.0-57-amd64 (6.1.200-1 stable [amd64])\nInst tree [2.1.0-1] (2.1.1-1 stable [amd64])\n"'
  shim uname 'echo 6.1.0-50-amd64'
  run sh "$lib"
  [ "$status" -eq 1 ]
  [[ $output == *"WARN: pending: 3 upgrade(s); reboot needed after them (hypervisor or kernel: xen-hypervisor-4.17-amd64 linux-image-6.1.0-57-amd64)"* ]]
  [[ $output == *"WARN: kernel: running 6.1.0-50-amd64, newest installed 6.1.0-56-amd64: reboot to run it"* ]]
}

@test "an expired channel, a bad signature and a full /boot fail, exit 2" {
  inrelease 'Mon, 30 Nov 2026 12:00:00 UTC'
  run sh "$lib"
  [ "$status" -eq 2 ]
  [[ $output == *"FAIL: valid-until: channel stable expired at Mon, 30 Nov 2026 12:00:00 UTC"* ]]
  sed -i 's/^Suite: stable/Suite: evil/' "$XCP_LISTS_DIR"/*_InRelease
  shim df 'printf "Filesystem 1024-blocks Used Available Capacity Mounted\n/dev/vda2 8000000 7990000 10000 99%% /\n"'
  run sh "$lib"
  [ "$status" -eq 2 ]
  [[ $output == *"FAIL: signature: InRelease of channel stable does not verify"* ]]
  [[ $output == *"FAIL: space: 9 MiB free on /"* ]]
}

@test "a host with no xcp source, nothing fetched and held packages is told so" {
  rm "$XCP_SOURCES_DIR/xcp.sources"
  shim apt-mark 'printf "xen-hypervisor-4.17-amd64\n"'
  run sh "$lib"
  [ "$status" -eq 2 ]
  [[ $output == *"FAIL: channel: no xcp source"* ]]
  [[ $output == *"WARN: holds: held back from upgrades: xen-hypervisor-4.17-amd64"* ]]
}

@test "xcp-host-info dispatches --check-update and refuses unknown options" {
  inrelease 'Wed, 30 Dec 2026 12:00:00 UTC'
  mkdir "$tmp/libexec" && install -m 0755 "$lib" "$tmp/libexec/check-update"
  XCP_LIBEXEC=$tmp/libexec run sh "$BATS_TEST_DIRNAME/../../sources/xcp-host/bin/xcp-host-info" --check-update
  [ "$status" -eq 0 ]
  run sh "$BATS_TEST_DIRNAME/../../sources/xcp-host/bin/xcp-host-info" --frobnicate
  [ "$status" -eq 2 ]
}

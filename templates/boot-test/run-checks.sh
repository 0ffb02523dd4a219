#!/bin/sh
# First boot of the boot test (installed as /usr/local/sbin/xcp-boot-check): runs
# check.sh from the OEMDRV volume the test attaches, then powers off.
udevadm settle --timeout=60 || true
dev=$(blkid -L OEMDRV)
if [ -z "$dev" ] || ! { mkdir -p /run/oemdrv && mount -o ro "$dev" /run/oemdrv; }; then
  echo "XCP_CHECK name=oemdrv rc=1 seconds=0ms detail=the OEMDRV volume with the checks was not found" >/dev/kmsg
  echo "XCP_CHECKS_DONE" >/dev/kmsg
  systemctl poweroff
  exit 1
fi
exec /bin/bash /run/oemdrv/check.sh /run/oemdrv/expect.txt

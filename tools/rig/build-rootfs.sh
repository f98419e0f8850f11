#!/bin/bash
# Builds the dom0 root filesystem: Debian bookworm minbase with the real Xen
# 4.17 toolstack (xen-utils-4.17 pinned to the hypervisor's version) and the
# tools scenarios use, plus the kernel's modules (trimmed of hardware the
# emulated host does not have).  Output: build/xen/cache/rootfs (a directory).
# Nothing is installed into or started on the host: mmdebstrap keeps services
# from starting inside the tree while it installs.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_root
load_versions

# Packages of the dom0 root filesystem.  Later scenarios rely on every one of
# them; add, never remove.
PKGS="xen-utils-4.17=$XEN_VERSION xenstore-utils iproute2 bridge-utils iperf3 ethtool
      make pkg-config libxen-dev=$XEN_VERSION check
      tcpdump procps psmisc strace kmod iputils-ping busybox less cpio file nginx wrk
      linux-perf qemu-system-xen net-tools"
# net-tools: Xen 4.17's vif-route calls ifconfig (scenario vif-keys)
# qemu-system-xen: the device model of HVM guests (xr_guest_up --type hvm);
# it pulls in seabios and ipxe-qemu, the firmware hvmloader
# (xen-utils-4.17's /usr/lib/xen-4.17/boot/hvmloader) hands over to.

# Kernel module folders dropped from the copy: hardware that QEMU does not
# emulate here (the image shrinks by two thirds, mkfs and boot get faster).
DROP_MODULES="sound drivers/gpu drivers/media drivers/scsi drivers/usb drivers/infiniband
      drivers/iio drivers/staging drivers/hwmon drivers/hid drivers/input drivers/comedi
      drivers/mtd drivers/video drivers/target drivers/isdn drivers/bluetooth drivers/mmc
      drivers/platform drivers/net/wireless drivers/net/ethernet drivers/net/usb drivers/net/can"

R=$CACHE/rootfs
KEY=$(hash_inputs "$0" -s "$XEN_VERSION $KERNEL_PKG $KERNEL_VERSION")
if stamp_ok rootfs "$KEY" && [ -f "$R/lib/modules/$KV/modules.dep" ]; then
    phase "rootfs: cached (xen-utils-4.17 $XEN_VERSION, modules $KV)"
    exit 0
fi

phase "rootfs: mmdebstrap bookworm minbase + xen-utils-4.17 $XEN_VERSION (log: $CACHE/rootfs.log)"
stamp_clear rootfs
rm -rf "$R" "$R.new"
mkdir -p "$R.new"
# shellcheck disable=SC2086 # word splitting of the package list is intended
if ! mmdebstrap --mode=root --variant=minbase \
        --aptopt='APT::Install-Recommends "false"' --aptopt='Acquire::Retries "3"' \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
        --include="$(echo $PKGS | tr ' ' ',')" \
        bookworm "$R.new" \
        "deb ${XNV_RIG_MIRROR:-http://deb.debian.org/debian} bookworm main" \
        "deb ${XNV_RIG_MIRROR:-http://deb.debian.org/debian} bookworm-updates main" \
        "deb ${XNV_RIG_SECURITY_MIRROR:-http://deb.debian.org/debian-security} bookworm-security main" \
        >"$CACHE/rootfs.log" 2>&1; then
    tail -n 20 "$CACHE/rootfs.log" >&2
    die "mmdebstrap failed, see $CACHE/rootfs.log"
fi

# shellcheck disable=SC2016 # a dpkg-query format, not a shell expansion
got=$(chroot "$R.new" dpkg-query -W -f='${Version}' xen-utils-4.17)
[ "$got" = "$XEN_VERSION" ] || die "rootfs has xen-utils-4.17 $got, hypervisor is $XEN_VERSION"

phase "rootfs: adding kernel modules $KV"
M=$R.new/lib/modules/$KV
mkdir -p "$R.new/lib/modules"
cp -a "$CACHE/kernel/lib/modules/$KV" "$M"
for d in $DROP_MODULES; do rm -rf "${M:?}/kernel/$d"; done
chroot "$R.new" depmod -a "$KV"

mv "$R.new" "$R"
stamp_set rootfs "$KEY"
phase "rootfs: ready ($(du -sh "$R" | cut -f1))"

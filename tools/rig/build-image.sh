#!/bin/bash
# Packs the dom0 disk image: the root filesystem plus the dom0 init, the guest
# kernel (vmlinux for PV/PVH, the bzImage for HVM) and the guests' base
# initramfs (and the HVM guests' stage initramfs), as an ext4 image made with
# mkfs.ext4 -d (no loop devices, no mounts).  QEMU opens it with
# snapshot=on, so every boot starts from the same bytes.
# Output: build/xen/cache/image/dom0.img (sparse).
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_root
load_versions

R=$CACHE/rootfs
IMG=$CACHE/image/dom0.img
KEY=$(hash_inputs "$0" "$RIG_DIR/files/dom0-init" \
      -s "rootfs $(stamp_get rootfs) initrds $(stamp_get initrds)")
if stamp_ok image "$KEY" && [ -s "$IMG" ]; then
    phase "image: cached ($IMG)"
    exit 0
fi
[ -f "$R/lib/modules/$KV/modules.dep" ] || die "no rootfs: run tools/rig/build-rootfs.sh first"
stamp_clear image
phase "image: mkfs.ext4 -d (dom0 root + guest kernel and base initramfs)"

install -m 755 "$RIG_DIR/files/dom0-init" "$R/usr/local/sbin/xnv-dom0-init"
echo dom0 >"$R/etc/hostname"
printf '127.0.0.1 localhost\n10.0.0.1 dom0\n' >"$R/etc/hosts"
rm -rf "$R/var/lib/xnv-rig"
mkdir -p "$R/var/lib/xnv-rig"
cp "$CACHE/guest/vmlinux" "$CACHE/guest/domu-base.cpio" "$R/var/lib/xnv-rig/"
# HVM guests boot the bzImage itself (QEMU's direct kernel boot wants it)
# with their small stage initramfs
cp "$CACHE/boot/vmlinuz" "$CACHE/guest/domu-hvm-stage.cpio" "$R/var/lib/xnv-rig/"
cat >"$R/var/lib/xnv-rig/versions" <<EOF
xen $XEN_VERSION
kernel $KERNEL_PKG $KERNEL_VERSION
EOF

mkdir -p "$CACHE/image"
rm -f "$IMG.new"
# 2 GiB leaves room for what scenarios write; the file stays sparse.
mkfs.ext4 -q -F -L xnv-dom0 -E root_owner=0:0 -d "$R" "$IMG.new" 2G >/dev/null
mv "$IMG.new" "$IMG"
stamp_set image "$KEY"
phase "image: ready ($(du -h "$IMG" | cut -f1) used of 2G)"

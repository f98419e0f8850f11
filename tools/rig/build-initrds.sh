#!/bin/bash
# Builds, from the fetched packages and the dom0 root filesystem:
#   cache/boot/dom0-stage1.cpio.gz  dom0's tiny initramfs: virtio-blk + ext4
#                                   modules, mounts /dev/vda, switch_root.
#   cache/guest/domu-base.cpio      the guests' base initramfs: busybox, Xen
#                                   front-end modules, iperf3, xenstore tools,
#                                   ethtool, tcpdump, nginx and wrk (rig
#                                   benchmark), every libxen* library.
#                                   It has no /init: the per-run overlay
#                                   (pack-job.sh) brings the init and our
#                                   programs, concatenated at run time.  Not
#                                   compressed: libxenguest would unpack only
#                                   the first of two gzip members (and slowly,
#                                   in emulated dom0 userspace).
#   cache/guest/domu-hvm-stage.cpio an HVM guest's initramfs: busybox,
#                                   xen-blkfront, files/hvm-stage-init; it
#                                   unpacks the base and the overlay from two
#                                   PV disks (see that script for why).
#   cache/guest/vmlinux             the kernel as an uncompressed ELF for PV
#                                   guests (libxenguest would otherwise spend
#                                   seconds of emulated time unpacking XZ on
#                                   every xl create).
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_root
load_versions

R=$CACHE/rootfs
S1MODS="virtio_pci virtio_blk crc32c_generic ext4"
GUESTMODS="xen-netfront xen-gntalloc xen-gntdev xen-evtchn xenfs xen-privcmd tun"
GUESTBINS="/usr/bin/iperf3 /usr/bin/xenstore-read /usr/bin/xenstore-write /usr/bin/xenstore-list
           /usr/bin/xenstore-ls /usr/bin/xenstore-rm /usr/bin/xenstore-watch /usr/bin/xenstore-exists
           /usr/bin/xenstore-chmod /usr/sbin/ethtool /usr/bin/tcpdump /usr/sbin/nginx /usr/bin/wrk"

KEY=$(hash_inputs "$0" "$RIG_DIR/files/stage1-init" "$RIG_DIR/files/hvm-stage-init" -s "rootfs $(stamp_get rootfs)")
if stamp_ok initrds "$KEY" && [ -s "$CACHE/boot/dom0-stage1.cpio.gz" ] &&
   [ -s "$CACHE/guest/domu-base.cpio" ] && [ -s "$CACHE/guest/domu-hvm-stage.cpio" ] &&
   [ -s "$CACHE/guest/vmlinux" ]; then
    phase "initrds: cached"
    exit 0
fi
[ -f "$R/lib/modules/$KV/modules.dep" ] || die "no rootfs: run tools/rig/build-rootfs.sh first"
stamp_clear initrds
W=$CACHE/initrd-work
rm -rf "$W"; mkdir -p "$W"

# modules_for DEST NAMES...: copies the modules NAMES need, dependencies first,
# into DEST/lib/modules and lists their file names in DEST/modules.list.
modules_for() {
    local dest=$1 ko; shift
    mkdir -p "$dest/lib/modules"; : >"$dest/modules.list"
    # shellcheck disable=SC2068
    for ko in $(chroot "$R" modprobe -S "$KV" -a --show-depends "$@" |
                awk '$1 == "insmod" && !seen[$2]++ { print $2 }'); do
        cp "$R$ko" "$dest/lib/modules/"
        basename "$ko" >>"$dest/modules.list"
    done
}

cpio_of() { (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0); }

phase "initrds: dom0 stage-1 initramfs"
S=$W/stage1
mkdir -p "$S/bin" "$S/proc" "$S/sys" "$S/dev" "$S/newroot"
install -m 755 "$CACHE/boot/busybox" "$S/bin/busybox"
install -m 755 "$RIG_DIR/files/stage1-init" "$S/init"
# shellcheck disable=SC2086
modules_for "$S" $S1MODS
[ "$(wc -l <"$S/modules.list")" -ge 6 ] || die "stage-1 module list looks too short"
cpio_of "$S" | gzip -6 >"$CACHE/boot/dom0-stage1.cpio.gz"

phase "initrds: guest base initramfs"
G=$W/guest
mkdir -p "$G"/usr/bin "$G"/usr/sbin "$G"/usr/lib/x86_64-linux-gnu "$G"/usr/lib64 \
         "$G"/usr/local/bin "$G"/proc "$G"/sys "$G"/dev "$G"/tmp "$G"/run "$G"/root "$G"/etc
# merged-/usr layout, like the root filesystem the binaries come from
ln -s usr/bin "$G/bin"; ln -s usr/sbin "$G/sbin"; ln -s usr/lib "$G/lib"; ln -s usr/lib64 "$G/lib64"
install -m 755 "$CACHE/boot/busybox" "$G/usr/bin/busybox"
ln -s busybox "$G/usr/bin/sh"      # the init's interpreter, before busybox --install
# shellcheck disable=SC2086
modules_for "$G" $GUESTMODS
# every libxen* (our programs link them), plus what glibc loads at run time
# (libgcc_s for thread cancellation and unwinding) and the old split-off libs
# shellcheck disable=SC2012 # plain library file names
libs=$(cd "$R" && ls usr/lib/x86_64-linux-gnu/libxen*.so.* usr/lib/x86_64-linux-gnu/libgcc_s.so.1 \
       usr/lib/x86_64-linux-gnu/libpthread.so.0 usr/lib/x86_64-linux-gnu/libdl.so.2 \
       usr/lib/x86_64-linux-gnu/librt.so.1 | sed 's|^|/|')
for b in $GUESTBINS; do cp -L "$R$b" "$G$b"; done
# shellcheck disable=SC2086 # lists of paths
for l in $(chroot "$R" ldd $GUESTBINS $libs 2>/dev/null |
           awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }' | sort -u) $libs; do
    mkdir -p "$G$(dirname "$l")"
    cp -L "$R$l" "$G$l"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$G/etc/passwd"
echo 'root:x:0:' >"$G/etc/group"
mkdir -p "$CACHE/guest"
cpio_of "$G" >"$CACHE/guest/domu-base.cpio.new"
mv "$CACHE/guest/domu-base.cpio.new" "$CACHE/guest/domu-base.cpio"
rm -f "$CACHE/guest/domu-base.cpio.gz"

phase "initrds: HVM guest stage initramfs"
H=$W/hvm
mkdir -p "$H"/usr/bin "$H"/usr/lib
ln -s usr/bin "$H/bin"; ln -s usr/lib "$H/lib"   # the base's layout: it unpacks over this
install -m 755 "$CACHE/boot/busybox" "$H/usr/bin/busybox"
ln -s busybox "$H/usr/bin/sh"
install -m 755 "$RIG_DIR/files/hvm-stage-init" "$H/init"
modules_for "$H" xen-blkfront
cpio_of "$H" >"$CACHE/guest/domu-hvm-stage.cpio"

phase "initrds: uncompressed guest vmlinux"
# The bzImage carries the kernel as an XZ stream: try each XZ magic in turn
# until one unpacks to an ELF file.
found=0
# shellcheck disable=SC2013 # one number a line
for off in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$CACHE/boot/vmlinuz" | cut -d: -f1); do
    tail -c +$((off + 1)) "$CACHE/boot/vmlinuz" | xz -dc 2>/dev/null >"$W/vmlinux" || true
    if file "$W/vmlinux" | grep -q 'ELF 64-bit'; then found=1; break; fi
done
[ "$found" = 1 ] || die "could not extract vmlinux from $CACHE/boot/vmlinuz"
mv "$W/vmlinux" "$CACHE/guest/vmlinux"

rm -rf "$W"
stamp_set initrds "$KEY"
phase "initrds: ready (stage-1 $(du -h "$CACHE/boot/dom0-stage1.cpio.gz" | cut -f1), guest base $(du -h "$CACHE/guest/domu-base.cpio" | cut -f1), HVM stage $(du -h "$CACHE/guest/domu-hvm-stage.cpio" | cut -f1), vmlinux $(du -h "$CACHE/guest/vmlinux" | cut -f1))"

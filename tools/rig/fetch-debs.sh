#!/bin/bash
# Resolves and fetches the Debian packages the rig boots from: the Xen
# hypervisor, the kernel that linux-image-amd64 currently depends on, and
# busybox-static.  Uses a private apt state under build/xen/cache/apt with
# bookworm + bookworm-updates + bookworm-security (the security suite carries
# the newest Xen 4.17; the dom0 toolstack must be the same version), so the
# host's own apt sources and state are neither needed nor touched.
#
# Writes build/xen/cache/versions.env (XEN_VERSION, KERNEL_PKG, KERNEL_VERSION,
# KV, BUSYBOX_VERSION) and the boot files under build/xen/cache/boot/.
# The package index is refreshed when older than XNV_RIG_APT_MAX_AGE seconds
# (default 6 h) or when XNV_RIG_REFRESH=1.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_root

APT=$CACHE/apt
MIRROR=${XNV_RIG_MIRROR:-http://deb.debian.org/debian}
SECURITY=${XNV_RIG_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/empty" "$CACHE/debs" "$CACHE/boot"
: >"$APT/status"   # an empty dpkg status: what the host has installed must not count
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
SIGNED=""
if [ -f "$KEYRING" ]; then SIGNED="[signed-by=$KEYRING] "; fi
cat >"$APT/sources.list.new" <<EOF
deb $SIGNED$MIRROR bookworm main
deb $SIGNED$MIRROR bookworm-updates main
deb $SIGNED$SECURITY bookworm-security main
EOF
if ! cmp -s "$APT/sources.list.new" "$APT/sources.list"; then
    mv "$APT/sources.list.new" "$APT/sources.list"
    rm -f "$APT/updated"
else
    rm -f "$APT/sources.list.new"
fi

APTOPTS=(-o "Dir::Etc::SourceList=$APT/sources.list" -o "Dir::Etc::SourceParts=$APT/empty"
         -o "Dir::Etc::Preferences=$APT/empty/none" -o "Dir::Etc::PreferencesParts=$APT/empty"
         -o "Dir::State::Lists=$APT/lists" -o "Dir::State::status=$APT/status" -o "Dir::Cache=$APT/cache"
         -o "APT::Architecture=amd64" -o "APT::Architectures::=amd64"
         -o "Acquire::Retries=3" -o "Debug::NoLocking=1")

OFFLINE=0
age=999999
if [ -f "$APT/updated" ]; then age=$(( $(date +%s) - $(stat -c %Y "$APT/updated") )); fi
if [ "${XNV_RIG_REFRESH:-0}" = 1 ] || [ "$age" -gt "${XNV_RIG_APT_MAX_AGE:-21600}" ]; then
    phase "apt: refreshing the bookworm package index (private state in $APT)"
    if retry 3 apt-get -q --error-on=any "${APTOPTS[@]}" update >"$APT/update.log" 2>&1; then
        touch "$APT/updated"
    elif [ -f "$APT/updated" ] && [ -f "$VERSIONS" ]; then
        # Offline, or the mirror is unwell: the cached artifacts still match
        # the last index we had; go on with it.
        phase "apt: WARNING: apt-get update failed (see $APT/update.log): keeping the versions resolved last time"
        OFFLINE=1
    else
        die "apt-get update failed, see $APT/update.log"
    fi
fi

if [ $OFFLINE = 1 ]; then
    load_versions
else
    candidate() {
        local v
        v=$(apt-cache "${APTOPTS[@]}" policy "$1" | awk '$1 == "Candidate:" { print $2 }')
        if [ -z "$v" ] || [ "$v" = "(none)" ]; then die "no candidate for package $1"; fi
        echo "$v"
    }

    # linux-image-amd64 is a meta package: the real kernel package is its dependency.
    KERNEL_PKG=$(apt-cache "${APTOPTS[@]}" depends linux-image-amd64 |
                 awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
    [ -n "$KERNEL_PKG" ] || die "cannot resolve the kernel package behind linux-image-amd64"
    XEN_VERSION=$(candidate xen-hypervisor-4.17-amd64)
    UTILS_VERSION=$(candidate xen-utils-4.17)
    [ "$XEN_VERSION" = "$UTILS_VERSION" ] ||
        die "xen-hypervisor-4.17-amd64 $XEN_VERSION != xen-utils-4.17 $UTILS_VERSION in the index"
    KERNEL_VERSION=$(candidate "$KERNEL_PKG")
    BUSYBOX_VERSION=$(candidate busybox-static)
    KV=${KERNEL_PKG#linux-image-}

    printf "%s='%s'\n" XEN_VERSION "$XEN_VERSION" KERNEL_PKG "$KERNEL_PKG" \
        KERNEL_VERSION "$KERNEL_VERSION" KV "$KV" BUSYBOX_VERSION "$BUSYBOX_VERSION" >"$VERSIONS.new"
    mv "$VERSIONS.new" "$VERSIONS"
fi

KEY=$(hash_inputs "$0" "$VERSIONS")
if stamp_ok debs "$KEY" && [ -s "$CACHE/boot/xen" ] && [ -s "$CACHE/boot/vmlinuz" ] &&
   [ -x "$CACHE/boot/busybox" ] && [ -f "$CACHE/kernel/lib/modules/$KV/modules.order" ]; then
    phase "debs: cached (xen $XEN_VERSION, $KERNEL_PKG $KERNEL_VERSION)"
    exit 0
fi

phase "debs: downloading xen-hypervisor-4.17-amd64 $XEN_VERSION, $KERNEL_PKG $KERNEL_VERSION, busybox-static $BUSYBOX_VERSION"
stamp_clear debs
rm -f "$CACHE"/debs/*.deb
(cd "$CACHE/debs" &&
 retry 3 apt-get -q "${APTOPTS[@]}" download \
     "xen-hypervisor-4.17-amd64=$XEN_VERSION" "$KERNEL_PKG=$KERNEL_VERSION" \
     "busybox-static=$BUSYBOX_VERSION" >"$APT/download.log" 2>&1) ||
    die "apt-get download failed, see $APT/download.log"

phase "debs: unpacking"
rm -rf "$CACHE/pkg" "$CACHE/kernel"
mkdir -p "$CACHE/pkg/xen" "$CACHE/pkg/busybox" "$CACHE/kernel"
dpkg-deb -x "$CACHE"/debs/xen-hypervisor-4.17-amd64_*.deb "$CACHE/pkg/xen"
dpkg-deb -x "$CACHE"/debs/busybox-static_*.deb "$CACHE/pkg/busybox"
dpkg-deb -x "$CACHE"/debs/"$KERNEL_PKG"_*.deb "$CACHE/kernel"
# bookworm ships modules under /lib, later releases under /usr/lib
if [ ! -d "$CACHE/kernel/lib/modules/$KV" ] && [ -d "$CACHE/kernel/usr/lib/modules/$KV" ]; then
    mkdir -p "$CACHE/kernel/lib/modules"
    mv "$CACHE/kernel/usr/lib/modules/$KV" "$CACHE/kernel/lib/modules/"
fi

# Xen is a gzipped multiboot ELF; QEMU's -kernel wants it uncompressed.
xengz=$(find "$CACHE/pkg/xen/boot" -name 'xen-4.17*.gz' | head -n1)
[ -n "$xengz" ] || die "no boot/xen-4.17*.gz in xen-hypervisor-4.17-amd64"
zcat "$xengz" >"$CACHE/boot/xen"
cp "$CACHE/kernel/boot/vmlinuz-$KV" "$CACHE/boot/vmlinuz"
bb=$CACHE/pkg/busybox/bin/busybox
[ -x "$bb" ] || bb=$CACHE/pkg/busybox/usr/bin/busybox
install -m 755 "$bb" "$CACHE/boot/busybox"
rm -rf "$CACHE/pkg"
[ -f "$CACHE/kernel/lib/modules/$KV/modules.order" ] || die "kernel modules for $KV not found"

stamp_set debs "$KEY"
phase "debs: ready ($(du -sh "$CACHE/debs" | cut -f1) of packages)"

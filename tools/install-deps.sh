#!/bin/sh
# Installs every build, test and rig dependency of xnv from Debian's packages.
# Quiet and quick when everything is there already.  Must run as root to
# install; otherwise prints the exact apt-get line to run.
set -eu

# build and unit tests
PKGS="gcc make pkg-config libc6-dev libxen-dev check valgrind"
# fuzzing (make fuzz, make fuzz-ci in make check): clang with libFuzzer
PKGS="$PKGS clang libclang-rt-14-dev"
# benchmarks and their plots (make bench)
PKGS="$PKGS gnuplot-nox"
# the real-Xen rig (tools/rig): QEMU, root filesystem builder, image tools
PKGS="$PKGS qemu-system-x86 mmdebstrap e2fsprogs cpio xz-utils gzip perl python3 bc file"
PKGS="$PKGS debian-archive-keyring"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

line="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ]; then
    echo "xnv: missing Debian packages:$missing" >&2
    echo "xnv: run as root:  apt-get update && $line" >&2
    exit 1
fi
echo "xnv: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
echo "xnv: dependencies installed"

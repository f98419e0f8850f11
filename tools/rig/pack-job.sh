#!/bin/bash
# Packs the per-run job disk (never cached): the dom0 runner, a copy of
# tests/xen, our programs from build/bin, the source tree with its build
# outputs (src/), the guest overlay initramfs (guest init + our programs,
# appended to the cached base in dom0) and the xl templates (PV/PVH, HVM).  Our programs thus reach dom0 and the guests without rebuilding
# any cached image.
#   pack-job.sh OUT_IMG SCENARIO_FILE...
# Environment: XR_VERBOSE, XR_SHELL, XR_DEFAULT_TIMEOUT, XR_JOB_TIMEOUT are
# passed to dom0 through job.env.
set -euo pipefail
. "$(dirname "$0")/common.sh"

IMG=$1; shift
J=$XB/job
rm -rf "$J"
mkdir -p "$J/out" "$J/bin" "$J/rig" "$J/xen"
install -m 755 "$RIG_DIR/files/job-run.sh" "$J/run.sh"
cp -a "$TOP/tests/xen/." "$J/xen/"
if [ -n "${XNV_RIG_SCENARIO_DIR:-}" ] && [ "$XNV_RIG_SCENARIO_DIR" != "$TOP/tests/xen/scenarios" ]; then
    # Another set of scenarios (the rig benchmark's): the test scenarios
    # (NN-name.sh) make way for it, their shared helpers stay to be sourced.
    rm -f "$J"/xen/scenarios/[0-9][0-9]-*.sh
    cp -a "$XNV_RIG_SCENARIO_DIR/." "$J/xen/scenarios/"
fi
: >"$J/scenarios.list"
if [ $# -gt 0 ]; then printf '%s\n' "$@" >"$J/scenarios.list"; fi
cat >"$J/job.env" <<EOF
XR_VERBOSE=${XR_VERBOSE:-0}
XR_SHELL=${XR_SHELL:-0}
XR_DEFAULT_TIMEOUT=${XR_DEFAULT_TIMEOUT:-300}
XR_JOB_TIMEOUT=${XR_JOB_TIMEOUT:-3600}
EOF
# Any other XR_* variable of the host's environment reaches the scenarios
# (e.g. XR_IPERF_SECONDS=5 make check-xen).
while IFS='=' read -r k _; do
    case $k in
    XR_VERBOSE | XR_SHELL | XR_DEFAULT_TIMEOUT | XR_JOB_TIMEOUT) ;;
    XR_*) printf '%s=%q\n' "$k" "${!k}" >>"$J/job.env" ;;
    esac
done < <(env)

nbin=0
if [ -d "$TOP/build/bin" ]; then
    for b in "$TOP"/build/bin/*; do
        if [ ! -f "$b" ] || [ ! -x "$b" ]; then continue; fi
        cp "$b" "$J/bin/"; nbin=$((nbin + 1))
    done
fi

# The source tree with its build outputs (timestamps kept, so that make in
# dom0 finds everything up to date and builds nothing): scenario
# install-service runs the real `make install` from it.  The rig's own cache
# and other build trees stay out.
mkdir -p "$J/src"
tar -C "$TOP" -c --exclude=./.git --exclude=./build/xen --exclude=./build/san \
    --exclude=./build/fuzz --exclude=./build/bench . | tar -C "$J/src" -x

# Guest overlay: /init and /usr/local/bin/<our programs>.
O=$XB/job-overlay
rm -rf "$O"
mkdir -p "$O/usr/local/bin"
install -m 755 "$RIG_DIR/files/domu-init" "$O/init"
if [ "$nbin" -gt 0 ]; then cp "$J"/bin/* "$O/usr/local/bin/"; fi
# uncompressed, like the base (see build-initrds.sh)
(cd "$O" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$J/rig/domu-overlay.cpio"
rm -rf "$O"
cp "$RIG_DIR/files/domu.cfg.in" "$RIG_DIR/files/domu-hvm.cfg.in" "$J/rig/"

# Size: what is packed plus room for logs the run brings back.
size=$(( $(du -sm "$J" | cut -f1) + 256 ))
rm -f "$IMG"
mkfs.ext4 -q -F -L xnv-job -E root_owner=0:0 -d "$J" "$IMG" "${size}M" >/dev/null
phase "job disk: $# scenario(s), $nbin program(s) from build/bin ($(find "$J/bin" -maxdepth 1 -type f -printf '%f '))"

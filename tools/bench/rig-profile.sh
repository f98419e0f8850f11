#!/bin/bash
# The rig profile of the netback (make profile-rig): one boot of the real-Xen
# rig runs tests/xen/profile/ (the kernel's xen-netback and xnv-netbackd side
# by side, both directions, counted transfers and perf record), then the
# figures per byte and per frame go to build/xen/profile/summary.md (the table
# docs/netback-profile.md quotes) and summary.json.
#
#   tools/bench/rig-profile.sh [--alt BINARY]
#
# --alt BINARY: another build of xnv-netbackd measured in the same boot as a
# third backend (xnv-alt), for an A/B comparison of a change.
#
# The host counts the emulated CPU's page-table switches and interrupts in
# each counted transfer (tools/bench/rig-hostcount.sh; perf probes on QEMU).
#
# Environment: XNV_PROFILE_RUNS (runs, default 2), XNV_PROFILE_SECONDS (each
# iperf3, default 10), XNV_PROFILE_GUEST (pv, default, or hvm: the kind of
# the guest); XR_PROFILE_AB_ROUNDS (A/B rounds with --alt, default 6),
# XR_PROFILE_AB_REPLUG=1 (the A/B removes the vif's interface at each swap
# and bridges the new one: for builds whose interfaces differ in kind); the
# rig's own knobs (XNV_RIG_LOCK, ...) apply.  The
# run replaces build/xen/results.json and build/xen/logs like any rig run.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP"
export XR_PROFILE_RUNS=${XNV_PROFILE_RUNS:-2}
export XR_PROFILE_SECONDS=${XNV_PROFILE_SECONDS:-10}
export XR_PROFILE_GUEST_TYPE=${XNV_PROFILE_GUEST:-pv}
OUT=build/xen/profile
ALT_BIN=build/bin/xnv-netbackd-alt
rm -f "$ALT_BIN"
if [ "${1:-}" = --alt ]; then
    [ -x "${2:-}" ] || { echo "rig-profile: --alt needs an xnv-netbackd binary" >&2; exit 2; }
    cp "$2" "$ALT_BIN"
fi
HOST=$TOP/build/xen/hostcount
# interrupted or not: the copy goes, the host's probes and watcher stop
trap 'rm -f "$ALT_BIN"; tools/bench/rig-hostcount.sh stop "$HOST"' EXIT
rm -rf "$OUT"
mkdir -p "$OUT"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rc=0
# the emulated CPU's own counts in each counted transfer, from the host
rm -rf "$HOST"
tools/bench/rig-hostcount.sh start "$HOST"
XNV_RIG_SCENARIO_DIR=$TOP/tests/xen/profile tools/rig/run-scenarios.sh || rc=$?
tools/bench/rig-hostcount.sh stop "$HOST"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
cp -a build/xen/logs/out/profile/. "$OUT/" 2>/dev/null ||
    { echo "rig-profile: no figures came back from the rig (see build/xen/logs)" >&2; exit 1; }
# perf stat -x, lines (value,unit,event,...) of window RUN-BACKEND-DIR as
# raw.tsv rows host_<event>
for f in "$HOST"/*.csv; do
    [ -f "$f" ] || continue
    t=$(basename "$f" .csv)
    awk -F, -v t="$t" '$1 ~ /^[0-9.]+$/ {
        n = split(t, p, "-"); e = $3; sub(/.*:/, "", e)
        be = p[2]; for (i = 3; i < n; i++) be = be "-" p[i]
        printf "%s\t%s\t%s\thost_%s\t%s\n", p[1], be, p[n], e, $1 }' "$f" >>"$OUT/raw.tsv"
done
git_rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
python3 tools/bench/profile-summary.py "$OUT" --rev "$git_rev" \
    --load "$load_before -> $load_after" --seconds "$XR_PROFILE_SECONDS" \
    --guest "$XR_PROFILE_GUEST_TYPE" >"$OUT/summary.md"
echo "rig-profile: wrote $OUT/summary.md and $OUT/summary.json"
cat "$OUT/summary.md"
exit $rc

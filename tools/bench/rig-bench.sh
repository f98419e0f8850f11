#!/bin/bash
# The rig benchmark (part of `make bench`): one boot of the real-Xen rig runs
# the scenarios of tests/xen/bench/ (kernel netback vs xnv-netbackd with a
# stock guest, stock netfront vs xnv-netfront, bridged vs tier-1 fast path vs
# tier-2 channel, nginx + wrk through the kernel path and xnv-netbackd), then
# the medians and ratios go to build/xen/bench.json and the plot to
# build/bench/rig.png.
#
#   tools/bench/rig-bench.sh
#
# Environment: XNV_BENCH_RUNS (runs, default 3), XNV_BENCH_SECONDS (each
# iperf3, default 8), XNV_BENCH_WRK_SECONDS (each wrk, default 6),
# XNV_BENCH_RIG=0 skips it; the rig's own knobs (XNV_RIG_LOCK, ...) apply.
# The run replaces build/xen/results.json and build/xen/logs like any rig
# run; its raw figures are kept in build/xen/bench/.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP"
if [ "${XNV_BENCH_RIG:-1}" = 0 ]; then
    echo "rig-bench: skipped (XNV_BENCH_RIG=0)"
    exit 0
fi
export XR_BENCH_RUNS=${XNV_BENCH_RUNS:-3}
export XR_BENCH_SECONDS=${XNV_BENCH_SECONDS:-8}
export XR_BENCH_WRK_SECONDS=${XNV_BENCH_WRK_SECONDS:-6}
OUT=build/xen/bench
mkdir -p "$OUT" build/bench

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(date -u +%FT%TZ)
# The host's load while this tree's QEMU runs (the run may first wait for the
# rig lock): one sample every 30 s.
: >"$OUT/load.txt"
( while sleep 30; do
      if pgrep -f "$TOP/build/xen/job.img" >/dev/null; then
          echo "$(date -u +%T) $(cut -d' ' -f1 /proc/loadavg)" >>"$OUT/load.txt"
      fi
  done ) &
sampler=$!
rc=0
XNV_RIG_SCENARIO_DIR=$TOP/tests/xen/bench tools/rig/run-scenarios.sh || rc=$?
kill "$sampler" 2>/dev/null || true
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

rm -f "$OUT/raw.tsv"
cp build/xen/results.json "$OUT/results.json" 2>/dev/null || true
cp build/xen/logs/out/bench/raw.tsv "$OUT/raw.tsv" 2>/dev/null ||
    echo "rig-bench: no raw figures came back from the rig (see build/xen/logs)" >&2
[ -f "$OUT/raw.tsv" ] || exit 1
python3 tools/bench/rig-summary.py --raw "$OUT/raw.tsv" --results "$OUT/results.json" \
    --runs "$XR_BENCH_RUNS" --iperf-seconds "$XR_BENCH_SECONDS" --wrk-seconds "$XR_BENCH_WRK_SECONDS" \
    --started "$t0" --load-before "$load_before" --load-after "$load_after" \
    --load-samples "$OUT/load.txt" >build/xen/bench.json
echo "rig-bench: wrote build/xen/bench.json"
python3 tools/bench/rig-summary.py --table build/xen/bench.json
tools/bench/plot-rig.sh build/xen/bench.json build/bench/rig.png
exit $rc

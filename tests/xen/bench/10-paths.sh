#!/bin/bash
# xnv-rig: timeout=2700
# paths: the rig benchmark (run by tools/bench/rig-bench.sh, not a test).
# XR_BENCH_RUNS runs; each run measures every path once, the kernel's
# netback phase and the xnv-netbackd phase in alternating order so that
# drift of the emulated host hits both members of every pair:
#
#   kernel phase (xen-netback loaded)
#     kernel_stock     stock guest g1                dom0<->guest
#     kernel_xnvfront  guest u1 on xnv-netfront      dom0<->guest
#     bridged          stock g2 -> g1 over xenbr0    guest<->guest
#     web: nginx in g1, wrk from dom0 and from g2
#   xnv phase (xnv-netbackd --fastpath xenbr0)
#     xnv_stock        stock guest n1                dom0<->guest
#     tier1            stock n2 -> n1, switch fast path
#     tier2            xnv-netfront guests t2 -> t1 over a direct channel
#                      (xnv-netbackd restarted with channel-bridges =
#                      xenbr0, the guests with xnv.channels=1), when
#                      xnv-netfront supports channels; the frames each agent
#                      sent on its channel are recorded, and fewer than 1000
#                      each way fail the measurement
#     web: nginx in n1, wrk from dom0 and from n2 (through the fast path)
#
# Per measurement: iperf3 TCP Mbit/s (XR_BENCH_SECONDS each), ping RTT, and
# dom0 CPU seconds (busy jiffies of /proc/stat) per gigabyte moved; wrk
# requests/s and latency percentiles (XR_BENCH_WRK_SECONDS each).  Raw values
# go to out/bench/raw.tsv (run, path, metric, value), written as they come.
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"
# shellcheck source=bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
# the tier-2 helpers of the channel scenarios (kept beside this file in the job)
# shellcheck source=../scenarios/channel-common.sh
. "$(dirname "$0")/channel-common.sh"

RUNS=${XR_BENCH_RUNS:-3}
SOCK=/run/xnv/netbackd.sock
xr_path "rig benchmark: $RUNS runs"
NB=$(xr_bin xnv-netbackd) || xr_fail "xnv-netbackd was not built"
NF=$(xr_bin xnv-netfront) || xr_fail "xnv-netfront was not built"
xr_bin xnvctl >/dev/null || xr_fail "xnvctl was not built"
bench_raw_init

TIER2=
# (an event channel is not a direct channel between guests)
if "$NF" --help 2>&1 | grep -i channel | grep -qvi 'event channel'; then
    TIER2=1
else
    RUN=0 bench_raw tier2 unavailable "xnv-netfront --help does not mention channels: no direct guest-to-guest channel in this build"
fi
command -v wrk >/dev/null || RUN=0 bench_raw web unavailable "wrk is not installed in dom0"

NBPID=
nb_start() {
    nb_stop   # never two daemons on the same vifs
    rm -f "$SOCK"
    "$NB" "$@" >>"$XR_OUT/scenarios/$XR_SCENARIO.netbackd.log" 2>&1 &
    NBPID=$!
    echo "$NBPID" >>"$XR_RUN/daemons.$XR_SCENARIO"
    for _ in $(seq 50); do [ -S "$SOCK" ] && return 0; sleep 0.1; done
    return 1
}
nb_stop() {
    [ -n "$NBPID" ] || return 0
    kill "$NBPID" 2>/dev/null; wait "$NBPID" 2>/dev/null
    NBPID=
}

phase_kernel() {
    xr_guests_down
    nb_stop
    xr_netback_load || { bench_fail "cannot load xen-netback"; return 1; }
    xr_guest_up g1 10.0.0.11 || { bench_fail "g1 did not come up"; return 1; }
    xr_guest_up g2 10.0.0.12 || { bench_fail "g2 did not come up"; return 1; }
    bench_dom0_pair kernel_stock g1
    bench_g2g bridged g2 g1
    bench_web kernel g1 g2
    xr_guest_down g2
    if xr_guest_up u1 10.0.0.41 --extra "xnv.netfront=1"; then
        bench_dom0_pair kernel_xnvfront u1
    else
        bench_fail "u1 on xnv-netfront did not come up"
    fi
    xr_guests_down
}

phase_xnv() {
    xr_netback_unload || { bench_fail "cannot unload xen-netback"; return 1; }
    nb_start --fastpath xenbr0 || { bench_fail "xnv-netbackd did not start"; return 1; }
    xr_guest_up n1 10.0.0.21 || { bench_fail "n1 did not come up on xnv-netbackd"; xnv_down; return 1; }
    xr_guest_up n2 10.0.0.22 || { bench_fail "n2 did not come up on xnv-netbackd"; xnv_down; return 1; }
    bench_dom0_pair xnv_stock n1
    local fp0 fp1
    fp0=$(xr_fastpath_packets)
    bench_g2g tier1 n2 n1
    fp1=$(xr_fastpath_packets)
    bench_raw tier1 fastpath_packets $((fp1 - fp0))
    bench_web xnv n1 n2
    xr_guests_down
    [ -n "$TIER2" ] && phase_tier2
    nb_stop
}

# Guests on xnv-netfront with direct channels, the daemon offering them on
# xenbr0 (as in scenario fastpath-channel).
phase_tier2() {
    local conf=$XR_RUN/bench-channels.conf tx1 tx2 _
    printf 'channel-bridges = xenbr0\n' >"$conf"
    nb_start -c "$conf" || { bench_fail "xnv-netbackd with channel-bridges did not start"; return 1; }
    if ! xr_guest_up t1 10.0.0.51 --extra "xnv.netfront=1 xnv.channels=1" ||
       ! xr_guest_up t2 10.0.0.52 --extra "xnv.netfront=1 xnv.channels=1"; then
        bench_fail "tier-2 guests t1/t2 did not come up"
        xr_guests_down
        return 1
    fi
    if xc_wait_channel t1 t2 60; then
        bench_g2g tier2 t2 t1
        read -r tx1 _ _ <<<"$(xc_channel_stats t1)"
        read -r tx2 _ _ <<<"$(xc_channel_stats t2)"
        bench_raw tier2 channel_tx_packets_t1 "${tx1:-0}"
        bench_raw tier2 channel_tx_packets_t2 "${tx2:-0}"
        if [ "${tx1:-0}" -le 1000 ] || [ "${tx2:-0}" -le 1000 ]; then
            bench_fail "tier 2: the channels carried too little (t1 sent ${tx1:-0}, t2 ${tx2:-0} frames)"
        fi
    else
        bench_fail "tier 2: t1 and t2 did not set up their channel within 60 s"
    fi
    xr_guests_down
}

xnv_down() { xr_guests_down; nb_stop; }


for RUN in $(seq "$RUNS"); do
    export RUN
    xr_log "run $RUN of $RUNS"
    if [ $((RUN % 2)) = 1 ]; then
        phase_kernel; phase_xnv
    else
        phase_xnv; phase_kernel
    fi
done
xr_guests_down
nb_stop
xr_netback_load
xr_metric failures "$BENCH_FAILURES"
[ "$BENCH_FAILURES" = 0 ] || xr_fail "$BENCH_FAILURES measurement(s) failed (see out/bench/raw.tsv and this log)"
xr_pass "$RUNS runs of every path measured (out/bench/raw.tsv)"

#!/bin/bash
# xnv-rig: timeout=420
# fastpath-switch: two stock guests on xenbr0 served by xnv-netbackd with
# the switch fast path on (--fastpath xenbr0): their unicast frames go guest
# to guest by grant copy, never through the TAPs or the bridge.  Measured
# beside the bridged path of the stock kernel netback (scenario baseline,
# same boot): guest<->guest iperf3 and ping, and the ratios.
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"

SECS=${XR_IPERF_SECONDS:-10}
SOCK=/run/xnv/netbackd.sock
xr_path "xnv-netbackd switch fast path (tier 1)"
NB=$(xr_bin xnv-netbackd) || xr_fail "xnv-netbackd was not built"
CTL=$(xr_bin xnvctl) || xr_fail "xnvctl was not built"
xr_netback_unload || xr_fail "cannot unload xen-netback"
rm -f "$SOCK"
xr_daemon netbackd "$NB" --fastpath xenbr0
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || xr_fail "xnv-netbackd did not start"

xr_guest_up f1 10.0.0.31 || xr_fail "guest f1 did not come up"
xr_guest_up f2 10.0.0.32 || xr_fail "guest f2 did not come up"

rtt=$(xr_rtt f2 f1 20) || xr_fail "ping f2 -> f1 failed"
xr_metric rtt_ms "$rtt"
v=$(xr_iperf f2 f1 "$SECS") || xr_fail "iperf3 f2 -> f1 failed"
xr_metric guest_to_guest_mbps "$v"
v2=$(xr_iperf f1 f2 "$SECS") || xr_fail "iperf3 f1 -> f2 failed"
xr_metric guest_to_guest_reverse_mbps "$v2"
"$CTL" stats >&2
fp=$(xr_fastpath_packets)
xr_metric fastpath_packets "$fp"
[ "$fp" -gt 1000 ] || xr_fail "the fast path carried only $fp packets"

# the bridged path of this boot, from the baseline scenario
base() { sed -n 's/.*"name":"baseline".*"'"$1"'":\([0-9.]*\).*/\1/p' "$XR_RESULTS" | head -n1; }
bg=$(base guest_to_guest_mbps)
br=$(base guest_rtt_ms)
if [ -n "$bg" ] && [ -n "$br" ]; then
    xr_metric bridged_guest_to_guest_mbps "$bg"
    xr_metric bridged_rtt_ms "$br"
    xr_metric throughput_ratio "$(awk -v a="$v" -v b="$bg" 'BEGIN { printf "%.2f", a / b }')"
    xr_metric rtt_ratio "$(awk -v a="$rtt" -v b="$br" 'BEGIN { printf "%.2f", a / b }')"
fi
xr_guests_down
xr_pass "stock guests on one bridge talk through the switch fast path ($fp packets guest to guest)"

#!/bin/bash
# xnv-rig: timeout=240
# tier1, tour step 3 of 5: the switch fast path.  Two stock guests on the
# xnv-netbackd of step 2 (n1 reused, n2 added): their unicast frames go
# guest to guest by grant copy inside the daemon, never through the TAPs
# or the bridge.  Ping n2 -> n1 and iperf3 n2 -> n1 (5 s), the frames the
# fast path carried, beside the bridged path of step 1; then `xnvctl top`
# for a few seconds while n1 sends to n2.  Never fails on a figure (only
# when the traffic did not take the fast path at all).
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"
# shellcheck source=tour-lib.sh
. "$(dirname "$0")/tour-lib.sh"

xr_path "xnv-netbackd switch fast path (tier 1)"
tour_say "step 3 of 5: two stock guests on xnv-netbackd, guest to guest through its switch fast path (tier 1)"
tour_netbackd || xr_fail "xnv-netbackd did not start (see out/scenarios/tour-netbackd.log)"
xr_guest_up n1 10.0.0.21 || xr_fail "stock guest n1 did not come up on xnv-netbackd"
xr_guest_up n2 10.0.0.22 || xr_fail "stock guest n2 did not come up on xnv-netbackd (see out/xen/console/guest-n2.log)"

# shellcheck disable=SC2317 # called through tour_switched
measure() { tour_rtt rtt_ms n2 n1; tour_iperf guest_to_guest_mbps n2 n1; }
tour_switched n2 n1 measure
fp=$TOUR_FP
tour_bridged

# The live view, while n1 sends to n2 (not measured: the figure above is
# taken without xnvctl running beside it).  Without a terminal, xnvctl top
# prints each refresh after the previous one.
if CTL=$(xr_bin xnvctl); then
    tour_say "xnvctl top: xnv-netbackd's live view, 4 refreshes a second apart, while n1 sends to n2"
    xr_guest_run n1 -t 40 iperf3 -c "$(xr_ip n2)" -t $((TOUR_SECS + 2)) -f m >"$XR_RUN/tour-top-iperf.txt" 2>&1 &
    ip_pid=$!
    sleep 1
    timeout 30 "$CTL" top --count 4 || tour_problem "xnvctl top failed"
    wait "$ip_pid" || tour_problem "iperf3 n1 -> n2 beside xnvctl top failed: $(tail -n 3 "$XR_RUN/tour-top-iperf.txt" | tr '\n' ' ')"
else
    tour_problem "xnvctl was not built"
fi

tour_end "stock guests on one bridge talk through the switch fast path ($fp frames guest to guest)"

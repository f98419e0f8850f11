#!/bin/bash
# xnv-rig: timeout=300
# tier2, tour step 5 of 5: direct channels.  Two guests t1 and t2 on
# xnv-netfront (the userspace frontend) with channels, served by the
# xnv-netbackd of step 2, which offers them channels on xenbr0: once each
# has published a ring for the other, their unicast frames go guest to guest
# by grant copy, with neither dom0 nor the bridge in the path.  Ping t2 ->
# t1, iperf3 t2 -> t1 (5 s), the frames each sent on its channel, beside the
# bridged path of step 1.  The stock guests of steps 2 and 3 go first (they
# would only take CPU from the measurement); the tour's daemon stops at the
# end.  Never fails on a figure (only when the channels carried nothing).
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"
# shellcheck source=tour-lib.sh
. "$(dirname "$0")/tour-lib.sh"
# xc_wait_channel, xc_channel_stats (kept beside this file in the job)
# shellcheck source=../scenarios/channel-common.sh
. "$(dirname "$0")/channel-common.sh"

xr_path "xnv-netfront direct channels (tier 2)"
tour_say "step 5 of 5: two guests on xnv-netfront with direct channels between them (tier 2)"
finish() {   # the tour's guests and daemon, gone (whatever the outcome)
    xr_guests_down
    tour_netbackd_stop
}
tour_netbackd || { finish; xr_fail "xnv-netbackd did not start (see out/scenarios/tour-netbackd.log)"; }
xr_guest_down n1
xr_guest_down n2
for g in t1:10.0.0.51 t2:10.0.0.52; do
    xr_guest_up "${g%%:*}" "${g#*:}" --extra "xnv.netfront=1 xnv.channels=1" ||
        { finish; xr_fail "guest ${g%%:*} on xnv-netfront did not come up (see out/xen/console/guest-${g%%:*}.log)"; }
done

if xc_wait_channel t1 t2 60; then
    tour_say "t1 and t2 have published a channel ring for each other"
    tour_rtt rtt_ms t2 t1
    tour_iperf guest_to_guest_mbps t2 t1
    read -r tx1 _ _ <<<"$(xc_channel_stats t1)"
    read -r tx2 _ _ <<<"$(xc_channel_stats t2)"
    xr_metric channel_tx_packets_t1 "${tx1:-0}"
    xr_metric channel_tx_packets_t2 "${tx2:-0}"
    if [ "${tx1:-0}" -gt 0 ] && [ "${tx2:-0}" -gt 0 ]; then
        tour_say "frames sent on the direct channels: t2 ${tx2}, t1 ${tx1} (its acknowledgements)"
    else
        tour_problem "the traffic did not take the direct channels (t1 sent ${tx1:-0}, t2 ${tx2:-0} frames on them)"
    fi
    tour_bridged
else
    tour_problem "t1 and t2 did not set up their channels within 60 s (see out/xen/console/guest-t1.log)"
fi

finish
tour_end "two xnv-netfront guests talk over direct channels (t2 sent ${tx2:-0}, t1 ${tx1:-0} frames on them)"

#!/bin/bash
# xnv-rig: timeout=900
# fastpath-pvh: the direct channel between two PVH guests on xnv-netfront
# (grant mapping and grant copy from an HVM container): ping and iperf3
# both ways, and the frames carried by the channel.
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"
# shellcheck source=channel-common.sh
. "$(dirname "$0")/channel-common.sh"

SECS=${XR_IPERF_SECONDS:-10}
xr_path "direct channel between PVH guests"
xc_daemon_start
xc_guest_up h1 10.0.0.101 --type pvh --timeout 300
xc_guest_up h2 10.0.0.102 --type pvh --timeout 300
xc_wait_channel h1 h2 60 || xr_fail "no channel between h1 and h2 within 60 s"
rtt=$(xr_rtt h2 h1 20) || xr_fail "ping h2 -> h1 failed"
xr_metric rtt_ms "$rtt"
v=$(xr_iperf h2 h1 "$SECS") || xr_fail "iperf3 h2 -> h1 failed"
xr_metric guest_to_guest_mbps "$v"
v2=$(xr_iperf h1 h2 "$SECS") || xr_fail "iperf3 h1 -> h2 failed"
xr_metric guest_to_guest_reverse_mbps "$v2"
read -r tx1 _ _ < <(xc_channel_stats h1)
read -r tx2 _ _ < <(xc_channel_stats h2)
xr_metric channel_tx_packets_h1 "${tx1:-0}"
xr_metric channel_tx_packets_h2 "${tx2:-0}"
[ "${tx1:-0}" -gt 1000 ] && [ "${tx2:-0}" -gt 1000 ] ||
    xr_fail "the channels carried too little (h1 sent ${tx1:-0}, h2 ${tx2:-0} frames)"
xr_guests_down
xr_pass "two PVH guests talk over direct channels (h1 sent $tx1, h2 $tx2 frames on them)"

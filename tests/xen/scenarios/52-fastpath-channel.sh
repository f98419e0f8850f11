#!/bin/bash
# xnv-rig: timeout=900
# fastpath-channel: two guests on xnv-netfront with direct channels (tier 2):
# xnv-netbackd lists each as the other's peer, the guests set up a channel
# each way and their unicast frames go guest to guest by grant copy, with
# neither dom0 nor the bridge in the path.  Measured in the same run as the
# bridged path through the stock kernel netback (two stock guests): ping and
# iperf3 both ways, and the ratios.
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"
# shellcheck source=channel-common.sh
. "$(dirname "$0")/channel-common.sh"
# shellcheck source=cpu-account.sh
. "$(dirname "$0")/cpu-account.sh"

SECS=${XR_IPERF_SECONDS:-10}
xr_path "xnv-netfront direct channels (tier 2)"

# The bridged path, this run: stock netfront, kernel netback, xenbr0.
xr_netback_load || xr_fail "cannot load xen-netback"
xr_guest_up s1 10.0.0.61 || xr_fail "stock guest s1 did not come up"
xr_guest_up s2 10.0.0.62 || xr_fail "stock guest s2 did not come up"
brtt=$(xr_rtt s2 s1 20) || xr_fail "ping s2 -> s1 (bridged) failed"
bg=$(xr_iperf s2 s1 "$SECS") || xr_fail "iperf3 s2 -> s1 (bridged) failed"
xr_metric bridged_retransmits "$(xr_iperf_retr)"
bg2=$(xr_iperf s1 s2 "$SECS") || xr_fail "iperf3 s1 -> s2 (bridged) failed"
xr_metric bridged_retransmits_reverse "$(xr_iperf_retr)"
xr_metric bridged_rtt_ms "$brtt"
xr_metric bridged_guest_to_guest_mbps "$bg"
xr_metric bridged_guest_to_guest_reverse_mbps "$bg2"
xp_cpu_iperf bridged s2 s1 "$SECS" || xr_fail "iperf3 s2 -> s1 (bridged, CPU accounted) failed"

# The direct channel.
xc_daemon_start
xc_guest_up c1 10.0.0.71
xc_guest_up c2 10.0.0.72
xc_wait_channel c1 c2 30 || xr_fail "no channel between c1 and c2 within 30 s"
# The agents' data-path threads run ahead of the guests' own processes
# (nice -10): "name nice" of each nf-* thread of c1's agent.
nice_of=$(xr_guest_run c1 'for t in /proc/$(pidof xnv-netfront)/task/*; do n=$(cat $t/comm); case $n in nf-*) echo "$n $(cut -d" " -f19 $t/stat)";; esac; done' 2>&1)
echo "$nice_of" >&2
xr_metric agent_data_path_nice "$(echo "$nice_of" | awk '{ print $2 }' | sort -u | tr '\n' ' ' | sed 's/ $//')"
echo "$nice_of" | grep -q '^nf-queue0 -10$' && echo "$nice_of" | grep -q '^nf-channels -10$' ||
    xr_fail "c1's agent's data-path threads are not at nice -10: $(echo "$nice_of" | tr '\n' ' ')"
xc_measure c1 c2 "$SECS"
xr_metric throughput_ratio "$(awk -v a="$XC_MBPS" -v b="$bg" 'BEGIN { if (b > 0) printf "%.2f", a / b }')"
xr_metric throughput_ratio_reverse "$(awk -v a="$XC_MBPS_REV" -v b="$bg2" 'BEGIN { if (b > 0) printf "%.2f", a / b }')"
xr_metric rtt_ratio "$(awk -v a="$XC_RTT" -v b="$brtt" 'BEGIN { if (b > 0) printf "%.2f", a / b }')"
xp_cpu_iperf channel c2 c1 "$SECS" || xr_fail "iperf3 c2 -> c1 (channel, CPU accounted) failed"
# dom0's share of the channel path against the bridged path's, the
# harness's own dom0 time taken out of both (issue 16: goal <= 0.1)
xr_metric dom0_share_ratio "$(xr_ratio "$(xr_metric_get channel_cpu_s_per_gb_dom0_net)" \
    "$(xr_metric_get bridged_cpu_s_per_gb_dom0_net)")"
# The bound on the throughput ratio under one host thread: CPU per byte of
# the bridged path over the channel's.
xr_metric cpu_per_byte_ratio "$(xr_ratio "$(xr_metric_get bridged_cpu_s_per_gb_total)" \
    "$(xr_metric_get channel_cpu_s_per_gb_total)")"
xr_guests_down
xr_pass "two xnv-netfront guests talk over direct channels (c1 sent $XC_TX_A, c2 $XC_TX_B frames on them)"

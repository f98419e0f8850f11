#!/bin/bash
# xnv-rig: timeout=720
# fastpath-teardown: two guests on xnv-netfront with a direct channel; one
# is destroyed in the middle of a transfer over it.  The survivor drops the
# channel (@releaseDomain, the backend's peer list) and keeps working over
# its vif: ping and iperf3 with dom0; its agent is still running.  A new
# guest then gets a channel with the survivor again.
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"
# shellcheck source=channel-common.sh
. "$(dirname "$0")/channel-common.sh"

SECS=${XR_IPERF_SECONDS:-10}
xr_path "direct channel: peer destroyed mid-transfer"
xc_daemon_start
xc_guest_up t1 10.0.0.81
xc_guest_up t2 10.0.0.82
xc_wait_channel t1 t2 30 || xr_fail "no channel between t1 and t2 within 30 s"
d1=$(xr_guest_domid t1)
d2=$(xr_guest_domid t2)

# t1 sends to t2 for 20 s in the background; t2 goes away after 5 s.
xr_guest_run t1 "iperf3 -c $(xr_ip t2) -t 20 -f m >/tmp/iperf-t2.log 2>&1 &" >/dev/null
sleep 5
t0=$(xr_now_us)
xr_guest_down t2
# The survivor withdraws its ring for the dead peer.
for _ in $(seq 100); do
    xenstore-exists "/local/domain/$d1/data/xnv-channel/$d2" 2>/dev/null || break
    sleep 0.2
done
xenstore-exists "/local/domain/$d1/data/xnv-channel/$d2" 2>/dev/null &&
    xr_fail "t1 still offers a ring to the destroyed t2 after 20 s"
xr_metric channel_dropped_s "$(xr_since_s "$t0")"
xenstore-exists "/local/domain/0/backend/vif/$d1/0/xnv-peers/$d2" 2>/dev/null &&
    xr_fail "xnv-netbackd still lists the destroyed t2 as t1's peer"
xr_guest_run t1 'pidof xnv-netfront' >/dev/null || xr_fail "xnv-netfront died in t1"
sleep 16   # the background iperf3 ends (its server is gone)

# The ordinary path: t1 <-> dom0 over its vif.
rtt=$(xr_rtt dom0 t1 10) || xr_fail "ping dom0 -> t1 failed after the peer was destroyed"
xr_metric rtt_ms "$rtt"
v=$(xr_iperf t1 dom0 "$SECS") || xr_fail "iperf3 t1 -> dom0 failed after the peer was destroyed"
xr_metric guest_to_dom0_mbps "$v"
read -r tx rx fb _ <<<"$(xc_channel_stats t1)"
xr_metric channel_tx_packets "${tx:-0}"
xr_metric channel_fallbacks "${fb:-0}"

# A new peer: the channel comes back.
xc_guest_up t3 10.0.0.83
xc_wait_channel t1 t3 30 || xr_fail "no channel between t1 and the new t3 within 30 s"
rtt3=$(xr_rtt t1 t3 10) || xr_fail "ping t1 -> t3 failed"
xr_metric rtt_new_peer_ms "$rtt3"
xr_guests_down
xr_pass "t1 survived its peer's destruction mid-transfer (channel dropped, vif path working, new channel up)"

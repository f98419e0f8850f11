#!/bin/bash
# xnv-rig: timeout=420
# baseline: the stock path.  Linux's own xen-netback in dom0, stock
# xen-netfront in two PV guests on xenbr0: ping and iperf3 (TCP, one stream)
# dom0<->guest and guest<->guest.  Leaves both guests running for the
# scenarios after it.  A third guest, k2 (2 vCPUs), is measured dom0<->guest
# for the netback scenario's comparison, then destroyed.
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"

SECS=${XR_IPERF_SECONDS:-10}
xr_path "stock: kernel netback + netfront"

xr_netback_load || xr_fail "cannot load xen-netback"
xr_guest_up g1 10.0.0.11 || xr_fail "guest g1 did not come up (see out/xen/console/guest-g1.log)"
[ "$XR_GUEST_UP_S" = 0 ] || xr_metric guest_up_s "$XR_GUEST_UP_S"
xr_guest_up g2 10.0.0.12 || xr_fail "guest g2 did not come up (see out/xen/console/guest-g2.log)"

# the guests' vifs are served by the kernel backend
for g in g1 g2; do
    d=$(xr_guest_domid $g)
    [ -e "/sys/class/net/vif$d.0" ] || xr_fail "no vif$d.0 for $g in dom0"
    drv=$(basename "$(readlink "/sys/class/net/vif$d.0/device/driver" 2>/dev/null)" 2>/dev/null)
    xr_log "$g: vif$d.0 driver ${drv:-?}, bridge $(basename "$(readlink "/sys/class/net/vif$d.0/master")")"
done

rtt=$(xr_rtt dom0 g1 20) || xr_fail "ping dom0 -> g1 failed"
xr_metric rtt_ms "$rtt"
grtt=$(xr_rtt g2 g1 10) || xr_fail "ping g2 -> g1 failed"
xr_metric guest_rtt_ms "$grtt"

# measure METRIC SRC DST [CPU_METRIC]: one iperf3 run (with dom0's CPU per
# GB as CPU_METRIC); a path that moves nothing fails
measure() {
    local v c
    read -r v c <<<"$(xr_iperf_cpu "$2" "$3" "$SECS")"
    [ -n "$v" ] || xr_fail "iperf3 $2 -> $3 failed"
    xr_metric "$1" "$v"
    [ -n "${4:-}" ] && xr_metric "$4" "$c"
    awk -v v="$v" 'BEGIN { exit !(v > 0) }' || xr_fail "iperf3 $2 -> $3 moved nothing"
}
# rx / tx: the guest receives / transmits (the backend's own terms)
measure dom0_to_guest_mbps dom0 g1 dom0_cpu_s_per_gb_rx
measure guest_to_dom0_mbps g1 dom0 dom0_cpu_s_per_gb_tx
measure guest_to_guest_mbps g2 g1

# The netback scenario's stock guest has 2 vCPUs (2 queues); the kernel's
# figures for a guest of that shape, so that its xnv / kernel ratios compare
# like with like: on this rig the guest's vCPU count alone moves dom0<->guest
# by about a fifth, for either backend (docs/netback-profile.md).
xr_guest_up k2 10.0.0.13 --vcpus 2 || xr_fail "guest k2 (2 vCPUs) did not come up (see out/xen/console/guest-k2.log)"
xr_metric queues_2vcpu "$(xr_guest_queues k2)"
rtt=$(xr_rtt dom0 k2 20) || xr_fail "ping dom0 -> k2 failed"
xr_metric rtt_2vcpu_ms "$rtt"
measure dom0_to_guest_2vcpu_mbps dom0 k2 dom0_cpu_s_per_gb_rx_2vcpu
measure guest_to_dom0_2vcpu_mbps k2 dom0 dom0_cpu_s_per_gb_tx_2vcpu
xr_guest_down k2

xr_pass "stock netback/netfront: ping and iperf3 dom0<->guest and guest<->guest work"

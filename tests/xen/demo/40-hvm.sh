#!/bin/bash
# xnv-rig: timeout=600
# hvm, tour step 4 of 5: an HVM guest.  A stock HVM guest v1 (1 vCPU;
# qemu-system-xen in dom0 as its device model, the vif type=vif, so its
# xen-netfront drives the vif through the Xen platform device) on the
# xnv-netbackd of step 2, beside the PV guest n1 of steps 2 and 3: ping dom0
# -> v1, iperf3 dom0 -> v1 and v1 -> dom0, then v1 -> n1 guest to guest
# through the switch fast path (5 s each).  Its boot takes about two minutes
# under QEMU's single-threaded TCG.  Never fails on a figure.
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"
# shellcheck source=tour-lib.sh
. "$(dirname "$0")/tour-lib.sh"

xr_path "xnv-netbackd + stock HVM guest"
tour_say "step 4 of 5: a stock HVM guest on xnv-netbackd (its boot takes about two minutes here)"
tour_netbackd || xr_fail "xnv-netbackd did not start (see out/scenarios/tour-netbackd.log)"
xr_guest_down n2   # step 3's second guest: its memory and CPU to the HVM guest
xr_guest_up n1 10.0.0.21 || tour_problem "stock guest n1 did not come up on xnv-netbackd"
xr_guest_up v1 10.0.0.24 --type hvm --timeout 280 ||
    xr_fail "stock HVM guest v1 did not come up on xnv-netbackd (see out/xen/console/hvm-v1-serial.log)"
xr_metric hvm_up_s "$XR_GUEST_UP_S"
# shellcheck disable=SC2016 # expanded in the guest
tour_say "v1 is up after ${XR_GUEST_UP_S} s: $(xr_guest_run v1 cat /sys/hypervisor/guest_type) guest, eth0 driven by $(
    xr_guest_run v1 'basename $(readlink /sys/class/net/eth0/device/driver)')"

tour_rtt rtt_ms dom0 v1
tour_iperf dom0_to_guest_mbps dom0 v1
tour_iperf guest_to_dom0_mbps v1 dom0
tour_switched v1 n1 tour_iperf guest_to_guest_mbps v1 n1
fp=$TOUR_FP
xr_guest_down v1

tour_end "a stock HVM guest on xnv-netbackd: ping and iperf3 both ways, and to a PV guest through the switch ($fp frames)"

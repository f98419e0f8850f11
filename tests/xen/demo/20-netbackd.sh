#!/bin/bash
# xnv-rig: timeout=240
# netbackd, tour step 2 of 5: xnv-netbackd in dom0 in place of the kernel's
# xen-netback, started with the switch fast path on xenbr0 (--fastpath) and
# channels offered on it (channel-bridges), and kept for steps 3 and 4.  A
# stock guest n1 (stock xen-netfront, the same vif line as in step 1): its
# vif in xnvctl's list, ping dom0 -> n1, iperf3 dom0 -> n1 and n1 -> dom0
# (5 s each), beside the kernel path of step 1.  Never fails on a figure.
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"
# shellcheck source=tour-lib.sh
. "$(dirname "$0")/tour-lib.sh"

xr_path "xnv-netbackd + stock netfront"
tour_say "step 2 of 5: xnv-netbackd, the userspace backend, serving a stock guest"
tour_netbackd || xr_fail "xnv-netbackd did not start (see out/scenarios/tour-netbackd.log)"
xr_guest_up n1 10.0.0.21 || xr_fail "stock guest n1 did not come up on xnv-netbackd (see out/xen/console/guest-n1.log)"

if CTL=$(xr_bin xnvctl); then
    tour_say "xnvctl list: the vif xnv-netbackd serves for n1"
    "$CTL" list || tour_problem "xnvctl list failed"
else
    tour_problem "xnvctl was not built"
fi
tour_rtt rtt_ms dom0 n1
tour_iperf dom0_to_guest_mbps dom0 n1
tour_iperf guest_to_dom0_mbps n1 dom0

# beside the kernel's netback of step 1: xnv over kernel
for m in dom0_to_guest_mbps:dom0_to_guest_vs_kernel guest_to_dom0_mbps:guest_to_dom0_vs_kernel rtt_ms:rtt_vs_kernel; do
    r=$(tour_ratio "$(awk -v k="${m%%:*}" '$1 == k { print $2 }' "$XR_RUN/metrics/$XR_SCENARIO")" \
                   "$(tour_step_metric kernel-path "${m%%:*}")")
    [ -z "$r" ] || xr_metric "${m#*:}" "$r"
done

tour_end "a stock guest on xnv-netbackd: ping and iperf3 both ways"

#!/bin/bash
# xnv-rig: timeout=240
# kernel-path, tour step 1 of 5: the stock path, to compare with.  Linux's
# own xen-netback in dom0, two PV guests g1 and g2 with the stock
# xen-netfront on the bridge xenbr0.  Ping dom0 -> g1 and g2 -> g1, iperf3
# (one 5 s run each way that the table shows) dom0 -> g1, g1 -> dom0 and
# g2 -> g1 through the bridge.  Never fails on a figure.
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"
# shellcheck source=tour-lib.sh
. "$(dirname "$0")/tour-lib.sh"

xr_path "stock: kernel netback + netfront"
tour_say "step 1 of 5: the stock kernel path (xen-netback in dom0, xen-netfront in two guests, bridge xenbr0)"
xr_netback_load || xr_fail "cannot load xen-netback"
xr_guest_up g1 10.0.0.11 || xr_fail "guest g1 did not come up (see out/xen/console/guest-g1.log)"
xr_guest_up g2 10.0.0.12 || xr_fail "guest g2 did not come up (see out/xen/console/guest-g2.log)"

tour_rtt rtt_ms dom0 g1
tour_iperf dom0_to_guest_mbps dom0 g1
tour_iperf guest_to_dom0_mbps g1 dom0
# guest to guest through the bridge: what the fast paths of steps 3 and 4
# are put beside
tour_rtt guest_rtt_ms g2 g1
tour_iperf guest_to_guest_mbps g2 g1

tour_end "stock netback/netfront: ping and iperf3 dom0<->guest and guest->guest through xenbr0"

#!/bin/bash
# xnv-rig: timeout=900
# xnv-rig-pending: the PVH guest kernel under the emulated host crashed in iperf3 or did not come up (see interdomain/README.md)
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
xc_measure h1 h2 "$SECS"
xr_guests_down
xr_pass "two PVH guests talk over direct channels (h1 sent $XC_TX_A, h2 $XC_TX_B frames on them)"

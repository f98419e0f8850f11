#!/bin/bash
# xnv-rig: timeout=360
# netfront-kernel-backend: a guest whose kernel xen-netfront is not loaded
# runs xnv-netfront (its TAP is the guest's eth0) against the stock kernel
# netback in dom0: ping and iperf3 both ways, beside the stock netfront's
# figures of this boot (scenario baseline).
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"
# shellcheck source=netfront-common.sh
. "$(dirname "$0")/netfront-common.sh"

xr_path "xnv-netfront + kernel netback"
xr_netback_load || xr_fail "cannot load xen-netback"
netfront_guest_checks u1 10.0.0.41

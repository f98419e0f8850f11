#!/bin/bash
# xnv-rig: timeout=360
# netfront-xnv-backend: the same userspace-frontend guest against
# xnv-netbackd in dom0 (no kernel network driver on either side).
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"
# shellcheck source=netfront-common.sh
. "$(dirname "$0")/netfront-common.sh"

SOCK=/run/xnv/netbackd.sock
xr_path "xnv-netfront + xnv-netbackd"
NB=$(xr_bin xnv-netbackd) || xr_fail "xnv-netbackd was not built"
xr_netback_unload || xr_fail "cannot unload xen-netback"
rm -f "$SOCK"
xr_daemon netbackd "$NB"
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || xr_fail "xnv-netbackd did not start"
netfront_guest_checks u2 10.0.0.42

#!/bin/bash
# `make demo`: a tour of xnv on a real Xen host, in about eight minutes.
# Boots the real-Xen rig (Xen 4.17 + Debian dom0 under QEMU) and runs the
# tour's steps (tests/xen/demo/NN-*.sh) with their output shown live:
#   1 kernel-path  the stock path: xen-netback, two stock guests, ping and
#                  iperf3 dom0<->guest and guest->guest through the bridge
#   2 netbackd     xnv-netbackd in its place, a stock guest: ping, iperf3
#   3 tier1        a second stock guest, guest->guest through the daemon's
#                  switch fast path; `xnvctl top` live under traffic
#   4 hvm          a stock HVM guest on the same xnv-netbackd: ping, iperf3
#                  with dom0 and to a PV guest through the switch
#   5 tier2        two guests on xnv-netfront over direct channels
# then the comparison tables from build/xen/results.json, and where the full
# results, the logs, the test suite and the benchmarks are.  The tour never
# fails on a figure: a step that does not work says why and the next one
# runs; the exit status is non-zero only when the rig itself did not run
# (no boot, or the run was cut short).
#
#   tools/rig/demo.sh                 the tour
#   tools/rig/demo.sh SCENARIO...     the named scenarios of tests/xen/scenarios
#                                     instead (verbose, then the tables; exit
#                                     status non-zero when one fails)
# Environment: XR_TOUR_SECONDS (each iperf3 of the tour, default 5) and the
# rig's own knobs (tools/rig/README.md).
set -uo pipefail
. "$(dirname "$0")/common.sh"

TOUR=1
[ $# -eq 0 ] || TOUR=0
cat >&2 <<'EOF'
xnv demo: a Xen 4.17 host (Debian's hypervisor, kernel and toolstack) booted
under QEMU, with PV guests on the bridge xenbr0 in dom0.  Everything is
emulated (TCG): compare rows with each other, not with real hardware.
EOF
if [ $TOUR = 1 ]; then
    cat >&2 <<'EOF'
The tour: (1) the stock kernel path, (2) xnv-netbackd serving a stock guest,
(3) the switch fast path between two stock guests with `xnvctl top` live,
(4) a stock HVM guest on xnv-netbackd, (5) direct channels between two
xnv-netfront guests; then the tables.
EOF
fi
progs=$(find "$TOP/build/bin" -maxdepth 1 -type f -perm -u+x -printf '%f ' 2>/dev/null)
echo "xnv programs on the job disk: ${progs:-none}" >&2

rc=0
t0=$(date +%s)
if [ $TOUR = 1 ]; then
    XNV_RIG_SCENARIO_DIR=$TOP/tests/xen/demo "$RIG_DIR/run-scenarios.sh" --verbose || rc=$?
else
    "$RIG_DIR/run-scenarios.sh" --verbose "$@" || rc=$?
fi

echo
# (a results.json older than this run is an earlier run's)
if [ ! -f "$XB/results.json" ] || [ "$(stat -c %Y "$XB/results.json")" -lt "$t0" ]; then
    echo "no results: the rig did not run (see the lines above)"
    exit "$(( rc ? rc : 1 ))"
fi
python3 "$RIG_DIR/results.py" table "$XB/results.json" || true
if [ $TOUR = 1 ]; then
    echo
    printf 'Tour steps: '
    python3 "$RIG_DIR/results.py" summary "$XB/results.json" || true
    status=$(sed -n 's/^status=//p' "$LOGS/boot-status" 2>/dev/null)
fi
cat <<EOF

Results: $XB/results.json (every figure of every step)
Logs:    $LOGS/ (console.log: Xen and dom0; out/scenarios/NAME.log: all a step printed;
         out/xen/console/guest-NAME.log: the guests' consoles)
The full test suite (every rig scenario, with its checks): make check-xen
  (or make check for everything); one of them, verbose: tools/rig/demo.sh NAME
The benchmarks: make bench (medians over several runs of every path;
  build/xen/bench.json and the plots build/bench/rig.png, build/bench/sim.png)
EOF
if [ $TOUR = 1 ]; then
    # Steps that did not work are reported above; only a rig that did not
    # boot or did not finish its run makes the tour fail.
    case ${status:-} in
    ok | poweroff-hang) exit 0 ;;
    *) echo "the rig did not complete its run (${status:-no status}: see $LOGS/boot-status)"; exit "$(( rc ? rc : 1 ))" ;;
    esac
fi
exit $rc

#!/bin/bash
# `make demo`: boots the real-Xen rig (Xen 4.17 + Debian dom0 under QEMU),
# runs every scenario with its output shown live (the xnv programs that
# exist, guests pinging and streaming to each other), then prints the
# comparison table from build/xen/results.json: one row per data path that a
# scenario measured (the stock kernel path first; scenarios for xnv-netbackd,
# xnv-netfront and the fast paths add their rows by recording the shared
# metrics).
#   tools/rig/demo.sh [SCENARIO...]     (default: all scenarios)
set -uo pipefail
. "$(dirname "$0")/common.sh"

cat >&2 <<'EOF'
xnv demo: a Xen 4.17 host (Debian's hypervisor, kernel and toolstack) booted
under QEMU, with PV guests on the bridge xenbr0 in dom0.  Everything is
emulated (TCG): compare rows with each other, not with real hardware.
EOF
progs=$(find "$TOP/build/bin" -maxdepth 1 -type f -perm -u+x -printf '%f ' 2>/dev/null)
echo "xnv programs on the job disk: ${progs:-none}" >&2

rc=0
"$RIG_DIR/run-scenarios.sh" --verbose "$@" || rc=$?

echo
if [ -f "$XB/results.json" ]; then
    python3 "$RIG_DIR/results.py" table "$XB/results.json" || true
    echo "results: $XB/results.json   logs: $LOGS"
else
    echo "no results: the rig did not run (see the lines above)"
fi
exit $rc

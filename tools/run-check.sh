#!/bin/bash
# `make check`: every test, the host's and the rig's side by side.
#
# The rig (check-xen: images, then Xen under QEMU's single-threaded TCG for
# most scenarios) keeps one host CPU busy for most of the run; the host's
# checks (check-unit, check-san, check-valgrind, fuzz-ci, fuzz-crashes)
# run one after the other on the other CPU at the same time instead of
# before it, at a lower priority than QEMU.  Their output goes to
# build/tests/check-NAME.log; one line per check says how it ended (its
# last 40 lines when it failed), and the same lines come again at the very
# end, after the rig's: a log cut to its tail still shows which host check
# failed and why.  The status is non-zero when any check or the rig failed.
#
#   tools/run-check.sh            (after make all and the test programs)
# Environment: XNV_CHECK_SERIAL=1 runs the host's checks first, then the rig.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
MAKE=${MAKE:-make}
LOGDIR=build/tests
mkdir -p "$LOGDIR"
SUMMARY=$LOGDIR/check-host-summary.txt

run_host_checks() {
    local t rc=0 t0 log last
    for t in check-unit check-san check-valgrind "fuzz-ci fuzz-crashes"; do
        log=$LOGDIR/check-${t%% *}.log
        t0=$(date +%s)
        # shellcheck disable=SC2086 # two targets in one make
        if $MAKE --no-print-directory $t >"$log" 2>&1; then
            if [ "$t" = check-valgrind ]; then
                last="$(grep -c '^valgrind: suite' "$log") suites, no error or leak"
            else
                last=$(tail -n1 "$log")
            fi
            echo "check: $t passed in $(( $(date +%s) - t0 )) s: $last"
        else
            echo "check: $t FAILED after $(( $(date +%s) - t0 )) s (all of it in $log); its last lines:"
            tail -n40 "$log" | sed 's/^/  | /'
            rc=1
        fi
    done
    return $rc
}

# run_host_checks, its lines also kept in $SUMMARY
host_checks() {
    run_host_checks 2>&1 | tee "$SUMMARY"
    return "${PIPESTATUS[0]}"
}

if [ "${XNV_CHECK_SERIAL:-0}" = 1 ]; then
    host_checks; hrc=$?
    $MAKE --no-print-directory check-xen; xrc=$?
else
    ( renice -n 10 -p "$BASHPID" >/dev/null; host_checks ) &
    hpid=$!
    $MAKE --no-print-directory check-xen; xrc=$?
    wait "$hpid"; hrc=$?
fi
if [ "${XNV_CHECK_SERIAL:-0}" != 1 ]; then
    echo "check: the host's checks, again (they ended while the rig ran):"
    sed 's/^/  /' "$SUMMARY"
fi
[ $hrc = 0 ] || echo "check: the host's checks FAILED (above)"
[ $xrc = 0 ] || echo "check: the rig's scenarios FAILED (above)"
[ $hrc = 0 ] && [ $xrc = 0 ]

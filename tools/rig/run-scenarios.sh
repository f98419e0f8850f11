#!/bin/bash
# The real-Xen rig, end to end (`make check-xen`): makes sure the cached
# artifacts are current (Debian packages, dom0 root filesystem, initramfs
# images, dom0 disk image), packs this run's job disk, boots Xen + dom0 once
# under QEMU, runs the scenarios inside it, brings logs back and writes
# build/xen/results.json.  Exit status 0 only when every scenario passed.
#
#   tools/rig/run-scenarios.sh [--verbose] [SCENARIO...]
#   tools/rig/run-scenarios.sh --shell [SCENARIO...]
#
# SCENARIO: a name such as `baseline` (tests/xen/scenarios/NN-baseline.sh);
# default: all of them, in file name order.  --verbose shows every line the
# scenarios print.  --shell runs the given scenarios (none by default), then
# gives a root shell in dom0 on this terminal with tests/xen/lib.sh loaded.
#
# A scenario whose header says `# xnv-rig: ... tcg=multi` needs QEMU's
# multi-threaded TCG (PVH guests: under thread=single the emulated SVM
# delivers an upcall twice and the guest kernel dies); the others run under
# XNV_RIG_TCG_THREAD (default single).  When a run has both kinds, each kind
# gets its own boot, one after the other, and results.json has them all
# (logs of each boot in build/xen/logs/tcg-MODE).
#
# Environment: XNV_RIG_TIMEOUT (whole QEMU run, default: boot allowance +
# the sum of the scenario timeouts), XNV_RIG_BOOT_TIMEOUT (default 180),
# XNV_RIG_REFRESH=1 (refresh the package index now), XNV_RIG_SCENARIO_DIR
# (scenario files from another folder), see also boot.sh.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_root

VERBOSE=0 SHELL_MODE=0 WANT=()
while [ $# -gt 0 ]; do
    case $1 in
    --verbose | -v) VERBOSE=1 ;;
    --shell) SHELL_MODE=1 ;;
    -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) WANT+=("$1") ;;
    esac
    shift
done

mkdir -p "$XB"
# XNV_RIG_LOCK: one lock for several trees on one machine (two emulated hosts
# at once would share its cores and distort every measurement)
LOCK=${XNV_RIG_LOCK:-$XB/.lock}
exec 9>"$LOCK"
if [ -n "${XNV_RIG_SUBRUN:-}" ]; then
    :   # one boot of a run of several: the run holds the lock
elif ! flock -n 9; then
    phase "rig: waiting for another rig run to finish ($LOCK)"
    flock -w 5400 9 || die "another rig run holds $LOCK"
    RIG_T0=${EPOCHREALTIME/./}   # time this run from here on
fi
rm -rf "$LOGS"
mkdir -p "$LOGS"
RESULTS=${XNV_RIG_RESULTS:-$XB/results.json}
rm -f "$RESULTS"

# --- which scenarios ---------------------------------------------------------
# XNV_RIG_SCENARIO_DIR: take the scenario files from another folder (to try
# a scenario out without adding it to tests/xen/scenarios)
SCEN_DIR=${XNV_RIG_SCENARIO_DIR:-$TOP/tests/xen/scenarios}
export XNV_RIG_SCENARIO_DIR=$SCEN_DIR
FILES=() NAMES=()
for f in "$SCEN_DIR"/[0-9]*.sh; do
    [ -e "$f" ] || continue
    b=$(basename "$f"); n=${b%.sh}; n=${n#[0-9]*-}
    if [ ${#WANT[@]} -gt 0 ]; then
        keep=0
        for w in "${WANT[@]}"; do [ "$w" = "$n" ] && keep=1; done
        [ $keep = 1 ] || continue
    elif [ $SHELL_MODE = 1 ]; then
        continue
    else
        # "# xnv-rig-pending: WHY": a scenario that does not pass yet runs
        # only when named (it stays out of make check-xen and make demo)
        why=$(sed -n 's/^# xnv-rig-pending: *//p' "$f" | head -n1)
        if [ -n "$why" ]; then
            phase "rig: scenario $n left out (pending: $why); name it to run it"
            continue
        fi
    fi
    FILES+=("$b"); NAMES+=("$n")
done
for w in "${WANT[@]}"; do
    printf '%s\n' "${NAMES[@]}" | grep -qx -- "$w" || die "no scenario named '$w' in ${SCEN_DIR#"$TOP"/}"
done
[ ${#FILES[@]} -gt 0 ] || [ $SHELL_MODE = 1 ] || die "no scenarios in $SCEN_DIR"

# --- one boot per TCG mode ---------------------------------------------------
DEFAULT_TCG=${XNV_RIG_TCG_THREAD:-single}
tcg_of() {   # FILE: the TCG mode the scenario needs
    local t
    t=$(sed -n 's/^# xnv-rig:.*tcg=\([a-z]*\).*/\1/p' "$SCEN_DIR/$1" | head -n1)
    echo "${t:-$DEFAULT_TCG}"
}
MODES=()
for f in "${FILES[@]}"; do
    m=$(tcg_of "$f")
    printf '%s\n' "${MODES[@]}" | grep -qx -- "$m" || MODES+=("$m")
done
if [ ${#MODES[@]} -gt 1 ] && [ -z "${XNV_RIG_SUBRUN:-}" ] && [ $SHELL_MODE = 0 ]; then
    rc=0 PARTS=()
    for m in "${MODES[@]}"; do
        sel=()
        for i in "${!FILES[@]}"; do
            [ "$(tcg_of "${FILES[$i]}")" = "$m" ] && sel+=("${NAMES[$i]}")
        done
        phase "rig: boot with TCG thread=$m for: ${sel[*]}"
        opts=()
        [ $VERBOSE = 1 ] && opts+=(--verbose)
        XNV_RIG_SUBRUN=1 XNV_RIG_TCG_THREAD=$m XNV_RIG_LOGS=$LOGS/tcg-$m \
            XNV_RIG_RESULTS=$LOGS/tcg-$m/results.json \
            "$0" "${opts[@]}" "${sel[@]}" || rc=1
        PARTS+=("$LOGS/tcg-$m/results.json")
    done
    python3 "$RIG_DIR/results.py" merge "$RESULTS" "${PARTS[@]}" -- "${NAMES[@]}" >"$LOGS/summary.txt" || rc=1
    cat "$LOGS/summary.txt" >&2
    phase "results: $RESULTS (logs of each boot in $LOGS/tcg-*)"
    if [ $rc = 0 ]; then phase "rig: all ${#NAMES[@]} scenario(s) passed"; else phase "rig: FAILED"; fi
    exit $rc
fi
export XNV_RIG_TCG_THREAD=${MODES[0]:-$DEFAULT_TCG}

# results.json is written however the run ends; scenarios without a record
# are failed with the reason boot.sh (or a failed build) left behind.
ASSEMBLED=0
assemble() {   # [REASON if QEMU never ran]
    if [ $ASSEMBLED = 1 ] || [ $SHELL_MODE = 1 ]; then return 0; fi
    ASSEMBLED=1
    if [ ! -f "$LOGS/boot-status" ]; then
        printf 'status=not-run\nreason=%s\n' "${1:-the rig run stopped before QEMU started}" >"$LOGS/boot-status"
    fi
    python3 "$RIG_DIR/results.py" assemble "$RESULTS" "$LOGS" "${NAMES[@]}" >"$LOGS/summary.txt"
    local rc=$?
    cat "$LOGS/summary.txt" >&2
    phase "results: $RESULTS (logs in $LOGS)"
    return $rc
}
trap 'assemble "the rig run was interrupted or failed before the boot (see the lines above)" || true' EXIT
trap 'exit 130' INT TERM HUP

phase "rig: scenarios: ${NAMES[*]:-(none)}"

# --- cached artifacts ------------------------------------------------------
"$RIG_DIR/fetch-debs.sh"
if ! "$RIG_DIR/build-rootfs.sh"; then
    # Most likely the package index moved on under us (a new security
    # upload): refresh it and try once more.
    phase "rootfs: retrying with a fresh package index"
    XNV_RIG_REFRESH=1 "$RIG_DIR/fetch-debs.sh"
    "$RIG_DIR/build-rootfs.sh"
fi
"$RIG_DIR/build-initrds.sh"
"$RIG_DIR/build-image.sh"
load_versions
hostv=$(dpkg-query -W -f='${Version}' libxen-dev 2>/dev/null || true)
if [ -n "$hostv" ] && [ "$hostv" != "$XEN_VERSION" ]; then
    phase "warning: host libxen-dev $hostv differs from the rig's Xen $XEN_VERSION (same 4.17 ABI expected)"
fi

# --- job disk, timeouts ----------------------------------------------------
total=0
for f in "${FILES[@]}"; do
    t=$(sed -n 's/^# xnv-rig:.*timeout=\([0-9]*\).*/\1/p' "$SCEN_DIR/$f" | head -n1)
    total=$((total + ${t:-300}))
done
BOOT_TIMEOUT=${XNV_RIG_BOOT_TIMEOUT:-180}
# dom0 bounds the job itself a little under what the host allows
export XR_JOB_TIMEOUT=$((total + 60))
if [ $SHELL_MODE = 1 ]; then XR_JOB_TIMEOUT=86400; fi
TIMEOUT=${XNV_RIG_TIMEOUT:-$((BOOT_TIMEOUT + total + 90))}
export XR_VERBOSE=$VERBOSE XR_SHELL=$SHELL_MODE
JOBIMG=$XB/job.img
"$RIG_DIR/pack-job.sh" "$JOBIMG" "${FILES[@]}"

if [ $SHELL_MODE = 1 ]; then
    phase "qemu: interactive (Ctrl-a x quits QEMU; 'exit' in the shell powers off)"
    "$RIG_DIR/boot.sh" --interactive --job "$JOBIMG"
    exit 0
fi

# --- boot and run ------------------------------------------------------------
boot_rc=0
# In the background so that a signal to this script reaches boot.sh at once
# (boot.sh then stops QEMU and records why).
"$RIG_DIR/boot.sh" --job "$JOBIMG" --log "$LOGS" --timeout "$TIMEOUT" --boot-timeout "$BOOT_TIMEOUT" &
BOOT_PID=$!
trap 'kill -TERM $BOOT_PID 2>/dev/null; wait $BOOT_PID; exit 130' INT TERM HUP
wait $BOOT_PID || boot_rc=$?
trap 'exit 130' INT TERM HUP
if [ ! -f "$LOGS/boot-status" ]; then
    printf 'status=died\nreason=%s\n' "the QEMU runner boot.sh ended (status $boot_rc) without a report" >"$LOGS/boot-status"
fi

# A killed QEMU may leave the job disk's journal unreplayed: fsck it first.
e2fsck -fy "$JOBIMG" >"$LOGS/job-fsck.log" 2>&1 || true
debugfs -R "rdump /out $LOGS" "$JOBIMG" >"$LOGS/job-rdump.log" 2>&1 || true
[ -d "$LOGS/out" ] || phase "warning: nothing came back from the job disk"

rc=0
assemble "" || rc=$?
if [ $boot_rc != 0 ]; then rc=1; fi
if [ $rc = 0 ]; then phase "rig: all ${#NAMES[@]} scenario(s) passed"; else phase "rig: FAILED"; fi
exit $rc

#!/bin/bash
# The dom0 side of a rig run: /job/run.sh on the per-run job disk, started by
# dom0's init once the toolstack is up.  Prepares this run's guest initramfs,
# then runs the scenarios of /job/scenarios.list in order within this one
# boot, each under its own timeout.  A scenario that exits or is killed
# without recording a result gets a fail record written here.
# Stdout is dom0's console: the host shows the XNV- lines as they come.
set -uo pipefail
export XR_JOB=/job
set -a   # job.env's variables are for the scenarios too
# shellcheck source=/dev/null
. /job/job.env
set +a
# shellcheck source=../../../tests/xen/lib.sh
. /job/xen/lib.sh

say() { echo "XNV-PROGRESS $*"; }

mkdir -p "$XR_RUN" "$XR_OUT/scenarios"
: >"$XR_RESULTS"
exec 2>&1
say "job: dom0 up, $(xl info 2>/dev/null | awk '$1 == "free_memory" { print $3 }') MB free for guests"
{
    xl info
    echo
    lsmod
    echo
    ls -l /dev/xen /dev/net/tun
} >"$XR_OUT/dom0-info.txt" 2>&1

# This run's guest initramfs: the cached base plus the overlay with the guest
# init and our programs (Linux unpacks concatenated archives in order).
cat /var/lib/xnv-rig/domu-base.cpio /job/rig/domu-overlay.cpio >"$XR_RUN/domu-initrd.cpio"
export XR_GUEST_INITRD=$XR_RUN/domu-initrd.cpio
# dom0's own iperf3 server, for scenarios whose guests send to dom0
iperf3 -s -D >/dev/null 2>&1

# the header line "# xnv-rig: timeout=SECONDS" of a scenario, else the default
scenario_timeout() {
    local t
    t=$(sed -n 's/^# xnv-rig:.*timeout=\([0-9]*\).*/\1/p' "$1" | head -n1)
    echo "${t:-${XR_DEFAULT_TIMEOUT:-300}}"
}
has_record() { grep -q "^{\"name\":\"$1\"," "$XR_RESULTS"; }

mapfile -t scenarios </job/scenarios.list
for f in "${scenarios[@]}"; do
    [ -n "$f" ] || continue
    path=/job/xen/scenarios/$f
    name=${f%.sh}; name=${name#[0-9]*-}
    t=$(scenario_timeout "$path")
    log=$XR_OUT/scenarios/$name.log
    say "scenario $name: start (timeout ${t}s)"
    rm -f "$XR_RUN/metrics/$name" "$XR_RUN/metrics/$name.path"
    XR_SCENARIO=$name XR_T0=$(xr_now_us) \
        timeout -k 10 "$t" bash "$path" >"$log" 2>&1 </dev/null &
    spid=$!
    # Live view: XNV- lines always; in verbose runs (make demo) every line.
    if [ "${XR_VERBOSE:-0}" = 1 ]; then
        tail -s 0.3 -n +1 -F --pid=$spid "$log" 2>/dev/null | sed -u -E '/^XNV-(LOG|PROGRESS|RESULT|FATAL) /!s/^/XNV-OUT   /'
    else
        tail -s 0.3 -n +1 -F --pid=$spid "$log" 2>/dev/null | grep --line-buffered -E '^XNV-(LOG|PROGRESS|RESULT|FATAL) '
    fi
    wait $spid
    rc=$?
    XR_SCENARIO=$name xr_daemons_stop
    # a scenario killed with dom0 capped (xr_dom0_cap) must not slow the next
    if [ -f "$XR_RUN/dom0-cap" ]; then
        say "scenario $name: left dom0's CPU capped; removing the cap"
        XR_SCENARIO=$name xr_dom0_uncap
    fi
    if ! has_record "$name"; then
        case $rc in
        124 | 137) reason="timed out after ${t}s (killed by the dom0 runner)" ;;
        *) reason="exited with status $rc without recording a result" ;;
        esac
        xr_record "$name" false "$reason"
    fi
    if grep "^{\"name\":\"$name\"," "$XR_RESULTS" | tail -n1 | grep -q '"pass":true'; then
        say "scenario $name: PASS"
    else
        say "scenario $name: FAIL"
    fi
    cp -a /var/log/xen "$XR_OUT/" 2>/dev/null
    sync
done

if [ "${XR_SHELL:-0}" = 1 ]; then
    say "interactive: root shell on hvc0 with the scenario helpers loaded (exit powers off)"
    XR_SCENARIO=shell setsid -c bash --rcfile /job/xen/lib.sh -i <>/dev/hvc0 >&0 2>&1
fi

XR_SCENARIO=job xr_guests_down >/dev/null 2>&1
cp -a /var/log/xen "$XR_OUT/" 2>/dev/null
dmesg >"$XR_OUT/dom0-dmesg.txt" 2>&1
xl dmesg >"$XR_OUT/xen-dmesg.txt" 2>&1
sync
echo "XNV-JOB-DONE"

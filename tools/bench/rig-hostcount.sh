#!/bin/bash
# Counts, from the host, what the emulated CPU does during marked windows of
# a rig run: under TCG every kernel crossing of a PV dom0's user process
# writes CR3 twice (Xen switches between the guest's user and kernel page
# tables), and each CR3 write makes QEMU flush its TLB and its jump cache,
# which the code run after it refills.  These counts are not sampled: they
# are the same from run to run for the same work, where throughput is not.
#
#   tools/bench/rig-hostcount.sh start OUTDIR [CONSOLE_LOG]
#   tools/bench/rig-hostcount.sh stop OUTDIR
#
# start puts uprobes on QEMU (perf probe) and follows the rig's console log
# (default build/xen/logs/console.log): a line "XNV-HOSTCOUNT start TAG"
# (tests/xen/lib.sh: xr_hostcount) starts `perf stat` on the QEMU process,
# "XNV-HOSTCOUNT stop TAG" ends it; OUTDIR/TAG.csv then holds
# value,unit,event lines: task-clock (host CPU ms) and one count per probe.
# Without perf, or where a probe cannot be placed, it says so and the
# windows are not counted (the run itself is not affected).
# XNV_HOSTCOUNT_PROBES=0 counts task-clock only: each probe hit is a trap
# into the host's kernel (about 11-13 us of host time here), so the probes
# weigh on the work they count.
# XNV_HOSTCOUNT_RECORD=HZ also samples QEMU at HZ per second in each window
# (OUTDIR/TAG.data, `perf report -i` it): where the host's time goes.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cmd=${1:-} out=${2:-}
if [ -z "$cmd" ] || [ -z "$out" ]; then
    echo "usage: rig-hostcount.sh start|stop OUTDIR [CONSOLE_LOG]" >&2
    exit 2
fi
# cpu_x86_update_cr3: every CR3 write; do_interrupt_all: every interrupt and
# exception the emulated CPUs take (hypercalls of a PV kernel are not among them)
PROBES=(cpu_x86_update_cr3 do_interrupt_all)

probes_del() { perf probe -q -d 'probe_qemu:*' >/dev/null 2>&1 || true; }

case $cmd in
start)
    mkdir -p "$out"
    log=${3:-$TOP/build/xen/logs/console.log}
    qemu=$(command -v qemu-system-x86_64) || { echo "rig-hostcount: no qemu-system-x86_64" >&2; exit 0; }
    command -v perf >/dev/null || { echo "rig-hostcount: no perf on the host: windows not counted" >&2; exit 0; }
    probes_del
    events=task-clock
    [ "${XNV_HOSTCOUNT_PROBES:-1}" = 0 ] && PROBES=()
    for p in "${PROBES[@]}"; do
        if perf probe -q -x "$qemu" "$p" >/dev/null 2>&1; then
            events+=",probe_qemu:$p"
        else
            echo "rig-hostcount: cannot probe $p in $qemu: not counted" >&2
        fi
    done
    (
        declare -A pid rec
        tail -n0 -F "$log" 2>/dev/null | while read -r line; do
            case $line in
            *"XNV-HOSTCOUNT start "*)
                tag=${line##*XNV-HOSTCOUNT start }; tag=${tag//[^A-Za-z0-9._-]/}
                q=$(pgrep -n -f 'qemu-system-x86_64 .*-kernel') || continue
                perf stat -x, -e "$events" -p "$q" -o "$out/$tag.csv" >/dev/null 2>&1 &
                pid[$tag]=$!
                if [ -n "${XNV_HOSTCOUNT_RECORD:-}" ]; then
                    perf record -q -F "$XNV_HOSTCOUNT_RECORD" -p "$q" -o "$out/$tag.data" >/dev/null 2>&1 &
                    rec[$tag]=$!
                fi ;;
            *"XNV-HOSTCOUNT stop "*)
                tag=${line##*XNV-HOSTCOUNT stop }; tag=${tag//[^A-Za-z0-9._-]/}
                [ -n "${pid[$tag]:-}" ] && kill -INT "${pid[$tag]}" 2>/dev/null
                [ -n "${rec[$tag]:-}" ] && kill -INT "${rec[$tag]}" 2>/dev/null
                unset "pid[$tag]" "rec[$tag]" ;;
            esac
        done
    ) >/dev/null 2>&1 &
    echo $! >"$out/.watcher"
    ;;
stop)
    if [ -f "$out/.watcher" ]; then
        w=$(cat "$out/.watcher")
        pkill -P "$w" 2>/dev/null; kill "$w" 2>/dev/null
        rm -f "$out/.watcher"
        sleep 1   # perf stat writes its file on SIGINT
    fi
    probes_del
    ;;
*) echo "rig-hostcount: unknown command $cmd" >&2; exit 2 ;;
esac
exit 0

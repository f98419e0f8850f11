#!/bin/bash
# xnv-rig: timeout=2400
# netback-profile: where dom0's time goes per byte, the kernel's xen-netback
# and xnv-netbackd side by side in one boot (run by tools/bench/rig-profile.sh,
# not a test).  XR_PROFILE_RUNS runs, the two backends in alternating order;
# for each backend and direction (rx: dom0 -> guest, tx: guest -> dom0):
#
#   1. a counted transfer (iperf3, XR_PROFILE_SECONDS): receiver Mbit/s,
#      dom0 busy CPU seconds per GB (/proc/stat), system-wide perf stat
#      (cpu-clock, context switches, syscalls by kind), the daemon's own
#      syscalls and context switches (xnv only), dom0 interrupts of the vif
#      (event channels the backend received), the guest's interrupts of its
#      netfront (notifications it received), the vif's frames and bytes
#      (bytes per frame: is GSO 64 KiB end to end?), xnvctl's counters
#      (grant-copy calls and segments, notifications); the window is marked
#      for the host (xr_hostcount), which counts the emulated CPU's page-table
#      switches and interrupts in it (tools/bench/rig-hostcount.sh);
#   2. the same transfer under `perf record -a -g` (cpu-clock), whose report
#      by symbol goes to out/profile/.
#
# Figures go to out/profile/raw.tsv (run, backend, direction, metric, value).
XR_LIB=${XR_LIB:-/job/xen/lib.sh}
# shellcheck source=../lib.sh
. "$XR_LIB"
# shellcheck source=../bench/bench-lib.sh
. "${XR_LIB%/*}/bench/bench-lib.sh" || xr_fail "no bench-lib.sh beside lib.sh"

RUNS=${XR_PROFILE_RUNS:-2}
SECS=${XR_PROFILE_SECONDS:-10}
# XR_PROFILE_GUEST_TYPE: pv (default) or hvm, the kind of the guest p1 (one
# vCPU either way)
GUEST_TYPE=${XR_PROFILE_GUEST_TYPE:-pv}
case $GUEST_TYPE in pv|hvm) ;; *) xr_fail "XR_PROFILE_GUEST_TYPE must be pv or hvm, not $GUEST_TYPE" ;; esac
p1_up() { xr_guest_up p1 10.0.0.61 --type "$GUEST_TYPE"; }
P=$XR_OUT/profile
RAW=$P/raw.tsv
SOCK=/run/xnv/netbackd.sock
mkdir -p "$P"
: >"$RAW"
xr_path "netback profile: $RUNS runs, $GUEST_TYPE guest"
NB=$(xr_bin xnv-netbackd) || xr_fail "xnv-netbackd was not built"
CTL=$(xr_bin xnvctl) || xr_fail "xnvctl was not built"
command -v perf >/dev/null || xr_fail "perf is not installed in dom0"
mountpoint -q /sys/kernel/tracing 2>/dev/null || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
FAILS=0

raw() { printf '%s\t%s\t%s\t%s\t%s\n' "$RUN" "$BE" "$DIR" "$1" "$2" >>"$RAW"; xr_log "run $RUN $BE $DIR: $1 = $2"; }
fail() { FAILS=$((FAILS + 1)); raw error "$*"; }

# Syscalls counted by kind (tracepoints); the whole set and the daemon's.
SYSCALLS="raw_syscalls:sys_enter,syscalls:sys_enter_readv,syscalls:sys_enter_writev,syscalls:sys_enter_read,syscalls:sys_enter_write,syscalls:sys_enter_ioctl,syscalls:sys_enter_poll,syscalls:sys_enter_ppoll"
STAT_EVENTS="cpu-clock,context-switches,cpu-migrations,$SYSCALLS"

# dom0 interrupts of the vif's event channels: the kernel backend names them
# vif<d>.<n>-q<k>-{tx,rx}, the evtchn device the daemon's ports "evtchn:xnv-netbackd".
dom0_irqs() {
    awk -v d="vif$1." '$0 ~ d || /evtchn:xnv-netbackd/ { s = 0; for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; else break; t += s }
                       END { print t + 0 }' /proc/interrupts
}
# the guest's netfront interrupts (notifications it received): named
# <netdev>-q<k>-{tx,rx} with split channels, <netdev>-q<k> with one channel
# per queue and several queues, <netdev> (eth0) with one channel and one queue
guest_irqs() {
    xr_guest_run "$1" "awk '/-q[0-9]/ || \$NF ~ /^eth[0-9]+\$/ { s = 0; for (i = 2; i <= NF; i++) if (\$i ~ /^[0-9]+\$/) s += \$i; else break; t += s } END { print t + 0 }' /proc/interrupts"
}
# dom_cpu A B: CPU seconds so far of domains A and B (xl list), "A B"
dom_cpu() { xl list 2>/dev/null | awk -v a="$1" -v b="$2" '$2 == a { x = $NF } $2 == b { y = $NF } END { print x + 0, y + 0 }'; }
vif_stat() { cat "/sys/class/net/vif$1.0/statistics/$2" 2>/dev/null || echo 0; }
# daemon: context switches (all threads) and read/write syscalls of /proc/PID/io
daemon_ctxsw() {
    [ -n "$NBPID" ] || { echo 0; return; }
    cat /proc/"$NBPID"/task/*/status 2>/dev/null | awk '/ctxt_switches/ { s += $2 } END { print s + 0 }'
}
# xnvctl counters summed over queues: "name value" lines
xnv_counters() {
    [ -n "$NBPID" ] || return 0
    "$CTL" --json 2>/dev/null | grep -o '"stats":{[^}]*}' | grep -o '"[a-z_]*":[0-9]*' | tr -d '"' |
        awk -F: '{ s[$1] += $2 } END { for (k in s) print k, s[k] }'
}

# measure SRC DST: one counted transfer, then one under perf record
measure() {
    local src=$1 dst=$2 guest=$3 d c0 c1 i0 i1 g0 g1 x0 x1 k0 k1 v pstat prof
    d=$(xr_guest_domid "$guest")
    pstat=$P/stat-$RUN-$BE-$DIR.txt
    prof=$P/perf-$RUN-$BE-$DIR.data
    local t0 t1
    t0=$(dom_cpu 0 "$d")
    c0=$(bench_cpu_ticks); i0=$(dom0_irqs "$d"); g0=$(guest_irqs "$guest")
    x0=$(xnv_counters); k0=$(daemon_ctxsw)
    local vr0 vt0 vrb0 vtb0
    vr0=$(vif_stat "$d" rx_packets); vt0=$(vif_stat "$d" tx_packets)
    vrb0=$(vif_stat "$d" rx_bytes); vtb0=$(vif_stat "$d" tx_bytes)
    perf stat -a -x, -e "$STAT_EVENTS" -o "$pstat.all" -- sleep "$SECS" 2>/dev/null &
    local ps1=$! ps2=
    if [ -n "$NBPID" ]; then
        perf stat -x, -e "$STAT_EVENTS" -p "$NBPID" -o "$pstat.daemon" -- sleep "$SECS" 2>/dev/null &
        ps2=$!
    fi
    xr_hostcount start "$RUN-$BE-$DIR"
    v=$(xr_iperf "$src" "$dst" "$SECS") || v=
    xr_hostcount stop "$RUN-$BE-$DIR"
    if [ -z "$v" ]; then
        fail "iperf3 $src -> $dst failed"
        wait $ps1 $ps2 2>/dev/null
        return 1
    fi
    wait $ps1 $ps2 2>/dev/null
    c1=$(bench_cpu_ticks); i1=$(dom0_irqs "$d"); g1=$(guest_irqs "$guest")
    t1=$(dom_cpu 0 "$d")
    x1=$(xnv_counters); k1=$(daemon_ctxsw)
    raw mbps "$v"
    raw cpu_s_per_gb "$(awk -v t=$((c1 - c0)) -v hz="$BENCH_HZ" -v m="$v" -v s="$SECS" \
        'BEGIN { gb = m * s / 8000; if (gb > 0) printf "%.3f", t / hz / gb; else print "NaN" }')"
    # CPU seconds per GB of each domain as the hypervisor accounts them
    # (xl list): under TCG one host thread runs every vCPU, so the guest's
    # share decides the throughput as much as dom0's
    read -r a0 b0 <<<"$t0"; read -r a1 b1 <<<"$t1"
    raw xl_dom0_s_per_gb "$(awk -v t="$(awk -v a="$a0" -v b="$a1" 'BEGIN { print b - a }')" -v m="$v" -v s="$SECS" 'BEGIN { printf "%.3f", t / (m * s / 8000) }')"
    raw xl_guest_s_per_gb "$(awk -v t="$(awk -v a="$b0" -v b="$b1" 'BEGIN { print b - a }')" -v m="$v" -v s="$SECS" 'BEGIN { printf "%.3f", t / (m * s / 8000) }')"
    raw bytes "$(awk -v m="$v" -v s="$SECS" 'BEGIN { printf "%.0f", m * s * 125000 }')"
    raw dom0_vif_irqs $((i1 - i0))
    raw guest_netfront_irqs $((g1 - g0))
    # the vif as dom0 sees it: rx = frames from the guest, tx = frames to it
    raw vif_rx_packets $(($(vif_stat "$d" rx_packets) - vr0))
    raw vif_rx_bytes $(($(vif_stat "$d" rx_bytes) - vrb0))
    raw vif_tx_packets $(($(vif_stat "$d" tx_packets) - vt0))
    raw vif_tx_bytes $(($(vif_stat "$d" tx_bytes) - vtb0))
    [ -n "$NBPID" ] && raw daemon_ctxsw $((k1 - k0))
    if [ -n "$x0" ]; then
        local k a b
        while read -r k b; do
            a=$(echo "$x0" | awk -v k="$k" '$1 == k { print $2 }')
            raw "xnv_$k" $((b - ${a:-0}))
        done <<<"$x1"
    fi
    # perf stat -x, lines: value,unit,event,...
    local f tag
    for f in "$pstat.all" "$pstat.daemon"; do
        [ -f "$f" ] || continue
        tag=$([ "$f" = "$pstat.all" ] && echo all || echo daemon)
        awk -F, -v t="$tag" '$1 ~ /^[0-9.]+$/ { e = $3; gsub(/.*:/, "", e); print t "_" e, $1 }' "$f" |
            while read -r k b; do raw "$k" "$b"; done
    done
    # the same transfer under perf record (its throughput is not counted)
    perf record -a -g -F 499 -e cpu-clock -o "$prof" -- sleep "$SECS" >/dev/null 2>&1 &
    local pr=$!
    xr_iperf "$src" "$dst" "$SECS" >/dev/null || fail "iperf3 $src -> $dst under perf record failed"
    wait $pr 2>/dev/null
    perf report -i "$prof" --no-children --sort dso,sym --stdio -g none 2>/dev/null |
        grep -v '^$' | head -n 400 >"$P/report-$RUN-$BE-$DIR.txt"
    # Every sample folded to "count comm leaf caller caller2": in a PV dom0
    # every hypercall leaves through one entry (xen_hypercall_pv), so its
    # callers tell grant copies from event channels from idle.
    perf script -i "$prof" -F comm,ip,sym 2>/dev/null | awk '
        function flush() { if (n) print comm, (n > 0 ? f[1] : "-"), (n > 1 ? f[2] : "-"), (n > 2 ? f[3] : "-"); n = 0 }
        /^[^ \t]/ { flush(); comm = $1; next }
        NF >= 2 { if (n < 3) { sym = $2; sub(/\+0x[0-9a-f]+$/, "", sym); f[++n] = sym } next }
        NF == 1 && $1 ~ /^[0-9a-f]+$/ { if (n < 3) f[++n] = "[unknown]"; next }
        END { flush() }' | sort | uniq -c | sort -rn | head -n 300 >"$P/folded-$RUN-$BE-$DIR.txt"
    perf report -i "$prof" --no-children --sort comm --stdio 2>/dev/null |
        grep '%' | head -n 30 >"$P/comm-$RUN-$BE-$DIR.txt"
    rm -f "$prof" "$prof.old"
}

NBPID=
nb_stop() {
    [ -n "$NBPID" ] || return 0
    kill "$NBPID" 2>/dev/null; wait "$NBPID" 2>/dev/null
    NBPID=
}

phase_kernel() {
    BE=kernel
    xr_guests_down; nb_stop
    xr_netback_load || { DIR=- fail "cannot load xen-netback"; return 1; }
    p1_up || { DIR=- fail "p1 did not come up"; return 1; }
    DIR=rx measure dom0 p1 p1
    DIR=tx measure p1 dom0 p1
    xr_guests_down
}

# phase_xnv [NAME BINARY]: xnv-netbackd, or another build of it (an A/B
# comparison in one boot: tools/bench/rig-profile.sh --alt BINARY)
phase_xnv() {
    BE=${1:-xnv}
    local bin=${2:-$NB}
    xr_guests_down
    xr_netback_unload || { DIR=- fail "cannot unload xen-netback"; return 1; }
    rm -f "$SOCK"
    "$bin" >>"$XR_OUT/scenarios/$XR_SCENARIO.netbackd.log" 2>&1 &
    NBPID=$!
    echo "$NBPID" >>"$XR_RUN/daemons.$XR_SCENARIO"
    for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
    p1_up || { DIR=- fail "p1 did not come up on xnv-netbackd"; nb_stop; return 1; }
    DIR=rx measure dom0 p1 p1
    DIR=tx measure p1 dom0 p1
    xr_guests_down
    nb_stop
}

ALT=$(xr_bin xnv-netbackd-alt 2>/dev/null) || ALT=
phase() { case $1 in kernel) phase_kernel ;; xnv) phase_xnv ;; xnv-alt) phase_xnv xnv-alt "$ALT" ;; esac; }
ORDER="kernel xnv${ALT:+ xnv-alt}"
for RUN in $(seq "$RUNS"); do
    # every run starts with the next backend of the list: drift of the
    # emulated host falls on each in turn
    set -- $ORDER
    for _ in $(seq $(( (RUN - 1) % $# ))); do set -- "${@:2}" "$1"; done
    for b in "$@"; do phase "$b"; done
done
# A/B of the two daemon builds on one guest that stays up: the daemon is
# swapped (a graceful exit keeps the guest's vif and rings) between short
# counted transfers, A B B A A B ..., so that the pairs share the host's
# drift far more closely than phases minutes apart do.
ab_swap() {
    nb_stop
    rm -f "$SOCK"
    # XR_PROFILE_AB_REPLUG=1: builds whose interfaces differ in kind (a TAP,
    # a veth pair) cannot take over each other's; the interface is removed
    # and the new one put on the same bridge here, as the hotplug script would
    local vif="" br=""
    if [ "${XR_PROFILE_AB_REPLUG:-0}" = 1 ]; then
        vif=vif$(xr_guest_domid p1).0
        br=$(basename "$(readlink "/sys/class/net/$vif/master" 2>/dev/null)" 2>/dev/null)
        ip link del "$vif" 2>/dev/null
    fi
    "$1" >>"$XR_OUT/scenarios/$XR_SCENARIO.netbackd.log" 2>&1 &
    NBPID=$!
    echo "$NBPID" >>"$XR_RUN/daemons.$XR_SCENARIO"
    for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
    if [ -n "$br" ]; then
        for _ in $(seq 50); do [ -e "/sys/class/net/$vif" ] && break; sleep 0.1; done
        ip link set dev "$vif" master "$br" up || xr_log "cannot put $vif on $br"
    fi
    xr_wait_ping 10.0.0.61 20
}
ab_one() {   # ab_one NAME: an idle round trip, then one counted transfer each way
    local v
    DIR=rx
    if v=$(xr_rtt dom0 p1 20); then raw rtt_ms "$v"; else fail "ping ($BE) failed"; fi
    for DIR in rx tx; do
        xr_hostcount start "$RUN-$BE-$DIR"
        if [ $DIR = rx ]; then v=$(xr_iperf dom0 p1 "$AB_SECS"); else v=$(xr_iperf p1 dom0 "$AB_SECS"); fi
        xr_hostcount stop "$RUN-$BE-$DIR"
        if [ -n "$v" ]; then
            raw mbps "$v"
            raw bytes "$(awk -v m="$v" -v s="$AB_SECS" 'BEGIN { printf "%.0f", m * s * 125000 }')"
        else
            fail "iperf3 ($BE $DIR) failed"
        fi
    done
}
AB_ROUNDS=${XR_PROFILE_AB_ROUNDS:-6}
AB_SECS=${XR_PROFILE_AB_SECONDS:-6}
if [ -n "$ALT" ] && [ "$AB_ROUNDS" -gt 0 ]; then
    xr_guests_down
    xr_netback_unload || fail "cannot unload xen-netback"
    ab_swap "$NB"
    if p1_up; then
        for RUN in $(seq "$AB_ROUNDS"); do
            for b in $([ $((RUN % 2)) = 1 ] && echo "xnv xnv-alt" || echo "xnv-alt xnv"); do
                BE=ab-$b
                ab_swap "$([ $b = xnv ] && echo "$NB" || echo "$ALT")" || fail "no ping after swapping to $b"
                ab_one
            done
        done
    else
        fail "p1 did not come up for the A/B"
    fi
    xr_guests_down
    nb_stop
fi

xr_netback_load
xr_metric failures "$FAILS"
[ "$FAILS" = 0 ] || xr_fail "$FAILS measurement(s) failed (out/profile/raw.tsv)"
xr_pass "$RUNS runs of both backends profiled (out/profile/)"

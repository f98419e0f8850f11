#!/bin/bash
# xnv-rig: timeout=1500
# many-guests: one backend serving four stock guests (1 vCPU, 256 MB each)
# at once: the kernel's xen-netback first, then the same four guests on
# xnv-netbackd (switch fast path on xenbr0), in one boot.  Three patterns,
# each started at the same moment in every guest (a barrier on a xenstore
# node of each guest, released by one transaction from dom0): all four
# send to dom0, all four receive from dom0 (one iperf3 server per guest in
# dom0, on ports 5301-5304), and two pairs guest to guest (m1 -> m2,
# m3 -> m4: bridged through the kernel netback, tier 1 through
# xnv-netbackd).  Per backend and pattern: the aggregate (sum of the
# receivers' Mbit/s), Jain's fairness index over the flows, the mean ping
# dom0 -> m1 during the load, dom0's CPU seconds per GB moved (xl list),
# the bytes per frame through the guests' vifs to and from dom0 (a flow's
# TSO frames shrink with its rate, and each frame costs a userspace backend
# more than the kernel's), and xnv-netbackd's own CPU per GB (all its
# threads), frames per grant-copy call, idle passes of its queue threads
# per frame and frames it dropped; from dom0, where dom0's senders left
# slow start (HyStart's exits and their mean window, per round);
# medians over XR_MANY_ROUNDS rounds (1 in `make check-xen`, to keep CI
# short), and xnv / kernel.  The two
# backends are two phases (switching unloads xen-netback, which destroys
# the guests), not interleaved rounds: compare them with that in mind.
# Issue 19's goals (aggregate >= 1.0x the kernel's, fairness >= 0.9, RTT
# under load <= the kernel's) are reported, not asserted; the scenario
# fails when something does not work (a guest, the daemon, a flow that
# moved nothing, the pairs not on the fast path).
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"

SECS=${XR_IPERF_SECONDS:-10}
ROUNDS=${XR_MANY_ROUNDS:-1}
SOCK=/run/xnv/netbackd.sock
GUESTS=(m1 m2 m3 m4)
declare -A IP=([m1]=10.0.0.91 [m2]=10.0.0.92 [m3]=10.0.0.93 [m4]=10.0.0.94)
declare -A PORT=([m1]=5301 [m2]=5302 [m3]=5303 [m4]=5304)
PATTERNS=(to_dom0 from_dom0 guest_to_guest)
xr_path "4 stock guests at once: kernel netback, then xnv-netbackd (tier 1 between guests)"
NB=$(xr_bin xnv-netbackd) || xr_fail "xnv-netbackd was not built"
CTL=$(xr_bin xnvctl) || xr_fail "xnvctl was not built"

# what did not work, reported together at the end (the figures first)
PROBLEMS=
problem() {
    PROBLEMS=${PROBLEMS:+$PROBLEMS; }$*
    xr_log "PROBLEM: $*"
}

# dom0's iperf3 servers, one port per guest (the runner stops them)
for g in "${GUESTS[@]}"; do xr_daemon "iperf3-$g" iperf3 -s -p "${PORT[$g]}"; done

guests_up() {   # guests_up BACKEND
    local g
    xr_log "free memory for guests: $(xl info 2>/dev/null | awk '$1 == "free_memory" { print $3 }') MB"
    for g in "${GUESTS[@]}"; do
        xr_guest_up "$g" "${IP[$g]}" ||
            xr_fail "guest $g did not come up on $1 (see out/xen/console/guest-$g.log)"
    done
}

# vif_counts DIR DOMID...: "BYTES FRAMES" summed over the guests' dom0-side
# interfaces (vif<d>.0, with either backend), DIR tx (towards the guests) or
# rx (from them).  A GSO frame counts once, on either backend.
vif_counts() {
    local dir=$1 d b=0 f=0 x y st
    shift
    for d; do
        st=/sys/class/net/vif$d.0/statistics
        { read -r x <"$st/${dir}_bytes"; } 2>/dev/null || x=0
        { read -r y <"$st/${dir}_packets"; } 2>/dev/null || y=0
        b=$((b + x)) f=$((f + y))
    done
    echo "$b $f"
}
# per_frame "B0 F0" "B1 F1": bytes per frame between the two counts
per_frame() {
    awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ")
        if (y[2] > x[2]) printf "%.0f\n", (y[1] - x[1]) / (y[2] - x[2]) }'
}

# together TAG GUEST CMD [GUEST CMD]...: each CMD in its GUEST, all started
# at the same moment: each guest writes data/rig/armed and waits until its
# data/rig/go holds this call's token, which dom0 writes for every guest in
# one xenstore transaction once all are armed.  During the run dom0 pings
# m1 (TOG_RTT: mean ms, empty if no reply); TOG_CPU: dom0's CPU seconds
# from the release to the last answer; TOG_BPF_TX / TOG_BPF_RX: bytes per
# frame through the guests' vifs towards them / from them (empty when none
# passed).  Outputs: $XR_RUN/many.TAG.GUEST.
together() {
    local tag=$1 tok d g i n t0 wrap tx0 rx0 go=() pids=() doms=()
    shift
    tok=$tag.$RANDOM$RANDOM
    TOG_GUESTS=()
    while [ $# -ge 2 ]; do
        g=$1
        d=$(xr_guest_domid "$g") || xr_fail "guest $g is gone"
        xenstore-write "/local/domain/$d/data/rig/go" wait
        # shellcheck disable=SC2016 # expanded in the guest
        wrap=$(printf 'xenstore-write data/rig/armed %s; until [ "$(xenstore-read data/rig/go 2>/dev/null)" = %s ]; do timeout 3 xenstore-watch -n 2 data/rig/go >/dev/null 2>&1 || sleep 0.1; done; %s' \
            "$tok" "$tok" "$2")
        xr_guest_run "$g" -t $((SECS + 90)) "$wrap" >"$XR_RUN/many.$tag.$g" 2>&1 &
        pids+=("$!")
        doms+=("$d")
        go+=("/local/domain/$d/data/rig/go" "$tok")
        TOG_GUESTS+=("$g")
        shift 2
    done
    t0=$(xr_now_us)
    for d in "${doms[@]}"; do
        until [ "$(xenstore-read "/local/domain/$d/data/rig/armed" 2>/dev/null)" = "$tok" ]; do
            [ $(( ($(xr_now_us) - t0) / 1000000 )) -lt 60 ] || xr_fail "$tag: dom$d not armed after 60 s"
            sleep 0.2
        done
    done
    sleep 1   # each guest into its xenstore-watch
    TOG_CPU=$(xr_dom_cpu 0)
    tx0=$(vif_counts tx "${doms[@]}") rx0=$(vif_counts rx "${doms[@]}")
    xenstore-write "${go[@]}"
    xr_log "$tag: ${TOG_GUESTS[*]} released"
    sleep 2
    n=$(( (SECS - 4) * 5 ))
    [ "$n" -ge 5 ] || n=5
    TOG_RTT=$(xr_rtt dom0 m1 "$n") || TOG_RTT=
    for i in "${pids[@]}"; do wait "$i"; done
    TOG_BPF_TX=$(per_frame "$tx0" "$(vif_counts tx "${doms[@]}")")
    TOG_BPF_RX=$(per_frame "$rx0" "$(vif_counts rx "${doms[@]}")")
    TOG_CPU=$(awk -v a="$TOG_CPU" -v b="$(xr_dom_cpu 0)" 'BEGIN { printf "%.2f", b - a }')
}

# flows TAG: the receivers' Mbit/s of the last together, in FLOWS (comma-
# separated, in TOG_GUESTS order); MISSING counts the guests without one
flows() {
    local g v
    FLOWS=""
    MISSING=0
    for g in "${TOG_GUESTS[@]}"; do
        echo "--- $1: $g" >&2
        cat "$XR_RUN/many.$1.$g" >&2
        v=$(xr_iperf_receiver <"$XR_RUN/many.$1.$g")
        [ -n "$v" ] || { MISSING=$((MISSING + 1)); v=0; }
        FLOWS+=${FLOWS:+,}$v
    done
}

# jain LIST: Jain's fairness index of comma-separated rates, (sum x)^2 /
# (n sum x^2): 1 when all are equal, 1/n when one flow has everything
jain() {
    printf '%s\n' "${1//,/$'\n'}" |
        awk '{ s += $1; q += $1 * $1; n++ } END { if (q > 0) printf "%.3f\n", s * s / (n * q); else print 0 }'
}

declare -A AGG FAIR RTT CPUGB FLOWLIST BPF DCPUGB FPC IDLE DROPS SSX
TICK=$(getconf CLK_TCK)

# xnv-netbackd's own figures so far (all its threads, every vif): "CPU_TICKS
# FRAMES COPY_CALLS IDLE_LOOPS DROPS" (frames both ways; idle loops: passes
# of a queue thread that found no work; drops: frames dropped either way);
# empty when it does not run
daemon_counts() {
    local pid tx rx fp copies idle rxd txd
    pid=$(pgrep -x xnv-netbackd | head -n1)
    [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 0
    read -r tx rx fp copies idle rxd txd <<<"$(xr_netbackd_sums '' tx_packets rx_packets \
        fastpath_packets copy_calls idle_loops rx_drops tx_drops)"
    [ -n "$txd" ] || return 0
    # utime + stime (the name in parentheses has no blank: no field shift);
    # a frame the switch fast path carries counts on both vifs (the
    # sender's tx, the receiver's rx): once here
    echo "$(awk '{ print $14 + $15 }' "/proc/$pid/stat") $((tx + rx - fp)) $copies $idle $((rxd + txd))"
}
# add ARRAY KEY VALUE: VALUE appended to ARRAY[KEY], comma-separated
add() { local -n a=$1; a[$2]+=${a[$2]:+,}$3; }

# run_pattern BACKEND PATTERN ROUND: one run of PATTERN (a second try when
# a flow gave no figure); its figures appended under BACKEND.PATTERN
run_pattern() {
    local be=$1 pat=$2 tag g try args agg gb bpf d0 d1 h0 h1 ssx='' dcpu fpc idle drops rev=
    [ "$pat" = from_dom0 ] && rev=" -R"
    for try in 1 2; do
        tag=$be-$pat-$3-$try
        args=()
        case $pat in
        to_dom0 | from_dom0)
            for g in "${GUESTS[@]}"; do
                args+=("$g" "iperf3 -c $XR_DOM0_IP -p ${PORT[$g]} -t $SECS -f m$rev")
            done ;;
        guest_to_guest)
            args=(m1 "iperf3 -c ${IP[m2]} -t $SECS -f m" m3 "iperf3 -c ${IP[m4]} -t $SECS -f m") ;;
        esac
        d0=$(daemon_counts)
        h0=$(xr_slow_start_counts /proc/net/netstat)
        together "$tag" "${args[@]}"
        h1=$(xr_slow_start_counts /proc/net/netstat)
        d1=$(daemon_counts)
        flows "$tag"
        [ "$MISSING" = 0 ] && break
        xr_log "$tag: $MISSING flow(s) without a figure (try $try)"
        sleep 3   # a server still busy with the failed test
    done
    [ "$MISSING" = 0 ] || problem "$be $pat round $3: $MISSING iperf3 run(s) gave no figure"
    printf '%s\n' "${FLOWS//,/$'\n'}" | awk '$1 + 0 <= 0 { z = 1 } END { exit !z }' &&
        problem "$be $pat round $3: a flow moved nothing ($FLOWS)"
    agg=$(printf '%s\n' "${FLOWS//,/$'\n'}" | awk '{ s += $1 } END { printf "%.1f\n", s }')
    gb=$(awk -v a="$agg" -v s="$SECS" 'BEGIN { print a * s / 8000 }')
    add AGG "$be.$pat" "$agg"
    add FAIR "$be.$pat" "$(jain "$FLOWS")"
    [ -z "$TOG_RTT" ] || add RTT "$be.$pat" "$TOG_RTT"
    add CPUGB "$be.$pat" "$(awk -v c="$TOG_CPU" -v g="$gb" 'BEGIN { if (g > 0) printf "%.2f", c / g }')"
    add FLOWLIST "$be.$pat" "${FLOWS//,//}"
    # the frames of the flows in this pattern (guest to guest through
    # xnv-netbackd's switch fast path passes no vif interface)
    case $pat in
    to_dom0) bpf=$TOG_BPF_RX ;;
    from_dom0) bpf=$TOG_BPF_TX ;;
    *) bpf= ;;
    esac
    [ -z "$bpf" ] || add BPF "$be.$pat" "$bpf"
    # where dom0's senders left slow start: "EXITS@MEAN_CWND" (from dom0 only)
    if [ "$pat" = from_dom0 ]; then
        ssx=$(xr_slow_start_exits "$h0" "$h1")
        add SSX "$be.$pat" "$ssx"
    fi
    # xnv-netbackd's share: its CPU per GB, frames per grant-copy call
    dcpu='' fpc='' idle='' drops=''
    if [ -n "$d0" ] && [ -n "$d1" ]; then
        read -r dcpu fpc idle drops <<<"$(awk -v a="$d0" -v b="$d1" -v g="$gb" -v hz="$TICK" 'BEGIN {
            split(a, x, " "); split(b, y, " ")
            c = g > 0 ? sprintf("%.2f", (y[1] - x[1]) / hz / g) : "-"
            f = y[3] > x[3] ? sprintf("%.1f", (y[2] - x[2]) / (y[3] - x[3])) : "-"
            i = y[2] > x[2] ? sprintf("%.2f", (y[4] - x[4]) / (y[2] - x[2])) : "-"
            print c, f, i, y[5] - x[5] }')"
        [ "$dcpu" = - ] || add DCPUGB "$be.$pat" "$dcpu"
        [ "$fpc" = - ] || add FPC "$be.$pat" "$fpc"
        [ "$idle" = - ] || add IDLE "$be.$pat" "$idle"
        add DROPS "$be.$pat" "$drops"
    fi
    xr_log "$be $pat round $3: flows ${FLOWS//,/ + } = $agg Mbit/s, fairness $(jain "$FLOWS"), ping ${TOG_RTT:-lost} ms, dom0 $TOG_CPU CPU s${bpf:+, $bpf bytes per frame}${ssx:+, slow starts left $ssx}${dcpu:+, xnv-netbackd $dcpu CPU s/GB, $fpc frames per copy call, $idle idle passes per frame, $drops drops}"
}

rounds() {   # rounds BACKEND
    local r p
    for r in $(seq "$ROUNDS"); do
        for p in "${PATTERNS[@]}"; do run_pattern "$1" "$p" "$r"; done
    done
}

# --- the kernel's netback ----------------------------------------------------
for _ in $(seq 25); do pgrep -x xnv-netbackd >/dev/null || break; sleep 0.2; done
pgrep -x xnv-netbackd >/dev/null && xr_fail "an xnv-netbackd of an earlier scenario still runs"
xr_guests_down
xr_netback_load || xr_fail "cannot load xen-netback"
guests_up "the kernel netback"
v=$(xr_rtt dom0 m1 20) || xr_fail "ping dom0 -> m1 failed (kernel netback)"
xr_metric kernel_idle_rtt_ms "$v"
rounds kernel

# --- xnv-netbackd, the switch fast path on xenbr0 ----------------------------
xr_netback_unload || xr_fail "cannot unload xen-netback"
rm -f "$SOCK"
xr_daemon netbackd "$NB" --fastpath xenbr0
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || xr_fail "xnv-netbackd did not start"
guests_up xnv-netbackd
v=$(xr_rtt dom0 m1 20) || xr_fail "ping dom0 -> m1 failed (xnv-netbackd)"
xr_metric xnv_idle_rtt_ms "$v"
fp0=$(xr_fastpath_packets)
rounds xnv
"$CTL" stats >&2
fp=$(( $(xr_fastpath_packets) - fp0 ))
xr_metric xnv_fastpath_packets "$fp"
[ "$fp" -gt 1000 ] || problem "the guest-to-guest pairs did not take the switch fast path ($fp frames on it)"
xr_metric xnv_rx_ahead "$(xr_netbackd_stat rx_ahead)"

# A small frame of an idle flow goes ahead of the frames that wait for the
# guest's buffers (netback/rx_order.c).  m1 (one queue) paused, 400 UDP
# datagrams of 1400 bytes to it fill the buffers it posted (at most 256)
# and leave the rest waiting in the daemon, then one ping: once m1 runs
# again, its echo request is placed ahead of the UDP frames still waiting.
# (The flow hash puts dom0 -> m1 ICMP and UDP in different buckets.)
ahead_check() {
    local d a0 a1 u i rc t0 tap sent0 pinger
    d=$(xr_guest_domid m1) || { problem "m1 is gone"; return; }
    tap=/sys/class/net/vif$d.0/statistics/tx_packets
    xr_rtt dom0 m1 3 >/dev/null || { problem "ping dom0 -> m1 failed before the pause"; return; }
    a0=$(xr_netbackd_stat rx_ahead "$d")
    sent0=$(cat "$tap") || { problem "ahead check: no $tap"; return; }
    xl pause "$d" || { problem "ahead check: xl pause m1 failed"; return; }
    if exec {u}>"/dev/udp/${IP[m1]}/9"; then
        for i in $(seq 400); do printf '%1400s' '' >&"$u"; done
        exec {u}>&-
    else
        xl unpause "$d"
        problem "ahead check: no UDP socket to m1"
        return
    fi
    ping -c 1 -W 30 "${IP[m1]}" >"$XR_RUN/many.ahead.ping" 2>&1 &
    pinger=$!
    # unpaused once the datagrams and the ping went to m1's vif (the daemon
    # has them), at most 10 s later
    t0=$(xr_now_us)
    while [ $(( $(cat "$tap") - sent0 )) -lt 401 ] && [ $(( $(xr_now_us) - t0 )) -lt 10000000 ]; do
        sleep 0.1
    done
    xr_log "ahead check: $(( $(cat "$tap") - sent0 )) frames to m1's vif while it was paused"
    xl unpause "$d" || problem "ahead check: xl unpause m1 failed"
    wait "$pinger"; rc=$?
    a1=$(xr_netbackd_stat rx_ahead "$d")
    xr_metric xnv_rx_ahead_check "$((a1 - a0))"
    xr_log "ahead check: $((a1 - a0)) frame(s) to m1 placed ahead of waiting ones; ping: $(grep -o 'time=.*' "$XR_RUN/many.ahead.ping")"
    [ "$rc" = 0 ] || problem "ahead check: m1 did not answer the ping after its pause"
    [ "$((a1 - a0))" -ge 1 ] ||
        problem "ahead check: the ping to m1 was not placed ahead of the UDP frames waiting for its buffers"
}
ahead_check
xr_guests_down

# --- figures -----------------------------------------------------------------
xr_metric idle_rtt_ratio "$(xr_ratio "$(xr_metric_get xnv_idle_rtt_ms)" "$(xr_metric_get kernel_idle_rtt_ms)")"
goals=
for p in "${PATTERNS[@]}"; do
    for be in kernel xnv; do
        k=$be.$p
        xr_metric "${be}_${p}_aggregate_rounds" "${AGG[$k]}"
        xr_metric "${be}_${p}_flows_mbps" "${FLOWLIST[$k]}"
        xr_metric "${be}_${p}_aggregate_mbps" "$(xr_median "${AGG[$k]}")"
        xr_metric "${be}_${p}_fairness" "$(xr_median "${FAIR[$k]}")"
        [ -z "${RTT[$k]}" ] || xr_metric "${be}_${p}_rtt_ms" "$(xr_median "${RTT[$k]}")"
        xr_metric "${be}_${p}_dom0_cpu_s_per_gb" "$(xr_median "${CPUGB[$k]}")"
        [ -z "${BPF[$k]}" ] || xr_metric "${be}_${p}_bytes_per_frame" "$(xr_median "${BPF[$k]}")"
        [ -z "${DCPUGB[$k]}" ] || xr_metric "${be}_${p}_daemon_cpu_s_per_gb" "$(xr_median "${DCPUGB[$k]}")"
        [ -z "${FPC[$k]}" ] || xr_metric "${be}_${p}_frames_per_copy_call" "$(xr_median "${FPC[$k]}")"
        [ -z "${IDLE[$k]}" ] || xr_metric "${be}_${p}_idle_passes_per_frame" "$(xr_median "${IDLE[$k]}")"
        [ -z "${DROPS[$k]}" ] || xr_metric "${be}_${p}_daemon_drops" "$(xr_median "${DROPS[$k]}")"
        [ -z "${SSX[$k]}" ] || xr_metric "${be}_${p}_slow_start_exits_rounds" "${SSX[$k]}"
    done
    for q in aggregate_mbps:aggregate_ratio fairness:fairness_ratio rtt_ms:rtt_ratio dom0_cpu_s_per_gb:dom0_cpu_ratio; do
        r=$(xr_ratio "$(xr_metric_get "xnv_${p}_${q%%:*}")" "$(xr_metric_get "kernel_${p}_${q%%:*}")")
        [ -z "$r" ] || xr_metric "${p}_${q#*:}" "$r"
    done
    goals+="${goals:+, }$p: aggregate $(xr_goal "${p}_aggregate_ratio" '>=' 1.0), fairness $(xr_goal "xnv_${p}_fairness" '>=' 0.9), rtt $(xr_goal "${p}_rtt_ratio" '<=' 1.0)"
done
xr_log "issue 19's goals (reported, not asserted): $goals"
xr_metric goals "$goals"

[ -z "$PROBLEMS" ] || xr_fail "$PROBLEMS"
xr_pass "4 guests at once on each backend: aggregate xnv/kernel $(xr_metric_get to_dom0_aggregate_ratio) to dom0, $(xr_metric_get from_dom0_aggregate_ratio) from dom0, $(xr_metric_get guest_to_guest_aggregate_ratio) guest to guest; xnv fairness $(xr_metric_get xnv_to_dom0_fairness) / $(xr_metric_get xnv_from_dom0_fairness) / $(xr_metric_get xnv_guest_to_guest_fairness)"

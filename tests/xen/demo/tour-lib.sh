# The demo tour's shared helpers (not a step itself: no NN- prefix).  The
# tour (`make demo`, tools/rig/demo.sh) runs the NN-*.sh files of this folder
# in one boot of the rig, in place of tests/xen/scenarios; in dom0 they sit
# beside the regular scenarios' helpers (channel-common.sh, ...).
#
# A step measures what it can and never fails on a figure: a measurement
# that does not work is reported (tour_problem) and the step goes on with the
# next one; the step's record is failed, with every problem as its reason,
# only at its end (tour_end).  Guests are reused from one step to the next
# (xr_guest_up keeps a running guest asked for with the same settings), and
# one xnv-netbackd serves steps 2 to 4.
# shellcheck shell=bash

# each iperf3 (seconds)
TOUR_SECS=${XR_TOUR_SECONDS:-5}
TOUR_SOCK=/run/xnv/netbackd.sock
TOUR_NB_PID=$XR_RUN/tour-netbackd.pid
TOUR_NB_LOG=$XR_OUT/scenarios/tour-netbackd.log
TOUR_PROBLEMS=

# tour_say TEXT: a line of commentary, shown live by make demo
tour_say() { xr_log "tour: $*"; }

# tour_problem TEXT: something of this step did not work: say so and go on
tour_problem() {
    TOUR_PROBLEMS=${TOUR_PROBLEMS:+$TOUR_PROBLEMS; }$*
    xr_log "tour: PROBLEM: $*"
}

# tour_end TEXT: the step's record: passed with TEXT, or failed with its
# problems
tour_end() {
    [ -z "$TOUR_PROBLEMS" ] || xr_fail "$TOUR_PROBLEMS"
    xr_pass "$*"
}

# tour_rtt METRIC SRC DST: 10 pings SRC -> DST, the mean recorded as METRIC
tour_rtt() {
    local v
    if v=$(xr_rtt "$2" "$3" 10); then
        xr_metric "$1" "$v"
        tour_say "ping $2 -> $3: $v ms on average"
    else
        tour_problem "ping $2 -> $3 failed"
    fi
}

# tour_iperf METRIC SRC DST: one iperf3 SRC -> DST of TOUR_SECS, the
# receiver's Mbit/s recorded as METRIC (and left in TOUR_MBPS, empty when
# it failed)
tour_iperf() {
    TOUR_MBPS=
    if TOUR_MBPS=$(xr_iperf "$2" "$3" "$TOUR_SECS"); then
        xr_metric "$1" "$TOUR_MBPS"
        tour_say "iperf3 $2 -> $3: $TOUR_MBPS Mbit/s"
    else
        TOUR_MBPS=
        tour_problem "iperf3 $2 -> $3 failed"
    fi
}

# tour_step_metric STEP KEY: a number STEP (e.g. kernel-path) recorded
# earlier in this boot; nothing when it did not
tour_step_metric() {
    sed -n 's/.*"name":"'"$1"'".*"'"$2"'":\([0-9.]*\).*/\1/p' "$XR_RESULTS" 2>/dev/null | tail -n1
}

# tour_ratio A B: A / B with two decimals; nothing unless both are numbers
# and B > 0
tour_ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b + 0 > 0) printf "%.2f", a / b }'
}

# tour_bridged: a fast-path step's figures beside the bridged path of step 1
# (kernel netback + bridge, this boot): bridged_guest_to_guest_mbps,
# bridged_rtt_ms and the ratios, from this step's guest_to_guest_mbps and
# rtt_ms (the demo's second table)
tour_bridged() {
    local bg br mine_g mine_r m=$XR_RUN/metrics/$XR_SCENARIO
    bg=$(tour_step_metric kernel-path guest_to_guest_mbps)
    br=$(tour_step_metric kernel-path guest_rtt_ms)
    mine_g=$(awk '$1 == "guest_to_guest_mbps" { print $2 }' "$m" 2>/dev/null)
    mine_r=$(awk '$1 == "rtt_ms" { print $2 }' "$m" 2>/dev/null)
    if [ -z "$bg$br" ]; then
        tour_say "no bridged figures from step 1 in this boot: nothing to compare with"
        return 0
    fi
    [ -z "$bg" ] || xr_metric bridged_guest_to_guest_mbps "$bg"
    [ -z "$br" ] || xr_metric bridged_rtt_ms "$br"
    local tr rr
    tr=$(tour_ratio "$mine_g" "$bg")
    rr=$(tour_ratio "$mine_r" "$br")
    [ -z "$tr" ] || xr_metric throughput_ratio "$tr"
    [ -z "$rr" ] || xr_metric rtt_ratio "$rr"
    tour_say "beside the bridged path of step 1 (${bg:-?} Mbit/s, ${br:-?} ms): ${tr:-?}x the throughput, ${rr:-?}x the round trip"
}

# tour_netbackd: xnv-netbackd serving dom0's vifs in place of xen-netback,
# with the switch fast path (tier 1) and direct channels (tier 2) on xenbr0.
# Started by the first step that needs it and kept for the steps after (not
# one of the runner's per-step daemons: a new session, its pid in
# TOUR_NB_PID), so that they reuse their guests; started again by a later
# step if it died (a restarted daemon resumes the running guests).
tour_netbackd() {
    local nb pid conf=$XR_RUN/tour-netbackd.conf
    pid=$(cat "$TOUR_NB_PID" 2>/dev/null)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ -S "$TOUR_SOCK" ]; then
        return 0
    fi
    nb=$(xr_bin xnv-netbackd) || return 1
    if xr_netback_loaded; then
        tour_say "unloading the kernel's xen-netback (its guests go with it)"
        xr_netback_unload || return 1
    fi
    printf 'channel-bridges = xenbr0\n' >"$conf"
    rm -f "$TOUR_SOCK"
    echo "--- $XR_SCENARIO: xnv-netbackd --fastpath xenbr0 -c $conf ($(date +%T))" >>"$TOUR_NB_LOG"
    setsid "$nb" --fastpath xenbr0 -c "$conf" >>"$TOUR_NB_LOG" 2>&1 </dev/null &
    echo $! >"$TOUR_NB_PID"
    local _
    for _ in $(seq 50); do
        if [ -S "$TOUR_SOCK" ]; then
            tour_say "xnv-netbackd started (pid $(cat "$TOUR_NB_PID"), switch fast path and channels on xenbr0)"
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# tour_netbackd_stop: the tour's xnv-netbackd, gone (after its guests)
tour_netbackd_stop() {
    local pid _
    pid=$(cat "$TOUR_NB_PID" 2>/dev/null) || return 0
    rm -f "$TOUR_NB_PID"
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    return 0
}


# tour_switched SRC DST CMD...: runs CMD (the step's measurements of SRC ->
# DST), then records fastpath_packets, the frames the switch fast path
# carried meanwhile, and says whether the traffic took it (TOUR_FP)
tour_switched() {
    local src=$1 dst=$2 fp0
    shift 2
    fp0=$(xr_fastpath_packets)
    "$@"
    TOUR_FP=$(( $(xr_fastpath_packets) - fp0 ))
    xr_metric fastpath_packets "$TOUR_FP"
    if [ "$TOUR_FP" -gt 0 ]; then
        tour_say "the switch fast path carried $TOUR_FP frames between $src and $dst"
    else
        tour_problem "$src -> $dst did not take the switch fast path (xnvctl's fastpath_packets did not move)"
    fi
}

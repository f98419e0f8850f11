#!/bin/bash
# xnv-rig: timeout=1800
# fastpath-busy-driver-domain: what the fast paths are for.  dom0's CPU is
# capped with the scheduler's cap (XR_DOM0_CAP, 25 % of one physical CPU
# for both its vCPUs, credit or credit2, whichever this Xen runs) to stand
# for a driver domain shared by many guests, whose CPU one pair of guests
# cannot have to itself.  Guest to guest under that cap, in one boot:
# bridged (stock guests, kernel netback, xenbr0), tier 1 (stock guests,
# xnv-netbackd's switch fast path) and tier 2 (guests on xnv-netfront with
# direct channels).  Each round measures a path without the cap, then with
# it (ping, then iperf3 with dom0's CPU per GB); the bridged rounds come
# first (kernel netback), then tier 1 and tier 2 alternate under one
# xnv-netbackd (the kernel netback and xnv-netbackd cannot serve at once,
# and switching destroys the guests): tier1_ratio and tier2_ratio compare
# two phases minutes apart, while *_capped_vs_uncapped pairs each capped
# run with the uncapped run of the same path in the same round.
# XR_BUSY_ROUNDS rounds (1 in `make check-xen`, to keep CI short; 3 for the
# README figures); figures are the medians over them.  The
# ratios of issue 16's goals (tier 2 >= 3x bridged and <= 0.5x its RTT,
# tier 1 >= 1.5x) are reported, not asserted: the scenario fails only
# when a path does not work (no traffic, no channel, the fast path unused,
# no cap).
# Under the cap a fresh TCP flow from a stock guest is often held at 1-2
# Mbit/s for the whole transfer (its small TSO frames wait for dom0's
# transmit completions), and sometimes breaks out part of the way, on
# either path: *_peak_mbps_*_rounds, each run's best second, tells which
# happened (docs/netback-profile.md, "A capped dom0 holds fresh flows").
# The cap is removed on every way out (trap; the runner also removes a cap
# left by a killed scenario).
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"
# shellcheck source=channel-common.sh
. "$(dirname "$0")/channel-common.sh"

SECS=${XR_IPERF_SECONDS:-10}
CAP=${XR_DOM0_CAP:-25}
ROUNDS=${XR_BUSY_ROUNDS:-1}
xr_path "driver domain capped at $CAP % of a CPU: bridged, tier 1, tier 2"
CTL=$(xr_bin xnvctl) || xr_fail "xnvctl was not built"
xr_bin xnv-netbackd >/dev/null || xr_fail "xnv-netbackd was not built"

# xr_pass and xr_fail leave through exit, and so does the runner's SIGTERM
trap 'xr_dom0_uncap' EXIT
trap 'exit 143' TERM INT HUP

XR_SCHED=$(xr_scheduler)
xr_metric dom0_scheduler "${XR_SCHED:-unknown}"
xr_metric dom0_cap_pct "$CAP"
cap_on() { xr_dom0_cap "$CAP" || xr_fail "cannot cap dom0's CPU at $CAP % (scheduler ${XR_SCHED:-unknown})"; }
cap_off() { xr_dom0_uncap || xr_fail "cannot remove dom0's CPU cap"; }
# fail at once, before any guest boots, if this Xen cannot cap dom0
cap_on
cap_off

# Per path (bridged, tier1, tier2, each also with _uncapped): the rounds'
# figures, comma-separated.
declare -A MBPS PING CPU PEAK
# add ARRAY KEY VALUE: VALUE appended to ARRAY[KEY]
add() { local -n a=$1; a[$2]+=${a[$2]:+,}$3; }

# measure KEY SRC DST: ping SRC -> DST, then iperf3 SRC -> DST with dom0's
# CPU time around it; a path that moves nothing fails the scenario
measure() {
    local k=$1 src=$2 dst=$3 r v c pk
    r=$(xr_rtt "$src" "$dst" 10) || xr_fail "ping $src -> $dst ($k) failed"
    read -r v c <<<"$(xr_iperf_cpu "$src" "$dst" "$SECS")"
    [ -n "$v" ] || xr_fail "iperf3 $src -> $dst ($k) failed"
    awk -v v="$v" 'BEGIN { exit !(v > 0) }' || xr_fail "iperf3 $src -> $dst ($k) moved nothing"
    add MBPS "$k" "$v"
    add PING "$k" "$r"
    add CPU "$k" "$c"
    pk=$(xr_iperf_peak)
    add PEAK "$k" "$pk"
    xr_log "$k: $v Mbit/s (best second $pk), ping $r ms, dom0 $c CPU s per GB"
}

# --- bridged: stock netfront, kernel netback, xenbr0 -----------------------
for _ in $(seq 25); do pgrep -x xnv-netbackd >/dev/null || break; sleep 0.2; done
pgrep -x xnv-netbackd >/dev/null && xr_fail "an xnv-netbackd of an earlier scenario still runs"
xr_guests_down
xr_netback_load || xr_fail "cannot load xen-netback"
xr_guest_up bd1 10.0.0.81 || xr_fail "stock guest bd1 did not come up"
xr_guest_up bd2 10.0.0.82 || xr_fail "stock guest bd2 did not come up"
for r in $(seq "$ROUNDS"); do
    xr_log "bridged, round $r of $ROUNDS"
    measure bridged_uncapped bd2 bd1
    cap_on
    measure bridged bd2 bd1
    cap_off
done

# --- tier 1 and tier 2 under one xnv-netbackd --------------------------------
# xc_daemon_start unloads xen-netback (bd1, bd2 go with it)
xc_daemon_start "fastpath-bridges = xenbr0"
xr_guest_up fd1 10.0.0.83 || xr_fail "stock guest fd1 did not come up on xnv-netbackd"
xr_guest_up fd2 10.0.0.84 || xr_fail "stock guest fd2 did not come up on xnv-netbackd"
xc_guest_up cd1 10.0.0.85
xc_guest_up cd2 10.0.0.86
xc_wait_channel cd1 cd2 60 || xr_fail "no channel between cd1 and cd2 within 60 s"
# the nice values of the daemon and of its threads (to see what runs ahead)
nb_pid=$(pidof xnv-netbackd | cut -d' ' -f1)
xr_metric daemon_nice "$(ps -o nice= -p "$nb_pid" 2>/dev/null | tr -d ' ')"
xr_metric daemon_queue_nice "$(ps -L -o nice= -p "$nb_pid" 2>/dev/null | sort -n | head -n1 | tr -d ' ')"
fp0=$(xr_fastpath_packets)
for r in $(seq "$ROUNDS"); do
    xr_log "tier 1 and tier 2, round $r of $ROUNDS"
    measure tier1_uncapped fd2 fd1
    measure tier2_uncapped cd2 cd1
    cap_on
    measure tier1 fd2 fd1
    measure tier2 cd2 cd1
    cap_off
done
"$CTL" stats >&2
fp=$(( $(xr_fastpath_packets) - fp0 ))
xr_metric fastpath_packets "$fp"
read -r tx_b _ fb_b <<<"$(xc_channel_stats cd2)"
read -r tx_a _ fb_a <<<"$(xc_channel_stats cd1)"
xr_metric channel_tx_packets_cd2 "${tx_b:-0}"
xr_metric channel_tx_packets_cd1 "${tx_a:-0}"
xr_metric channel_fallbacks "$(( ${fb_a:-0} + ${fb_b:-0} ))"

# --- figures: medians over the rounds, ratios to the bridged path ----------
for sfx in "" _uncapped; do
    for p in bridged tier1 tier2; do
        k=$p$sfx
        xr_metric "${p}_mbps${sfx}_rounds" "${MBPS[$k]}"
        xr_metric "${p}_peak_mbps${sfx}_rounds" "${PEAK[$k]}"
        xr_metric "${p}_mbps${sfx}" "$(xr_median "${MBPS[$k]}")"
        xr_metric "${p}_ping_ms${sfx}" "$(xr_median "${PING[$k]}")"
        xr_metric "${p}_dom0_cpu_s_per_gb${sfx}" "$(xr_median "${CPU[$k]}")"
    done
    for p in tier1 tier2; do
        xr_metric "${p}_ratio${sfx}" \
            "$(xr_ratio "$(xr_median "${MBPS[$p$sfx]}")" "$(xr_median "${MBPS[bridged$sfx]}")")"
        xr_metric "${p}_rtt_ratio${sfx}" \
            "$(xr_ratio "$(xr_median "${PING[$p$sfx]}")" "$(xr_median "${PING[bridged$sfx]}")")"
    done
done
# What the cap costs each path: the median over the rounds of (capped /
# uncapped), each pair measured back to back.
for p in bridged tier1 tier2; do
    IFS=, read -ra c <<<"${MBPS[$p]}"
    IFS=, read -ra u <<<"${MBPS[${p}_uncapped]}"
    l=
    for i in "${!c[@]}"; do l+=${l:+,}$(xr_ratio "${c[i]}" "${u[i]}"); done
    xr_metric "${p}_capped_vs_uncapped" "$(xr_median "$l")"
done

goals="tier2_ratio >= 3: $(xr_goal tier2_ratio '>=' 3), tier2_rtt_ratio <= 0.5: $(xr_goal tier2_rtt_ratio '<=' 0.5), tier1_ratio >= 1.5: $(xr_goal tier1_ratio '>=' 1.5)"
xr_log "issue 16's goals under the cap (reported, not asserted): $goals"
xr_metric goals "$goals"

xr_guests_down
[ "$fp" -gt 1000 ] || xr_fail "the switch fast path carried only $fp packets"
if [ "${tx_a:-0}" -le 1000 ] || [ "${tx_b:-0}" -le 1000 ]; then
    xr_fail "the channels carried too little (cd2 sent ${tx_b:-0}, cd1 ${tx_a:-0} frames on them)"
fi
xr_pass "dom0 capped at $CAP % ($XR_SCHED): bridged $(xr_metric_get bridged_mbps), tier 1 $(xr_metric_get tier1_mbps) ($(xr_metric_get tier1_ratio)x), tier 2 $(xr_metric_get tier2_mbps) ($(xr_metric_get tier2_ratio)x) Mbit/s; uncapped $(xr_metric_get bridged_mbps_uncapped) / $(xr_metric_get tier1_mbps_uncapped) / $(xr_metric_get tier2_mbps_uncapped)"

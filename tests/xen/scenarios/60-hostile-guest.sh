#!/bin/bash
# xnv-rig: timeout=900
# hostile-guest: a guest without any network frontend runs xnv-hostile on
# its vif (bad ring indices, slot chains, grants, event storms, xenstore
# garbage, state flipping, reconnect loops) against xnv-netbackd while an
# honest stock guest beside it runs iperf3.  The daemon must survive (same
# pid, still answering xnvctl), refuse the abuses with error nodes and log
# lines, and the honest guest keep its throughput: measured beside the
# hostile guest while it is idle, then while it attacks, so that the ratio
# shows what its abuse costs, not what a second domain costs the emulated
# host.  Under TCG the emulated host's speed follows the load of the
# machine running QEMU (up to 3x within minutes), so the two sides are
# measured interleaved, in short rounds: idle round, attack round, idle
# round, attack round, ... (PAIRS of each), and honest_ratio is the median
# over the pairs of (attack round / the idle round just before it): a pair
# shares the host's state, a load change spoils one pair, not the median.
# Knobs: XR_HOSTILE_PAIRS (4), XR_HOSTILE_IPERF_SECONDS (5 s per transfer,
# one each way per round).
#
# What the attack used to cost (2026-12-04, one mode at a time, 20 s each,
# honest guest idle): the fatal modes and state-flip kept dom0 busy at
# 35-90 % of one CPU, xenstored and xnv-netbackd taking most of it (each
# watch event of the daemon's own writes looked at the device again), and
# one CI run measured honest_ratio 0.18.  The daemon now looks at a device
# once per pass of its events and at most 4 times a second after a burst
# of 32 (docs/hostile-inputs.md, "the control plane"): pairs of 2.11,
# 0.92, 0.98, 1.84 (median 1.41), 0.79-1.07 (0.84) and 0.59-0.84 (0.70) in
# three runs.  It also holds a vif closed with an error for 2 s before
# InitWait, which stretched each attack pass (xnv-hostile's twelve modes) to
# about 100 s and the scenario to about 10 min: pairs 1.13, 1.14, 0.86, 1.15
# (median 1.14) with `make check-unit` running in a loop on the host.  A
# CI run then measured 0.58 (pairs 0.59, 0.56, 0.57, 1.04): real cost, not
# noise.  Counted per mode on the rig (2026-12-04): an event storm cost the
# honest guest half its throughput (the netback's storm pause now starts
# after 16 empty wakeups, not 256), every reconnect rewrote a dozen feature
# keys (now written once), and xnv-hostile read the backend's state 20
# times a second while it waited (now a watch); after these, medians 0.73
# and 0.74 (pairs 0.41-1.13).  The floor is the fair share (below).
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"

SECS=${XR_HOSTILE_IPERF_SECONDS:-5}
PAIRS=${XR_HOSTILE_PAIRS:-4}
# What the attack may cost the honest guest.  On the rig every domain runs
# on one emulated host, and the dom0 work a reconnecting guest causes (its
# xenstore requests, the rings mapped and released, the states written) is
# nobody's quota: measured with the honest guest idle, xnv-hostile's fatal
# modes cost dom0 about 0.45 of a CPU, of which the 2 s hold after an error
# already keeps the rate at one cycle in about 3 s.  The floor is the
# honest guest's fair share beside a second guest: a hostile neighbour may
# cost it no more than an honest one moving as much as it can would (half).
# GOAL_RATIO is where the backend should get to, reported, not asserted.
MIN_RATIO=0.5
GOAL_RATIO=0.8
# The hostile guest's CPU is capped (% of one CPU): under TCG every vCPU
# shares the same two emulated CPUs, and an uncapped busy loop in any guest
# would slow the honest one whatever the backend does.
HOSTILE_CAP=20
SOCK=/run/xnv/netbackd.sock
HOSTILE=hostile HIP=10.0.0.72
xr_path "xnv-netbackd: honest guest beside a hostile one"
NB=$(xr_bin xnv-netbackd) || xr_fail "xnv-netbackd was not built"
CTL=$(xr_bin xnvctl) || xr_fail "xnvctl was not built"
HOSTILE_BIN=$(xr_bin xnv-hostile) || xr_fail "xnv-hostile was not built"
# the modes in xnv-hostile's order (--list needs no Xen)
mapfile -t MODES <<<"$("$HOSTILE_BIN" --list | awk '{ print $1 }')"   # no process substitution: dom0 has no /dev/fd
[ "${#MODES[@]}" -ge 12 ] || xr_fail "xnv-hostile --list shows ${#MODES[@]} mode(s), not 12"

xr_netback_unload || xr_fail "cannot unload xen-netback"
rm -f "$SOCK"
xr_daemon netbackd "$NB" -v
NBPID=$(tail -n1 "$XR_RUN/daemons.$XR_SCENARIO")
NBLOG=$XR_OUT/scenarios/$XR_SCENARIO.netbackd.log
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || xr_fail "xnv-netbackd did not start"

xr_guest_up honest 10.0.0.71 || xr_fail "honest guest did not come up on xnv-netbackd"

# The hostile guest: no frontend at all on its vif (xnv.netfront=off), so no
# ping to wait for: its init's readiness through xenstore only.  Between
# attack rounds no xnv-hostile runs in it: its vif waits at InitWait.
xr_guest_up "$HOSTILE" "$HIP" --extra xnv.netfront=off --no-ping ||
    xr_fail "the hostile guest did not come up"
hd=$(xr_guest_domid "$HOSTILE") || xr_fail "the hostile guest vanished"
xl sched-credit2 -d "$HOSTILE" -c "$HOSTILE_CAP" >&2 2>/dev/null || xl sched-credit -d "$HOSTILE" -c "$HOSTILE_CAP" >&2 ||
    xr_log "cannot cap the hostile guest's CPU"
xr_metric hostile_cpu_cap_pct "$HOSTILE_CAP"
xr_guest_run "$HOSTILE" 'cat /proc/modules' | grep -q '^xen_netfront ' && xr_fail "xen-netfront is loaded in the hostile guest"

# One round: an iperf3 each way, dom0 -> honest then honest -> dom0 (Mbit/s
# in IN and OUT).
measure() {
    IN=$(xr_iperf dom0 honest "$SECS") || xr_fail "iperf3 dom0 -> honest failed $1"
    OUT=$(xr_iperf honest dom0 "$SECS") || xr_fail "iperf3 honest -> dom0 failed $1"
    xr_log "honest guest $1: $IN / $OUT Mbit/s"
}
# median of the arguments (the mean of the middle two for an even count)
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR % 2) print v[(NR + 1) / 2] + 0; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
sum() { awk -v a="$1" -v b="$2" 'BEGIN { print a + b }'; }
list() { local IFS=,; echo "$*"; }

# Each attack round is one xnv-hostile run: every mode in turn (at least one
# whole pass, about 30 s on an idle rig), again until HS seconds passed, so
# that it attacks for the whole round's measurement; the round's passes start
# at a different mode each round (--from), so that the transfers, which run
# in the first seconds, meet every mode in one round or another.  Broadcasts
# from dom0 meanwhile so that frames reach the hostile vif too (its read-only
# RX buffers).  The round ends when xnv-hostile has ended, its vif back at
# InitWait: the next idle round has no hostile activity.
HS=$((2 * SECS + 10))
: >"$XR_RUN/hostile.out"
hrc=0 cut=0 lost=0
IDLE_IN=() IDLE_OUT=() DUR_IN=() DUR_OUT=() R_IN=() R_OUT=() R_BOTH=() FROM=()
for p in $(seq "$PAIRS"); do
    measure "beside the idle hostile guest, round $p"
    IDLE_IN+=("$IN") IDLE_OUT+=("$OUT")

    from=${MODES[$(((p - 1) * ${#MODES[@]} / PAIRS % ${#MODES[@]}))]}
    FROM+=("$from")
    xr_guest_run "$HOSTILE" -t $((HS + 240)) xnv-hostile --mode all --from "$from" --seconds "$HS" \
        >"$XR_RUN/hostile.$p.out" 2>&1 &
    hpid=$!
    ping -b -i 0.5 -w $((HS + 255)) 10.0.0.255 >/dev/null 2>&1 &
    bpid=$!
    sleep 3
    measure "beside the attacking hostile guest (passes from $from), round $p"
    DUR_IN+=("$IN") DUR_OUT+=("$OUT")
    # xnv-hostile ended before the transfers did: their tail was not attacked
    kill -0 "$hpid" 2>/dev/null || { cut=$((cut + 1)); xr_log "xnv-hostile ended before the transfers of round $p"; }
    wait "$hpid"
    rc=$?
    kill "$bpid" 2>/dev/null
    wait "$bpid" 2>/dev/null
    [ "$hrc" = 0 ] && hrc=$rc
    grep -q '^round ' "$XR_RUN/hostile.$p.out" || lost=$((lost + 1))
    cat "$XR_RUN/hostile.$p.out" >>"$XR_RUN/hostile.out"

    R_IN+=("$(ratio "${DUR_IN[-1]}" "${IDLE_IN[-1]}")")
    R_OUT+=("$(ratio "${DUR_OUT[-1]}" "${IDLE_OUT[-1]}")")
    R_BOTH+=("$(ratio "$(sum "${DUR_IN[-1]}" "${DUR_OUT[-1]}")" "$(sum "${IDLE_IN[-1]}" "${IDLE_OUT[-1]}")")")
    xr_log "pair $p: honest ratio ${R_IN[-1]} / ${R_OUT[-1]} (both directions ${R_BOTH[-1]}), xnv-hostile exit $rc"
done
cat "$XR_RUN/hostile.out" >&2
# The answer travels back through the hostile guest's own xenstore quota,
# which its xenstore-garbage mode may have used up (then the answer comes
# back empty): its console, logged by dom0, has the same lines, every run's.
if [ "$lost" -gt 0 ]; then
    xr_log "$lost of xnv-hostile's answers came back without their rounds; reading them all from its console"
    tr -d '\r' <"/var/log/xen/console/guest-$HOSTILE.log" | grep -a '^round \|^xnv-hostile' >"$XR_RUN/hostile.out"
fi

xr_metric honest_pairs "$PAIRS"
xr_metric honest_iperf_seconds "$SECS"
xr_metric hostile_from_modes "$(list "${FROM[@]}")"
xr_metric during_rounds_cut_short "$cut"
# each round's figures, in order (round p of during_* is paired with round p
# of idle_neighbour_*, measured just before it)
xr_metric idle_neighbour_dom0_to_guest_mbps_rounds "$(list "${IDLE_IN[@]}")"
xr_metric idle_neighbour_guest_to_dom0_mbps_rounds "$(list "${IDLE_OUT[@]}")"
xr_metric during_dom0_to_guest_mbps_rounds "$(list "${DUR_IN[@]}")"
xr_metric during_guest_to_dom0_mbps_rounds "$(list "${DUR_OUT[@]}")"
xr_metric honest_ratio_dom0_to_guest_pairs "$(list "${R_IN[@]}")"
xr_metric honest_ratio_guest_to_dom0_pairs "$(list "${R_OUT[@]}")"
xr_metric honest_ratio_pairs "$(list "${R_BOTH[@]}")"
# medians of the rounds, for the tables; the ratios are medians of the pairs'
# ratios, not ratios of these medians
xr_metric idle_neighbour_dom0_to_guest_mbps "$(median "${IDLE_IN[@]}")"
xr_metric idle_neighbour_guest_to_dom0_mbps "$(median "${IDLE_OUT[@]}")"
xr_metric during_dom0_to_guest_mbps "$(median "${DUR_IN[@]}")"
xr_metric during_guest_to_dom0_mbps "$(median "${DUR_OUT[@]}")"
xr_metric honest_ratio_dom0_to_guest "$(ratio "$(median "${R_IN[@]}")" 1)"
xr_metric honest_ratio_guest_to_dom0 "$(ratio "$(median "${R_OUT[@]}")" 1)"
# both directions together (each pair's sum over its idle round's sum): less
# noisy than either alone
xr_metric honest_ratio "$(ratio "$(median "${R_BOTH[@]}")" 1)"

xr_metric goals "honest_ratio >= $GOAL_RATIO: $(xr_goal honest_ratio '>=' "$GOAL_RATIO")"

rounds=$(grep -c '^round ' "$XR_RUN/hostile.out")
refused=$(grep '^round ' "$XR_RUN/hostile.out" | grep -c 'error')
xr_metric hostile_rounds "$rounds"
xr_metric hostile_rounds_refused "$refused"
xr_metric hostile_distinct_errors "$(grep -o 'error: [^;]*' "$XR_RUN/hostile.out" | sort -u | wc -l)"
xr_metric hostile_exit "$hrc"
xr_metric hostile_modes_run "$(grep '^round ' "$XR_RUN/hostile.out" | awk '{ print $4 }' | sort -u | wc -l)"
xr_metric netbackd_error_lines "$(grep -c "vif$hd\.0:.*" "$NBLOG" | head -n1)"
grep "vif$hd\.0:" "$NBLOG" | sort | uniq -c | sort -rn | head -30 >&2
err=$(xenstore-read "/local/domain/0/backend/vif/$hd/0/error" 2>/dev/null)
xr_metric hostile_error_node "${err:-none}"

# The daemon: the same process, alive, and still answering.
kill -0 "$NBPID" 2>/dev/null || xr_fail "xnv-netbackd (pid $NBPID) died"
[ "$(tail -n1 "$XR_RUN/daemons.$XR_SCENARIO")" = "$NBPID" ] || xr_fail "xnv-netbackd was restarted"
xr_metric netbackd_alive 1
"$CTL" list >&2 || xr_fail "xnvctl list gets no answer"
"$CTL" --json | grep -q "\"domid\":$hd," || xr_fail "xnvctl does not list the hostile vif"
ping -c 3 -W 3 10.0.0.71 >/dev/null || xr_fail "honest guest no longer answers ping"

xr_guest_down "$HOSTILE"
xr_guest_down honest
[ "$rounds" -ge 12 ] || xr_fail "xnv-hostile ran $rounds round(s), not every mode once (exit $hrc)"
[ "$hrc" = 0 ] || xr_fail "the backend stopped coming back to InitWait for the hostile guest (exit $hrc)"
[ "$refused" -ge 1 ] || xr_fail "no abuse was refused with an error"
[ -n "$err" ] || xr_fail "no error node for the hostile vif"
awk -v r="$(sed -n 's/^honest_ratio //p' "$XR_RUN/metrics/$XR_SCENARIO")" -v m="$MIN_RATIO" 'BEGIN { exit !(r >= m) }' ||
    xr_fail "honest guest's throughput fell to $(sed -n 's/^honest_ratio //p' "$XR_RUN/metrics/$XR_SCENARIO") of its throughput beside the idle hostile guest (median of $PAIRS interleaved pairs: $(list "${R_BOTH[@]}"); min $MIN_RATIO)"
xr_pass "xnv-netbackd survived $rounds hostile rounds ($refused refused with an error); honest guest kept its throughput"

#!/bin/bash
# xnv-rig: timeout=720
# hostile-guest: a guest without any network frontend runs xnv-hostile on
# its vif (bad ring indices, slot chains, grants, event storms, xenstore
# garbage, state flipping, reconnect loops) against xnv-netbackd while an
# honest stock guest beside it runs iperf3.  The daemon must survive (same
# pid, still answering xnvctl), refuse the abuses with error nodes and log
# lines, and the honest guest keep its throughput: measured beside the
# hostile guest while it is idle, then while it attacks, so that the ratio
# shows what its abuse costs, not what a second domain costs the emulated
# host.  One boot measured each mode alone beside the honest guest
# (2026-11-22): alone 550/329 Mbit/s (dom0->guest / guest->dom0), beside the
# idle hostile guest 144/280, during the twelve modes 124-361 / 172-358,
# after them (hostile guest still there) 824/826.  No mode stood out from
# the rig's drift within the boot, which is why both sides take the best of
# two rounds.
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"

SECS=${XR_IPERF_SECONDS:-10}
# The TCG rig varies about +-40 % from one iperf3 run to the next with
# nothing else going on; a ratio under 0.6 of the best of two rounds is
# beyond that noise.
MIN_RATIO=0.6
# The hostile guest's CPU is capped (% of one CPU): under TCG every vCPU
# shares the same two emulated CPUs, and an uncapped busy loop in any guest
# would slow the honest one whatever the backend does.
HOSTILE_CAP=20
SOCK=/run/xnv/netbackd.sock
HOSTILE=hostile HIP=10.0.0.72
xr_path "xnv-netbackd: honest guest beside a hostile one"
NB=$(xr_bin xnv-netbackd) || xr_fail "xnv-netbackd was not built"
CTL=$(xr_bin xnvctl) || xr_fail "xnvctl was not built"
xr_bin xnv-hostile >/dev/null || xr_fail "xnv-hostile was not built"

xr_netback_unload || xr_fail "cannot unload xen-netback"
rm -f "$SOCK"
xr_daemon netbackd "$NB" -v
NBPID=$(tail -n1 "$XR_RUN/daemons.$XR_SCENARIO")
NBLOG=$XR_OUT/scenarios/$XR_SCENARIO.netbackd.log
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || xr_fail "xnv-netbackd did not start"

xr_guest_up honest 10.0.0.71 || xr_fail "honest guest did not come up on xnv-netbackd"

# The hostile guest: no frontend at all on its vif (xnv.netfront=off), so no
# ping to wait for: its init's readiness through xenstore only.  It stays
# idle for the first measurement.
xr_guest_up "$HOSTILE" "$HIP" --extra xnv.netfront=off --no-ping ||
    xr_fail "the hostile guest did not come up"
hd=$(xr_guest_domid "$HOSTILE") || xr_fail "the hostile guest vanished"
xl sched-credit2 -d "$HOSTILE" -c "$HOSTILE_CAP" >&2 2>/dev/null || xl sched-credit -d "$HOSTILE" -c "$HOSTILE_CAP" >&2 ||
    xr_log "cannot cap the hostile guest's CPU"
xr_metric hostile_cpu_cap_pct "$HOSTILE_CAP"
xr_guest_run "$HOSTILE" 'cat /proc/modules' | grep -q '^xen_netfront ' && xr_fail "xen-netfront is loaded in the hostile guest"

# ROUNDS rounds of iperf3 both ways; the round with the largest sum in
# BEST_IN and BEST_OUT.  The same estimator beside the idle and the attacking hostile guest: a
# slow-down the hostile guest causes shows in every round, a passing load
# on the machine that runs the emulated host only in some.
ROUNDS=2
best_round() {
    local what=$1 i v_in v_out
    BEST_IN=0 BEST_OUT=0
    for i in $(seq "$ROUNDS"); do
        v_in=$(xr_iperf dom0 honest "$SECS") || xr_fail "iperf3 dom0 -> honest failed $what"
        v_out=$(xr_iperf honest dom0 "$SECS") || xr_fail "iperf3 honest -> dom0 failed $what"
        xr_log "honest guest $what, round $i: $v_in / $v_out Mbit/s"
        if awk -v a="$v_in" -v b="$v_out" -v c="$BEST_IN" -v d="$BEST_OUT" 'BEGIN { exit !(a + b > c + d) }'; then
            BEST_IN=$v_in BEST_OUT=$v_out
        fi
    done
}
best_round "beside the idle hostile guest"
a_in=$BEST_IN a_out=$BEST_OUT
xr_metric idle_neighbour_dom0_to_guest_mbps "$a_in"
xr_metric idle_neighbour_guest_to_dom0_mbps "$a_out"

# Abuse for as long as both measurements take, broadcasts from dom0 meanwhile
# so that frames reach the hostile vif too (its read-only RX buffers).
HS=$((2 * ROUNDS * SECS + 20 * ROUNDS + 10))
xr_guest_run "$HOSTILE" -t $((HS + 240)) xnv-hostile --mode all --seconds "$HS" >"$XR_RUN/hostile.out" 2>&1 &
hpid=$!
ping -b -i 0.5 -w "$HS" 10.0.0.255 >/dev/null 2>&1 &
bpid=$!
sleep 5
best_round "beside the attacking hostile guest"
d_in=$BEST_IN d_out=$BEST_OUT
wait "$hpid"
hrc=$?
kill "$bpid" 2>/dev/null
cat "$XR_RUN/hostile.out" >&2
# The answer travels back through the hostile guest's own xenstore quota,
# which its xenstore-garbage mode may have used up (then the answer comes
# back empty): its console, logged by dom0, has the same lines.
if ! grep -q '^round ' "$XR_RUN/hostile.out"; then
    xr_log "xnv-hostile's answer came back without its rounds; reading them from its console"
    tr -d '\r' <"/var/log/xen/console/guest-$HOSTILE.log" | grep -a '^round \|^xnv-hostile' >>"$XR_RUN/hostile.out"
fi
xr_metric during_dom0_to_guest_mbps "$d_in"
xr_metric during_guest_to_dom0_mbps "$d_out"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
r_in=$(ratio "$d_in" "$a_in") r_out=$(ratio "$d_out" "$a_out")
xr_metric honest_ratio_dom0_to_guest "$r_in"
xr_metric honest_ratio_guest_to_dom0 "$r_out"
# both directions together: less noisy than either alone
xr_metric honest_ratio "$(ratio "$(awk -v a="$d_in" -v b="$d_out" 'BEGIN { print a + b }')" \
    "$(awk -v a="$a_in" -v b="$a_out" 'BEGIN { print a + b }')")"

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
    xr_fail "honest guest's throughput fell to $(sed -n 's/^honest_ratio //p' "$XR_RUN/metrics/$XR_SCENARIO") of its throughput beside the idle hostile guest (min $MIN_RATIO)"
xr_pass "xnv-netbackd survived $rounds hostile rounds ($refused refused with an error); honest guest kept its throughput"

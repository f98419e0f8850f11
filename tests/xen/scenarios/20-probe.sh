#!/bin/bash
# xnv-rig: timeout=300
# probe: xnv-probe (tools/xnv-probe) on real Xen: the guest role in two
# guests (peers of each other), the host role in dom0.  Exercises libxnv's
# hypervisor interface: domain info, xenstore (watches, transactions,
# permissions), grant copy/map in every direction, event channels.
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"

PROBE=$(xr_bin xnv-probe) || xr_fail "xnv-probe not built (no build/bin/xnv-probe)"
xr_guest_up g1 10.0.0.11 || xr_fail "guest g1 did not come up"
xr_guest_up g2 10.0.0.12 || xr_fail "guest g2 did not come up"
A=$(xr_guest_domid g1) B=$(xr_guest_domid g2)

# Guest role in the background in each guest; its output goes to the guest's
# console (out/xen/console/guest-gN.log) and to /tmp/probe.out there.
for g in g1 g2; do
    xr_guest_run "$g" "(xnv-probe guest --peer xs --timeout 150 2>&1; echo \"XNV-PROBE-EXIT \$?\") | tee /tmp/probe.out >/dev/console &" ||
        xr_fail "cannot start the guest role in $g"
done
xenstore-write "/local/domain/$A/data/xnv-probe-peer" "$B" "/local/domain/$B/data/xnv-probe-peer" "$A"

hostlog=$XR_OUT/scenarios/probe.host.log
xr_log "host role: xnv-probe host $A $B"
timeout 240 "$PROBE" host "$A" "$B" --timeout 120 >"$hostlog" 2>&1
hrc=$?
cat "$hostlog"

# The guests report state=pass|fail in xenstore when they are done.
gstate() { xenstore-read "/local/domain/$1/data/xnv-probe/state" 2>/dev/null; }
for _ in $(seq 150); do
    case "$(gstate "$A") $(gstate "$B")" in *ready* | *" " | " "*) sleep 0.2 ;; *) break ;; esac
done

hres=$(grep -m1 '^XNV-PROBE host RESULT' "$hostlog")
xr_metric probe_host_checks_passed "$(echo "$hres" | sed -n 's/.*n_pass=\([0-9]*\).*/\1/p')"
xr_metric probe_host_checks_failed "$(echo "$hres" | sed -n 's/.*n_fail=\([0-9]*\).*/\1/p')"
for n in 16 64; do
    v=$(sed -n "s/^XNV-PROBE host bench-$n PASS .*: \([0-9]*\) copies\/s.*/\1/p" "$hostlog")
    [ -n "$v" ] && xr_metric "grant_copy_${n}seg_per_s" "$v"
done
fails=$(awk '$1 == "XNV-PROBE" && $3 != "RESULT" && $4 == "FAIL" { printf "%s%s", sep, $3; sep = " " }' "$hostlog")

gfail=""
for g in g1 g2; do
    d=$(xr_guest_domid $g)
    out=$(xr_guest_run "$g" "grep -E '^XNV-PROBE(-EXIT| guest RESULT| guest [^ ]+ FAIL)' /tmp/probe.out")
    echo "--- $g (dom$d) guest role:"; echo "$out"
    st=$(gstate "$d")
    xr_metric "probe_${g}_state" "${st:-none}"
    gr=$(echo "$out" | grep -m1 'guest RESULT')
    xr_metric "probe_${g}_checks_passed" "$(echo "$gr" | sed -n 's/.*n_pass=\([0-9]*\).*/\1/p')"
    if [ "$st" != pass ] || ! echo "$gr" | grep -q 'RESULT PASS'; then
        gfail+=" $g:${st:-no-state}($(echo "$out" | awk '$3 != "RESULT" && $4 == "FAIL" { printf "%s ", $3 }' | sed 's/ $//'))"
    fi
done

if [ $hrc = 0 ] && echo "$hres" | grep -q 'RESULT PASS' && [ -z "$gfail" ]; then
    xr_pass "xnv-probe: host role and both guest roles passed every check"
fi
xr_fail "xnv-probe: host rc=$hrc ${hres:-no RESULT line}${fails:+; host failed: $fails}${gfail:+; guests:$gfail}"

#!/bin/bash
# xnv-rig: timeout=1200
# churn: stock guests created and destroyed again and again through
# xnv-netbackd, with traffic each time (ping; a short iperf3 every fifth
# cycle); half the cycles detach the vif with `xl network-detach` before
# `xl destroy`.  Afterwards nothing of them may be left in the daemon or
# in dom0: no xenstore node under backend/vif, no file descriptor, no TAP,
# and its resident memory stays put once warmed up.
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"

CYCLES=${XR_CHURN_CYCLES:-16}   # 50, then 30, before the rig grew: CI stays under its time
WARMUP=3               # cycles before the RSS reference is taken
RSS_BOUND_KB=2048      # allowed VmRSS growth from cycle WARMUP to the last
SOCK=/run/xnv/netbackd.sock
BE=/local/domain/0/backend/vif
NAME=churn IP=10.0.0.61
xr_path "xnv-netbackd: guest create/destroy churn"
NB=$(xr_bin xnv-netbackd) || xr_fail "xnv-netbackd was not built"
CTL=$(xr_bin xnvctl) || xr_fail "xnvctl was not built"

xr_netback_unload || xr_fail "cannot unload xen-netback"
rm -f "$SOCK"
xr_daemon netbackd "$NB" -v
NBPID=$(tail -n1 "$XR_RUN/daemons.$XR_SCENARIO")
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || xr_fail "xnv-netbackd did not start"

be_nodes() { xenstore-ls -f "$BE" 2>/dev/null | wc -l; }
# gntalloc's handle is opened once, for good, by the first busy queue (the
# iperf3 of cycle 5: netback/arena.c): counted apart, at most one
nb_fds() { find "/proc/$NBPID/fd" -mindepth 1 -maxdepth 1 ! -lname /dev/xen/gntalloc | wc -l; }
gntalloc_fds() { find "/proc/$NBPID/fd" -mindepth 1 -maxdepth 1 -lname /dev/xen/gntalloc | wc -l; }
taps() { find /sys/class/net -mindepth 1 -maxdepth 1 -name 'vif*' | wc -l; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$NBPID/status"; }
alive() { kill -0 "$NBPID" 2>/dev/null; }
wait_until() {   # wait_until SECONDS CMD...
    local t=$1; shift
    for _ in $(seq $((t * 5))); do "$@" && return 0; sleep 0.2; done
    return 1
}
tap_gone() { [ ! -e "/sys/class/net/vif$1.0" ]; }
backend_gone() { ! xenstore-exists "$BE/$1" 2>/dev/null; }

nodes0=$(be_nodes) taps0=$(taps)
fds0= rss0=
for i in $(seq "$CYCLES"); do
    # 256 MB like every rig guest: the guest image (about 24 MB, unpacked
    # into its RAM) leaves a 128 MB guest too little for iperf3's server
    xr_guest_up "$NAME" "$IP" --timeout 90 ||
        xr_fail "cycle $i: guest did not come up on xnv-netbackd"
    d=$(xr_guest_domid "$NAME")
    ping -c 3 -i 0.2 -W 2 "$IP" >/dev/null || xr_fail "cycle $i: no ping to dom$d"
    if [ $((i % 5)) = 0 ]; then
        v=$(xr_iperf dom0 "$NAME" 2) || xr_fail "cycle $i: iperf3 dom0 -> dom$d failed"
        xr_log "cycle $i: iperf3 dom0 -> dom$d $v Mbit/s"
    fi
    if [ $((i % 2)) = 0 ]; then
        xl network-detach "$NAME" 0 >&2 || xr_fail "cycle $i: xl network-detach failed"
        wait_until 30 tap_gone "$d" || xr_fail "cycle $i: vif$d.0 still there after network-detach"
    fi
    xr_guest_down "$NAME" || xr_fail "cycle $i: xl destroy failed"
    wait_until 30 backend_gone "$d" || xr_fail "cycle $i: $BE/$d still there after xl destroy"
    wait_until 30 tap_gone "$d" || xr_fail "cycle $i: vif$d.0 still there after xl destroy"
    alive || xr_fail "cycle $i: xnv-netbackd died"
    if [ "$i" = 1 ]; then
        # the first grant copy opens gntdev for good: count from here
        fds0=$(nb_fds)
    fi
    [ "$i" = "$WARMUP" ] && rss0=$(rss_kb)
    xr_log "cycle $i (dom$d): fds $(nb_fds), RSS $(rss_kb) kB"
done
sleep 1
"$CTL" list >&2
xr_metric cycles "$CYCLES"
xr_metric leaked_xenstore_nodes $(( $(be_nodes) - nodes0 ))
xr_metric leaked_fds $(( $(nb_fds) - fds0 ))
xr_metric gntalloc_fds "$(gntalloc_fds)"
xr_metric leaked_taps $(( $(taps) - taps0 ))
xr_metric rss_growth_kb $(( $(rss_kb) - ${rss0:-$(rss_kb)} ))
xr_metric rss_kb "$(rss_kb)"
xr_metric rss_bound_kb "$RSS_BOUND_KB"
m() { xr_metric_get "$1"; }
[ "$(m leaked_xenstore_nodes)" = 0 ] || xr_fail "$(m leaked_xenstore_nodes) xenstore node(s) left under $BE"
[ "$(m leaked_fds)" -le 0 ] || xr_fail "xnv-netbackd holds $(m leaked_fds) more fd(s) than after the first cycle"
[ "$(m gntalloc_fds)" -le 1 ] || xr_fail "xnv-netbackd holds $(m gntalloc_fds) gntalloc handles (one is kept)"
[ "$(m leaked_taps)" = 0 ] || xr_fail "$(m leaked_taps) TAP(s) left"
[ "$(m rss_growth_kb)" -le "$RSS_BOUND_KB" ] ||
    xr_fail "xnv-netbackd grew by $(m rss_growth_kb) kB RSS over $((CYCLES - WARMUP)) cycles (bound $RSS_BOUND_KB)"
xr_pass "$CYCLES create/destroy cycles with traffic: no xenstore node, fd or TAP left, RSS growth $(m rss_growth_kb) kB"

#!/bin/bash
# xnv-rig: timeout=720
# netback: xnv-netbackd in dom0 in place of the kernel's xen-netback, serving
# a stock guest (stock xen-netfront) from an unchanged vif line:
# ping and iperf3 both ways, TSO and scatter-gather on in the guest, two
# queues for a 2-vCPU guest, network-attach/-detach, restart of the daemon
# under traffic, xl save/restore, and nothing left behind by xl destroy.
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"

SECS=${XR_IPERF_SECONDS:-10}
SOCK=/run/xnv/netbackd.sock
xr_path "xnv-netbackd + stock netfront"
NB=$(xr_bin xnv-netbackd) || xr_fail "xnv-netbackd was not built"
CTL=$(xr_bin xnvctl) || xr_fail "xnvctl was not built"

# With the kernel backend loaded the daemon must refuse, saying why.
xr_netback_load
if out=$("$NB" 2>&1); then xr_fail "xnv-netbackd started although xen-netback is loaded"; fi
echo "$out" | grep -q "xen-netback" || xr_fail "unclear refusal with xen-netback loaded: $out"
xr_netback_unload || xr_fail "cannot unload xen-netback"

NBPID=
start_nb() {
    rm -f "$SOCK"
    "$NB" -v >>"$XR_OUT/scenarios/$XR_SCENARIO.netbackd.log" 2>&1 &
    NBPID=$!
    echo "$NBPID" >>"$XR_RUN/daemons.$XR_SCENARIO"
    for _ in $(seq 50); do [ -S "$SOCK" ] && return 0; sleep 0.1; done
    xr_fail "xnv-netbackd did not start (see scenarios/$XR_SCENARIO.netbackd.log)"
}
fds() { find "/proc/$NBPID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
# fds of the daemon open on a TAP queue or an event channel device
guest_fds() { find "/proc/$NBPID/fd" -mindepth 1 -maxdepth 1 -lname '/dev/net/tun' -o -lname '/dev/xen/evtchn' | wc -l; }
be_state() { xenstore-read "/local/domain/0/backend/vif/$1/$2/state" 2>/dev/null; }
vif_connected() { [ "$(be_state "$d" "$1")" = 4 ]; }
tap_gone() { [ ! -e "/sys/class/net/vif$d.$1" ]; }
backend_gone() { [ -z "$(xenstore-list "/local/domain/0/backend/vif/$d" 2>/dev/null)" ]; }
wait_until() {   # wait_until SECONDS CMD...: CMD is re-run until it succeeds
    local t=$1; shift
    for _ in $(seq $((t * 5))); do "$@" && return 0; sleep 0.2; done
    return 1
}

start_nb
fds0=$(fds)   # a daemon serving no guest; a restarted one starts the same
xr_guest_up n1 10.0.0.21 --vcpus 2 || xr_fail "stock guest n1 did not come up on xnv-netbackd"
xr_metric guest_up_s "$XR_GUEST_UP_S"
d=$(xr_guest_domid n1)
[ -e "/sys/class/net/vif$d.0" ] || xr_fail "no TAP vif$d.0"
br=$(basename "$(readlink "/sys/class/net/vif$d.0/master" 2>/dev/null)")
[ "$br" = xenbr0 ] || xr_fail "vif$d.0 is not on xenbr0 (master: ${br:-none})"
[ "$(be_state "$d" 0)" = 4 ] || xr_fail "backend state $(be_state "$d" 0), not Connected"
q=$(xr_guest_queues n1)
xr_metric queues "$q"
[ "$q" = 2 ] || xr_fail "the 2-vCPU guest got $q queue(s), not 2"
# each queue's event-channel interrupts carry its name (not evtchn:xnv-netbackd)
n=0
for i in $(seq 0 $((q - 1))); do
    grep -q "evtchn:vif$d.0-q$i\$" /proc/interrupts && n=$((n + 1))
done
xr_metric named_queue_interrupts "$n"
[ "$n" = "$q" ] || { grep evtchn: /proc/interrupts >&2; xr_fail "$n of $q queues have interrupts named evtchn:vif$d.0-q<n>"; }

feat=$(xr_guest_run n1 ethtool -k eth0) || xr_fail "ethtool -k eth0 failed in the guest"
echo "$feat" >&2
echo "$feat" | grep -q "^tcp-segmentation-offload: on" || xr_fail "TSO is not on in the guest"
echo "$feat" | grep -q "^scatter-gather: on" || xr_fail "scatter-gather is not on in the guest"
xr_metric guest_tso 1

rtt=$(xr_rtt dom0 n1 20) || xr_fail "ping dom0 -> n1 failed"
xr_metric rtt_ms "$rtt"
read -r v c <<<"$(xr_iperf_cpu dom0 n1 "$SECS")"
[ -n "$v" ] || xr_fail "iperf3 dom0 -> n1 failed"
xr_metric dom0_to_guest_mbps "$v"
xr_metric dom0_cpu_s_per_gb_rx "$c"
read -r v c <<<"$(xr_iperf_cpu n1 dom0 "$SECS")"
[ -n "$v" ] || xr_fail "iperf3 n1 -> dom0 failed"
xr_metric guest_to_dom0_mbps "$v"
xr_metric dom0_cpu_s_per_gb_tx "$c"
# beside the kernel's netback in this boot: throughput, dom0's CPU per GB
# (xl list) and the round trip, xnv over kernel, for a guest of n1's shape
# (scenario baseline's k2: 2 vCPUs, 2 queues)
base() { sed -n 's/.*"name":"baseline".*"'"$1"'":\([0-9.]*\).*/\1/p' "$XR_RESULTS" | head -n1; }
for m in dom0_to_guest_mbps:dom0_to_guest_2vcpu_mbps:dom0_to_guest_vs_kernel \
         guest_to_dom0_mbps:guest_to_dom0_2vcpu_mbps:guest_to_dom0_vs_kernel \
         dom0_cpu_s_per_gb_rx:dom0_cpu_s_per_gb_rx_2vcpu:dom0_cpu_s_per_gb_vs_kernel_rx \
         dom0_cpu_s_per_gb_tx:dom0_cpu_s_per_gb_tx_2vcpu:dom0_cpu_s_per_gb_vs_kernel_tx \
         rtt_ms:rtt_2vcpu_ms:rtt_vs_kernel; do
    IFS=: read -r own theirs name <<<"$m"
    k=$(base "$theirs")
    [ -n "$k" ] && xr_metric "$name" "$(xr_ratio "$(xr_metric_get "$own")" "$k")"
done
"$CTL" list >&2
"$CTL" stats >&2
"$CTL" --json | grep -q "\"domid\":$d," || xr_fail "xnvctl does not show dom$d"

# xl network-attach / network-detach
xl network-attach n1 mac=00:16:3e:00:01:21,bridge=xenbr0 || xr_fail "xl network-attach failed"
wait_until 30 vif_connected 1 || xr_fail "attached vif never Connected (state $(be_state "$d" 1))"
[ -e "/sys/class/net/vif$d.1" ] || xr_fail "no TAP vif$d.1 after network-attach"
xl network-detach n1 1 || xr_fail "xl network-detach failed"
wait_until 30 tap_gone 1 || xr_fail "vif$d.1 still there after network-detach"
xr_metric network_attach_detach 1

# restart the daemon under traffic: the guest resumes without a reboot
xr_guest_run n1 -t 60 iperf3 -c 10.0.0.1 -t 16 -f m >"$XR_RUN/restart-iperf.txt" 2>&1 &
ip_pid=$!
sleep 5
kill "$NBPID"; wait "$NBPID" 2>/dev/null
sleep 1
start_nb
wait "$ip_pid" || xr_fail "iperf3 across the daemon restart failed"
cat "$XR_RUN/restart-iperf.txt" >&2
ping -c 3 -W 3 10.0.0.21 >/dev/null || xr_fail "no ping after restarting xnv-netbackd"
v=$(awk '/receiver/ { print $(NF-2) }' "$XR_RUN/restart-iperf.txt")
xr_metric across_restart_mbps "${v:-0}"
v=$(xr_iperf n1 dom0 5) || xr_fail "iperf3 after the restart failed"
xr_metric after_restart_mbps "$v"

# xl save / xl restore keeps networking
xl save n1 /tmp/n1.save >&2 || xr_fail "xl save failed"
xl restore /tmp/n1.save >&2 || xr_fail "xl restore failed"
rm -f /tmp/n1.save
xr_wait_ping 10.0.0.21 60 || xr_fail "no ping after xl save/restore"
v=$(xr_iperf dom0 n1 5) || xr_fail "iperf3 after xl restore failed"
xr_metric after_restore_mbps "$v"

# xl destroy leaves no TAP, no xenstore node, no file descriptor
d=$(xr_guest_domid n1)
xr_guest_down n1
wait_until 30 backend_gone || xr_fail "backend/vif/$d still in xenstore after xl destroy"
for t in /sys/class/net/vif"$d".*; do
    [ -e "$t" ] && xr_fail "TAP ${t##*/} survived xl destroy"
done
sleep 1
# Nothing of the guest may stay open; the only fds a fresh daemon lacks are
# gntdev's, opened on the first grant copy, and gntalloc's, opened when a
# busy queue's buffers were first granted (netback/arena.c): both are kept.
[ "$(guest_fds)" = 0 ] || xr_fail "xnv-netbackd still holds $(guest_fds) TAP/event-channel fds after xl destroy"
[ "$(fds)" -le $((fds0 + 2)) ] || xr_fail "xnv-netbackd holds $(fds) fds after xl destroy, a fresh one $fds0"
xr_metric leaked_fds $(( $(fds) - fds0 - 2 > 0 ? $(fds) - fds0 - 2 : 0 ))
xr_pass "stock guest on xnv-netbackd: ping, iperf3 both ways, TSO+SG, 2 queues, attach/detach, restart, save/restore, clean destroy"

#!/bin/bash
# xnv-rig: timeout=600
# install-service: xnv as an administrator installs it on a Xen host.  In
# dom0, the real `make install` from the source tree on the job disk (built
# on the host; nothing may be rebuilt here) into dom0's own root; the kernel
# backend unloaded and kept out by the installed modprobe configuration;
# xnv-netbackd started with the ExecStart line of the INSTALLED systemd unit
# (the rig's dom0 has no systemd: its PID 1 is a shell script), a reload as
# the unit's ExecReload lines do it; a stock guest with ping and iperf3;
# xnvctl (installed) showing the guest's vif with growing statistics and a
# JSON answer that parses.  Then everything undone: guest down, service
# stopped, `make uninstall` removing every file install put there, and the
# kernel backend loadable again.
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"

SECS=${XR_IPERF_SECONDS:-10}
SRC=$XR_JOB/src
STAGE=$XR_RUN/install-stage
UNIT=/usr/local/lib/systemd/system/xnv-netbackd.service
SOCK=/run/xnv/netbackd.sock
SVC_PID=
SYSLOG_PID=
INSTALLED=0
xr_path "make install + service unit"

# However the scenario ends (the runner's timeout allows 10 s): the files
# first, so that later scenarios can load xen-netback.
cleanup() {
    if [ -n "$SVC_PID" ] && kill -0 "$SVC_PID" 2>/dev/null; then kill "$SVC_PID"; fi
    if [ "$INSTALLED" = 1 ]; then make -C "$SRC" uninstall >/dev/null 2>&1; fi
    [ -n "$SYSLOG_PID" ] && kill "$SYSLOG_PID" 2>/dev/null
    xr_guest_down sv1 >/dev/null 2>&1
    xr_netback_load >/dev/null 2>&1
}
trap cleanup EXIT

[ -f "$SRC/Makefile" ] || xr_fail "no source tree on the job disk ($SRC)"
command -v make >/dev/null || xr_fail "dom0 has no make (tools/rig/build-rootfs.sh package list)"
if [ -d /run/systemd/system ]; then xr_log "dom0 runs systemd"; else
    xr_log "dom0 has no systemd (PID 1: $(tr '\0' ' ' </proc/1/cmdline)): the unit's command lines are run as they are"
fi

# Nothing may be compiled here: the build outputs are up to date.
cd "$SRC" || xr_fail "cd $SRC"
plan=$(make -n install 2>&1) || xr_fail "make -n install failed: $(echo "$plan" | tail -n 5)"
if echo "$plan" | grep -qE '^(cc|gcc|ar) '; then
    echo "$plan" >&2
    xr_fail "make install would rebuild in dom0 (timestamps lost on the job disk?)"
fi

# What install puts there: a staged install first (DESTDIR), its file list.
rm -rf "$STAGE"
make install DESTDIR="$STAGE" >"$XR_RUN/stage.log" 2>&1 || { cat "$XR_RUN/stage.log" >&2; xr_fail "make install DESTDIR=... failed"; }
# (no process substitution here: this dom0 has no /dev/fd)
(cd "$STAGE" && find . -type f | sed 's|^\.||' | sort) >"$XR_RUN/installed-files"
mapfile -t files <"$XR_RUN/installed-files"
xr_metric installed_files "${#files[@]}"
[ "${#files[@]}" -ge 10 ] || xr_fail "a staged install holds ${#files[@]} files only"
for f in "${files[@]}"; do
    [ -e "$f" ] && xr_fail "$f exists before make install"
done

xr_netback_unload || xr_fail "cannot unload xen-netback"
t0=$(xr_now_us)
make install >"$XR_RUN/install.log" 2>&1 || { cat "$XR_RUN/install.log" >&2; xr_fail "make install failed"; }
INSTALLED=1
xr_metric install_s "$(xr_since_s "$t0")"
cat "$XR_RUN/install.log" >&2
for f in "${files[@]}"; do
    cmp -s "$STAGE$f" "$f" || xr_fail "make install: $f missing or not what the staged install holds"
done
cd / || exit 1

# The installed modprobe configuration keeps the kernel backend out.
[ -f /etc/modprobe.d/xnv.conf ] || xr_fail "no /etc/modprobe.d/xnv.conf after make install"
if out=$(modprobe xen-netback 2>&1); then xr_fail "modprobe xen-netback succeeded with xnv.conf installed"; fi
xr_log "modprobe xen-netback refused as it should: ${out:-exit status non-zero}"
modprobe -c | grep -E '^(blacklist|install) xen[-_]netback' >&2 || xr_fail "modprobe -c does not show xnv.conf's rules"
xr_netback_loaded && xr_fail "xen-netback got loaded"
xr_metric netback_kept_out 1

# The service, as its installed unit says.
[ -f "$UNIT" ] || xr_fail "no $UNIT"
start=$(sed -n 's/^ExecStart=//p' "$UNIT")
[ -n "$start" ] || xr_fail "no ExecStart in $UNIT"
read -ra start_argv <<<"$start"
[ -x "${start_argv[0]}" ] || xr_fail "the unit's program ${start_argv[0]} is not installed"
xr_log "service: $start"
# --syslog: a syslog daemon receives the messages (the journal's role)
busybox syslogd -n -O "$XR_OUT/scenarios/$XR_SCENARIO.syslog" &
SYSLOG_PID=$!
echo "$SYSLOG_PID" >>"$XR_RUN/daemons.$XR_SCENARIO"
sleep 0.5
rm -f "$SOCK"
t0=$(xr_now_us)
"${start_argv[@]}" >>"$XR_OUT/scenarios/$XR_SCENARIO.service.log" 2>&1 &
SVC_PID=$!
echo "$SVC_PID" >>"$XR_RUN/daemons.$XR_SCENARIO"
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || xr_fail "the service did not open $SOCK (see scenarios/$XR_SCENARIO.service.log)"
xr_metric service_ready_s "$(xr_since_s "$t0")"

CTL=/usr/local/sbin/xnvctl
[ -x "$CTL" ] || xr_fail "xnvctl not installed"
xr_guest_up sv1 10.0.0.31 --vcpus 2 || xr_fail "stock guest sv1 did not come up on the service"
xr_metric guest_up_s "$XR_GUEST_UP_S"
d=$(xr_guest_domid sv1)
[ -e "/sys/class/net/vif$d.0/tun_flags" ] || xr_fail "vif$d.0 is not xnv-netbackd's TAP"
rtt=$(xr_rtt dom0 sv1 20) || xr_fail "ping dom0 -> sv1 failed"
xr_metric rtt_ms "$rtt"
v=$(xr_iperf dom0 sv1 "$SECS") || xr_fail "iperf3 dom0 -> sv1 failed"
xr_metric dom0_to_guest_mbps "$v"
v=$(xr_iperf sv1 dom0 "$SECS") || xr_fail "iperf3 sv1 -> dom0 failed"
xr_metric guest_to_dom0_mbps "$v"

# xnvctl: the vif with its guest, state, queues and features
list=$("$CTL" list) || xr_fail "xnvctl list failed"
echo "$list" >&2
row=$(echo "$list" | awk -v d="$d" '$1 == d && $2 == 0')
[ -n "$row" ] || xr_fail "xnvctl list has no row for dom$d"
echo "$row" | grep -q "vif$d.0 .*connected" || xr_fail "xnvctl list: vif$d.0 not connected: $row"
echo "$row" | awk '{ exit !($5 == 2) }' || xr_fail "xnvctl list: not 2 queues for the 2-vCPU guest: $row"
echo "$row" | grep -q 'sg' || xr_fail "xnvctl list shows no negotiated features: $row"

# live statistics: two reads around some traffic, and JSON that parses
pk() {   # packets both ways of dom$d's vif 0, from xnvctl --json
    "$CTL" --json | python3 -c '
import json, sys
d = int(sys.argv[1])
for v in json.load(sys.stdin)["vifs"]:
    if v["domid"] == d and v["devid"] == 0:
        print(v["stats"]["tx_packets"], v["stats"]["rx_packets"])' "$d"
}
read -r tx1 rx1 <<<"$(pk)" && [ -n "$rx1" ] || xr_fail "xnvctl --json did not parse or lacks dom$d"
ping -c 20 -i 0.2 -W 2 10.0.0.31 >/dev/null || xr_fail "ping between the two reads failed"
read -r tx2 rx2 <<<"$(pk)" && [ -n "$rx2" ] || xr_fail "second xnvctl --json failed"
xr_log "statistics: guest tx $tx1 -> $tx2, rx $rx1 -> $rx2"
[ "$tx2" -ge $((tx1 + 20)) ] && [ "$rx2" -ge $((rx1 + 20)) ] ||
    xr_fail "statistics did not grow by 20 packets each way ($tx1->$tx2, $rx1->$rx2)"
xr_metric stats_tx_delta $((tx2 - tx1))
xr_metric stats_rx_delta $((rx2 - rx1))
"$CTL" stats >&2 || xr_fail "xnvctl stats failed"
# xnvctl top: two refreshes under traffic, the second with rates for the vif
ping -c 40 -i 0.1 -W 2 10.0.0.31 >/dev/null &
ping_pid=$!
top=$("$CTL" top --count 2) || xr_fail "xnvctl top failed"
wait "$ping_pid"
echo "$top" >&2
[ "$(echo "$top" | grep -c 'TX_PKT/S')" = 2 ] || xr_fail "xnvctl top --count 2 did not refresh twice"
pps=$(echo "$top" | awk -v i="vif$d.0" '/^xnvctl top/ { n++ } n == 2 && $1 == i && NF == 8 { print $4 }')
[ -n "$pps" ] && [ "$pps" != - ] && [ "$pps" -gt 0 ] || xr_fail "xnvctl top shows no rate for vif$d.0 under ping"
xr_metric top_tx_pps "$pps"

# a reload as the unit's ExecReload lines do it (with $MAINPID)
while read -r line; do
    line=${line//\$MAINPID/$SVC_PID}
    read -ra argv <<<"$line"
    "${argv[@]}" >&2 || xr_fail "reload step failed: $line"
done <<<"$(sed -n 's/^ExecReload=//p' "$UNIT")"
sleep 1
kill -0 "$SVC_PID" 2>/dev/null || xr_fail "the service died on reload"
ping -c 3 -W 3 10.0.0.31 >/dev/null || xr_fail "no ping after the reload"
grep -q 'xnv-netbackd' "$XR_OUT/scenarios/$XR_SCENARIO.syslog" 2>/dev/null ||
    xr_fail "nothing from xnv-netbackd reached syslog (--syslog)"

# undo: guest, service (SIGTERM, as systemctl stop), make uninstall
xr_guest_down sv1 || xr_fail "xl destroy sv1 failed"
kill "$SVC_PID"
for _ in $(seq 50); do kill -0 "$SVC_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$SVC_PID" 2>/dev/null && xr_fail "the service did not stop on SIGTERM"
wait "$SVC_PID"; rc=$?
SVC_PID=
[ "$rc" = 0 ] || xr_fail "the service exited with status $rc on SIGTERM"
make -C "$SRC" uninstall >"$XR_RUN/uninstall.log" 2>&1 || { cat "$XR_RUN/uninstall.log" >&2; xr_fail "make uninstall failed"; }
INSTALLED=0
cat "$XR_RUN/uninstall.log" >&2
left=0
for f in "${files[@]}"; do
    if [ -e "$f" ]; then xr_log "left after make uninstall: $f"; left=$((left + 1)); fi
done
xr_metric uninstall_left "$left"
[ "$left" = 0 ] || xr_fail "make uninstall left $left file(s)"
xr_netback_load || xr_fail "modprobe xen-netback fails after make uninstall"
xr_pass "make install (nothing rebuilt, ${#files[@]} files), netback kept out, service from its unit: guest with ping + iperf3, xnvctl live stats and JSON, reload, stop, make uninstall clean"

#!/bin/bash
# xnv-rig: timeout=720
# driver-domain: xnv-netbackd serving vifs from a domain other than dom0.
# The driver domain "dd" is a PV guest created with driver_domain=1; inside
# it: the Xen device modules (gntdev, evtchn, xenfs, tun; bridge loaded
# here), a bridge xenbr0 holding its own uplink eth0 (a vif on dom0's
# xenbr0), xnv-netbackd, and `xl devd` running the hotplug scripts
# (vif-bridge) for the backends that appear in its xenstore.  A stock guest
# "dg" with vif 'backend=dd' then gets its network from dd: ping and iperf3
# between dg and dd, and from dom0 to dg through dd's bridge.  dd's extra
# files (xl and its libraries, bash, ip, /etc/xen/scripts, the bridge
# modules) come from dom0's own root filesystem, as one more initramfs
# archive appended to the guests' ordinary one.
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"

SECS=${XR_IPERF_SECONDS:-10}
DD_IP=10.0.0.40 DG_IP=10.0.0.41
XLBIN=/usr/lib/xen-4.17/bin/xl
xr_path "xnv-netbackd in a driver domain"
DOM0_MAC=
trap '[ -n "$DOM0_MAC" ] && ip link set xenbr0 address "$DOM0_MAC"
      xr_guest_down dg >/dev/null 2>&1; xr_guest_down dd >/dev/null 2>&1' EXIT
xr_bin xnv-netbackd >/dev/null || xr_fail "xnv-netbackd was not built"
[ -x "$XLBIN" ] || xr_fail "no $XLBIN in dom0"

# dd's uplink is an ordinary vif served by dom0's kernel backend.
xr_netback_load || xr_fail "cannot load xen-netback in dom0"

# --- dd's extra initramfs archive, from dom0's files ------------------------
O=$XR_RUN/dd-overlay
rm -rf "$O"
mkdir -p "$O/usr/lib/xen-4.17/bin" "$O/usr/bin" "$O/usr/lib/xnv-dd" \
         "$O/etc/xen" "$O/var/lib/xen" "$O/var/log/xen" "$O/run/xen" "$O/run/lock"
ln -s ../run "$O/var/run"
ln -s ../run/lock "$O/var/lock"
cp "$XLBIN" "$O/usr/lib/xen-4.17/bin/xl"
cp -a /etc/xen/scripts "$O/etc/xen/"
cp /etc/xen/xl.conf "$O/etc/xen/" 2>/dev/null
cp "$(command -v bash)" "$O/usr/bin/bash"
# iproute2's ip in /usr/bin, ahead of busybox's /usr/sbin/ip in the PATH the
# hotplug scripts (bash) set; busybox --install leaves an existing file alone
cp "$(readlink -f "$(command -v ip)")" "$O/usr/bin/ip"
# merged /usr in the guest: /lib is usr/lib
for l in $(ldd "$XLBIN" "$(command -v bash)" "$(command -v ip)" |
           awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }' | sort -u); do
    case $l in /usr/*) dst=$l ;; *) dst=/usr$l ;; esac
    mkdir -p "$O$(dirname "$dst")"
    cp -L "$l" "$O$dst"
done
for ko in $(modprobe --show-depends bridge | awk '$1 == "insmod" { print $2 }'); do
    cp "$ko" "$O/usr/lib/xnv-dd/"
    basename "$ko" >>"$O/usr/lib/xnv-dd/modules.list"
done
[ -s "$O/usr/lib/xnv-dd/modules.list" ] || xr_fail "no bridge module in dom0's /lib/modules/$(uname -r)"
(cd "$O" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$XR_RUN/dd-overlay.cpio"
cat "$XR_GUEST_INITRD" "$XR_RUN/dd-overlay.cpio" >"$XR_RUN/dd-initrd.cpio"
xr_metric dd_overlay_kb $(( $(stat -c %s "$XR_RUN/dd-overlay.cpio") / 1024 ))
# xl.cfg(5): driver_domain=1 lets dd run libxl's device handling (xl devd)
{ cat "$XR_GUEST_CFG"; echo 'driver_domain = 1'; } >"$XR_RUN/dd.cfg.in"

dd_logs() {   # dd's daemon logs into this scenario's log
    xr_guest_run dd 'for f in /tmp/netbackd.log /tmp/devd.log /var/log/xen/*; do [ -f "$f" ] && { echo "=== dd:$f"; tail -n 60 "$f"; }; done' >&2
}
dd_fail() { dd_logs; xr_fail "$*"; }

# --- the driver domain ------------------------------------------------------
xr_guest_down dg
XR_GUEST_CFG=$XR_RUN/dd.cfg.in XR_GUEST_INITRD=$XR_RUN/dd-initrd.cpio \
    xr_guest_up dd "$DD_IP" --mem 384 --vcpus 2 || xr_fail "driver domain dd did not come up"
xr_metric dd_up_s "$XR_GUEST_UP_S"
ddid=$(xr_guest_domid dd)
# what driver_domain=1 gave dd (libxl's own directory, writable by dd)
if xenstore-exists "/local/domain/$ddid/libxl"; then xr_metric dd_libxl_dir 1; else xr_metric dd_libxl_dir 0; fi

# bridge modules, then the bridge with dd's uplink and address on it
# (the guests' busybox sh runs its own ip applet for a bare "ip")
xr_guest_run dd -t 60 'set -e
    while read -r m; do insmod "/usr/lib/xnv-dd/$m"; done </usr/lib/xnv-dd/modules.list
    IP=/usr/bin/ip
    $IP link add xenbr0 type bridge
    $IP link set xenbr0 type bridge forward_delay 0 stp_state 0
    $IP addr del '"$DD_IP"'/24 dev eth0
    $IP link set eth0 master xenbr0
    $IP addr add '"$DD_IP"'/24 dev xenbr0
    $IP link set xenbr0 up' >&2 || dd_fail "cannot make the bridge in dd"
xr_wait_ping "$DD_IP" 30 || dd_fail "dd does not answer ping on its bridge"
# dom0's xenbr0 holds only vifs, all fe:ff:ff:ff:ff:ff (the hotplug
# script's address), so the bridge takes that address too; so does the vif
# TAP on dd's bridge, which then drops dom0's frames as "received packet on
# eth0 with own address as source address".  On a real host dom0's bridge
# has its NIC's address: give it one for this scenario.
DOM0_MAC=$(cat /sys/class/net/xenbr0/address)
ip link set xenbr0 address 02:00:0a:00:00:01 || xr_fail "cannot set xenbr0's address in dom0"
ip neigh flush dev xenbr0

# xnv-netbackd and xl devd in dd
xr_guest_run dd 'xnv-netbackd -v >/tmp/netbackd.log 2>&1 &' || dd_fail "cannot start xnv-netbackd in dd"
xr_guest_run dd -t 30 'for i in $(seq 100); do [ -S /run/xnv/netbackd.sock ] && exit 0; sleep 0.2; done; exit 1' ||
    dd_fail "xnv-netbackd did not start in dd"
xr_guest_run dd "$XLBIN -v devd -F >/tmp/devd.log 2>&1 &" || dd_fail "cannot start xl devd in dd"
sleep 2
xr_guest_run dd 'pidof xl >/dev/null' || dd_fail "xl devd is not running in dd"

# --- a stock guest on dd's backend -------------------------------------------
xr_guest_up dg "$DG_IP" --vif ",backend=dd" || dd_fail "guest dg did not come up on dd's backend"
xr_metric guest_up_s "$XR_GUEST_UP_S"
dgid=$(xr_guest_domid dg)
be=/local/domain/$ddid/backend/vif/$dgid/0
[ "$(xenstore-read "$be/state" 2>/dev/null)" = 4 ] || dd_fail "$be is not Connected"
[ "$(xenstore-read "/local/domain/$dgid/device/vif/0/backend-id")" = "$ddid" ] || dd_fail "dg's vif has another backend"
[ -e "/sys/class/net/vif$dgid.0" ] && dd_fail "dom0 has vif$dgid.0: dom0 serves dg"
xr_guest_run dd "test -e /sys/class/net/vif$dgid.0/tun_flags && readlink /sys/class/net/vif$dgid.0/master | grep -q xenbr0" ||
    dd_fail "vif$dgid.0 in dd is not xnv-netbackd's TAP on dd's xenbr0"
xr_metric hotplug_status "$(xenstore-read "$be/hotplug-status" 2>/dev/null)"
xr_guest_run dd "xnvctl list" >&2
xr_guest_run dd "xnvctl --json" | grep -q "\"domid\":$dgid," || dd_fail "xnvctl in dd does not show dom$dgid"

rtt=$(xr_rtt dd dg 20) || dd_fail "ping dd -> dg failed"
xr_metric rtt_ms "$rtt"
rtt=$(xr_rtt dg dd 10) || dd_fail "ping dg -> dd failed"
xr_metric dg_to_dd_rtt_ms "$rtt"
rtt=$(xr_rtt dom0 dg 10) || dd_fail "ping dom0 -> dg through dd failed"
xr_metric dom0_to_dg_rtt_ms "$rtt"
v=$(xr_iperf dg dd "$SECS") || dd_fail "iperf3 dg -> dd failed"
xr_metric guest_to_dd_mbps "$v"
v=$(xr_iperf dd dg "$SECS") || dd_fail "iperf3 dd -> dg failed"
xr_metric dd_to_guest_mbps "$v"
v=$(xr_iperf dom0 dg "$SECS") || dd_fail "iperf3 dom0 -> dg through dd failed"
xr_metric dom0_to_guest_mbps "$v"
xr_guest_run dd "xnvctl stats" >&2

# teardown: dg's backend and TAP go away inside dd
xr_guest_down dg || xr_fail "xl destroy dg failed"
for _ in $(seq 100); do
    [ -z "$(xenstore-list "/local/domain/$ddid/backend/vif/$dgid" 2>/dev/null)" ] && break
    sleep 0.2
done
[ -z "$(xenstore-list "/local/domain/$ddid/backend/vif/$dgid" 2>/dev/null)" ] || dd_fail "$be left in xenstore after xl destroy dg"
xr_guest_run dd -t 30 "for i in \$(seq 50); do [ -e /sys/class/net/vif$dgid.0 ] || exit 0; sleep 0.2; done; exit 1" ||
    dd_fail "vif$dgid.0 left in dd after xl destroy dg"
dd_logs
xr_guest_down dd
xr_pass "stock guest served by xnv-netbackd in driver domain dd (driver_domain=1, xl devd): ping + iperf3 dg<->dd and dom0->dg through dd, clean teardown"

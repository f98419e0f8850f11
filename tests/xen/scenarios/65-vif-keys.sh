#!/bin/bash
# xnv-rig: timeout=900
# vif-keys: the vif keys of the README's table beside vifname (covered by
# `operator`), each with the kernel's backend and then with xnv-netbackd, in
# one boot, the same stock guests:
#   rate=10Mb/s   the guest's transmit limited to about 10 Mbit/s (iperf3
#                 guest -> dom0), its receive not limited;
#   mtu=9000      the TAP's MTU in dom0 and the guest's, as the hotplug
#                 script leaves them;
#   model=e1000   a PV guest's vif ignores it;
#   script=vif-route,ip=...  no bridge: the script gives the TAP dom0's
#                 address and a host route to the guest's ip, which answers
#                 ping and iperf3 through it.
# vif-route takes dom0's address from eth0, which the rig's dom0 lacks: a
# dummy eth0 with 10.0.0.254/32 stands for it (in the guests' /24, so that
# their replies need no route: the TAP answers ARP for it by proxy_arp).
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"

LIMIT=10                       # Mbit/s, the rate key below
SECS=${XR_IPERF_SECONDS:-8}
NB=$(xr_bin xnv-netbackd) || xr_fail "xnv-netbackd was not built"
SOCK=/run/xnv/netbackd.sock
xr_path "vif keys rate, mtu, model, script=vif-route + ip: kernel netback, then xnv-netbackd"

trap 'ip link del eth0 2>/dev/null' EXIT
trap 'exit 143' TERM INT HUP
ip link show eth0 >/dev/null 2>&1 && xr_fail "dom0 has an eth0 already: the dummy would replace it"
ip link add eth0 type dummy && ip addr add 10.0.0.254/32 dev eth0 && ip link set eth0 up ||
    xr_fail "cannot create the dummy eth0 vif-route needs"

# one backend's run; prints nothing, records <backend>_* metrics
run_keys() {
    local be=$1 d v tap
    xr_guest_up vk 10.0.0.71 --vif ",rate=${LIMIT}Mb/s,mtu=9000,model=e1000" ||
        xr_fail "$be: a guest with rate, mtu and model did not come up"
    d=$(xr_guest_domid vk)
    v=$(xr_iperf vk dom0 "$SECS") || xr_fail "$be: iperf3 vk -> dom0 failed"
    xr_metric "${be}_rate_limited_mbps" "$v"
    v=$(xr_iperf dom0 vk "$SECS") || xr_fail "$be: iperf3 dom0 -> vk failed"
    xr_metric "${be}_rate_unlimited_dir_mbps" "$v"
    tap=vif$d.0
    xr_metric "${be}_tap_mtu" "$(cat "/sys/class/net/$tap/mtu" 2>/dev/null)"
    xr_metric "${be}_guest_mtu" "$(xr_guest_run vk cat /sys/class/net/eth0/mtu 2>/dev/null | tr -d '\r\n')"
    xr_guest_down vk

    xr_guest_up rt 10.0.0.77 --vif ",script=vif-route,ip=10.0.0.77" ||
        xr_fail "$be: a guest behind vif-route did not come up (no ping through the host route)"
    d=$(xr_guest_domid rt)
    tap=vif$d.0
    ip route show 10.0.0.77 | grep -q "dev $tap" || xr_fail "$be: no host route to 10.0.0.77 through $tap"
    xr_metric "${be}_route_backend_ip" "$(xenstore-read "/local/domain/0/backend/vif/$d/0/ip" 2>/dev/null)"
    xr_metric "${be}_route_on_bridge" "$([ -e "/sys/class/net/$tap/brport" ] && echo 1 || echo 0)"
    v=$(xr_rtt dom0 rt 10) || xr_fail "$be: ping dom0 -> rt through the route failed"
    xr_metric "${be}_route_rtt_ms" "$v"
    v=$(xr_iperf dom0 rt "$SECS") || xr_fail "$be: iperf3 dom0 -> rt through the route failed"
    xr_metric "${be}_route_mbps" "$v"
    xr_guest_down rt
    ip route show 10.0.0.77 | grep -q . && xr_fail "$be: the host route to 10.0.0.77 outlived the guest"
    return 0
}

xr_guests_down
xr_netback_load || xr_fail "cannot load xen-netback"
run_keys kernel
xr_netback_unload || xr_fail "cannot unload xen-netback"
rm -f "$SOCK"
xr_daemon netbackd "$NB" -v
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || xr_fail "xnv-netbackd did not start"
run_keys xnv

# As with the kernel's backend: the rate holds (within the burst of an
# interval), the receive direction is not limited, the MTUs and the route
# come out the same.
k=$(xr_metric_get kernel_rate_limited_mbps) x=$(xr_metric_get xnv_rate_limited_mbps)
awk -v x="$x" -v l="$LIMIT" 'BEGIN { exit !(x <= 1.3 * l && x >= 0.5 * l) }' ||
    xr_fail "rate=${LIMIT}Mb/s: the guest sent $x Mbit/s through xnv-netbackd (kernel: $k)"
awk -v u="$(xr_metric_get xnv_rate_unlimited_dir_mbps)" -v l="$LIMIT" 'BEGIN { exit !(u > 2 * l) }' ||
    xr_fail "rate limits the guest's receive too on xnv-netbackd"
for m in tap_mtu guest_mtu route_backend_ip route_on_bridge; do
    [ "$(xr_metric_get "kernel_$m")" = "$(xr_metric_get "xnv_$m")" ] ||
        xr_fail "$m: kernel '$(xr_metric_get "kernel_$m")', xnv '$(xr_metric_get "xnv_$m")'"
done
xr_metric rate_ratio_to_limit "$(xr_ratio "$x" "$LIMIT")"
xr_pass "rate ${LIMIT}Mb/s: kernel $k, xnv $x Mbit/s; mtu tap/guest $(xr_metric_get xnv_tap_mtu)/$(xr_metric_get xnv_guest_mtu) as with the kernel; vif-route: ping $(xr_metric_get xnv_route_rtt_ms) ms, $(xr_metric_get xnv_route_mbps) Mbit/s (kernel $(xr_metric_get kernel_route_rtt_ms) ms, $(xr_metric_get kernel_route_mbps))"

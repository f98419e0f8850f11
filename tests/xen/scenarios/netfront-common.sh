# Shared by the netfront-* scenarios (not a scenario itself: no NN- prefix).
# shellcheck shell=bash

# netfront_guest_checks NAME IP: a 1-vCPU guest on xnv-netfront (kernel
# netfront not loaded), ping and iperf3 both ways, the ratios to the stock
# netfront of this boot, and a clean exit of the agent; records the result.
netfront_guest_checks() {
    local name=$1 ip=$2 secs=${XR_IPERF_SECONDS:-10} v rtt k m
    xr_guest_up "$name" "$ip" --extra "xnv.netfront=1" ||
        xr_fail "guest $name on xnv-netfront did not come up (see its console log)"
    xr_metric guest_up_s "$XR_GUEST_UP_S"
    xr_guest_run "$name" 'cat /proc/modules' | grep -q '^xen_netfront ' &&
        xr_fail "the kernel's xen-netfront is loaded in $name"
    xr_guest_run "$name" 'pidof xnv-netfront' >/dev/null || xr_fail "xnv-netfront is not running in $name"
    rtt=$(xr_rtt dom0 "$name" 20) || xr_fail "ping dom0 -> $name failed"
    xr_metric rtt_ms "$rtt"
    v=$(xr_iperf dom0 "$name" "$secs") || xr_fail "iperf3 dom0 -> $name failed"
    xr_metric dom0_to_guest_mbps "$v"
    v=$(xr_iperf "$name" dom0 "$secs") || xr_fail "iperf3 $name -> dom0 failed"
    xr_metric guest_to_dom0_mbps "$v"
    for m in dom0_to_guest_mbps guest_to_dom0_mbps; do
        k=$(sed -n 's/.*"name":"baseline".*"'"$m"'":\([0-9.]*\).*/\1/p' "$XR_RESULTS" | head -n1)
        v=$(sed -n "s/^$m //p" "$XR_RUN/metrics/$XR_SCENARIO")
        [ -n "$k" ] && xr_metric "${m%_mbps}_vs_stock_netfront" \
            "$(awk -v a="$v" -v b="$k" 'BEGIN { if (b > 0) printf "%.2f", a / b }')"
    done
    xr_guest_run "$name" 'kill $(pidof xnv-netfront); sleep 3; pidof xnv-netfront' >/dev/null &&
        xr_fail "xnv-netfront did not exit on SIGTERM"
    xr_guest_down "$name"
    xr_pass "a guest on xnv-netfront reaches dom0: ping and iperf3 both ways"
}

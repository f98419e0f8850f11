# Shared by the fastpath-channel/teardown/restore/pvh scenarios (not a
# scenario itself: no NN- prefix): guests on xnv-netfront with direct
# channels (--channels), served by xnv-netbackd with channel-bridges.
# shellcheck shell=bash

XC_SOCK=/run/xnv/netbackd.sock

# xc_daemon_start [CONFIG_LINE...]: the kernel netback out, xnv-netbackd in,
# channels on xenbr0 (more lines for its configuration, if given).
xc_daemon_start() {
    local nb conf=$XR_RUN/netbackd-channels.conf
    nb=$(xr_bin xnv-netbackd) || xr_fail "xnv-netbackd was not built"
    xr_netback_unload || xr_fail "cannot unload xen-netback"
    printf 'channel-bridges = xenbr0\nlog-level = debug\n' >"$conf"
    [ $# -eq 0 ] || printf '%s\n' "$@" >>"$conf"
    rm -f "$XC_SOCK"
    xr_daemon netbackd "$nb" -c "$conf"
    local _
    for _ in $(seq 50); do [ -S "$XC_SOCK" ] && break; sleep 0.1; done
    [ -S "$XC_SOCK" ] || xr_fail "xnv-netbackd did not start"
}

# xc_guest_up NAME IP [xr_guest_up options]: a guest on xnv-netfront with channels.
xc_guest_up() {
    local name=$1 ip=$2
    shift 2
    xr_guest_up "$name" "$ip" --extra "xnv.netfront=1 xnv.channels=1" "$@" ||
        xr_fail "guest $name on xnv-netfront with channels did not come up (see its console log)"
}

# xc_published A B: A offers B a ring (its publication exists).
xc_published() {
    local a b
    a=$(xr_guest_domid "$1") && b=$(xr_guest_domid "$2") || return 1
    xenstore-exists "/local/domain/$a/data/xnv-channel/$b" 2>/dev/null
}

# xc_wait_channel A B [SECONDS]: both publications there.
xc_wait_channel() {
    local i n=$(( ${3:-30} * 5 ))
    for ((i = 0; i < n; i++)); do
        xc_published "$1" "$2" && xc_published "$2" "$1" && return 0
        sleep 0.2
    done
    return 1
}

# xc_channel_stats NAME: the agent's channel counters (SIGUSR1 -> its
# console, logged by xenconsoled; in an HVM guest, whose console is an
# emulated serial port, its log file /tmp/xnv-netfront.log), printed as
# "TX_PACKETS RX_PACKETS FALLBACKS FULL ROOM" (FULL: frames that found the
# peer's ring full; ROOM: the peers' notifications of new buffers on a ring
# that was full).
xc_channel_stats() {
    local log=/var/log/xen/console/guest-$1.log line n0 i
    if grep -q 'type=hvm' "$XR_RUN/guests/$1.sig" 2>/dev/null; then
        # shellcheck disable=SC2016 # expanded in the guest
        line=$(xr_guest_run "$1" 'l=/tmp/xnv-netfront.log; p="channels: .* peer(s); tx"
            n0=$(grep -ac "$p" $l); kill -USR1 $(pidof xnv-netfront)
            for i in $(seq 50); do [ $(grep -ac "$p" $l) -gt $n0 ] && break; sleep 0.2; done
            grep -a "$p" $l | tail -n1')
    else
        n0=$(grep -ac 'channels: .* peer(s); tx' "$log" 2>/dev/null)
        xr_guest_run "$1" 'kill -USR1 $(pidof xnv-netfront)' >/dev/null
        for i in $(seq 50); do
            [ "$(grep -ac 'channels: .* peer(s); tx' "$log" 2>/dev/null)" -gt "${n0:-0}" ] && break
            sleep 0.2
        done
        line=$(grep -a 'channels: .* peer(s); tx' "$log" 2>/dev/null | tail -n1)
    fi
    [ -n "$line" ] || { echo "0 0 0 0 0"; return 1; }
    echo "$line" | sed -n 's/.*; tx \([0-9]*\) packets.*; rx \([0-9]*\) packets.*; \([0-9]*\) fallbacks.*/\1 \2 \3/p' |
        tr -d '\n'
    echo " $(echo "$line" | sed -n 's/.*; full \([0-9]*\); room \([0-9]*\).*/\1 \2/p')"

}

# xc_vcpus A B: the physical CPU each guest's first vCPU is on now, as
# "A:CPU,B:CPU" (the tier-2 throughput one way moved by up to 1.8x with the
# two on one CPU or on two: docs/netback-profile.md)
xc_vcpus() {
    local g out=
    for g in "$@"; do
        out+="${out:+,}$g:$(xl vcpu-list "$g" 2>/dev/null | awk 'NR == 2 { print $4 }')"
    done
    echo "$out"
}

# xc_measure A B SECONDS: ping B -> A, iperf3 B -> A and A -> B, and the
# frames each agent sent on its channels; records rtt_ms,
# guest_to_guest_mbps (B -> A), guest_to_guest_reverse_mbps and
# channel_tx_packets_A / _B, vcpus_before / _after (xc_vcpus around the
# B -> A transfer), each name after XC_PREFIX if set (a scenario
# that measures several pairs); fails unless both channels carried > 1000
# frames.  Sets XC_RTT, XC_MBPS, XC_MBPS_REV, XC_TX_A, XC_TX_B.
xc_metric() { xr_metric "${XC_PREFIX:-}$1" "$2"; }
xc_measure() {
    local a=$1 b=$2 secs=$3 _
    XC_RTT=$(xr_rtt "$b" "$a" 20) || xr_fail "ping $b -> $a failed"
    xc_metric rtt_ms "$XC_RTT"
    xc_metric vcpus_before "$(xc_vcpus "$a" "$b")"
    XC_MBPS=$(xr_iperf "$b" "$a" "$secs") || xr_fail "iperf3 $b -> $a failed"
    xc_metric vcpus_after "$(xc_vcpus "$a" "$b")"
    xc_metric guest_to_guest_mbps "$XC_MBPS"
    xc_metric retransmits "$(xr_iperf_retr)"
    XC_MBPS_REV=$(xr_iperf "$a" "$b" "$secs") || xr_fail "iperf3 $a -> $b failed"
    xc_metric guest_to_guest_reverse_mbps "$XC_MBPS_REV"
    xc_metric retransmits_reverse "$(xr_iperf_retr)"
    local full_a room_a full_b room_b
    read -r XC_TX_A _ _ full_a room_a <<<"$(xc_channel_stats "$a")"
    read -r XC_TX_B _ _ full_b room_b <<<"$(xc_channel_stats "$b")"
    xc_metric "channel_tx_packets_$a" "${XC_TX_A:-0}"
    xc_metric "channel_tx_packets_$b" "${XC_TX_B:-0}"
    # frames that found the peer's ring full, and the peers' notifications of
    # new buffers that woke the senders
    xc_metric channel_ring_full "$(( ${full_a:-0} + ${full_b:-0} ))"
    xc_metric channel_room_signals "$(( ${room_a:-0} + ${room_b:-0} ))"
    [ "${XC_TX_A:-0}" -gt 1000 ] && [ "${XC_TX_B:-0}" -gt 1000 ] ||
        xr_fail "the channels carried too little ($a sent ${XC_TX_A:-0}, $b ${XC_TX_B:-0} frames)"
}

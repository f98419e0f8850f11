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
# "TX_PACKETS RX_PACKETS FALLBACKS FULL ROOM THROTTLED WAKEUPS NOTIFIES TX_BYTES"
# (FULL: frames that found the peer's ring full; ROOM: the peers'
# notifications of new buffers on a ring that was full; THROTTLED: storm
# pauses; WAKEUPS: the channel thread's wakeups; NOTIFIES: notifications
# it sent; TX_BYTES: bytes of the frames it sent on channels).
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
    echo " $(echo "$line" | sed -n 's/.*; full \([0-9]*\); room \([0-9]*\).*/\1 \2/p')" \
        "$(echo "$line" | sed -n 's/.*; throttled \([0-9]*\);.*/\1/p')" \
        "$(echo "$line" | sed -n 's/.*; wakeups \([0-9]*\); notifies \([0-9]*\).*/\1 \2/p')" \
        "$(echo "$line" | sed -n 's/.*; tx [0-9]* packets \([0-9]*\) bytes.*/\1/p')"
}

# xc_guest_snap NAME FILE: the guest's counters now, into FILE: a line
# "T <stat>" per thread of its agent (of every process of that name: one
# that restarts itself has two), "C <cpu line of /proc/stat>", an
# "I <line>" per line of /proc/interrupts, an "N <line>" per TcpExt line of
# /proc/net/netstat
xc_guest_snap() {
    # shellcheck disable=SC2016 # expanded in the guest
    xr_guest_run "$1" 'for t in $(for p in $(pidof xnv-netfront); do echo /proc/$p/task/*; done); do echo "T $(cat $t/stat)"; done
        echo "C $(head -n1 /proc/stat)"; sed "s/^/I /" /proc/interrupts
        grep "^TcpExt:" /proc/net/netstat | sed "s/^/N /"' >"$2" 2>/dev/null
}

# xc_slow_start_exits BEFORE AFTER: xr_slow_start_exits of the guest's
# TcpExt counters in two snapshots
xc_slow_start_exits() {
    xr_slow_start_exits "$(sed -n 's/^N //p' "$1" | xr_slow_start_counts -)" \
        "$(sed -n 's/^N //p' "$2" | xr_slow_start_counts -)"
}

# xc_agent_ticks FILE: CPU time of the guest's agent in a snapshot, in clock
# ticks (utime + stime), as "TOTAL QUEUE CHANNELS OTHER": all its threads,
# its nf-queue* threads (TAP -> netfront or channel), its nf-channels
# thread (channel -> TAP), the rest.
xc_agent_ticks() {
    awk '$1 == "T" { sub(/^T /, ""); n = $0; sub(/^[0-9]+ \(/, "", n); sub(/\).*/, "", n)
               r = $0; sub(/^.*\) /, "", r); split(r, f)
               v = f[12] + f[13]; all += v   # utime, stime: fields 14 and 15 of stat
               if (n ~ /^nf-queue/) q += v; else if (n == "nf-channels") c += v; else o += v }
             END { printf "%d %d %d %d\n", all, q, c, o }' "$1"
}

# xc_guest_kernel BEFORE AFTER: what the guest's CPU did between two
# snapshots, one line: ticks of user, system, irq, softirq, steal, idle,
# and the three busiest interrupts (count, name)
xc_guest_kernel() {
    awk 'FNR == 1 { file++ }
         $1 == "C" { for (i = 3; i <= 10; i++) c[file, i] = $i }
         $1 == "I" && $2 ~ /:$/ { n = 0; name = ""
             for (i = 3; i <= NF; i++) { if ($i ~ /^[0-9]+$/ && name == "") n += $i; else name = name " " $i }
             irq[file, $2] = n; nm[$2] = name }
         END { printf "user %d system %d irq %d softirq %d steal %d idle %d;",
                   c[2,3] - c[1,3] + c[2,4] - c[1,4], c[2,5] - c[1,5], c[2,8] - c[1,8],
                   c[2,9] - c[1,9], c[2,10] - c[1,10], c[2,6] - c[1,6]
               for (k in nm) d[k] = irq[2, k] - irq[1, k]
               for (j = 0; j < 3; j++) { best = ""; for (k in d) if (best == "" || d[k] > d[best]) best = k
                   if (best != "" && d[best] > 0) printf " %s %d%s;", best, d[best], nm[best]; delete d[best] }
               print "" }' "$1" "$2"
}

# xc_counted_iperf SRC DST SECONDS TAG: iperf3 SRC -> DST over the channel
# with the agents' counters read around it (issue 16: what a slow run does
# differently); prints the Mbit/s and records, each as TAG_NAME:
# bytes_per_frame (SRC's frames on the channel), frames_per_wakeup (DST's
# channel thread: frames taken per wakeup),
# notifies_per_frame (both agents' notifications per frame SRC sent on the
# channel), slow_start_exits (xc_slow_start_exits of SRC), throttled
# (storm pauses, both), ring_full (SRC's frames that
# found the ring full), agent_cpu_s_per_gb_src / _dst (the agents' own CPU,
# all threads) and guest_cpu_s_per_gb_src / _dst (the whole guest, xl list);
# on stderr, the agents' CPU seconds by thread.
xc_counted_iperf() {
    local src=$1 dst=$2 secs=$3 tag=$4 mbps ds dd
    local s0 s1 d0 d1 as0 as1 ad0 ad1 gs0 gs1 gd0 gd1
    ds=$(xr_guest_domid "$src") && dd=$(xr_guest_domid "$dst") || return 1
    local snap=$XR_RUN/snap.$XR_SCENARIO.$tag
    local counted=1
    s0=$(xc_channel_stats "$src") && d0=$(xc_channel_stats "$dst") || counted=0
    xc_guest_snap "$src" "$snap.src0"; xc_guest_snap "$dst" "$snap.dst0"
    gs0=$(xr_dom_cpu "$ds"); gd0=$(xr_dom_cpu "$dd")
    xr_hostcount start "$XR_SCENARIO.$tag" >&2
    mbps=$(xr_iperf "$src" "$dst" "$secs") || { xr_hostcount stop "$XR_SCENARIO.$tag" >&2; return 1; }
    xr_hostcount stop "$XR_SCENARIO.$tag" >&2
    gs1=$(xr_dom_cpu "$ds"); gd1=$(xr_dom_cpu "$dd")
    xc_guest_snap "$src" "$snap.src1"; xc_guest_snap "$dst" "$snap.dst1"
    s1=$(xc_channel_stats "$src") && d1=$(xc_channel_stats "$dst") || counted=0
    # the last counters read, for xc_measure (this runs in a subshell)
    [ "$counted" = 0 ] || { echo "$s1" >"$XR_RUN/stats.$src"; echo "$d1" >"$XR_RUN/stats.$dst"; }
    if [ "$counted" = 0 ]; then
        echo "$tag: an agent's counters could not be read: none recorded" >&2
        echo "$mbps"
        return 0
    fi
    as0=$(xc_agent_ticks "$snap.src0"); ad0=$(xc_agent_ticks "$snap.dst0")
    as1=$(xc_agent_ticks "$snap.src1"); ad1=$(xc_agent_ticks "$snap.dst1")
    xr_metric "${tag}_slow_start_exits" "$(xc_slow_start_exits "$snap.src0" "$snap.src1")" >&2
    echo "$tag: sender's kernel: $(xc_guest_kernel "$snap.src0" "$snap.src1")" >&2
    echo "$tag: receiver's kernel: $(xc_guest_kernel "$snap.dst0" "$snap.dst1")" >&2
    # stats fields: 1 tx, 2 rx, 3 fallbacks, 4 full, 5 room, 6 throttled,
    # 7 wakeups, 8 notifies, 9 tx bytes; GB: 10^9 bytes at the receiver's rate
    awk -v s0="$s0" -v s1="$s1" -v d0="$d0" -v d1="$d1" -v as0="$as0" -v as1="$as1" \
        -v ad0="$ad0" -v ad1="$ad1" -v gs0="$gs0" -v gs1="$gs1" -v gd0="$gd0" -v gd1="$gd1" \
        -v mbps="$mbps" -v secs="$secs" -v hz="$(getconf CLK_TCK)" -v tag="$tag" 'BEGIN {
        split(s0, a0); split(s1, a1); split(d0, b0); split(d1, b1)
        split(as0, x0); split(as1, x1); split(ad0, y0); split(ad1, y1)
        gb = mbps * secs / 8000
        tx = a1[1] - a0[1]; rx = b1[2] - b0[2]; w = b1[7] - b0[7]
        if (tx > 0) printf "%s_bytes_per_frame %d\n", tag, (a1[9] - a0[9]) / tx
        if (w > 0) printf "%s_frames_per_wakeup %.2f\n", tag, rx / w
        if (tx > 0) printf "%s_notifies_per_frame %.3f\n", tag, (a1[8] - a0[8] + b1[8] - b0[8]) / tx
        printf "%s_throttled %d\n", tag, a1[6] - a0[6] + b1[6] - b0[6]
        printf "%s_ring_full %d\n", tag, a1[4] - a0[4]
        if (gb > 0) {
            printf "%s_agent_cpu_s_per_gb_src %.2f\n", tag, (x1[1] - x0[1]) / hz / gb
            printf "%s_agent_cpu_s_per_gb_dst %.2f\n", tag, (y1[1] - y0[1]) / hz / gb
            printf "%s_guest_cpu_s_per_gb_src %.2f\n", tag, (gs1 - gs0) / gb
            printf "%s_guest_cpu_s_per_gb_dst %.2f\n", tag, (gd1 - gd0) / gb
        }
        printf "# %s: the agents CPU s by thread (queue / channels / other): sender %.2f / %.2f / %.2f, receiver %.2f / %.2f / %.2f\n",
            tag, (x1[2] - x0[2]) / hz, (x1[3] - x0[3]) / hz, (x1[4] - x0[4]) / hz,
            (y1[2] - y0[2]) / hz, (y1[3] - y0[3]) / hz, (y1[4] - y0[4]) / hz
    }' | while read -r k v; do
        if [ "$k" = "#" ]; then echo "$v"; else xr_metric "$k" "$v"; fi
    done >&2
    echo "$mbps"
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
    rm -f "$XR_RUN/stats.$a" "$XR_RUN/stats.$b"
    XC_RTT=$(xr_rtt "$b" "$a" 20) || xr_fail "ping $b -> $a failed"
    xc_metric rtt_ms "$XC_RTT"
    xc_metric vcpus_before "$(xc_vcpus "$a" "$b")"
    XC_MBPS=$(xc_counted_iperf "$b" "$a" "$secs" "${XC_PREFIX:-}fwd") || xr_fail "iperf3 $b -> $a failed"
    xc_metric vcpus_after "$(xc_vcpus "$a" "$b")"
    xc_metric guest_to_guest_mbps "$XC_MBPS"
    xc_metric retransmits "$(xr_iperf_retr)"
    XC_MBPS_REV=$(xc_counted_iperf "$a" "$b" "$secs" "${XC_PREFIX:-}rev") || xr_fail "iperf3 $a -> $b failed"
    # a figure, nothing else (a stray line on stdout would pass as one)
    [[ $XC_MBPS =~ ^[0-9]+(\.[0-9]+)?$ && $XC_MBPS_REV =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
        xr_fail "no plain Mbit/s figure from iperf3 ($b -> $a: '$XC_MBPS', $a -> $b: '$XC_MBPS_REV')"
    xc_metric guest_to_guest_reverse_mbps "$XC_MBPS_REV"
    xc_metric retransmits_reverse "$(xr_iperf_retr)"
    local full_a room_a full_b room_b
    # as read at the end of the reverse transfer, or read now
    read -r XC_TX_A _ _ full_a room_a <<<"$(cat "$XR_RUN/stats.$a" 2>/dev/null || xc_channel_stats "$a")"
    read -r XC_TX_B _ _ full_b room_b <<<"$(cat "$XR_RUN/stats.$b" 2>/dev/null || xc_channel_stats "$b")"
    xc_metric "channel_tx_packets_$a" "${XC_TX_A:-0}"
    xc_metric "channel_tx_packets_$b" "${XC_TX_B:-0}"
    # frames that found the peer's ring full, and the peers' notifications of
    # new buffers that woke the senders
    xc_metric channel_ring_full "$(( ${full_a:-0} + ${full_b:-0} ))"
    xc_metric channel_room_signals "$(( ${room_a:-0} + ${room_b:-0} ))"
    [ "${XC_TX_A:-0}" -gt 1000 ] && [ "${XC_TX_B:-0}" -gt 1000 ] ||
        xr_fail "the channels carried too little ($a sent ${XC_TX_A:-0}, $b ${XC_TX_B:-0} frames)"
}

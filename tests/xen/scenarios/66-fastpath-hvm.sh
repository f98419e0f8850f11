#!/bin/bash
# xnv-rig: timeout=1800 tcg=multi
# xnv-rig-pending: the emulated host kills HVM guests under load, stock ones on the kernel netback too (Xen "dN Triple fault": QEMU 7.2's TCG SVM saves Xen's own registers into the guest's VMCB at a #VMEXIT, see tools/rig/README.md): passed 1 run of 4 (1-vCPU guests: 4 of 10 boots triple-faulted in the guest kernel; with the boot retry the run passed; 2-vCPU guests: a stock HVM guest triple-faulted under iperf3 on the bridged path, no xnv code in its path)
# fastpath-hvm: the fast paths between co-resident HVM guests (1 vCPU each,
# qemu-system-xen as device model, vif type=vif), each beside the bridged
# path (kernel netback + xenbr0) between the same kinds of guest in this
# boot:
#  switch:  the bridged path's two stock HVM guests (the kernel's
#           xen-netfront), xnv-netbackd swapped in under them (their vifs
#           detached, xen-netback unloaded, the daemon started with the
#           switch fast path on xenbr0, the vifs attached again:
#           backend_swap_s): their frames go guest to guest by grant copy in
#           the daemon (switch_fastpath_packets);
#  channel: two HVM guests on xnv-netfront --channels: a direct channel each
#           way, grant copy from one guest's agent into the other's buffers;
#  mixed:   one of those HVM guests and a PV guest on xnv-netfront --channels.
# Ping and iperf3 both ways for each pair, and the ratios to its bridged
# pair (HVM-HVM for switch and channel, HVM-PV for mixed): metrics named as
# in fastpath-switch / fastpath-channel, after the prefix switch_, channel_
# or mixed_ (bridged_* the HVM pair's bridged path, mixed_bridged_* the HVM-
# PV pair's).  The guests of each phase boot at once; two rounds of HVM
# boots in all (about two minutes each).
# Why tcg=multi: the boot it shares with hvm-netback (see that scenario);
# under thread=single a 1-vCPU HVM guest boots too, but in about 2 minutes
# instead of one and a half.
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"
# shellcheck source=channel-common.sh
. "$(dirname "$0")/channel-common.sh"

SECS=${XR_IPERF_SECONDS:-10}
AGENT="xnv.netfront=1 xnv.channels=1"
HVM_VCPUS=${XR_HVM_VCPUS:-1}
xr_path "fast paths between HVM guests"
xr_bin xnvctl >/dev/null || xr_fail "xnvctl was not built"

# boot_all NAME:IP:KIND...: every guest created at once (KIND hvm or pv,
# hvm+agent or pv+agent for xnv-netfront with channels); fails unless all
# come up.  Records METRIC boot_s_PHASE (the slowest) when PHASE is given
# as the first argument.
boot_all() {
    local phase=$1 spec name ip kind t0 i pids=() names=()
    shift
    t0=$(xr_now_us)
    for spec in "$@"; do
        IFS=: read -r name ip kind <<<"$spec"
        local opts=()
        case $kind in hvm*) opts+=(--type hvm --vcpus "$HVM_VCPUS") ;; esac
        case $kind in *+agent) opts+=(--extra "$AGENT") ;; esac
        xr_guest_up "$name" "$ip" "${opts[@]}" &
        pids+=($!) names+=("$name")
    done
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}" || xr_fail "$phase: guest ${names[$i]} did not come up (see its console log)"
    done
    xr_metric "boot_s_$phase" "$(xr_since_s "$t0")"
}

# is_hvm NAME: the guest's kernel says it runs in an HVM domain
is_hvm() {
    local t
    t=$(xr_guest_run "$1" cat /sys/hypervisor/guest_type)
    [ "$t" = HVM ] || xr_fail "guest $1 runs as '${t:-?}', not HVM"
}

# pair PREFIX A B: ping B -> A, iperf3 B -> A and A -> B as PREFIX rtt_ms,
# guest_to_guest_mbps, guest_to_guest_reverse_mbps
pair() {
    local p=$1 a=$2 b=$3 v
    v=$(xr_rtt "$b" "$a" 20) || xr_fail "ping $b -> $a ($p) failed"
    xr_metric "${p}rtt_ms" "$v"
    v=$(xr_iperf "$b" "$a" "$SECS") || xr_fail "iperf3 $b -> $a ($p) failed"
    xr_metric "${p}guest_to_guest_mbps" "$v"
    v=$(xr_iperf "$a" "$b" "$SECS") || xr_fail "iperf3 $a -> $b ($p) failed"
    xr_metric "${p}guest_to_guest_reverse_mbps" "$v"
}

# ratios FAST BRIDGED: FAST throughput_ratio(_reverse) and rtt_ratio
# against the bridged pair's figures (prefixes)
ratios() {
    local f=$1 b=$2
    xr_metric "${f}throughput_ratio" "$(xr_ratio "$(xr_metric_get "${f}guest_to_guest_mbps")" \
        "$(xr_metric_get "${b}guest_to_guest_mbps")")"
    xr_metric "${f}throughput_ratio_reverse" "$(xr_ratio "$(xr_metric_get "${f}guest_to_guest_reverse_mbps")" \
        "$(xr_metric_get "${b}guest_to_guest_reverse_mbps")")"
    xr_metric "${f}rtt_ratio" "$(xr_ratio "$(xr_metric_get "${f}rtt_ms")" "$(xr_metric_get "${b}rtt_ms")")"
}

# --- the bridged path: stock guests on the kernel's netback ------------------
xr_guests_down
xr_netback_load || xr_fail "cannot load xen-netback"
boot_all bridged hb1:10.0.0.111:hvm hb2:10.0.0.112:hvm pb:10.0.0.113:pv
is_hvm hb1
pair bridged_ hb1 hb2
pair mixed_bridged_ hb1 pb
xr_guest_down pb

# --- switch: the same two HVM guests, xnv-netbackd swapped in under them -----
t0=$(xr_now_us)
for g in hb1 hb2; do xr_vif_detach $g || xr_fail "xl network-detach of $g from the kernel netback failed"; done
XR_KEEP_GUESTS=1 xc_daemon_start 'fastpath-bridges = xenbr0'
for g in hb1 hb2; do xr_vif_attach $g || xr_fail "the vif of $g did not come back on xnv-netbackd"; done
xr_metric backend_swap_s "$(xr_since_s "$t0")"
fp0=$(xr_fastpath_packets)
pair switch_ hb1 hb2
fp=$(( $(xr_fastpath_packets) - fp0 ))
xr_metric switch_fastpath_packets "$fp"
[ "$fp" -gt 1000 ] || xr_fail "the switch fast path carried only $fp frames between the stock HVM guests"
ratios switch_ bridged_
xr_guest_down hb1
xr_guest_down hb2

# --- channel: two HVM guests on xnv-netfront ---------------------------------
boot_all channel c1:10.0.0.131:hvm+agent c2:10.0.0.132:hvm+agent
is_hvm c1
xc_wait_channel c1 c2 60 || xr_fail "no channel between the HVM guests c1 and c2 within 60 s"
XC_PREFIX=channel_ xc_measure c1 c2 "$SECS"
ratios channel_ bridged_
tx_hvm="c1 $XC_TX_A, c2 $XC_TX_B"
xr_guest_down c2

# --- mixed: the HVM guest c1 with a PV guest, both on xnv-netfront -----------
boot_all mixed p1:10.0.0.133:pv+agent
xc_wait_channel c1 p1 60 || xr_fail "no channel between the HVM guest c1 and the PV guest p1 within 60 s"
XC_PREFIX=mixed_ xc_measure c1 p1 "$SECS"
ratios mixed_ mixed_bridged_
xr_guests_down
xr_daemons_stop   # the kernel's backend back for what runs after this
xr_netback_load || xr_fail "cannot load xen-netback again"
xr_metric guest_boot_retries "$(xr_guest_boot_retries)"
xr_pass "HVM guests: the switch carried $fp frames; channels HVM-HVM sent $tx_hvm frames, HVM-PV c1 $XC_TX_A, p1 $XC_TX_B"

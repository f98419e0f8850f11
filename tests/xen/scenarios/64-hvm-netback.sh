#!/bin/bash
# xnv-rig: timeout=900 tcg=multi
# xnv-rig-pending: the emulated host kills HVM guests under load (Xen "dN Triple fault": QEMU 7.2's TCG SVM saves Xen's own registers into the guest's VMCB at a #VMEXIT, see tools/rig/README.md): passed 4 runs of 5 since the backends are swapped under one guest; in one, a full make check, the guest triple-faulted under iperf3 on xnv-netbackd; stock HVM guests died so on the kernel netback too (fastpath-hvm)
# hvm-netback: a stock HVM guest (2 vCPUs, the kernel's xen-netfront through
# the Xen platform device; qemu-system-xen as its device model) on the
# kernel's xen-netback, then the same running guest on xnv-netbackd, the
# backends swapped under it (vif detached, xen-netback unloaded, the daemon
# started, vif attached again: backend_swap_s): ping and iperf3 both ways,
# TSO and scatter-gather on in the guest,
# two queues, xl save / xl restore with traffic after it, and nothing left
# behind by xl destroy (no TAP, no backend or device-model xenstore
# directory, no file descriptor of the guest in the daemon).
# Metrics: rtt_ms, dom0_to_guest_mbps, guest_to_dom0_mbps and their ratios
# to the kernel's netback (*_vs_kernel).  The two backends cannot serve at
# once (the loaded xen-netback claims every backend/vif), so the ratios
# compare two phases a minute apart: a function check, not a benchmark.
# The vif is type=vif (tools/rig/files/domu-hvm.cfg.in): no emulated NIC.
# Why tcg=multi (a boot of its own, see tools/rig/run-scenarios.sh): under
# QEMU's single-threaded TCG the HVM guest never got out of its firmware
# (its vCPU spun at SeaBIOS's default interrupt handler, f000:ff53, for
# minutes after the option ROM that loads the kernel); under thread=multi
# the same guest boots, but not every time: of 6 boots under thread=multi 4
# answered ping after 80-286 s; one stopped in the stage init's read of its
# PV disk, one reached the stage init only at 183 s of its uptime (25-45 s
# otherwise); both were not ready after 400 s.  No xnv code ran in either
# guest: the second was on the kernel's netback, the first (a trial run)
# stopped in the disk read, which QEMU serves.  So it stays out of make
# check-xen until HVM boots are reliable here.  Since then the rig's HVM
# configuration drops missed timer ticks and has no HPET
# (tools/rig/files/domu-hvm.cfg.in): a 1-vCPU HVM guest then boots under
# thread=single too (2 of 2, 113-131 s; with Xen's defaults it stayed after
# SeaBIOS's "Booting from ROM..." for 362 s), but this scenario's 2-vCPU
# guest still stopped earlier in SeaBIOS under thread=single (one try), so
# it keeps tcg=multi, where it then passed 2 runs of 2 with every HVM boot
# in 73-87 s.
# shellcheck source=../lib.sh
. "${XR_LIB:-/job/xen/lib.sh}"

SECS=${XR_IPERF_SECONDS:-10}
SOCK=/run/xnv/netbackd.sock
NAME=h1 IP=10.0.0.41
xr_path "xnv-netbackd + stock HVM guest"
NB=$(xr_bin xnv-netbackd) || xr_fail "xnv-netbackd was not built"
CTL=$(xr_bin xnvctl) || xr_fail "xnvctl was not built"

be_state() { xenstore-read "/local/domain/0/backend/vif/$1/$2/state" 2>/dev/null; }
# shellcheck disable=SC2317 # called through xr_wait_until
backend_gone() { [ -z "$(xenstore-list "/local/domain/0/backend/vif/$d" 2>/dev/null)" ]; }

# vif_check WHAT PREFIX: the guest's vif (TAP on xenbr0, Connected, 2
# queues, TSO and SG on, no emulated NIC), ping and iperf3 both ways into
# PREFIX-named metrics (PREFIX "" or "kernel_")
vif_check() {
    local what=$1 p=$2 q feat br v
    d=$(xr_guest_domid "$NAME")
    [ -e "/sys/class/net/vif$d.0" ] || xr_fail "$what: no vif$d.0"
    br=$(basename "$(readlink "/sys/class/net/vif$d.0/master" 2>/dev/null)")
    [ "$br" = xenbr0 ] || xr_fail "$what: vif$d.0 is not on xenbr0 (master: ${br:-none})"
    [ "$(be_state "$d" 0)" = 4 ] || xr_fail "$what: backend state $(be_state "$d" 0), not Connected"
    # type=vif: no emulated NIC (PCI class 02) in the guest at all
    v=$(xr_guest_run "$NAME" 'cat /sys/bus/pci/devices/*/class' | grep -c '^0x02')
    [ "$v" = 0 ] || xr_fail "$what: the guest has $v emulated network controller(s)"
    # shellcheck disable=SC2016 # expanded in the guest
    v=$(xr_guest_run "$NAME" 'basename $(readlink /sys/class/net/eth0/device/driver)')
    [ "$v" = vif ] || xr_fail "$what: eth0's driver is '$v', not xen-netfront's vif"
    q=$(xr_guest_queues "$NAME")
    xr_metric "${p}queues" "$q"
    [ "$q" = 2 ] || xr_fail "$what: the 2-vCPU HVM guest got $q queue(s), not 2"
    feat=$(xr_guest_run "$NAME" ethtool -k eth0) || xr_fail "$what: ethtool -k eth0 failed in the guest"
    echo "$feat" >&2
    echo "$feat" | grep -q "^tcp-segmentation-offload: on" || xr_fail "$what: TSO is not on in the guest"
    echo "$feat" | grep -q "^scatter-gather: on" || xr_fail "$what: scatter-gather is not on in the guest"
    v=$(xr_rtt dom0 "$NAME" 20) || xr_fail "$what: ping dom0 -> $NAME failed"
    xr_metric "${p}rtt_ms" "$v"
    v=$(xr_iperf dom0 "$NAME" "$SECS") || xr_fail "$what: iperf3 dom0 -> $NAME failed"
    xr_metric "${p}dom0_to_guest_mbps" "$v"
    v=$(xr_iperf "$NAME" dom0 "$SECS") || xr_fail "$what: iperf3 $NAME -> dom0 failed"
    xr_metric "${p}guest_to_dom0_mbps" "$v"
}

# --- phase 1: the kernel's xen-netback --------------------------------------
xr_guests_down   # leave the memory to the HVM guest and its device model
xr_netback_load || xr_fail "cannot load xen-netback"
xr_guest_up "$NAME" "$IP" --type hvm --vcpus 2 ||
    xr_fail "stock HVM guest did not come up (see xen/console/hvm-$NAME-serial.log)"
xr_metric hvm_up_s "$XR_GUEST_UP_S"
vif_check "the kernel netback" kernel_

# --- phase 2: xnv-netbackd, swapped in under the running guest ---------------
# The vif off, the kernel's backend out, xnv-netbackd in, the vif on again:
# the same guest, no reboot (what an operator does to switch a running host).
t0=$(xr_now_us)
xr_vif_detach "$NAME" || xr_fail "xl network-detach from the kernel netback failed"
XR_KEEP_GUESTS=1 xr_netback_unload || xr_fail "cannot unload xen-netback"
rm -f "$SOCK"
"$NB" -v >>"$XR_OUT/scenarios/$XR_SCENARIO.netbackd.log" 2>&1 &
NBPID=$!
echo "$NBPID" >>"$XR_RUN/daemons.$XR_SCENARIO"
xr_wait_until 10 test -S "$SOCK" || xr_fail "xnv-netbackd did not start (see scenarios/$XR_SCENARIO.netbackd.log)"
fds() { find "/proc/$NBPID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
guest_fds() { find "/proc/$NBPID/fd" -mindepth 1 -maxdepth 1 -lname '/dev/net/tun' -o -lname '/dev/xen/evtchn' | wc -l; }
fds0=$(fds)
xr_vif_attach "$NAME" || xr_fail "the HVM guest's vif did not come back on xnv-netbackd"
xr_metric backend_swap_s "$(xr_since_s "$t0")"

vif_check xnv-netbackd ""
for m in dom0_to_guest_mbps:dom0_to_guest_vs_kernel guest_to_dom0_mbps:guest_to_dom0_vs_kernel \
         rtt_ms:rtt_vs_kernel; do
    xr_metric "${m#*:}" "$(xr_ratio "$(xr_metric_get "${m%%:*}")" "$(xr_metric_get "kernel_${m%%:*}")")"
done
"$CTL" list >&2
"$CTL" --json | grep -q "\"domid\":$d," || xr_fail "xnvctl does not show the HVM guest dom$d"

# xl save / xl restore (memory and the device model's state): traffic after
t0=$(xr_now_us)
xl save "$NAME" /var/tmp/$NAME.save >&2 || xr_fail "xl save of the HVM guest failed"
xl restore /var/tmp/$NAME.save >&2 || xr_fail "xl restore of the HVM guest failed"
rm -f /var/tmp/$NAME.save
xr_wait_ping "$IP" 120 || xr_fail "no ping after xl save/restore"
xr_metric save_restore_s "$(xr_since_s "$t0")"
d=$(xr_guest_domid "$NAME")
[ "$(be_state "$d" 0)" = 4 ] || xr_fail "backend state $(be_state "$d" 0) after restore, not Connected"
v=$(xr_iperf dom0 "$NAME" 5) || xr_fail "iperf3 dom0 -> $NAME after xl restore failed"
xr_metric after_restore_mbps "$v"
v=$(xr_iperf "$NAME" dom0 5) || xr_fail "iperf3 $NAME -> dom0 after xl restore failed"
xr_metric after_restore_reverse_mbps "$v"

# xl destroy leaves nothing: no TAP, no backend or device-model directory,
# no device model process, no fd of the guest in the daemon
xr_guest_down "$NAME" || xr_fail "xl destroy of the HVM guest failed"
xr_wait_until 30 backend_gone || xr_fail "backend/vif/$d still in xenstore after xl destroy"
for t in /sys/class/net/vif"$d".*; do
    [ -e "$t" ] && xr_fail "TAP ${t##*/} survived xl destroy"
done
xenstore-exists "/local/domain/0/device-model/$d" 2>/dev/null &&
    xr_fail "device-model/$d still in xenstore after xl destroy"
pgrep -f "xen-domid $d( |\$)" >/dev/null && xr_fail "the device model of dom$d survived xl destroy"
sleep 1
[ "$(guest_fds)" = 0 ] || xr_fail "xnv-netbackd still holds $(guest_fds) TAP/event-channel fds after xl destroy"
[ "$(fds)" -le $((fds0 + 2)) ] || xr_fail "xnv-netbackd holds $(fds) fds after xl destroy, a fresh one $fds0"

# the kernel backend back for the scenarios after this one
kill "$NBPID"; wait "$NBPID" 2>/dev/null
xr_netback_load || xr_fail "cannot load xen-netback again"
xr_metric guest_boot_retries "$(xr_guest_boot_retries)"
xr_pass "stock HVM guest (2 vCPUs) on xnv-netbackd as on the kernel netback: ping, iperf3 both ways, TSO+SG, 2 queues, save/restore, clean destroy"

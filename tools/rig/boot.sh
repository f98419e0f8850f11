#!/bin/bash
# Boots the rig: Xen 4.17 + PV dom0 under QEMU TCG (KVM cannot run Xen
# here), without any NIC (the only network is xenbr0 inside dom0).
#
#   boot.sh --job JOB.img --log DIR [--timeout S] [--boot-timeout S]
#       batch: dom0 runs the job and powers off.  The serial console goes to
#       DIR/console.log with timestamps (seconds since QEMU started); XNV-
#       lines from dom0 are shown as they come.  QEMU is killed when dom0 is
#       not ready after --boot-timeout (default 180) s, when the whole run
#       exceeds --timeout (default 900) s, or when this script is interrupted
#       or exits.  DIR/boot-status tells how it ended (status, reason, rc,
#       seconds).  Exit status: 0 when the job finished, 1 otherwise.
#   boot.sh --interactive [--job JOB.img]
#       serial console on this terminal (Ctrl-a x quits QEMU).
#
# Environment: XNV_RIG_MEM (MiB, default 3072), XNV_RIG_SMP (emulated CPUs,
# default 2), XNV_RIG_TCG_THREAD (single or multi, default single),
# XNV_RIG_CPU, XEN_EXTRA and DOM0_EXTRA (appended to the Xen and dom0
# command lines), XNV_RIG_QEMU_EXTRA (more QEMU arguments, split at spaces:
# for experiments, e.g. "-machine q35 -device amd-iommu").
set -euo pipefail
. "$(dirname "$0")/common.sh"

JOB='' LOG='' TIMEOUT=900 BOOT_TIMEOUT=180 INTERACTIVE=0
while [ $# -gt 0 ]; do
    case $1 in
    --job) JOB=$2; shift ;;
    --log) LOG=$2; shift ;;
    --timeout) TIMEOUT=$2; shift ;;
    --boot-timeout) BOOT_TIMEOUT=$2; shift ;;
    --interactive) INTERACTIVE=1 ;;
    *) die "boot.sh: unknown argument $1" ;;
    esac
    shift
done

B=$CACHE/boot
IMG=$CACHE/image/dom0.img
for f in "$B/xen" "$B/vmlinuz" "$B/dom0-stage1.cpio.gz" "$IMG"; do
    [ -s "$f" ] || die "missing $f: build the rig first (tools/rig/run-scenarios.sh)"
done
# QEMU's multiboot module list is split at ',' and a module's command line at
# ' ': neither may appear in these paths.
case "$B" in *[,\ ]*) die "the build path $B must not contain ',' or ' '" ;; esac

SMP=${XNV_RIG_SMP:-2}
XEN_CMDLINE="console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M dom0_max_vcpus=$SMP loglvl=all guest_loglvl=all ${XEN_EXTRA:-}"
DOM0_CMDLINE="console=hvc0 earlyprintk=xen ${DOM0_EXTRA:-}"
# +svm,+npt: Debian's Xen has no shadow paging; NPT (HAP) is what HVM/PVH
# guests need.  -cpu max crashes a PV dom0 under TCG.
# thread=single: both emulated CPUs on one host thread.  Measured on this
# 2-core kind of machine: about 5 times faster than thread=multi when another
# process keeps one host core busy (with multi, a vCPU spinning on a lock or
# an IPI waits for a preempted host thread: dom0 took 74 s instead of 12 s
# to boot, iperf3 fell to 2 Mbit/s).  On an idle host, multi boots as fast
# and moved twice as much between dom0 and a guest, for either backend
# (docs/netback-profile.md, twenty-ninth session).
# shellcheck disable=SC2054 # the commas belong to QEMU's option syntax
QEMU=(qemu-system-x86_64 -accel "tcg,thread=${XNV_RIG_TCG_THREAD:-single}" -cpu "${XNV_RIG_CPU:-qemu64,+svm,+npt}"
      -smp "$SMP" -m "${XNV_RIG_MEM:-3072}" -no-reboot -nic none
      -kernel "$B/xen" -append "$XEN_CMDLINE"
      -initrd "$B/vmlinuz $DOM0_CMDLINE,$B/dom0-stage1.cpio.gz"
      -drive "file=$IMG,if=virtio,format=raw,snapshot=on")
if [ -n "$JOB" ]; then QEMU+=(-drive "file=$JOB,if=virtio,format=raw"); fi
read -ra QEMU_EXTRA <<<"${XNV_RIG_QEMU_EXTRA:-}"
QEMU+=("${QEMU_EXTRA[@]}")

if [ "$INTERACTIVE" = 1 ]; then
    exec "${QEMU[@]}" -nographic
fi
if [ -z "$JOB" ] || [ -z "$LOG" ]; then die "boot.sh: batch mode needs --job and --log"; fi
mkdir -p "$LOG"
CONSOLE=$LOG/console.log
STATUS=$LOG/boot-status
FIFO=$LOG/.console.fifo
rm -f "$FIFO"; mkfifo "$FIFO"
QPID='' SPID=''

stop_qemu() {
    [ -n "$QPID" ] || return 0
    if kill -0 "$QPID" 2>/dev/null; then
        kill -TERM "$QPID" 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$QPID" 2>/dev/null || break; sleep 0.5; done
        kill -KILL "$QPID" 2>/dev/null || true
    fi
}
write_status() {   # STATUS REASON RC
    printf 'status=%s\nreason=%s\nrc=%s\nseconds=%s\n' "$1" "$2" "$3" "$(( ($(date +%s%N) - start_ns) / 1000000000 ))" >"$STATUS"
}
on_exit() {
    stop_qemu
    if [ -n "$SPID" ]; then kill "$SPID" 2>/dev/null || true; fi
    rm -f "$FIFO"
}
on_signal() {
    phase "interrupted: stopping QEMU"
    stop_qemu
    write_status interrupted "interrupted by signal on the host" 130
    exit 130
}
trap on_exit EXIT
trap on_signal INT TERM HUP

# Timestamps every console line into the log and shows dom0's XNV- lines with
# the run's clock.  Runs until QEMU closes the pipe.
RIG_T0=$RIG_T0 perl -MTime::HiRes=time -e '
    $| = 1;
    my $t0 = time; my $r0 = $ENV{RIG_T0} / 1e6;
    open(my $log, ">", $ARGV[0]) or die "$ARGV[0]: $!";
    select((select($log), $| = 1)[0]);
    while (my $l = <STDIN>) {
        $l =~ s/\r//g;
        printf $log "[%8.2f] %s", time - $t0, $l;
        next unless $l =~ /^XNV-(PROGRESS|LOG|OUT|BOOT|DOM0-READY|JOB-EXIT|JOB-DONE|POWEROFF|FATAL)(?:\s+|$)(.*)$/;
        my ($tag, $msg) = ($1, $2);
        $msg = "| $msg" if $tag eq "OUT";
        $msg = "dom0: $msg" if $tag eq "PROGRESS" || $tag eq "BOOT";
        $msg = "dom0 ready ($msg)" if $tag eq "DOM0-READY";
        $msg = "dom0: job runner exited ($msg)" if $tag eq "JOB-EXIT";
        $msg = "dom0: job finished" if $tag eq "JOB-DONE";
        $msg = "dom0: powering off ($msg)" if $tag eq "POWEROFF";
        $msg = "FATAL: $msg" if $tag eq "FATAL";
        printf STDERR "xnv-rig: [%6.1fs]   %s\n", time - $r0, $msg;
    }' "$CONSOLE" <"$FIFO" &
SPID=$!

start_ns=$(date +%s%N)
phase "qemu: booting Xen + dom0 (TCG thread=${XNV_RIG_TCG_THREAD:-single}, $SMP CPUs, -nic none; timeouts: dom0 ready ${BOOT_TIMEOUT}s, run ${TIMEOUT}s; console: $CONSOLE)"
# --pdeathsig: QEMU dies with this script even if it is killed outright.
PDEATH=()
if setpriv --help 2>/dev/null | grep -q pdeathsig; then PDEATH=(setpriv --pdeathsig KILL --); fi
"${PDEATH[@]}" "${QEMU[@]}" -display none -monitor none -serial stdio </dev/null >"$FIFO" 2>&1 &
QPID=$!

status=running reason='' ready=0 done_at=''
while kill -0 "$QPID" 2>/dev/null; do
    sleep 1
    el=$(( ($(date +%s%N) - start_ns) / 1000000000 ))
    if [ $ready = 0 ] && grep -q -m1 '^\[ *[0-9.]*\] XNV-DOM0-READY' "$CONSOLE" 2>/dev/null; then ready=1; fi
    if [ -z "$done_at" ] && grep -q -m1 'XNV-JOB-DONE' "$CONSOLE" 2>/dev/null; then done_at=$el; fi
    if [ $ready = 0 ] && [ "$el" -ge "$BOOT_TIMEOUT" ]; then
        status=boot-timeout reason="dom0 was not ready ${BOOT_TIMEOUT}s after QEMU started: QEMU killed"
    elif [ -z "$done_at" ] && [ "$el" -ge "$TIMEOUT" ]; then
        status=timeout reason="the run exceeded its ${TIMEOUT}s timeout: QEMU killed"
    elif [ -n "$done_at" ] && [ $((el - done_at)) -ge 60 ]; then
        status=poweroff-hang reason="dom0 finished but did not power off within 60s: QEMU killed"
    else
        continue
    fi
    phase "qemu: $reason"
    stop_qemu
    break
done
rc=0
wait "$QPID" || rc=$?
QPID=
wait "$SPID" 2>/dev/null || true
SPID=

if grep -q 'XNV-JOB-DONE' "$CONSOLE"; then
    [ "$status" = poweroff-hang ] || { status=ok; reason="job finished"; }
elif [ "$status" = running ]; then
    status=crashed
    panic=$(grep -m1 -E 'Panic on CPU|Kernel panic|XNV-FATAL' "$CONSOLE" | sed 's/^\[ *[0-9.]*\] //' || true)
    reason="QEMU exited (rc=$rc) before the dom0 job finished${panic:+: $panic}"
fi
write_status "$status" "$reason" "$rc"
phase "qemu: exited after $(( ($(date +%s%N) - start_ns) / 1000000000 ))s ($status)"
[ "$status" = ok ] || [ "$status" = poweroff-hang ]

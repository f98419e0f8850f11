# Helpers for real-Xen rig scenarios.  Sourced inside dom0 by every scenario
# (tests/xen/scenarios/NN-name.sh) and by the dom0 job runner.
# shellcheck shell=bash
#
# Results
#   xr_metric KEY VALUE     record a measurement (number, or a string)
#   xr_path LABEL           row label of this scenario in the demo table
#   xr_pass REASON          record pass (with the metrics so far) and exit 0
#   xr_fail REASON          record fail (with the metrics so far) and exit 1
#   xr_result true|false REASON   record without exiting
#   xr_log MESSAGE          progress line, shown live on the host
#
# Guests (PV, stock netfront, on xenbr0; dom0 is 10.0.0.1)
#   xr_guest_up NAME IP [--vcpus N] [--mem MB] [--extra "kernel args"]
#               [--vif ",opt=val,..."] [--timeout S] [--type pv|pvh|hvm] [--no-ping]
#       create the guest, or reuse it when a guest of that name already
#       runs with the same settings; waits until its init is ready and it
#       answers ping (--no-ping: its init only, for a guest without
#       network).  Sets XR_GUEST_UP_S (0 when reused).  --type hvm: an HVM
#       guest (qemu-system-xen in dom0, the bzImage by direct kernel boot
#       with a stage initramfs that unpacks copies of XR_GUEST_BASE and
#       XR_GUEST_OVERLAY from two PV disks, a PV vif only, console on the
#       emulated serial port in
#       /var/log/xen/console/hvm-NAME-serial.log); about 2 minutes under TCG,
#       so its default timeout is 400 s instead of 120.  An HVM or PVH guest
#       that dies before its init is ready is booted once more (logged,
#       counted by xr_guest_boot_retries).
#   xr_guest_down NAME / xr_guests_down      destroy one / every guest
#   xr_guest_run NAME [-t SECONDS] CMD...    run a shell command inside the
#       guest (through xenstore data/rig), print its output (the last
#       16 KiB), return its exit status (124 if dom0 gave up waiting)
#   xr_guest_domid NAME, xr_ip NAME          domid / address (NAME may be dom0)
#   xr_wait_ping IP [SECONDS]
#   xr_wait_until SECONDS CMD...   re-run CMD (5 times a second) until it
#                                  succeeds; fails after SECONDS
#
# Measurements (SRC and DST are dom0 or a guest name)
#   xr_iperf SRC DST [SECONDS] [iperf3 args...]   print receiver Mbit/s (TCP)
#   xr_rtt SRC DST [COUNT]                        print mean ping RTT in ms
#   xr_iperf_cpu SRC DST SECONDS     print "Mbit/s dom0-CPU-s-per-GB" (xl list)
#   xr_dom_cpu DOMID                 CPU seconds so far (xl list)
#   xr_iperf_receiver                iperf3's output on stdin -> receiver Mbit/s
#   xr_median LIST, xr_ratio A B     median of "1,2,3"; A / B with 2 decimals
#   xr_metric_get KEY                a metric this scenario recorded
#   xr_goal KEY >=|<= BOUND          print met or missed for the metric KEY
#                                    (a goal reported, not asserted)
#
# dom0's CPU cap (the scheduler's cap, % of one physical CPU)
#   xr_scheduler        the scheduler Xen runs (xl info: credit2, credit, ...)
#   xr_dom0_cap PCT     cap dom0 (credit or credit2); false if it cannot
#   xr_dom0_uncap       remove it (the runner also does, after every scenario)
#
# Kernel netback
#   xr_netback_unload   destroy all guests, rmmod xen-netback
#                       (XR_KEEP_GUESTS=1: the guests stay; see xr_vif_detach)
#   xr_netback_load     modprobe xen-netback
#   xr_vif_detach NAME / xr_vif_attach NAME   the guest's vif 0 off and on
#                       again, to swap backends under a running guest
#   xr_hostcount start|stop TAG   marks a window that the host counts
#                       (tools/bench/rig-hostcount.sh, when it runs)
#
# Our programs
#   xr_fastpath_packets frames the daemon's switch fast path carried so far
#   xr_bin NAME         path of build/bin/NAME on the job disk (fails if the
#                       program was not built); inside guests the same
#                       programs are in /usr/local/bin.
#   xr_daemon NAME CMD...  start CMD in the background, logged to
#                       out/scenarios/<scenario>.NAME.log; the runner stops
#                       it when the scenario ends (pids listed in
#                       $XR_RUN/daemons.<scenario> are stopped the same way)
#
# Conventions: scenarios run in one boot, in file name order.  dom0 boots with
# xen-netback loaded; a scenario that unloads it need not reload it, but every
# scenario that needs the kernel backend calls xr_netback_load first.  Guests
# g1 (10.0.0.11) and g2 (10.0.0.12) with default settings are left running by
# baseline for the scenarios after it.

XR_JOB=${XR_JOB:-/job}
XR_OUT=$XR_JOB/out
XR_BIN=${XR_BIN:-$XR_JOB/bin}
XR_RUN=/run/xnv-rig
XR_RESULTS=$XR_OUT/results.jsonl
XR_SCENARIO=${XR_SCENARIO:-manual}
XR_GUEST_KERNEL=${XR_GUEST_KERNEL:-/var/lib/xnv-rig/vmlinux}
XR_GUEST_INITRD=${XR_GUEST_INITRD:-$XR_RUN/domu-initrd.cpio}
XR_GUEST_CFG=${XR_GUEST_CFG:-$XR_JOB/rig/domu.cfg.in}
XR_GUEST_HVM_CFG=${XR_GUEST_HVM_CFG:-$XR_JOB/rig/domu-hvm.cfg.in}
XR_GUEST_BZIMAGE=${XR_GUEST_BZIMAGE:-/var/lib/xnv-rig/vmlinuz}
XR_GUEST_HVM_STAGE=${XR_GUEST_HVM_STAGE:-/var/lib/xnv-rig/domu-hvm-stage.cpio}
XR_GUEST_BASE=${XR_GUEST_BASE:-/var/lib/xnv-rig/domu-base.cpio}
XR_GUEST_OVERLAY=${XR_GUEST_OVERLAY:-$XR_JOB/rig/domu-overlay.cpio}
XR_DOM0_IP=10.0.0.1
: "${XR_T0:=${EPOCHREALTIME/./}}"
mkdir -p "$XR_RUN/guests" "$XR_RUN/metrics" "$XR_OUT/scenarios" 2>/dev/null

# --- small utilities -------------------------------------------------------

xr_now_us() { echo "${EPOCHREALTIME/./}"; }
# xr_since_s START_US [END_US]: seconds from START_US until END_US (default:
# now) with one decimal
xr_since_s() {
    local us=$(( ${2:-$(xr_now_us)} - $1 ))
    printf '%d.%d' $((us / 1000000)) $((us % 1000000 / 100000))
}

xr_log() { echo "XNV-LOG [$XR_SCENARIO] $*"; }
# a line on the console, read on the host by tools/bench/rig-hostcount.sh
xr_hostcount() { xr_log "XNV-HOSTCOUNT $1 $2"; }

xr__json_str() {
    local s=$1
    s=${s//\\/\\\\}; s=${s//\"/\\\"}
    s=${s//$'\n'/\\n}; s=${s//$'\t'/\\t}; s=${s//$'\r'/}
    printf '"%s"' "$(printf '%s' "$s" | tr -d '\000-\037')"
}
xr__json_val() {
    if [[ $1 =~ ^-?[0-9]+(\.[0-9]+)?$ ]] || [ "$1" = true ] || [ "$1" = false ]; then
        printf '%s' "$1"
    else
        xr__json_str "$1"
    fi
}

# --- results ---------------------------------------------------------------

xr_metric() {
    local f=$XR_RUN/metrics/$XR_SCENARIO
    touch "$f"
    grep -v "^$1 " "$f" >"$f.tmp"; mv "$f.tmp" "$f"
    printf '%s %s\n' "$1" "$2" >>"$f"
    xr_log "metric $1 = $2"
}

xr_path() { printf '%s' "$*" >"$XR_RUN/metrics/$XR_SCENARIO.path"; }

# xr_record NAME true|false REASON: one JSON line into results.jsonl (and on
# the console, in case the job disk does not make it back to the host).
xr_record() {
    local name=$1 pass=$2 reason=$3 m=$XR_RUN/metrics/$1 json k v first=1
    json="{\"name\":$(xr__json_str "$name"),\"pass\":$pass,\"reason\":$(xr__json_str "$reason")"
    if [ -s "$m.path" ]; then json+=",\"path\":$(xr__json_str "$(cat "$m.path")")"; fi
    json+=",\"metrics\":{"
    if [ -f "$m" ]; then
        while read -r k v; do
            [ -n "$k" ] || continue
            [ $first = 1 ] || json+=","
            json+="$(xr__json_str "$k"):$(xr__json_val "$v")"
            first=0
        done <"$m"
    fi
    json+="}}"
    echo "$json" >>"$XR_RESULTS"
    sync "$XR_RESULTS" 2>/dev/null
    echo "XNV-RESULT $json"
}

xr_result() {
    xr_metric duration_s "$(xr_since_s "$XR_T0")" >/dev/null
    xr_record "$XR_SCENARIO" "$1" "$2"
}
xr_pass() { xr_result true "$*"; exit 0; }
xr_fail() { xr_result false "$*"; exit 1; }

# --- addresses -------------------------------------------------------------

xr_ip() {
    if [ "$1" = dom0 ]; then echo $XR_DOM0_IP; return 0; fi
    cat "$XR_RUN/guests/$1.ip" 2>/dev/null || { echo "xr_ip: unknown guest $1" >&2; return 1; }
}

# xr_guest_domid NAME: the guest's domain id.  `xl` is the costliest command
# to start in this dom0 (libxl looks at every domain), and every command run
# in a guest needs the id: the id found once is kept and checked against the
# domain's name in xenstore (a guest restored or booted again has a new id,
# and xl is asked again).
xr_guest_domid() {
    local f=$XR_RUN/guests/$1.domid d
    if read -r d 2>/dev/null <"$f" && [ -n "$d" ] &&
       [ "$(xenstore-read "/local/domain/$d/name" 2>/dev/null)" = "$1" ]; then
        echo "$d"
        return 0
    fi
    d=$(xl domid "$1" 2>/dev/null) || { rm -f "$f"; return 1; }
    echo "$d" >"$f" 2>/dev/null
    echo "$d"
}

# xr_guest_queues NAME: the queues the guest's vif 0 negotiated (1 when its
# frontend wrote no multi-queue-num-queues)
xr_guest_queues() {
    local d
    d=$(xr_guest_domid "$1") || return 1
    xenstore-read "/local/domain/$d/device/vif/0/multi-queue-num-queues" 2>/dev/null || echo 1
}

xr_wait_ping() {
    local ip=$1 t=${2:-60} t0
    t0=$(xr_now_us)
    until ping -c 1 -W 1 "$ip" >/dev/null 2>&1; do
        [ $(( ($(xr_now_us) - t0) / 1000000 )) -ge "$t" ] && return 1
        sleep 0.2
    done
}

xr_wait_until() {
    local t=$1 _
    shift
    for _ in $(seq $((t * 5))); do "$@" && return 0; sleep 0.2; done
    return 1
}

# --- guests ----------------------------------------------------------------

xr__guest_ready() {
    local d
    d=$(xr_guest_domid "$1") || return 1
    [ "$(xenstore-read "/local/domain/$d/data/rig/ready" 2>/dev/null)" = 1 ]
}

# xr__guest_wait_ready NAME DOMID T0 TIMEOUT: until the guest's init says
# ready; status 1 after TIMEOUT s from T0, 2 when the domain died
xr__guest_wait_ready() {
    # xenstore only: every xl call is slow in an emulated dom0
    until [ "$(xenstore-read "/local/domain/$2/data/rig/ready" 2>/dev/null)" = 1 ]; do
        if [ $(( ($(xr_now_us) - $3) / 1000000 )) -ge "$4" ]; then
            xr_log "guest $1 (dom$2): init not ready after $4 s"
            return 1
        fi
        xenstore-exists "/local/domain/$2" 2>/dev/null || { xr_log "guest $1: domain died"; return 2; }
        sleep 0.3
    done
}

# xr_guest_boot_retries: how many guest boots of this scenario were tried again
xr_guest_boot_retries() { wc -l <"$XR_RUN/guest-boot-retries.$XR_SCENARIO" 2>/dev/null || echo 0; }

# xr__mac IP: the MAC address a rig guest's vif gets for its address
xr__mac() { printf '00:16:3e:00:00:%02x' "${1##*.}"; }

xr_guest_up() {
    local name=$1 ip=$2 vcpus=1 mem=256 extra="" vif="" tmo="" type=pv ping=1
    shift 2 || { echo "usage: xr_guest_up NAME IP [options]" >&2; return 2; }
    while [ $# -gt 0 ]; do
        case $1 in
        --no-ping) ping=0; shift; continue ;;
        --vcpus) vcpus=$2 ;;
        --mem) mem=$2 ;;
        --extra) extra=$2 ;;
        --vif) vif=$2 ;;
        --timeout) tmo=$2 ;;
        --type) type=$2 ;;
        *) echo "xr_guest_up: unknown option $1" >&2; return 2 ;;
        esac
        shift 2
    done
    local tmpl=$XR_GUEST_CFG kernel=$XR_GUEST_KERNEL initrd=$XR_GUEST_INITRD
    if [ "$type" = hvm ]; then
        tmpl=$XR_GUEST_HVM_CFG kernel=$XR_GUEST_BZIMAGE initrd=$XR_GUEST_HVM_STAGE
        : "${tmo:=400}"
    fi
    : "${tmo:=120}"
    local sig="ip=$ip vcpus=$vcpus mem=$mem extra=$extra vif=$vif type=$type ping=$ping"
    local g=$XR_RUN/guests/$name t0 d
    XR_GUEST_UP_S=
    if xr_guest_domid "$name" >/dev/null; then
        if [ "$(cat "$g.sig" 2>/dev/null)" = "$sig" ] && xr__guest_ready "$name" &&
           { [ $ping = 0 ] || ping -c 1 -W 2 "$ip" >/dev/null 2>&1; }; then
            XR_GUEST_UP_S=0
            xr_log "guest $name ($ip): reusing the running guest"
            return 0
        fi
        xr_guest_down "$name"
    fi
    local cfg mac
    mac=$(xr__mac "$ip")
    cfg=$(<"$tmpl")
    shopt -u patsub_replacement 2>/dev/null || true   # keep '&' literal below
    cfg=${cfg//@NAME@/$name}; cfg=${cfg//@IP@/$ip}; cfg=${cfg//@MAC@/$mac}
    cfg=${cfg//@VCPUS@/$vcpus}; cfg=${cfg//@MEM@/$mem}; cfg=${cfg//@EXTRA@/$extra}
    cfg=${cfg//@VIF@/$vif}; cfg=${cfg//@KERNEL@/$kernel}; cfg=${cfg//@TYPE@/$type}
    cfg=${cfg//@RAMDISK@/$initrd}
    cfg=${cfg//@BASE@/$g.base.cpio}; cfg=${cfg//@OVERLAY@/$g.overlay.cpio}   # HVM only
    printf '%s\n' "$cfg" >"$g.cfg"
    echo "$ip" >"$g.ip"
    # An HVM guest that dies before its init is ready is booted once more:
    # the emulated host's nested SVM now and then triple-faults one (Xen:
    # "dN Triple fault"), in its firmware or kernel.  Each retry is logged
    # and counted per scenario (xr_guest_boot_retries).
    local tries=1 try
    [ "$type" = pv ] || tries=2
    for ((try = 1; ; try++)); do
        # an HVM guest's own fresh copies of its disks: QEMU locks their
        # files, and a guest that died may have written to them
        if [ "$type" = hvm ] &&
           ! { cp "$XR_GUEST_BASE" "$g.base.cpio" && cp "$XR_GUEST_OVERLAY" "$g.overlay.cpio"; }; then
            xr_log "guest $name: cannot copy its disks"; return 1
        fi
        xr_log "guest $name ($ip, $type, $vcpus vCPU, $mem MB): xl create"
        t0=$(xr_now_us)
        if ! timeout $((tmo > 120 ? tmo : 120)) xl create "$g.cfg"; then
            xr_log "guest $name: xl create failed"
            return 1
        fi
        d=$(xr_guest_domid "$name") || return 1
        xr__guest_wait_ready "$name" "$d" "$t0" "$tmo" && break
        [ $? = 2 ] && [ "$try" -lt "$tries" ] || return 1
        echo "$name" >>"$XR_RUN/guest-boot-retries.$XR_SCENARIO"
        xr_log "guest $name: booting it once more (try $((try + 1)) of $tries)"
        xr_guest_down "$name"
    done
    if [ $ping = 1 ] && ! xr_wait_ping "$ip" $((tmo - ($(xr_now_us) - t0) / 1000000)); then
        xr_log "guest $name (dom$d): no ping reply from $ip"
        return 1
    fi
    echo "$sig" >"$g.sig"
    XR_GUEST_UP_S=$(xr_since_s "$t0")
    xr_log "guest $name (dom$d, $ip): up$([ $ping = 1 ] && echo " and answering ping") after ${XR_GUEST_UP_S}s"
}

xr_guest_down() {
    rm -f "$XR_RUN/guests/$1.sig"
    xr_guest_domid "$1" >/dev/null || return 0
    timeout 60 xl destroy "$1" || { xr_log "xl destroy $1 failed"; return 1; }
    rm -f "$XR_RUN/guests/$1.base.cpio" "$XR_RUN/guests/$1.overlay.cpio"   # an HVM guest's disks
}

xr_guests_down() {
    local n
    for n in $(xl list 2>/dev/null | awk 'NR > 1 && $1 != "Domain-0" { print $1 }'); do
        xr_guest_down "$n"
    done
}

# xr__wait_value PATH VALUE SECONDS: until the xenstore node PATH holds
# VALUE (true), or SECONDS passed or the watch failed (false).  One watch
# for the whole wait, read through a coprocess's pipe: each process started
# in a PV dom0 under TCG costs it some 0.1-0.2 s of CPU, taken from the
# guests being measured, and a watch started anew every 3 s cost a 10 s
# guest command a dozen of them.  The watch fires once when it is set up,
# then at each change: a read after each event sees every write.
xr__wait_value() {
    local path=$1 value=$2 secs=$3 fd pid _ rc=1
    coproc XR_WATCH { exec timeout "$secs" xenstore-watch "$path" 2>/dev/null; }
    fd=${XR_WATCH[0]:-} pid=$XR_WATCH_PID
    while [ -n "$fd" ] && read -r -u "$fd" _; do
        if [ "$(xenstore-read "$path" 2>/dev/null)" = "$value" ]; then rc=0; break; fi
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return $rc
}

# Every process started in the PV dom0 under TCG costs it 0.1-0.2 s of CPU,
# taken from the guests being measured: no subshell for the clock, rc and
# the output's piece count in one read, no seq or tr for the pieces.
xr_guest_run() {
    local name=$1 tmo=60 d base seq t0 left rc='' n='' i pieces=()
    shift
    if [ "${1:-}" = -t ]; then tmo=$2; shift 2; fi
    d=$(xr_guest_domid "$name") || { echo "xr_guest_run: no guest $name" >&2; return 125; }
    base=/local/domain/$d/data/rig
    seq=$(( $(xenstore-read "$base/seq" 2>/dev/null || echo 0) + 1 ))
    # One xenstore-write is one transaction: the guest never sees seq
    # without the matching cmd.
    xenstore-write "$base/cmd" "$(printf '%s' "$*" | base64 -w0)" "$base/timeout" "$tmo" "$base/seq" "$seq"
    t0=${EPOCHREALTIME/./}
    while :; do
        left=$(( tmo + 15 - (${EPOCHREALTIME/./} - t0) / 1000000 ))
        if [ "$left" -le 0 ]; then
            [ "$(xenstore-read "$base/done" 2>/dev/null)" = "$seq" ] && break
            echo "xr_guest_run: $name did not finish '$*' within $tmo s" >&2
            return 124
        fi
        xr__wait_value "$base/done" "$seq" "$left" && break
        sleep 0.1   # no watch (or it ended early): look again
    done
    # the guest wrote rc and out-n with done, in one transaction
    { read -r rc; read -r n; } <<<"$(xenstore-read "$base/rc" "$base/out-n" 2>/dev/null)"
    if [ "${n:-0}" -gt 0 ]; then
        for ((i = 0; i < n; i++)); do pieces+=("$base/out/$i"); done
        # one piece a line, each whole 4-character groups (the guest wraps
        # at 1500): base64 -d takes the line breaks as they are
        xenstore-read "${pieces[@]}" 2>/dev/null | base64 -d
    fi
    return "${rc:-125}"
}

# --- measurements ----------------------------------------------------------

# xr_iperf SRC DST [SECONDS] [iperf3 args]: TCP, one stream; prints the
# receiver's Mbit/s; the whole iperf3 output goes to stderr (the log).
xr_iperf() {
    local src=$1 dst=$2 secs=${3:-10} out v try
    shift 2; [ $# -gt 0 ] && shift
    for try in 1 2 3; do
        if [ "$src" = dom0 ]; then
            out=$(timeout $((secs + 30)) iperf3 -c "$(xr_ip "$dst")" -t "$secs" -f m "$@" 2>&1)
        elif [ "$dst" = dom0 ]; then
            # the guest sends: reverse mode, client in dom0
            out=$(timeout $((secs + 30)) iperf3 -c "$(xr_ip "$src")" -t "$secs" -f m -R "$@" 2>&1)
        else
            out=$(xr_guest_run "$src" -t $((secs + 30)) iperf3 -c "$(xr_ip "$dst")" -t "$secs" -f m "$@" 2>&1)
        fi
        echo "--- iperf3 $src -> $dst (try $try)" >&2
        echo "$out" >&2
        v=$(echo "$out" | xr_iperf_receiver)
        # TCP retransmits of the sender's summary line (read by xr_iperf_retr)
        echo "$out" | awk '/ sender$/ && $(NF - 2) == "Mbits/sec" { r = $(NF - 1) } END { print r + 0 }' \
            >"$XR_RUN/iperf-retr"
        # its best one-second interval (read by xr_iperf_peak)
        echo "$out" | awk '/ sec / && !/sender|receiver/ { for (i = 2; i <= NF; i++) if ($i == "Mbits/sec" && $(i - 1) > p) p = $(i - 1) }
            END { print p + 0 }' >"$XR_RUN/iperf-peak"
        if [ -n "$v" ]; then echo "$v"; return 0; fi
        sleep 2   # a server still busy with the previous test
    done
    return 1
}

# xr_iperf_retr: the TCP retransmits of the last xr_iperf (0 when unknown)
xr_iperf_retr() { cat "$XR_RUN/iperf-retr" 2>/dev/null || echo 0; }

# xr_iperf_peak: the last xr_iperf's best one-second Mbit/s (0 when unknown).
# Beside the mean it tells a flow held at a few Mbit/s throughout from one
# that broke out of that part of the way (a capped dom0, docs/netback-profile.md).
xr_iperf_peak() { cat "$XR_RUN/iperf-peak" 2>/dev/null || echo 0; }

# xr_slow_start_counts [FILE]: "EXITS CWND" from the TcpExt lines of FILE
# (default /proc/net/netstat; - for stdin): the slow starts CUBIC's HyStart
# has ended so far (either test) and the sum of the windows it ended them at.
# A sender behind a TAP that leaves slow start at a few dozen segments paces
# small frames from then on (docs/netback-profile.md, twenty-eighth session).
xr_slow_start_counts() {
    awk '/^TcpExt:/ {
        if (!h) { for (i = 1; i <= NF; i++) n[i] = $i; h = 1; next }
        for (i = 1; i <= NF; i++) {
            if (n[i] ~ /^TCPHystart(Train|Delay)Detect$/) e += $i
            if (n[i] ~ /^TCPHystart(Train|Delay)Cwnd$/) c += $i
        }
    } END { print e + 0, c + 0 }' "${1:-/proc/net/netstat}"
}

# xr_slow_start_exits BEFORE AFTER: two xr_slow_start_counts as
# "EXITS@MEAN_CWND" between them ("0": none)
xr_slow_start_exits() {
    awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ")
        e = y[1] - x[1]; if (e > 0) printf "%d@%.0f\n", e, (y[2] - x[2]) / e; else print 0 }'
}

# xr_iperf_receiver: the receiver's Mbit/s in iperf3's output (-f m) on
# stdin; nothing when there is none
xr_iperf_receiver() {
    awk '/receiver/ { for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") v = $(i - 1) } END { print v }'
}

# xr_median LIST: the median of comma-separated numbers (the mean of the
# middle two for an even count); nothing for an empty list
xr_median() {
    printf '%s\n' "${1//,/$'\n'}" | grep -v '^$' | sort -g |
        awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else if (NR) printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# xr_ratio A B: A / B with two decimals; nothing unless B > 0
xr_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b + 0 > 0) printf "%.2f", a / b }'; }

# xr_metric_get KEY: the value this scenario recorded under KEY (its first
# word), nothing if none
xr_metric_get() { awk -v k="$1" '$1 == k { print $2 }' "$XR_RUN/metrics/$XR_SCENARIO" 2>/dev/null; }

# xr_goal KEY >=|<= BOUND: "met" or "missed" for the metric KEY of this
# scenario (missed when it has none)
xr_goal() {
    awk -v v="$(xr_metric_get "$1")" -v op="$2" -v g="$3" \
        'BEGIN { exit !(v != "" && (op == ">=" ? v + 0 >= g + 0 : v + 0 <= g + 0)) }' && echo met || echo missed
}

# xr_dom_cpu DOMID: the domain's CPU seconds so far as the hypervisor
# accounts them (xl list: every vCPU's running time, hypercalls included;
# dom0's /proc/stat misses the softirq work the kernel's backend does from
# the idle task, so it undercounts that backend against a userspace one)
xr_dom_cpu() { xl list 2>/dev/null | awk -v d="$1" '$2 == d { t = $NF } END { print t + 0 }'; }

# xr_iperf_cpu SRC DST SECONDS: one iperf3 (as xr_iperf) with dom0's CPU
# time around it; prints "MBITS DOM0_CPU_S_PER_GB" (GB: 10^9 bytes at the
# receiver's rate)
xr_iperf_cpu() {
    local c0 c1 v
    c0=$(xr_dom_cpu 0)
    v=$(xr_iperf "$1" "$2" "$3") || return 1
    c1=$(xr_dom_cpu 0)
    awk -v v="$v" -v a="$c0" -v b="$c1" -v s="$3" \
        'BEGIN { gb = v * s / 8000; printf "%s %.3f\n", v, (gb > 0 ? (b - a) / gb : 0) }'
}

# xr_rtt SRC DST [COUNT]: prints the mean round trip in ms
xr_rtt() {
    local src=$1 dst=$2 n=${3:-10} out v
    if [ "$src" = dom0 ]; then
        out=$(ping -c "$n" -i 0.2 -W 2 "$(xr_ip "$dst")" 2>&1)
    else
        out=$(xr_guest_run "$src" -t $((n + 20)) ping -c "$n" -i 0.2 -W 2 "$(xr_ip "$dst")" 2>&1)
    fi
    echo "--- ping $src -> $dst" >&2
    echo "$out" >&2
    v=$(echo "$out" | awk -F/ '/min\/avg\/max/ { split($0, a, "="); split(a[2], b, "/"); gsub(/ /, "", b[2]); print b[2] }')
    [ -n "$v" ] || return 1
    echo "$v"
}

# --- dom0's CPU cap -------------------------------------------------------

xr_scheduler() { xl info 2>/dev/null | awk '$1 == "xen_scheduler" { print $3 }'; }

# xr__dom0_cap_get SCHED: dom0's cap now (xl sched-SCHED -d 0: Name ID Weight Cap)
xr__dom0_cap_get() { xl "sched-$1" -d 0 2>/dev/null | awk '$2 == "0" { print $4 }'; }

# xr_dom0_cap PCT: cap dom0's CPU at PCT % of one physical CPU (all its
# vCPUs together) with the cap of the scheduler Xen runs (credit or
# credit2, XR_SCHED once found); false, with a log line, when the scheduler
# has no cap or the cap does not read back.  The cap it replaced is kept in
# $XR_RUN/dom0-cap for xr_dom0_uncap.
xr_dom0_cap() {
    local old
    : "${XR_SCHED:=$(xr_scheduler)}"
    case $XR_SCHED in
    credit | credit2) ;;
    *) xr_log "scheduler '${XR_SCHED:-?}': no CPU cap"; return 1 ;;
    esac
    if [ ! -f "$XR_RUN/dom0-cap" ]; then
        old=$(xr__dom0_cap_get "$XR_SCHED")
        echo "$XR_SCHED ${old:-0}" >"$XR_RUN/dom0-cap"
    fi
    xl "sched-$XR_SCHED" -d 0 -c "$1" >&2 || { xr_log "xl sched-$XR_SCHED -d 0 -c $1 failed"; return 1; }
    old=$(xr__dom0_cap_get "$XR_SCHED")
    [ "$old" = "$1" ] || { xr_log "dom0's cap reads '${old}' after setting $1"; return 1; }
}

# xr_dom0_uncap: dom0's cap as it was before xr_dom0_cap (nothing to do
# when it was not capped)
xr_dom0_uncap() {
    local sched old
    [ -f "$XR_RUN/dom0-cap" ] || return 0
    read -r sched old <"$XR_RUN/dom0-cap"
    xl "sched-$sched" -d 0 -c "${old:-0}" >&2 || { xr_log "cannot remove dom0's CPU cap"; return 1; }
    rm -f "$XR_RUN/dom0-cap"
}

# --- kernel netback --------------------------------------------------------

xr_netback_loaded() { grep -q '^xen_netback ' /proc/modules; }

xr_netback_unload() {
    [ "${XR_KEEP_GUESTS:-0}" = 1 ] || xr_guests_down
    local _
    for _ in 1 2 3 4 5; do
        xr_netback_loaded || { xr_log "xen-netback unloaded"; return 0; }
        rmmod xen-netback 2>/dev/null || sleep 1
    done
    xr_netback_loaded && { xr_log "cannot unload xen-netback"; return 1; }
    return 0
}

xr_netback_load() {
    xr_netback_loaded && return 0
    modprobe xen-netback && xr_log "xen-netback loaded"
}

# A backend swapped under running guests, without a reboot:
# xr_vif_detach NAME: the guest's vif 0 detached (the backend's side gone
# from xenstore); xr_vif_attach NAME: attached again with the same MAC on
# xenbr0 (to whichever backend serves dom0's vifs now), and the guest's
# address put back on its new eth0 (its init set it on the old one);
# waits until the guest answers ping.  XR_KEEP_GUESTS=1 xr_netback_unload
# then unloads the kernel's backend between the two without destroying
# the guests (it fails while one of them still has a vif on it).
xr_vif_detach() {
    local d _
    d=$(xr_guest_domid "$1") || return 1
    timeout 60 xl network-detach "$1" 0 || { xr_log "xl network-detach $1 0 failed"; return 1; }
    for _ in $(seq 150); do
        xenstore-exists "/local/domain/0/backend/vif/$d/0" 2>/dev/null || return 0
        sleep 0.2
    done
    xr_log "guest $1: backend/vif/$d/0 still in xenstore 30 s after network-detach"
    return 1
}
xr_vif_attach() {
    local name=$1 ip mac
    ip=$(xr_ip "$name") || return 1
    mac=$(xr__mac "$ip")
    timeout 60 xl network-attach "$name" "mac=$mac,bridge=xenbr0" ||
        { xr_log "xl network-attach $name failed"; return 1; }
    # shellcheck disable=SC2016 # expanded in the guest
    xr_guest_run "$name" -t 40 'i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
        ip link set eth0 up && ip addr add '"$ip"'/24 dev eth0' >/dev/null ||
        { xr_log "guest $name: no eth0 after network-attach"; return 1; }
    xr_wait_ping "$ip" 60 || { xr_log "guest $name: no ping reply after network-attach"; return 1; }
}

# xr_netbackd_sums DOMID KEY...: xnv-netbackd's counters KEY... so far, on
# one line, each summed over every vif (DOMID empty) or the vifs of DOMID,
# from one xnvctl --json read (each vif's "stats" holds the sum over its
# queues); false, printing nothing, when xnvctl cannot be asked
xr_netbackd_sums() {
    local d=$1 j
    shift
    j=$("$(xr_bin xnvctl)" --json) || return 1
    grep -o '"domid":[0-9]*,[^{]*"stats":{[^}]*}' <<<"$j" |
        awk -v keys="$*" -v d="$d" 'BEGIN { n = split(keys, k, " ") }
            { split($0, a, /[:,]/); if (d != "" && a[2] != d) next
              for (i = 1; i <= n; i++) { p = index($0, "\"" k[i] "\":")
                                         if (p) s[i] += substr($0, p + length(k[i]) + 3) + 0 } }
            END { for (i = 1; i <= n; i++) printf "%.0f%s", s[i], i < n ? " " : "\n" }'
}

# xr_netbackd_stat KEY [DOMID]: one of them (0 when xnvctl cannot be asked)
xr_netbackd_stat() { xr_netbackd_sums "${2:-}" "$1" || echo 0; }

# xr_fastpath_packets: frames xnv-netbackd's switch fast path carried so
# far, over every vif
xr_fastpath_packets() { xr_netbackd_stat fastpath_packets; }

# --- our programs ----------------------------------------------------------

xr_bin() {
    if [ -x "$XR_BIN/$1" ]; then echo "$XR_BIN/$1"; return 0; fi
    echo "xr_bin: $1 was not built (no build/bin/$1)" >&2
    return 1
}

xr_daemon() {
    local name=$1; shift
    "$@" >>"$XR_OUT/scenarios/$XR_SCENARIO.$name.log" 2>&1 &
    echo "$!" >>"$XR_RUN/daemons.$XR_SCENARIO"
    xr_log "started $name (pid $!): $*"
}

xr_daemons_stop() {
    local f=$XR_RUN/daemons.$XR_SCENARIO p
    [ -f "$f" ] || return 0
    while read -r p; do kill "$p" 2>/dev/null; done <"$f"
    sleep 0.5
    while read -r p; do kill -9 "$p" 2>/dev/null; done <"$f"
    rm -f "$f"
}

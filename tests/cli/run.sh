#!/bin/bash
# Command-line behaviour of every program in a build's bin directory:
#   --help              exit 0, a usage text naming the program on stdout
#   --version           (when --help lists it) exit 0, "NAME VERSION"
#   an unknown option   non-zero exit, stderr names the option, nothing on stdout
# and xnv-netbackd's configuration file: an unknown key, a bad value, a key
# given twice, an unreadable file each stop it (with --check-config and on a
# real start) with exit status 2 and "FILE:LINE: reason" on stderr; the
# shipped example passes.
#   tests/cli/run.sh [BINDIR]      (default build/bin; run by make check-unit)
set -u
BIN=${1:-build/bin}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# run PROG ARGS...: status in $rc, output in $T/out and $T/err (bounded in
# time: nothing here may wait for a hypervisor)
run() {
    timeout 20 "$@" >"$T/out" 2>"$T/err" </dev/null
    rc=$?
}

progs=()
for p in "$BIN"/*; do
    [ -f "$p" ] && [ -x "$p" ] && progs+=("$p")
done
[ ${#progs[@]} -gt 0 ] || { echo "FAIL: no programs in $BIN (run make first)"; exit 1; }
# Every program a check below needs: a missing one fails the run (its
# checks are not run, and not counted as passed).
for need in xnv-netbackd xnvctl xnv-probe xnv-netfront xnv-bench; do
    [ -x "$BIN/$need" ] || bad "$need missing from $BIN"
done

for p in "${progs[@]}"; do
    n=${p##*/}
    run "$p" --help
    if [ $rc -ne 0 ]; then bad "$n --help: exit status $rc"
    elif ! grep -qi "^usage: .*$n" "$T/out"; then bad "$n --help: no 'Usage: ... $n' line on stdout"
    elif [ -s "$T/err" ]; then bad "$n --help: wrote to stderr: $(head -c 200 "$T/err")"
    else ok; fi
    help=$(cat "$T/out")

    if grep -q -- '--version' <<<"$help"; then
        run "$p" --version
        if [ $rc -ne 0 ] || ! grep -qE "^$n [0-9]+\.[0-9]+" "$T/out"; then
            bad "$n --version: status $rc, output '$(head -c 100 "$T/out")'"
        else ok; fi
    fi

    for opt in --no-such-option -Z; do
        run "$p" "$opt"
        if [ $rc -eq 0 ]; then bad "$n $opt: exit status 0"
        elif ! grep -q -- "$opt\|'${opt#-}'" "$T/err"; then bad "$n $opt: stderr does not name the option: $(head -c 200 "$T/err")"
        elif [ -s "$T/out" ]; then bad "$n $opt: wrote to stdout"
        else ok; fi
    done
done

# A stray argument is an error for the programs that take none.
for n in xnv-netbackd xnv-netfront xnv-bench; do
    [ -x "$BIN/$n" ] || continue
    run "$BIN/$n" stray-argument
    if [ $rc -eq 0 ] || ! grep -q 'stray-argument' "$T/err"; then
        bad "$n stray-argument: status $rc, stderr '$(head -c 200 "$T/err")'"
    else ok; fi
done
# A value out of range names the option and the range.
if [ -x "$BIN/xnv-netfront" ]; then
    run "$BIN/xnv-netfront" --channel-hold 49
    if [ $rc -ne 2 ] || ! grep -q -- '--channel-hold must be a number of frames from 0 to 48' "$T/err"; then
        bad "xnv-netfront --channel-hold 49: status $rc, stderr '$(head -c 200 "$T/err")'"
    else ok; fi
    for v in -21 20 - 1x; do
        run "$BIN/xnv-netfront" --nice "$v"
        if [ $rc -ne 2 ] || ! grep -q -- "--nice must be a number from -20 to 19, not \"$v\"" "$T/err"; then
            bad "xnv-netfront --nice $v: status $rc, stderr '$(head -c 200 "$T/err")'"
        else ok; fi
    done
fi
# An unknown command of xnvctl, and a daemon that is not there.
if [ -x "$BIN/xnvctl" ]; then
    run "$BIN/xnvctl" frobnicate
    if [ $rc -eq 0 ] || ! grep -q 'frobnicate' "$T/err"; then bad "xnvctl frobnicate: status $rc"; else ok; fi
    run "$BIN/xnvctl" --socket "$T/none.sock" list
    if [ $rc -eq 0 ] || ! grep -q "$T/none.sock" "$T/err"; then
        bad "xnvctl without a daemon: status $rc, stderr '$(head -c 200 "$T/err")'"
    else ok; fi
fi

# xnvctl against a stand-in daemon: each command asks what it should, top
# shows rates computed between two refreshes (1000 packets and 12 Mbit/s a
# refresh, about a second apart), and an answer that is not the daemon's is
# refused.
fake() {   # fake SOCKET [--garbage]: start the stand-in, wait for its socket
    rm -f "$1"
    python3 "$TOP/tests/cli/fake-netbackd.py" "$@" &
    fake_pid=$!
    for _ in $(seq 50); do [ -S "$1" ] && return 0; sleep 0.1; done
    bad "the stand-in daemon did not start"; return 1
}
if [ -x "$BIN/xnvctl" ] && command -v python3 >/dev/null; then
    C=$BIN/xnvctl S=$T/ctl.sock
    if fake "$S"; then
        run "$C" --socket "$S" list
        if [ $rc -ne 0 ] || ! grep -q 'vif7.0 *connected' "$T/out"; then bad "xnvctl list: status $rc"; else ok; fi
        run "$C" --socket "$S" --json
        if [ $rc -ne 0 ] || ! python3 -c 'import json,sys; assert json.load(sys.stdin)["vifs"][0]["domid"] == 7' <"$T/out"; then
            bad "xnvctl --json: status $rc or not the daemon's JSON"
        else ok; fi
        run "$C" --socket "$S" top --count 2
        # second refresh, vif7.0's line: IFNAME DOMID DEVID TX_PKT/S TX_MBIT/S RX_PKT/S RX_MBIT/S DROP/S
        r=$(awk '/^xnvctl top/ { n++ } n == 2 && $1 == "vif7.0" && NF == 8' "$T/out")
        if [ $rc -ne 0 ] || [ "$(grep -c 'TX_PKT/S' "$T/out")" != 2 ]; then bad "xnvctl top --count 2: status $rc"
        elif ! awk '{ exit !($4 >= 500 && $4 <= 1100 && $6 >= 500 && $6 <= 1100 && $5 >= 6 && $5 <= 13.2 && $8 == 0) }' <<<"$r"; then
            bad "xnvctl top: rates of the second refresh wrong: '$r'"
        elif ! awk '/^xnvctl top/ { n++ } n == 1 && $1 == "vif7.0" && NF == 8 { exit !($4 == "-") }' "$T/out"; then
            bad "xnvctl top: the first refresh shows a rate it cannot know"
        else ok; fi
        kill "$fake_pid"; wait "$fake_pid" 2>/dev/null
    fi
    if fake "$S" --garbage; then
        run "$C" --socket "$S" top --count 1
        if [ $rc -eq 0 ] || ! grep -q 'unexpected answer' "$T/err"; then bad "xnvctl top accepted a foreign answer (status $rc)"; else ok; fi
        run "$C" --socket "$S" --json
        if [ $rc -ne 1 ] || ! grep -q 'unexpected answer' "$T/err" || [ -s "$T/out" ]; then
            bad "xnvctl --json passed a foreign answer on (status $rc, stdout '$(head -c 100 "$T/out")')"
        else ok; fi
        kill "$fake_pid"; wait "$fake_pid" 2>/dev/null
    fi
    run "$C" --socket "$S" list extra
    if [ $rc -ne 2 ] || ! grep -q 'unexpected argument "extra"' "$T/err"; then
        bad "xnvctl list extra: status $rc, stderr '$(head -c 200 "$T/err")'"
    else ok; fi
elif [ -x "$BIN/xnvctl" ]; then
    bad "python3 is needed for xnvctl's tests (make deps installs it)"
fi

# An unknown letter in a cluster of short options is the one named.
if [ -x "$BIN/xnv-netfront" ]; then
    run "$BIN/xnv-netfront" -fZ
    if [ $rc -ne 2 ] || ! grep -q -- "unknown option -Z" "$T/err"; then
        bad "xnv-netfront -fZ: status $rc, stderr '$(head -c 200 "$T/err")'"
    else ok; fi
fi

# xnv-netbackd's configuration file.
NB=$BIN/xnv-netbackd
if [ -x "$NB" ]; then
    printf '# comment\nmax-queues = 4\nno-such-key = 1\n' >"$T/unknown.conf"
    printf 'max-queues = 4\nstall-timeout-ms = soon\n' >"$T/value.conf"
    printf 'log-level = info\n\nlog-level = debug\n' >"$T/twice.conf"
    printf 'max-queues 4\n' >"$T/syntax.conf"
    check_bad() {   # check_bad FILE LINE WORD: both ways of reading FILE fail at LINE
        local f=$1 line=$2 word=$3 how
        for how in --check-config --foreground; do
            run "$NB" "$how" -c "$f"
            if [ $rc -ne 2 ]; then bad "xnv-netbackd $how -c ${f##*/}: exit status $rc, not 2"
            elif ! grep -q "^$f:$line: .*$word" "$T/err"; then
                bad "xnv-netbackd $how -c ${f##*/}: no '$f:$line: ...$word' message: $(head -c 300 "$T/err")"
            else ok; fi
        done
    }
    check_bad "$T/unknown.conf" 3 'unknown key "no-such-key"'
    check_bad "$T/value.conf" 2 'soon'
    check_bad "$T/twice.conf" 3 'already set on line 1'
    check_bad "$T/syntax.conf" 1 'max-queues'
    run "$NB" --check-config -c "$T/missing.conf"
    if [ $rc -ne 2 ] || ! grep -q "$T/missing.conf" "$T/err"; then
        bad "xnv-netbackd -c missing.conf: status $rc, stderr '$(head -c 200 "$T/err")'"
    else ok; fi
    run "$NB" --max-queues 99 --check-config
    if [ $rc -ne 2 ] || ! grep -q -- '--max-queues' "$T/err"; then
        bad "xnv-netbackd --max-queues 99: status $rc, stderr '$(head -c 200 "$T/err")'"
    else ok; fi
    # a bad option and a bad file: both reported
    run "$NB" --check-config --max-queues 99 -c "$T/unknown.conf"
    if [ $rc -ne 2 ] || ! grep -q -- '--max-queues' "$T/err" || ! grep -q 'unknown key "no-such-key"' "$T/err"; then
        bad "xnv-netbackd --max-queues 99 -c unknown.conf: status $rc, stderr '$(head -c 300 "$T/err")'"
    else ok; fi
    run "$NB" --check-config -c "$TOP/etc/xnv/netbackd.conf.example"
    if [ $rc -ne 0 ]; then bad "the shipped netbackd.conf.example does not pass: $(cat "$T/err")"
    elif ! grep -qx "$TOP/etc/xnv/netbackd.conf.example: valid" "$T/out"; then
        bad "xnv-netbackd --check-config does not say which file it read: '$(head -c 200 "$T/out")'"
    else ok; fi

    # One daemon per domain: while another holds the lock, a second start
    # stops with status 1 and names the holder (after 5 s: one still exiting
    # gets that long); once it is free, the start goes on past it.
    if command -v flock >/dev/null; then
        mkdir -p "$T/lock"
        L=$T/lock/netbackd.lock
        (exec 9>"$L"; flock -x 9; echo 4242 >&9; exec sleep 20) &    # the sleep holds the lock
        holder=$!
        for _ in $(seq 50); do [ -s "$L" ] && break; sleep 0.1; done
        XNV_NETBACKD_LOCK=$L run "$NB" --foreground
        if [ $rc -ne 1 ] || ! grep -q "another xnv-netbackd (pid 4242) is running" "$T/err"; then
            bad "xnv-netbackd beside a running one: status $rc, stderr '$(head -c 300 "$T/err")'"
        else ok; fi
        kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
        for _ in $(seq 50); do flock -n "$L" true && break; sleep 0.1; done
        XNV_NETBACKD_LOCK=$L run "$NB" --foreground
        if grep -q "another xnv-netbackd" "$T/err" || [ "$(cat "$L")" = 4242 ]; then
            bad "xnv-netbackd with the lock free: stderr '$(head -c 300 "$T/err")', lock file '$(cat "$L")'"
        else ok; fi
    else
        bad "flock (util-linux) is needed for xnv-netbackd's lock test"
    fi
fi

# The demo's table (tools/rig/results.py): a fast path is shown beside the
# bridged path of its own run, with the ratio computed from the two figures.
cat >"$T/results.json" <<'JSON'
{"scenarios": [
 {"name": "fastpath-switch", "path": "tier 1", "pass": true,
  "metrics": {"guest_to_guest_mbps": 600, "bridged_guest_to_guest_mbps": 200,
              "rtt_ms": 2.0, "bridged_rtt_ms": 8.0}}]}
JSON
run python3 "$TOP/tools/rig/results.py" table "$T/results.json"
if [ $rc -ne 0 ] || ! grep -Eq '^\| tier 1 +\| +600 \| +200 \| +3\.00x \|(.*\|)? +2\.00 \| +8\.00 \| +0\.25x \|$' "$T/out"; then
    bad "results.py table: no fast-path row with its ratios (status $rc): $(cat "$T/out")"
else ok; fi
# ... and a pair of columns that no row measured is left out (the demo tour
# measures guest to guest one way only)
if grep -q 'Mbit/s back' "$T/out"; then
    bad "results.py table: a 'Mbit/s back' column although no row has one: $(cat "$T/out")"
else ok; fi

# A scenario with several pairs (fastpath-hvm) gives a row for each prefix,
# beside its own bridged pair (PREFIX_bridged_*) or the plain bridged_*.
cat >"$T/multi.json" <<'JSON'
{"scenarios": [
 {"name": "fastpath-hvm", "path": "hvm", "pass": true,
  "metrics": {"bridged_guest_to_guest_mbps": 100, "bridged_rtt_ms": 4.0,
              "mixed_bridged_guest_to_guest_mbps": 50, "mixed_bridged_rtt_ms": 5.0,
              "switch_guest_to_guest_mbps": 150, "switch_rtt_ms": 2.0,
              "mixed_guest_to_guest_mbps": 200, "mixed_rtt_ms": 10.0}}]}
JSON
run python3 "$TOP/tools/rig/results.py" table "$T/multi.json"
if [ $rc -ne 0 ] || ! grep -Eq '^\| hvm: switch +\| +150 \| +100 \| +1\.50x \| +2\.00 \| +4\.00 \| +0\.50x \|$' "$T/out" ||
   ! grep -Eq '^\| hvm: mixed +\| +200 \| +50 \| +4\.00x \| +10\.00 \| +5\.00 \| +2\.00x \|$' "$T/out" ||
   grep -q '^| hvm ' "$T/out"; then
    bad "results.py table: no row per prefixed pair (status $rc): $(cat "$T/out")"
else ok; fi

# The tour's last word (results.py summary): how many steps worked, and the
# reason of each that did not; status 1 when one did not.
cat >"$T/tour.json" <<'JSON'
{"scenarios": [
 {"name": "kernel-path", "path": "stock", "pass": true, "reason": "ok", "metrics": {"rtt_ms": 3.0}},
 {"name": "tier2", "path": "channels", "pass": false, "reason": "no channel within 60 s", "metrics": {}}]}
JSON
run python3 "$TOP/tools/rig/results.py" summary "$T/tour.json"
if [ $rc -ne 1 ] || ! grep -qx '1 of 2 worked:' "$T/out" ||
   ! grep -qx '  tier2 (channels): no channel within 60 s' "$T/out"; then
    bad "results.py summary: status $rc, $(cat "$T/out")"
else ok; fi

# The rig's wait for a guest's answer (tests/xen/lib.sh, xr__wait_value):
# one xenstore watch for the whole wait, true once the node holds the value,
# false when the time runs out or there is no watch, and no watch left
# behind.  Stand-in xenstore tools over files.
mkdir -p "$T/xs/bin" "$T/xs/store"
cat >"$T/xs/bin/xenstore-read" <<SH
#!/bin/bash
cat "$T/xs/store/\${1//\//_}" 2>/dev/null
SH
cat >"$T/xs/bin/xenstore-watch" <<SH
#!/bin/bash
f="$T/xs/store/\${1//\//_}"; echo "\$1"; last=\$(stat -c %Y.%s.%i "\$f" 2>/dev/null)
while sleep 0.05; do now=\$(stat -c %Y.%s.%i "\$f" 2>/dev/null); [ "\$now" = "\$last" ] || { echo "\$1"; last=\$now; }; done
SH
chmod +x "$T/xs/bin/"*
wait_got=$(
    PATH=$T/xs/bin:$PATH
    eval "$(sed -n '/^xr__wait_value() {/,/^}/p' "$TOP/tests/xen/lib.sh")"
    node=$T/xs/store/_g_done
    echo 1 >"$node"
    ( sleep 0.5; echo 2 >"$node.new"; mv "$node.new" "$node" ) &
    t0=$SECONDS; xr__wait_value /g/done 2 30; a=$?; ta=$((SECONDS - t0))
    wait
    xr__wait_value /g/done 3 1; b=$?
    mv "$T/xs/bin/xenstore-watch" "$T/xs/bin/xw"
    xr__wait_value /g/done 2 5; c=$?
    mv "$T/xs/bin/xw" "$T/xs/bin/xenstore-watch"
    sleep 0.2
    left=$(pgrep -f "$T/xs/bin/xenstore-watch" | wc -l)
    echo "changed=$a in_time=$([ "$ta" -lt 20 ] && echo yes || echo no) timeout=$b nowatch=$c left=$left"
)
if [ "$wait_got" != "changed=0 in_time=yes timeout=1 nowatch=1 left=0" ]; then
    bad "lib.sh xr__wait_value: $wait_got"
else ok; fi

# A command run in a guest (lib.sh xr_guest_run) over the same stand-ins,
# a stand-in guest answering as tools/rig/files/domu-init does: output of
# several pieces comes back whole, and the command's status with it.
cat >"$T/xs/bin/xenstore-read" <<SH
#!/bin/bash
for p in "\$@"; do cat "$T/xs/store/\${p//\//_}" 2>/dev/null || exit 1; done
SH
cat >"$T/xs/bin/xenstore-write" <<SH
#!/bin/bash
while [ \$# -ge 2 ]; do f="$T/xs/store/\${1//\//_}"; printf '%s\n' "\$2" >"\$f.new"; mv "\$f.new" "\$f"; shift 2; done
SH
chmod +x "$T/xs/bin/"*
run_got=$(
    PATH=$T/xs/bin:$PATH XR_RUN=$T/xsrun
    mkdir -p "$XR_RUN/guests"; echo 7 >"$XR_RUN/guests/g1.domid"
    xenstore-write /local/domain/7/name g1 /local/domain/7/data/rig/seq 0
    eval "$(sed -n '/^xr_guest_domid() {/,/^}/p; /^xr__wait_value() {/,/^}/p; /^xr_guest_run() {/,/^}/p' \
        "$TOP/tests/xen/lib.sh")"
    (   # the guest: each new seq runs cmd, answers in pieces of 1500, done last
        b=/local/domain/7/data/rig; last=0
        for _ in $(seq 400); do
            s=$(xenstore-read $b/seq)
            if [ "$s" != "$last" ]; then
                bash -c "$(xenstore-read $b/cmd | base64 -d)" >"$T/g.out" 2>&1; grc=$?
                set --; n=0
                while read -r piece; do set -- "$@" "$b/out/$n" "$piece"; n=$((n + 1)); done \
                    < <(base64 -w 1500 "$T/g.out")
                xenstore-write "$@" $b/out-n "$n" $b/rc "$grc" $b/done "$s"; last=$s
            fi
            sleep 0.05
        done ) &
    guest=$!
    big=$(xr_guest_run g1 -t 10 'seq 1 2000'); a=$?
    xr_guest_run g1 -t 10 'echo quiet >/dev/null; exit 3' >"$T/q.out"; b=$?
    kill $guest 2>/dev/null; wait 2>/dev/null
    echo "big=$([ "$big" = "$(seq 1 2000)" ] && echo whole || echo "${#big} bytes") rc=$a quiet_rc=$b quiet_out=$(wc -c <"$T/q.out")"
)
if [ "$run_got" != "big=whole rc=0 quiet_rc=3 quiet_out=0" ]; then
    bad "lib.sh xr_guest_run: $run_got"
else ok; fi

# A run whose scenarios need two TCG modes boots once per mode; results.py
# merge puts their results.json together in the run's order, and a scenario
# whose boot left nothing is failed with a reason, not dropped.
cat >"$T/part-single.json" <<'JSON'
{"scenarios": [{"name": "baseline", "pass": true, "reason": "ok", "metrics": {"rtt_ms": 2.0}},
               {"name": "churn", "pass": true, "reason": "ok", "metrics": {}}]}
JSON
cat >"$T/part-multi.json" <<'JSON'
{"scenarios": [{"name": "fastpath-pvh", "pass": true, "reason": "ok", "metrics": {}}]}
JSON
run python3 "$TOP/tools/rig/results.py" merge "$T/merged.json" "$T/part-single.json" "$T/part-multi.json" \
    -- baseline fastpath-pvh churn
order=$(python3 -c 'import json, sys; print(" ".join(s["name"] + ":" + str(s["pass"]) for s in json.load(open(sys.argv[1]))["scenarios"]))' "$T/merged.json" 2>&1)
if [ $rc -ne 0 ] || [ "$order" != "baseline:True fastpath-pvh:True churn:True" ]; then
    bad "results.py merge of two boots: status $rc, scenarios '$order'"
else ok; fi
run python3 "$TOP/tools/rig/results.py" merge "$T/merged.json" "$T/part-single.json" "$T/no-such-part.json" \
    -- baseline fastpath-pvh churn
if [ $rc -ne 1 ] || ! grep -q 'fastpath-pvh.*its boot left no results' "$T/out"; then
    bad "results.py merge with a boot missing: status $rc, $(head -c 300 "$T/out")"
else ok; fi

# xnv-bench reports each case against both bounds: the single-core copy and,
# with two CPUs or more, the same copies handed between two CPUs.
if [ -x "$BIN/xnv-bench" ]; then
    run "$BIN/xnv-bench" --json --seconds 0.05 --sizes 64 --queues 1 --directions g2b
    got=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); r = d["results"][0]
# (a ratio of 0 is a report too: on a machine busy enough, 50 ms move nothing)
print("memcpy" if d["memcpy_gbps"] > 0 and r["ratio_to_bound"] >= 0 else "no-memcpy",
      "handoff" if d["handoff_gbps"] > 0 and r["ratio_to_handoff_bound"] >= 0 else "no-handoff")' "$T/out" 2>&1)
    want="memcpy handoff"
    [ "$(nproc)" -ge 2 ] || want="memcpy no-handoff"
    if [ $rc -ne 0 ] || [ "$got" != "$want" ]; then
        bad "xnv-bench --json: status $rc, bounds '$got' (want '$want' on $(nproc) CPU(s))"
    else ok; fi
fi

# xnv-bench --density: the table on stdout, the same as JSON in --output
# (the shape only: what it measures is no test's business); a bad count is
# refused with status 2.
if [ -x "$BIN/xnv-bench" ]; then
    run "$BIN/xnv-bench" --density 4 --seconds 0.05 --rounds 1 --output "$T/density.json"
    got=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(d["vifs"], d["queues"], d["threads_per_vif"], len(d["traffic"]), len(d["summary"]),
      "rss" if d["rss_kib_per_idle_vif"] > 0 else "no-rss")' "$T/density.json" 2>&1)
    if [ $rc -ne 0 ] || [ "$got" != "4 2 2.0 4 4 rss" ] || ! grep -q '^  RSS idle' "$T/out"; then
        bad "xnv-bench --density 4: status $rc, JSON '$got', stdout '$(head -c 200 "$T/out")'"
    else ok; fi
    run "$BIN/xnv-bench" --density 1
    if [ $rc -ne 2 ] || ! grep -q -- '--density' "$T/err"; then
        bad "xnv-bench --density 1: status $rc, stderr '$(head -c 200 "$T/err")'"
    else ok; fi
fi

echo "cli: $pass passed, $fail failed (${#progs[@]} programs in $BIN)"
[ $fail -eq 0 ]

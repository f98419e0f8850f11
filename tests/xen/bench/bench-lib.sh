# Measurements of the rig benchmark (not a scenario itself: no NN- prefix).
# Every figure is one line of out/bench/raw.tsv: run, path, metric, value.
# shellcheck shell=bash

BENCH_RAW=$XR_OUT/bench/raw.tsv
BENCH_SECS=${XR_BENCH_SECONDS:-8}
BENCH_WRK_SECS=${XR_BENCH_WRK_SECONDS:-6}
BENCH_FAILURES=0
BENCH_HZ=$(getconf CLK_TCK)

bench_raw_init() { mkdir -p "${BENCH_RAW%/*}"; : >"$BENCH_RAW"; }

# bench_raw PATH METRIC VALUE (run number from $RUN)
bench_raw() {
    printf '%s\t%s\t%s\t%s\n' "${RUN:-0}" "$1" "$2" "$3" >>"$BENCH_RAW"
    sync "$BENCH_RAW" 2>/dev/null
    xr_log "run ${RUN:-0}: $1 $2 = $3"
}

bench_fail() {
    BENCH_FAILURES=$((BENCH_FAILURES + 1))
    bench_raw error "$BENCH_FAILURES" "$*"
}

# dom0's busy time so far in clock ticks: user + nice + system + irq +
# softirq over all its vCPUs (idle, iowait and steal left out)
bench_cpu_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat; }

# bench_vif_counts SRC DST: "bytes frames" the vif of the guest end has
# carried in the transfer's direction so far (towards the guest: the vif's
# transmit counters; from it: receive); nothing between two guests
bench_vif_counts() {
    local g dir d
    if [ "$1" = dom0 ]; then g=$2 dir=tx; elif [ "$2" = dom0 ]; then g=$1 dir=rx; else return 0; fi
    d=$(xr_guest_domid "$g") || return 0
    local s=/sys/class/net/vif$d.0/statistics
    [ -r "$s/${dir}_bytes" ] && echo "$(cat "$s/${dir}_bytes") $(cat "$s/${dir}_packets")"
}

# bench_tcp_sample IP: dom0's TCP connections to IP (ss -tin), once a second
# until killed
bench_tcp_sample() {
    while :; do ss -tin dst "$1"; sleep 1; done
}

# bench_tcp_stop PID: end a bench_tcp_sample (nothing when PID is empty)
bench_tcp_stop() {
    [ -n "$1" ] || return 0
    kill "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}

# bench_tcp_last FILE: the sending connection's state in its last sample in
# FILE (the sample that had acknowledged the most bytes: the data stream's
# last before it closed), as "key value" lines: cwnd and ssthresh in
# segments (ssthresh 0: still in slow start), srtt_ms, min_rtt_ms,
# pacing_mbps, rwnd_limited_pct.  dom0's TCP sizes a TSO frame at about 1 ms
# of its pacing rate, cwnd over srtt times 1.2 once out of slow start: these
# tell a transfer that left slow start early from one that did not.
bench_tcp_last() {
    awk '
    function rate(v,   n) {
        n = v + 0
        if (v ~ /Gbps$/) n *= 1000; else if (v ~ /Kbps$/) n /= 1000; else if (v ~ /[0-9]bps$/) n /= 1e6
        return n
    }
    /bytes_acked:/ {
        acked = 0
        for (i = 1; i <= NF; i++) if ($i ~ /^bytes_acked:/) { split($i, a, ":"); acked = a[2] + 0 }
        if (acked <= best) next
        best = acked; delete cur; cur["ssthresh"] = 0; cur["rwnd_limited_pct"] = 0
        for (i = 1; i <= NF; i++) {
            if ($i ~ /^cwnd:/) { split($i, a, ":"); cur["cwnd"] = a[2] }
            else if ($i ~ /^ssthresh:/) { split($i, a, ":"); cur["ssthresh"] = a[2] }
            else if ($i ~ /^rtt:/) { split($i, a, "[:/]"); cur["srtt_ms"] = a[2] }
            else if ($i ~ /^minrtt:/) { split($i, a, ":"); cur["min_rtt_ms"] = a[2] }
            else if ($i == "pacing_rate") cur["pacing_mbps"] = sprintf("%.1f", rate($(i + 1)))
            else if ($i ~ /^rwnd_limited:/) { match($i, /\(([0-9.]+)%\)/); cur["rwnd_limited_pct"] = substr($i, RSTART + 1, RLENGTH - 3) }
        }
    }
    END { if (best > 0) for (k in cur) print k, cur[k] }' "$1"
}

# bench_iperf PATH NAME SRC DST: NAME_mbps and NAME_cpu_s_per_gb (dom0 CPU
# seconds per gigabyte received, the bytes from the receiver's rate, as the
# hypervisor accounts dom0's vCPUs: xl list), and the same from dom0's own
# /proc/stat as NAME_cpu_s_per_gb_procstat (which misses the softirq work
# the kernel's backend does from the idle task); NAME_retransmits (the
# sender's TCP retransmits) and NAME_peak_mbps (the best second), which tell
# a transfer slowed by losses, or held slow from its start, from the others;
# NAME_bytes_per_frame on the guest's vif (dom0 <-> guest); and for a
# sender in dom0, NAME_tcp_* of bench_tcp_last (its socket sampled once a
# second: one `ss` a second in dom0, counted in dom0's CPU alike on every path)
bench_iperf() {
    local path=$1 name=$2 c0 c1 x0 x1 v vif0 vif1 sampler=
    c0=$(bench_cpu_ticks); x0=$(xr_dom_cpu 0)
    vif0=$(bench_vif_counts "$3" "$4")
    if [ "$3" = dom0 ]; then
        bench_tcp_sample "$(xr_ip "$4")" >"$XR_RUN/bench-ss" 2>/dev/null &
        sampler=$!
    fi
    if ! v=$(xr_iperf "$3" "$4" "$BENCH_SECS"); then
        bench_tcp_stop "$sampler"
        bench_fail "iperf3 $3 -> $4 ($path) failed"
        return 1
    fi
    c1=$(bench_cpu_ticks); x1=$(xr_dom_cpu 0)
    vif1=$(bench_vif_counts "$3" "$4")
    bench_tcp_stop "$sampler"
    bench_raw "$path" "${name}_mbps" "$v"
    bench_raw "$path" "${name}_retransmits" "$(xr_iperf_retr)"
    bench_raw "$path" "${name}_peak_mbps" "$(xr_iperf_peak)"
    if [ -n "$vif0" ] && [ -n "$vif1" ]; then
        bench_raw "$path" "${name}_bytes_per_frame" \
            "$(awk -v a="$vif0" -v b="$vif1" 'BEGIN { split(a, x, " "); split(b, y, " ")
                f = y[2] - x[2]; if (f > 0) printf "%.0f", (y[1] - x[1]) / f; else print "NaN" }')"
    fi
    if [ -n "$sampler" ]; then
        local k val
        bench_tcp_last "$XR_RUN/bench-ss" >"$XR_RUN/bench-ss.last"
        while read -r k val; do
            bench_raw "$path" "${name}_tcp_$k" "$val"
        done <"$XR_RUN/bench-ss.last"
    fi
    bench_raw "$path" "${name}_cpu_s_per_gb" \
        "$(awk -v a="$x0" -v b="$x1" -v m="$v" -v s="$BENCH_SECS" \
           'BEGIN { gb = m * s / 8000; if (gb > 0) printf "%.3f", (b - a) / gb; else print "NaN" }')"
    bench_raw "$path" "${name}_cpu_s_per_gb_procstat" \
        "$(awk -v t=$((c1 - c0)) -v hz="$BENCH_HZ" -v m="$v" -v s="$BENCH_SECS" \
           'BEGIN { gb = m * s / 8000; if (gb > 0) printf "%.3f", t / hz / gb; else print "NaN" }')"
}

bench_rtt() {
    local v
    if v=$(xr_rtt "$2" "$3" 20); then bench_raw "$1" rtt_ms "$v"; else bench_fail "ping $2 -> $3 ($1) failed"; fi
}

# bench_dom0_pair PATH GUEST: dom0 <-> GUEST both ways and the RTT
bench_dom0_pair() {
    bench_rtt "$1" dom0 "$2"
    bench_iperf "$1" dom0_to_guest dom0 "$2"
    bench_iperf "$1" guest_to_dom0 "$2" dom0
}

# bench_g2g PATH A B: A -> B and B -> A, the RTT from A
bench_g2g() {
    bench_rtt "$1" "$2" "$3"
    bench_iperf "$1" guest_to_guest "$2" "$3"
    bench_iperf "$1" guest_to_guest_reverse "$3" "$2"
}

# --- web: nginx in one guest, wrk from dom0 and from another guest ---------

# static pages of 1 KiB and 100 KiB, nginx with one worker, logs in /tmp
BENCH_NGINX_CONF='worker_processes 1; user root; pid /tmp/nginx.pid; error_log /tmp/nginx-error.log;
events { worker_connections 256; }
http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000; default_type text/html;
  client_body_temp_path /tmp/nginx-body; proxy_temp_path /tmp/nginx-proxy;
  fastcgi_temp_path /tmp/nginx-fcgi; uwsgi_temp_path /tmp/nginx-uwsgi; scgi_temp_path /tmp/nginx-scgi;
  server { listen 80; root /tmp/www; } }'

bench_nginx_up() {
    xr_guest_run "$1" -t 30 "mkdir -p /tmp/www /var/log/nginx /var/lib/nginx &&
        head -c 1024 /dev/zero | tr '\\0' x >/tmp/www/1k.html &&
        head -c 102400 /dev/zero | tr '\\0' x >/tmp/www/100k.html &&
        printf '%s\\n' '$BENCH_NGINX_CONF' >/tmp/nginx.conf &&
        { [ -f /tmp/nginx.pid ] || nginx -c /tmp/nginx.conf; } && sleep 0.5 &&
        wget -q -O - http://127.0.0.1/1k.html | wc -c" | grep -qx 1024
}

# bench_wrk_parse: wrk --latency output on stdin -> "rps p50 p75 p90 p99
# socket_errors" (latencies in ms); nothing when there were no requests or a
# response was not 2xx/3xx
bench_wrk_parse() {
    awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
                          if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v }
         /^Requests\/sec:/ { rps = $2 }
         /Non-2xx/ { bad = 1 }
         /Socket errors:/ { gsub(/,/, ""); err = $4 + $6 + $8 + $10 }
         $1 == "50%" { p50 = ms($2) } $1 == "75%" { p75 = ms($2) }
         $1 == "90%" { p90 = ms($2) } $1 == "99%" { p99 = ms($2) }
         END { if (rps > 0 && !bad && p99 != "") printf "%s %.3f %.3f %.3f %.3f %d\n", rps, p50, p75, p90, p99, err }'
}

# bench_web PATH SERVER CLIENT_GUEST: wrk from dom0 and from CLIENT_GUEST
# against nginx in SERVER, both pages
bench_web() {
    local path=$1 server=$2 client=$3 url out res from page k
    command -v wrk >/dev/null || return 0
    if ! bench_nginx_up "$server"; then
        bench_fail "nginx did not serve in $server ($path)"
        return 1
    fi
    for from in dom0 "$client"; do
        for page in 1k 100k; do
            # the port spelt out: the rootfs has no /etc/services for "http"
            url="http://$(xr_ip "$server"):80/$page.html"
            local cmd="wrk -t1 -c8 -d${BENCH_WRK_SECS}s --latency $url"
            if [ "$from" = dom0 ]; then
                # shellcheck disable=SC2086 # the words of the command
                out=$(timeout $((BENCH_WRK_SECS + 30)) $cmd 2>&1)
            else
                out=$(xr_guest_run "$from" -t $((BENCH_WRK_SECS + 30)) "$cmd" 2>&1)
            fi
            echo "--- wrk $from -> $server $page ($path)" >&2
            echo "$out" >&2
            res=$(echo "$out" | bench_wrk_parse)
            k=web_$([ "$from" = dom0 ] && echo dom0 || echo guest)_$page
            if [ -z "$res" ]; then
                bench_fail "wrk $from -> $server $page ($path) failed or had errors"
                continue
            fi
            # shellcheck disable=SC2086 # the figures, one a word
            set -- $res
            bench_raw "$path" "${k}_rps" "$1"
            bench_raw "$path" "${k}_p50_ms" "$2"
            bench_raw "$path" "${k}_p75_ms" "$3"
            bench_raw "$path" "${k}_p90_ms" "$4"
            bench_raw "$path" "${k}_p99_ms" "$5"
            bench_raw "$path" "${k}_socket_errors" "$6"
        done
    done
}

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

# bench_iperf PATH NAME SRC DST: NAME_mbps and NAME_cpu_s_per_gb (dom0 CPU
# seconds per gigabyte received, the bytes from the receiver's rate, as the
# hypervisor accounts dom0's vCPUs: xl list), and the same from dom0's own
# /proc/stat as NAME_cpu_s_per_gb_procstat (which misses the softirq work
# the kernel's backend does from the idle task); NAME_retransmits (the
# sender's TCP retransmits) and NAME_peak_mbps (the best second), which tell
# a transfer slowed by losses, or held slow from its start, from the others
bench_iperf() {
    local path=$1 name=$2 c0 c1 x0 x1 v
    c0=$(bench_cpu_ticks); x0=$(xr_dom_cpu 0)
    if ! v=$(xr_iperf "$3" "$4" "$BENCH_SECS"); then
        bench_fail "iperf3 $3 -> $4 ($path) failed"
        return 1
    fi
    c1=$(bench_cpu_ticks); x1=$(xr_dom_cpu 0)
    bench_raw "$path" "${name}_mbps" "$v"
    bench_raw "$path" "${name}_retransmits" "$(xr_iperf_retr)"
    bench_raw "$path" "${name}_peak_mbps" "$(xr_iperf_peak)"
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

# Shared by scenarios that compare guest-to-guest paths (not a scenario
# itself: no NN- prefix): where the emulated CPU goes during a transfer.
# Under QEMU TCG with thread=single every domain runs on one host thread, so
# a path's throughput is bounded by its CPU seconds per byte, summed over
# every domain that works for it (dom0, sender, receiver).
# shellcheck shell=bash

# xp_cpu_times: "ID SECONDS" for every domain (xl list, CPU time so far).
xp_cpu_times() { xl list 2>/dev/null | awk 'NR > 1 { print $2, $NF }'; }

# xp_cpu_iperf PREFIX SRC DST SECONDS: one iperf3 SRC -> DST with every
# domain's CPU time read before and after; records PREFIX_cpu_mbps and the
# CPU seconds per GB moved (10^9 bytes at the receiver's rate):
# PREFIX_cpu_s_per_gb_dom0, _guests (SRC + DST), _others (every other
# domain, idle), _total (all of them); then the same time with SRC only
# sleeping: PREFIX_dom0_harness_s and PREFIX_cpu_s_per_gb_dom0_net (dom0's
# CPU per GB less the harness's).  Prints nothing; false when iperf3
# failed.
xp_cpu_iperf() {
    local p=$1 src=$2 dst=$3 secs=$4 before after mbps ds dd
    ds=$(xr_guest_domid "$src") && dd=$(xr_guest_domid "$dst") || return 1
    # Files, not process substitution: dom0 has no /dev/fd.
    before=$XR_RUN/cpu-before.$p after=$XR_RUN/cpu-after.$p
    xp_cpu_times >"$before"
    mbps=$(xr_iperf "$src" "$dst" "$secs") || return 1
    xp_cpu_times >"$after"
    xr_metric "${p}_cpu_mbps" "$mbps"
    local line i
    # awk joins the two snapshots by domain id; the GB count is rate x time.
    line=$(awk -v ds="$ds" -v dd="$dd" -v mbps="$mbps" -v secs="$secs" '
        FNR == NR { t0[$1] = $2; next }
        ($1 in t0) { d = $2 - t0[$1]
                     if ($1 == 0) dom0 += d; else if ($1 == ds || $1 == dd) g += d; else o += d }
        END { gb = mbps * secs / 8000; if (gb <= 0) exit 1
              printf "dom0 %.2f guests %.2f others %.2f total %.2f\n",
                     dom0 / gb, g / gb, o / gb, (dom0 + g + o) / gb }' \
        "$before" "$after") || return 1
    read -ra line <<<"$line"
    for ((i = 0; i + 1 < ${#line[@]}; i += 2)); do
        xr_metric "${p}_cpu_s_per_gb_${line[i]}" "${line[i + 1]}"
    done
    # What dom0 spends on the harness alone (xl list, the command's xenstore
    # round trips) in a transfer's time: the same command form, sleeping.
    # Subtracted, it leaves dom0's share of the path itself.
    local idle0=$XR_RUN/cpu-idle0.$p idle1=$XR_RUN/cpu-idle1.$p d0 d1 i0 i1
    xp_cpu_times >"$idle0"
    xr_guest_run "$src" -t $((secs + 30)) sleep "$secs" >/dev/null 2>&1 || true
    xp_cpu_times >"$idle1"
    d0=$(awk '$1 == 0 { print $2 }' "$before"); d1=$(awk '$1 == 0 { print $2 }' "$after")
    i0=$(awk '$1 == 0 { print $2 }' "$idle0"); i1=$(awk '$1 == 0 { print $2 }' "$idle1")
    xr_metric "${p}_dom0_harness_s" "$(awk -v a="$i0" -v b="$i1" 'BEGIN { printf "%.2f", b - a }')"
    xr_metric "${p}_cpu_s_per_gb_dom0_net" "$(awk -v a="$d0" -v b="$d1" -v i="$i0" -v j="$i1" \
        -v mbps="$mbps" -v secs="$secs" 'BEGIN { gb = mbps * secs / 8000; n = (b - a) - (j - i)
            if (n < 0) n = 0; if (gb > 0) printf "%.2f", n / gb }')"
}

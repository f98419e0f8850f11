#!/bin/bash
# Plots the rig benchmark (build/xen/bench.json, tools/bench/rig-bench.sh):
# grouped bars of the medians, xnv beside the kernel's paths: throughput
# dom0<->guest and guest<->guest, RTT, dom0 CPU per GB, nginx requests/s
# and p99 latency under wrk.
#   tools/bench/plot-rig.sh build/xen/bench.json build/bench/rig.png
set -euo pipefail
json=$1 png=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 "$(dirname "$0")/rig-summary.py" --plot-data "$json" "$dir"
title=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print("xnv on the real-Xen rig (Xen 4.17 under QEMU TCG): medians of %d runs, iperf3 %g s, wrk %g s, %s"
      % (d["runs"], d["iperf_seconds"], d["wrk_seconds"], d["started"]))' "$json")
# panel FILE COLUMNS: the plot command of one panel, or an empty panel that
# says so when FILE holds no figure (a path not measured in this run)
panel() {
    if awk 'NR > 1 { gsub(/"[^"]*"/, ""); for (i = 1; i <= NF; i++) if ($i != "NaN") found = 1 }
             END { exit !found }' "$dir/$1"; then
        echo "plot for [i=2:$2] \"$dir/$1\" using i:xtic(1) title columnheader(i)"
    else
        echo "set label 1 \"not measured in this run\" at graph 0.5,0.5 center; plot [0:1] [0:1] NaN notitle; unset label 1"
    fi
}
gnuplot <<GP
set terminal pngcairo size 1500,1050 font "sans,9"
set output "$png"
set datafile missing "NaN"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key below font ",8" noenhanced
set yrange [0:*]
set xtics noenhanced
set multiplot layout 2,3 title "$title" noenhanced
set title "dom0 <-> guest, iperf3 TCP"
set ylabel "Mbit/s"
$(panel dom0.dat 4)
set title "guest <-> guest, iperf3 TCP (A to B, B to A)"
$(panel g2g.dat 4)
set title "ping RTT (dom0 to guest; guest to guest)"
set ylabel "ms"
set xtics font ",7"
$(panel rtt.dat 2)
set xtics font ",9"
set title "dom0 CPU seconds per GB received"
set ylabel "s / GB"
$(panel cpu.dat 7)
set title "nginx under wrk (1 thread, 8 connections): requests/s"
set ylabel "requests/s"
$(panel web-rps.dat 3)
set title "nginx under wrk: 99th percentile latency"
set ylabel "ms"
$(panel web-p99.dat 3)
unset multiplot
GP
echo "wrote $png"

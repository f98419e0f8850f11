#!/bin/bash
# Plots the simulated-hypervisor benchmark (xnv-bench --json output):
# throughput by frame size for each direction and queue count, and the same
# as a ratio to the bound the path's copies impose.
#   tools/bench/plot-sim.sh build/bench/sim.json build/bench/sim.png
set -euo pipefail
json=$1 png=$2
dat=$(mktemp)
trap 'rm -f "$dat"' EXIT
# one block per (direction, queues): frame_bytes gbps ratio mpps
python3 - "$json" >"$dat" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
keys = sorted({(r["direction"], r["queues"]) for r in d["results"]})
for di, q in keys:
    print(f'"{di.replace("_", " ")}, {q} queue{"s" if q > 1 else ""}"')
    for r in sorted((r for r in d["results"] if (r["direction"], r["queues"]) == (di, q)),
                    key=lambda r: r["frame_bytes"]):
        print(r["frame_bytes"], r["gbps"], r["ratio_to_bound"], r["mpps"])
    print("\n")
PY
bound=$(python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
print('largest %s Gbit/s; handed between two CPUs %s; load average %s'
      % (d['memcpy_gbps'], d.get('handoff_gbps', '?'), d.get('loadavg_before', '?')))" "$json")
gnuplot <<GP
set terminal pngcairo size 1200,480 font "sans,10"
set output "$png"
set multiplot layout 1,2 title "xnv-bench over the simulated hypervisor (single-core memcpy measured around each case: $bound)"
set logscale x 2
set xtics ("64 B" 64, "1514 B" 1514, "64 KiB GSO" 65000)
set xrange [40:100000]
set key top left
set grid
set title "throughput"
set ylabel "Gbit/s"
plot for [i=0:*] "$dat" index i using 1:2 with linespoints lw 2 title columnheader(1)
set title "share of the bound its copies impose"
set ylabel "ratio to memcpy / copies per frame"
set yrange [0:*]
plot for [i=0:*] "$dat" index i using 1:3 with linespoints lw 2 title columnheader(1)
unset multiplot
GP
echo "wrote $png"

#!/bin/bash
# Instructions per packet of the data path under callgrind: xnv-bench
# --packets counts a fixed number of frames (one queue) and callgrind's
# statistics cover exactly that window (zeroed before it, dumped after it).
# For 64 B and 64 KiB GSO frames, guest->backend and backend->guest, the
# whole process (both engines, the simulated hypervisor, the in-memory port)
# and the inclusive cost of the protocol core's functions, each divided by the
# frames moved in the window.
#   tools/bench/callgrind.sh [OUT_JSON]      (default build/bench/callgrind.json)
# Environment: XNV_CALLGRIND_PACKETS_SMALL (64 B frames, default 20000),
# XNV_CALLGRIND_PACKETS_GSO (64 KiB frames, default 2000), XNV_BENCH_BIN.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$TOP/build/bench/callgrind.json}
BIN=${XNV_BENCH_BIN:-$TOP/build/bin/xnv-bench}
W=$TOP/build/bench/callgrind
[ -x "$BIN" ] || { echo "callgrind.sh: $BIN not built (make)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed" >&2; exit 1; }
rm -rf "$W"
mkdir -p "$W" "$(dirname "$OUT")"

cases=()
for dir in g2b b2g; do
    for size in 64 65000; do
        n=${XNV_CALLGRIND_PACKETS_SMALL:-20000}
        [ "$size" = 64 ] || n=${XNV_CALLGRIND_PACKETS_GSO:-2000}
        c=$dir-$size
        echo "callgrind: $c, $n frames" >&2
        valgrind -q --tool=callgrind --callgrind-out-file="$W/$c.out" \
            "$BIN" --packets "$n" --sizes "$size" --directions "$dir" --queues 1 --seconds 0.05 --json \
            >"$W/$c.json" 2>"$W/$c.log" || { tail "$W/$c.log" >&2; exit 1; }
        # the window's dump (.1); the final dump at exit is the whole run
        callgrind_annotate --inclusive=yes --threshold=100 "$W/$c.out.1" >"$W/$c.txt" 2>/dev/null
        cases+=("$c")
    done
done

python3 - "$W" "$OUT" "${cases[@]}" <<'PY'
import json, re, sys
w, out, cases = sys.argv[1], sys.argv[2], sys.argv[3:]
# the protocol core and what surrounds it, by source file and function
FUNCS = {
    "netback TX batch (read + grant copy + respond)": "netback/tx.c:nb_tx_batch",
    "TX read (ring parsing)": "libxnv/proto/tx_read.c:xnv_tx_read",
    "TX copy list": "netback/tx.c:nb_tx_add_copies",
    "TX responses": "libxnv/proto/tx_respond.c:xnv_tx_respond",
    "netback RX batch (placement + grant copy)": "netback/rx.c:nb_rx_batch",
    "RX placement": "libxnv/proto/rx_place.c:xnv_rx_place_sg",
    "grant copy (simulated hypervisor)": "libxnv/sim/sim_gnt_copy.c:sim_gnt_copy",
    "netfront send": "netfront/nf_data.c:xnv_nf_send",
    "netfront recv": "netfront/nf_data.c:xnv_nf_recv",
    "in-memory port send": "libxnv/sim/memport.c:mp_send",
    "in-memory port recv": "libxnv/sim/memport.c:mp_recv",
}
line = re.compile(r"^\s*([\d,]+) \([\s\d.]+%\)\s+(\S+?):(\S+) \[")
res = []
for c in cases:
    bench = json.load(open(f"{w}/{c}.json"))["results"][0]
    frames = bench["frames"]
    total, incl = None, {}
    for l in open(f"{w}/{c}.txt"):
        if "PROGRAM TOTALS" in l:
            total = int(l.split()[0].replace(",", ""))
        m = line.match(l)
        if m:
            f = re.sub(r"^.*?/(libxnv|netback|netfront|tools)/", r"\1/", m.group(2))
            key = f"{f}:{m.group(3)}"
            incl[key] = incl.get(key, 0) + int(m.group(1).replace(",", ""))
    res.append({
        "direction": bench["direction"], "frame_bytes": bench["frame_bytes"], "queues": 1,
        "frames": frames,
        "ir_per_packet": round(total / frames, 1),
        "ir_per_packet_by_function": {k: round(incl[v] / frames, 1) for k, v in FUNCS.items() if v in incl},
    })
json.dump({"what": "callgrind instructions (Ir) per frame over a fixed count of frames, one queue, "
                   "whole process and inclusive per function", "cases": res}, open(out, "w"), indent=1)
print(f"{'case':24} {'frames':>7} {'Ir/frame':>10}  top functions (inclusive Ir/frame)")
for r in res:
    top = sorted(r["ir_per_packet_by_function"].items(), key=lambda kv: -kv[1])[:3]
    print(f"{r['direction'] + ' ' + str(r['frame_bytes']):24} {r['frames']:7} {r['ir_per_packet']:10.0f}  " +
          ", ".join(f"{k} {v:.0f}" for k, v in top))
PY
echo "callgrind: wrote $OUT" >&2

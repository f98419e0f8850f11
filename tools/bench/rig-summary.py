#!/usr/bin/env python3
"""The rig benchmark's figures: medians over runs and the ratio of each pair.

  rig-summary.py --raw raw.tsv --results results.json [run info] > bench.json
  rig-summary.py --table bench.json           a text table of the medians
  rig-summary.py --plot-data bench.json DIR   gnuplot data files for plot-rig.sh
  rig-summary.py --markdown bench.json        Markdown tables of the medians and ratios

raw.tsv (tests/xen/bench/bench-lib.sh): run, path, metric, value per line.
"""
import argparse
import json
import os
import statistics
import sys

PATHS = {
    "kernel_stock": "kernel netback + stock netfront",
    "xnv_stock": "xnv-netbackd + stock netfront",
    "kernel_xnvfront": "kernel netback + xnv-netfront",
    "bridged": "kernel netback, bridged guest to guest",
    "tier1": "xnv-netbackd switch fast path (tier 1)",
    "tier2": "xnv-netfront direct channel (tier 2)",
}
SHORT = {"kernel_stock": "kernel+stock", "xnv_stock": "xnvd+stock", "kernel_xnvfront": "kernel+xnvf",
         "bridged": "bridged", "tier1": "tier 1", "tier2": "tier 2"}
# (name, path a, path b, metrics): ratio a / b for each metric
PAIRS = [
    ("netback: xnv-netbackd / kernel netback (stock guest)", "xnv_stock", "kernel_stock", "dom0"),
    ("netfront: xnv-netfront / stock netfront (kernel netback)", "kernel_xnvfront", "kernel_stock", "dom0"),
    ("guest to guest: tier 1 / bridged", "tier1", "bridged", "g2g"),
    ("guest to guest: tier 2 / bridged", "tier2", "bridged", "g2g"),
    ("guest to guest: tier 2 / tier 1", "tier2", "tier1", "g2g"),
]
METRICS = {
    "dom0": ["dom0_to_guest_mbps", "guest_to_dom0_mbps", "rtt_ms",
             "dom0_to_guest_cpu_s_per_gb", "guest_to_dom0_cpu_s_per_gb"],
    "g2g": ["guest_to_guest_mbps", "guest_to_guest_reverse_mbps", "rtt_ms",
            "guest_to_guest_cpu_s_per_gb", "guest_to_guest_reverse_cpu_s_per_gb"],
}
WEB_CASES = ["web_dom0_1k", "web_dom0_100k", "web_guest_1k", "web_guest_100k"]
WEB_FIELDS = ["rps", "p50_ms", "p75_ms", "p90_ms", "p99_ms", "socket_errors"]


def num(v):
    try:
        f = float(v)
    except ValueError:
        return None
    return f if f == f else None   # NaN: no figure


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def load_samples(path):
    """[[UTC time, 1-minute load average], ...] sampled while the rig ran."""
    if not path or not os.path.exists(path):
        return []
    return [[t, float(v)] for t, v in (l.split() for l in open(path) if len(l.split()) == 2)]


def summarize(args):
    runs = {}      # path -> metric -> {run: value}
    notes = {}     # path -> text (unavailable paths, errors)
    with open(args.raw) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4:
                continue
            run, path, metric, value = parts
            v = num(value)
            if v is None:
                notes.setdefault(path, []).append(value if metric == "unavailable" else
                                                  f"run {run}: {metric}: {value}")
                continue
            runs.setdefault(path, {}).setdefault(metric, {})[int(run)] = v
    scen = []
    if args.results and os.path.exists(args.results):
        for s in json.load(open(args.results)).get("scenarios", []):
            scen.append({"name": s["name"], "pass": s["pass"], "reason": s["reason"]})

    def med(path, metric):
        vals = list(runs.get(path, {}).get(metric, {}).values())
        return statistics.median(vals) if vals else None

    out = {
        "what": "real-Xen rig (Xen 4.17 under QEMU TCG): iperf3 TCP one stream (receiver Mbit/s), "
                "mean ping RTT, dom0 busy CPU seconds (/proc/stat) per GB received, wrk requests/s "
                "and latency percentiles; medians over runs, ratios taken within this one boot",
        "started": args.started, "runs": args.runs, "iperf_seconds": args.iperf_seconds,
        "wrk_seconds": args.wrk_seconds,
        "host_load": {"before": args.load_before, "after": args.load_after,
                      "during": load_samples(args.load_samples)},
        "scenarios": scen, "paths": {}, "pairs": [], "web": {}, "notes": notes,
    }
    for path, label in PATHS.items():
        m = runs.get(path)
        if not m:
            out["paths"][path] = {"label": label, "available": False,
                                  "reason": "; ".join(notes.get(path, ["not measured"]))}
            continue
        out["paths"][path] = {
            "label": label, "available": True,
            "metrics": {k: {"median": med(path, k), "runs": [m[k][r] for r in sorted(m[k])]}
                        for k in sorted(m) if not k.startswith("web_")},
        }
    for name, a, b, kind in PAIRS:
        pair = {"name": name, "a": a, "b": b, "ratios": {}}
        if not runs.get(a) or not runs.get(b):
            pair["available"] = False
            pair["reason"] = out["paths"][a if not runs.get(a) else b]["reason"]
        else:
            pair["available"] = True
            for k in METRICS[kind]:
                per_run = [ratio(runs[a][k][r], runs[b][k].get(r))
                           for r in sorted(runs[a].get(k, {})) if r in runs[b].get(k, {})]
                per_run = [x for x in per_run if x is not None]
                pair["ratios"][k] = {
                    "of_medians": ratio(med(a, k), med(b, k)),
                    "median_of_runs": round(statistics.median(per_run), 3) if per_run else None,
                }
        out["pairs"].append(pair)
    for path in ("kernel", "xnv"):
        m = runs.get(path, {})
        out["web"][path] = {c: {f: med(path, f"{c}_{f}") for f in WEB_FIELDS} for c in WEB_CASES
                            if f"{c}_rps" in m}
        out["web"][path + "_runs"] = {k: [m[k][r] for r in sorted(m[k])] for k in sorted(m)}
    out["web"]["setup"] = {
        "server": "nginx, one worker, static 1 KiB and 100 KiB pages, in a stock guest (1 vCPU)",
        "client": "wrk -t1 -c8 --latency, from dom0 and from a second stock guest",
        "kernel": "kernel netback; guest to guest over the bridge xenbr0",
        "xnv": "xnv-netbackd --fastpath xenbr0; dom0 through the TAP and the bridge, "
               "guest to guest through the switch fast path (tier 1)",
    }
    out["web"]["ratio_xnv_to_kernel"] = {
        c: {f: ratio(out["web"]["xnv"].get(c, {}).get(f), out["web"]["kernel"].get(c, {}).get(f))
            for f in ("rps", "p50_ms", "p99_ms")}
        for c in WEB_CASES}
    if "web" in notes:
        out["web"]["unavailable"] = "; ".join(notes["web"])
    json.dump(out, sys.stdout, indent=1)
    print()


def fmt(v, w=9):
    return f"{v:{w}.2f}" if isinstance(v, (int, float)) else f"{'-':>{w}}"


def table(path):
    d = json.load(open(path))
    during = [v for _, v in d["host_load"].get("during", [])]
    print(f"rig benchmark, {d['runs']} runs, iperf3 {d['iperf_seconds']} s, medians "
          f"(host load before {d['host_load']['before']}, after {d['host_load']['after']}" +
          (f", while the rig ran {min(during)}-{max(during)})" if during else ")"))
    print(f"{'path':42} {'d0->g':>9} {'g->d0':>9} {'g->g':>9} {'g<-g':>9} {'rtt ms':>9} "
          f"{'cpu s/GB':>9}")
    for p, info in d["paths"].items():
        if not info["available"]:
            print(f"{info['label'][:42]:42} not available: {info['reason']}")
            continue
        m = {k: v["median"] for k, v in info["metrics"].items()}
        cpu = m.get("dom0_to_guest_cpu_s_per_gb", m.get("guest_to_guest_cpu_s_per_gb"))
        print(f"{info['label'][:42]:42} {fmt(m.get('dom0_to_guest_mbps'))} {fmt(m.get('guest_to_dom0_mbps'))} "
              f"{fmt(m.get('guest_to_guest_mbps'))} {fmt(m.get('guest_to_guest_reverse_mbps'))} "
              f"{fmt(m.get('rtt_ms'))} {fmt(cpu)}")
    print("ratios (of medians):")
    for pr in d["pairs"]:
        if not pr["available"]:
            print(f"  {pr['name']}: not available")
            continue
        print(f"  {pr['name']}: " + ", ".join(f"{k} {fmt(v['of_medians'], 0)}" for k, v in pr["ratios"].items()))
    for p in ("kernel", "xnv"):
        for c, f in d["web"].get(p, {}).items():
            print(f"  web {p:6} {c:15} {fmt(f['rps'])} req/s  p50 {fmt(f['p50_ms'], 0)} ms  "
                  f"p99 {fmt(f['p99_ms'], 0)} ms")


def markdown(path):
    """The medians and ratios as Markdown tables (for the README)."""
    d = json.load(open(path))

    def f(v, nd=0):
        return "" if v is None else f"{v:.{nd}f}"
    print("| path | dom0→guest | guest→dom0 | guest→guest (A→B / B→A) | RTT ms | dom0 CPU s/GB |")
    print("|---|---|---|---|---|---|")
    for p, info in d["paths"].items():
        if not info["available"]:
            print(f"| {info['label']} | not available: {info['reason']} | | | | |")
            continue
        m = {k: v["median"] for k, v in info["metrics"].items()}
        if "guest_to_guest_mbps" in m:
            cpu = " / ".join(f(m.get(k), 1) for k in ("guest_to_guest_cpu_s_per_gb",
                                                      "guest_to_guest_reverse_cpu_s_per_gb"))
            g2g = f"{f(m.get('guest_to_guest_mbps'))} / {f(m.get('guest_to_guest_reverse_mbps'))}"
            print(f"| {info['label']} | | | {g2g} | {f(m.get('rtt_ms'), 2)} | {cpu} |")
        else:
            cpu = " / ".join(f(m.get(k), 1) for k in ("dom0_to_guest_cpu_s_per_gb", "guest_to_dom0_cpu_s_per_gb"))
            print(f"| {info['label']} | {f(m.get('dom0_to_guest_mbps'))} | {f(m.get('guest_to_dom0_mbps'))} | | "
                  f"{f(m.get('rtt_ms'), 2)} | {cpu} |")
    print()
    print("| ratio (of medians) | one way | other way | RTT | CPU/GB one way | CPU/GB other way |")
    print("|---|---|---|---|---|---|")
    for pr in d["pairs"]:
        if not pr["available"]:
            print(f"| {pr['name']} | not available | | | | |")
            continue
        r = [v["of_medians"] for v in pr["ratios"].values()]
        print(f"| {pr['name']} | " + " | ".join(f(x, 2) for x in r) + " |")
    web = d.get("web", {})
    if web.get("kernel") or web.get("xnv"):
        print()
        print("| nginx under wrk | kernel req/s | xnv req/s | ratio | kernel p50 / p99 ms | xnv p50 / p99 ms |")
        print("|---|---|---|---|---|---|")
        for c in WEB_CASES:
            k, x = web.get("kernel", {}).get(c, {}), web.get("xnv", {}).get(c, {})
            rr = web.get("ratio_xnv_to_kernel", {}).get(c, {}).get("rps")
            print(f"| {c.replace('web_', '').replace('_', ' ')} | {f(k.get('rps'))} | {f(x.get('rps'))} | {f(rr, 2)} | "
                  f"{f(k.get('p50_ms'), 1)} / {f(k.get('p99_ms'), 1)} | {f(x.get('p50_ms'), 1)} / {f(x.get('p99_ms'), 1)} |")


def plot_data(path, outdir):
    """One file per panel: rows of clusters, columns of bars (NaN: missing)."""
    d = json.load(open(path))

    def m(p, k):
        info = d["paths"].get(p, {})
        v = info.get("metrics", {}).get(k, {}).get("median") if info.get("available") else None
        return "NaN" if v is None else f"{v:.4g}"

    def write(name, header, rows):
        with open(os.path.join(outdir, name), "w") as f:
            f.write(" ".join(f'"{h}"' for h in header) + "\n")
            for r in rows:
                f.write(" ".join(f'"{c}"' if i == 0 else c for i, c in enumerate(r)) + "\n")

    dom0 = ["kernel_stock", "xnv_stock", "kernel_xnvfront"]
    g2g = ["bridged", "tier1", "tier2"]
    write("dom0.dat", ["case"] + [d["paths"][p]["label"] for p in dom0],
          [[c] + [m(p, k) for p in dom0] for c, k in
           (("dom0 to guest", "dom0_to_guest_mbps"), ("guest to dom0", "guest_to_dom0_mbps"))])
    write("g2g.dat", ["case"] + [d["paths"][p]["label"] for p in g2g],
          [[c] + [m(p, k) for p in g2g] for c, k in
           (("A to B", "guest_to_guest_mbps"), ("B to A", "guest_to_guest_reverse_mbps"))])
    allp = dom0 + g2g
    write("rtt.dat", ["path", "RTT"], [[SHORT[p], m(p, "rtt_ms")] for p in allp])
    write("cpu.dat", ["case"] + [d["paths"][p]["label"] for p in dom0 + g2g],
          [["dom0 to guest"] + [m(p, "dom0_to_guest_cpu_s_per_gb") for p in dom0] + ["NaN"] * 3,
           ["guest to dom0"] + [m(p, "guest_to_dom0_cpu_s_per_gb") for p in dom0] + ["NaN"] * 3,
           ["guest to guest"] + ["NaN"] * 3 + [m(p, "guest_to_guest_cpu_s_per_gb") for p in g2g]])
    web = d.get("web", {})
    for f, name in (("rps", "web-rps.dat"), ("p99_ms", "web-p99.dat")):
        rows = []
        for c in WEB_CASES:
            vals = [web.get(p, {}).get(c, {}).get(f) for p in ("kernel", "xnv")]
            rows.append([c.replace("web_", "").replace("_", " ")] +
                        ["NaN" if v is None else f"{v:.4g}" for v in vals])
        write(name, ["case", "kernel netback", "xnv-netbackd"], rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw")
    ap.add_argument("--results")
    ap.add_argument("--runs", type=int, default=0)
    ap.add_argument("--iperf-seconds", type=float, default=0)
    ap.add_argument("--wrk-seconds", type=float, default=0)
    ap.add_argument("--started", default="")
    ap.add_argument("--load-before", default="")
    ap.add_argument("--load-after", default="")
    ap.add_argument("--load-samples")
    ap.add_argument("--table")
    ap.add_argument("--plot-data", nargs=2, metavar=("JSON", "DIR"))
    ap.add_argument("--markdown")
    a = ap.parse_args()
    if a.table:
        table(a.table)
    elif a.markdown:
        markdown(a.markdown)
    elif a.plot_data:
        plot_data(*a.plot_data)
    elif a.raw:
        summarize(a)
    else:
        ap.error("give --raw, --table or --plot-data")


if __name__ == "__main__":
    main()

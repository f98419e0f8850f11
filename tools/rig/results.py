#!/usr/bin/env python3
"""Rig results: assemble build/xen/results.json, print summaries and tables.

  results.py assemble OUT.json LOGDIR SCENARIO...
      Reads LOGDIR/out/results.jsonl (the job disk) and the XNV-RESULT lines
      of LOGDIR/console.log (in case the job disk did not come back), keeps
      the last record of each expected scenario, and marks every scenario
      without a record as failed, with the reason from LOGDIR/boot-status.
      Exit status 0 only when every scenario passed.
  results.py merge OUT.json PART.json... -- SCENARIO...
      One results.json from the results of several boots of one run (one
      per TCG mode), in the order of the scenarios named.
  results.py table RESULTS.json
      The comparison table: one row per scenario that measured any of the
      shared metrics, labelled by its "path"; then each fast path beside the
      bridged path measured in the same boot, with the ratios (a pair of
      columns that no row measured is left out; a scenario with several
      pairs gives a row for each PREFIX_guest_to_guest_mbps).
  results.py summary RESULTS.json
      One line for the run (how many scenarios worked), then one per
      scenario that did not, with its reason (the demo tour's last word).
"""
import json
import os
import re
import sys

SHARED = [
    ("dom0_to_guest_mbps", "dom0->guest"),
    ("guest_to_dom0_mbps", "guest->dom0"),
    ("guest_to_guest_mbps", "guest<->guest"),
    ("rtt_ms", "RTT ms"),
]


def read_records(logdir):
    """Records from the job disk, then those from the console."""
    recs = []
    jl = os.path.join(logdir, "out", "results.jsonl")
    if os.path.exists(jl):
        with open(jl, errors="replace") as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        recs.append(("disk", json.loads(line)))
                    except ValueError:
                        pass
    con = os.path.join(logdir, "console.log")
    if os.path.exists(con):
        with open(con, errors="replace") as f:
            for line in f:
                m = re.search(r"XNV-RESULT (\{.*\})\s*$", line)
                if m:
                    try:
                        recs.append(("console", json.loads(m.group(1))))
                    except ValueError:
                        pass
    return recs


def started(logdir):
    """Names of the scenarios dom0 started, from the console."""
    names = set()
    con = os.path.join(logdir, "console.log")
    if os.path.exists(con):
        with open(con, errors="replace") as f:
            for line in f:
                m = re.search(r"XNV-PROGRESS scenario (\S+): start", line)
                if m:
                    names.add(m.group(1))
    return names


def boot_status(logdir):
    st = {}
    p = os.path.join(logdir, "boot-status")
    if os.path.exists(p):
        with open(p) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("=")
                st[k] = v
    return st


def assemble(out, logdir, names):
    found = {"disk": {}, "console": {}}
    for src, r in read_records(logdir):
        if isinstance(r, dict) and r.get("name") in names:
            found[src][r["name"]] = r      # a scenario's last record counts
    # the job disk's copy wins; the console's copy covers a lost job disk
    by_name = dict(found["console"], **found["disk"])
    st = boot_status(logdir)
    why = st.get("reason") or "the rig did not run"
    began = started(logdir)
    scenarios = []
    for n in names:
        r = by_name.get(n)
        if r is None:
            state = "did not finish" if n in began else "did not run"
            r = {"name": n, "pass": False, "reason": "%s: %s" % (state, why), "metrics": {}}
        r.setdefault("metrics", {})
        r["pass"] = r.get("pass") is True
        r.setdefault("reason", "")
        scenarios.append(r)
    return write(out, scenarios)


def write(out, scenarios):
    """results.json from the records, a line each on stdout; 0 when all passed."""
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"scenarios": scenarios}, f, indent=2)
        f.write("\n")
    os.replace(tmp, out)
    for r in scenarios:
        m = " ".join("%s=%s" % kv for kv in r["metrics"].items())
        print("  %-4s %-12s %s%s" % ("PASS" if r["pass"] else "FAIL", r["name"], r["reason"],
                                    ("  [" + m + "]") if m else ""))
    return 0 if scenarios and all(r["pass"] for r in scenarios) else 1


def merge(out, parts, names):
    """One results.json from the boots of one run, in the run's order."""
    by_name = {}
    for p in parts:
        try:
            with open(p) as f:
                for r in json.load(f).get("scenarios", []):
                    by_name[r.get("name")] = r
        except (OSError, ValueError):
            pass
    scenarios = [by_name.get(n) or {"name": n, "pass": False, "metrics": {},
                                    "reason": "its boot left no results"} for n in names]
    return write(out, scenarios)


def fmt(v, digits):
    if isinstance(v, (int, float)):
        return "%.*f" % (digits, v)
    return "-" if v is None else str(v)


def box(head, rows):
    """Print rows under head as a text table, first column left-aligned."""
    w = [max(len(x[i]) for x in rows + [head]) for i in range(len(head))]
    line = "+" + "+".join("-" * (x + 2) for x in w) + "+"
    cell = lambda c, i: c.ljust(w[i]) if i == 0 else c.rjust(w[i])
    print(line)
    print("| " + " | ".join(cell(h, i) for i, h in enumerate(head)) + " |")
    print(line)
    for row in rows:
        print("| " + " | ".join(cell(c, i) for i, c in enumerate(row)) + " |")
    print(line)


def ratio(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > 0:
        return "%.2fx" % (a / b)
    return "-"


# A fast-path scenario measures the bridged path through the kernel's netback
# in the same boot and records it under these names beside its own figures.
FAST_PAIRS = [
    ("guest_to_guest_mbps", "bridged_guest_to_guest_mbps", "Mbit/s", 0),
    ("guest_to_guest_reverse_mbps", "bridged_guest_to_guest_reverse_mbps", "Mbit/s back", 0),
    ("rtt_ms", "bridged_rtt_ms", "RTT ms", 2),
]


def fast_views(r):
    """(label, metrics) of each fast path a scenario measured beside a
    bridged path: its plain names, or each group PREFIX_guest_to_guest_mbps
    (a scenario with several pairs) beside PREFIX_bridged_* or else the
    plain bridged_*."""
    m = r.get("metrics", {})
    label = r.get("path") or r.get("name")
    end = "guest_to_guest_mbps"
    prefixes = [k[:-len(end)] for k in m
                if k.endswith("_" + end) and not k.endswith("bridged_" + end)]
    views = []
    for p in prefixes:
        v = {}
        for fast_k, bridged, _, _ in FAST_PAIRS:
            v[fast_k] = m.get(p + fast_k)
            v[bridged] = m.get(p + bridged, m.get(bridged))
        if any(v[b] is not None for _, b, _, _ in FAST_PAIRS):
            views.append(("%s: %s" % (label, p.rstrip("_")), v))
    if not views and any(b in m for _, b, _, _ in FAST_PAIRS):
        views.append((label, m))
    if not r.get("pass"):
        views = [(lb + " (FAILED)", v) for lb, v in views]
    return views


def fast_table(views):
    """Each fast path (fast_views) beside the bridged path of its own run,
    with ratios."""
    # the pairs some row measured (the demo tour measures one direction)
    pairs = [p for p in FAST_PAIRS
             if any(m.get(k) is not None for _, m in views for k in p[:2])]
    rows = []
    for label, m in views:
        row = [label]
        for fast_k, bridged, _, digits in pairs:
            row += [fmt(m.get(fast_k), digits), fmt(m.get(bridged), digits), ratio(m.get(fast_k), m.get(bridged))]
        rows.append(row)
    if not rows:
        return
    head = ["fast path"]
    for _, _, unit, _ in pairs:
        head += [unit, "bridged", "ratio"]
    print()
    print("Fast paths beside the bridged path (kernel netback + bridge, measured in the same boot);")
    print("ratio = fast / bridged; the goal is at least 3x the Mbit/s and at most 0.5x the RTT:")
    box(head, rows)


def table(path):
    with open(path) as f:
        data = json.load(f)
    scenarios = data.get("scenarios", [])
    rows = []
    for r in scenarios:
        m = r.get("metrics", {})
        if not any(k in m for k, _ in SHARED):
            continue
        label = r.get("path") or r.get("name")
        if not r.get("pass"):
            label += " (FAILED)"
        rows.append([label] + [fmt(m.get(k), 2 if k == "rtt_ms" else 0) for k, _ in SHARED])
    fast = [v for r in scenarios for v in fast_views(r)]
    if not rows and not fast:
        print("(no scenario measured the shared metrics)")
        return 1
    if rows:
        print("Mbit/s (iperf3 TCP, one stream, receiver rate) and mean ping RTT, under QEMU TCG:")
        box(["path"] + [h for _, h in SHARED], rows)
    fast_table(fast)
    return 0


def summary(path):
    """How many scenarios worked, and why each other one did not."""
    with open(path) as f:
        scenarios = json.load(f).get("scenarios", [])
    bad = [r for r in scenarios if not r.get("pass")]
    print("%d of %d worked%s" % (len(scenarios) - len(bad), len(scenarios), ":" if bad else "."))
    for r in bad:
        label = r.get("name", "?")
        if r.get("path"):
            label += " (%s)" % r["path"]
        print("  %s: %s" % (label, r.get("reason") or "no reason recorded"))
    return 0 if scenarios and not bad else 1


def main(argv):
    if len(argv) >= 4 and argv[1] == "assemble":
        return assemble(argv[2], argv[3], argv[4:])
    if len(argv) >= 3 and argv[1] == "merge" and "--" in argv:
        k = argv.index("--")
        return merge(argv[2], argv[3:k], argv[k + 1:])
    if len(argv) == 3 and argv[1] == "table":
        return table(argv[2])
    if len(argv) == 3 and argv[1] == "summary":
        return summary(argv[2])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Summarise a rig profile of the netback (tools/bench/rig-profile.sh).

Reads DIR/raw.tsv (run, backend, direction, metric, value) and the perf
reports DIR/report-RUN-BACKEND-DIRECTION.txt; prints a Markdown summary on
standard output and writes DIR/summary.json: per backend and direction the
medians over runs of the throughput, dom0 CPU per GB, and the costs per frame
(syscalls, context switches, interrupts, grant-copy calls), then where dom0's
busy time went by kind of work (perf samples), in CPU seconds per GB.
"""
import argparse
import json
import os
import re
import statistics
import sys

BACKENDS = ["kernel", "xnv"]   # and xnv-alt when the run had one
DIRECTIONS = (("rx", "dom0 -> guest"), ("tx", "guest -> dom0"))

# Kinds of work by symbol, first match wins; idle is left out of the busy time.
KINDS = [
    ("idle", r"hypercall_sched_op|safe_halt|default_idle|do_idle|cpuidle|xen_idle"),
    ("hypervisor: grant copy / map", r"hypercall_grant_table_op"),
    ("hypervisor: event channels", r"hypercall_event_channel_op|evtchn_2l|xen_send_IPI|hypercall_vcpu_op"),
    ("hypervisor: other", r"xen_hypercall|hypercall_page|xen_mc_flush|xen_iret"),
    ("data copies (kernel and user)", r"copy_user|memcpy|memmove|copy_page|copy_to_iter|copy_from_iter|"
                                      r"csum_partial_copy|skb_copy_bits|copyout|copyin|rep_movs"),
    ("page pinning (gntdev)", r"pin_user_pages|gup_|get_user_pages|follow_page|unpin_user|"
                              r"follow_pmd|follow_pte|internal_get_user|set_page_dirty|folio_mark_dirty"),
    ("checksums", r"csum_partial|do_csum|csum_ipv6|skb_checksum"),
    ("syscall entry and exit", r"entry_SYSCALL|syscall_exit|syscall_enter|do_syscall_64|__x64_sys_|"
                               r"xen_entry|exit_to_user|syscall_return|fpregs|restore_fpregs"),
    ("scheduler and wakeups", r"schedule|finish_task_switch|try_to_wake_up|pick_next|enqueue_|dequeue_|"
                              r"update_curr|update_load|select_task|ttwu|__wake_up|wake_up|futex"),
    ("poll / epoll", r"poll"),
    ("network stack (tcp, ip, bridge, skb)", r"tcp_|ip_|ipv6|__netif|netif_|napi|br_|skb|__dev_|dev_|"
                                             r"sock|inet|nf_|tun_|xenvif|gro|gso|__alloc_skb|kmem_cache|kfree|"
                                             r"page_frag|__kmalloc|__slab|slab|alloc_pages|free_pages|get_page"),
]


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def load_raw(path):
    data = {}
    errors = []
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 5:
                continue
            run, be, d, m, v = parts
            if m == "error":
                errors.append(f"run {run} {be} {d}: {v}")
                continue
            try:
                val = float(v)
            except ValueError:
                continue
            data.setdefault((be, d), {}).setdefault(m, {})[run] = val
    return data, errors


def run_values(data, be, d, fn):
    """fn(metrics of one run) for every run that has what fn needs: {run: value}."""
    m = data.get((be, d), {})
    runs = sorted({r for series in m.values() for r in series}, key=int)
    vals = {}
    for r in runs:
        one = {k: s[r] for k, s in m.items() if r in s}
        try:
            vals[r] = fn(one)
        except (KeyError, ZeroDivisionError, TypeError):
            pass
    return vals


def per_run(data, be, d, fn):
    """fn(metrics of one run) for every run, median."""
    return med(list(run_values(data, be, d, fn).values()))


def per_gb(count, one):
    """count per GB of the transfer that one run's metrics describe."""
    return count / (one["bytes"] / 1e9)


def frames(one, d):
    # the vif as dom0 sees it: its tx is towards the guest
    return one["vif_tx_packets"] if d == "rx" else one["vif_rx_packets"]


def frame_bytes(one, d):
    return one["vif_tx_bytes"] if d == "rx" else one["vif_rx_bytes"]


# A hypercall's samples land in its one entry (xen_hypercall_pv in a PV
# dom0): its caller says which.  xen_force_evtchn_callback is the hypercall
# that takes events that came while they were masked (an interrupt delayed by
# an irq-off section): the sample then belongs to the code that masked them.
HYPERCALL_CALLERS = [
    ("idle", r"xen_safe_halt|default_idle|cpu_idle|do_idle"),
    ("hypervisor: grant copy", r"gnttab_batch_copy|gntdev_copy"),
    ("hypervisor: grant map/unmap", r"gnttab_map|gnttab_unmap|gntdev_map|__gnttab|xenvif_tx_dealloc|unmap_refs"),
    ("hypervisor: event-channel send", r"evtchn_ioctl|notify_remote|xen_send_IPI|xenvif_.*notify|evtchn_send"),
    ("interrupts taken after an irq-off section", r"xen_force_evtchn_callback"),
    ("hypervisor: page tables and other", r"."),
]


def kind_of_sample(leaf, c1, c2):
    if leaf.startswith("xen_hypercall") or leaf == "hypercall_page":
        for name, rx in HYPERCALL_CALLERS:
            if re.search(rx, c1):
                return name
        return "hypervisor: page tables and other"
    return kind_of(leaf)


def kind_of(sym):
    for name, rx in KINDS:
        if re.search(rx, sym):
            return name
    return "other"


def profile(dirpath, be, d):
    """Median over runs of each kind's share of busy samples, the busiest
    processes and the top (symbol, caller) pairs, from the folded samples."""
    shares, comms, tops = {}, {}, {}
    nruns = 0
    for fn in sorted(os.listdir(dirpath)):
        if not re.match(rf"folded-(\d+)-{be}-{d}\.txt$", fn):
            continue
        rows = []
        with open(os.path.join(dirpath, fn)) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 5:
                    rows.append((int(parts[0]), parts[1], parts[2], parts[3], parts[4]))
        busy = sum(c for c, comm, l, c1, c2 in rows if kind_of_sample(l, c1, c2) != "idle")
        if busy <= 0:
            continue
        nruns += 1
        for c, comm, l, c1, c2 in rows:
            k = kind_of_sample(l, c1, c2)
            if k == "idle":
                continue
            shares[k] = shares.get(k, 0) + c / busy
            comms[comm] = comms.get(comm, 0) + c / busy
            key = f"{l} <- {c1}" if l.startswith("xen_hypercall") else l
            tops[key] = tops.get(key, 0) + c / busy
    if not nruns:
        return {}, [], []
    share = {k: v / nruns for k, v in shares.items()}
    top = sorted(((v / nruns, k) for k, v in tops.items()), reverse=True)[:10]
    comm = sorted(((v / nruns, k) for k, v in comms.items()), reverse=True)[:5]
    return share, top, comm


def ab_pairs(data, fn=lambda o: o["mbps"]):
    """Per direction: fn of each A/B round for each build, and the ratio
    alt / xnv of every round that has both."""
    out = {}
    for d, _ in DIRECTIONS:
        a = run_values(data, "ab-xnv", d, fn)
        b = run_values(data, "ab-xnv-alt", d, fn)
        runs = sorted(set(a) & set(b), key=int)
        if runs:
            out[d] = ([a[r] for r in runs], [b[r] for r in runs],
                      [b[r] / a[r] for r in runs if a[r] > 0])
    return out


# host CPU s and CR3 writes (thousands) per GB, from rig-hostcount.sh
def host_s_per_gb(o):
    return per_gb(o["host_task-clock"] / 1e3, o)


def cr3_k_per_gb(o):
    return per_gb(o["host_cpu_x86_update_cr3"] / 1e3, o)


def fmt(x, nd=2):
    if x is None:
        return "-"
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.{nd}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--rev", default="")
    ap.add_argument("--load", default="")
    ap.add_argument("--seconds", default="")
    ap.add_argument("--guest", default="pv")
    a = ap.parse_args()
    data, errors = load_raw(os.path.join(a.dir, "raw.tsv"))
    if ("xnv-alt", "rx") in data or ("xnv-alt", "tx") in data:
        BACKENDS.append("xnv-alt")
    names = {"kernel": "kernel netback", "xnv": "xnv-netbackd", "xnv-alt": "xnv-netbackd (alt)"}
    summary = {"rev": a.rev, "host_load": a.load, "iperf_seconds": a.seconds, "errors": errors, "paths": {}}

    rows = [
        ("throughput, Mbit/s", lambda o, d: o["mbps"]),
        ("dom0 CPU s/GB (xl list)", lambda o, d: o["xl_dom0_s_per_gb"]),
        ("dom0 CPU s/GB (/proc/stat busy)", lambda o, d: o["cpu_s_per_gb"]),
        ("guest CPU s/GB (xl list)", lambda o, d: o["xl_guest_s_per_gb"]),
        ("bytes per frame on the vif", lambda o, d: frame_bytes(o, d) / frames(o, d)),
        ("frames per GB (thousands)", lambda o, d: frames(o, d) / o["bytes"] * 1e9 / 1e3),
        ("dom0 syscalls per frame (all processes)", lambda o, d: o["all_sys_enter"] / frames(o, d)),
        ("dom0 context switches per frame", lambda o, d: o["all_context-switches"] / frames(o, d)),
        ("daemon syscalls per frame", lambda o, d: o["daemon_sys_enter"] / frames(o, d)),
        ("daemon readv+writev per frame", lambda o, d: (o["daemon_sys_enter_readv"] + o["daemon_sys_enter_writev"]) / frames(o, d)),
        ("daemon ioctl per frame (grant copy, evtchn)", lambda o, d: o["daemon_sys_enter_ioctl"] / frames(o, d)),
        ("daemon poll per frame", lambda o, d: (o.get("daemon_sys_enter_poll", 0) + o.get("daemon_sys_enter_ppoll", 0)) / frames(o, d)),
        ("daemon read+write per frame (evtchn, eventfd)", lambda o, d: (o["daemon_sys_enter_read"] + o["daemon_sys_enter_write"]) / frames(o, d)),
        ("daemon context switches per frame", lambda o, d: o["daemon_ctxsw"] / frames(o, d)),
        ("grant-copy calls per frame", lambda o, d: o["xnv_copy_calls"] / frames(o, d)),
        ("grant-copy segments per frame", lambda o, d: o["xnv_copy_segments"] / frames(o, d)),
        # an older daemon has no such counter: its segments all pinned a page
        ("segments whose local page was a grant (nothing pinned), share", lambda o, d: o.get("xnv_copy_granted", 0) / o["xnv_copy_segments"]),
        ("dom0 vif interrupts per frame (events from the guest)", lambda o, d: o["dom0_vif_irqs"] / frames(o, d)),
        ("guest netfront interrupts per frame (events to it)", lambda o, d: o["guest_netfront_irqs"] / frames(o, d)),
        # counted from the host (tools/bench/rig-hostcount.sh) over the
        # transfer: QEMU's CPU time for everything it emulates, and the CR3
        # writes (two per kernel crossing of a PV user process, each a flush
        # of the emulator's TLB and jump cache)
        ("host CPU s/GB (QEMU: every domain and Xen)", lambda o, d: host_s_per_gb(o)),
        ("emulated page-table switches (CR3 writes) per frame", lambda o, d: o["host_cpu_x86_update_cr3"] / frames(o, d)),
        ("emulated interrupts and exceptions per frame", lambda o, d: o["host_do_interrupt_all"] / frames(o, d)),
    ]
    out = []
    out.append(f"Rig profile of the netback at {a.rev}, a 1-vCPU {a.guest.upper()} guest: "
               f"iperf3 {a.seconds} s per transfer, "
               f"medians over runs; host load {a.load}.\n")
    for d, label in DIRECTIONS:
        out.append(f"\n### {label} ({d})\n")
        xb = [b for b in BACKENDS if b != "kernel"]
        out.append("| per frame / per GB | " + " | ".join(names[b] for b in BACKENDS) + " | " +
                   " | ".join(f"{b} / kernel" for b in xb) + " |")
        out.append("|---" * (len(BACKENDS) + len(xb) + 1) + "|")
        for name, fn in rows:
            v = {b: per_run(data, b, d, lambda o: fn(o, d)) for b in BACKENDS}
            summary["paths"].setdefault(d, {})[name] = v
            k = v["kernel"]
            ratios = [fmt(v[b] / k) if (k and v[b] is not None and k > 0) else "-" for b in xb]
            out.append(f"| {name} | " + " | ".join(fmt(v[b]) for b in BACKENDS) + " | " + " | ".join(ratios) + " |")
        out.append("")
        out.append(f"Where dom0's busy time goes ({label}), CPU s per GB (share of busy samples x dom0 CPU s/GB):\n")
        out.append("| kind of work | " + " | ".join(names[b] for b in BACKENDS) + " |")
        out.append("|---" * (len(BACKENDS) + 1) + "|")
        prof = {}
        for be in BACKENDS:
            cpu = per_run(data, be, d, lambda o: o["cpu_s_per_gb"])
            share, top, comm = profile(a.dir, be, d)
            prof[be] = (cpu, share, top, comm)
        kinds = sorted(set().union(*(prof[b][1] for b in BACKENDS)),
                       key=lambda k: -max(prof[b][1].get(k, 0) for b in BACKENDS))
        for k in kinds:
            cells = []
            for be in BACKENDS:
                cpu, share, _, _ = prof[be]
                s = share.get(k)
                cells.append("-" if s is None or cpu is None else f"{s * cpu:.2f} ({s * 100:.0f} %)")
            out.append(f"| {k} | " + " | ".join(cells) + " |")
            summary["paths"][d].setdefault("kinds", {})[k] = {be: prof[be][1].get(k) for be in BACKENDS}
        for be in BACKENDS:
            _, _, top, comm = prof[be]
            if comm:
                out.append(f"\nBusiest processes, {be}, {label} (share of dom0's busy samples): " +
                           ", ".join(f"{s} {p * 100:.0f} %" for p, s in comm))
            if top:
                out.append(f"\nTop symbols, {be}, {label}: " +
                           ", ".join(f"`{s}` {p * 100:.1f} %" for p, s in top))
        out.append("")
    if ab_pairs(data):
        out.append("\n### A/B of the two daemon builds on one guest (daemon swapped between transfers)\n")
        out.append("| direction: figure | rounds | xnv-netbackd (median) | alt (median) | alt / xnv per round: median (min-max) |")
        out.append("|---|---|---|---|---|")
        for metric, label, fn in (("mbps", "Mbit/s", lambda o: o["mbps"]),
                                  ("rtt_ms", "ping from dom0, idle, ms", lambda o: o["rtt_ms"]),
                                  ("host_s_per_gb", "host CPU s/GB (QEMU)", host_s_per_gb),
                                  ("cr3_k_per_gb", "CR3 writes per GB (thousands)", cr3_k_per_gb)):
            pairs = ab_pairs(data, fn)
            for d, dlabel in DIRECTIONS:
                if d not in pairs:
                    continue
                a_, b_, r = pairs[d]
                out.append(f"| {dlabel}: {label} | {len(r)} | {fmt(med(a_))} | {fmt(med(b_))} | "
                           f"{fmt(med(r))} ({fmt(min(r))}-{fmt(max(r))}) |")
                summary.setdefault("ab", {}).setdefault(d, {})[metric] = {
                    "xnv": med(a_), "alt": med(b_), "ratio": med(r), "ratios": r}
    if errors:
        out.append("\nFailed measurements: " + "; ".join(errors))
    print("\n".join(out))
    with open(os.path.join(a.dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""net_report.py: the reporting half of bench/net.

    net_report.py --raw DIR --mode lab|direct --date D [--lab-status RC] [--elapsed T]
                  [--csv FILE] [--plot-data FILE]

Reads what bench/net-inner.sh left in DIR (meta.env, jobs.txt, VMM.console,
VMM.stderr, VMM.run.env, VMM.markers, VMM.JOB.{begin,end}.{KIND.hist,cpu,tap},
VMM.all.KIND.hist, VMM.skipped, done) and prints a markdown report on stdout: per
iperf3 job the throughput under hvrun, QEMU (vhost=off) and QEMU with vhost-net
(Gbit/s received for TCP, datagrams/s received by the server for UDP), VM exits
per packet (kvm:kvm_exit histogram, END minus BEGIN of the job's window) and the
guest's virtio-net interrupts per packet (/proc/interrupts); packets are the guest
interface's rx + tx packet counts over the job (the counters of `ip -s link`; with
TSO/GRO one packet may carry up to 64 KiB).  Then exits per packet by reason, the
VMM's CPU per packet, checks of the window, whole-run totals, a "what this shows"
paragraph written from the numbers, and the anomalies found.

The raw files' parsers and the report's shared pieces are bench/lib/reportlib.py's, as
bench/blk_report.py's are.  Writes the CSV (one row per VMM and job) and the data file
for bench/net_plot.gp.  Exit status: 0 if every VMM that was to run produced numbers for
every job, else 1.
"""
import csv
import os
import re
import sys

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from reportlib import (anomaly_lines, by_count, console_tail, cpu_delta, csv_cell,  # noqa: E402
                       csv_exit_reasons, exit_counts, exit_namers, exit_notes, f2, f_int,
                       guest_notes, hist_entries, kernel_notes, lab_status_lines,
                       load_json_text, load_run, no_result, parse_cpu, plot_cell, raw_meta,
                       read_env, read_jobs, report_args, stderr_note, top_exit_reasons,
                       vs_qemu_notes, where_lines, whole_run_cells, window, window_hists)

VMMS = [("hvrun", "hvrun"), ("qemu", "QEMU"), ("qemu-vhost", "QEMU vhost")]
LABEL = dict(VMMS)
# The guest's STAT lines: the interface counters in this order (net-inner.sh's netc).
# A kernel message the console put in the middle of a line of iperf3's JSON.
KMSG_TAIL = re.compile(r"\[\s*\d+\.\d{6}\]\s.*$")
# MSRs a Linux guest writes or reads often enough to matter (x2APIC, timers, KVM's own).
MSR_NAMES = {0x6e0: "TSC_DEADLINE", 0x80b: "x2APIC EOI", 0x830: "x2APIC ICR",
             0x838: "x2APIC TMICT", 0x839: "x2APIC TMCCT", 0x832: "x2APIC LVTT",
             0x10: "TSC", 0x1b: "APIC_BASE", 0x48: "SPEC_CTRL", 0x49: "PRED_CMD",
             0xc0000103: "TSC_AUX", 0x4b564d02: "KVM_ASYNC_PF_EN", 0x4b564d03: "KVM_STEAL_TIME",
             0x4b564d04: "KVM_PV_EOI_EN", 0x4b564d06: "KVM_ASYNC_PF_ACK",
             0xc0010007: "PERF_CTR3 (AMD)", 0xc0010117: "VM_HSAVE_PA", 0xc0011029: "DE_CFG"}
NETC = ["rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_dropped", "tx_dropped",
        "rx_errors", "tx_errors"]


def iperf_metrics(j, udp):
    """Throughput of an iperf3 client's JSON: the receiver's side (sum_received)."""
    if not j:
        return None
    end = j.get("end") or {}
    m = {"iperf_error": j.get("error")}
    rcv, snd = end.get("sum_received") or {}, end.get("sum_sent") or {}
    if udp:
        # iperf3 3.12: sum_received holds the server's view (datagrams it expected by
        # sequence number, lost); older ones only "sum" (the same numbers).
        s = rcv if rcv.get("packets") else (end.get("sum") or {})
        if not s.get("seconds"):
            return m
        pk, lost = s.get("packets", 0) or 0, s.get("lost_packets", 0) or 0
        m["udp_sent"] = snd.get("packets", pk)
        m["udp_received"] = pk - lost
        m["udp_lost_pct"] = s.get("lost_percent")
        m["pps"] = (pk - lost) / s["seconds"]
        m["tx_pps"] = m["udp_sent"] / (snd.get("seconds") or s["seconds"])
        m["gbps"] = (s.get("bits_per_second") or 0) / 1e9
        m["rate"] = m["pps"]
    else:
        if not rcv.get("seconds"):
            return m
        m["gbps"] = (rcv.get("bits_per_second") or 0) / 1e9
        m["sent_gbps"] = (snd.get("bits_per_second") or 0) / 1e9
        m["retransmits"] = snd.get("retransmits")
        m["rate"] = m["gbps"]
    cpu = end.get("cpu_utilization_percent") or {}
    m["guest_cpu_pct"] = cpu.get("host_total")     # iperf3's "host" is the client: the guest
    m["lab_cpu_pct"] = cpu.get("remote_total")
    m["streams"] = len(end.get("streams") or [])
    return m


def msr_hist(path):
    """{(write 0/1, msr): hits} of a kvm:kvm_msr histogram (keys write,ecx); None if none."""
    entries = hist_entries(path)
    if entries is None:
        return None
    out = {}
    for fields, hits in entries:
        f = {}
        for k, v, n in fields:
            v = v.strip()
            f[k] = int(v, 16) if v.startswith("0x") else n
        if f.get("ecx") is not None:
            key = (f.get("write") or 0, f["ecx"])
            out[key] = out.get(key, 0) + hits
    return out


def msr_name(key):
    w, m = key
    return "%s %s" % ("wr" if w else "rd", MSR_NAMES.get(m, "0x%x" % m))


def irq_kind(name):
    """virtio1-input.0 -> input; virtio1-config -> config."""
    k = name.split("-", 1)[1] if "-" in name else name
    return k.split(".")[0]


def fmt_rate(r, udp):
    if r is None:
        return "n/a"
    return ("{:,.0f} pkt/s".format(r) if udp else "%.2f Gbit/s" % r)


def spread(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None
    lo, hi = min(vals), max(vals)
    return ("%.2f" % lo) if abs(hi - lo) < 0.005 else ("%.2f-%.2f" % (lo, hi))


def main():
    a = report_args()
    R = lambda *p: os.path.join(a.raw, *p)

    rname, uname = exit_namers()
    meta, hz, tracing, finished = raw_meta(R)
    selected = (meta.get("vmms") or "hvrun qemu qemu-vhost").split()
    jobs = read_jobs(R("jobs.txt"), 3)     # (name, iperf3 options, description)
    is_udp = lambda name: name.startswith("udp")
    jobs.sort(key=lambda j: is_udp(j[0]))     # TCP rows first (the chart relies on it)

    # ---- Load ----
    res = {}      # (vmm, job) -> dict
    runs = {}     # vmm -> run info
    for v, l in VMMS:
        run = read_env(R(v + ".run.env"))
        run["ran"] = bool(run)
        run["skipped"] = None
        if not run["ran"]:
            try:
                run["skipped"] = open(R(v + ".skipped")).read().strip()
            except OSError:
                if v not in selected:
                    run["skipped"] = "not selected (HVRUN_BENCH_NET_VMMS)"
        markers = load_run(R, v, run)
        con = run["console"]
        runs[v] = run
        # The idle window (5 s without traffic, before the jobs): exits per second at rest.
        idle = {}
        ci = (con or {}).get("jobs", {}).get("idle", {})
        if ("BEGIN", "idle") in markers and ("END", "idle") in markers:
            idle["window_s"] = markers[("END", "idle")] - markers[("BEGIN", "idle")]
            he = window_hists(R, v, "idle", ("exit",))["h_exit"]
            if he is not None and idle["window_s"] > 0:
                idle["h_exit"] = he
                idle["exits_per_s"] = sum(he.values()) / idle["window_s"]
            ib, ia = ci.get("irq_before"), ci.get("irq_after")
            if ib is not None and ia:
                idle["irqs"] = sum(ia.values()) - sum(ib.values())
        run["idle"] = idle
        for name, _opts, _d in jobs:
            udp = is_udp(name)
            r = {"vmm": v, "job": name, "status": "ok"}
            cj = (con or {}).get("jobs", {}).get(name, {})
            js = "\n".join(KMSG_TAIL.sub("", x) for x in cj.get("json", "").splitlines())
            m = iperf_metrics(load_json_text(js), udp) if js.strip() else None
            if m:
                r.update(m)
            if run["skipped"]:
                r["status"] = "n/a: " + run["skipped"]
            elif "rc" not in cj:
                r["status"] = no_result(run)
            elif cj["rc"] != 0:
                r["status"] = "iperf3 exit %s%s" % (cj["rc"], (": " + str(m["iperf_error"]))
                                                    if m and m.get("iperf_error") else "")
            elif not m or m.get("rate") is None:
                r["status"] = "no iperf3 JSON" if not m else "iperf3 JSON without a result"
            ib, ia = cj.get("irq_before"), cj.get("irq_after")
            if ib is not None and ia:
                r["irqs"] = sum(ia.values()) - sum(ib.values())
                kinds = {}
                for k, n in ia.items():
                    kinds[irq_kind(k)] = kinds.get(irq_kind(k), 0) + n - ib.get(k, 0)
                r["irq_kinds"] = kinds
            else:
                r["irqs"], r["irq_kinds"] = None, None
            sb, sa = cj.get("stat_before"), cj.get("stat_after")
            if sb and sa and len(sb) == len(NETC) and len(sa) == len(NETC):
                for i, k in enumerate(NETC):
                    r["g_" + k] = sa[i] - sb[i]
                r["packets"] = r["g_rx_packets"] + r["g_tx_packets"]
                r["bytes_per_packet"] = ((r["g_rx_bytes"] + r["g_tx_bytes"]) / r["packets"]
                                         if r["packets"] else None)
            else:
                r["packets"] = None
            tb = read_env(R("%s.%s.begin.tap" % (v, name)))
            ta = read_env(R("%s.%s.end.tap" % (v, name)))
            for k in NETC:
                if k in tb and k in ta:
                    r["tap_" + k] = int(ta[k]) - int(tb[k])
            window(r, name, markers, cj)
            cb = parse_cpu(R("%s.%s.begin.cpu" % (v, name)))
            ce = parse_cpu(R("%s.%s.end.cpu" % (v, name)))
            cd = cpu_delta(cb, ce, hz)
            r["cpu_s"], r["cpu_vcpu_s"], r["cpu_other_s"] = cd if cd else (None, None, None)
            if r["cpu_other_s"] is not None and r["cpu_other_s"] < 0:
                r["cpu_other_s"] = 0.0  # clock ticks: the threads' sum can pass the process's
            r["cpu_vhost_s"] = None
            if cb and ce:
                vh = [(t, tk) for t, (tk, comm) in ce[2].items() if comm.startswith("vhost-")]
                if vh:
                    r["cpu_vhost_s"] = sum(tk - cb[2].get(t, (0, ""))[0] for t, tk in vh) / hz
            r.update(window_hists(R, v, name, ("exit", "uexit", "pio", "mmio")))
            # kvm:kvm_msr: keyed write,ecx here, read by name (bench/blk's is ecx,write).
            r.update(window_hists(R, v, name, ("msr",), msr_hist))
            exit_counts(r)
            # COM1 (the markers the guest prints in the window) goes to the VMM in both
            # VMMs: the exits to the VMM that are not COM1's are the network's.
            r["com1_all"] = (sum(n for p_, n in r["h_pio"].items()
                                 if isinstance(p_, int) and 0x3f8 <= p_ <= 0x3ff)
                             if r["h_pio"] is not None else None)
            r["uexits_net"] = (max(0, r["uexits"] - r["com1_all"])
                               if r["uexits"] is not None and r["com1_all"] is not None else None)
            pk = r.get("packets")
            per = lambda x: x / pk if (x is not None and pk) else None
            r["exits_per_pkt"] = per(r["exits"])
            r["uexits_per_pkt"] = per(r["uexits"])
            # The same window at rest would have cost idle exits/s x its length.
            ir = run["idle"].get("exits_per_s")
            r["exits_busy"] = (max(0.0, r["exits"] - ir * r["window_s"])
                               if r["exits"] is not None and ir is not None and
                               r.get("window_s") else None)
            r["exits_busy_per_pkt"] = per(r["exits_busy"])
            r["uexits_net_per_pkt"] = per(r["uexits_net"])
            r["irqs_per_pkt"] = per(r["irqs"])
            r["mmio_w_per_pkt"] = per(r["mmio_w"])
            us = lambda x: x * 1e6 / pk if (x is not None and pk) else None
            for k in ("cpu", "cpu_vcpu", "cpu_other", "cpu_vhost"):
                r[k + "_us_per_pkt"] = us(r[k + "_s"])
            if r["status"] != "ok":
                r["rate"] = None
            res[(v, name)] = r
    g = lambda v, n, k: res.get((v, n), {}).get(k)
    ran = [v for v, _l in VMMS if runs[v]["ran"]]

    # ---- Report ----
    out = []
    p = out.append
    p("# bench/net: virtio-net under iperf3, hvrun vs QEMU vs QEMU vhost-net")
    p("")
    info = next((runs[v]["console"]["info"] for v in ran
                 if (runs[v].get("console") or {}).get("info")), {})
    out += where_lines(a, meta)
    p("- guest: Debian 12 image of tests/guests/mkdebian.sh (its kernel %s, iperf3 %s), %s "
      "vCPUs, %s MiB; `%s`: the guest's PID 1 is a script (written into a copy of the image "
      "with debugfs) that loads virtio_net, takes %s on the interface with MAC %s, runs the "
      "jobs and powers off; no systemd, no udev" % (
          info.get("kernel", "?"), info.get("iperf3", "?"), meta.get("guest_cpus", "?"),
          meta.get("guest_mem", "?"), meta.get("append", "?"), meta.get("guest_ip", "?"),
          meta.get("mac", "?")))
    p("- network: the lab's Linux bridge %s (%s, STP off) with one port, the single-queue TAP "
      "%s; the guest's interface %s (driver %s, %s rx / %s tx queues, MTU %s); the iperf3 "
      "server (%s) runs in the lab kernel on the bridge's address" % (
          meta.get("bridge", "?"), meta.get("lab_ip", "?"), meta.get("tap", "?"),
          info.get("if", "?"), info.get("driver", "?"), info.get("rxq", "?"),
          info.get("txq", "?"), info.get("mtu", "?"), meta.get("lab_iperf3", "?")))
    p("- VMMs: %s (build/hvrun of %s; `-t %s`, --no-virtio-console --no-rng); %s (-M q35 -cpu host, "
      "virtio-net-pci on `-netdev tap,ifname=%s,script=no,downscript=no,vhost=off`); the "
      "same QEMU with `vhost=on` (/dev/vhost-net %s); a virtio-blk root disk in each" % (
          meta.get("hvrun_version", "hvrun ?"), meta.get("hvrun_built", "?"), meta.get("tap", "?"),
          meta.get("qemu_version", "QEMU ?"), meta.get("tap", "?"),
          "present" if meta.get("vhost_net") == "yes" else "**missing**"))
    p("- iperf3: `iperf3 %s` plus the job's options, %s s each; TCP: Gbit/s the receiver "
      "got; UDP: datagrams per second the server received (sent minus lost)" % (
          read_env(R("jobs.txt")).get("common") or "?", meta.get("runtime", "?")))
    p("- per packet: packets = the guest interface's rx + tx packets over the job (the "
      "counters of `ip -s link`; with TSO/GRO one packet may carry up to 64 KiB, so bytes "
      "per packet are shown too).  VM exits: the lab kernel's kvm:kvm_exit histogram copied "
      "when the guest printed the job's BEGIN and END markers (the window: 2 s idle + "
      "iperf3's start, run and exit).  Interrupts: the guest's /proc/interrupts, the lines "
      "of the NIC's virtio device (input.N, output.N, config, control), before and after "
      "iperf3" if tracing else "- VM exits: **not counted** (no kvm tracepoint histograms)")
    if a.mode == "lab":
        p("- lab numbers are the emulator's: compare the columns with each other, not with "
          "hardware; exits and interrupts per packet depend far less on the emulator's speed")
    for line in lab_status_lines(a.lab_status, finished, "everything was measured"):
        p(line)
    for v, l in VMMS:     # a VMM that failed: said at the top, details under "Anomalies"
        run = runs[v]
        if v not in selected or run["skipped"] or not run["ran"]:
            continue
        done = (run.get("console") or {}).get("done")
        if run.get("rc") != "0" or done != "ok":
            last = (run.get("stderr") or [""])[-1][:200].replace("`", "'")
            p("- **%s failed**: exit %s, guest %s%s" % (
                l, run.get("rc"), "finished (%s)" % done if done else "did not finish",
                "; its stderr ends `%s`" % last if last else ""))
    p("")

    def cell(v, name, key, fmt="%.2f"):
        r = res.get((v, name), {})
        if runs[v]["skipped"]:
            return "n/a"
        return f2(r.get(key), fmt)

    def ratio(a_, b_):
        return "%.2f" % (a_ / b_) if a_ and b_ else "n/a"

    p("| job | hvrun | QEMU | QEMU vhost | hvrun/QEMU | hvrun/QEMU vhost "
      "| exits/packet hvrun | QEMU | QEMU vhost "
      "| interrupts/packet hvrun | QEMU | QEMU vhost |")
    p("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, _o, desc in jobs:
        udp = is_udp(name)
        rates = []
        for v, _l in VMMS:
            r = res.get((v, name), {})
            if runs[v]["skipped"]:
                rates.append("n/a")
            elif r.get("rate") is None:
                rates.append("n/a (%s)" % r.get("status"))
            else:
                c = fmt_rate(r["rate"], udp)
                if udp and r.get("udp_lost_pct") is not None:
                    c += " (%.1f%% lost)" % r["udp_lost_pct"]
                rates.append(c)
        h = g("hvrun", name, "rate")
        p("| %s (%s) | %s | %s | %s | %s | %s |" % (
            name, desc, " | ".join(rates), ratio(h, g("qemu", name, "rate")),
            ratio(h, g("qemu-vhost", name, "rate")),
            " | ".join(cell(v, name, "exits_per_pkt") for v, _l in VMMS),
            " | ".join(cell(v, name, "irqs_per_pkt", "%.3f") for v, _l in VMMS)))
    p("")

    # ---- Per job and VMM: the packets, what they cost ----
    p("Packets and their cost, per job and VMM: the guest interface's packets (rx / tx) and "
      "bytes per packet; the lab's %s counters (packets the VMM wrote / read: guest tx / rx); "
      "VM exits (in brackets: minus what the same window costs at rest, from the 5-s idle "
      "window before the jobs), exits that reached the VMM (kvm:kvm_userspace_exit; in brackets those that "
      "were not COM1 accesses, i.e. not the markers the guest printed) and MMIO writes KVM "
      "handled or passed on (kvm:kvm_mmio: virtqueue notifications among them) per packet; "
      "the guest's interrupts per packet by virtio-net queue kind; the VMM's CPU per packet "
      "(lab kernel's /proc/PID/task/*/stat: vCPU threads, the other threads, and for vhost=on "
      "the vhost-PID kernel thread); TCP retransmits or UDP sent / received:"
      % meta.get("tap", "tap"))
    p("")
    p("| job | VMM | packets rx / tx | bytes/packet | TAP tx / rx | exits/packet (beyond idle) | to VMM/packet (besides COM1) "
      "| MMIO writes/packet | interrupts/packet (by kind) | CPU us/packet: vCPU / other / vhost "
      "| retransmits or UDP sent / received |")
    p("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, _o, _d in jobs:
        for v, l in VMMS:
            if runs[v]["skipped"]:
                continue
            r = res.get((v, name), {})
            ik = r.get("irq_kinds")
            ikc = ", ".join("%s %.3f" % (k, n / r["packets"]) for k, n in
                            by_count(ik) if n) \
                if ik and r.get("packets") else "n/a"
            extra = ("%s / %s" % (f_int(r.get("udp_sent")), f_int(r.get("udp_received")))
                     if is_udp(name) else f_int(r.get("retransmits")))
            p("| %s | %s | %s / %s | %s | %s / %s | %s | %s | %s | %s | %s / %s / %s | %s |" % (
                name, l, f_int(r.get("g_rx_packets")), f_int(r.get("g_tx_packets")),
                f2(r.get("bytes_per_packet"), "%.0f"), f_int(r.get("tap_tx_packets")),
                f_int(r.get("tap_rx_packets")),
                f2(r.get("exits_per_pkt")) + " (%s)" % f2(r.get("exits_busy_per_pkt")),
                f2(r.get("uexits_per_pkt"), "%.3f") + " (%s)" % f2(r.get("uexits_net_per_pkt"), "%.3f"),
                f2(r.get("mmio_w_per_pkt"), "%.3f"), ikc,
                f2(r.get("cpu_vcpu_us_per_pkt"), "%.1f"), f2(r.get("cpu_other_us_per_pkt"), "%.1f"),
                f2(r.get("cpu_vhost_us_per_pkt"), "%.1f"), extra))
    p("")

    top = []
    if tracing:
        # One column fewer than bench/blk's table: this one has no requests, MMIO and
        # to-VMM columns, but the reasons' names are as wide.
        top = top_exit_reasons(res, "packets", 7)
        p("VM exits per packet by SVM exit reason (the job's window):")
        p("")
        p("| job | VMM | all | " + " | ".join(rname(c) for c in top) + " | other | window (s) |")
        p("|---|---|---|" + "---|" * len(top) + "---|---|")
        for name, _o, _d in jobs:
            for v, l in VMMS:
                if runs[v]["skipped"]:
                    continue
                r = res.get((v, name), {})
                h, pk = r.get("h_exit"), r.get("packets")
                if h is None or not pk:
                    p("| %s | %s | n/a |" % (name, l) + " n/a |" * (len(top) + 2))
                    continue
                other = sum(n for c, n in h.items() if c not in top) / pk
                p("| %s | %s | %.2f | %s | %.2f | %s |" % (
                    name, l, r["exits_per_pkt"], " | ".join("%.2f" % (h.get(c, 0) / pk)
                                                          for c in top),
                    other, f2(r.get("window_s"), "%.1f")))
        p("")

        mt = {}
        for (_v, _n), r in res.items():
            for c, n in (r.get("h_msr") or {}).items():
                if r.get("packets"):
                    mt[c] = mt.get(c, 0) + n / r["packets"]
        mtop = sorted(mt, key=lambda c: -mt[c])[:6]
        if mtop:
            p("Intercepted MSR accesses per packet (kvm:kvm_msr, by MSR; rd = read, wr = write): "
              "a large part of the MSR exits above:")
            p("")
            p("| job | VMM | all | " + " | ".join(msr_name(c) for c in mtop) + " | other |")
            p("|---|---|---|" + "---|" * len(mtop) + "---|")
            for name, _o, _d in jobs:
                for v, l in VMMS:
                    if runs[v]["skipped"]:
                        continue
                    r = res.get((v, name), {})
                    h, pk = r.get("h_msr"), r.get("packets")
                    if h is None or not pk:
                        p("| %s | %s | n/a |" % (name, l) + " n/a |" * (len(mtop) + 1))
                        continue
                    p("| %s | %s | %.2f | %s | %.2f |" % (
                        name, l, sum(h.values()) / pk,
                        " | ".join("%.2f" % (h.get(c, 0) / pk) for c in mtop),
                        sum(n for c, n in h.items() if c not in mtop) / pk))
            p("")

    p("Checks of the window: the guest's clock against the lab's over the window, COM1 "
      "data-port exits (kvm:kvm_pio 0x3f8) against the characters the guest's ttyS0 driver "
      "sent (/proc/tty/driver/serial), drops the guest's interface counted, and iperf3's own "
      "CPU figures (guest = the client's kernel+user, lab = the server's):")
    p("")
    p("| job | VMM | guest/lab clock | COM1 data exits / tty chars | guest rx / tx dropped "
      "| TAP tx dropped | iperf3 CPU % guest / lab |")
    p("|---|---|---|---|---|---|---|")
    for name, _o, _d in jobs:
        for v, l in VMMS:
            if runs[v]["skipped"]:
                continue
            r = res.get((v, name), {})
            p("| %s | %s | %s | %s / %s | %s / %s | %s | %s / %s |" % (
                name, l, f2(r.get("clock_ratio"), "%.3f"), f_int(r.get("com1_data")),
                f_int(r.get("tty_tx")), f_int(r.get("g_rx_dropped")), f_int(r.get("g_tx_dropped")),
                f_int(r.get("tap_tx_dropped")), f2(r.get("guest_cpu_pct"), "%.0f"),
                f2(r.get("lab_cpu_pct"), "%.0f")))
    p("")

    p("Whole guest runs (boot, all jobs, power-off):")
    p("")
    p("| VMM | exit | wall (s) | guest up at (s, its uptime) | VM exits | exits to VMM, by reason "
      "| hvrun --exit-stats | at rest (the idle window): exits/s, top reasons; NIC interrupts |")
    p("|---|---|---|---|---|---|---|---|")
    for v, l in VMMS:
        run = runs[v]
        if run["skipped"]:
            p("| %s | n/a: %s | | | | | | |" % (l, run["skipped"]))
            continue
        idle = run.get("idle") or {}
        ic = "n/a"
        if idle.get("exits_per_s") is not None:
            ie = idle["h_exit"]
            ic = "%.0f/s (%s); %s" % (idle["exits_per_s"], ", ".join(
                "%s %.0f" % (rname(c), n / idle["window_s"]) for c, n in
                by_count(ie)[:3]), f_int(idle.get("irqs")))
        p("| %s |" % " | ".join(map(str, whole_run_cells(l, run, uname) + [ic])))
    p("")

    # ---- What this shows: sentences made from the numbers ----
    shows = []
    both = [(n, g("hvrun", n, "rate") / g("qemu", n, "rate")) for n, _o, _d in jobs
            if g("hvrun", n, "rate") and g("qemu", n, "rate")]
    if both:
        lo = min(both, key=lambda x: x[1])
        hi = max(both, key=lambda x: x[1])
        s = ("Throughput: hvrun reaches %s of QEMU's (vhost=off) rate over the %d job(s) "
             "measured by both" % (spread([x[1] for x in both]).replace("-", " to ") + "x",
                                   len(both)))
        if len(both) > 1:
            s += " (lowest %s, %.2fx; highest %s, %.2fx)" % (lo[0], lo[1], hi[0], hi[1])
        bv = [(n, g("hvrun", n, "rate") / g("qemu-vhost", n, "rate")) for n, _o, _d in jobs
              if g("hvrun", n, "rate") and g("qemu-vhost", n, "rate")]
        if bv:
            s += ", and %s of QEMU with vhost-net" % (
                spread([x[1] for x in bv]).replace("-", " to ") + "x")
        shows.append(s + ".")
    if tracing:
        ex = [(n, g("hvrun", n, "exits_per_pkt"), g("qemu", n, "exits_per_pkt")) for n, _o, _d in jobs
              if g("hvrun", n, "exits_per_pkt") is not None and g("qemu", n, "exits_per_pkt")]
        if ex:
            worst = max(ex, key=lambda x: x[1] / x[2])
            best = min(ex, key=lambda x: x[1] / x[2])
            s = ("VM exits per packet: hvrun %s, QEMU %s" % (
                spread([x[1] for x in ex]), spread([x[2] for x in ex])))
            hv, qv = res[("hvrun", worst[0])].get("h_exit") or {}, \
                res[("qemu", worst[0])].get("h_exit") or {}
            pkh, pkq = g("hvrun", worst[0], "packets"), g("qemu", worst[0], "packets")
            if worst[1] > 1.1 * worst[2] and pkh and pkq:
                diff = {c: hv.get(c, 0) / pkh - qv.get(c, 0) / pkq for c in set(hv) | set(qv)}
                c = max(diff, key=lambda c: diff[c])
                s += ("; the largest gap is in %s (%.2f vs %.2f, %.1fx), mostly %s exits "
                      "(%.2f vs %.2f per packet)" % (worst[0], worst[1], worst[2],
                                                     worst[1] / worst[2], rname(c),
                                                     hv.get(c, 0) / pkh, qv.get(c, 0) / pkq))
                hm = res[("hvrun", worst[0])].get("h_msr") or {}
                qm = res[("qemu", worst[0])].get("h_msr") or {}
                if rname(c) == "MSR" and (hm or qm):
                    md = {k: hm.get(k, 0) / pkh - qm.get(k, 0) / pkq for k in set(hm) | set(qm)}
                    k = max(md, key=lambda k: md[k])
                    s += "; among them `%s` (%.2f vs %.2f per packet)" % (
                        msr_name(k), hm.get(k, 0) / pkh, qm.get(k, 0) / pkq)
                wh, wq = g("hvrun", worst[0], "window_s"), g("qemu", worst[0], "window_s")
                if wh and wq:
                    # Exits that follow time (timer reprogramming, ticks) grow per packet when
                    # fewer packets pass in the same time: per second tells them apart.
                    s += ("; per second of the window %.0f vs %.0f exits (%s %.0f vs %.0f): %s" % (
                        worst[1] * pkh / wh, worst[2] * pkq / wq, rname(c), hv.get(c, 0) / wh,
                        qv.get(c, 0) / wq,
                        "at the same rate in time, so the gap per packet comes from hvrun moving "
                        "fewer packets in that time" if hv.get(c, 0) / wh < 1.25 * qv.get(c, 0) / wq
                        else "more in time too, so hvrun's guest does extra work per packet"))
            if best[1] < 0.9 * best[2]:
                s += "; hvrun takes fewer than QEMU in %s (%.2f vs %.2f)" % best
            elif worst[1] <= 1.1 * worst[2]:
                s += ": within 10% of each other in every job"
            shows.append(s + ".")
        il = [(l, runs[v]["idle"]) for v, l in VMMS if (runs[v].get("idle") or {}).get("exits_per_s")]
        if il:
            s = "At rest (5 s idle window): %s VM exits/s" % ", ".join(
                "%s %.0f (mostly %s)" % (l, i["exits_per_s"], rname(max(i["h_exit"], key=i["h_exit"].get)))
                for l, i in il)
            bh = [(n, g("hvrun", n, "exits_per_pkt"), g("hvrun", n, "exits_busy_per_pkt"))
                  for n, _o, _d in jobs if g("hvrun", n, "exits_busy_per_pkt") is not None]
            if bh:
                x = max(bh, key=lambda x: (x[1] - x[2]) / x[1] if x[1] else 0)
                s += ("; at that rate the idle part of a job's window is at most %.0f%% of "
                      "hvrun's exits (%s: %.2f of %.2f per packet)" % (
                          100 * (x[1] - x[2]) / x[1] if x[1] else 0, x[0], x[1] - x[2], x[1]))
            shows.append(s + ".")
        uh = [g("hvrun", n, "uexits_net_per_pkt") for n, _o, _d in jobs]
        uq = [g("qemu", n, "uexits_net_per_pkt") for n, _o, _d in jobs]
        if any(x is not None for x in uh):
            mh = max(x for x in uh if x is not None)
            s = ("Exits that reach the VMM process, COM1's (the markers) left out: at most %.3f "
                 "per packet for hvrun" % mh)
            if any(x is not None for x in uq):
                s += " and %.3f for QEMU" % max(x for x in uq if x is not None)
            s += (" -- %s." % ("the notifications go by ioeventfd and the interrupts by irqfd/"
                               "MSI, handled in the kernel, not by a return to the VMM"
                               if mh < 0.01 else
                               "some per-packet work still returns to the VMM's vCPU threads"))
            shows.append(s)
    ir = [(n, g("hvrun", n, "irqs_per_pkt"), g("qemu", n, "irqs_per_pkt"),
           g("qemu-vhost", n, "irqs_per_pkt")) for n, _o, _d in jobs
          if g("hvrun", n, "irqs_per_pkt") is not None]
    if ir:
        s = "Interrupts per packet in the guest: hvrun %s" % spread([x[1] for x in ir])
        if any(x[2] is not None for x in ir):
            s += ", QEMU %s" % spread([x[2] for x in ir])
        if any(x[3] is not None for x in ir):
            s += ", QEMU vhost %s" % spread([x[3] for x in ir])
        s += (" (below 1: one interrupt covers several packets -- NAPI polling and the event "
              "index suppress the rest)" if max(x[1] for x in ir) < 1 else "")
        hi_ = [x for x in ir if x[2] and x[1] > 1.5 * x[2]]
        if hi_:
            s += "; hvrun raises more than 1.5x QEMU's in %s" % ", ".join(x[0] for x in hi_)
        shows.append(s + ".")
    bp = [g(v, n, "bytes_per_packet") for n, _o, _d in jobs if not is_udp(n) for v, _l in VMMS]
    bp = [x for x in bp if x]
    if bp:
        shows.append("Packet size: in the TCP jobs a guest packet (rx and tx together) averages "
                     "%.0f to %.0f bytes%s." % (min(bp), max(bp), (
                         ": TSO and GRO hand segments of up to 64 KiB across virtio-net, so the "
                         "per-packet costs there are per large segment, not per 1500-byte frame")
                         if max(bp) > 3000 else ""))
    vq = [(n, g("qemu-vhost", n, "rate") / g("qemu", n, "rate"),
           g("qemu-vhost", n, "exits_per_pkt"), g("qemu", n, "exits_per_pkt"))
          for n, _o, _d in jobs if g("qemu-vhost", n, "rate") and g("qemu", n, "rate")]
    if vq:
        s = "vhost-net against QEMU's own virtio-net: %sx the rate" % \
            spread([x[1] for x in vq]).replace("-", " to ")
        ve = [x for x in vq if x[2] is not None and x[3]]
        if ve:
            s += ", %sx the exits per packet" % spread([x[2] / x[3] for x in ve]).replace("-", " to ")
        shows.append(s + ".")
    elif runs["qemu-vhost"]["skipped"]:
        shows.append("vhost-net was not measured: %s." % runs["qemu-vhost"]["skipped"])
    ud = [(n, v, g(v, n, "udp_lost_pct"), g(v, n, "tx_pps"), g(v, n, "pps")) for n, _o, _d in jobs
          if is_udp(n) for v, _l in VMMS if g(v, n, "pps")]
    if ud:
        shows.append("UDP 64-byte: " + "; ".join(
            "under %s the guest sent %s datagrams/s, the server received %s/s (%.1f%% lost)" % (
                LABEL[v], "{:,.0f}".format(tx or 0), "{:,.0f}".format(pps), lost or 0)
            for _n, v, lost, tx, pps in ud) +
            " -- the small-packet rate is where per-packet costs (exits, interrupts, system "
            "calls) decide.")
    if a.mode == "lab":
        shows.append("In the lab every rate is that of nested KVM on an emulator and moves "
                     "from run to run; the per-packet counts are the comparison to trust.")
    p("What this shows (written from the numbers above):")
    p("")
    for s in shows or ["Nothing: no job produced numbers."]:
        p("- " + s)
    p("")

    # ---- Anomalies ----
    notes, infos = [], []
    for v, l in VMMS:
        run = runs[v]
        con = run.get("console")
        if run["skipped"]:
            if v in selected:
                infos.append("%s: not run: %s" % (l, run["skipped"]))
            continue
        if v not in selected:
            continue
        notes += exit_notes(l, run)
        try:
            st = open(R(v + ".stalled")).read().strip()
            notes.append("%s: the guest printed nothing for %s s, so the bench stopped the VMM "
                         "(its console tail below)" % (l, st))
        except OSError:
            pass
        notes += guest_notes(l, con)
        try:
            clines = open(R(v + ".console"), errors="replace").read().splitlines()
        except OSError:
            clines = []
        logl = [x.split("HVBENCH-LOG ", 1)[1] for x in clines if "HVBENCH-LOG " in x]
        if (con or {}).get("errors") and logl:
            notes.append("%s guest, what it printed with the error: %s" % (
                l, "; ".join("`%s`" % x.strip()[:160].replace("`", "'") for x in logl[:12])))
        if run.get("rc") not in (None, "0") or (con is not None and con.get("done") != "ok"):
            tail = [x for x in clines if x.strip()][-8:]
            notes.append("%s console tail: %s" % (l, "; ".join(
                "`%s`" % x.strip()[:160].replace("`", "'") for x in tail) or "empty"))
        for n, msgs in (con or {}).get("fioerr", {}).items():
            notes.append("%s guest iperf3 %s stderr: `%s`" % (l, n, " / ".join(msgs[:3])[:300]))
        try:
            lk = [x for x in open(R(v + ".lab-kmsg"), errors="replace").read().splitlines()
                  if re.search(r"BUG|WARNING|Oops|segfault|general protection|stall|lockup|"
                               r"Call Trace|kvm.*(fail|error)", x)]
        except OSError:
            lk = []
        if lk:
            notes.append("%s: the lab kernel logged during this run (%d line(s); the emulated "
                         "machine's fault, or the VMM's?): %s" % (l, len(lk), "; ".join(
                             "`%s`" % x.strip()[:200].replace("`", "'") for x in lk[:6])))
        notes += stderr_note(l, run.get("stderr"), last=True)
        kernel_notes(l, clines, (con or {}).get("dmesg"), notes, infos)
        if os.path.exists(R(v + ".boot1.run.env")):
            b1 = read_env(R(v + ".boot1.run.env"))
            tail = console_tail(R, v + ".boot1.console", 3)
            infos.append("%s: the first boot died before the guest's script started (exit %s "
                         "after %s s; console tail: %s) and was booted once more; its files "
                         "are %s.boot1.*" % (l, b1.get("rc", "?"), b1.get("wall_s", "?"),
                                            "; ".join("`%s`" % x[:120] for x in tail) or "empty", v))
    for (v, n), r in sorted(res.items()):
        if runs[v]["skipped"] or v not in selected:
            continue
        if r["status"] != "ok":
            notes.append("%s %s: %s" % (LABEL[v], n, r["status"]))
            continue
        cr = r.get("clock_ratio")
        if cr is not None and not 0.9 <= cr <= 1.1:
            notes.append("%s %s: the guest's clock ran %.3fx the lab's over the window (%.1f s "
                         "vs %.1f s): its rates are off by that much"
                         % (LABEL[v], n, cr, r["guest_window_s"], r["window_s"]))
        c1, tx = r.get("com1_data"), r.get("tty_tx")
        if c1 is not None and tx is not None and c1 > tx + 64:
            notes.append("%s %s: %d COM1 data-port exits in the window, but the guest's ttyS0 "
                         "sent only %d characters" % (LABEL[v], n, c1, tx))
        # What the guest sent is what the VMM wrote to the TAP, and the other way round.
        for gk, tk, what in (("g_tx_packets", "tap_rx_packets", "sent"),
                             ("g_rx_packets", "tap_tx_packets", "received")):
            gp, tp = r.get(gk), r.get(tk)
            if gp is not None and tp is not None and abs(gp - tp) > 0.02 * max(gp, tp) + 20:
                notes.append("%s %s: the guest %s %d packets, the lab's TAP counted %d"
                             % (LABEL[v], n, what, gp, tp))
        for k in ("g_rx_errors", "g_tx_errors"):
            if r.get(k):
                notes.append("%s %s: the guest's interface counted %d %s" % (
                    LABEL[v], n, r[k], k[2:].replace("_", " ")))
    notes += vs_qemu_notes(jobs, g, "packet", "_per_pkt", "rate", "rate", "uexits_net_per_pkt")
    out += anomaly_lines(notes, infos, "all runs ok, no VMM stderr besides --exit-stats, "
                         "hvrun within 1.5x of QEMU's exits and interrupts per packet, guest "
                         "and TAP packet counts agree")
    print("\n".join(out))

    # ---- CSV ----
    if a.csv:
        reasons = csv_exit_reasons(res)
        keys = ["status", "rate", "gbps", "sent_gbps", "retransmits", "pps", "tx_pps",
                "udp_sent", "udp_received", "udp_lost_pct", "streams", "guest_cpu_pct",
                "lab_cpu_pct", "packets", "bytes_per_packet"] + ["g_" + k for k in NETC] + \
            ["tap_" + k for k in NETC] + [
                "window_s", "guest_window_s", "clock_ratio", "exits", "exits_per_pkt",
                "exits_busy", "exits_busy_per_pkt", "uexits",
                "uexits_per_pkt", "pio", "com1_data", "tty_tx", "mmio_w", "mmio_w_per_pkt",
                "irqs", "irqs_per_pkt", "cpu_s", "cpu_vcpu_s", "cpu_other_s", "cpu_vhost_s",
                "cpu_us_per_pkt", "cpu_vcpu_us_per_pkt", "cpu_other_us_per_pkt",
                "cpu_vhost_us_per_pkt"]
        ikinds = sorted({k for r in res.values() for k in (r.get("irq_kinds") or {})})
        msrs = sorted({k for r in res.values() for k in (r.get("h_msr") or {})})
        cols = ["vmm", "job", "iperf3_options"] + keys + ["irqs_%s" % k for k in ikinds] + \
            ["exit_%s" % rname(c) for c in reasons] + \
            ["msr_%s" % msr_name(c).replace(" ", "_") for c in msrs]
        os.makedirs(os.path.dirname(os.path.abspath(a.csv)), exist_ok=True)
        with open(a.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(cols)
            for v, _l in VMMS:
                for name, opts, _d in jobs:
                    r = res.get((v, name), {})
                    row = [v, name, opts] + [r.get(k) for k in keys]
                    ik = r.get("irq_kinds")
                    row += [ik.get(k, 0) if ik is not None else None for k in ikinds]
                    h = r.get("h_exit")
                    row += [h.get(c, 0) if h is not None else None for c in reasons]
                    hm = r.get("h_msr")
                    row += [hm.get(c, 0) if hm is not None else None for c in msrs]
                    w.writerow([csv_cell(x) for x in row])

    # ---- gnuplot data: one line per job, TCP jobs first ----
    if a.plot_data:
        with open(a.plot_data, "w") as f:
            f.write("# job kind hvrun_rate qemu_rate vhost_rate (TCP: Gbit/s, UDP: kpackets/s) "
                    "hvrun_exits_per_pkt qemu_exits_per_pkt vhost_exits_per_pkt "
                    "hvrun_irqs_per_pkt qemu_irqs_per_pkt vhost_irqs_per_pkt\n")
            for name, _o, _d in jobs:
                udp = is_udp(name)
                rate = lambda v: (g(v, name, "rate") / 1000.0 if udp and g(v, name, "rate")
                                  else g(v, name, "rate"))
                f.write('"%s" %s %s %s %s\n' % (
                    name, "udp" if udp else "tcp", " ".join(plot_cell(rate(v)) for v, _l in VMMS),
                    " ".join(plot_cell(g(v, name, "exits_per_pkt")) for v, _l in VMMS),
                    " ".join(plot_cell(g(v, name, "irqs_per_pkt")) for v, _l in VMMS)))

    ok = finished and a.lab_status == 0 and bool(jobs) and all(
        r["status"] == "ok" for (v, _n), r in res.items() if v in selected and
        not runs[v]["skipped"]) and all(runs[v]["ran"] for v in selected if v != "qemu-vhost")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

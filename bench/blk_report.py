#!/usr/bin/env python3
"""blk_report.py: the reporting half of bench/blk.

    blk_report.py --raw DIR --mode lab|direct --date D [--lab-status RC] [--elapsed T]
                  [--csv FILE] [--plot-data FILE]

Reads what bench/blk-inner.sh left in DIR (meta.env, jobs.txt, VMM.console,
VMM.stderr, VMM.run.env, VMM.JOB.{begin,end}.KIND.hist, VMM.all.KIND.hist,
host.JOB.json, done) and prints a markdown report on stdout: per fio job the
IOPS and bandwidth of hvrun, QEMU and fio straight on the host file (the limit),
VM exits per request (kvm:kvm_exit histogram, END minus BEGIN of the job's
window) and the guest's virtio interrupts per request (/proc/interrupts, the
virtio lines of vdb, before and after the job); then latencies, exits per
request by SVM exit reason, exits that reached the VMM, whole-run totals and
the anomalies found (failed runs, VMM stderr, hvrun far from QEMU).

Requests are fio's total IOs of the job (read + write); the guest's
/sys/block/vdb/stat delta (requests the virtio driver completed) is in the CSV.
Writes the CSV (one row per target and job) and the data file for
bench/blk_plot.gp.  Exit status: 0 if every run and job produced numbers, else 1.
"""
import csv
import os
import re
import sys

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from reportlib import (anomaly_lines, by_count, console_tail, cpu_delta, csv_cell,  # noqa: E402
                       csv_exit_reasons, exit_counts, exit_namers, exit_notes, f2, f_int,
                       guest_notes, hist_delta, kernel_notes, lab_status_lines, load_json_text,
                       load_run, no_result, parse_cpu, parse_hist, plot_cell, raw_meta,
                       read_env, read_jobs, report_args, stderr_lines, stderr_note,
                       top_exit_reasons, vs_qemu_notes, where_lines, whole_run_cells, window,
                       window_hists)

VMMS = [("hvrun", "hvrun"), ("qemu", "QEMU")]
TARGETS = VMMS + [("host", "host io_uring")]


def uring_op_names(path="/usr/include/linux/io_uring.h"):
    """{opcode: "READV"} from the order of enum io_uring_op."""
    try:
        text = open(path).read()
    except OSError:
        return {}
    m = re.search(r"enum io_uring_op \{(.*?)\};", text, re.S)
    if not m:
        return {}
    names = re.findall(r"^\s*IORING_OP_(\w+)\s*,", m.group(1), re.M)
    return dict(enumerate(names))


def parse_interrupts(path):
    """The lab kernel's /proc/interrupts: {row name: count over all CPUs}; None if missing.
    Numbered rows are named by their last column (the device), summed per name."""
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return None
    out = {}
    for line in lines[1:]:
        f = line.split()
        if not f or not f[0].endswith(":"):
            continue
        n, i = 0, 1
        while i < len(f) and f[i].isdigit():
            n += int(f[i])
            i += 1
        name = f[0][:-1]
        if name.isdigit():
            name = "dev:" + (f[-1] if len(f) > i else name)
        out[name] = out.get(name, 0) + n
    return out


def fio_metrics(j):
    """IOPS, MiB/s, IOs, latencies (us) of fio job 0, read + write."""
    if not j or not j.get("jobs"):
        return None
    job = j["jobs"][0]
    m = {"iops": 0.0, "mibs": 0.0, "ios": 0, "error": job.get("error", 0)}
    lat_w, lat_sum, slat_sum, p50, p99 = 0, 0.0, 0.0, None, None
    for d in ("read", "write"):
        s = job.get(d) or {}
        n = s.get("total_ios", 0) or 0
        m["iops"] += s.get("iops", 0.0) or 0.0
        m["mibs"] += (s.get("bw_bytes", 0) or 0) / 1048576.0
        m["ios"] += n
        if n:
            lat_sum += (s.get("lat_ns", {}).get("mean", 0.0) or 0.0) * n
            lat_w += n
            # Total latency (submission + completion) percentiles: --lat_percentiles=1;
            # completion only when they are missing.
            pct = ((s.get("lat_ns") or {}).get("percentile") or
                   (s.get("clat_ns") or {}).get("percentile") or {})
            p50 = pct.get("50.000000", p50)
            p99 = pct.get("99.000000", p99)
            slat_sum += (s.get("slat_ns", {}).get("mean", 0.0) or 0.0) * n
    m["lat_mean_us"] = lat_sum / lat_w / 1000.0 if lat_w else None
    m["slat_mean_us"] = slat_sum / lat_w / 1000.0 if lat_w else None
    m["lat_p50_us"] = p50 / 1000.0 if p50 is not None else None
    m["lat_p99_us"] = p99 / 1000.0 if p99 is not None else None
    m["usr_cpu"] = job.get("usr_cpu")
    m["sys_cpu"] = job.get("sys_cpu")
    du = j.get("disk_util") or []
    m["disk_util"] = du[0].get("util") if du else None
    return m


def f_rate(iops, mibs):
    if iops is None:
        return "n/a"
    return "%s / %.1f" % (f_int(iops), mibs)


def main():
    a = report_args()
    R = lambda *p: os.path.join(a.raw, *p)

    rname, uname = exit_namers()
    uop = uring_op_names()
    meta, hz, tracing, finished = raw_meta(R)
    jobs = read_jobs(R("jobs.txt"), 2)     # (name, fio options)

    # ---- Load ----
    res = {}      # (target, job) -> dict
    runs = {}     # vmm -> run info
    for v, _ in VMMS:
        run = read_env(R(v + ".run.env"))
        markers = load_run(R, v, run)
        con = run["console"]
        runs[v] = run
        for name, _opts in jobs:
            r = {"target": v, "job": name, "status": "ok"}
            cj = (con or {}).get("jobs", {}).get(name, {})
            m = fio_metrics(load_json_text(cj.get("json", ""))) if cj.get("json") else None
            if m:
                r.update(m)
            if "rc" not in cj:
                r["status"] = no_result(run)
            elif cj["rc"] != 0:
                r["status"] = "fio exit %s" % cj["rc"]
            elif not m:
                r["status"] = "no fio JSON"
            ib, ia = cj.get("irq_before"), cj.get("irq_after")
            r["irqs"] = sum(ia.values()) - sum(ib.values()) if ib is not None and ia else None
            sb, sa = cj.get("stat_before"), cj.get("stat_after")
            r["dev_ios"] = ((sa[0] + sa[4]) - (sb[0] + sb[4])
                            if sb and sa and len(sb) > 4 and len(sa) > 4 else None)
            window(r, name, markers, cj)
            cd = cpu_delta(parse_cpu(R("%s.%s.begin.cpu" % (v, name))),
                           parse_cpu(R("%s.%s.end.cpu" % (v, name))), hz)
            r["cpu_s"], r["cpu_vcpu_s"], r["cpu_other_s"] = cd if cd else (None, None, None)
            r["lab_irq"] = hist_delta(parse_interrupts(R("%s.%s.begin.interrupts" % (v, name))),
                                      parse_interrupts(R("%s.%s.end.interrupts" % (v, name))))
            r.update(window_hists(R, v, name, ("exit", "uexit", "pio", "mmio", "sqe", "async",
                                               "msr")))
            exit_counts(r)
            r["sqes"] = sum(r["h_sqe"].values()) if r["h_sqe"] is not None else None
            r["async"] = sum(r["h_async"].values()) if r["h_async"] is not None else None
            ios = r.get("ios")
            per = lambda x: x / ios if (x is not None and ios) else None
            r["exits_per_io"] = per(r["exits"])
            r["uexits_per_io"] = per(r["uexits"])
            r["irqs_per_io"] = per(r["irqs"])
            r["mmio_w_per_io"] = per(r["mmio_w"])
            r["sqes_per_io"] = per(r["sqes"])
            r["async_per_io"] = per(r["async"])
            us = lambda x: x * 1e6 / ios if (x is not None and ios) else None
            r["cpu_us_per_io"] = us(r["cpu_s"])
            r["cpu_vcpu_us_per_io"] = us(r["cpu_vcpu_s"])
            r["cpu_other_us_per_io"] = us(r["cpu_other_s"])
            if r["status"] != "ok":
                for k in ("iops", "mibs"):
                    r.setdefault(k, None)
            res[(v, name)] = r
    for name, _opts in jobs:
        r = {"target": "host", "job": name, "status": "ok"}
        rc = read_env(R("host.%s.rc" % name)).get("rc")
        try:
            m = fio_metrics(load_json_text(open(R("host.%s.json" % name)).read()))
        except OSError:
            m = None
        if m:
            r.update(m)
        if rc is None:
            r["status"] = "no result"
        elif rc != "0":
            r["status"] = "fio exit %s" % rc
        elif not m:
            r["status"] = "no fio JSON"
        res[("host", name)] = r
    g = lambda t, n, k: res.get((t, n), {}).get(k)

    # ---- Report ----
    out = []
    p = out.append
    p("# bench/blk: virtio-blk under fio, hvrun vs QEMU vs the host's io_uring")
    p("")
    info = ((runs.get("hvrun") or {}).get("console") or {}).get("info") or \
        ((runs.get("qemu") or {}).get("console") or {}).get("info") or {}
    out += where_lines(a, meta)
    p("- guest: Debian 12 image of tests/guests/mkdebian.sh (its kernel %s, %s), %s vCPUs, "
      "%s MiB; `%s`: the guest's PID 1 is a script (written into a copy of the image with "
      "debugfs) that runs the jobs on /dev/vdb and powers off; no systemd" % (
          info.get("kernel", "?"), info.get("fio", "?"), meta.get("guest_cpus", "?"),
          meta.get("guest_mem", "?"), meta.get("append", "?")))
    p("- vdb: 1 GiB raw file on %s (%s; written once end to end), cache=none "
      "(O_DIRECT) in both VMMs; guest queue: %s blk-mq queues, scheduler none, "
      "max_sectors_kb %s, max_segments %s" % (
          meta.get("work", "?"), meta.get("work_fs", "?"), info.get("mq", "?"),
          info.get("max_sectors_kb", "?"), info.get("max_segments", "?")))
    p("- VMMs: %s (`-d FILE,cache=none`, --no-virtio-console --no-rng); %s (-M q35 -cpu host, "
      "virtio-blk-pci, `cache=none,aio=io_uring`); host: %s on the same file in the %s "
      "kernel" % (meta.get("hvrun_version", "hvrun ?"), meta.get("qemu_version", "QEMU ?"),
                  meta.get("host_fio", "fio ?"), meta.get("where_kernel", "?")))
    p("- fio: `%s`, one job each, %s s each" % (
        (read_env(R("jobs.txt")).get("common") or "?"), meta.get("runtime", "?")))
    p("- VM exits: lab kernel's kvm:kvm_exit histogram copied when the guest printed the "
      "job's BEGIN and END markers (the window: 2 s idle + fio's start, run and exit); "
      "per request = window exits / fio's total IOs.  Interrupts: the guest's "
      "/proc/interrupts, vdb's virtio lines (config + req.N), before and after fio."
      if tracing else "- VM exits: **not counted** (no kvm tracepoint histograms)")
    if a.mode == "lab":
        p("- lab numbers are the emulator's: compare the columns with each other, not with "
          "hardware; exits and interrupts per request do not depend on the emulator's speed")
    for line in lab_status_lines(a.lab_status, finished, "everything was measured"):
        p(line)
    p("")
    p("| job | hvrun IOPS / MiB/s | QEMU IOPS / MiB/s | host io_uring IOPS / MiB/s "
      "| hvrun/QEMU | exits/request hvrun | exits/request QEMU "
      "| interrupts/request hvrun | interrupts/request QEMU |")
    p("|---|---|---|---|---|---|---|---|---|")
    for name, _o in jobs:
        hi, qi = g("hvrun", name, "iops"), g("qemu", name, "iops")
        ratio = "%.2f" % (hi / qi) if hi and qi else "n/a"
        p("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, f_rate(hi, g("hvrun", name, "mibs")), f_rate(qi, g("qemu", name, "mibs")),
            f_rate(g("host", name, "iops"), g("host", name, "mibs")), ratio,
            f2(g("hvrun", name, "exits_per_io")), f2(g("qemu", name, "exits_per_io")),
            f2(g("hvrun", name, "irqs_per_io"), "%.3f"), f2(g("qemu", name, "irqs_per_io"), "%.3f")))
    p("")

    p("Latency (fio, microseconds: mean total latency (submission + completion); its p50 / p99; "
      "mean submission latency, which holds the notification's VM exit):")
    p("")
    p("| job | " + " | ".join(l for _, l in TARGETS) + " |")
    p("|---|" + "---|" * len(TARGETS))
    for name, _o in jobs:
        cells = []
        for t, _l in TARGETS:
            m = g(t, name, "lat_mean_us")
            cells.append("n/a" if m is None else "%.0f (%s / %s; slat %s)" % (
                m, f2(g(t, name, "lat_p50_us"), "%.0f"), f2(g(t, name, "lat_p99_us"), "%.0f"),
                f2(g(t, name, "slat_mean_us"), "%.0f")))
        p("| %s | %s |" % (name, " | ".join(cells)))
    p("")

    if tracing:
        # Exits per request by SVM reason: the union of the top reasons.
        top = top_exit_reasons(res, "ios", 8)
        p("VM exits per request by SVM exit reason (the job's window), exits that reached the "
          "VMM (kvm:kvm_userspace_exit) and MMIO writes KVM handled or passed on (kvm:kvm_mmio, "
          "virtqueue notifications among them), per request; requests = fio IOs (= the "
          "virtio requests the guest completed, /sys/block/vdb/stat, when they differ see the CSV):")
        p("")
        p("| job | VMM | requests | all | " + " | ".join(rname(c) for c in top)
          + " | other | to VMM | MMIO writes | window (s) |")
        p("|---|---|---|---|" + "---|" * len(top) + "---|---|---|---|")
        for name, _o in jobs:
            for v, l in VMMS:
                r = res.get((v, name), {})
                h, ios = r.get("h_exit"), r.get("ios")
                if h is None or not ios:
                    p("| %s | %s | %s | n/a |" % (name, l, f_int(ios)) + " n/a |" * (len(top) + 4))
                    continue
                cells = ["%.2f" % (h.get(c, 0) / ios) for c in top]
                other = sum(n for c, n in h.items() if c not in top) / ios
                p("| %s | %s | %s | %.2f | %s | %.2f | %s | %s | %s |" % (
                    name, l, f_int(ios), r["exits_per_io"], " | ".join(cells), other,
                    f2(r.get("uexits_per_io"), "%.3f"), f2(r.get("mmio_w_per_io"), "%.3f"),
                    f2(r.get("window_s"), "%.1f")))
        p("")

    p("The VMM process in each job's window: CPU time per request (lab kernel's "
      "/proc/PID/stat and task/*/stat, user + system; vCPU threads run the guest and its "
      "exits, the others are the VMM's main, I/O and io_uring worker threads); io_uring "
      "SQEs the lab kernel saw submitted (by opcode) and requests it handed to io-wq worker "
      "threads, per request; the guest's clock against the lab's over the window, and COM1 "
      "data-port exits (kvm:kvm_pio 0x3f8) against the characters the guest's ttyS0 driver "
      "sent (/proc/tty/driver/serial), which checks the window:")
    p("")
    p("| job | VMM | CPU us/request: all | vCPU threads | other threads | io_uring SQEs/request "
      "| io-wq punts/request | guest/lab clock | COM1 data exits / tty chars |")
    p("|---|---|---|---|---|---|---|---|---|")
    for name, _o in jobs:
        for v, l in VMMS:
            r = res.get((v, name), {})
            sq = "n/a"
            if r.get("sqes_per_io") is not None:
                sq = "%.2f" % r["sqes_per_io"]
                if r.get("h_sqe"):
                    sq += " (%s)" % ", ".join("%s %s" % (uop.get(c, c), f_int(n))
                                              for c, n in by_count(r["h_sqe"])[:3])
            p("| %s | %s | %s | %s | %s | %s | %s | %s | %s / %s |" % (
                name, l, f2(r.get("cpu_us_per_io"), "%.0f"), f2(r.get("cpu_vcpu_us_per_io"), "%.0f"),
                f2(r.get("cpu_other_us_per_io"), "%.0f"), sq, f2(r.get("async_per_io"), "%.3f"),
                f2(r.get("clock_ratio"), "%.3f"), f_int(r.get("com1_data")), f_int(r.get("tty_tx"))))
    p("")

    # What takes a vCPU out of the guest: the lab kernel's interrupts (an interrupt on a
    # CPU that runs a vCPU is an INTR exit) and the guest's MSR writes (MSR exits).
    if any(res.get((v, n), {}).get("lab_irq") or res.get((v, n), {}).get("h_msr")
           for n, _o in jobs for v, _l in VMMS):
        msr_names = {0x6e0: "TSC_DEADLINE", 0x80b: "x2APIC EOI", 0x830: "x2APIC ICR (IPI)",
                     0x4b564d04: "KVM_PV_EOI_EN", 0x838: "x2APIC TMICT"}
        p("Per request, the lab kernel's own interrupts in the window (its /proc/interrupts, all "
          "CPUs: LOC its timer, which also runs the guests' emulated APIC timers; RES reschedule "
          "IPIs; CAL function-call IPIs, which carry wake-ups of a thread on another CPU; dev: "
          "its disk and others) and the guest's MSR exits by MSR (kvm:kvm_msr):")
        p("")
        p("| job | VMM | LOC | RES | CAL | dev | MSR writes: top 3 |")
        p("|---|---|---|---|---|---|---|")
        for name, _o in jobs:
            for v, l in VMMS:
                r = res.get((v, name), {})
                li, hm, ios = r.get("lab_irq"), r.get("h_msr"), r.get("ios")
                if not ios or (li is None and hm is None):
                    p("| %s | %s | n/a | n/a | n/a | n/a | n/a |" % (name, l))
                    continue
                li = li or {}
                dev = sum(n for k, n in li.items() if k.startswith("dev:"))
                top = ""
                if hm:
                    w = [(k, n) for k, n in hm.items()
                         if isinstance(k, tuple) and len(k) == 2 and str(k[1]) == "1"]
                    w.sort(key=lambda kv: -kv[1])
                    top = ", ".join("%s %.3f" % (msr_names.get(int(k[0]), hex(int(k[0]))), n / ios)
                                    for k, n in w[:3])
                p("| %s | %s | %.3f | %.3f | %.3f | %.3f | %s |" % (
                    name, l, li.get("LOC", 0) / ios, li.get("RES", 0) / ios, li.get("CAL", 0) / ios,
                    dev / ios, top or "n/a"))
        p("")

    # Whole runs (boot included).
    p("Whole guest runs (boot, all jobs, power-off):")
    p("")
    p("| VMM | exit | wall (s) | guest up at (s, its uptime) | VM exits | exits to VMM, by reason "
      "| hvrun --exit-stats | data.raw in the lab's page cache after the run |")
    p("|---|---|---|---|---|---|---|---|")
    for v, l in VMMS:
        run = runs.get(v, {})
        dc = run.get("data_cached")
        dc = "%.1f MiB" % (int(dc) / 1048576.0) if dc and dc.isdigit() else "n/a"
        p("| %s |" % " | ".join(map(str, whole_run_cells(l, run, uname) + [dc])))
    p("")

    # ---- Anomalies ----
    notes = []
    infos = []
    for v, l in VMMS:
        run = runs.get(v, {})
        con = run.get("console")
        notes += exit_notes(l, run)
        dc = run.get("data_cached") or ""
        if dc.isdigit() and int(dc) > 16 * 1048576:
            notes.append("%s: %.0f MiB of data.raw were in the lab's page cache after the run, "
                         "despite cache=none" % (l, int(dc) / 1048576.0))
        notes += guest_notes(l, con)
        for n, msgs in (con or {}).get("fioerr", {}).items():
            notes.append("%s guest fio %s: `%s`" % (l, n, " / ".join(msgs[:3])[:300]))
        notes += stderr_note(l, run.get("stderr"))
        try:
            clines = open(R(v + ".console"), errors="replace").read().splitlines()
        except OSError:
            clines = []
        kernel_notes(l, clines, (con or {}).get("dmesg"), notes, infos)
        if os.path.exists(R(v + ".boot1.run.env")):
            b1 = read_env(R(v + ".boot1.run.env"))
            hu = parse_hist(R(v + ".boot1.all.uexit.hist")) or {}
            tail = console_tail(R, v + ".boot1.console", 3)
            other, _x = stderr_lines(R(v + ".boot1.stderr"))
            infos.append("%s: the first boot died before the guest's script started (exit %s "
                         "after %s s; exits that reached the VMM: %s; console tail: %s%s) and "
                         "was booted once more; its files are %s.boot1.*" % (
                             l, b1.get("rc", "?"), b1.get("wall_s", "?"),
                             ", ".join("%s %s" % (uname(c), f_int(n))
                                       for c, n in by_count(hu)) or "n/a",
                             "; ".join("`%s`" % x[:120] for x in tail) or "empty",
                             "; stderr: " + "; ".join("`%s`" % x[:160] for x in other[:3])
                             if other else "", v))
        try:
            rawb = open(R(v + ".console.raw"), "rb").read()
        except OSError:
            rawb = None
        if rawb is not None:
            odd = sum(1 for b in rawb if b < 0x20 and b not in (9, 10, 13))
            if odd:
                notes.append("%s console: %d control byte(s) besides TAB/CR/LF in the raw output "
                             "(%d NUL)" % (l, odd, rawb.count(0)))
    for (t, n), r in sorted(res.items()):
        if r["status"] != "ok":
            notes.append("%s %s: %s" % (dict(TARGETS)[t], n, r["status"]))
        elif r.get("dev_ios") is not None and r.get("ios") and \
                abs(r["dev_ios"] - r["ios"]) > 0.02 * r["ios"] + 2:
            notes.append("%s %s: fio counted %d IOs, the guest's vdb completed %d requests"
                         % (dict(TARGETS)[t], n, r["ios"], r["dev_ios"]))
    for (t, n), r in sorted(res.items()):
        if t == "host":
            continue
        cr = r.get("clock_ratio")
        if cr is not None and not 0.9 <= cr <= 1.1:
            notes.append("%s %s: the guest's clock ran %.3fx the lab's over the window (%.1f s "
                         "vs %.1f s): its IOPS and latencies are off by that much"
                         % (dict(TARGETS)[t], n, cr, r["guest_window_s"], r["window_s"]))
        c1, tx = r.get("com1_data"), r.get("tty_tx")
        if c1 is not None and tx is not None and c1 > tx + 64:
            notes.append("%s %s: %d COM1 data-port exits in the window, but the guest's ttyS0 "
                         "sent only %d characters: %d port accesses the tty did not make "
                         "(printk's console writes? see the kernel log)"
                         % (dict(TARGETS)[t], n, c1, tx, c1 - tx))
    notes += vs_qemu_notes(jobs, g, "request", "_per_io", "iops", "IOPS", "uexits_per_io")
    out += anomaly_lines(notes, infos, "all runs ok, no VMM stderr besides --exit-stats, "
                         "hvrun within 1.5x of QEMU's exits and interrupts per request")
    print("\n".join(out))

    # ---- CSV ----
    if a.csv:
        reasons = csv_exit_reasons(res)
        cols = ["target", "job", "fio_options", "status", "iops", "mib_s", "ios", "dev_ios",
                "lat_mean_us", "lat_p50_us", "lat_p99_us", "slat_mean_us", "usr_cpu", "sys_cpu",
                "disk_util", "window_s", "guest_window_s", "clock_ratio", "exits", "exits_per_io",
                "uexits", "uexits_per_io", "pio_exits", "com1_data_exits", "tty_tx",
                "mmio_writes", "mmio_writes_per_io", "irqs", "irqs_per_io", "uring_sqes",
                "uring_sqes_per_io", "uring_async", "uring_async_per_io", "vmm_cpu_s",
                "vmm_cpu_vcpu_s", "vmm_cpu_other_s", "vmm_cpu_us_per_io",
                "vmm_cpu_vcpu_us_per_io", "vmm_cpu_other_us_per_io"]
        cols += ["exit_%s" % rname(c) for c in reasons]
        os.makedirs(os.path.dirname(os.path.abspath(a.csv)), exist_ok=True)
        with open(a.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(cols)
            for t, _l in TARGETS:
                for name, opts in jobs:
                    r = res.get((t, name), {})
                    row = [t, name, opts, r.get("status"), r.get("iops"), r.get("mibs"),
                           r.get("ios"), r.get("dev_ios")]
                    row += [r.get(k) for k in (
                        "lat_mean_us", "lat_p50_us", "lat_p99_us", "slat_mean_us", "usr_cpu",
                        "sys_cpu", "disk_util", "window_s", "guest_window_s", "clock_ratio",
                        "exits", "exits_per_io", "uexits", "uexits_per_io", "pio", "com1_data",
                        "tty_tx", "mmio_w", "mmio_w_per_io", "irqs", "irqs_per_io", "sqes",
                        "sqes_per_io", "async", "async_per_io", "cpu_s",
                        "cpu_vcpu_s", "cpu_other_s", "cpu_us_per_io", "cpu_vcpu_us_per_io",
                        "cpu_other_us_per_io")]
                    h = r.get("h_exit")
                    row += [h.get(c, 0) if h is not None else None for c in reasons]
                    w.writerow([csv_cell(x) for x in row])

    # ---- gnuplot data: one line per job ----
    if a.plot_data:
        with open(a.plot_data, "w") as f:
            f.write("# job hvrun_iops qemu_iops host_iops hvrun_mibs qemu_mibs host_mibs "
                    "hvrun_exits_per_io qemu_exits_per_io hvrun_irqs_per_io qemu_irqs_per_io\n")
            for name, _o in jobs:
                f.write('"%s" %s\n' % (name, " ".join(plot_cell(g(t, name, k)) for k, ts in (
                    ("iops", TARGETS), ("mibs", TARGETS), ("exits_per_io", VMMS),
                    ("irqs_per_io", VMMS)) for t, _l in ts)))

    ok = finished and a.lab_status == 0 and all(r["status"] == "ok" for r in res.values()) \
        and bool(jobs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

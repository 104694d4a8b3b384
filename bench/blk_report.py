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
import argparse
import csv
import json
import os
import re
import sys

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    from boot_report import svm_exit_names  # SVM exit names from <asm/svm.h>
except Exception:  # pragma: no cover - boot_report.py missing or broken
    def svm_exit_names(*_a, **_k):
        return {}

from boot_report import hist_entries, lab_status_lines  # noqa: E402 (after sys.path)

VMMS = [("hvrun", "hvrun"), ("qemu", "QEMU")]
TARGETS = VMMS + [("host", "host io_uring")]
KVM_H = "/usr/include/linux/kvm.h"
KMSG = re.compile(r"^\s*\[\s*\d+\.\d+\]")
# kvm_mmio "type": KVM_TRACE_MMIO_READ_UNSATISFIED 0, READ 1, WRITE 2
MMIO_TYPES = {0: "read-unsatisfied", 1: "read", 2: "write"}


def kvm_exit_names(path=KVM_H):
    names = {}
    try:
        for m in re.finditer(r"^#define\s+KVM_EXIT_(\w+)\s+(\d+)\s*$", open(path).read(), re.M):
            names.setdefault(int(m.group(2)), m.group(1))
    except OSError:
        pass
    # KVM_EXIT_HYPERV_* / XEN_* subtypes reuse small numbers: keep the main ones.
    for k, v in {0: "UNKNOWN", 1: "EXCEPTION", 2: "IO", 3: "HYPERCALL"}.items():
        names[k] = v
    return names


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


def parse_hist(path):
    """{key tuple: hits}; None if the file is missing."""
    entries = hist_entries(path)
    if entries is None:
        return None
    out = {}
    for fields, hits in entries:
        key = [n if n is not None else v.strip() for _k, v, n in fields]
        key = tuple(key) if len(key) > 1 else key[0]
        out[key] = out.get(key, 0) + hits
    return out


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


def hist_delta(begin, end):
    if begin is None or end is None:
        return None
    d = {k: end.get(k, 0) - begin.get(k, 0) for k in set(begin) | set(end)}
    return {k: v for k, v in d.items() if v}


def read_env(path):
    env = {}
    try:
        for line in open(path, errors="replace"):
            k, _, v = line.rstrip("\n").partition("=")
            if k:
                env[k] = v
    except OSError:
        pass
    return env


def load_json_text(text):
    """fio's JSON, possibly with kernel messages or fio warnings mixed in."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    lines = [l for l in text.splitlines() if not KMSG.match(l)]
    text = "\n".join(lines)
    i = text.find("{")
    if i < 0:
        return None
    try:
        return json.loads(text[i:])
    except ValueError:
        return None


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


def parse_console(path):
    """Per job: rc, irq before/after {name: n}, stat before/after [..], fio JSON text."""
    info, irqlines, jobs, errors, fioerr, dmesg = {}, "", {}, [], {}, None
    up = done = None
    try:
        lines = open(path, errors="replace").read().splitlines()
    except OSError:
        return None
    cur = None
    buf = []
    for line in lines:
        if cur is not None:
            if "HVBENCH-JSON-END" in line:
                jobs.setdefault(cur, {})["json"] = "\n".join(buf)
                cur, buf = None, []
            elif "HVBENCH-DMESG-END" in line and cur == "\0dmesg":
                dmesg = [re.sub(r"\x1b\[[0-9;]*m", "", x) for x in buf]
                cur, buf = None, []
            else:
                buf.append(line)
            continue
        i = line.find("HVBENCH-")
        if i < 0:
            continue
        rest = line[i + 8:]
        word, _, arg = rest.partition(" ")
        if word == "UP":
            up = arg
        elif word == "DONE":
            done = arg
        elif word == "ERROR":
            errors.append(arg)
        elif word == "INFO":
            for kv in arg.split():
                k, _, v = kv.partition("=")
                info[k] = v
        elif word == "IRQLINES":
            irqlines = arg
        elif word in ("BEGIN", "END"):
            parts = arg.split()
            if not parts:
                continue
            j = jobs.setdefault(parts[0], {})
            for kv in parts[1:]:
                k, _, v = kv.partition("=")
                if k == "rc":
                    j["rc"] = int(v) if v.isdigit() else v
                elif k == "t":
                    try:
                        j["t_" + word.lower()] = float(v)
                    except ValueError:
                        pass
        elif word == "TTY":
            parts = arg.split()
            if len(parts) == 3 and parts[2].isdigit():
                jobs.setdefault(parts[0], {})["tty_" + parts[1]] = int(parts[2])
        elif word == "DMESG-BEGIN":
            cur, buf = "\0dmesg", []
        elif word in ("IRQ", "STAT"):
            parts = arg.split()
            if len(parts) >= 2:
                j = jobs.setdefault(parts[0], {})
                if word == "IRQ":
                    j["irq_" + parts[1]] = {k: int(v) for k, _, v in
                                            (p.partition("=") for p in parts[2:]) if v.isdigit()}
                else:
                    j["stat_" + parts[1]] = [int(x) for x in parts[2:] if x.isdigit()]
        elif word in ("FIOERR", "JOBERR"):   # JOBERR: bench/net's (iperf3's stderr)
            name, _, msg = arg.partition(" ")
            fioerr.setdefault(name, []).append(msg)
        elif word == "JSON-BEGIN":
            cur, buf = arg.strip(), []
    return {"info": info, "irqlines": irqlines, "jobs": jobs, "errors": errors, "up": up,
            "done": done, "fioerr": fioerr, "dmesg": dmesg}


def parse_cpu(path):
    """(pid, process ticks, {tid: (ticks, comm)}) from a snap .cpu file; None if missing."""
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return None
    pid, total, threads = None, None, {}
    for l in lines:
        f = l.split(None, 3)
        if f[0] == "process" and len(f) == 4:
            pid, total = int(f[1]), int(f[2]) + int(f[3])
        elif len(f) >= 3 and f[0].isdigit():
            threads[int(f[0])] = (int(f[1]) + int(f[2]), f[3] if len(f) > 3 else "")
    return pid, total, threads


def is_vcpu(tid, pid, comm):
    """QEMU names its vCPU threads "CPU n/KVM"; hvrun's are "vcpuN" (older builds kept the
    process name)."""
    return bool(re.match(r"CPU \d+/KVM$|vcpu\d+$", comm)) or (comm == "hvrun" and tid != pid)


def cpu_delta(begin, end, hz):
    """Seconds of CPU in the window: (process, vCPU threads, other threads)."""
    if not begin or not end or begin[1] is None or end[1] is None:
        return None
    pid = end[0]
    vcpu = 0
    for tid, (ticks, comm) in end[2].items():
        if is_vcpu(tid, pid, comm):
            vcpu += ticks - begin[2].get(tid, (0, ""))[0]
    total = end[1] - begin[1]
    return total / hz, vcpu / hz, (total - vcpu) / hz


def stderr_lines(path):
    """hvrun/QEMU stderr without hvrun's --exit-stats block; and that block as a dict."""
    other, stats = [], {}
    try:
        lines = open(path, errors="replace").read().splitlines()
    except OSError:
        return other, stats
    in_stats = False
    for l in lines:
        if l.startswith("hvrun: VM exits that reached hvrun"):
            in_stats = True
            continue
        if in_stats:
            m = re.match(r"^\s+(\S+)\s+(\d+)$", l)
            if m:
                stats[m.group(1)] = int(m.group(2))
                continue
            m = re.match(r"^\s+\((port|MMIO) accesses no device claimed: (\d+)\)", l)
            if m:
                stats["unclaimed " + m.group(1)] = int(m.group(2))
                continue
            in_stats = False
        if l.strip():
            other.append(l)
    return other, stats


def f_int(x):
    return "n/a" if x is None else "{:,}".format(int(round(x)))


def f_rate(iops, mibs):
    if iops is None:
        return "n/a"
    return "%s / %.1f" % (f_int(iops), mibs)


def f2(x, fmt="%.2f"):
    return "n/a" if x is None else fmt % x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--mode", required=True)
    ap.add_argument("--date", required=True)
    ap.add_argument("--lab-status", type=int, default=0)
    ap.add_argument("--elapsed")
    ap.add_argument("--csv")
    ap.add_argument("--plot-data")
    a = ap.parse_args()
    R = lambda *p: os.path.join(a.raw, *p)

    svm = svm_exit_names()
    kvmx = kvm_exit_names()
    uop = uring_op_names()
    rname = lambda c: svm.get(c, "0x%x" % c) if isinstance(c, int) else str(c)
    uname = lambda c: kvmx.get(c, str(c)) if isinstance(c, int) else str(c)
    meta = read_env(R("meta.env"))
    hz = float(meta.get("clk_tck") or 100)
    tracing = meta.get("tracing") == "1"
    finished = os.path.exists(R("done"))
    jobs = []
    try:
        for line in open(R("jobs.txt")):
            line = line.rstrip("\n")
            if "|" in line:
                name, _, opts = line.partition("|")
                jobs.append((name, opts))
    except OSError:
        pass

    # ---- Load ----
    res = {}      # (target, job) -> dict
    runs = {}     # vmm -> run info
    for v, _ in VMMS:
        run = read_env(R(v + ".run.env"))
        con = parse_console(R(v + ".console"))
        other, xstats = stderr_lines(R(v + ".stderr"))
        run["console"] = con
        run["stderr"] = other
        run["exit_stats"] = xstats
        run["all"] = {k: parse_hist(R("%s.all.%s.hist" % (v, k))) for k in ("exit", "uexit")}
        markers = {}
        try:
            for line in open(R(v + ".markers")):
                w, n, t = line.split()
                markers[(w, n)] = float(t)
        except (OSError, ValueError):
            pass
        runs[v] = run
        for name, _opts in jobs:
            r = {"target": v, "job": name, "status": "ok"}
            cj = (con or {}).get("jobs", {}).get(name, {})
            m = fio_metrics(load_json_text(cj.get("json", ""))) if cj.get("json") else None
            if m:
                r.update(m)
            if "rc" not in cj:
                r["status"] = "no result" if run.get("rc") in (None, "0") else \
                    "no result (VMM exit %s)" % run.get("rc")
            elif cj["rc"] != 0:
                r["status"] = "fio exit %s" % cj["rc"]
            elif not m:
                r["status"] = "no fio JSON"
            ib, ia = cj.get("irq_before"), cj.get("irq_after")
            r["irqs"] = sum(ia.values()) - sum(ib.values()) if ib is not None and ia else None
            sb, sa = cj.get("stat_before"), cj.get("stat_after")
            r["dev_ios"] = ((sa[0] + sa[4]) - (sb[0] + sb[4])
                            if sb and sa and len(sb) > 4 and len(sa) > 4 else None)
            if ("BEGIN", name) in markers and ("END", name) in markers:
                r["window_s"] = markers[("END", name)] - markers[("BEGIN", name)]
                if cj.get("t_begin") is not None and cj.get("t_end") is not None:
                    r["guest_window_s"] = cj["t_end"] - cj["t_begin"]
                    r["clock_ratio"] = r["guest_window_s"] / r["window_s"]
            tb, ta = cj.get("tty_before"), cj.get("tty_after")
            r["tty_tx"] = ta - tb if tb is not None and ta is not None else None
            cd = cpu_delta(parse_cpu(R("%s.%s.begin.cpu" % (v, name))),
                           parse_cpu(R("%s.%s.end.cpu" % (v, name))), hz)
            r["cpu_s"], r["cpu_vcpu_s"], r["cpu_other_s"] = cd if cd else (None, None, None)
            r["lab_irq"] = hist_delta(parse_interrupts(R("%s.%s.begin.interrupts" % (v, name))),
                                      parse_interrupts(R("%s.%s.end.interrupts" % (v, name))))
            for k in ("exit", "uexit", "pio", "mmio", "sqe", "async", "msr"):
                r["h_" + k] = hist_delta(parse_hist(R("%s.%s.begin.%s.hist" % (v, name, k))),
                                         parse_hist(R("%s.%s.end.%s.hist" % (v, name, k))))
            r["exits"] = sum(r["h_exit"].values()) if r["h_exit"] is not None else None
            r["uexits"] = sum(r["h_uexit"].values()) if r["h_uexit"] is not None else None
            r["pio"] = sum(r["h_pio"].values()) if r["h_pio"] is not None else None
            r["mmio_w"] = (sum(n for (t, _g), n in r["h_mmio"].items() if t == 2)
                           if r["h_mmio"] is not None else None)
            r["com1_data"] = r["h_pio"].get(0x3f8, 0) if r["h_pio"] is not None else None
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
    if a.mode == "lab":
        where = ("lab (tests/lab/lab.sh: nested KVM on QEMU TCG -cpu max, one session; lab "
                 "kernel %s, %s vCPUs, \"%s\")" % (meta.get("where_kernel", "?"),
                                                   meta.get("nproc", "?"),
                                                   meta.get("cpu_model_name", "?")))
    else:
        where = "direct (host KVM %s, \"%s\")" % (meta.get("kvm_module", "?"),
                                                   meta.get("cpu_model_name", "?"))
    info = ((runs.get("hvrun") or {}).get("console") or {}).get("info") or \
        ((runs.get("qemu") or {}).get("console") or {}).get("info") or {}
    p("- where: " + where)
    p("- date: %s%s" % (a.date, "; measuring step took " + a.elapsed if a.elapsed else ""))
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
        tot = {}
        for (t, _n), r in res.items():
            for c, n in (r.get("h_exit") or {}).items():
                if r.get("ios"):
                    tot[c] = tot.get(c, 0) + n / r["ios"]
        top = sorted(tot, key=lambda c: -tot[c])[:8]
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
                    sq += " (%s)" % ", ".join("%s %s" % (uop.get(c, c), f_int(n)) for c, n in
                                              sorted(r["h_sqe"].items(), key=lambda kv: -kv[1])[:3])
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
        he, hu = run["all"]["exit"], run["all"]["uexit"]
        us = ", ".join("%s %s" % (uname(c), f_int(n))
                       for c, n in sorted((hu or {}).items(), key=lambda kv: -kv[1])) or "n/a"
        xs = ", ".join("%s %s" % (k, f_int(n)) for k, n in run["exit_stats"].items()) or "-"
        up = ((run.get("console") or {}).get("up") or "").replace("uptime=", "")
        dc = run.get("data_cached")
        dc = "%.1f MiB" % (int(dc) / 1048576.0) if dc and dc.isdigit() else "n/a"
        p("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            l, run.get("rc", "n/a"), run.get("wall_s", "n/a"), up or "n/a",
            f_int(sum(he.values())) if he is not None else "n/a", us, xs, dc))
    p("")

    # ---- Anomalies ----
    notes = []
    infos = []
    for v, l in VMMS:
        run = runs.get(v, {})
        con = run.get("console")
        if run.get("rc") not in (None, "0"):
            notes.append("%s exited %s%s" % (l, run.get("rc"),
                                             " (killed by the timeout)" if run.get("rc") in ("124", "137") else ""))
        if run.get("rc") is None:
            notes.append("%s: no run recorded" % l)
        dc = run.get("data_cached") or ""
        if dc.isdigit() and int(dc) > 16 * 1048576:
            notes.append("%s: %.0f MiB of data.raw were in the lab's page cache after the run, "
                         "despite cache=none" % (l, int(dc) / 1048576.0))
        if con is not None and con.get("done") != "ok":
            notes.append("%s: the guest did not finish its jobs (HVBENCH-DONE %s)" % (l, con.get("done")))
        for e in (con or {}).get("errors", []):
            notes.append("%s guest: %s" % (l, e))
        for n, msgs in (con or {}).get("fioerr", {}).items():
            notes.append("%s guest fio %s: `%s`" % (l, n, " / ".join(msgs[:3])[:300]))
        if run.get("stderr"):
            notes.append("%s stderr (%d lines): %s" % (l, len(run["stderr"]), "; ".join(
                "`%s`" % s[:200].replace("`", "'") for s in run["stderr"][:8])))
        try:
            kl = [x for x in open(R(v + ".console"), errors="replace").read().splitlines()
                  if KMSG.match(x) and not re.search(r"sysrq: Power Off|reboot: Power down", x)]
        except OSError:
            kl = []
        if kl:
            notes.append("%s guest kernel printed %d line(s) despite `quiet`: %s" % (
                l, len(kl), "; ".join("`%s`" % x.strip()[:160] for x in kl[:5])))
        dm = (con or {}).get("dmesg")
        if dm:
            # "hrtimer: interrupt took N ns": the emulator's slowness, nothing else.
            benign = [x for x in dm if "hrtimer: interrupt took" in x]
            rest = [x for x in dm if x not in benign]
            for lst, where in ((rest, notes), (benign, infos)):
                if lst:
                    where.append("%s guest kernel log during the jobs (%d lines): %s" % (
                        l, len(lst), "; ".join("`%s`" % x.strip()[:200].replace("`", "'")
                                               for x in lst[:8])))
        if os.path.exists(R(v + ".boot1.run.env")):
            b1 = read_env(R(v + ".boot1.run.env"))
            hu = parse_hist(R(v + ".boot1.all.uexit.hist")) or {}
            try:
                tail = [x for x in open(R(v + ".boot1.console"), errors="replace")
                        .read().splitlines() if x.strip()][-3:]
            except OSError:
                tail = []
            other, _x = stderr_lines(R(v + ".boot1.stderr"))
            infos.append("%s: the first boot died before the guest's script started (exit %s "
                         "after %s s; exits that reached the VMM: %s; console tail: %s%s) and "
                         "was booted once more; its files are %s.boot1.*" % (
                             l, b1.get("rc", "?"), b1.get("wall_s", "?"),
                             ", ".join("%s %s" % (uname(c), f_int(n)) for c, n in
                                       sorted(hu.items(), key=lambda kv: -kv[1])) or "n/a",
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
    for name, _o in jobs:
        he, qe = g("hvrun", name, "exits_per_io"), g("qemu", name, "exits_per_io")
        if he and qe and he > 1.5 * qe:
            notes.append("%s: hvrun takes %.1fx the VM exits per request of QEMU (%.2f vs %.2f)"
                         % (name, he / qe, he, qe))
        hq, qq = g("hvrun", name, "irqs_per_io"), g("qemu", name, "irqs_per_io")
        if hq and qq and hq > 1.5 * qq:
            notes.append("%s: hvrun raises %.1fx the interrupts per request of QEMU (%.3f vs %.3f)"
                         % (name, hq / qq, hq, qq))
        hi, qi = g("hvrun", name, "iops"), g("qemu", name, "iops")
        if hi and qi and hi < 0.67 * qi:
            notes.append("%s: hvrun reaches only %.0f%% of QEMU's IOPS" % (name, 100 * hi / qi))
        hu, qu = g("hvrun", name, "uexits_per_io"), g("qemu", name, "uexits_per_io")
        if hu is not None and qu is not None and hu > 0.05 and hu > 2 * qu:
            notes.append("%s: %.3f exits per request reach hvrun (QEMU %.3f): work outside "
                         "ioeventfd/irqfd" % (name, hu, qu))
    p("Anomalies:" if notes else "Anomalies: none found (all runs ok, no VMM stderr besides "
      "--exit-stats, hvrun within 1.5x of QEMU's exits and interrupts per request).")
    if notes:
        p("")
        for n in notes:
            p("- " + n)
    if infos:
        p("")
        p("Notes:")
        p("")
        for n in infos:
            p("- " + n)
    print("\n".join(out))

    # ---- CSV ----
    if a.csv:
        reasons = []
        for r in res.values():
            for c in sorted(r.get("h_exit") or {}, key=lambda c: -(r["h_exit"][c])):
                if c not in reasons:
                    reasons.append(c)
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
                    w.writerow(["" if x is None else
                                ("%.4f" % x if isinstance(x, float) else x) for x in row])

    # ---- gnuplot data: one line per job ----
    if a.plot_data:
        q = lambda x: "?" if x is None else "%.4f" % x
        with open(a.plot_data, "w") as f:
            f.write("# job hvrun_iops qemu_iops host_iops hvrun_mibs qemu_mibs host_mibs "
                    "hvrun_exits_per_io qemu_exits_per_io hvrun_irqs_per_io qemu_irqs_per_io\n")
            for name, _o in jobs:
                f.write('"%s" %s\n' % (name, " ".join(q(g(t, name, k)) for k, ts in (
                    ("iops", TARGETS), ("mibs", TARGETS), ("exits_per_io", VMMS),
                    ("irqs_per_io", VMMS)) for t, _l in ts)))

    ok = finished and a.lab_status == 0 and all(r["status"] == "ok" for r in res.values()) \
        and bool(jobs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""reportlib.py: what the reporting halves of the benchmarks share (bench/blk_report.py,
bench/net_report.py, bench/boot_report.py).

- names: SVM exit reasons (<asm/svm.h>), KVM_EXIT_* (<linux/kvm.h>), read at run time;
- the raw files the *-inner.sh scripts and bench/lib/marker_reader.py write: meta.env and
  VMM.run.env ("name=value"), jobs.txt, VMM.markers, the kvm:* histograms (VMM.JOB.begin|end
  .KIND.hist), the per-thread CPU ticks (.cpu), the guest's console with its HVBENCH-* lines,
  the VMM's stderr (hvrun's --exit-stats block apart);
- the job's window: its length in lab time and in guest time, histogram and CPU deltas;
- the report's pieces that read alike: the command line, the header lines, number
  formats, the exits-by-reason columns, whole-run cells, the anomaly notes and lists.
"""
import argparse
import json
import os
import re

SVM_H = "/usr/include/x86_64-linux-gnu/asm/svm.h"
ASM_KVM_H = "/usr/include/x86_64-linux-gnu/asm/kvm.h"
KVM_H = "/usr/include/linux/kvm.h"
# A kernel message line on the console ("[   12.345678] ...").
KMSG = re.compile(r"^\s*\[\s*\d+\.\d+\]")


# ---- Names ----

def svm_exit_names(svm_h=SVM_H, kvm_h=ASM_KVM_H):
    """{code: NAME} from the SVM_EXIT_* defines (NAME as in SVM_EXIT_NAME); exception
    intercepts (EXCP_BASE + vector) as "EXCP_PF" etc. from SVM_EXIT_REASONS."""
    names = {}
    try:
        text = open(svm_h).read()
    except OSError:
        return names
    for m in re.finditer(r"^#define\s+SVM_EXIT_(\w+)\s+(-?(?:0x[0-9a-fA-F]+|\d+))\s*$",
                         text, re.M):
        name, val = m.group(1), int(m.group(2), 0)
        if name in ("EXCP_BASE", "LAST_EXCP"):
            continue
        names.setdefault(val, name)
    base = next((int(m.group(1), 0) for m in
                 re.finditer(r"^#define\s+SVM_EXIT_EXCP_BASE\s+(\S+)", text, re.M)), None)
    vectors = {}
    try:
        for m in re.finditer(r"^#define\s+(\w+)_VECTOR\s+(\d+)\s*$", open(kvm_h).read(), re.M):
            vectors[m.group(1)] = int(m.group(2))
    except OSError:
        pass
    if base is not None:
        for m in re.finditer(r"SVM_EXIT_EXCP_BASE\s*\+\s*(\w+)_VECTOR", text):
            if m.group(1) in vectors:
                names[base + vectors[m.group(1)]] = "EXCP_" + m.group(1)
    return names


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


# ---- The lab kernel's histograms ----

HIST_LINE = re.compile(r"^\{\s*(.*?)\s*\}\s*hitcount:\s*(\d+)")


def hist_entries(path):
    """A kvm:* histogram file's entries as [(fields, hits)], fields a list of (name, text,
    last number or None) -- common_pid may print as "comm[  1234]"; None if no file."""
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return None
    entries = []
    for line in lines:
        m = HIST_LINE.match(line)
        if not m:
            continue
        fields = []
        for part in m.group(1).split(","):
            k, _, v = part.partition(":")
            num = re.findall(r"\d+", v)
            fields.append((k.strip(), v, int(num[-1]) if num else None))
        entries.append((fields, int(m.group(2))))
    return entries


def parse_hist(path):
    """{key tuple: hits} (a single key: the key itself); None if the file is missing."""
    entries = hist_entries(path)
    if entries is None:
        return None
    out = {}
    for fields, hits in entries:
        key = [n if n is not None else v.strip() for _k, v, n in fields]
        key = tuple(key) if len(key) > 1 else key[0]
        out[key] = out.get(key, 0) + hits
    return out


def hist_delta(begin, end):
    if begin is None or end is None:
        return None
    d = {k: end.get(k, 0) - begin.get(k, 0) for k in set(begin) | set(end)}
    return {k: v for k, v in d.items() if v}


def window_hists(R, vmm, job, kinds, parse=parse_hist):
    """{"h_KIND": END minus BEGIN of the job's window (None if a copy is missing)}."""
    return {"h_" + k: hist_delta(parse(R("%s.%s.begin.%s.hist" % (vmm, job, k))),
                                 parse(R("%s.%s.end.%s.hist" % (vmm, job, k))))
            for k in kinds}


def exit_counts(r):
    """The window's sums out of r's h_exit, h_uexit, h_pio, h_mmio (None where not counted):
    exits, exits that reached the VMM, port exits, COM1 data-port exits, MMIO writes."""
    r["exits"] = sum(r["h_exit"].values()) if r["h_exit"] is not None else None
    r["uexits"] = sum(r["h_uexit"].values()) if r["h_uexit"] is not None else None
    r["pio"] = sum(r["h_pio"].values()) if r["h_pio"] is not None else None
    r["com1_data"] = r["h_pio"].get(0x3f8, 0) if r["h_pio"] is not None else None
    # kvm_mmio "type": KVM_TRACE_MMIO_READ_UNSATISFIED 0, READ 1, WRITE 2
    r["mmio_w"] = (sum(n for (t, _g), n in r["h_mmio"].items() if t == 2)
                   if r["h_mmio"] is not None else None)


def by_count(d):
    """A histogram's items, most hits first."""
    return sorted(d.items(), key=lambda kv: -kv[1])


def top_exit_reasons(res, unit, n):
    """The n SVM exit reasons with the most exits per UNIT (r[unit]: requests or packets),
    summed over every row of res; each report shows as many as its table has room for."""
    tot = {}
    for r in res.values():
        for c, k in (r.get("h_exit") or {}).items():
            if r.get(unit):
                tot[c] = tot.get(c, 0) + k / r[unit]
    return sorted(tot, key=lambda c: -tot[c])[:n]


def csv_exit_reasons(res):
    """Every SVM exit reason of res's windows, in the order the CSV's columns take them."""
    reasons = []
    for r in res.values():
        for c in sorted(r.get("h_exit") or {}, key=lambda c: -(r["h_exit"][c])):
            if c not in reasons:
                reasons.append(c)
    return reasons


# ---- The other raw files ----

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


def read_jobs(path, fields):
    """jobs.txt's "NAME|..." lines as tuples of FIELDS strings (missing ones ""); the last
    one keeps whatever follows.  bench/blk's are NAME|FIO-OPTIONS, bench/net's
    NAME|IPERF3-OPTIONS|WHAT."""
    jobs = []
    try:
        for line in open(path):
            line = line.rstrip("\n")
            if "|" in line:
                jobs.append(tuple((line.split("|", fields - 1) + [""] * fields)[:fields]))
    except OSError:
        pass
    return jobs


def read_markers(path):
    """{("BEGIN"|"END", job): lab time} from VMM.markers."""
    markers = {}
    try:
        for line in open(path):
            w, n, t = line.split()
            markers[(w, n)] = float(t)
    except (OSError, ValueError):
        pass
    return markers


def load_json_text(text):
    """fio's or iperf3's JSON, possibly with kernel messages or warnings mixed in."""
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


def parse_console(path):
    """Per job: rc, irq before/after {name: n}, stat before/after [..], the JSON text."""
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


def load_run(R, vmm, run):
    """A guest run's files into run (its VMM.run.env): the console, the VMM's stderr and
    --exit-stats, the whole-run exit histograms; returns VMM.markers."""
    con = parse_console(R(vmm + ".console"))
    other, xstats = stderr_lines(R(vmm + ".stderr"))
    run["console"] = con
    run["stderr"] = other
    run["exit_stats"] = xstats
    run["all"] = {k: parse_hist(R("%s.all.%s.hist" % (vmm, k))) for k in ("exit", "uexit")}
    return read_markers(R(vmm + ".markers"))


# ---- A job's window ----

def no_result(run):
    """The status of a job the guest gave no result for."""
    return "no result" if run.get("rc") in (None, "0") else \
        "no result (VMM exit %s)" % run.get("rc")


def window(r, name, markers, cj):
    """The window's length in lab time (the markers), in guest time (t= on them) and their
    ratio; the characters ttyS0 sent in it."""
    if ("BEGIN", name) in markers and ("END", name) in markers:
        r["window_s"] = markers[("END", name)] - markers[("BEGIN", name)]
        if cj.get("t_begin") is not None and cj.get("t_end") is not None:
            r["guest_window_s"] = cj["t_end"] - cj["t_begin"]
            r["clock_ratio"] = r["guest_window_s"] / r["window_s"]
    tb, ta = cj.get("tty_before"), cj.get("tty_after")
    r["tty_tx"] = ta - tb if tb is not None and ta is not None else None


# ---- The report ----

def report_args():
    """The command line of blk_report.py and net_report.py."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--mode", required=True)
    ap.add_argument("--date", required=True)
    ap.add_argument("--lab-status", type=int, default=0)
    ap.add_argument("--elapsed")
    ap.add_argument("--csv")
    ap.add_argument("--plot-data")
    return ap.parse_args()


def exit_namers():
    """(rname, uname): the names of an SVM exit reason and of a KVM_EXIT_* reason (a key
    that is not a number, as it is)."""
    svm = svm_exit_names()
    kvmx = kvm_exit_names()
    rname = lambda c: svm.get(c, "0x%x" % c) if isinstance(c, int) else str(c)
    uname = lambda c: kvmx.get(c, str(c)) if isinstance(c, int) else str(c)
    return rname, uname


def raw_meta(R):
    """(meta.env, its clock ticks per second, whether the histograms were kept, whether the
    measuring step finished: the "done" file)."""
    meta = read_env(R("meta.env"))
    return (meta, float(meta.get("clk_tck") or 100), meta.get("tracing") == "1",
            os.path.exists(R("done")))


def lab_status_lines(status, finished, what):
    """The report's warning line about how the lab session ended, if it did not end well."""
    if status == 124:
        return ["- **LAB HANG** (lab.sh exit 124): the session stopped before " + what]
    if status == 125:
        return ["- **lab harness error** (lab.sh exit 125): see its messages on stderr"]
    if status != 0:
        return ["- **the measuring step exited %d**" % status]
    if not finished:
        return ["- **the measuring step did not finish** (no `done` file)"]
    return []


def where_lines(a, meta):
    """The header's "where" and "date" lines."""
    if a.mode == "lab":
        where = ("lab (tests/lab/lab.sh: nested KVM on QEMU TCG -cpu max,family=20,-erms,-fsrm, one session; lab "
                 "kernel %s, %s vCPUs, \"%s\")" % (meta.get("where_kernel", "?"),
                                                   meta.get("nproc", "?"),
                                                   meta.get("cpu_model_name", "?")))
    else:
        where = "direct (host KVM %s, \"%s\")" % (meta.get("kvm_module", "?"),
                                                   meta.get("cpu_model_name", "?"))
    return ["- where: " + where,
            "- date: %s%s" % (a.date, "; measuring step took " + a.elapsed if a.elapsed else "")]


def f_int(x):
    return "n/a" if x is None else "{:,}".format(int(round(x)))


def f2(x, fmt="%.2f"):
    return "n/a" if x is None else fmt % x


def csv_cell(x):
    return "" if x is None else ("%.4f" % x if isinstance(x, float) else x)


def plot_cell(x):
    return "?" if x is None else "%.4f" % x


def whole_run_cells(label, run, uname):
    """The first cells of a "Whole guest runs" row: VMM, exit, wall, guest up at, VM exits,
    exits to the VMM by reason, hvrun --exit-stats."""
    he, hu = run["all"]["exit"], run["all"]["uexit"]
    us = ", ".join("%s %s" % (uname(c), f_int(n)) for c, n in by_count(hu or {})) or "n/a"
    xs = ", ".join("%s %s" % (k, f_int(n)) for k, n in run["exit_stats"].items()) or "-"
    up = ((run.get("console") or {}).get("up") or "").replace("uptime=", "")
    return [label, run.get("rc", "n/a"), run.get("wall_s", "n/a"), up or "n/a",
            f_int(sum(he.values())) if he is not None else "n/a", us, xs]


# ---- Anomalies ----

def quote(s, n):
    return "`%s`" % s.strip()[:n].replace("`", "'")


def exit_notes(l, run):
    """A VMM that exited badly, or did not run."""
    notes = []
    if run.get("rc") not in (None, "0"):
        notes.append("%s exited %s%s" % (l, run.get("rc"), " (killed by the timeout)"
                                         if run.get("rc") in ("124", "137") else ""))
    if run.get("rc") is None:
        notes.append("%s: no run recorded" % l)
    return notes


def guest_notes(l, con):
    """A guest that did not finish its jobs, and the errors it printed."""
    notes = []
    if con is not None and con.get("done") != "ok":
        notes.append("%s: the guest did not finish its jobs (HVBENCH-DONE %s)" % (l, con.get("done")))
    for e in (con or {}).get("errors", []):
        notes.append("%s guest: %s" % (l, e))
    return notes


def stderr_note(l, lines, last=False):
    """The VMM's stderr besides --exit-stats: its first 8 lines, or (last) its last 10 and
    says so -- bench/net's failures are told by how a VMM's stderr ends."""
    if not lines:
        return []
    return ["%s stderr (%d lines%s): %s" % (
        l, len(lines), ", the last ones" if last else "",
        "; ".join("`%s`" % s[:200].replace("`", "'") for s in (lines[-10:] if last else lines[:8])))]


def kernel_notes(l, clines, dm, notes, infos):
    """Kernel lines on the guest's console despite `quiet` (CLINES: the console's lines),
    and the guest's kernel log of the jobs (DM): into notes, its "hrtimer: interrupt took N
    ns" lines (the emulator's slowness, nothing else) into infos."""
    kl = [x for x in clines if KMSG.match(x) and
          not re.search(r"sysrq: Power Off|reboot: Power down", x)]
    if kl:
        notes.append("%s guest kernel printed %d line(s) despite `quiet`: %s" % (
            l, len(kl), "; ".join("`%s`" % x.strip()[:160] for x in kl[:5])))
    if dm:
        benign = [x for x in dm if "hrtimer: interrupt took" in x]
        rest = [x for x in dm if x not in benign]
        for lst, where in ((rest, notes), (benign, infos)):
            if lst:
                where.append("%s guest kernel log during the jobs (%d lines): %s" % (
                    l, len(lst), "; ".join(quote(x, 200) for x in lst[:8])))


def console_tail(R, name, n):
    """The last n non-empty lines of RAW/NAME (a console)."""
    try:
        return [x for x in open(R(name), errors="replace").read().splitlines() if x.strip()][-n:]
    except OSError:
        return []


def vs_qemu_notes(jobs, g, unit, per, rate, rate_what, to_vmm):
    """hvrun against QEMU in each job: more than 1.5x its VM exits or interrupts per UNIT
    (r[KIND + PER]), below 2/3 of its RATE (RATE_WHAT: what the note calls it), more than
    twice the exits reaching the VMM (r[TO_VMM]: bench/net's leave out COM1's, the markers
    both VMMs get).  g(vmm, job, key) is the report's lookup."""
    notes = []
    for job in jobs:
        name = job[0]
        he, qe = g("hvrun", name, "exits" + per), g("qemu", name, "exits" + per)
        if he and qe and he > 1.5 * qe:
            notes.append("%s: hvrun takes %.1fx the VM exits per %s of QEMU (%.2f vs %.2f)"
                         % (name, he / qe, unit, he, qe))
        hq, qq = g("hvrun", name, "irqs" + per), g("qemu", name, "irqs" + per)
        if hq and qq and hq > 1.5 * qq:
            notes.append("%s: hvrun raises %.1fx the interrupts per %s of QEMU (%.3f vs %.3f)"
                         % (name, hq / qq, unit, hq, qq))
        hi, qi = g("hvrun", name, rate), g("qemu", name, rate)
        if hi and qi and hi < 0.67 * qi:
            notes.append("%s: hvrun reaches only %.0f%% of QEMU's %s" % (name, 100 * hi / qi,
                                                                        rate_what))
        hu, qu = g("hvrun", name, to_vmm), g("qemu", name, to_vmm)
        if hu is not None and qu is not None and hu > 0.05 and hu > 2 * qu:
            notes.append("%s: %.3f exits per %s reach hvrun (QEMU %.3f): work outside "
                         "ioeventfd/irqfd" % (name, hu, unit, qu))
    return notes


def anomaly_lines(notes, infos, none_found):
    """The report's "Anomalies" list (or NONE_FOUND, what "none" means), then "Notes"."""
    out = ["Anomalies:" if notes else "Anomalies: none found (%s)." % none_found]
    if notes:
        out.append("")
        out += ["- " + n for n in notes]
    if infos:
        out += ["", "Notes:", ""]
        out += ["- " + n for n in infos]
    return out

#!/usr/bin/env python3
"""boot_report.py: the reporting half of bench/boot.

    boot_report.py --raw DIR --runs N --mode direct|lab --kernel-version V --date D
                   [--lab-status RC] [--csv FILE] [--plot-prefix PREFIX]

Reads what bench/boot-inner.sh left in DIR (VMM-R.json, VMM-R.exit.hist, VMM-R.pio.hist,
meta.env, done), prints a markdown report on stdout, writes every run's numbers to the
CSV (one row per boot: times, status, memory, exits by reason, exits by I/O port), and
PREFIX-times.dat / PREFIX-exits.dat for bench/boot_plot.gp.

Exit reasons are named from the SVM exit codes in the kernel's uapi header
<asm/svm.h> (linux-libc-dev), read at run time.  The kvm_exit/kvm_pio histograms are
keyed by the thread id too; only the threads of the boot's own VMM process count.
Exit status: 0 if every expected boot is there and ok, else 1.
"""
import argparse
import csv
import json
import os
import re
import statistics
import sys

VMMS = [("hvrun", "hvrun"), ("qemu-q35", "QEMU q35"), ("qemu-microvm", "QEMU microvm")]
SVM_H = "/usr/include/x86_64-linux-gnu/asm/svm.h"
KVM_H = "/usr/include/x86_64-linux-gnu/asm/kvm.h"

# Legacy PC I/O ports: what the guest was talking to.
PORT_NAMES = [
    (0x20, 0x21, "PIC1"), (0xa0, 0xa1, "PIC2"), (0x40, 0x43, "PIT"), (0x61, 0x61, "port B"),
    (0x60, 0x60, "i8042 data"), (0x64, 0x64, "i8042 cmd"),
    (0x70, 0x70, "RTC index"), (0x71, 0x71, "RTC data"), (0x80, 0x80, "POST/delay"),
    (0x2e, 0x2f, "Super I/O cfg"), (0x4e, 0x4f, "Super I/O cfg"),
    (0x3f8, 0x3ff, "COM1"), (0x2f8, 0x2ff, "COM2"), (0x3e8, 0x3ef, "COM3"),
    (0x2e8, 0x2ef, "COM4"), (0x378, 0x37f, "LPT1"), (0x3b4, 0x3df, "VGA"),
    (0x1f0, 0x1f7, "IDE0"), (0x3f6, 0x3f6, "IDE0 ctl"), (0x3f0, 0x3f5, "floppy"),
    (0x4d0, 0x4d1, "ELCR"), (0x510, 0x511, "fw_cfg"), (0x402, 0x402, "SeaBIOS debug"),
    (0x600, 0x607, "ACPI PM1a"),
    (0x608, 0x60b, "ACPI PM timer"), (0xb000, 0xb007, "ACPI PM1a (PIIX4)"),
    (0xb008, 0xb00b, "ACPI PM timer (PIIX4)"),
    (0xcf8, 0xcfb, "PCI config addr"), (0xcfc, 0xcff, "PCI config data"),
    (0xcf9, 0xcf9, "reset ctl"),
]
COM_REGS = ["THR/RBR", "IER", "IIR/FCR", "LCR", "MCR", "LSR", "MSR", "SCR"]


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


def port_name(p):
    if 0x3f8 <= p <= 0x3ff:
        return "COM1 " + COM_REGS[p - 0x3f8]
    if p == 0xcf9:
        return "reset ctl"
    for lo, hi, n in PORT_NAMES:
        if lo <= p <= hi:
            return n
    return ""


def svm_exit_names(svm_h=SVM_H, kvm_h=KVM_H):
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


def parse_hist(path, key, tids):
    """{key value: hits} for the entries whose common_pid is one of tids (all if no tids);
    None if there is no histogram."""
    entries = hist_entries(path)
    if entries is None:
        return None
    out = {}
    for parsed, hits in entries:
        fields = {k: n for k, _v, n in parsed}
        if tids and fields.get("common_pid") not in tids:
            continue
        kv = fields.get(key)
        if kv is not None:
            out[kv] = out.get(kv, 0) + hits
    return out


def vmm_error(path):
    """The VMM's first error-looking stderr line (else its last line), for a failed boot."""
    try:
        lines = [l.strip() for l in open(path, errors="replace") if l.strip()]
    except OSError:
        return ""
    if not lines:
        return ""
    hit = next((l for l in lines if re.search(r"error|fail|cannot|unable", l, re.I)), lines[-1])
    return hit[:160].replace("`", "'")


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_s(x):
    return "n/a" if x is None else "%.2f" % x


def fmt_n(x):
    return "n/a" if x is None else "%d" % round(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--mode", required=True)
    ap.add_argument("--kernel-version", required=True)
    ap.add_argument("--date", required=True)
    ap.add_argument("--lab-status", type=int, default=0,
                    help="exit status of the measuring step (lab.sh or boot-inner.sh)")
    ap.add_argument("--elapsed", help="wall time of the measuring step, for the header")
    ap.add_argument("--csv")
    ap.add_argument("--plot-prefix")
    ap.add_argument("--svm-h", default=SVM_H)
    a = ap.parse_args()

    names = svm_exit_names(a.svm_h)
    rname = lambda c: names.get(c, "0x%x" % c)
    meta = {}
    try:
        for line in open(os.path.join(a.raw, "meta.env")):
            k, _, v = line.rstrip("\n").partition("=")
            meta[k] = v
    except OSError:
        pass
    finished = os.path.exists(os.path.join(a.raw, "done"))
    tracing = meta.get("tracing") == "1"

    # ---- Load every boot ----
    boots = {v: [] for v, _ in VMMS}
    for v, _ in VMMS:
        for r in range(1, a.runs + 1):
            b = {"vmm": v, "run": r}
            try:
                b.update(json.load(open(os.path.join(a.raw, f"{v}-{r}.json"))))
            except (OSError, ValueError):
                if a.lab_status == 124:
                    b["status"] = "no result (lab hang)"
                elif a.lab_status == 125:
                    b["status"] = "no result (lab harness error)"
                else:
                    b["status"] = "no result (measuring step exit %d)" % a.lab_status
            tids = set(b.get("tids") or [])
            b["exits"] = parse_hist(os.path.join(a.raw, f"{v}-{r}.exit.hist"), "exit_reason", tids)
            b["ports"] = parse_hist(os.path.join(a.raw, f"{v}-{r}.pio.hist"), "port", tids)
            b["exits_total"] = sum(b["exits"].values()) if b["exits"] is not None else None
            b["pio_total"] = sum(b["ports"].values()) if b["ports"] is not None else None
            boots[v].append(b)

    # ---- Summaries over the ok boots ----
    summ = {}
    all_reasons, all_ports = {}, {}
    for v, _ in VMMS:
        ok = [b for b in boots[v] if b.get("status") == "ok"]
        s = {"n_ok": len(ok), "n": len(boots[v])}
        for k in ("marker_s", "exit_s", "own_rss_mib", "own_rss_peak_mib",
                  "guest_rss_mib", "exits_total", "pio_total"):
            s[k] = med([b.get(k) for b in ok])
        for k in ("marker_s", "exit_s"):
            xs = [b.get(k) for b in ok if b.get(k) is not None]
            s[k + "_min"] = min(xs) if xs else None
            s[k + "_max"] = max(xs) if xs else None
        for what, agg in (("exits", all_reasons), ("ports", all_ports)):
            keys = set()
            for b in ok:
                keys.update((b[what] or {}).keys())
            m = {}
            for key in keys:
                m[key] = statistics.median([(b[what] or {}).get(key, 0) for b in ok])
                agg[key] = agg.get(key, 0) + sum((b[what] or {}).get(key, 0) for b in ok)
            s[what] = m
        summ[v] = s

    # ---- Report ----
    out = []
    p = out.append
    p("# bench/boot: boot to a marker line and power off, three VMMs")
    p("")
    where = a.mode
    if a.mode == "lab":
        where += (" (tests/lab/lab.sh: nested KVM on QEMU TCG -cpu max, one session; lab "
                  "kernel %s, guest CPU \"%s\" family %s model %s)"
                  % (meta.get("where_kernel", "?"), meta.get("cpu_model_name", "?"),
                     meta.get("cpu_family", "?"), meta.get("cpu_model", "?")))
    else:
        where += " (host KVM: %s, CPU \"%s\")" % (meta.get("kvm_module", "?"),
                                                 meta.get("cpu_model_name", "?"))
    p("- where: " + where)
    p("- guest kernel: Debian %s (bzImage), test initramfs, `console=ttyS0 quiet "
      "hvtest=marker`, 1 vCPU, 256 MiB" % a.kernel_version)
    p("- date: " + a.date)
    p("- VMMs: %s; %s (%s, -cpu host, -nodefaults)" % (
        meta.get("hvrun_version", "hvrun ?"), meta.get("qemu_version", "QEMU ?"),
        meta.get("qemu_machines", "?")))
    p("- runs: %d boots per VMM, interleaved; medians over the ok boots [min-max]%s"
      % (a.runs, "; measuring step took " + a.elapsed if a.elapsed else ""))
    if a.mode == "lab":
        p("- lab times are the emulator's: compare the VMMs with each other, not with "
          "real hardware; exit counts do not depend on the emulator's speed")
    for line in lab_status_lines(a.lab_status, finished, "all boots were done"):
        p(line)
    if not tracing:
        p("- VM exits: not counted (no kvm:kvm_exit tracing where it ran)")
    p("")
    p("| VMM | ok | to marker (s) | to exit (s) | VM exits | top exit reasons (median per boot) "
      "| top I/O ports (exits, median per boot) | own RSS (MiB) |")
    p("|---|---|---|---|---|---|---|---|")
    for v, label in VMMS:
        s = summ[v]
        reasons = sorted(s["exits"].items(), key=lambda kv: -kv[1])[:6]
        ports = sorted(s["ports"].items(), key=lambda kv: -kv[1])[:8]
        rs = ", ".join("%s %d" % (rname(c), round(n)) for c, n in reasons) or "n/a"
        ps = ", ".join("0x%x%s %d" % (pt, " " + port_name(pt) if port_name(pt) else "", round(n))
                       for pt, n in ports) or "n/a"
        rng = lambda k: ("%s [%s-%s]" % (fmt_s(s[k]), fmt_s(s[k + "_min"]), fmt_s(s[k + "_max"]))
                         if s[k] is not None else "n/a")
        p("| %s | %d/%d | %s | %s | %s | %s | %s | %s |"
          % (label, s["n_ok"], s["n"], rng("marker_s"), rng("exit_s"), fmt_n(s["exits_total"]),
             rs, ps, "n/a" if s["own_rss_mib"] is None else "%.1f" % s["own_rss_mib"]))
    p("")

    # Side by side: the union of each VMM's top reasons / ports.
    top_r = []
    for v, _ in VMMS:
        for c, _n in sorted(summ[v]["exits"].items(), key=lambda kv: -kv[1])[:6]:
            if c not in top_r:
                top_r.append(c)
    if top_r:
        p("VM exits by reason, median per boot (SVM exit code names from <asm/svm.h>):")
        p("")
        p("| reason | code | " + " | ".join(l for _, l in VMMS) + " |")
        p("|---|---|" + "---|" * len(VMMS))
        for c in sorted(top_r, key=lambda c: -all_reasons.get(c, 0)):
            p("| %s | 0x%x | %s |" % (rname(c), c, " | ".join(
                fmt_n(summ[v]["exits"].get(c, 0)) if summ[v]["n_ok"] else "n/a" for v, _ in VMMS)))
        p("| **all** | | %s |" % " | ".join(fmt_n(summ[v]["exits_total"]) for v, _ in VMMS))
        p("")
    top_p = []
    for v, _ in VMMS:
        for pt, _n in sorted(summ[v]["ports"].items(), key=lambda kv: -kv[1])[:8]:
            if pt not in top_p:
                top_p.append(pt)
    if top_p:
        p("I/O port exits (kvm:kvm_pio), median per boot:")
        p("")
        p("| port | device | " + " | ".join(l for _, l in VMMS) + " |")
        p("|---|---|" + "---|" * len(VMMS))
        for pt in sorted(top_p, key=lambda x: -all_ports.get(x, 0)):
            p("| 0x%x | %s | %s |" % (pt, port_name(pt), " | ".join(
                fmt_n(summ[v]["ports"].get(pt, 0)) if summ[v]["n_ok"] else "n/a" for v, _ in VMMS)))
        p("| **all** | | %s |" % " | ".join(fmt_n(summ[v]["pio_total"]) for v, _ in VMMS))
        p("")
    f1 = lambda x, f="%.1f": "n/a" if x is None else f % x
    n_ok = sum(summ[v]["n_ok"] for v, _ in VMMS)
    late = sum(1 for v, _ in VMMS for b in boots[v]
               if b.get("status") == "ok" and b.get("own_rss_from") != "marker")
    if n_ok:
        p("Own RSS: the VMM process's resident memory outside the guest-RAM mapping (the "
          "anonymous mapping of >= 256 MiB), from /proc/PID/smaps read the moment the marker "
          "arrived (%s).  Peak over the boot (start-up buffers included) / guest RAM "
          "touched at the marker, medians: " % (
              "all boots" if not late else
              "%d boot(s) missed it: their last periodic reading is used" % late)
          + "; ".join("%s %s / %s MiB" % (l, f1(summ[v]["own_rss_peak_mib"]),
                                          f1(summ[v]["guest_rss_mib"], "%.0f"))
                      for v, l in VMMS) + ".")
    failed = [b for v, _ in VMMS for b in boots[v] if b.get("status") != "ok"]
    if failed:
        p("")
        p("Failed boots (not in the medians):")
        p("")
        for b in failed:
            extra = ""
            if b.get("marker_s") is not None:
                extra = " (marker at %.2f s)" % b["marker_s"]
            if b.get("error"):
                extra += " (%s)" % b["error"]
            if b.get("status") == "timeout" and b.get("timeout_s"):
                extra += " (killed after %g s)" % b["timeout_s"]
            why = vmm_error(os.path.join(a.raw, "%s-%d.stderr" % (b["vmm"], b["run"])))
            if why:
                extra += ": `%s`" % why
            p("- %s run %d: %s%s" % (b["vmm"], b["run"], b.get("status"), extra))
    print("\n".join(out))

    # ---- CSV: one row per boot ----
    if a.csv:
        reasons = sorted(all_reasons, key=lambda c: -all_reasons[c])
        ports = sorted(all_ports, key=lambda x: -all_ports[x])
        for v, _ in VMMS:        # also the keys only failed boots have
            for b in boots[v]:
                reasons += [c for c in (b["exits"] or {}) if c not in reasons]
                ports += [x for x in (b["ports"] or {}) if x not in ports]
        cols = ["vmm", "run", "status", "rc", "marker_s", "exit_s", "own_rss_mib",
                "own_rss_from", "own_rss_peak_mib", "guest_rss_mib", "guest_maps_mib",
                "rss_total_peak_mib", "smaps_reads", "smaps_s", "exits_total"]
        cols += ["exit_%s" % rname(c) for c in reasons] + ["pio_total"]
        cols += ["port_0x%x" % x for x in ports]
        os.makedirs(os.path.dirname(os.path.abspath(a.csv)), exist_ok=True)
        with open(a.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(cols)
            for v, _ in VMMS:
                for b in boots[v]:
                    row = [v, b["run"], b.get("status"), b.get("rc"), b.get("marker_s"),
                           b.get("exit_s"), b.get("own_rss_mib"), b.get("own_rss_from"),
                           b.get("own_rss_peak_mib"), b.get("guest_rss_mib"),
                           " ".join(str(x) for x in b.get("guest_maps_mib") or []),
                           b.get("rss_total_peak_mib"), b.get("smaps_reads"), b.get("smaps_s"),
                           b["exits_total"]]
                    row += [(b["exits"] or {}).get(c, 0) if b["exits"] is not None else ""
                            for c in reasons]
                    row += [b["pio_total"]]
                    row += [(b["ports"] or {}).get(x, 0) if b["ports"] is not None else ""
                            for x in ports]
                    w.writerow(["" if x is None else x for x in row])

    # ---- Data for gnuplot ----
    if a.plot_prefix:
        q = lambda x: "?" if x is None else "%.4f" % x
        with open(a.plot_prefix + "-times.dat", "w") as f:
            f.write("# vmm marker marker_min marker_max exit exit_min exit_max own_rss\n")
            for v, l in VMMS:
                s = summ[v]
                f.write('"%s" %s %s %s %s %s %s %s\n' % (
                    l, q(s["marker_s"]), q(s["marker_s_min"]), q(s["marker_s_max"]),
                    q(s["exit_s"]), q(s["exit_s_min"]), q(s["exit_s_max"]),
                    q(s["own_rss_mib"])))
        # Exits stacked by reason: the 5 biggest over all VMMs, the rest as "other".
        top = sorted(all_reasons, key=lambda c: -all_reasons[c])[:5]
        with open(a.plot_prefix + "-exits.dat", "w") as f:
            f.write("vmm " + " ".join(rname(c) for c in top) + " other\n")
            for v, l in VMMS:
                s = summ[v]
                if not s["n_ok"] or s["exits_total"] is None:
                    f.write('"%s"' % l + " ?" * (len(top) + 1) + "\n")
                    continue
                vals = [s["exits"].get(c, 0) for c in top]
                f.write('"%s" %s %d\n' % (l, " ".join("%d" % round(x) for x in vals),
                                          max(0, round(s["exits_total"] - sum(vals)))))

    all_ok = finished and a.lab_status == 0 and not failed
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())

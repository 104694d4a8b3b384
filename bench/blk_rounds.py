#!/usr/bin/env python3
"""blk_rounds.py CSV...: what several bench/blk sessions say together.

Each CSV is one session's build/bench/blk-results.csv (hvrun, QEMU and the host side by
side in one lab run).  A lab session is noisy: the emulator's speed drifts, and one
session can favour either VMM.  So each comparison is made inside a session first
(hvrun's number against QEMU's from the same run), and only then summed up over the
sessions: the median of the per-session ratios, and in how many sessions hvrun was at
least as good.  Prints markdown on stdout.
"""
import csv
import statistics
import sys

# (column, label, better): better is "high" or "low"
METRICS = [
    ("iops", "IOPS", "high"),
    ("exits_per_io", "VM exits/request", "low"),
    ("mmio_writes_per_io", "notifications (MMIO writes)/request", "low"),
    ("irqs_per_io", "interrupts/request", "low"),
    ("vmm_cpu_us_per_io", "VMM CPU us/request", "low"),
]


def number(row, col):
    try:
        v = float(row.get(col, ""))
    except ValueError:
        return None
    return v if row.get("status") == "ok" else None


def load(path):
    """{(target, job): row} of one session."""
    with open(path, newline="") as f:
        return {(r["target"], r["job"]): r for r in csv.DictReader(f)}


def fmt(v, col):
    if v is None:
        return "n/a"
    if col == "iops":
        return "{:,.0f}".format(v)
    if col == "vmm_cpu_us_per_io":
        return "{:,.0f}".format(v)
    return "{:.3f}".format(v)


def main(paths):
    sessions = [load(p) for p in paths]
    jobs = []
    for s in sessions:
        for (_, job) in s:
            if job not in jobs:
                jobs.append(job)
    print("# bench/blk over %d sessions" % len(sessions))
    print()
    print("Each session ran hvrun and QEMU side by side in one lab run. Per job and measure: "
          "the median of each VMM over the sessions that measured it, the median of the "
          "per-session ratios hvrun/QEMU, and in how many of the sessions with both "
          "numbers hvrun was at least as good (higher IOPS, or at most QEMU's count per "
          "request). Sessions: %s." % ", ".join(paths))
    print()
    print("| job | measure | hvrun median | QEMU median | hvrun/QEMU (median of sessions) | hvrun at least as good | host io_uring median |")
    print("|---|---|---|---|---|---|---|")
    for job in jobs:
        for col, label, better in METRICS:
            hv, qe, host, ratios, good, pairs = [], [], [], [], 0, 0
            for s in sessions:
                h = number(s.get(("hvrun", job), {}), col)
                q = number(s.get(("qemu", job), {}), col)
                o = number(s.get(("host", job), {}), col)
                if h is not None:
                    hv.append(h)
                if q is not None:
                    qe.append(q)
                if o is not None:
                    host.append(o)
                if h is not None and q is not None:
                    pairs += 1
                    if q > 0:
                        ratios.append(h / q)
                    if (h >= q) if better == "high" else (h <= q):
                        good += 1
            med = lambda xs: statistics.median(xs) if xs else None
            ratio = med(ratios)
            print("| %s | %s | %s | %s | %s | %s | %s |" % (
                job, label, fmt(med(hv), col), fmt(med(qe), col),
                "n/a" if ratio is None else "%.2fx" % ratio,
                "%d of %d" % (good, pairs) if pairs else "n/a",
                fmt(med(host), col) if col == "iops" else ""))
    # How far from the limit: hvrun's IOPS against the host's fio, per session.
    print()
    print("| job | hvrun / host io_uring IOPS per session | median |")
    print("|---|---|---|")
    for job in jobs:
        rs = []
        for s in sessions:
            h = number(s.get(("hvrun", job), {}), "iops")
            o = number(s.get(("host", job), {}), "iops")
            rs.append(h / o if h is not None and o else None)
        got = [r for r in rs if r is not None]
        print("| %s | %s | %s |" % (job, ", ".join("n/a" if r is None else "%.2f" % r for r in rs),
                                     "%.2f" % statistics.median(got) if got else "n/a"))
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print("usage: blk_rounds.py SESSION.csv...", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""boot_timer.py: time one VMM boot for bench/boot.

    boot_timer.py [--timeout S] [--marker TEXT] [--mark NAME=TEXT]... [--ram-mib N]
                  [--interval S] [--max-duty F] [--console FILE] [--stderr FILE]
                  [--copy-at-mark NAME SRC DST]... -- COMMAND [ARGS...]

Starts COMMAND with stdin from /dev/null and stdout on a pipe, and measures, from just
before the spawn (time.monotonic()):
  marker_s  when TEXT first shows up on its stdout (the guest's serial console);
  NAME_s    for each --mark, when its TEXT first shows up (e.g. --mark
            "bootloader=HVBENCH bootloader": a line the boot loader prints);
  exit_s    when the process has exited (waitpid returned).
The console is searched as a byte stream, so a text split over two reads is found.
--copy-at-mark NAME SRC DST copies the file SRC to DST the moment mark NAME (or "marker")
is seen, before the console is read any further (bench/boot: the kvm_exit histograms at
the boot loader's line, to split the exits into firmware + boot loader and the rest).

Memory: "own" memory is the Rss of every mapping in /proc/PID/smaps except the guest's
RAM, i.e. the anonymous mappings (no path) of at least --ram-mib MiB.  smaps is read the
moment the marker arrives (the guest is up and still running: it powers off right after
printing it).  As that can race with the exit, smaps is also read periodically: every
--interval s (50 ms), but never more than --max-duty of the time (reading smaps of a
QEMU with 300 mappings takes ~80 ms inside the nested lab, and a sampler that keeps a
CPU busy would slow the VMM it measures).  own_rss_mib is the reading at the marker, or
if that one missed, the last periodic one (own_rss_from says which); own_rss_peak_mib is
the largest reading (start-up buffers, such as the kernel image being loaded, included).
rss_total_peak_mib is the peak of /proc/PID/statm's resident size (guest RAM included),
read every --interval.  The process's thread ids are collected every --interval too (the
kvm_exit tracepoint's common_pid is the id of a vCPU thread).

Prints one JSON object on stdout.  status is "ok" only if the marker (and every --mark)
was seen and the process exited 0 within --timeout; else "no-marker", "no-NAME",
"exit-status-N", "signal-N", "timeout" (the process was killed) or "spawn-error".  Exit status: 0 if ok, else 1.
"""
import argparse
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time

PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def read_smaps(pid, ram_kib):
    """(own_kib, guest_kib, [guest mapping sizes in KiB]), or None if the process is gone
    or exiting (its address space already torn down)."""
    try:
        with open(f"/proc/{pid}/smaps", "rb") as f:
            data = f.read()
    except OSError:
        return None
    own = guest = 0
    big = []
    is_guest = False
    hexdigits = b"0123456789abcdef"
    for line in data.split(b"\n"):
        if not line:
            continue
        if line[0] in hexdigits:
            # "start-end perms offset dev inode [path]": a mapping's header.
            parts = line.split(None, 5)
            start, end = parts[0].split(b"-")
            size = (int(end, 16) - int(start, 16)) // 1024
            anon = len(parts) < 6 or not parts[5].strip()
            is_guest = anon and size >= ram_kib
            if is_guest:
                big.append(size)
        elif line.startswith(b"Rss:"):
            kib = int(line.split()[1])
            if is_guest:
                guest += kib
            else:
                own += kib
    if own == 0:
        return None
    return own, guest, big


def read_statm_kib(pid):
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE_KIB
    except (OSError, IndexError, ValueError):
        return None


def task_ids(pid):
    try:
        return [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []


def mib(kib):
    return None if kib is None else round(kib / 1024, 2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--marker", default="HVTEST marker")
    ap.add_argument("--mark", action="append", default=[], metavar="NAME=TEXT",
                    help="also time when TEXT first shows up, as NAME_s")
    ap.add_argument("--copy-at-mark", action="append", default=[], nargs=3,
                    metavar=("NAME", "SRC", "DST"), help="copy SRC to DST when NAME is seen")
    ap.add_argument("--ram-mib", type=int, default=256)
    ap.add_argument("--interval", type=float, default=0.05)
    ap.add_argument("--max-duty", type=float, default=0.05)
    ap.add_argument("--console", help="copy of the process's stdout")
    ap.add_argument("--stderr", help="file for the process's stderr (default: inherit)")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not cmd:
        ap.error("no COMMAND")

    marker = a.marker.encode()
    # The texts to find: (name, bytes); "marker" is --marker's.
    marks = [("marker", marker)]
    for m in a.mark:
        name, eq, text = m.partition("=")
        if not eq or not name or not text or name == "marker":
            ap.error("--mark wants NAME=TEXT (NAME not 'marker'): %r" % m)
        marks.append((name, text.encode()))
    longest = max(len(t) for _, t in marks)
    ram_kib = a.ram_mib * 1024
    res = {"status": None, "rc": None, "marker_s": None, "exit_s": None,
           "own_rss_mib": None, "own_rss_from": None, "own_rss_peak_mib": None,
           "guest_rss_mib": None, "guest_maps_mib": [], "rss_total_peak_mib": None,
           "smaps_reads": 0, "smaps_s": 0.0, "tids": [], "console_bytes": 0}
    for name, _ in marks[1:]:
        res[name + "_s"] = None
    console = open(a.console, "wb") if a.console else None
    errf = open(a.stderr, "wb") if a.stderr else None

    t0 = time.monotonic()
    try:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=errf, close_fds=True)
    except OSError as e:
        res["status"] = "spawn-error"
        res["error"] = str(e)
        print(json.dumps(res))
        return 1

    fd = p.stdout.fileno()
    os.set_blocking(fd, False)
    tids = set()
    st = {"peak": None, "last": None, "marker": None, "guest": None, "total_peak": None}

    def smaps_sample():
        """One smaps reading; returns its duration."""
        ts = time.monotonic()
        s = read_smaps(p.pid, ram_kib)
        d = time.monotonic() - ts
        res["smaps_s"] += d
        if s is None:
            return d, None
        own, guest, big = s
        res["smaps_reads"] += 1
        st["peak"] = own if st["peak"] is None else max(st["peak"], own)
        st["last"] = own
        st["guest"] = guest
        if big:
            res["guest_maps_mib"] = [round(b / 1024, 1) for b in big]
        return d, own

    def light_sample():
        tids.update(task_ids(p.pid))
        t = read_statm_kib(p.pid)
        if t is not None:
            st["total_peak"] = t if st["total_peak"] is None else max(st["total_peak"], t)

    tail = b""
    deadline = t0 + a.timeout
    next_light = next_smaps = t0
    timed_out = False
    while True:
        now = time.monotonic()
        if now >= deadline:
            timed_out = True
            break
        if now >= next_light:
            light_sample()
            next_light = now + a.interval
        if now >= next_smaps and res["marker_s"] is None:
            d, _ = smaps_sample()
            next_smaps = time.monotonic() + max(a.interval, d / a.max_duty)
        wake = min(next_light, deadline)
        if res["marker_s"] is None:
            wake = min(wake, next_smaps)
        r, _, _ = select.select([fd], [], [], max(0.0, wake - time.monotonic()))
        if not r:
            continue
        data = os.read(fd, 65536)
        if not data:
            break       # EOF: the process is exiting
        res["console_bytes"] += len(data)
        if console:
            console.write(data)
        buf = tail + data
        for name, text in marks:
            if res[name + "_s"] is not None or text not in buf:
                continue
            res[name + "_s"] = time.monotonic() - t0
            for n, src, dst in a.copy_at_mark:
                if n == name:
                    try:
                        shutil.copyfile(src, dst)
                    except OSError as e:
                        res.setdefault("copy_errors", []).append(str(e))
            if name == "marker":
                light_sample()
                _, own = smaps_sample()
                st["marker"] = own
        tail = buf[-longest:]

    rc = None
    if not timed_out:
        try:
            rc = p.wait(timeout=max(0.0, deadline - time.monotonic()))
            res["exit_s"] = time.monotonic() - t0
        except subprocess.TimeoutExpired:
            timed_out = True
    if timed_out:
        p.send_signal(signal.SIGKILL)
        rc = p.wait()
    # Whatever is left in the pipe (a killed process), for the console copy.
    try:
        while True:
            data = os.read(fd, 65536)
            if not data:
                break
            if console:
                console.write(data)
    except OSError:
        pass
    if console:
        console.close()

    res["rc"] = rc
    if timed_out:
        res["status"] = "timeout"
        res["timeout_s"] = a.timeout
    elif rc < 0:
        res["status"] = f"signal-{-rc}"
    elif rc != 0:
        res["status"] = f"exit-status-{rc}"
    elif res["marker_s"] is None:
        res["status"] = "no-marker"
    elif any(res[n + "_s"] is None for n, _ in marks):
        res["status"] = "no-" + next(n for n, _ in marks if res[n + "_s"] is None)
    else:
        res["status"] = "ok"
    if st["marker"] is not None:
        res["own_rss_mib"], res["own_rss_from"] = mib(st["marker"]), "marker"
    elif st["last"] is not None:
        res["own_rss_mib"], res["own_rss_from"] = mib(st["last"]), "periodic"
    res["own_rss_peak_mib"] = mib(st["peak"])
    res["guest_rss_mib"] = mib(st["guest"])
    res["rss_total_peak_mib"] = mib(st["total_peak"])
    for k in ["marker_s", "exit_s", "smaps_s"] + [n + "_s" for n, _ in marks[1:]]:
        if res[k] is not None:
            res[k] = round(res[k], 4)
    res["tids"] = sorted(tids)
    print(json.dumps(res))
    return 0 if res["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())

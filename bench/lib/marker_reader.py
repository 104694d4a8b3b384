#!/usr/bin/env python3
"""marker_reader.py: reads a VMM's stdout (the guest's serial console) for bench/blk-inner.sh
and bench/net-inner.sh, and copies the lab kernel's counters the moment a marker arrives.

    marker_reader.py RAW VMM TPIDFILE START [--name NAME] [--interrupts] [--tap TAP]
                     [--vhost] [--stall SECONDS] [KIND=EVENTDIR]...

Python, not a bash `read` loop: under TCG that fell seconds behind the console, and the
histograms must be copied when the marker arrives, not later.  Writes
  RAW/VMM.console.raw  the bytes
  RAW/VMM.console      the lines, CR dropped (flushed line by line: a lab fault keeps what
                       came, and a stuck guest's last words can be read while it hangs)
  RAW/VMM.markers      "BEGIN|END JOB LAB-TIME", one line per marker
and at each "HVBENCH-BEGIN JOB" / "HVBENCH-END JOB" line, with PREFIX = RAW/VMM.JOB.begin|end:
  PREFIX.KIND.hist     EVENTDIR/hist of each KIND=EVENTDIR given
  PREFIX.cpu           the VMM's CPU ticks: "process PID UTIME STIME", then "TID UTIME
                       STIME COMM" per thread (with --vhost also the vhost-PID kernel
                       threads: vhost-net's workers are not the VMM's threads in Linux 6.1)
  PREFIX.interrupts    with --interrupts: the lab kernel's /proc/interrupts (bench/blk)
  PREFIX.tap           with --tap TAP: /sys/class/net/TAP/statistics, "name=value" (bench/net)
and RAW/VMM.all.KIND.hist (and .interrupts, .tap) at EOF.  The VMM's pid: the child of
timeout, whose pid is in TPIDFILE.  START: the lab time the run started (progress lines say
"lab +N s").  With --stall, a guest that prints nothing for SECONDS is taken as stuck:
RAW/VMM.stalled says after how long, and the VMM gets TERM, 15 s later KILL (bench/net:
a guest that stops under the network load; bench/blk's run timeout does that job there).
Progress on stderr, "NAME: VMM: ...".
"""
import argparse
import os
import select
import signal
import sys
import time

TAPSTATS = ("rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_dropped", "tx_dropped",
            "rx_errors", "tx_errors")


def stat_line(path):
    """utime and stime (clock ticks) of a /proc/.../stat file."""
    with open(path) as f:
        x = f.read().rsplit(")", 1)[1].split()
    return x[11], x[12]


class Reader:
    def __init__(self, a):
        self.a = a
        self.evs = [e.split("=", 1) for e in a.events]
        self.pid = None
        self.rawf = open(self.path("console.raw"), "wb")
        self.con = open(self.path("console"), "w")
        self.marks = open(self.path("markers"), "w")

    def path(self, *x):
        return os.path.join(self.a.raw, self.a.vmm + "." + ".".join(x))

    def say(self, msg):
        sys.stderr.write("%s: %s: %s\n" % (self.a.name, self.a.vmm, msg))
        sys.stderr.flush()

    def snap(self, prefix, pid):
        a = self.a
        if a.interrupts:
            # The lab kernel's own interrupts (timer, IPIs, its disk): what kicks a vCPU out
            # (INTR exits).
            try:
                with open("/proc/interrupts") as f, open(prefix + ".interrupts", "w") as o:
                    o.write(f.read())
            except OSError:
                pass
        for k, d in self.evs:
            try:
                with open(d + "/hist") as f:
                    data = f.read()
            except OSError:
                continue
            with open(prefix + "." + k + ".hist", "w") as f:
                f.write(data)
        if a.tap:
            t = []
            for s in TAPSTATS:
                try:
                    with open("/sys/class/net/%s/statistics/%s" % (a.tap, s)) as f:
                        t.append("%s=%s" % (s, f.read().strip()))
                except OSError:
                    pass
            if t:
                with open(prefix + ".tap", "w") as f:
                    f.write("\n".join(t) + "\n")
        if not pid:
            return
        out = []
        try:
            ut, st = stat_line("/proc/%d/stat" % pid)
            out.append("process %d %s %s" % (pid, ut, st))
            for tid in os.listdir("/proc/%d/task" % pid):
                try:
                    ut, st = stat_line("/proc/%d/task/%s/stat" % (pid, tid))
                    with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                        comm = f.read().strip()
                except OSError:
                    continue
                out.append("%s %s %s %s" % (tid, ut, st, comm))
        except (OSError, IndexError):
            return
        if a.vhost:
            # vhost-net's worker: a kernel thread "vhost-PID" (Linux 6.1), not one of the VMM's.
            want = "vhost-%d" % pid
            for p in os.listdir("/proc"):
                if not p.isdigit():
                    continue
                try:
                    with open("/proc/%s/comm" % p) as f:
                        comm = f.read().strip()
                    if comm == want:
                        ut, st = stat_line("/proc/%s/stat" % p)
                        out.append("%s %s %s %s" % (p, ut, st, comm))
                except (OSError, IndexError):
                    continue
        with open(prefix + ".cpu", "w") as f:
            f.write("\n".join(out) + "\n")

    def find_pid(self):
        if self.pid is None:
            try:
                tp = open(self.a.tpidfile).read().strip()
                self.pid = int(open("/proc/%s/task/%s/children" % (tp, tp)).read().split()[0])
            except (OSError, ValueError, IndexError):
                pass

    def line_in(self, b, now):
        self.rawf.write(b)
        line = b.decode("utf-8", "replace").rstrip("\n").rstrip("\r")
        self.find_pid()
        i = line.find("HVBENCH-")
        if i >= 0:
            w = line[i + 8:].split()
            if len(w) > 1 and w[0] in ("BEGIN", "END"):
                self.snap(self.path(w[1], w[0].lower()), self.pid)
                self.marks.write("%s %s %.6f\n" % (w[0], w[1], now))
                self.marks.flush()
                self.say(line[i + 8:] + " (lab +%.1f s)" % (now - self.a.start))
            elif w and w[0] in ("UP", "NETUP", "DONE", "ERROR"):
                self.say(line[i + 8:] + " (at %.0f s)" % (now - self.a.start))
        self.con.write(line + "\n")
        self.con.flush()
        self.rawf.flush()

    def run(self):
        stall = self.a.stall
        fd = sys.stdin.fileno()
        buf = b""
        last = self.a.start
        kill_at = None
        while True:
            r, _w, _x = select.select([fd], [], [], 2.0)
            now = time.time()
            if not r:
                self.find_pid()
                if stall is None:
                    continue
                if self.pid and kill_at is None and now - last > stall:
                    with open(self.path("stalled"), "w") as f:
                        f.write("%.0f\n" % (now - last))
                    self.say("the guest printed nothing for %.0f s: stopping the VMM (pid %d)"
                             % (now - last, self.pid))
                    try:
                        os.kill(self.pid, signal.SIGTERM)
                    except OSError:
                        pass
                    kill_at = now + 15
                elif kill_at and now > kill_at:
                    try:
                        os.kill(self.pid, signal.SIGKILL)
                    except OSError:
                        pass
                    kill_at = float("inf")
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                b, buf = buf.split(b"\n", 1)
                self.line_in(b + b"\n", now)
            last = now
        if buf:
            self.line_in(buf, time.time())
        self.snap(self.path("all"), None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("vmm")
    ap.add_argument("tpidfile")
    ap.add_argument("start", type=float)
    ap.add_argument("events", nargs="*", metavar="KIND=EVENTDIR")
    ap.add_argument("--name", default="bench")
    ap.add_argument("--interrupts", action="store_true")
    ap.add_argument("--tap")
    ap.add_argument("--vhost", action="store_true")
    ap.add_argument("--stall", type=float)
    Reader(ap.parse_intermixed_args()).run()


if __name__ == "__main__":
    main()

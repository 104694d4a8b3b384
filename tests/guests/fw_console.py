#!/usr/bin/env python3
"""fw_console.py: drive a VMM's serial console (firmware, boot loader, installer) by script.

Usage:
  fw_console.py [--timeout SECS] [--log FILE] --steps FILE -- VMM [ARGS...]

Starts VMM ARGS with a pseudo-terminal as its stdin/stdout/stderr (as a person at a
terminal would: hvrun and QEMU's -serial stdio put it in raw mode) and runs the steps
of FILE in order, one per line (blank lines and "#" lines skipped):

  expect NAME SECS REGEX   wait up to SECS s for REGEX (Python syntax) in the console
                           text seen since the previous match; escape sequences
                           (ANSI/VT100 cursor moves, colours, charset switches) and
                           \\r are removed first, so a newt screen's words can be matched
  send TEXT                type TEXT; \\r \\n \\t \\e \\xNN are decoded
  sleep SECS               wait (while reading the console)
  term SECS                stop the VMM with SIGTERM; SIGKILL if it is still there after
                           SECS s (that is reported: "HVSTEP n term: killed")
  kill                     SIGKILL the VMM (for a VMM that cannot stop by itself)
  exit SECS                wait up to SECS s for the VMM to exit by itself

Each finished step prints "HVSTEP n NAME ok after T s" on stdout (expect steps also
"HVSTEP n NAME matched: TEXT"); then "HVEXPECT vmm-exit rc=N after T s" (N is the
VMM's status, 128+S for signal S, as in the shell).  python3 standard library only; the
VMM on its pty is vmm_pty.py's (shared with console_session.py).

Exit status: the VMM's exit status once every step ran, or
  2  bad usage
  3  a step timed out (the VMM is killed; the console's last 3 KiB, cleaned, on stderr)
  4  the VMM exited while a step waited for console output
  5  the VMM did not exit within an "exit" step (it is killed then)
"""
import re
import signal
import sys
import time

from vmm_pty import VmmPty

EXIT_USAGE, EXIT_TIMEOUT, EXIT_EARLY, EXIT_NOEXIT = 2, 3, 4, 5
TAIL = 3072
# CSI sequences, charset designations, other two-byte escapes, SO/SI, and \r.
ESCAPES = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()*+][0-9A-Za-z]|\x1b[=>78cDEHMZ]|[\x0e\x0f\r]")


class Failure(Exception):
    def __init__(self, code, msg):
        super().__init__(msg)
        self.code = code


def usage(msg):
    sys.stderr.write("fw_console: %s\nusage: fw_console.py [--timeout S] [--log FILE] "
                     "--steps FILE -- VMM [ARGS...]\n" % msg)
    sys.exit(EXIT_USAGE)


def decode_text(t):
    return (t.replace("\\r", "\r").replace("\\n", "\n").replace("\\t", "\t")
            .replace("\\e", "\x1b"))


def parse_steps(path):
    steps = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            words = line.split(" ", 3)
            op = words[0]
            try:
                if op == "expect":
                    steps.append(("expect", words[1], float(words[2]), re.compile(words[3], re.S)))
                elif op == "send":
                    t = line[len("send "):]
                    t = re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), t)
                    steps.append(("send", "send", decode_text(t)))
                elif op in ("sleep", "term", "exit"):
                    steps.append((op, op, float(words[1])))
                elif op == "kill":
                    steps.append(("kill", "kill"))
                else:
                    usage("unknown step: %s" % line)
            except (IndexError, ValueError, re.error) as e:
                usage("bad step '%s': %s" % (line, e))
    return steps


class Console(VmmPty):
    """The VMM on a pty; its output cleaned of escape sequences, kept since the last match."""

    def __init__(self, argv, logpath, deadline):
        super().__init__(argv, logpath, rows=25, cols=80, who="fw_console")
        self.deadline = deadline
        self.raw = b""          # undecoded tail (an escape sequence may be cut)
        self.text = ""          # cleaned text since the last match
        self.tail = ""

    def got(self, data):
        super().got(data)
        self.raw += data
        # Keep a possibly unfinished escape sequence for the next read.
        cut = self.raw.rfind(b"\x1b")
        if cut >= 0 and len(self.raw) - cut < 16 and not ESCAPES.match(self.raw, cut):
            done, self.raw = self.raw[:cut], self.raw[cut:]
        else:
            done, self.raw = self.raw, b""
        t = ESCAPES.sub(b"", done).decode("utf-8", "replace")
        self.text += t
        self.tail = (self.tail + t)[-TAIL:]

    def wait_secs(self, secs):
        return self.wait_exit(min(self.deadline, time.monotonic() + secs))


def run(c, steps, out):
    for n, step in enumerate(steps, 1):
        op, name = step[0], step[1]
        if op == "expect":
            secs, rx = step[2], step[3]
            end = min(c.deadline, time.monotonic() + secs)
            while True:
                m = rx.search(c.text)
                if m:
                    c.text = c.text[m.end():]
                    out("HVSTEP %d %s matched: %s" % (n, name, m.group(0)[-200:].replace("\n", "\\n")))
                    break
                if time.monotonic() >= end:
                    raise Failure(EXIT_TIMEOUT, "step %d (%s): no /%s/ within %.0f s"
                                  % (n, name, rx.pattern, secs))
                if not c.pump(end) and not rx.search(c.text):
                    # Gone, and its last output (drained by pump) does not match either.
                    raise Failure(EXIT_EARLY, "step %d (%s): the VMM exited (status %s) while "
                                  "waiting for /%s/" % (n, name, c.exited, rx.pattern))
        elif op == "send":
            if not c.send(step[2].encode(), c.deadline):
                raise Failure(EXIT_EARLY, "step %d: the VMM's console is gone" % n)
        elif op == "sleep":
            end = time.monotonic() + step[2]
            while time.monotonic() < end and c.pump(end):
                pass
        elif op == "term":
            c.signal(signal.SIGTERM)
            if not c.wait_secs(step[2]):
                out("HVSTEP %d term: still running %.0f s after SIGTERM: killed" % (n, step[2]))
                c.signal(signal.SIGKILL)
                c.wait_exit(time.monotonic() + 10)
        elif op == "kill":
            c.signal(signal.SIGKILL)
            c.wait_exit(time.monotonic() + 10)
        elif op == "exit":
            if not c.wait_secs(step[2]):
                raise Failure(EXIT_NOEXIT, "step %d: the VMM did not exit within %.0f s" % (n, step[2]))
        out("HVSTEP %d %s ok after %.1f s" % (n, name, c.elapsed()))


def main():
    argv = sys.argv[1:]
    if "--" not in argv:
        usage("no VMM command (give it after --)")
    end = argv.index("--")
    opts, vmm = argv[:end], argv[end + 1:]
    timeout, logpath, stepfile = 600.0, None, None
    i = 0
    while i < len(opts):
        if opts[i] in ("--timeout", "--log", "--steps") and i + 1 < len(opts):
            if opts[i] == "--timeout":
                timeout = float(opts[i + 1])
            elif opts[i] == "--log":
                logpath = opts[i + 1]
            else:
                stepfile = opts[i + 1]
            i += 2
        else:
            usage("unknown option %s" % opts[i])
    if not vmm or not stepfile:
        usage("need --steps FILE and a VMM command")
    steps = parse_steps(stepfile)

    def out(s):
        sys.stdout.write(s + "\n")
        sys.stdout.flush()

    c = Console(vmm, logpath, time.monotonic() + timeout)
    rc = None
    try:
        run(c, steps, out)
        if not c.reap():
            # Steps done and the VMM still runs: that is the script's omission.
            c.signal(signal.SIGKILL)
            c.wait_exit(time.monotonic() + 10)
            out("HVEXPECT the VMM was still running after the last step: killed")
        rc = c.exited
        out("HVEXPECT vmm-exit rc=%s after %.1f s" % (rc, c.elapsed()))
    except Failure as e:
        running = not c.reap()
        if running:
            c.signal(signal.SIGKILL)
            c.wait_exit(time.monotonic() + 10)
        out("HVEXPECT failed after %.1f s: %s" % (c.elapsed(), e))
        out("HVEXPECT vmm-exit rc=%s%s" % (c.exited, " (killed by fw_console)" if running else ""))
        sys.stderr.write("fw_console: %s; last console output (escape sequences removed):\n%s\n"
                         % (e, c.tail))
        rc = e.code
    finally:
        c.close()
    sys.exit(rc if rc is not None else 255)


if __name__ == "__main__":
    main()

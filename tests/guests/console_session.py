#!/usr/bin/env python3
"""console_session.py: log in on a guest's console and run shell commands there.

Usage:
  console_session.py [OPTIONS] -- VMM [ARGS...]

Starts VMM ARGS (hvrun, or QEMU with its console on stdio) with a pseudo-terminal
as its stdin/stdout/stderr, waits for the guest's "login:" prompt, logs in, runs the
commands given in order, then types the final command (default: poweroff) and waits
for the VMM to exit.  python3 standard library only; the VMM on its pty is
vmm_pty.py's (shared with fw_console.py).

Options:
  --timeout SECS       global limit for the whole session (default 900)
  --log FILE           write everything the console printed (raw bytes) to FILE
  --login-tty TTY      wait for the login prompt of the getty on TTY (e.g. hvc0): the
                       first "login: " within 1000 bytes after the issue banner's TTY
                       ("Debian GNU/Linux 12 HOST TTY"), not another console's prompt
                       that the VMM's output may also carry
  --user NAME          login name (default root)
  --password PW        password (default root)
  --cmd CMD            a shell command to run in the guest (repeatable)
  --host-cmd CMD       a command to run here, on the VMM's side, with sh -c (repeatable);
                       its environment has VMM_PID, the VMM's process id
  --cmds FILE          commands, one per line, in order; blank lines and lines starting
                       with "#" are skipped; a line "@host CMD" is a --host-cmd
  --host-cmd-after N CMD
                       run CMD here (as --host-cmd) right after item N (1-based) of
                       the list above; its output is framed as HVHOST-... N
  --final CMD          what to type after the last command (default: poweroff);
                       "" types nothing and just waits for the VMM to exit
  --keep-printk        leave the guest kernel's console log level alone (by default
                       the session runs "dmesg -n 1" so that kernel messages do not
                       interleave with command output; dmesg still has them all)

Items (guest and host commands) are numbered 1, 2, ... in the order given; each one's
output goes to stdout, with "\\r\\n" turned into "\\n", framed as
  HVCMD-BEGIN n             HVHOST-BEGIN n
  ...output...              ...output...
  HVCMD-END n rc=STATUS     HVHOST-END n rc=STATUS
Guest commands run with stdin from /dev/null, each through "eval" in one bash (so
`cd`, variables and functions carry over; a syntax error is status 2, not a hang); they
must fit in about 2,900 bytes (the tty's 4 KiB line limit, after base64).

Lines starting with "HVSESSION " on stdout tell how it went, e.g.
  HVSESSION login-prompt after 61.2 s
  HVSESSION logged-in after 63.0 s
  HVSESSION vmm-exit rc=0 after 140.7 s

Exit status: the VMM's own exit status (128+N when signal N killed it, as in the
shell) once it exited after the session, or
  2  bad usage
  3  the global timeout passed (the VMM is killed; the last 2 KiB of console output
     and what was awaited are printed on stderr)
  4  the VMM exited before the session was over (before the final command), and
     no host command had run that may have stopped it on purpose
  5  the login failed ("Login incorrect")
If a host command ran and the VMM exited afterwards (e.g. "kill -9 $VMM_PID"), the
remaining items are skipped and the status is the VMM's.  The VMM's own status may
collide with 2-5: the HVSESSION vmm-exit line always has it.
"""
import base64
import os
import re
import subprocess
import sys
import time

from vmm_pty import VmmPty

EXIT_USAGE = 2
EXIT_TIMEOUT = 3
EXIT_EARLY = 4
EXIT_LOGIN = 5
TAIL = 2048
MAX_LINE = 4000      # the guest tty's canonical line limit is 4095 bytes


class Timeout(Exception):
    pass


class VmmExited(Exception):
    pass


def usage(msg):
    sys.stderr.write("console_session: %s\n" % msg)
    sys.stderr.write("usage: console_session.py [--timeout S] [--log FILE] [--cmd CMD]... "
                     "[--host-cmd CMD]... [--cmds FILE] [--host-cmd-after N CMD]... "
                     "[--final CMD] -- VMM [ARGS...]\n")
    sys.exit(EXIT_USAGE)


def parse_args(argv):
    opts = {"timeout": 900.0, "log": None, "user": "root", "password": "root",
            "final": "poweroff", "keep_printk": False, "login_tty": None}
    items = []          # (kind, text): kind "guest" or "host"
    after = []          # (n, text)
    if "--" not in argv:
        usage("no VMM command (give it after --)")
    i = 0
    end = argv.index("--")
    while i < end:
        a = argv[i]
        def val(k=1):
            if i + k >= end:
                usage("%s needs %d value(s)" % (a, k))
            return argv[i + 1:i + 1 + k]
        if a == "--timeout":
            try:
                opts["timeout"] = float(val()[0])
            except ValueError:
                usage("--timeout needs seconds")
            i += 2
        elif a in ("--log", "--user", "--password", "--final", "--login-tty"):
            opts[a[2:].replace("-", "_")] = val()[0]
            i += 2
        elif a == "--keep-printk":
            opts["keep_printk"] = True
            i += 1
        elif a == "--cmd":
            items.append(("guest", val()[0]))
            i += 2
        elif a == "--host-cmd":
            items.append(("host", val()[0]))
            i += 2
        elif a == "--cmds":
            try:
                with open(val()[0], encoding="utf-8") as f:
                    for line in f:
                        line = line.rstrip("\n")
                        if not line.strip() or line.lstrip().startswith("#"):
                            continue
                        if line.startswith("@host "):
                            items.append(("host", line[len("@host "):]))
                        else:
                            items.append(("guest", line))
            except OSError as e:
                usage("--cmds: %s" % e)
            i += 2
        elif a == "--host-cmd-after":
            n, text = val(2)
            if not n.isdigit():
                usage("--host-cmd-after N CMD: N must be a number")
            after.append((int(n), text))
            i += 3
        else:
            usage("unknown option %s" % a)
    vmm = argv[end + 1:]
    if not vmm:
        usage("no VMM command (give it after --)")
    # Number the items; insert the --host-cmd-after ones (framed with the number of
    # the item they follow).
    seq = []
    for n, (kind, text) in enumerate(items, 1):
        seq.append((n, kind, text))
        seq.extend((n, "host", t) for m, t in after if m == n)
    for m, t in after:
        if m < 1 or m > len(items):
            usage("--host-cmd-after %d: there are %d items" % (m, len(items)))
    for n, kind, text in seq:
        if kind == "guest" and len(wrap(n, text)) > MAX_LINE:
            usage("command %d is too long for the guest's tty line (%d bytes)" % (n, len(text)))
    return opts, seq, vmm


def wrap(n, text):
    """The line typed for guest command n: markers the typed text itself cannot match."""
    b64 = base64.b64encode(text.encode()).decode()
    return ("echo HVCMD-BEGIN $((%d)); eval \"$(echo %s | base64 -d)\" </dev/null; "
            "echo HVCMD-END $((%d)) rc=$?\r" % (n, b64, n))


class Session(VmmPty):
    """The VMM on a wide pty (fewer wrapped or truncated lines from the guest's tools);
    its output kept until a wait consumes it."""

    def __init__(self, vmm, timeout, logpath):
        super().__init__(vmm, logpath, rows=50, cols=250, who="console_session")
        self.deadline = self.t0 + timeout
        self.buf = b""          # console output not yet consumed by a wait
        self.tail = b""         # the last TAIL bytes, for timeout reports

    def note(self, text):
        sys.stdout.write("HVSESSION %s\n" % text)
        sys.stdout.flush()

    def got(self, data):
        super().got(data)
        self.buf += data
        self.tail = (self.tail + data)[-TAIL:]

    def expect(self, pattern, what):
        """Wait for regex `pattern` (bytes) in the output; return the match and
        drop the output up to its end."""
        rx = re.compile(pattern, re.S)
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            if time.monotonic() >= self.deadline:
                raise Timeout(what)
            if not self.pump(self.deadline) and not rx.search(self.buf):
                raise VmmExited(what)

    def type(self, text):
        if not self.send(text.encode(), self.deadline):
            if time.monotonic() >= self.deadline:
                raise Timeout("the console to accept input")
            raise VmmExited("the console to accept input")

    def wait_for_exit(self):
        """Take the console's output until the VMM exits (or the deadline passes)."""
        if not self.wait_exit(self.deadline):
            raise Timeout("the VMM to exit")
        return self.exited


def text(b):
    return b.replace(b"\r\n", b"\n").replace(b"\r", b"").decode("utf-8", "replace")


def run_host(s, n, cmd):
    sys.stdout.write("HVHOST-BEGIN %d\n" % n)
    sys.stdout.flush()
    env = dict(os.environ, VMM_PID=str(s.pid))
    left = max(1.0, s.deadline - time.monotonic())
    try:
        p = subprocess.run(["sh", "-c", cmd], env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=left)
        out, rc = p.stdout, p.returncode
    except subprocess.TimeoutExpired as e:
        raise Timeout("host command %d: %s" % (n, cmd)) from e
    if rc < 0:
        rc = 128 - rc
    o = out.decode("utf-8", "replace")
    sys.stdout.write(o if not o or o.endswith("\n") else o + "\n")
    sys.stdout.write("HVHOST-END %d rc=%d\n" % (n, rc))
    sys.stdout.flush()


def session(s, opts, seq):
    """Returns the exit status; raises Timeout."""
    host_ran = False
    try:
        if opts["login_tty"]:
            # Kernel messages may come in between (seen: an ahci line inside the
            # banner): allow some text between the banner's TTY and the prompt.
            prompt = rb"\b" + re.escape(opts["login_tty"].encode()) + rb"\b.{0,1000}?login: "
        else:
            prompt = rb"login: "
        s.expect(prompt, "the login prompt")
        s.note("login-prompt after %.1f s" % s.elapsed())
        # agetty may discard what was typed before it was ready, and print the
        # prompt again: then type the name again (a few times).
        for attempt in range(4):
            time.sleep(0.3)
            s.type(opts["user"] + "\r")
            m = s.expect(rb"([Pp]assword: *)|login: ", "the password prompt")
            if m.group(1):
                break
        else:
            raise Timeout("a password prompt (the name was typed 4 times)")
        s.type(opts["password"] + "\r")
        # Either a shell prompt or a refusal.
        m = s.expect(rb"(Login incorrect)|[#$] $|[#$] ", "a shell prompt after logging in")
        if m.group(1):
            s.note("login failed after %.1f s" % s.elapsed())
            sys.stderr.write("console_session: login as %s failed\n" % opts["user"])
            s.stop()
            return EXIT_LOGIN
        # A plain bash without line editing, echo off: what we type is not
        # repeated back, and nothing but command output comes between markers.
        setup = "stty -echo cols 250 rows 50; export TERM=dumb PAGER=cat SYSTEMD_PAGER= " \
                "SYSTEMD_COLORS=0 LC_ALL=C PS1= PS2=; "
        if not opts["keep_printk"]:
            setup += "dmesg -n 1; "
        # The login shell's readline swallows typeahead: wait until it has run the
        # line (the marker) before typing to the new shell.
        s.type(setup + "echo HVSETUP-$((40+2)); exec bash --norc --noprofile --noediting\r")
        s.expect(rb"HVSETUP-42\r*\n", "the login shell to run the setup line")
        s.type("echo HVREADY-$((40+2))\r")
        s.expect(rb"HVREADY-42\r*\n", "the shell to become ready")
        s.note("logged-in after %.1f s" % s.elapsed())
        for n, kind, cmd in seq:
            if kind == "host":
                run_host(s, n, cmd)
                host_ran = True
                if s.reap():
                    s.note("the VMM exited after host command %d" % n)
                    break
                continue
            s.type(wrap(n, cmd))
            s.expect(rb"HVCMD-BEGIN %d\r*\n" % n, "the start of command %d: %s" % (n, cmd))
            m = s.expect(rb"(.*?)HVCMD-END %d rc=(\d+)\r*\n" % n,
                         "the end of command %d: %s" % (n, cmd))
            out = text(m.group(1))
            sys.stdout.write("HVCMD-BEGIN %d\n%s%sHVCMD-END %d rc=%s\n" % (
                n, out, "" if not out or out.endswith("\n") else "\n", n, m.group(2).decode()))
            sys.stdout.flush()
        else:
            if opts["final"]:
                s.type(opts["final"] + "\r")
        rc = s.wait_for_exit()
    except VmmExited as e:
        rc = s.wait_for_exit()
        if not host_ran:
            s.note("vmm-exit rc=%d after %.1f s (early: while waiting for %s)"
                   % (rc, s.elapsed(), e))
            sys.stderr.write("console_session: the VMM exited (status %d) while waiting for %s; "
                             "last console output:\n%s\n" % (rc, e, text(s.tail)))
            return EXIT_EARLY
    s.note("vmm-exit rc=%d after %.1f s" % (rc, s.elapsed()))
    return rc


def main():
    opts, seq, vmm = parse_args(sys.argv[1:])
    s = Session(vmm, opts["timeout"], opts["log"])
    try:
        rc = session(s, opts, seq)
    except Timeout as e:
        s.note("timeout after %.1f s waiting for %s" % (s.elapsed(), e))
        s.stop()
        sys.stderr.write("console_session: timed out after %.0f s waiting for %s; "
                         "last %d bytes of console output:\n%s\n"
                         % (opts["timeout"], e, TAIL, text(s.tail)))
        rc = EXIT_TIMEOUT
    finally:
        s.close()
    sys.exit(rc)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""pty_console.py: drive hvrun's serial console through a pseudo-terminal, as a person would.

Usage: pty_console.py TIMEOUT LOG -- HVRUN ARGS...
Starts hvrun with a pty as stdin/stdout (so hvrun puts it in raw mode), waits for
"HVTEST shell ready", types a command, checks that its answer comes back, then
types Ctrl-A x (hvrun's escape to quit, as in QEMU), and exits with hvrun's status.
Everything read goes to LOG.  Exits 3 if the answer never came.  The VMM on its pty is
vmm_pty.py's (shared with console_session.py and fw_console.py).
"""
import sys
import time

from vmm_pty import VmmPty


class Console(VmmPty):
    def __init__(self, argv, logpath):
        super().__init__(argv, logpath, who="pty_console")
        self.seen = b""

    def got(self, data):
        super().got(data)
        self.seen += data

    def wait_for(self, text, until):
        """True once text has come; False at `until` or when the VMM is gone without it."""
        while text not in self.seen:
            if time.monotonic() >= until or not self.pump(until):
                return text in self.seen
        return True


def main():
    timeout = float(sys.argv[1])
    argv = sys.argv[sys.argv.index("--") + 1:]
    deadline = time.monotonic() + timeout
    c = Console(argv, sys.argv[2])
    ok = c.wait_for(b"HVTEST shell ready", deadline)
    if ok:
        time.sleep(1.0)
        # $((6*7)) is computed by the guest: the answer cannot be our own echo.
        ok = c.send(b"echo answer-$((6*7)) from $(uname -s)\r", deadline) and \
            c.wait_for(b"answer-42 from Linux", deadline)
    c.send(b"\x01x", deadline)  # Ctrl-A x: hvrun stops the VM and restores the terminal
    if not c.wait_exit(deadline):
        c.stop()
    c.close()
    if not ok:
        sys.exit(3)
    sys.exit(c.exited)


main()

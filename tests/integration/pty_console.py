#!/usr/bin/env python3
"""pty_console.py: drive hvrun's serial console through a pseudo-terminal, as a person would.

Usage: pty_console.py TIMEOUT LOG -- HVRUN ARGS...
Starts hvrun with a pty as stdin/stdout (so hvrun puts it in raw mode), waits for
"HVTEST shell ready", types a command, checks that its answer comes back, then
types Ctrl-A x (hvrun's escape to quit, as in QEMU), and exits with hvrun's status.  Everything read is
appended to LOG.  Exits 3 if the answer never came.
"""
import os
import pty
import select
import sys
import time


def main():
    timeout = float(sys.argv[1])
    log = open(sys.argv[2], "ab")
    argv = sys.argv[sys.argv.index("--") + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    seen = b""
    deadline = time.monotonic() + timeout

    def wait_for(text):
        nonlocal seen
        while text not in seen:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            try:
                data = os.read(fd, 4096)
            except OSError:
                return False
            if not data:
                return False
            log.write(data)
            log.flush()
            seen += data
        return True

    ok = wait_for(b"HVTEST shell ready")
    if ok:
        time.sleep(1.0)
        # $((6*7)) is computed by the guest: the answer cannot be our own echo.
        os.write(fd, b"echo answer-$((6*7)) from $(uname -s)\r")
        ok = wait_for(b"answer-42 from Linux")
    os.write(fd, b"\x01x")  # Ctrl-A x: hvrun stops the VM and restores the terminal
    wait_for(b"\x00never")  # drain until hvrun exits or the deadline
    _, status = os.waitpid(pid, 0)
    if not ok:
        sys.exit(3)
    sys.exit(os.waitstatus_to_exitcode(status))


main()

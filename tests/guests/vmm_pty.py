"""vmm_pty.py: a VMM on a pseudo-terminal, for the scripts that drive its console.

console_session.py (log in, run commands) and fw_console.py (expect/send steps through
the firmware and boot loaders) both start the VMM as a person at a terminal would:
the pty is its stdin, stdout and stderr (hvrun and QEMU's -serial stdio put it in raw
mode).  This is the part they share: start it, read its output until a time, type to
it, learn how it ended, stop it.  python3 standard library only.
"""
import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time


class VmmPty:
    """Runs argv on a new pty of rows x cols; raw output bytes go to logpath if given.

    Subclasses take the output in got(data) (call the base one: it writes the log).
    exited: None while it runs, then the status as the shell reports it (128+S for
    signal S); eof: True once its output is over (closed, or it is gone and drained).
    """

    def __init__(self, argv, logpath=None, rows=25, cols=80, who="vmm_pty"):
        self.t0 = time.monotonic()
        self.log = open(logpath, "wb") if logpath else None
        self.exited = None
        self.eof = False
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execvp(argv[0], argv)
            except OSError as e:
                os.write(2, ("%s: cannot run %s: %s\n" % (who, argv[0], e)).encode())
            os._exit(127)
        try:
            fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        except OSError:
            pass

    def elapsed(self):
        return time.monotonic() - self.t0

    def got(self, data):
        if self.log:
            self.log.write(data)
            self.log.flush()

    def reap(self, block=False):
        """True once the VMM has exited (self.exited set)."""
        if self.exited is not None:
            return True
        try:
            pid, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            self.exited = 255
            return True
        if pid == 0:
            return False
        self.exited = (128 + os.WTERMSIG(status)) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        return True

    def _read(self, timeout):
        """Output within timeout s: bytes, None if none came, b"" at the end of it."""
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return None
        try:
            return os.read(self.fd, 65536)
        except OSError:         # EIO: every holder of the pty's other side is gone
            return b""

    def pump(self, until):
        """Read output until `until` (a monotonic time) at most, returning after each
        read; False once the VMM is gone and its last output taken."""
        if self.eof:
            return False
        left = until - time.monotonic()
        if left <= 0:
            return True
        data = self._read(min(left, 0.5))
        if data:
            self.got(data)
            return True
        if data is None and not self.reap():
            return True
        # Gone (or its pty closed): a child of it may still write, take that briefly.
        end = time.monotonic() + 0.5
        while data != b"" and time.monotonic() < end:
            data = self._read(0.1)
            if not data:
                break
            self.got(data)
        self.eof = True
        end = time.monotonic() + 10
        while not self.reap() and time.monotonic() < end:
            time.sleep(0.05)
        return False

    def send(self, data, until):
        """Type data (bytes); False if the console is gone or does not take it by `until`."""
        while data:
            _, w, _ = select.select([], [self.fd], [], max(0.0, until - time.monotonic()))
            if not w:
                return False
            try:
                n = os.write(self.fd, data)
            except OSError:
                return False
            data = data[n:]
        return True

    def signal(self, sig):
        if not self.reap():
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def wait_exit(self, until):
        """Take its output until it exits or `until` passes; True if it exited."""
        while time.monotonic() < until:
            if not self.pump(until) and self.reap():
                return True
        return self.reap()

    def stop(self, term_secs=5.0):
        """SIGTERM, then SIGKILL if it is still there after term_secs."""
        for sig, secs in ((signal.SIGTERM, term_secs), (signal.SIGKILL, 10.0)):
            if self.reap():
                return
            self.signal(sig)
            self.wait_exit(time.monotonic() + secs)

    def close(self):
        if self.log:
            self.log.close()
            self.log = None

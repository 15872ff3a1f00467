"""Loopback helpers for tests that start servers of their own (gunicorn, Alertmanager, Redis)."""

import socket
import time


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, what: str, timeout: float = 20.0, log=None):
    """Poll ``check`` until it returns something truthy; the servers are other processes.

    On timeout the failure quotes the end of ``log()``, the server's own account of what it did.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    tail = f"; its log ends:\n{log()[-3000:]}" if log else ""
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{tail}")

"""Start and stop the harness's child processes, by their process id, on every exit path.

Every process the lab starts goes through :func:`start`, which records it; :func:`stop`
ends one process by its id (SIGTERM, then SIGKILL to the process group the lab created for
it); :func:`stop_all` ends every recorded process and runs at interpreter exit and on
SIGTERM/SIGHUP. Callers use the processes as context managers or in ``try/finally`` blocks,
so errors and ``KeyboardInterrupt`` stop them too.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import threading
import time

__all__ = ["start", "stop", "stop_all", "live_pids", "free_port", "wait_for_port"]

_LIVE: dict[int, subprocess.Popen] = {}
_LOCK = threading.Lock()
_HANDLERS_INSTALLED = False


def _on_signal(signum, frame):  # pragma: no cover - exercised by hand (kill -TERM)
    stop_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_handlers() -> None:
    global _HANDLERS_INSTALLED
    if _HANDLERS_INSTALLED:
        return
    atexit.register(stop_all)
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGHUP):
            # Only take over the default action: a caller's own handler stays in charge.
            if signal.getsignal(signum) in (signal.SIG_DFL, None):
                signal.signal(signum, _on_signal)
    _HANDLERS_INSTALLED = True


def start(args: list[str], **popen_kwargs) -> subprocess.Popen:
    """Start ``args`` in a new session (its own process group) and record it.

    Parameters
    ----------
    args : list of str
        The command line.
    **popen_kwargs
        Passed to :class:`subprocess.Popen` (``stdin`` defaults to ``DEVNULL``).

    Returns
    -------
    subprocess.Popen
        The started process; stop it with :func:`stop`.
    """
    _install_handlers()
    popen_kwargs.setdefault("stdin", subprocess.DEVNULL)
    proc = subprocess.Popen(args, start_new_session=True, **popen_kwargs)
    with _LOCK:
        _LIVE[proc.pid] = proc
    return proc


def stop(proc: subprocess.Popen, *, timeout_s: float = 5.0) -> int | None:
    """Stop ``proc`` by its id: SIGTERM, wait ``timeout_s``, then SIGKILL its process group.

    The group is the one :func:`start` created (its id is the process id), so worker
    processes an nginx master forked are ended with it. The group is signalled only while
    the leader is not yet reaped, so the id cannot have been reused.

    Returns
    -------
    int or None
        The exit status, or None if the process could not be waited for.
    """
    try:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=timeout_s)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        return proc.returncode
    finally:
        with _LOCK:
            _LIVE.pop(proc.pid, None)


def stop_all() -> None:
    """Stop every process started through :func:`start` that is still recorded."""
    with _LOCK:
        procs = list(_LIVE.values())
    for proc in procs:
        stop(proc, timeout_s=2.0)


def live_pids() -> list[int]:
    """Ids of the recorded processes that have not been stopped yet."""
    with _LOCK:
        return [pid for pid, p in _LIVE.items() if p.poll() is None]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (the kernel's choice for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, proc: subprocess.Popen | None = None, timeout_s: float = 10.0):
    """Wait until 127.0.0.1:``port`` accepts connections.

    Returns
    -------
    bool
        True once a connection succeeds; False on timeout or if ``proc`` exits first.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False

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
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

__all__ = [
    "Launched",
    "launch",
    "start",
    "stop",
    "stop_all",
    "live_pids",
    "free_port",
    "wait_for_port",
    "port_owned_by",
]

#: ``PR_SET_PDEATHSIG`` from <linux/prctl.h>.
_PR_SET_PDEATHSIG = 1
_LIVE: dict[int, subprocess.Popen] = {}
_WATCHDOGS: dict[int, subprocess.Popen] = {}

#: A watchdog per started group: the parent-death signal reaches only the process the lab
#: started, not the workers an nginx master forks (they keep the port open). The watchdog
#: polls its parent (the harness); once the harness is gone it SIGKILLs the whole group.
#: It exits as soon as the group is empty, so a normal stop leaves nothing behind.
_WATCHDOG = """
import os, signal, sys, time
parent, group = int(sys.argv[1]), int(sys.argv[2])
while True:
    time.sleep(0.2)
    try:
        os.killpg(group, 0)
    except OSError:
        break
    if os.getppid() != parent:
        try:
            os.killpg(group, signal.SIGKILL)
        except OSError:
            pass
        break
"""
_LOCK = threading.Lock()
_HANDLERS_INSTALLED = False


def _on_signal(signum, frame):  # pragma: no cover - runs in a subprocess in the tests
    """Stop the children, then exit with status ``128 + signum``.

    Leaving through ``SystemExit`` runs ``finally`` blocks and context managers, so the
    temporary directories of a run (``validate --quick``) are removed.
    """
    stop_all()
    signal.signal(signum, signal.SIG_DFL)
    raise SystemExit(128 + signum)


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


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the child when the parent dies.

    Linux only (elsewhere a no-op). This covers what no handler can: a SIGKILL of the
    harness, after which nginx would otherwise keep its port (see ``prctl(2)``).
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def start(args: list[str], **popen_kwargs) -> subprocess.Popen:
    """Start ``args`` in a new session (its own process group) and record it.

    On Linux the child also gets a parent-death signal (``PR_SET_PDEATHSIG``, SIGKILL), so
    it cannot outlive the harness even when the harness is killed with SIGKILL. The signal
    follows the *thread* that started the child: start children from a thread that lives
    as long as they should (the main thread, as the lab does).

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
    if sys.platform.startswith("linux"):
        popen_kwargs.setdefault("preexec_fn", _die_with_parent)
    proc = subprocess.Popen(args, start_new_session=True, **popen_kwargs)
    watchdog = subprocess.Popen(
        [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(proc.pid)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with _LOCK:
        _LIVE[proc.pid] = proc
        _WATCHDOGS[proc.pid] = watchdog
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
            watchdog = _WATCHDOGS.pop(proc.pid, None)
        if watchdog is not None:  # it exits by itself once the group is gone
            with contextlib.suppress(subprocess.TimeoutExpired):
                watchdog.wait(timeout=2.0)
            if watchdog.poll() is None:
                watchdog.kill()
                watchdog.wait()


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


def _listening_inodes(port: int) -> set[str]:
    """Socket inodes listening on TCP ``port`` (IPv4 and IPv6), from ``/proc/net/tcp*``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as handle:
            next(handle, None)
            for line in handle:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                    inodes.add(inode)
    return inodes


def _group_pids(pgid: int) -> list[int]:
    """Processes whose process group is ``pgid`` (the leader and what it forked)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                with open(f"/proc/{entry}/stat") as handle:
                    stat = handle.read()
                if int(stat.rsplit(")", 1)[1].split()[2]) == pgid:
                    pids.append(int(entry))
    return pids


def port_owned_by(port: int, proc: subprocess.Popen) -> bool | None:
    """Whether the socket listening on ``port`` belongs to ``proc`` or its process group.

    Returns None where ``/proc`` cannot tell (not Linux). A port that answers but belongs
    to another program means traffic would go to that program, not to ours.
    """
    if not os.path.isdir("/proc/self/fd") or not os.path.exists("/proc/net/tcp"):
        return None
    inodes = _listening_inodes(port)
    if not inodes:
        return False
    for pid in _group_pids(proc.pid):
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if link.startswith("socket:[") and link[8:-1] in inodes:
                        return True
    return False


def _slug(name: str) -> str:
    """``name`` for a folder: ``nginx (ingress-nginx ewma)`` -> ``nginx-ingress-nginx-ewma``."""
    return "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())


class Launched(NamedTuple):
    """A server started by :func:`launch`: its process, port, folder (and its owner), config."""

    proc: subprocess.Popen
    port: int
    work: Path
    owned: tempfile.TemporaryDirectory
    text: str


def launch(
    name: str,
    configure: Callable[[Path, int], tuple[list[str], str]],
    *,
    startup_timeout_s: float = 10.0,
    attempts: int = 3,
) -> Launched:
    """Start a server on a free port in a fresh temporary folder, and check the port is its own.

    ``configure(work, port)`` writes the server's files into ``work`` and returns its
    command line and its configuration text. The server's stderr goes to
    ``work/stderr.log``. When the port answers but belongs to another program (taken
    between the choice and the bind), the server is stopped and a new port tried, up to
    ``attempts`` times; on any failure the process is stopped and the folder removed.

    Raises
    ------
    RuntimeError
        If the server does not come up: ``"<name> did not start: "`` and the end of its logs.
    """
    last_error = ""
    for _ in range(attempts):
        owned = tempfile.TemporaryDirectory(prefix=f"k8smodel-lab-{_slug(name)}-")
        work = Path(owned.name)
        port = free_port()
        proc = None
        try:
            command, text = configure(work, port)
            with open(work / "stderr.log", "wb") as err:
                proc = start(command, stdout=subprocess.DEVNULL, stderr=err)
            if wait_for_port(port, proc=proc, timeout_s=startup_timeout_s):
                # answering is not enough: another program may own the port (ours then fails
                # to bind while the probe reaches the other one)
                if port_owned_by(port, proc) is not False and proc.poll() is None:
                    return Launched(proc, port, work, owned, text)
                last_error = f"port {port} is in use by another process"
            else:
                logs = [work / "stderr.log", work / "error.log"]
                last_error = "".join(p.read_text(errors="replace") for p in logs if p.exists())
        except BaseException:
            if proc is not None:
                stop(proc)
            owned.cleanup()
            raise
        stop(proc)
        owned.cleanup()
        if "in use" not in last_error:
            break
    raise RuntimeError(f"{name} did not start: {last_error[-2000:]}")

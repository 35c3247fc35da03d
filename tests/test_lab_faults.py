"""The lab's fault paths (issue 19): a taken port, a killed harness, a bounded client run.

The live tests need nginx (``scripts/install-balancers``) and are skipped without it.
"""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from k8smodel import lab
from k8smodel.lab import _procs


def _installed(kind: str) -> bool:
    try:
        lab.find_binary(kind)
    except lab.BalancerUnavailable:
        return False
    return True


needs_nginx = pytest.mark.skipif(not _installed("nginx"), reason="nginx is not installed")


def _listener():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as handle:  # a zombie is dead too
        return handle.read().rsplit(")", 1)[1].split()[0] != "Z"


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.live
@needs_nginx
def test_start_balancer_refuses_a_port_another_process_owns(monkeypatch):
    other = _listener()  # answers connections: the old probe took it for nginx
    try:
        port = other.getsockname()[1]
        monkeypatch.setattr(_procs, "free_port", lambda: port)
        with pytest.raises(RuntimeError, match=f"port {port} is in use|in use"):
            lab.start_balancer("nginx", "round_robin", [9], attempts=2)
        assert _procs.live_pids() == []
    finally:
        other.close()


@pytest.mark.live
@needs_nginx
def test_sigkill_of_the_harness_leaves_no_nginx(tmp_path):
    script = textwrap.dedent(
        """
        import sys, time
        from k8smodel import lab
        bal = lab.start_balancer("nginx", "round_robin", [9])
        print(bal.proc.pid, bal.port, flush=True)
        time.sleep(120)
        """
    )
    harness = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    try:
        pid, port = map(int, harness.stdout.readline().split())
        assert _alive(pid)
        harness.send_signal(signal.SIGKILL)  # no handler, no atexit: only the kernel can help
        harness.wait(timeout=30)
        deadline = time.monotonic() + 10
        while (_alive(pid) or _answers(port)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(pid), "the nginx master outlived the harness"
        assert not _answers(port), "an nginx worker outlived the harness and holds the port"
    finally:
        if harness.poll() is None:
            harness.kill()
            harness.wait()
        harness.stdout.close()


def test_run_client_stops_at_max_duration():
    # a listener that never accepts: every request waits for its 30 s timeout
    silent = _listener()
    try:
        started = time.monotonic()
        rows = lab.run_client(
            silent.getsockname()[1],
            rate_per_s=20.0,
            requests=400,  # a 20 s schedule
            timeout_s=30.0,
            max_duration_s=2.0,
            rng=1,
        )
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert len(rows) == 400
    assert (rows.status[rows.scheduled_s > 2.0] == "timeout").all()
    assert elapsed < 2.0 + 3.0  # the bound, with room for a loaded machine (was 19.7 s for 5 s)


def test_backends_refuse_absurd_concurrency():
    with pytest.raises(ValueError, match="concurrency must be a whole number >= 1 and <= 10000"):
        lab.start_backends(2, concurrency=10**9)
    with pytest.raises(TypeError, match="concurrency must be"):
        lab.start_backends(2, concurrency=2.5)


def test_sigterm_removes_temporary_directories(tmp_path):
    # what `validate --quick` holds while it runs: backends in a temporary directory
    script = textwrap.dedent(
        """
        import time
        from k8smodel import lab
        with lab.start_backends(2, mean_service_s=0.01, rng=1) as backends:
            print(backends.workdir, flush=True)
            time.sleep(120)
        """
    )
    harness = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    try:
        workdir = harness.stdout.readline().strip()
        assert workdir and os.path.isdir(workdir)
        harness.send_signal(signal.SIGTERM)
        _, err = harness.communicate(timeout=30)
    finally:
        if harness.poll() is None:
            harness.kill()
            harness.communicate()
    assert harness.returncode == 128 + signal.SIGTERM
    assert not os.path.exists(workdir), "the temporary directory was left behind"
    assert "Traceback" not in err

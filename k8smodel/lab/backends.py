"""Local backend pods: n single-queue HTTP servers on 127.0.0.1, the queues the model assumes."""

from __future__ import annotations

import json
import numbers
import os
import select
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from k8smodel._random import RngLike, as_generator
from k8smodel._validate import check_int
from k8smodel.lab import _procs

__all__ = ["Backends", "draw_service_times", "start_backends"]


def draw_service_times(
    pods: int,
    size: int,
    *,
    mean_service_s: float = 0.02,
    service=None,
    speeds=None,
    rng: RngLike = None,
) -> np.ndarray:
    """Draw every pod's service times in bulk, shape ``(pods, size)``, in seconds.

    Parameters
    ----------
    pods : int
        Number of pods (>= 1).
    size : int
        Service times per pod (>= 1); a pod that receives more requests reuses them cyclically.
    mean_service_s : float, default 0.02
        Mean service time of a pod of speed 1 when ``service`` is None (exponential).
    service : None, float, frozen scipy.stats distribution or array_like
        None: exponential with mean ``mean_service_s``. A number: that deterministic time in
        seconds. A frozen distribution: its variates, in seconds. An array of shape
        ``(pods, size)``: used as given.
    speeds : sequence of float, optional
        Relative service rates per pod; pod ``i``'s times are divided by ``speeds[i]``.
    rng : int, Generator, SeedSequence or None
        Randomness (see :func:`k8smodel._random.as_generator`).

    Returns
    -------
    numpy.ndarray
        Service times in seconds, shape ``(pods, size)``.
    """
    if not isinstance(pods, numbers.Integral) or pods < 1:
        raise ValueError(f"pods must be an integer >= 1; got {pods!r}")
    if not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(f"size must be an integer >= 1; got {size!r}")
    if not (np.isfinite(mean_service_s) and mean_service_s > 0):
        raise ValueError(
            f"mean_service_s must be a positive number of seconds; got {mean_service_s!r}"
        )
    gen = as_generator(rng)
    if service is None:
        times = gen.exponential(mean_service_s, size=(pods, size))
    elif isinstance(service, numbers.Real):
        if not service > 0:
            raise ValueError(f"service must be a positive time in seconds; got {service!r}")
        times = np.full((pods, size), float(service))
    elif hasattr(service, "rvs"):
        times = np.asarray(service.rvs(size=(pods, size), random_state=gen), dtype=float)
    else:
        times = np.asarray(service, dtype=float)
        if times.shape != (pods, size):
            raise ValueError(
                f"service given as an array must have shape (pods, size) = {(pods, size)}; "
                f"got {times.shape}"
            )
    if not np.all(np.isfinite(times)) or (times < 0).any():
        raise ValueError("service times must be finite and non-negative")
    if speeds is not None:
        sp = np.asarray(speeds, dtype=float)
        if sp.shape != (pods,) or not (np.isfinite(sp) & (sp > 0)).all():
            raise ValueError(f"speeds must be {pods} positive numbers, one per pod; got {speeds!r}")
        times = times / sp[:, None]
    return times


@dataclass
class Backends:
    """Running backend pods (one process serving every pod); a context manager.

    Attributes
    ----------
    ports : list of int
        Port of pod ``i`` on 127.0.0.1.
    service_s : numpy.ndarray
        The service times the pods use, shape ``(pods, size)``.
    concurrency : int
        Servers per pod.
    proc : subprocess.Popen
        The backend process; :meth:`stop` ends it by its id.
    """

    ports: list[int]
    service_s: np.ndarray
    concurrency: int
    proc: subprocess.Popen
    workdir: Path
    _owned_dir: tempfile.TemporaryDirectory | None = field(default=None, repr=False)

    @property
    def pods(self) -> int:
        """Number of pods."""
        return len(self.ports)

    def stop(self) -> None:
        """Stop the backend process by its id and remove its files."""
        _procs.stop(self.proc)
        if self._owned_dir is not None:
            self._owned_dir.cleanup()
            self._owned_dir = None

    def __enter__(self) -> Backends:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


#: Most servers per pod a backend runs (nginx's default worker_connections is 512).
MAX_CONCURRENCY = 10_000


def start_backends(
    pods: int,
    *,
    mean_service_s: float = 0.02,
    service=None,
    speeds=None,
    concurrency: int = 1,
    size: int = 20_000,
    lifetime_s: float = 1800.0,
    startup_timeout_s: float = 15.0,
    rng: RngLike = None,
) -> Backends:
    """Start ``pods`` backend pods on 127.0.0.1 in one child process.

    Each pod is a FIFO queue in front of ``concurrency`` servers; a request is served for its
    pre-drawn service time (see :func:`draw_service_times`), so with ``concurrency=1`` and
    exponential times a pod is exactly the M/M/1 station of the load-distribution model
    when its arrivals are Poisson. Ports are chosen by the kernel at run time.

    Parameters
    ----------
    pods : int
        Number of pods.
    mean_service_s, service, speeds, rng
        Service times, as in :func:`draw_service_times`.
    concurrency : int, default 1
        Servers per pod (``c`` of an M/M/c pod).
    size : int, default 20000
        Service times drawn per pod.
    lifetime_s : float, default 1800
        The process exits by itself after this long, whatever happens to the caller.
    startup_timeout_s : float, default 15
        How long to wait for the ports.

    Returns
    -------
    Backends
        Use as a context manager, or call :meth:`Backends.stop`.
    """
    # each server is a coroutine in one backend process: beyond MAX_CONCURRENCY a pod is
    # not a queue being measured but a memory sink (the 4.4 GB backend)
    check_int(concurrency, "concurrency", minimum=1, maximum=MAX_CONCURRENCY)
    if not lifetime_s > 0:
        raise ValueError(f"lifetime_s must be positive; got {lifetime_s!r}")
    times = draw_service_times(
        pods, size, mean_service_s=mean_service_s, service=service, speeds=speeds, rng=rng
    )
    owned = tempfile.TemporaryDirectory(prefix="k8smodel-lab-backends-")
    workdir = Path(owned.name)
    np.save(workdir / "service.npy", times)
    spec = {
        "service_file": str(workdir / "service.npy"),
        "concurrency": int(concurrency),
        "lifetime_s": float(lifetime_s),
    }
    (workdir / "spec.json").write_text(json.dumps(spec))
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = None
    try:
        with open(workdir / "stderr.log", "wb") as err:
            proc = _procs.start(
                [sys.executable, "-m", "k8smodel.lab._backend", str(workdir / "spec.json")],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                env=env,
            )
        assert proc.stdout is not None  # stdout=PIPE
        ready, _, _ = select.select([proc.stdout], [], [], startup_timeout_s)
        line = proc.stdout.readline().decode() if ready else ""
        if not line.startswith("PORTS "):
            log = (workdir / "stderr.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the backend process did not start: {line!r} {log}")
        ports = [int(p) for p in line.split()[1:]]
    except BaseException:
        if proc is not None:
            _procs.stop(proc)
        owned.cleanup()
        raise
    return Backends(ports, times, int(concurrency), proc, workdir, owned)

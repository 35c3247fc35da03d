"""Run real balancers in front of local pods and summarize what was measured."""

from __future__ import annotations

import datetime as _dt
import numbers
import os
import platform
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from k8smodel import metrics
from k8smodel._random import RngLike, spawn_seeds
from k8smodel.lab.backends import Backends, start_backends
from k8smodel.lab.balancers import (
    HAPROXY_POLICIES,
    NGINX_POLICIES,
    find_binary,
    start_balancer,
)
from k8smodel.lab.client import run_client

__all__ = [
    "Case",
    "DEFAULT_CASES",
    "calibrate_overhead",
    "machine_description",
    "measure_case",
    "run_validation",
    "summarize_requests",
]


@dataclass(frozen=True)
class Case:
    """One balancer configuration to measure.

    Attributes
    ----------
    balancer : {"nginx", "haproxy"}
    policy : str
        A key of :data:`~k8smodel.lab.balancers.NGINX_POLICIES` or
        :data:`~k8smodel.lab.balancers.HAPROXY_POLICIES`.
    workers : int
        nginx worker processes.
    zone : bool
        nginx: upstream state in a shared ``zone``.
    """

    balancer: str
    policy: str
    workers: int = 1
    zone: bool = False

    def __post_init__(self):
        table = {"nginx": NGINX_POLICIES, "haproxy": HAPROXY_POLICIES}.get(self.balancer)
        if table is None:
            raise ValueError(f"balancer must be 'nginx' or 'haproxy'; got {self.balancer!r}")
        if self.policy not in table:
            raise ValueError(
                f"policy for {self.balancer} must be one of {sorted(table)}; got {self.policy!r}"
            )
        if (
            isinstance(self.workers, bool)
            or not isinstance(self.workers, numbers.Integral)
            or self.workers < 1
        ):
            raise ValueError(f"workers must be an integer >= 1; got {self.workers!r}")
        if not isinstance(self.zone, bool | np.bool_):
            raise ValueError(f"zone must be True or False; got {self.zone!r}")
        if self.balancer == "haproxy" and (self.workers != 1 or self.zone):
            raise ValueError("workers and zone apply to nginx only")

    @property
    def label(self) -> str:
        """Short name, e.g. ``nginx least_conn x4 zone``."""
        extra = f" x{self.workers}" if self.workers > 1 else ""
        extra += " zone" if self.zone else ""
        return f"{self.balancer} {self.policy}{extra}"


#: The cases a validation run measures: every nginx and HAProxy policy of the issue, nginx's
#: round robin and least_conn also with 4 workers (least_conn with and without ``zone``).
DEFAULT_CASES = (
    Case("nginx", "round_robin"),
    Case("nginx", "round_robin", workers=4),
    Case("nginx", "least_conn"),
    Case("nginx", "least_conn", workers=4),
    Case("nginx", "least_conn", workers=4, zone=True),
    Case("nginx", "random"),
    Case("nginx", "random_two_least_conn"),
    Case("haproxy", "roundrobin"),
    Case("haproxy", "leastconn"),
    Case("haproxy", "random(1)"),
    Case("haproxy", "random(2)"),
)


def _batch_se(x: np.ndarray, batches: int = 10) -> float:
    """Standard error of the mean of a correlated series by non-overlapping batch means."""
    x = np.asarray(x, dtype=float)
    if x.size < 2 * batches:
        return float(np.std(x, ddof=1) / np.sqrt(max(x.size, 1))) if x.size > 1 else np.nan
    means = np.array([b.mean() for b in np.array_split(x, batches)])
    return float(means.std(ddof=1) / np.sqrt(batches))


def summarize_requests(requests: pd.DataFrame, *, pods: int, warmup: float = 0.1) -> dict[str, Any]:
    """Measured figures of one run from :func:`~k8smodel.lab.client.run_client`'s rows.

    Shares and Jain's index count every answered request; latency figures drop the first
    ``warmup`` fraction of requests (the queues start empty).

    Parameters
    ----------
    requests : pandas.DataFrame
        One row per request as :func:`~k8smodel.lab.client.run_client` returns them.
    pods : int
        Number of pods (shares of pods that answered nothing are 0).
    warmup : float, default 0.1
        Fraction of the first requests left out of the latency figures.

    Returns
    -------
    dict
        ``requests``, ``ok``, ``shed``, ``failed``, ``mean_service_ms`` (as the pods
        measured it), ``mean_ms``, ``mean_se_ms`` (batch means), ``p50_ms``, ``p95_ms``,
        ``p99_ms`` (client latency), ``pod_mean_ms``, ``pod_p95_ms`` (time in the pod),
        ``overhead_ms`` (median client latency minus time in pod), ``jain``, ``max_share``,
        ``shares`` (array, one per pod), ``lag_p99_ms`` (how late the client sent).
    """
    if not 0 <= warmup < 1:
        raise ValueError(f"warmup must be in [0, 1); got {warmup!r}")
    ok = requests[requests.status == "ok"]
    counts = np.bincount(ok.pod.to_numpy(), minlength=pods).astype(float)
    steady = ok[ok.request >= int(warmup * len(requests))]
    lat = steady.latency_s.to_numpy() * 1e3
    soj = steady.sojourn_s.to_numpy() * 1e3
    has = lat.size > 0
    q = np.quantile(lat, [0.5, 0.95, 0.99]) if has else np.full(3, np.nan)
    return {
        "requests": int(len(requests)),
        "ok": int(len(ok)),
        "shed": int((requests.status == "shed").sum()),
        "failed": int(requests.status.isin(["error", "timeout"]).sum()),
        "mean_service_ms": float(ok.service_s.mean() * 1e3) if len(ok) else np.nan,
        "mean_ms": float(lat.mean()) if has else np.nan,
        "mean_se_ms": _batch_se(lat) if has else np.nan,
        "p50_ms": float(q[0]),
        "p95_ms": float(q[1]),
        "p99_ms": float(q[2]),
        "pod_mean_ms": float(soj.mean()) if has else np.nan,
        "pod_p95_ms": float(np.quantile(soj, 0.95)) if has else np.nan,
        "overhead_ms": float(np.median(lat - soj)) if has else np.nan,
        "jain": float(metrics.jain(counts)) if counts.sum() else np.nan,
        "max_share": float(metrics.max_share(counts)) if counts.sum() else np.nan,
        "shares": counts / counts.sum() if counts.sum() else np.full(pods, np.nan),
        "lag_p99_ms": float(np.nanquantile(requests.lag_s, 0.99) * 1e3),
    }


def measure_case(
    case: Case,
    backends: Backends,
    *,
    utilization: float,
    requests: int,
    mean_service_s: float,
    max_in_flight: int = 256,
    warmup: float = 0.1,
    rng: RngLike = None,
) -> dict:
    """Start ``case``'s balancer in front of ``backends``, drive it, stop it, summarize.

    The arrival rate is ``utilization * pods * concurrency / mean_service_s``.

    Parameters
    ----------
    case : Case
        The balancer configuration.
    backends : Backends
        Running pods (:func:`k8smodel.lab.start_backends`).
    utilization : float
        Target offered load per pod, in (0, 1).
    requests : int
        Requests to send.
    mean_service_s : float
        The pods' nominal mean service time, seconds.
    max_in_flight : int, default 256
        Client's bound on open requests (beyond it arrivals are shed and counted).
    warmup : float, default 0.1
        Fraction of the first requests left out of the latency figures.
    rng : int, Generator, SeedSequence or None
        Randomness of the arrival times.

    Returns
    -------
    dict
        The case's fields, ``utilization``, ``rate_per_s``, ``utilization_realized``
        (arrival rate times the pods' measured mean service time over their capacity) and
        the figures of :func:`summarize_requests`.
    """
    if not 0 < utilization < 1:
        raise ValueError(f"utilization must be in (0, 1); got {utilization!r}")
    capacity = backends.pods * backends.concurrency
    rate = utilization * capacity / mean_service_s
    with start_balancer(
        case.balancer, case.policy, backends.ports, workers=case.workers, zone=case.zone
    ) as balancer:
        rows = run_client(
            balancer.port,
            rate_per_s=rate,
            requests=requests,
            max_in_flight=max_in_flight,
            rng=rng,
        )
    summary = summarize_requests(rows, pods=backends.pods, warmup=warmup)
    realized = rate * summary["mean_service_ms"] / 1e3 / capacity
    return {
        "balancer": case.balancer,
        "policy": case.policy,
        "workers": case.workers,
        "zone": case.zone,
        "case": case.label,
        "pods": backends.pods,
        "utilization": float(utilization),
        "rate_per_s": float(rate),
        "utilization_realized": float(realized),
        **summary,
    }


def calibrate_overhead(
    balancer: str,
    backends: Backends,
    *,
    requests: int = 200,
    rate_per_s: float = 20.0,
    rng: RngLike = None,
) -> dict[str, float]:
    """The fixed cost of the path client -> balancer -> pod and back, at low load.

    Sends ``requests`` requests at ``rate_per_s`` (far below capacity, so nothing queues)
    through a 1-worker round-robin ``balancer`` and takes, per request, the client latency
    minus the time the request spent in its pod: TCP connects, the balancer's work, the
    Python client's and pods' event loops.

    Parameters
    ----------
    balancer : {"nginx", "haproxy"}
        Which balancer to calibrate.
    backends : Backends
        Running pods.
    requests : int, default 200
        Requests to send.
    rate_per_s : float, default 20.0
        Arrival rate, far below the pods' capacity.
    rng : int, Generator, SeedSequence or None
        Randomness of the arrival times.

    Returns
    -------
    dict
        ``overhead_mean_ms``, ``overhead_p50_ms``, ``overhead_p95_ms``.
    """
    policy = "round_robin" if balancer == "nginx" else "roundrobin"
    with start_balancer(balancer, policy, backends.ports) as lb:
        rows = run_client(lb.port, rate_per_s=rate_per_s, requests=requests, rng=rng)
    ok = rows[rows.status == "ok"]
    extra = (ok.latency_s - ok.sojourn_s).to_numpy() * 1e3
    return {
        "overhead_mean_ms": float(extra.mean()),
        "overhead_p50_ms": float(np.median(extra)),
        "overhead_p95_ms": float(np.quantile(extra, 0.95)),
    }


def _version(binary: str, kind: str) -> str:
    try:
        out = subprocess.run(
            [binary, "-v"], capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.SubprocessError):
        return f"{kind} ?"
    text = (out.stdout + out.stderr).strip().splitlines()
    return text[0].replace("nginx version: ", "") if text else f"{kind} ?"


def machine_description() -> str:
    """One line describing this machine: CPU model, cores, OS, Python, nginx and HAProxy."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    parts = [f"{cpu}", f"{os.cpu_count()} cpus", platform.platform(terse=True)]
    parts.append(f"Python {platform.python_version()}")
    for kind in ("nginx", "haproxy"):
        try:
            parts.append(_version(find_binary(kind), kind))
        except Exception:  # noqa: BLE001 - a missing binary is simply not described
            pass
    return "; ".join(parts)


def run_validation(
    *,
    cases=DEFAULT_CASES,
    pods: int = 4,
    utilizations=(0.5, 0.8),
    requests: int = 2000,
    mean_service_s: float = 0.02,
    calibration_requests: int = 200,
    warmup: float = 0.1,
    rng: RngLike = None,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Measure every case at every utilization; one tidy row per (case, utilization).

    One backend process (``pods`` exponential single-server pods) serves every case; the
    overhead is calibrated once per balancer kind before its cases.

    Parameters
    ----------
    cases : sequence of Case
        What to run (default :data:`DEFAULT_CASES`).
    pods : int, default 4
    utilizations : sequence of float, default (0.5, 0.8)
        Target offered load per pod, in (0, 1).
    requests : int, default 2000
        Requests per (case, utilization).
    mean_service_s : float, default 0.02
        Mean exponential service time.
    calibration_requests : int, default 200
    warmup : float, default 0.1
        Fraction of each run left out of the latency figures.
    rng : int, Generator, SeedSequence or None
    progress : callable, optional
        Called with a line of text after each step.

    Returns
    -------
    pandas.DataFrame
        Columns of :func:`measure_case` (``shares`` expanded into ``share_0`` ...), plus
        ``overhead_mean_ms``, ``overhead_p50_ms``, ``overhead_p95_ms`` of the balancer's
        calibration, ``mean_service_nominal_ms``, ``date_utc`` and ``machine``.
    """
    cases = list(cases)
    if not cases:
        raise ValueError("cases must name at least one Case")
    utilizations = tuple(utilizations)
    if not utilizations:
        raise ValueError("utilizations must hold at least one load in (0, 1); got none")
    for u in utilizations:
        if isinstance(u, bool) or not isinstance(u, numbers.Real) or not 0 < float(u) < 1:
            raise ValueError(f"utilizations must lie in (0, 1); got {u!r}")
    for key, value, minimum in (
        ("pods", pods, 1),
        ("requests", requests, 1),
        ("calibration_requests", calibration_requests, 1),
    ):
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Integral)
            or int(value) < minimum
        ):
            raise ValueError(f"{key} must be a whole number >= {minimum}; got {value!r}")
    if isinstance(mean_service_s, bool) or not (
        isinstance(mean_service_s, numbers.Real) and 0 < mean_service_s < float("inf")
    ):
        raise ValueError(f"mean_service_s must be a positive number; got {mean_service_s!r}")
    if isinstance(warmup, bool) or not (isinstance(warmup, numbers.Real) and 0 <= warmup < 1):
        raise ValueError(f"warmup must be a fraction in [0, 1); got {warmup!r}")
    for kind in {c.balancer for c in cases}:
        find_binary(kind)  # fail before starting anything
    say = progress or (lambda _line: None)
    seeds = spawn_seeds(rng, 2 + len(cases) * len(utilizations) + 2)
    size = max(2000, 2 * requests)
    rows = []
    calibration = {}
    with start_backends(pods, mean_service_s=mean_service_s, size=size, rng=seeds[0]) as be:
        k = 2
        for kind in ("nginx", "haproxy"):
            if not any(c.balancer == kind for c in cases):
                continue
            calibration[kind] = calibrate_overhead(
                kind, be, requests=calibration_requests, rng=seeds[k]
            )
            k += 1
            say(f"{kind}: overhead {calibration[kind]['overhead_mean_ms']:.2f} ms at low load")
        for case in cases:
            for u in utilizations:
                row = measure_case(
                    case,
                    be,
                    utilization=u,
                    requests=requests,
                    mean_service_s=mean_service_s,
                    warmup=warmup,
                    rng=seeds[k],
                )
                k += 1
                row.update(calibration[case.balancer])
                rows.append(row)
                say(
                    f"{case.label:<28} rho={u:.2f}  mean {row['mean_ms']:7.1f} ms  "
                    f"p95 {row['p95_ms']:7.1f} ms  jain {row['jain']:.4f}  "
                    f"ok {row['ok']}/{row['requests']}"
                )
    frame = pd.DataFrame(rows)
    shares = np.vstack(frame.pop("shares").to_numpy())
    for i in range(shares.shape[1]):
        frame[f"share_{i}"] = shares[:, i]
    frame["mean_service_nominal_ms"] = mean_service_s * 1e3
    frame["date_utc"] = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%MZ")
    frame["machine"] = machine_description()
    return frame

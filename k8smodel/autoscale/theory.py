"""Deterministic and closed-form answers: the fluid control loop and keep-alive under Poisson.

* :func:`fluid` runs the controller's exact rules against the deterministic (fluid) limit of
  the traffic: arrivals equal to the rate, every pod starting after the mean start-up delay,
  the controllers' clocks at phase 0. It is exact for that deterministic model (and the
  hand-computable reference for a step) but only an approximation of Poisson traffic, so its
  rows say ``exact=False``.
* :func:`keepalive` gives the cold-start fraction, added latency and loaded pod-seconds of a
  fixed keep-alive under Poisson invocations of zero duration: exact for that model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from k8smodel._random import RngLike
from k8smodel._validate import check_int, check_real
from k8smodel.autoscale.simulate import (
    _ASSUMPTIONS,
    AutoscaleResult,
    KeepaliveResult,
    _check_common,
    _initial,
    _max_pods,
    run_controller,
    summarize,
)
from k8smodel.autoscale.spec import HpaSpec, KpaSpec, Trace

__all__ = ["fluid", "keepalive"]


def _mean_startup(startup: Any) -> float:
    return startup if isinstance(startup, float) else float(startup.mean())


def fluid(
    spec: HpaSpec | KpaSpec,
    trace: Trace,
    *,
    capacity_per_s: float,
    startup_s: Any = 30.0,
    slo_s: float = 1.0,
    initial_replicas: int | None = None,
    bin_s: float = 5.0,
    max_pods: int | None = None,
    busy_percent: float = 100.0,
    activator_in_path: bool = True,
    pod_concurrency: int = 1,
    rng: RngLike = None,
) -> AutoscaleResult:
    """The controller against the fluid limit of ``trace`` (same columns as ``simulate``).

    Parameters are those of :func:`k8smodel.autoscale.simulate`; a start-up distribution
    is replaced by its mean. ``rng`` is accepted (so :func:`k8smodel.sweep` can pass one) and
    unused: nothing here is random.

    Returns
    -------
    AutoscaleResult
        One summary row with ``method="fluid"``, ``exact=False``; ``replicas`` has one row.

    Examples
    --------
    >>> tr = Trace.step(30.0, 90.0, at_s=60, duration_s=400)
    >>> res = fluid(HpaSpec(max_replicas=20, metric_type="Pods", target=10.0), tr,
    ...             capacity_per_s=15.0, initial_replicas=3, startup_s=20.0)
    >>> int(res.summary["final_replicas"].iloc[0])
    9
    """
    if not isinstance(spec, HpaSpec | KpaSpec):
        raise TypeError(f"spec must be an HpaSpec or a KpaSpec; got {type(spec).__name__}")
    mu, startup, slo, _, bin_s = _check_common(trace, capacity_per_s, startup_s, slo_s, 1, bin_s)
    cap = _max_pods(spec, max_pods)
    initial = _initial(spec, initial_replicas, cap)
    busy = check_real(busy_percent, "busy_percent", minimum=0.0, lower_open=True)
    slots = check_int(pod_concurrency, "pod_concurrency", minimum=1)
    run = run_controller(
        spec,
        trace,
        capacity_per_s=mu,
        startup_s=_mean_startup(startup),
        initial_replicas=initial,
        replications=1,
        poisson=False,
        gen=None,
        max_pods=cap,
        busy_percent=busy,
        phases=np.zeros((1, 2)),
        activator_in_path=activator_in_path,
        pod_concurrency=slots,
    )
    name = "hpa" if isinstance(spec, HpaSpec) else "kpa"
    row, ts, notes = summarize(run, trace, mu, slo, bin_s, "fluid", False, name, slots)
    row = {k: v for k, v in row.items() if not k.endswith("_se")}
    params = {
        "spec": spec,
        "capacity_per_s": mu,
        "startup_s": _mean_startup(startup),
        "slo_s": slo,
        "initial_replicas": initial,
        "dt_s": trace.dt_s,
        "event_s": trace.event_s,
        "busy_percent": busy,
        "pod_concurrency": slots,
    }
    notes = [
        _ASSUMPTIONS,
        "fluid: deterministic arrivals at the trace's rates, mean start-up, "
        "controller clocks at phase 0.",
    ] + notes
    return AutoscaleResult(
        summary=pd.DataFrame([row]),
        params=params,
        notes=tuple(notes),
        timeseries=ts,
        replicas=run["pods"],
    )


def keepalive(
    *, rate_per_s: Any, keep_alive_s: Any, cold_start_s: float = 1.0, rng: RngLike = None
) -> KeepaliveResult:
    """Fixed keep-alive under Poisson invocations of zero duration, in closed form.

    A cycle starts with a cold start at an arrival; requests during the ``c`` seconds of
    start-up wait for it; afterwards each idle gap (exponential, rate ``lam``) shorter than
    ``K`` is a warm start and the first longer one ends the cycle. Hence, per cycle,
    ``E[requests] = lam c + exp(lam K)``, ``E[added latency] = c + lam c^2 / 2`` and
    ``E[loaded time] = c + (exp(lam K) - 1) / lam``; per request each is divided by
    ``E[requests]``, and the cold fraction is ``1 / E[requests]`` (for ``c = 0``:
    ``exp(-lam K)``).

    Parameters
    ----------
    rate_per_s, keep_alive_s : float or array
        Invocation rate and idle timeout; arrays broadcast to one row per pair.
    cold_start_s : float
        Start-up time of an instance.
    rng : ignored
        Accepted so that :func:`k8smodel.sweep` can pass one.

    Returns
    -------
    KeepaliveResult
        Rows with ``rate_per_s``, ``keep_alive_s``, ``fraction_cold``,
        ``mean_added_latency_s``, ``loaded_pod_s_per_request``; ``method="poisson_renewal"``,
        ``exact=True``.

    Examples
    --------
    >>> r = keepalive(rate_per_s=1 / 300, keep_alive_s=600, cold_start_s=0.0)
    >>> round(float(r.summary["fraction_cold"].iloc[0]), 4)  # exp(-2)
    0.1353
    """
    lam, keep = np.broadcast_arrays(
        np.atleast_1d(np.asarray(rate_per_s, dtype=float)),
        np.atleast_1d(np.asarray(keep_alive_s, dtype=float)),
    )
    if not (np.isfinite(lam).all() and (lam > 0).all()):
        raise ValueError(f"rate_per_s must be finite numbers > 0; got {rate_per_s!r}")
    if not (np.isfinite(keep).all() and (keep >= 0).all()):
        raise ValueError(f"keep_alive_s must be finite numbers >= 0; got {keep_alive_s!r}")
    c = check_real(cold_start_s, "cold_start_s", minimum=0.0)
    with np.errstate(over="ignore"):
        growth = np.exp(lam * keep)
    per_cycle = lam * c + growth
    rows = pd.DataFrame(
        {
            "rate_per_s": lam,
            "keep_alive_s": keep,
            "fraction_cold": 1.0 / per_cycle,
            "mean_added_latency_s": (c + lam * c * c / 2.0) / per_cycle,
            "loaded_pod_s_per_request": (c + np.expm1(lam * keep) / lam) / per_cycle,
            "method": "poisson_renewal",
            "exact": True,
            "flags": "",
        }
    )
    rows.insert(0, "policy", "fixed")
    notes = (
        "Poisson invocations of zero duration, one instance, keep-alive counted from the "
        "end of the last request (or from the end of the start-up).",
    )
    return KeepaliveResult(
        summary=rows,
        params={"rate_per_s": rate_per_s, "keep_alive_s": keep_alive_s, "cold_start_s": c},
        notes=notes,
    )

"""Vectorized simulation of the HPA and the KPA facing a traffic trace, and of keep-alive.

:func:`simulate` runs the controller's loop in a compiled kernel over all replications;
arrivals (Poisson counts per tick), pod start-up delays and the controllers' phases
(where the step falls within the sync period and the scrape interval) are drawn in bulk.
:func:`simulate_keepalive` replays Poisson (or given) invocations against a fixed
keep-alive and the hybrid histogram policy of Shahrad et al. (2020).

The queue model ("pods as queues"): ready pods pool their capacity ``capacity_per_s`` in
one fluid FIFO (requests wait while no pod is ready, as in Knative's activator); on top of
that fluid wait each request spends an exponential time in its pod with rate
``min(capacity_per_s / pod_concurrency, capacity_per_s x (1 - utilization))``: the M/M/1
response for one slot, the plain service time for many slots until heavy traffic, where the
M/M/c wait takes over. Utilization is capped at ``0.95`` and flagged ``saturated`` when the
cap binds. Knative's concurrency is the backlog plus, by Little's law, the requests in pods.

Why over 600 lines: the summary of a run (SLO recovery, per-bin p99 of a mixture) is shared
by :mod:`~k8smodel.autoscale.theory` and lives next to the run it summarizes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from k8smodel._random import RngLike, as_generator
from k8smodel._validate import (
    check_budget,
    check_distribution,
    check_int,
    check_real,
)
from k8smodel.autoscale import _kernels
from k8smodel.autoscale.semantics import _POLICY_CODE, _SELECT_CODE, kpa_scale_to_zero_delay_s
from k8smodel.autoscale.spec import HpaSpec, KpaSpec, ScalingRules, Trace
from k8smodel.result import Result

__all__ = ["AutoscaleResult", "KeepaliveResult", "simulate", "simulate_keepalive"]

RHO_CAP = 0.95
_BYTES_PER_CELL = 8 * 10  # arrays of (replications x ticks) held at once


@dataclass(frozen=True, kw_only=True, eq=False)
class AutoscaleResult(Result):
    """A controller facing a trace.

    Attributes
    ----------
    timeseries : pandas.DataFrame
        One row per time bin: ``time_s``, ``rate_per_s``, ``replicas`` (mean pods, pending
        included), ``ready`` (mean ready pods), ``p99_response_s`` (over all requests of the
        bin and all replications), ``p_over_slo``.
    replicas : numpy.ndarray
        Pods per replication and tick (replications x ticks).
    """

    timeseries: pd.DataFrame
    replicas: np.ndarray


@dataclass(frozen=True, kw_only=True, eq=False)
class KeepaliveResult(Result):
    """Cold starts against idle memory, one summary row per policy."""


# ------------------------------------------------------------------------------ inputs
def _check_common(trace, capacity_per_s, startup_s, slo_s, replications, bin_s):
    if not isinstance(trace, Trace):
        raise TypeError(f"trace must be an autoscale.Trace; got {type(trace).__name__}")
    mu = check_real(capacity_per_s, "capacity_per_s", minimum=0.0, lower_open=True)
    startup = check_distribution(startup_s, "startup_s")
    slo = check_real(slo_s, "slo_s", minimum=0.0, lower_open=True)
    reps = check_int(replications, "replications", minimum=1)
    bin_s = check_real(bin_s, "bin_s", minimum=trace.dt_s)
    return mu, startup, slo, reps, bin_s


def _warmup_ticks(spec, dt: float) -> int:
    if isinstance(spec, HpaSpec):
        span = spec.metric_resolution_s + spec.sync_period_s
    else:
        span = spec.stable_window_s + spec.tick_s
    return int(math.ceil(span / dt)) + 1


def _draw_startup(startup, shape, gen) -> np.ndarray:
    if isinstance(startup, float):
        return np.full(shape, startup)
    return np.asarray(startup.rvs(size=shape, random_state=gen), dtype=float)


def _arrivals(rates: np.ndarray, dt: float, reps: int, poisson: bool, gen) -> np.ndarray:
    mean = np.broadcast_to(rates * dt, (reps, rates.size))
    return gen.poisson(mean).astype(float) if poisson else np.array(mean, dtype=float)


def _rules_arrays(rules: ScalingRules):
    return (
        np.array([_POLICY_CODE[p.type] for p in rules.policies], dtype=np.int64),
        np.array([p.value for p in rules.policies], dtype=np.int64),
        np.array([p.period_s for p in rules.policies], dtype=float),
        _SELECT_CODE[rules.select_policy],
        float(rules.stabilization_window_s),
    )


def _metric_code(spec: HpaSpec) -> int:
    return 0 if spec.is_resource else (1 if spec.metric_type == "Pods" else 2)


# ------------------------------------------------------------------------------ engine
def run_controller(
    spec,
    trace,
    *,
    capacity_per_s,
    startup_s,
    initial_replicas,
    replications,
    poisson,
    gen,
    max_pods,
    busy_percent=100.0,
    phases=None,
    activator_in_path=True,
    pod_concurrency=1,
):
    """Run one controller kernel; return the kernel's arrays after the warm-up (internal)."""
    dt = trace.dt_s
    warm = _warmup_ticks(spec, dt)
    rates = np.concatenate([np.full(warm, trace.rates_per_s[0]), trace.rates_per_s])
    arrivals = _arrivals(rates, dt, replications, poisson, gen)
    n_draws = 4 * max_pods + 64
    startup = _draw_startup(startup_s, (replications, n_draws), gen)
    period = (
        (spec.sync_period_s, spec.metric_resolution_s)
        if isinstance(spec, HpaSpec)
        else (spec.tick_s, spec.tick_s)
    )
    if phases is None:
        phases = gen.uniform(0.0, 1.0, size=(replications, 2)) * np.array(period)
    control_from = warm * dt
    # clocks are phased relative to the trace's start; the scrape clock also runs in warm-up
    phases = np.array(phases, dtype=float)
    phases[:, 0] += control_from
    phases[:, 1] += control_from - period[1] * np.floor((phases[:, 1] + control_from) / period[1])
    if isinstance(spec, HpaSpec):
        up = _rules_arrays(spec.effective_scale_up)
        down = _rules_arrays(spec.effective_scale_down)
        tol_up = spec.effective_scale_up.tolerance
        tol_down = spec.effective_scale_down.tolerance if spec.has_behavior else None
        out = _kernels.hpa_kernel(
            arrivals,
            startup,
            phases,
            control_from,
            dt,
            capacity_per_s,
            initial_replicas,
            spec.min_replicas,
            spec.max_replicas,
            _metric_code(spec),
            float(spec.target),
            spec.tolerance if tol_down is None else tol_down,
            spec.tolerance if tol_up is None or not spec.has_behavior else tol_up,
            spec.sync_period_s,
            spec.metric_resolution_s,
            busy_percent,
            spec.has_behavior,
            *up,
            *down,
            float(spec.downscale_stabilization_s),
        )
    else:
        zero_delay = kpa_scale_to_zero_delay_s(
            grace_period_s=spec.scale_to_zero_grace_period_s,
            retention_s=spec.scale_to_zero_retention_s,
            activator_in_path=activator_in_path,
        )
        out = _kernels.kpa_kernel(
            arrivals,
            startup,
            phases,
            control_from,
            dt,
            capacity_per_s,
            initial_replicas,
            spec.min_scale,
            max_pods,
            spec.metric == "rps",
            spec.target_value,
            spec.panic_threshold,
            spec.max_scale_up_rate,
            spec.max_scale_down_rate,
            spec.activation_scale,
            spec.stable_window_s,
            spec.panic_window_s,
            spec.tick_s,
            spec.scales_to_zero,
            zero_delay,
            spec.scale_down_delay_s,
            float(pod_concurrency),
        )
    pods, ready, served, backlog, draws = out
    waits = _kernels.fifo_waits(arrivals, served, dt)
    cut = slice(warm, None)
    return {
        "arrivals": arrivals[:, cut],
        "pods": pods[:, cut],
        "ready": ready[:, cut],
        "served": served[:, cut],
        "backlog": backlog[:, cut],
        "wait": waits[:, cut],
        "draws_reused": bool((draws > n_draws).any()),
        "rates": rates[warm:],
    }


def _latency_tail(run: dict, mu: float, dt: float, slots: float):
    """Per tick: the exponential in-pod rate and whether the utilization cap bound."""
    ready = run["ready"].astype(float)
    # the M/M/1 tail already holds the Poisson variation: use the mean rate, not the counts
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(ready > 0, run["rates"][None, :] / (ready * mu), 0.0)
    saturated = rho > RHO_CAP
    theta = np.minimum(mu / slots, mu * (1.0 - np.minimum(rho, RHO_CAP)))
    return theta, saturated


def _p_over(wait: np.ndarray, theta: np.ndarray, slo: float) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        p = np.exp(-theta * np.maximum(slo - wait, 0.0))
    return np.where(wait >= slo, 1.0, p)


def _mixture_quantile(weights, wait, theta, q=0.99, iters=60):
    """The q-quantile of sum_i w_i [wait_i + Exp(theta_i)], per row (bisection)."""
    total = weights.sum(axis=1)
    finite = np.where(np.isfinite(wait), wait, 0.0)
    lo = np.zeros(weights.shape[0])
    hi = finite.max(axis=1) + math.log(1.0 / (1.0 - q)) / theta.min(axis=1) + 1.0
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        tail = (weights * _p_over(wait, theta, 0.0 + mid[:, None])).sum(axis=1)
        above = tail > (1.0 - q) * total
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    out = 0.5 * (lo + hi)
    out[total <= 0] = np.nan
    if np.isinf(wait).any():
        out[(weights * np.isinf(wait)).sum(axis=1) > (1 - q) * total] = np.inf
    return out


def summarize(
    run: dict,
    trace: Trace,
    mu: float,
    slo: float,
    bin_s: float,
    method: str,
    exact: bool,
    spec_name: str,
    slots: float = 1.0,
):
    """Summary row, time series and notes from one kernel run (internal)."""
    dt = trace.dt_s
    a = run["arrivals"]
    theta, saturated = _latency_tail(run, mu, dt, slots)
    p_over = _p_over(run["wait"], theta, slo)
    reps, n_t = a.shape
    # a bin violates the SLO when more than 1 % of its requests exceed it (p99 > SLO)
    per = max(1, int(round(bin_s / dt)))
    nb = int(math.ceil(n_t / per))
    pad = nb * per - n_t
    a_b = np.pad(a, ((0, 0), (0, pad))).reshape(reps, nb, per).sum(axis=2)
    o_b = np.pad(a * p_over, ((0, 0), (0, pad))).reshape(reps, nb, per).sum(axis=2)
    violating = (o_b > 0.01 * a_b) & (a_b > 0)
    bin_end = np.minimum((np.arange(nb) + 1) * per, n_t) * dt
    violating[:, bin_end <= trace.event_s] = False
    last = np.where(violating.any(axis=1), nb - 1 - np.argmax(violating[:, ::-1], axis=1), -1)
    recovery = np.where(last >= 0, bin_end[np.maximum(last, 0)] - trace.event_s, 0.0)
    over = (a * p_over).sum(axis=1)
    pod_s = run["pods"].sum(axis=1) * dt
    busy_s = run["served"].sum(axis=1) / mu
    cold = np.where(run["ready"] == 0, a, 0.0).sum(axis=1)
    total = a.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cold_frac = np.where(total > 0, cold / total, 0.0)
    unrecovered = np.isinf(run["wait"][:, -1]) | violating[:, -1]
    recovery = np.maximum(recovery, 0.0)
    row: dict[str, Any] = {"controller": spec_name}
    for name, x in (
        ("recovery_s", recovery),
        ("requests_over_slo", over),
        ("pod_seconds", pod_s),
        ("idle_pod_seconds", pod_s - busy_s),
        ("fraction_cold", cold_frac),
        ("peak_replicas", run["pods"].max(axis=1).astype(float)),
        ("final_replicas", run["pods"][:, -1].astype(float)),
    ):
        row[name] = float(x.mean())
        row[f"{name}_se"] = float(x.std(ddof=1) / math.sqrt(reps)) if reps > 1 else math.nan
    row["requests"] = float(total.mean())
    flags = []
    if saturated.any():
        flags.append("saturated")
    if unrecovered.any():
        flags.append("not_recovered")
    if run["draws_reused"]:
        flags.append("startup_draws_reused")
    row.update(method=method, exact=exact, flags=";".join(flags))
    ts = _timeseries(run, trace, theta, p_over, bin_s)
    notes = []
    if "saturated" in flags:
        notes.append(
            "saturated: some ready pods ran above 95 % utilization; their in-pod "
            "delay uses the 95 % M/M/1 tail and the fluid backlog carries the rest."
        )
    if "not_recovered" in flags:
        notes.append(
            "not_recovered: at the end of the trace p99 was still above the SLO in "
            "some replications; recovery_s is then a lower bound."
        )
    if "startup_draws_reused" in flags:
        notes.append(
            "startup_draws_reused: more pods were created than start-up draws; "
            "draws were reused cyclically."
        )
    return row, ts, notes


def _timeseries(run, trace, theta, p_over, bin_s):
    dt = trace.dt_s
    a = run["arrivals"]
    per = max(1, int(round(bin_s / dt)))
    n_t = a.shape[1]
    nb = int(math.ceil(n_t / per))
    pad = nb * per - n_t

    def blocks(x, fill=0.0):
        x = np.pad(x, ((0, 0), (0, pad)), constant_values=fill)
        return x.reshape(x.shape[0], nb, per).transpose(1, 0, 2).reshape(nb, -1)

    w = blocks(a)
    p99 = _mixture_quantile(w, blocks(run["wait"]), blocks(theta, 1.0))
    with np.errstate(invalid="ignore"):
        p_bin = (w * blocks(p_over)).sum(axis=1) / w.sum(axis=1)
    times = np.arange(nb) * per * dt
    rates = np.pad(trace.rates_per_s, (0, pad), mode="edge").reshape(nb, per).mean(axis=1)
    return pd.DataFrame(
        {
            "time_s": times,
            "rate_per_s": rates,
            "replicas": blocks(run["pods"].astype(float)).mean(axis=1),
            "ready": blocks(run["ready"].astype(float)).mean(axis=1),
            "p99_response_s": p99,
            "p_over_slo": p_bin,
        }
    )


def _max_pods(spec, max_pods):
    if isinstance(spec, HpaSpec):
        return spec.max_replicas
    if spec.max_scale:
        return spec.max_scale
    if max_pods is None:
        raise ValueError("max_pods must be given when the KPA's max-scale is 0 (unbounded)")
    return check_int(max_pods, "max_pods", minimum=1)


def _initial(spec, initial_replicas, cap):
    if initial_replicas is None:
        initial_replicas = (
            spec.min_replicas
            if isinstance(spec, HpaSpec)
            else max(spec.initial_scale, spec.min_scale)
        )
    return check_int(initial_replicas, "initial_replicas", minimum=0, maximum=cap)


def simulate(
    spec: HpaSpec | KpaSpec,
    trace: Trace,
    *,
    capacity_per_s: float,
    startup_s: Any = 30.0,
    slo_s: float = 1.0,
    initial_replicas: int | None = None,
    replications: int = 32,
    bin_s: float = 5.0,
    max_pods: int | None = None,
    busy_percent: float = 100.0,
    activator_in_path: bool = True,
    pod_concurrency: int = 1,
    rng: RngLike = None,
    max_memory_bytes: float | None = None,
) -> AutoscaleResult:
    """Simulate an HPA or a KPA facing ``trace``: replicas, latency, SLO misses, pod-seconds.

    Parameters
    ----------
    spec : HpaSpec or KpaSpec
        The autoscaler.
    trace : Trace
        Arrival rates; arrivals are Poisson within each tick.
    capacity_per_s : float
        Requests per second one ready pod completes (its service rate).
    startup_s : float or frozen scipy.stats distribution
        Time from pod creation to ready (e.g. ``rollout.PodTiming`` start-up, drawn by the
        caller).
    slo_s : float
        Response-time objective; ``recovery_s`` is the time from ``trace.event_s`` to the
        end of the last time bin whose p99 exceeds it (0 if none does).
    initial_replicas : int, optional
        Pods at time 0 (ready); default ``min_replicas`` (HPA) or ``initial-scale`` (KPA).
    replications : int
        Independent runs.
    bin_s : float
        Width of the time-series bins.
    max_pods : int, optional
        Cap for a KPA without ``max-scale``.
    busy_percent : float
        CPU utilization (percent of the request) of a pod that is busy all the time (HPA
        Resource metrics).
    activator_in_path : bool
        Whether the activator is in the request path when the KPA scales to zero (see
        :func:`~k8smodel.autoscale.semantics.kpa_scale_to_zero_delay_s`).
    pod_concurrency : int
        Requests one pod works on at once (its slots); each takes an exponential time of
        mean ``pod_concurrency / capacity_per_s``.
    rng : int, Generator, SeedSequence or None
        Randomness.
    max_memory_bytes : float, optional
        Budget (default 4 GiB).

    Returns
    -------
    AutoscaleResult
        ``summary`` one row (``recovery_s``, ``requests_over_slo``, ``pod_seconds``,
        ``idle_pod_seconds``, ``fraction_cold``, ``peak_replicas``, ``final_replicas``,
        each with ``_se``), ``timeseries`` per bin, ``replicas`` per run and tick.

    Examples
    --------
    >>> tr = Trace.step(30.0, 90.0, at_s=60, duration_s=600)
    >>> res = simulate(HpaSpec(max_replicas=20, metric_type="Pods", target=7.0), tr,
    ...                capacity_per_s=10.0, initial_replicas=5, replications=4, rng=1)
    >>> int(res.summary["final_replicas"].iloc[0]) >= 13
    True
    """
    if not isinstance(spec, HpaSpec | KpaSpec):
        raise TypeError(f"spec must be an HpaSpec or a KpaSpec; got {type(spec).__name__}")
    mu, startup, slo, reps, bin_s = _check_common(
        trace, capacity_per_s, startup_s, slo_s, replications, bin_s
    )
    cap = _max_pods(spec, max_pods)
    initial = _initial(spec, initial_replicas, cap)
    busy = check_real(busy_percent, "busy_percent", minimum=0.0, lower_open=True)
    slots = check_int(pod_concurrency, "pod_concurrency", minimum=1)
    n_t = trace.rates_per_s.size + _warmup_ticks(spec, trace.dt_s)
    check_budget(
        reps * n_t * _BYTES_PER_CELL + reps * (4 * cap + 64) * 8,
        f"replications={reps} x ticks={n_t}",
        limit_bytes=max_memory_bytes or 4 * 2**30,
        remedy="use fewer replications or a coarser dt_s",
    )
    gen = as_generator(rng)
    run = run_controller(
        spec,
        trace,
        capacity_per_s=mu,
        startup_s=startup,
        initial_replicas=initial,
        replications=reps,
        poisson=True,
        gen=gen,
        max_pods=cap,
        busy_percent=busy,
        activator_in_path=activator_in_path,
        pod_concurrency=slots,
    )
    name = "hpa" if isinstance(spec, HpaSpec) else "kpa"
    row, ts, notes = summarize(run, trace, mu, slo, bin_s, "simulation", False, name, slots)
    notes += _cpu_init_note(spec, startup)
    params = {
        "spec": spec,
        "capacity_per_s": mu,
        "startup_s": startup,
        "slo_s": slo,
        "initial_replicas": initial,
        "replications": reps,
        "dt_s": trace.dt_s,
        "event_s": trace.event_s,
        "busy_percent": busy,
        "pod_concurrency": slots,
    }
    notes = [_ASSUMPTIONS] + notes
    return AutoscaleResult(
        summary=pd.DataFrame([row]),
        params=params,
        notes=tuple(notes),
        timeseries=ts,
        replicas=run["pods"],
    )


def _cpu_init_note(spec, startup) -> list[str]:
    """The kernel treats a freshly ready pod as inside the CPU initialization period."""
    if not isinstance(spec, HpaSpec) or not spec.is_resource:
        return []
    slow = startup if isinstance(startup, float) else float(startup.ppf(0.99))
    if slow <= spec.cpu_initialization_period_s:
        return []
    return [
        f"startup_beyond_cpu_init: pods may take longer to start ({slow:.0f} s at p99) than the "
        f"CPU initialization period ({spec.cpu_initialization_period_s:.0f} s); the model still "
        "ignores a freshly ready pod's partial CPU sample, as groupPods does inside the period."
    ]


_ASSUMPTIONS = (
    "Pods share one FIFO fluid queue (the activator's buffer when none is ready) plus an "
    "exponential in-pod delay (M/M/1 for one slot); a scale-down removes not-ready pods "
    "first and frees them at once; controller phases are uniform relative to the trace."
)


# ------------------------------------------------------------------------------ keep-alive
def _poisson_arrivals(rate, duration, reps, gen):
    n = gen.poisson(rate * duration, size=reps)
    width = max(int(n.max()), 1)
    t = gen.uniform(0.0, duration, size=(reps, width))
    t[np.arange(width)[None, :] >= n[:, None]] = np.inf
    return np.sort(t, axis=1), n.astype(np.int64)


def simulate_keepalive(
    *,
    rate_per_s: float | None = None,
    duration_s: float = 86400.0,
    arrival_times_s: Any = None,
    keep_alive_s: float = 600.0,
    cold_start_s: float = 1.0,
    policies: tuple[str, ...] = ("fixed", "histogram"),
    replications: int = 16,
    bin_s: float = 60.0,
    range_s: float = 14400.0,
    rng: RngLike = None,
    max_memory_bytes: float | None = None,
) -> KeepaliveResult:
    """Cold starts against loaded pod-seconds for a fixed keep-alive and the histogram policy.

    Parameters
    ----------
    rate_per_s, duration_s : float
        Poisson invocations at this rate over this time (or give ``arrival_times_s``).
    arrival_times_s : array, optional
        Sorted invocation times of one application (replaces the Poisson draw; one run).
    keep_alive_s : float
        The fixed policy's idle timeout (Knative: about the stable window plus the
        scale-to-zero delay).
    cold_start_s : float
        Time to start an instance; requests arriving meanwhile wait for it.
    policies : tuple of {"fixed", "histogram"}
        Which policies to run.

    Returns
    -------
    KeepaliveResult
        One row per policy: ``fraction_cold``, ``mean_added_latency_s``,
        ``loaded_pod_s_per_request`` (each with ``_se``).

    References
    ----------
    M. Shahrad et al., "Serverless in the Wild", USENIX ATC 2020 (Section 4).
    """
    keep = check_real(keep_alive_s, "keep_alive_s", minimum=0.0)
    cold_s = check_real(cold_start_s, "cold_start_s", minimum=0.0)
    gen = as_generator(rng)
    for p in policies:
        if p not in ("fixed", "histogram"):
            raise ValueError(f"policies must be among ['fixed', 'histogram']; got {p!r}")
    if arrival_times_s is not None:
        t = np.asarray(arrival_times_s, dtype=float)[None, :]
        if t.ndim != 2 or not np.all(np.diff(t[0]) >= 0) or not np.isfinite(t).all():
            raise ValueError("arrival_times_s must be a sorted 1-d array of finite times")
        n = np.array([t.shape[1]], dtype=np.int64)
        reps = 1
    else:
        rate = check_real(rate_per_s, "rate_per_s", minimum=0.0, lower_open=True)
        duration = check_real(duration_s, "duration_s", minimum=0.0, lower_open=True)
        reps = check_int(replications, "replications", minimum=1)
        check_budget(
            reps * (rate * duration + 10 * math.sqrt(rate * duration) + 10) * 16,
            f"replications={reps} x {rate * duration:.3g} invocations",
            limit_bytes=max_memory_bytes or 4 * 2**30,
            remedy="use a shorter duration_s or fewer replications",
        )
        t, n = _poisson_arrivals(rate, duration, reps, gen)
    rows = []
    for policy in policies:
        cold, delayed, added, loaded = _kernels.keepalive_kernel(
            t,
            n,
            cold_s,
            keep,
            policy == "histogram",
            float(bin_s),
            float(range_s),
            0.05,
            0.99,
            0.1,
            2.0,
        )
        nn = np.maximum(n, 1).astype(float)
        row: dict[str, Any] = {"policy": policy}
        for name, x in (
            ("fraction_cold", cold / nn),
            ("mean_added_latency_s", added / nn),
            ("loaded_pod_s_per_request", loaded / nn),
        ):
            row[name] = float(x.mean())
            row[f"{name}_se"] = float(x.std(ddof=1) / math.sqrt(reps)) if reps > 1 else math.nan
        row.update(method="simulation", exact=False, flags="" if n.min() >= 100 else "few_requests")
        rows.append(row)
    params = {
        "rate_per_s": rate_per_s,
        "duration_s": duration_s,
        "keep_alive_s": keep,
        "cold_start_s": cold_s,
        "replications": reps,
        "bin_s": bin_s,
        "range_s": range_s,
    }
    notes = (
        "Invocations take no time; one instance per application; the histogram policy "
        "uses 5th/99th percentiles, 10 % margins and falls back to keeping the instance "
        "for the whole histogram range while the idle times are not representative "
        "(no ARIMA branch).",
    )
    return KeepaliveResult(summary=pd.DataFrame(rows), params=params, notes=notes)

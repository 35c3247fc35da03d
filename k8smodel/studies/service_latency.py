r"""Latency of a Service: its per-pod arrival shares composed with per-pod queueing.

:func:`k8smodel.service.theory` (or ``simulate``) says what share of a Service's requests
each pod receives. Splitting a Poisson stream at random keeps each part Poisson, so pod
``i`` is an M/M/c queue with arrival rate ``lambda s_i``, ``c`` = the pod's concurrency and
mean service time ``1/mu``. Its response time ``T = W + S`` has the law

.. math:: P(T > t) = (1 - C)\,e^{-\mu t} + C\,\frac{\theta e^{-\mu t} - \mu e^{-\theta t}}
          {\theta - \mu}, \qquad \theta = c\mu - \lambda_i,

with ``C`` Erlang's C probability of waiting (Kleinrock 1975, §3.5), and the Service's
response time is the mixture over pods weighted by their shares. Quantiles are found by
root finding on these survival functions.

The one call into :mod:`k8smodel.lb` is :func:`_wait_probability` (kept alone so the lb
refactor can adapt it in one place).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize

from k8smodel._validate import check_int, check_real
from k8smodel.result import Result

__all__ = ["LatencyResult", "service_latency", "mmc_response_sf"]


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class LatencyResult(Result):
    """The Service's latency row plus ``per_pod`` (share, utilization, p50/p99 per pod)."""

    per_pod: pd.DataFrame = field(default_factory=pd.DataFrame)


def _wait_probability(servers: int, offered_load: float) -> float:
    """Erlang C from :mod:`k8smodel.lb` (the only place this study calls lb)."""
    from k8smodel import lb

    return float(lb.erlang_c(servers, offered_load))


def mmc_response_sf(t: float, arrival_per_s: float, mean_service_s: float, servers: int) -> float:
    """``P(T > t)`` for the response time of a stable M/M/c queue (FCFS).

    Examples
    --------
    >>> round(mmc_response_sf(1.0, 0.5, 1.0, 1), 6)  # M/M/1: exp(-(mu - lambda) t)
    0.606531
    """
    mu = 1.0 / mean_service_s
    c_wait = _wait_probability(servers, arrival_per_s * mean_service_s)
    theta = servers * mu - arrival_per_s
    if math.isclose(theta, mu, rel_tol=1e-9):
        queued = (1 + mu * t) * math.exp(-mu * t)
    else:
        queued = (theta * math.exp(-mu * t) - mu * math.exp(-theta * t)) / (theta - mu)
    return (1 - c_wait) * math.exp(-mu * t) + c_wait * queued


def _quantile(sf, q: float, scale: float) -> float:
    hi = scale
    while sf(hi) > 1 - q:
        hi *= 2
    return float(optimize.brentq(lambda t: sf(t) - (1 - q), 0.0, hi, xtol=1e-12 * scale))


def service_latency(
    answer: Result,
    *,
    request_rate_per_s: float | None = None,
    mean_service_s: float | None = None,
    pod_concurrency: int | None = None,
) -> LatencyResult:
    """p50/p99 response time per pod and for the Service, from a service family answer.

    Parameters
    ----------
    answer : ServiceResult
        From :func:`k8smodel.service.theory` or :func:`k8smodel.service.simulate`: its
        ``per_pod.share_requests``, and its ``params`` for the defaults below.
    request_rate_per_s, mean_service_s, pod_concurrency : optional
        Override the rate, the mean service time (exponential) and the servers per pod.

    Returns
    -------
    LatencyResult
        ``summary`` (one row: ``p50_response_s``, ``p99_response_s`` of the mixture,
        ``worst_p99_response_s``, ``max_utilization``, ``flags``, ``method="mmc_per_pod"``,
        ``exact`` when the shares were exact) and the ``per_pod`` table.

    Notes
    -----
    A pod offered its capacity or more has no steady state: its quantiles are ``inf`` and
    the row is flagged ``overloaded``.

    Examples
    --------
    >>> from k8smodel.service import Layout, Service, theory
    >>> svc = Service(type="LoadBalancer", external_traffic_policy="Local")
    >>> ans = theory(svc, Layout.uniform(zones=1, nodes_per_zone=2, pods_per_node=[2, 1]),
    ...               request_rate_per_s=50, mean_service_s=0.02)
    >>> lat = service_latency(ans)
    >>> round(float(lat.summary.worst_p99_response_s.iloc[0]), 4)  # M/M/1 at 0.5: ln(100)/25
    0.1842
    """
    per_pod = getattr(answer, "per_pod", None)
    if not isinstance(per_pod, pd.DataFrame) or "share_requests" not in per_pod:
        raise TypeError("answer must be a k8smodel.service result with a per_pod table")
    rate = check_real(
        answer.params["request_rate_per_s"] if request_rate_per_s is None else request_rate_per_s,
        "request_rate_per_s",
        minimum=0,
    )
    mean_s = check_real(
        answer.params["mean_service_s"] if mean_service_s is None else mean_service_s,
        "mean_service_s",
        minimum=0,
        lower_open=True,
    )
    servers = check_int(
        answer.params["pod_concurrency"] if pod_concurrency is None else pod_concurrency,
        "pod_concurrency",
        minimum=1,
    )
    shares = per_pod["share_requests"].to_numpy(float)
    dropped = float(answer.summary["fraction_dropped"].iloc[0])
    lam = rate * (1 - dropped) * shares
    util = lam * mean_s / servers
    stable = util < 1
    rows = []
    for lam_i, ok in zip(lam, stable, strict=True):
        if not ok:
            rows.append((math.inf, math.inf))
            continue
        sf = lambda t, lam_i=lam_i: mmc_response_sf(t, lam_i, mean_s, servers)  # noqa: E731
        rows.append((_quantile(sf, 0.5, mean_s), _quantile(sf, 0.99, mean_s)))
    table = per_pod[["pod", "node", "zone", "share_requests"]].copy()
    table["utilization"] = util
    table["p50_response_s"] = [r[0] for r in rows]
    table["p99_response_s"] = [r[1] for r in rows]
    live = shares > 0
    if stable[live].all():

        def mix(t: float) -> float:
            return (
                sum(
                    s * mmc_response_sf(t, li, mean_s, servers)
                    for s, li in zip(shares[live], lam[live], strict=True)
                )
                / shares[live].sum()
            )

        p50, p99 = _quantile(mix, 0.5, mean_s), _quantile(mix, 0.99, mean_s)
    else:
        p50 = p99 = math.inf
    flags = "" if stable[live].all() else "overloaded"
    summary = pd.DataFrame(
        [
            {
                "p50_response_s": p50,
                "p99_response_s": p99,
                "worst_p99_response_s": float(np.max(table.p99_response_s[live]))
                if live.any()
                else math.nan,
                "max_utilization": float(util.max()) if util.size else math.nan,
                "flags": flags,
                "method": "mmc_per_pod",
                "exact": bool(answer.summary["exact"].iloc[0]),
            }
        ]
    )
    notes = ["exponential service times; each pod an M/M/c queue fed by its Poisson share"]
    if flags:
        notes.append("a pod is offered its capacity or more: its response time has no bound")
    return LatencyResult(
        summary=summary,
        params={"request_rate_per_s": rate, "mean_service_s": mean_s, "pod_concurrency": servers},
        notes=tuple(notes),
        per_pod=table,
    )

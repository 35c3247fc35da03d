"""Closed forms for load distribution: each policy's own, the ceiling and the floor.

:func:`theory` asks the policy's theory hook (:mod:`k8smodel.lb.policies`) for its
row and adds the two bounds every balancer lies between: the random split (the
ceiling) and one pooled FIFO queue (the floor). The formulas are in
:mod:`k8smodel.lb.queueing`. Times are in seconds (the service law's unit).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from k8smodel.lb.connections import approx_expected_jain, expected_idle_pods
from k8smodel.lb.queueing import (
    TheoryContext,
    en_m1_sigma,
    erlang_c,
    gi_m1_sigma,
    jsq_mean_response,
    mmc,
    quantiles,
    supermarket_mean_response,
    supermarket_tails,
    theory_row,
)
from k8smodel.lb.spec import Balancer, LbSpec
from k8smodel.result import Result

__all__ = [
    "en_m1_sigma",
    "erlang_c",
    "gi_m1_sigma",
    "jsq_mean_response",
    "supermarket_mean_response",
    "supermarket_tails",
    "theory",
]

#: The pseudo-policy of one central queue feeding every pod.
POOLED = "pooled"


def theory(
    policy: str,
    *,
    pods: int,
    utilization: float,
    speeds: Any = None,
    weights: Any = None,
    service: Any = None,
    concurrency: int = 1,
    dispatchers: int = 1,
    choices: int | None = None,
    connections: int | None = None,
    draw_weights: Any = None,
) -> Result:
    r"""Closed-form response times for a policy, or NaN where no closed form applies.

    Parameters
    ----------
    policy : str
        A policy or alias (see :mod:`k8smodel.lb.policies`), or ``"pooled"``: one
        central FIFO queue feeding every pod, the floor no dispatcher beats.
    pods : int
        Number of pods ``n >= 1``.
    utilization : float
        :math:`\rho = \Lambda / \sum_i c\,\mu_i > 0` (``>= 1`` gives ``stable=False``).
    speeds, weights : sequence, optional
        Relative service rates and integer balancer weights per pod.
    service : None, float or frozen scipy.stats distribution
        Service-time law in seconds (default exponential, mean 1 s).
    concurrency : int, default 1
        Threads per pod ``c``.
    dispatchers : int, default 1
        Independent round-robin cursors.
    choices : int, optional
        ``d`` for ``power_of_two`` (default 2).
    connections : int, optional
        Long-lived connections ``N``: adds ``idle_pods_expected`` and
        ``jain_connections_lower_bound`` (balls into bins).
    draw_weights : sequence of float, optional
        ``power_of_two``: relative draw probabilities (default ``weights``).

    Returns
    -------
    Result
        One summary row: ``policy``, ``method`` (the formula), ``exact`` (whether
        the numbers are the model's exact values; the ``power_of_two`` mean field
        is an ``n -> infinity`` approximation), ``pods``, ``utilization``,
        ``mean_response_s``, ``p50_response_s``, ``p95_response_s``,
        ``p99_response_s``, ``mean_wait_s``, ``p_wait``, ``stable``,
        ``floor_mean_response_s`` (pooled M/M/n, NaN where it does not apply),
        ``ceiling_mean_response_s`` (random split) and ``flags``. With
        ``stable=False`` the times are ``inf``.

    Notes
    -----
    Each policy's formula and its references are in its module's ``theory_row``;
    the pooled floor is M/M/(n c), Erlang C (:func:`erlang_c`).

    Examples
    --------
    >>> from k8smodel import lb
    >>> row = lb.theory("random", pods=2, utilization=0.5).summary.iloc[0]
    >>> row.method, bool(row.exact), round(float(row.mean_response_s), 6)
    ('M/M/1 per pod', True, 2.0)
    """
    pooled = isinstance(policy, str) and policy.strip().lower() == POOLED
    balancer = Balancer("random" if pooled else policy, dispatchers=dispatchers, choices=choices,
                        draw_weights=draw_weights)  # fmt: skip
    spec = LbSpec(balancer, pods=pods, utilization=utilization, speeds=speeds, weights=weights,
                  service=service, concurrency=concurrency)  # fmt: skip
    ctx = TheoryContext(
        pods=spec.pods,
        utilization=float(spec.utilization or 0.0),
        concurrency=spec.concurrency,
        dispatchers=balancer.dispatchers,
        choices=balancer.choices or 2,
        distinct=bool(balancer.distinct),
        speeds=spec.speeds,
        weights=spec.weights,
        draw_weights=spec.draw_weights,
        service=spec.service,
    )
    row = _pooled_row(ctx) if pooled else balancer.rule.theory_row(ctx)
    row = {
        "policy": POOLED if pooled else balancer.rule.name,
        "pods": ctx.pods,
        "utilization": ctx.utilization,
        **row,
        "floor_mean_response_s": _floor(ctx),
        "ceiling_mean_response_s": _ceiling(ctx),
    }
    flags = []
    if not math.isfinite(row["mean_response_s"]) and row["stable"]:
        flags.append("no_closed_form")
    if row["stable"] and not row["exact"] and math.isfinite(row["mean_response_s"]):
        flags.append("approximation")
    if not row["stable"]:
        flags.append("unstable")
    row["flags"] = ";".join(flags)
    if connections is not None:
        row["connections"] = connections
        row["idle_pods_expected"] = expected_idle_pods(connections, ctx.pods)
        row["jain_connections_lower_bound"] = approx_expected_jain(connections, ctx.pods)
    notes = [f"{spec.service.describe()}; times in seconds"]
    if "approximation" in flags:
        notes.append(f"{row['method']} is an approximation, not the exact value for {ctx.pods} "
                     "pods")  # fmt: skip
    params = {"policy": row["policy"], "pods": ctx.pods, "utilization": ctx.utilization,
              "concurrency": ctx.concurrency, "dispatchers": ctx.dispatchers,
              "choices": ctx.choices, "speeds": ctx.speeds.tolist(),
              "weights": ctx.weights.tolist(), "service_mean_s": spec.service.mean_s,
              "service_scv": spec.service.scv}  # fmt: skip
    return Result(summary=pd.DataFrame([row]), params=params, notes=tuple(notes))


def _pooled_row(ctx: TheoryContext) -> dict[str, Any]:
    """One central FIFO queue feeding ``n c`` identical exponential threads: M/M/(nc)."""
    n, c = ctx.pods, ctx.concurrency
    rho = ctx.utilization
    if not (ctx.service.exponential and ctx.equal_speeds):
        return theory_row("none (heterogeneous or non-exponential)", False, rho < 1)
    method = f"M/M/{n * c} (Erlang C)"
    if rho >= 1:
        return theory_row(method, True, False)
    mean, sf, pw, wait = mmc(ctx.arrival_rate, float(ctx.mu[0]), n * c)
    return theory_row(method, True, True, mean=mean, q=quantiles(sf, mean), p_wait=pw, wait=wait)


def _floor(ctx: TheoryContext) -> float:
    """Mean response of the pooled M/M/(nc) queue (NaN unless identical exponential pods)."""
    if not (ctx.service.exponential and ctx.equal_speeds):
        return math.nan
    if ctx.utilization >= 1:
        return math.inf
    return mmc(ctx.arrival_rate, float(ctx.mu[0]), ctx.pods * ctx.concurrency)[0]


def _ceiling(ctx: TheoryContext) -> float:
    """Mean response of the random split: M/M/c per pod, or Pollaczek-Khinchine for ``c = 1``."""
    svc, c = ctx.service, ctx.concurrency
    lam = ctx.arrival_rate / ctx.pods
    if not np.all(lam < ctx.capacity):
        return math.inf
    if svc.exponential:
        return float(np.mean([mmc(lam, m, c)[0] for m in ctx.mu]))
    if c == 1:
        s1 = svc.mean_s / ctx.speeds
        pk = s1 + lam * svc.second_moment_s2 / ctx.speeds**2 / (2 * (1 - lam * s1))
        return float(np.mean(pk))
    return math.nan

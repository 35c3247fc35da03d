"""Choosing k of m candidate regions for a user population, exactly.

Each user is served by its nearest chosen region (``routing="nearest"``). Four objectives:

* ``"mean"``: ``sum_i w_i min_{j in S} d_ij / sum_i w_i``, the p-median problem
  (Hakimi, Oper. Res. 13(3), 1965, doi:10.1287/opre.13.3.462), solved by
  :func:`p_median_milp` (ReVelle-Swain formulation, HiGHS through scipy);
* ``"p95"``, ``"p99"``, ``"max"``: the population-weighted quantile (or the maximum) of
  that nearest RTT, solved by :func:`quantile_placement_milp`: the answer is one of the
  matrix entries, and a threshold ``T`` is reachable exactly when ``k`` regions can bring
  a share ``q`` of the population within ``T`` (a maximal-covering MILP, Church and
  ReVelle, Pap. Reg. Sci. Assoc. 32(1), 1974, doi:10.1007/BF01942293), so bisection
  over the sorted entries finds the optimum (for ``"max"``, the k-center problem).

:func:`all_placements` scores every k-subset (streamed in blocks, refused before
allocating what cannot fit) and :func:`brute_force_placement` takes the best; the tests
check the exact solvers against it. :func:`greedy_placement` is the fast heuristic. The
solvers work on arrays and live in :mod:`k8smodel.federation.solvers`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from k8smodel._validate import check_choice
from k8smodel.federation.geo import user_weights
from k8smodel.federation.results import FederationResult
from k8smodel.federation.routing import latency_matrix, weighted_quantile
from k8smodel.federation.solvers import (
    OBJECTIVES,
    _check_k,
    _p_median_exact,
    all_placements,
    brute_force_placement,
    combinations_array,
    greedy_placement,
    p_median_lagrangian,
    p_median_milp,
    quantile_placement_milp,
)

__all__ = [
    "OBJECTIVES",
    "all_placements",
    "brute_force_placement",
    "combinations_array",
    "greedy_placement",
    "p_median_lagrangian",
    "p_median_milp",
    "place",
    "quantile_placement_milp",
]

_PLACE_METHODS = ("optimal", "greedy", "brute")


def _candidate_names(candidates: Any) -> list[Any]:
    if isinstance(candidates, pd.DataFrame):
        if "region" not in candidates.columns:
            raise ValueError("a DataFrame of candidates needs a 'region' column")
        return list(candidates.region)
    if isinstance(candidates, str):
        raise TypeError(f"candidates must be a sequence of region names; got {candidates!r}")
    return list(candidates)


def place(
    *,
    k: int,
    candidates: Any,
    users: pd.DataFrame,
    objective: str = "mean",
    method: str = "optimal",
    latency_ms: np.ndarray | None = None,
    **latency_options: Any,
) -> FederationResult:
    """Choose ``k`` of the candidate regions for a user population.

    Parameters
    ----------
    k : int
        Regions to choose.
    candidates : sequence of region names, or the DataFrame from :func:`k8smodel.federation.regions`
        Candidate regions.
    users : pandas.DataFrame
        ``lat``, ``lon``, ``weight`` (e.g. :func:`k8smodel.federation.users`, which filters
        by continent, sub-region and country).
    objective : {"mean", "p95", "p99", "max"}, default "mean"
        What to minimise: the population-weighted mean RTT to the nearest chosen region,
        its 95th or 99th percentile, or its maximum.
    method : {"optimal", "greedy", "brute"}, default "optimal"
        Exact MILP (:func:`p_median_milp` for the mean, :func:`quantile_placement_milp`
        otherwise), greedy (mean only), or scoring every subset.
    latency_ms : numpy.ndarray, optional
        A precomputed ``(users, candidates)`` matrix (e.g. measured); otherwise
        :func:`k8smodel.federation.routing.latency_matrix` with ``latency_options``.
    **latency_options
        ``model``, ``measured``, ``access_ms`` for :func:`latency_matrix`.

    Returns
    -------
    FederationResult
        ``summary`` (one row): ``clusters`` (comma-joined), ``k``, ``objective``,
        ``mean_rtt_ms``, ``p50_rtt_ms``, ``p95_rtt_ms``, ``p99_rtt_ms``, ``max_rtt_ms``
        (nearest routing, all regions up), ``method`` (``p_median_milp``,
        ``coverage_bisection_milp``, ``greedy`` or ``brute_force``) and ``exact`` (True
        when the placement is proven optimal for the objective); ``regions``: the chosen
        names; ``latency_ms``: the matrix used.

    Examples
    --------
    >>> from k8smodel import federation as fed
    >>> r = fed.place(k=1, candidates=["us-east-1", "eu-west-1"],
    ...               users=fed.users(country="United Kingdom"))
    >>> r.regions
    ['eu-west-1']
    """
    names = _candidate_names(candidates)
    k = _check_k(k, len(names))
    check_choice(objective, "objective", OBJECTIVES)
    check_choice(method, "method", _PLACE_METHODS)
    w = user_weights(users)
    if latency_ms is None:
        d = latency_matrix(users, names, **latency_options)
    else:
        d = np.asarray(latency_ms, dtype=float)
        if d.shape != (len(users), len(names)):
            raise ValueError(
                f"latency_ms must have shape (len(users), len(candidates)) = "
                f"({len(users)}, {len(names)}); got {d.shape}"
            )
    level = OBJECTIVES[objective]
    if method == "greedy":
        if level is not None:
            raise ValueError(
                f"method 'greedy' minimises the mean only; got objective={objective!r}"
            )
        idx, _ = greedy_placement(d, w, k)
        algorithm, exact = "greedy", False
    elif method == "brute":
        idx, _ = brute_force_placement(d, w, k, objective=objective)
        algorithm, exact = "brute_force", True
    elif level is None:
        idx, _, algorithm = _p_median_exact(d, w, k)
        exact = True
    else:
        idx, _ = quantile_placement_milp(d, w, k, level=level)
        algorithm, exact = "coverage_bisection_milp", True
    idx = np.sort(idx)
    nearest = d[:, idx].min(axis=1)
    p50, p95, p99 = weighted_quantile(nearest, w, [0.5, 0.95, 0.99])
    row = {
        "clusters": ",".join(str(names[i]) for i in idx),
        "k": k,
        "objective": objective,
        "mean_rtt_ms": float(nearest @ (w / w.sum())),
        "p50_rtt_ms": float(p50),
        "p95_rtt_ms": float(p95),
        "p99_rtt_ms": float(p99),
        "max_rtt_ms": float(nearest[w > 0].max()),
        "method": algorithm,
        "exact": exact,
    }
    notes = ["users are routed to their nearest chosen region"]
    if latency_ms is None and "measured" not in latency_options:
        notes.append("RTT from the distance model fitted to Azure's inter-region medians")
    if algorithm.startswith("p_median_lagrangian"):
        notes.append("optimality proven by Lagrangian bounds (relative gap <= 1e-6)")
    elif algorithm.endswith("milp"):
        notes.append("optimality proven by HiGHS (default relative MIP gap 1e-4)")
    return FederationResult(
        summary=pd.DataFrame([row]),
        params={"k": k, "objective": objective, "method": method, "candidates": len(names)},
        notes=tuple(notes),
        regions=[names[i] for i in idx],
        latency_ms=d,
    )

"""Choosing k of m candidate regions to minimize population-weighted latency (p-median).

Each user is served by its nearest chosen region (``routing="nearest"``), so the
objective of a placement ``S`` is ``sum_i w_i min_{j in S} d_ij / sum_i w_i``:
the p-median problem (Hakimi, Oper. Res. 13(3), 1965, doi:10.1287/opre.13.3.462).

* :func:`all_placements` scores every k-subset as one array operation (chunked).
* :func:`p_median_milp` solves it exactly as a mixed-integer program with
  :func:`scipy.optimize.milp` (HiGHS), in the strong (ReVelle-Swain) formulation.
* :func:`greedy_placement` adds, k times, the region that helps most.
* :func:`place` is the front door taking region names and a user table.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from k8smodel.federation._checks import user_weights, weight_vector, whole
from k8smodel.federation.routing import latency_matrix

__all__ = [
    "combinations_array",
    "all_placements",
    "p_median_milp",
    "greedy_placement",
    "brute_force_placement",
    "Placement",
    "place",
]


def _check_k(k, m: int) -> int:
    k = whole(k, "k", 1)
    if k > m:
        raise ValueError(f"k must be <= the number of candidates ({m}); got {k}")
    return int(k)


def _check_inputs(latency_ms, user_weight):
    d = np.asarray(latency_ms, dtype=float)
    if d.ndim != 2 or d.shape[1] == 0:
        raise ValueError("latency_ms must be a (users, candidates) matrix")
    if not np.isfinite(d).all():
        raise ValueError("latency_ms must be finite")
    w = weight_vector(user_weight, "user_weight", d.shape[0])
    return d, w


def combinations_array(m: int, k: int) -> np.ndarray:
    """All k-subsets of ``range(m)`` in lexicographic order.

    Parameters
    ----------
    m : int
        Number of candidates.
    k : int
        Subset size, ``1 <= k <= m``.

    Returns
    -------
    numpy.ndarray
        Shape ``(C(m, k), k)``, one subset of candidate indices per row.
    """
    _check_k(k, m)
    n = math.comb(m, k)
    flat = np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(m), k)), int)
    return flat.reshape(n, k)


def all_placements(
    latency_ms, user_weight, k: int, *, method: str = "prefix", chunk_elements: int = 4_000_000
) -> tuple[np.ndarray, np.ndarray]:
    """Population-weighted mean latency of every k-subset of candidates, vectorized.

    Parameters
    ----------
    latency_ms : array_like, shape (users, candidates)
        RTT from each user location to each candidate region.
    user_weight : array_like, shape (users,)
        Population per user location.
    k : int
        Regions per placement.
    method : {"prefix", "gather"}, default "prefix"
        ``"prefix"`` walks the ``C(m, k-1)`` prefixes of the lexicographic order
        carrying the users' running minimum, and scores all completions of a
        prefix in one array operation (users x remaining candidates).
        ``"gather"`` gathers ``(placements, k, users)`` blocks and reduces them.
    chunk_elements : int, default 4e6
        ``"gather"`` only: numbers per block (bounds memory, not results).

    Returns
    -------
    subsets : numpy.ndarray, shape (C(m, k), k)
        Candidate indices of each placement, in lexicographic order.
    mean_ms : numpy.ndarray, shape (C(m, k),)
        Weighted mean over users of the RTT to the nearest region in the placement.
    """
    d, w = _check_inputs(latency_ms, user_weight)
    k = _check_k(k, d.shape[1])
    subsets = combinations_array(d.shape[1], k)
    wn = w / w.sum()
    dt = np.ascontiguousarray(d.T)  # (candidates, users): rows are contiguous
    if method == "gather":
        out = np.empty(len(subsets))
        step = max(1, chunk_elements // (d.shape[0] * k))
        for lo in range(0, len(subsets), step):
            out[lo : lo + step] = dt[subsets[lo : lo + step]].min(axis=1) @ wn
        return subsets, out
    if method != "prefix":
        raise ValueError(f"method must be 'prefix' or 'gather'; got {method!r}")
    m = dt.shape[0]
    parts: list[np.ndarray] = []

    def walk(start: int, depth: int, running: np.ndarray | None) -> None:
        if depth == k - 1:  # the last element: every completion at once
            rest = dt[start:] if running is None else np.minimum(running, dt[start:])
            parts.append(rest @ wn)
            return
        for j in range(start, m - (k - 1 - depth)):
            walk(j + 1, depth + 1, dt[j] if running is None else np.minimum(running, dt[j]))

    walk(0, 0, None)
    return subsets, np.concatenate(parts)


def brute_force_placement(latency_ms, user_weight, k: int) -> tuple[np.ndarray, float]:
    """The best k-subset by scoring all of them (:func:`all_placements`).

    Parameters
    ----------
    latency_ms : array_like, shape (users, candidates)
        RTT from each user location to each candidate region.
    user_weight : array_like, shape (users,)
        Population per user location (finite, >= 0, positive sum).
    k : int
        Regions to open, ``1 <= k <= candidates``.

    Returns
    -------
    (numpy.ndarray, float)
        Chosen candidate indices (sorted) and the weighted mean latency.
    """
    subsets, mean_ms = all_placements(latency_ms, user_weight, k)
    best = int(np.argmin(mean_ms))
    return subsets[best], float(mean_ms[best])


def p_median_milp(
    latency_ms,
    user_weight,
    k: int,
    *,
    time_limit_s: float | None = None,
    allow_suboptimal: bool = False,
) -> tuple[np.ndarray, float]:
    r"""Exact p-median by mixed-integer programming (``scipy.optimize.milp``, HiGHS).

    Parameters
    ----------
    latency_ms : array_like, shape (users, candidates)
        RTT matrix.
    user_weight : array_like, shape (users,)
        Population per user location.
    k : int
        Regions to open.
    time_limit_s : float, optional
        Solver time limit.
    allow_suboptimal : bool, default False
        When the solver stops (time limit) with a feasible placement it has not
        proven optimal: return it if True, raise if False.

    Returns
    -------
    (numpy.ndarray, float)
        Chosen candidate indices (sorted) and the weighted mean latency.

    Raises
    ------
    RuntimeError
        The solver found no placement, or (unless ``allow_suboptimal``) did not
        prove the one it found optimal (``res.status != 0``).

    Notes
    -----
    Variables: :math:`y_j \in \{0,1\}` (region open), :math:`x_{ij} \in [0,1]`
    (share of user i served by j). Minimize :math:`\sum_{ij} w_i d_{ij} x_{ij}`
    subject to :math:`\sum_j x_{ij} = 1`, :math:`x_{ij} \le y_j`,
    :math:`\sum_j y_j = k`. With ``y`` integral an optimal ``x`` is integral too,
    so only ``y`` is declared integer. ReVelle and Swain, Geogr. Anal. 2(1), 1970,
    doi:10.1111/j.1538-4632.1970.tb00142.x.
    """
    d, w = _check_inputs(latency_ms, user_weight)
    n_u, m = d.shape
    k = _check_k(k, m)
    keep = w > 0
    d, w = d[keep], w[keep] / w.sum()
    n_u = d.shape[0]
    n_x = n_u * m
    c = np.concatenate([(w[:, None] * d).ravel(), np.zeros(m)])
    rows_assign = sp.hstack([sp.kron(sp.eye(n_u), np.ones((1, m))), sp.csr_matrix((n_u, m))])
    link = sp.hstack([sp.eye(n_x), -sp.kron(np.ones((n_u, 1)), sp.eye(m))])
    count = sp.hstack([sp.csr_matrix((1, n_x)), np.ones((1, m))])
    constraints = [
        LinearConstraint(rows_assign.tocsr(), 1, 1),
        LinearConstraint(link.tocsr(), -np.inf, 0),
        LinearConstraint(count.tocsr(), k, k),
    ]
    integrality = np.concatenate([np.zeros(n_x), np.ones(m)])
    options = {} if time_limit_s is None else {"time_limit": float(time_limit_s)}
    res = milp(
        c, constraints=constraints, integrality=integrality, bounds=Bounds(0, 1), options=options
    )
    if res.x is None:
        raise RuntimeError(f"MILP found no solution: {res.message}")
    if res.status != 0 and not allow_suboptimal:
        raise RuntimeError(
            f"MILP stopped before proving optimality (status {res.status}: {res.message}); "
            "raise time_limit_s or pass allow_suboptimal=True"
        )
    chosen = np.flatnonzero(res.x[n_x:] > 0.5)
    mean_ms = float(w @ d[:, chosen].min(axis=1))
    return np.sort(chosen), mean_ms


def greedy_placement(latency_ms, user_weight, k: int) -> tuple[np.ndarray, float]:
    """Greedy p-median: open, one at a time, the region that lowers the objective most.

    Parameters
    ----------
    latency_ms : array_like, shape (users, candidates)
        RTT from each user location to each candidate region.
    user_weight : array_like, shape (users,)
        Population per user location (finite, >= 0, positive sum).
    k : int
        Regions to open, ``1 <= k <= candidates``.

    Returns
    -------
    (numpy.ndarray, float)
        Chosen candidate indices (in the order added) and the weighted mean latency.

    Notes
    -----
    Each step scores every remaining candidate at once. The objective is
    supermodular-like but greedy has no constant-factor guarantee for p-median in
    general; in practice it is within a few per cent (Kuehn and Hamburger,
    Manage. Sci. 9(4), 1963).
    """
    d, w = _check_inputs(latency_ms, user_weight)
    k = _check_k(k, d.shape[1])
    wn = w / w.sum()
    best = np.full(d.shape[0], np.inf)
    chosen: list[int] = []
    for _ in range(k):
        score = wn @ np.minimum(best[:, None], d)
        score[chosen] = np.inf
        j = int(np.argmin(score))
        chosen.append(j)
        best = np.minimum(best, d[:, j])
    return np.array(chosen), float(wn @ best)


@dataclass(frozen=True)
class Placement:
    """A chosen set of regions.

    Attributes
    ----------
    regions : list of str
        Chosen region names (or point labels).
    mean_rtt_ms : float
        Population-weighted mean RTT to the nearest chosen region.
    method : str
        ``"optimal"``, ``"greedy"`` or ``"brute"``.
    k : int
        Number of regions.
    """

    regions: list
    mean_rtt_ms: float
    method: str
    k: int


def _candidate_names(candidates) -> list:
    if isinstance(candidates, pd.DataFrame):
        if "region" not in candidates.columns:
            raise ValueError("a DataFrame of candidates needs a 'region' column")
        return list(candidates.region)
    return list(candidates)


def place(
    *,
    k: int,
    candidates,
    users: pd.DataFrame,
    method: str = "optimal",
    latency_ms: np.ndarray | None = None,
    **latency_options,
) -> Placement:
    """Choose ``k`` of the candidate regions to minimize population-weighted RTT.

    Parameters
    ----------
    k : int
        Regions to choose.
    candidates : sequence of region names, or the DataFrame from :func:`k8smodel.federation.regions`
        Candidate regions.
    users : pandas.DataFrame
        ``lat``, ``lon``, ``weight`` (e.g. :func:`k8smodel.federation.users`).
    method : {"optimal", "greedy", "brute"}, default "optimal"
        MILP (:func:`p_median_milp`), greedy, or scoring all subsets.
    latency_ms : numpy.ndarray, optional
        A precomputed ``(users, candidates)`` matrix (e.g. measured); otherwise
        :func:`k8smodel.federation.routing.latency_matrix` with ``latency_options``.
    **latency_options
        ``model``, ``measured``, ``access_ms`` for :func:`latency_matrix`.

    Returns
    -------
    Placement
    """
    names = _candidate_names(candidates)
    _check_k(k, len(names))
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
    if method == "optimal":
        idx, val = p_median_milp(d, w, k)
    elif method == "greedy":
        idx, val = greedy_placement(d, w, k)
    elif method == "brute":
        idx, val = brute_force_placement(d, w, k)
    else:
        raise ValueError(f"method must be 'optimal', 'greedy' or 'brute'; got {method!r}")
    return Placement(regions=[names[i] for i in idx], mean_rtt_ms=val, method=method, k=int(k))

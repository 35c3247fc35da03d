"""Placement solvers on a ``(users, candidates)`` RTT matrix: exact, bounded and brute force.

:func:`k8smodel.federation.place` is the front door (region names, a user table, a Result);
these work on arrays. See :mod:`k8smodel.federation.placement` for the objectives and the
references.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from k8smodel._validate import check_budget, check_choice, check_int, check_real
from k8smodel.federation.routing import weighted_quantile
from k8smodel.federation.semantics import _weights

__all__ = [
    "OBJECTIVES",
    "all_placements",
    "brute_force_placement",
    "combinations_array",
    "greedy_placement",
    "p_median_lagrangian",
    "p_median_milp",
    "quantile_placement_milp",
]

#: What :func:`k8smodel.federation.place` can minimise, with the quantile level of each.
OBJECTIVES = {"mean": None, "p95": 0.95, "p99": 0.99, "max": 1.0}
# Enumerate the candidates left after Lagrangian fixing when subsets x users stay below this.
_BRUTE_ELEMENTS = 50_000_000
# weighted_quantile's tolerance: a cumulative weight within 1e-12 of q * total reaches it.
_QUANTILE_TOL = 1e-12


def _check_k(k: Any, m: int) -> int:
    k = check_int(k, "k", minimum=1)
    if k > m:
        raise ValueError(f"k must be <= the number of candidates ({m}); got {k}")
    return k


def _check_inputs(latency_ms: Any, user_weight: Any) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(latency_ms, dtype=float)
    if d.ndim != 2 or d.shape[1] == 0:
        raise ValueError(f"latency_ms must be a (users, candidates) matrix; got shape {d.shape}")
    if not np.isfinite(d).all():
        raise ValueError("latency_ms must be finite")
    return d, _weights(user_weight, d.shape[0], "user_weight")


def combinations_array(m: int, k: int) -> np.ndarray:
    """All k-subsets of ``range(m)`` in lexicographic order, shape ``(C(m, k), k)``.

    Examples
    --------
    >>> combinations_array(3, 2).tolist()
    [[0, 1], [0, 2], [1, 2]]
    """
    k = _check_k(k, m)
    n = math.comb(m, k)
    check_budget(n * k * 8.0, f"C({m}, {k}) = {n} subsets", remedy="use place(method='optimal')")
    flat = np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(m), k)), int)
    return flat.reshape(n, k)


def _subset_blocks(m: int, k: int, block: int) -> Iterator[np.ndarray]:
    """The k-subsets of ``range(m)`` in lexicographic order, ``block`` rows at a time."""
    it = itertools.combinations(range(m), k)
    while True:
        flat = np.fromiter(itertools.chain.from_iterable(itertools.islice(it, block)), int)
        if flat.size == 0:
            return
        yield flat.reshape(-1, k)


def _scores(nearest: np.ndarray, wn: np.ndarray, level: float | None) -> np.ndarray:
    """Objective of each row of ``nearest`` (subsets x users): weighted mean or quantile."""
    if level is None:
        return nearest @ wn
    order = np.argsort(nearest, axis=1, kind="stable")
    cw = np.cumsum(wn[order], axis=1)
    idx = np.minimum((cw < level * (1 - _QUANTILE_TOL)).sum(axis=1), nearest.shape[1] - 1)
    pos = np.take_along_axis(order, idx[:, None], axis=1)
    return np.take_along_axis(nearest, pos, axis=1)[:, 0]


def all_placements(
    latency_ms: Any,
    user_weight: Any,
    k: int,
    *,
    objective: str = "mean",
    block_elements: int = 4_000_000,
) -> tuple[np.ndarray, np.ndarray]:
    """The objective of every k-subset of candidates, scored block by block.

    Parameters
    ----------
    latency_ms : array_like, shape (users, candidates)
        RTT from each user location to each candidate region.
    user_weight : array_like, shape (users,)
        Population per user location.
    k : int
        Regions per placement.
    objective : {"mean", "p95", "p99", "max"}, default "mean"
        What to score (see the module notes).
    block_elements : int, default 4e6
        Numbers per block of ``(subsets, users)``: bounds the working memory.

    Returns
    -------
    subsets : numpy.ndarray, shape (C(m, k), k)
        Candidate indices of each placement, in lexicographic order.
    score_ms : numpy.ndarray, shape (C(m, k),)
        The objective of each placement (weighted mean or quantile of the nearest RTT).

    Raises
    ------
    ValueError
        When the subsets and scores would not fit in memory (checked before allocating).
    """
    d, w = _check_inputs(latency_ms, user_weight)
    k = _check_k(k, d.shape[1])
    check_choice(objective, "objective", OBJECTIVES)
    subsets = combinations_array(d.shape[1], k)
    scores = np.empty(len(subsets))
    dt, wn = np.ascontiguousarray(d.T), w / w.sum()
    step = max(1, int(block_elements) // (d.shape[0] * k))
    for lo in range(0, len(subsets), step):
        nearest = dt[subsets[lo : lo + step]].min(axis=1)
        scores[lo : lo + step] = _scores(nearest, wn, OBJECTIVES[objective])
    return subsets, scores


#: Most numbers a brute-force search may touch (subsets x users x k): about 5e7 a second were
#: measured (C(30, 4) subsets x 50 users), so this is under a minute.
MAX_BRUTE_FORCE_WORK = 2 * 10**9


def check_brute_force_work(candidates: int, k: int, users: int) -> None:
    """Refuse a brute-force search over C(candidates, k) subsets before it starts.

    The search streams its blocks, so memory is bounded; the *time* is not: it grows as
    ``C(m, k) * users * k`` (k = 10 of 100 is 1.7e13 subsets). The message says which k fit.
    """
    work = math.comb(candidates, k) * users * k
    if work <= MAX_BRUTE_FORCE_WORK:
        return
    fits = [j for j in range(1, k) if math.comb(candidates, j) * users * j <= MAX_BRUTE_FORCE_WORK]
    hint = f"k <= {fits[-1]} fits for {candidates} candidates; " if fits else ""
    raise ValueError(
        f"k={k} of {candidates} candidates by brute force scores C({candidates}, {k}) = "
        f"{math.comb(candidates, k):,} subsets x {users} users, about {work:.1e} numbers, over "
        f"the {MAX_BRUTE_FORCE_WORK:.0e} limit; {hint}use method='optimal' (the p-median MILP)"
        " or 'greedy'"
    )


def brute_force_placement(
    latency_ms: Any, user_weight: Any, k: int, *, objective: str = "mean"
) -> tuple[np.ndarray, float]:
    """The best k-subset by scoring all of them, streamed (memory independent of C(m, k)).

    Parameters
    ----------
    latency_ms : array_like, shape (users, candidates)
        RTT from each user location to each candidate region.
    user_weight : array_like, shape (users,)
        Population per user location (finite, >= 0, positive sum).
    k : int
        Regions to open, ``1 <= k <= candidates``.
    objective : {"mean", "p95", "p99", "max"}, default "mean"
        What to minimise.

    Returns
    -------
    (numpy.ndarray, float)
        Chosen candidate indices (sorted; the lexicographically first among equals) and
        the objective, ms.
    """
    d, w = _check_inputs(latency_ms, user_weight)
    k = _check_k(k, d.shape[1])
    level = OBJECTIVES[check_choice(objective, "objective", OBJECTIVES)]
    check_brute_force_work(d.shape[1], k, d.shape[0])
    dt, wn = np.ascontiguousarray(d.T), w / w.sum()
    best_val, best = np.inf, np.arange(k)
    for block in _subset_blocks(d.shape[1], k, max(1, 4_000_000 // (d.shape[0] * k))):
        scores = _scores(dt[block].min(axis=1), wn, level)
        i = int(np.argmin(scores))
        if scores[i] < best_val:
            best_val, best = float(scores[i]), block[i]
    return best, best_val


def _milp_result(res: Any, allow_suboptimal: bool) -> np.ndarray:
    if res.x is None:
        raise RuntimeError(f"MILP found no solution: {res.message}")
    if res.status != 0 and not allow_suboptimal:
        raise RuntimeError(
            f"MILP stopped before proving optimality (status {res.status}: {res.message}); "
            "raise time_limit_s or pass allow_suboptimal=True"
        )
    return np.asarray(res.x)


def p_median_milp(
    latency_ms: Any,
    user_weight: Any,
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
    k = _check_k(k, d.shape[1])
    keep = w > 0
    d, w = d[keep], w[keep] / w.sum()
    n_u, m = d.shape
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
    x = _milp_result(res, allow_suboptimal)
    chosen = np.flatnonzero(x[n_x:] > 0.5)
    return np.sort(chosen), float(w @ d[:, chosen].min(axis=1))


def _aggregate_users(d: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge users with identical RTT rows (their weights add): same objective, fewer rows."""
    keep = w > 0
    rows, inverse = np.unique(d[keep], axis=0, return_inverse=True)
    return rows, np.bincount(inverse.ravel(), weights=w[keep], minlength=rows.shape[0])


def _interchange(c: np.ndarray, chosen: np.ndarray) -> tuple[np.ndarray, float]:
    """Teitz-Bart vertex substitution from ``chosen``: best single swaps until none improves.

    ``c`` is the weighted cost matrix (users x candidates). Each pass scores every
    (open, closed) swap at once through the best and second-best open costs per user.
    """
    m = c.shape[1]
    if chosen.size == 1:  # one region: the best column, exactly
        j = int(np.argmin(c.sum(axis=0)))
        return np.array([j]), float(c[:, j].sum())
    open_ = np.zeros(m, dtype=bool)
    open_[chosen] = True
    while True:  # a handful of passes: each strictly lowers the objective
        cols = np.flatnonzero(open_)
        part = np.sort(c[:, cols], axis=1)
        first = part[:, 0]
        second = part[:, 1]
        nearest = cols[np.argmin(c[:, cols], axis=1)]
        current = first.sum()
        # Removing open j: users served by j fall back to the second best.
        loss = np.zeros(m)
        np.add.at(loss, nearest, second - first)
        # Adding closed i after removing j: users gain where c[:, i] beats their new best.
        best_delta, best_pair = 0.0, None
        for j in cols.tolist():  # k open candidates; each vectorized over users and candidates
            base = np.where(nearest == j, second, first)
            delta = np.minimum(c - base[:, None], 0.0).sum(axis=0) + loss[j]
            delta[open_] = np.inf
            i = int(np.argmin(delta))
            if delta[i] < best_delta - 1e-12 * max(current, 1.0):
                best_delta, best_pair = float(delta[i]), (j, i)
        if best_pair is None:
            return cols, float(current)
        open_[best_pair[0]], open_[best_pair[1]] = False, True


def p_median_lagrangian(
    latency_ms: Any,
    user_weight: Any,
    k: int,
    *,
    rel_gap: float = 1e-6,
    max_iterations: int = 3000,
) -> tuple[np.ndarray, float, float, np.ndarray]:
    r"""p-median by Lagrangian relaxation: a placement and a lower bound that proves it.

    Parameters
    ----------
    latency_ms : array_like, shape (users, candidates)
        RTT matrix.
    user_weight : array_like, shape (users,)
        Population per user location.
    k : int
        Regions to open.
    rel_gap : float, default 1e-6
        Stop when ``(upper - lower) <= rel_gap * upper``.
    max_iterations : int, default 3000
        Subgradient steps at most.

    Returns
    -------
    (numpy.ndarray, float, float, numpy.ndarray)
        Chosen candidate indices (sorted), their weighted mean RTT (the upper bound), the
        best lower bound found, and per candidate a lower bound on any placement that
        opens it (``-inf`` where the best relaxed solution opens it). The placement is
        optimal within ``rel_gap`` when ``upper - lower <= rel_gap * upper``.

    Notes
    -----
    Relaxing the assignment constraints with multipliers :math:`\lambda_i` leaves
    :math:`L(\lambda) = \sum_i \lambda_i + \min_{|S|=k} \sum_{j \in S} \rho_j`,
    :math:`\rho_j = \sum_i \min(0, c_{ij} - \lambda_i)`: the k most negative
    :math:`\rho_j`. Subgradient ascent on :math:`\lambda` (Held-Wolfe-Crowder steps, the
    step factor halved after 30 steps without progress) gives lower bounds; every
    relaxed solution and the greedy placement, improved by vertex substitution (Teitz
    and Bart, Oper. Res. 16(5), 1968), give upper bounds. Its bound equals the LP bound
    of the strong formulation, which is tight on most p-median instances. Beasley,
    "Lagrangean heuristics for location problems", EJOR 65(3), 1993,
    doi:10.1016/0377-2217(93)90118-7.
    """
    d, w = _check_inputs(latency_ms, user_weight)
    k = _check_k(k, d.shape[1])
    d, w = _aggregate_users(d, w / w.sum())
    c = w[:, None] * d
    g_idx, _ = greedy_placement(d, w, k)
    best, upper = _interchange(c, g_idx)
    lam = np.sort(c, axis=1)[:, min(k, c.shape[1] - 1)]  # a start between the k-th costs
    lower, step, stall = -np.inf, 2.0, 0
    best_lam = lam
    for _ in range(max_iterations):  # each step is one vectorized pass over users x candidates
        reduced = np.minimum(c - lam[:, None], 0.0)
        rho = reduced.sum(axis=0)
        chosen = np.argpartition(rho, k - 1)[:k]
        value = float(lam.sum() + rho[chosen].sum())
        if value > lower + 1e-12 * abs(upper):
            lower, stall, best_lam = value, 0, lam
        else:
            stall += 1
            if stall >= 30:
                step, stall = step / 2, 0
        cost = float(c[:, chosen].min(axis=1).sum())
        if cost < upper - 1e-12 * upper:
            best, upper = _interchange(c, chosen)
        if upper - lower <= rel_gap * upper or step < 1e-8:
            break
        grad = 1.0 - (reduced[:, chosen] < 0).sum(axis=1)
        norm = float(grad @ grad)
        if norm == 0:  # the relaxed solution is feasible: it is optimal
            lower = max(lower, value)
            break
        lam = lam + step * (upper - value) / norm * grad
    return np.sort(best), upper, lower, _fixing_bounds(c, best_lam, k)


def _fixing_bounds(c: np.ndarray, lam: np.ndarray, k: int) -> np.ndarray:
    """Per candidate, a lower bound on every placement that *opens* it (Beasley 1993, §3).

    At multipliers ``lam`` the relaxation opens the k smallest ``rho``; a placement that
    opens a candidate j outside that set costs at least ``L + rho_j - rho_(k)``. Candidates
    inside the set get ``-inf`` (opening them costs nothing extra in the relaxation).
    """
    rho = np.minimum(c - lam[:, None], 0.0).sum(axis=0)
    order = np.argsort(rho, kind="stable")
    value = float(lam.sum() + rho[order[:k]].sum())
    bound = value + rho - rho[order[k - 1]]
    bound[order[:k]] = -np.inf
    return bound


def _p_median_exact(d: np.ndarray, w: np.ndarray, k: int) -> tuple[np.ndarray, float, str]:
    """Lagrangian first; when its bound does not close the gap, drop candidates and finish exactly.

    A candidate whose opening bound exceeds the best placement's cost is closed in every
    optimal placement; the others are enumerated when few (:func:`brute_force_placement`)
    or handed to the MILP (:func:`p_median_milp`).
    """
    best, upper, lower, bound = p_median_lagrangian(d, w, k)
    if upper - lower <= 1e-6 * upper:
        return best, upper, "p_median_lagrangian"
    d_agg, w_agg = _aggregate_users(d, w / w.sum())
    keep = bound <= upper * (1 + 1e-9)
    keep[best] = True
    cols = np.flatnonzero(keep)
    if cols.size == k:
        return best, upper, "p_median_lagrangian"
    if math.comb(cols.size, k) * d_agg.shape[0] <= _BRUTE_ELEMENTS:
        idx, _ = brute_force_placement(d_agg[:, cols], w_agg, k)
        how = "p_median_lagrangian+enumeration"
    else:
        idx, _ = p_median_milp(d_agg[:, cols], w_agg, k)
        how = "p_median_lagrangian+milp"
    chosen = np.sort(cols[idx])
    return chosen, float(w_agg @ d_agg[:, chosen].min(axis=1)), how


def _max_coverage(covers: np.ndarray, w: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    """The k columns of ``covers`` (users x candidates, bool) covering the most weight.

    Maximal covering location MILP (Church and ReVelle 1974): ``max sum_i w_i z_i`` with
    ``z_i <= sum_{j covers i} y_j``, ``sum_j y_j = k``, ``y`` binary, ``z`` in [0, 1];
    solved to a zero relative gap, so "cannot reach" is proven.
    """
    # Users with the same coverage row are one user with their weights added.
    covers, inverse = np.unique(covers, axis=0, return_inverse=True)
    w = np.bincount(inverse.ravel(), weights=w, minlength=covers.shape[0])
    n_u, m = covers.shape
    c = np.concatenate([np.zeros(m), -w])
    link = sp.hstack([-sp.csr_matrix(covers.astype(float)), sp.eye(n_u)]).tocsr()
    count = sp.csr_matrix(np.concatenate([np.ones(m), np.zeros(n_u)])[None, :])
    res = milp(
        c,
        constraints=[LinearConstraint(link, -np.inf, 0), LinearConstraint(count, k, k)],
        integrality=np.concatenate([np.ones(m), np.zeros(n_u)]),
        bounds=Bounds(0, 1),
        options={"mip_rel_gap": 0.0},
    )
    chosen = np.flatnonzero(_milp_result(res, allow_suboptimal=False)[:m] > 0.5)
    return chosen, float(w[covers[:, chosen].any(axis=1)].sum())


def quantile_placement_milp(
    latency_ms: Any, user_weight: Any, k: int, *, level: float = 0.95
) -> tuple[np.ndarray, float]:
    """The k regions minimising the weighted ``level``-quantile of the nearest RTT, exactly.

    Parameters
    ----------
    latency_ms : array_like, shape (users, candidates)
        RTT matrix.
    user_weight : array_like, shape (users,)
        Population per user location.
    k : int
        Regions to open.
    level : float, default 0.95
        Quantile level in (0, 1]; 1 minimises the maximum (the k-center problem).

    Returns
    -------
    (numpy.ndarray, float)
        Chosen candidate indices (sorted) and the quantile, ms (as
        :func:`k8smodel.federation.weighted_quantile` computes it: the inverted CDF).

    Notes
    -----
    The optimum is an entry ``T`` of the matrix, and "some ``k`` regions bring a share
    ``level`` of the weight within ``T``" is monotone in ``T``; it is decided by a
    maximal-covering MILP (solved to a zero gap). Bisection over the sorted distinct
    entries between a lower bound (each user at its nearest candidate) and an upper bound
    (the greedy placement's quantile) needs about ``log2`` of their number solves.
    """
    d, w = _check_inputs(latency_ms, user_weight)
    k = _check_k(k, d.shape[1])
    q = check_real(level, "level", minimum=0.0, maximum=1.0, lower_open=True)
    keep = w > 0
    d, w = d[keep], w[keep] / w[keep].sum()
    target = q * (1 - _QUANTILE_TOL)
    lower = float(weighted_quantile(d.min(axis=1), w, q)[0])
    g_idx, _ = greedy_placement(d, w, k)
    upper = float(weighted_quantile(d[:, g_idx].min(axis=1), w, q)[0])
    values = np.unique(d[(d >= lower) & (d <= upper)])
    best, lo, hi = np.sort(g_idx), 0, values.size - 1  # values[hi] = upper is reachable
    while lo < hi:
        mid = (lo + hi) // 2
        chosen, covered = _max_coverage(d <= values[mid], w, k)
        if covered >= target:
            best, hi = chosen, mid
        else:
            lo = mid + 1
    return np.sort(best), float(weighted_quantile(d[:, best].min(axis=1), w, q)[0])


def greedy_placement(latency_ms: Any, user_weight: Any, k: int) -> tuple[np.ndarray, float]:
    """Greedy p-median: open, one at a time, the region that lowers the mean RTT most.

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
    Each step scores every remaining candidate at once. Greedy has no constant-factor
    guarantee for p-median in general; in practice it is within a few per cent (Kuehn
    and Hamburger, Manage. Sci. 9(4), 1963).
    """
    d, w = _check_inputs(latency_ms, user_weight)
    k = _check_k(k, d.shape[1])
    wn = w / w.sum()
    best = np.full(d.shape[0], np.inf)
    chosen: list[int] = []
    for _ in range(k):  # k steps, each vectorized over candidates and users
        score = wn @ np.minimum(best[:, None], d)
        score[chosen] = np.inf
        j = int(np.argmin(score))
        chosen.append(j)
        best = np.minimum(best, d[:, j])
    return np.array(chosen), float(wn @ best)

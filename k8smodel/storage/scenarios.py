"""Scenario helpers for studies: claim mixes, static PV pools, node counts.

Each function draws its randomness in bulk from ``rng`` and returns either
arrays or a dict of scalars, so it can be swept with :func:`k8smodel.sweep`.

The claim-size mix is an assumption of this project, not a measurement: no
public dataset of PersistentVolumeClaim sizes was found. It puts most claims
on the round sizes people type (1, 5, 8, 10, 20, 50, 100 Gi ...) and a
minority in decimal units (``10G`` = 9.31 GiB), which is what makes GiB
rounding visible.
"""

from __future__ import annotations

import numpy as np

from k8smodel._random import as_generator
from k8smodel.storage.binding import bind, make_claims, make_volumes
from k8smodel.storage.packing import lower_bound, pack

__all__ = [
    "CLAIM_MIX_GIB",
    "POOLS_GIB",
    "claim_sizes",
    "static_pool",
    "pool_binding_summary",
    "nodes_needed",
]

GIB = 1 << 30
#: Assumed claim-size mix: size in GiB -> probability (see module docstring).
CLAIM_MIX_GIB = {
    1: 0.10,
    2: 0.05,
    5: 0.15,
    8: 0.10,
    10: 0.20,
    20: 0.12,
    32: 0.05,
    50: 0.10,
    100: 0.08,
    200: 0.03,
    500: 0.02,
}
#: Static pool layouts: the PV sizes an administrator pre-creates, in GiB.
POOLS_GIB = {
    "one size (100Gi)": (100,),
    "coarse tiers": (10, 100, 500),
    "fine tiers": (1, 2, 5, 10, 20, 50, 100, 200, 500),
}


def claim_sizes(n: int, *, decimal_fraction: float = 0.2, rng=None) -> np.ndarray:
    """Draw ``n`` claim requests in bytes from :data:`CLAIM_MIX_GIB`.

    Parameters
    ----------
    n : int
        Number of claims.
    decimal_fraction : float, keyword-only
        Share of claims written in decimal units (``20G`` instead of ``20Gi``).
    rng : int, Generator, SeedSequence or None, keyword-only
        Randomness.

    Returns
    -------
    numpy.ndarray of int64
        Requests in bytes, in arrival order.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0; got {n}")
    if not 0 <= decimal_fraction <= 1:
        raise ValueError(f"decimal_fraction must be in [0, 1]; got {decimal_fraction}")
    gen = as_generator(rng)
    sizes = np.array(list(CLAIM_MIX_GIB), dtype=np.int64)
    probs = np.array(list(CLAIM_MIX_GIB.values()))
    gib = gen.choice(sizes, size=n, p=probs / probs.sum())
    decimal = gen.random(n) < decimal_fraction
    return np.where(decimal, gib * 10**9, gib * GIB).astype(np.int64)


def static_pool(requests: np.ndarray, tiers_gib, *, overprovision: float = 1.3) -> np.ndarray:
    """PV capacities an administrator would pre-create for expected requests.

    Each expected request is mapped to the smallest tier that holds it; the
    count per tier is scaled by ``overprovision`` and rounded up.

    Parameters
    ----------
    requests : array_like of int
        Expected requests in bytes (e.g. a forecast drawn like the real ones).
    tiers_gib : sequence of int
        PV sizes on offer, in GiB.
    overprovision : float, keyword-only
        PVs per expected claim in each tier (>= 0).

    Returns
    -------
    numpy.ndarray of int64
        PV capacities in bytes, sorted ascending.
    """
    tiers = np.sort(np.asarray(tiers_gib, dtype=np.int64)) * GIB
    req = np.asarray(requests, dtype=np.int64)
    if tiers.ndim != 1 or tiers.size == 0:
        raise ValueError(
            f"tiers_gib must be a non-empty sequence of sizes in GiB; got {tiers_gib!r}"
        )
    if tiers.min() <= 0:
        raise ValueError(f"tiers_gib must be positive; got {tiers_gib!r}")
    if overprovision < 0:
        raise ValueError(f"overprovision must be >= 0; got {overprovision}")
    idx = np.searchsorted(tiers, req, side="left")
    idx = np.minimum(idx, tiers.size - 1)  # requests above the top tier still get counted there
    counts = np.ceil(np.bincount(idx, minlength=tiers.size) * overprovision).astype(np.int64)
    return np.repeat(tiers, counts)


def pool_binding_summary(
    *,
    n_claims: int,
    pool: str = "coarse tiers",
    overprovision: float = 1.3,
    decimal_fraction: float = 0.2,
    rng=None,
) -> dict:
    """Bind a claim stream to a static pool sized from an independent forecast.

    Parameters
    ----------
    n_claims : int, keyword-only
        Claims in the stream (and in the forecast the pool is sized from).
    pool : str, keyword-only
        A key of :data:`POOLS_GIB`.
    overprovision : float, keyword-only
        PVs per forecast claim (see :func:`static_pool`).
    decimal_fraction : float, keyword-only
        Share of claims in decimal units.
    rng : int, Generator, SeedSequence or None, keyword-only
        Randomness (forecast, stream and tie-breaking).

    Returns
    -------
    dict
        ``bound_fraction``, ``pending_fraction``, ``wasted_fraction`` (of the
        capacity bound claims hold), ``pool_utilization`` (requested bytes of
        bound claims over pool capacity), ``pvs``, and
        ``min_pending_fraction``: the Pending share when the same claims meet
        the same pool smallest first, which binds as many claims as any
        assignment can (every PV that fits a claim also fits all smaller ones,
        so an exchange argument turns any matching into this one).
    """
    if pool not in POOLS_GIB:
        raise ValueError(f"pool must be one of {list(POOLS_GIB)}; got {pool!r}")
    if isinstance(n_claims, bool) or not isinstance(n_claims, (int, np.integer)) or n_claims < 1:
        raise ValueError(f"n_claims must be an int >= 1; got {n_claims!r}")
    gen = as_generator(rng)
    forecast = claim_sizes(n_claims, decimal_fraction=decimal_fraction, rng=gen)
    stream = claim_sizes(n_claims, decimal_fraction=decimal_fraction, rng=gen)
    caps = static_pool(forecast, POOLS_GIB[pool], overprovision=overprovision)
    volumes = make_volumes(caps)
    res = bind(make_claims(stream), volumes, mode="Immediate", rng=gen)
    best = bind(make_claims(np.sort(stream)), volumes, mode="Immediate", rng=gen)
    s = res.summary
    return {
        "bound_fraction": s.bound / n_claims,
        "pending_fraction": s.pending / n_claims,
        "min_pending_fraction": best.summary.pending / n_claims,
        "wasted_fraction": float(s.wasted_fraction),
        "pool_utilization": s.requested_bytes / caps.sum() if caps.size else np.nan,
        "pvs": int(caps.size),
    }


def nodes_needed(
    sizes,
    capacity,
    *,
    max_items_per_bin: int | None,
    methods=("nf", "ffd", "bfd", "wfd"),
    optimal: bool = True,
    time_limit_s: float = 10.0,
) -> dict:
    """Nodes needed to host volumes, by heuristic, exact optimum and lower bound.

    Parameters
    ----------
    sizes : array_like of int
        Volume sizes (whole units, e.g. GiB).
    capacity : int
        Per-node budget in the same unit.
    max_items_per_bin : int or None, keyword-only
        The node's attach limit.
    methods : sequence of str, keyword-only
        Heuristics to run.
    optimal : bool, keyword-only
        Also run ``method="optimal"``.
    time_limit_s : float, keyword-only
        Time limit of the exact solver.

    Returns
    -------
    dict
        ``<method>`` bins for each heuristic, ``optimal`` (best found),
        ``optimal_proven`` (bool), ``lower_bound`` (L2 with the count bound),
        ``l1`` and ``count_bound`` (ceil(n / limit)).
    """
    out = {}
    for m in methods:
        out[m] = pack(sizes, capacity, method=m, max_items_per_bin=max_items_per_bin).n_bins
    lb = lower_bound(sizes, capacity, max_items_per_bin=max_items_per_bin)
    if optimal:
        p = pack(
            sizes,
            capacity,
            method="optimal",
            max_items_per_bin=max_items_per_bin,
            time_limit_s=time_limit_s,
        )
        out["optimal"] = p.n_bins
        out["optimal_proven"] = bool(p.optimal)
        lb = max(lb, p.lower_bound)
    n = len(np.asarray(sizes))
    out["lower_bound"] = lb
    out["l1"] = lower_bound(sizes, capacity, kind="L1")
    out["count_bound"] = -(-n // max_items_per_bin) if max_items_per_bin else 0
    return out

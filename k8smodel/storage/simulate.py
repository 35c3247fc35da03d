"""A claim stream meeting a static PV pool: waste and Pending claims by Monte Carlo.

An administrator sizes a pool from a forecast of the claims
(:func:`~k8smodel.storage.scenarios.static_pool`), then an independent stream drawn
from the same mix arrives and binds with the real controller rules
(:func:`~k8smodel.storage.bind`, ``Immediate``). One call is one replication; sweep it
with :func:`k8smodel.sweep` for several streams.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from k8smodel._random import as_generator
from k8smodel._validate import check_budget, check_choice, check_int, check_probability
from k8smodel.result import Result
from k8smodel.storage.binding import bind
from k8smodel.storage.scenarios import POOLS_GIB, claim_sizes, static_pool
from k8smodel.storage.spec import GIB, StaticPool, make_claims, make_volumes

__all__ = ["simulate"]


def simulate(
    *,
    n_claims: int,
    pool: str | StaticPool = "coarse tiers",
    overprovision: float = 1.3,
    decimal_fraction: float = 0.2,
    rng: Any = None,
) -> Result:
    """Bind one claim stream to a static pool sized from an independent forecast.

    Parameters
    ----------
    n_claims : int, keyword-only
        Claims in the stream (and in the forecast the pool is sized from).
    pool : str or StaticPool, keyword-only
        A key of :data:`~k8smodel.storage.scenarios.POOLS_GIB` (with ``overprovision``)
        or a :class:`~k8smodel.storage.spec.StaticPool` (its own overprovision wins).
    overprovision : float, keyword-only
        PVs per forecast claim in each tier, for a named pool.
    decimal_fraction : float, keyword-only
        Share of claims written in decimal units (``20G``).
    rng : int, Generator, SeedSequence or None, keyword-only
        Randomness (forecast, stream and tie-breaking).

    Returns
    -------
    Result
        ``summary`` with one row: ``bound_fraction``, ``pending_fraction``,
        ``min_pending_fraction`` (the Pending share when the same claims meet the same
        pool smallest first, which binds as many claims as any assignment can: every PV
        that fits a claim also fits all smaller ones, so an exchange argument turns any
        matching into this one), ``wasted_fraction`` (of the capacity bound claims
        hold), ``pool_utilization`` (requested bytes of bound claims over pool
        capacity), ``pvs``, ``method`` (``"pv_controller_monte_carlo"``) and ``exact``
        (False: one random stream).

    Examples
    --------
    >>> r = simulate(n_claims=50, pool="one size (100Gi)", rng=1)
    >>> bool(r.summary.bound_fraction.iloc[0] + r.summary.pending_fraction.iloc[0] == 1.0)
    True
    """
    n_claims = check_int(n_claims, "n_claims", minimum=1)
    decimal_fraction = check_probability(decimal_fraction, "decimal_fraction")
    if isinstance(pool, StaticPool):
        spec = pool
    else:
        check_choice(pool, "pool", list(POOLS_GIB))
        spec = StaticPool(
            tiers_bytes=tuple(g * GIB for g in POOLS_GIB[pool]), overprovision=overprovision
        )
    # each claim and each volume becomes a DataFrame row (about 1 KiB with its names)
    check_budget(
        1024.0 * n_claims * (2.0 + max(spec.overprovision, 1.0)),
        f"n_claims={n_claims} with overprovision={spec.overprovision}",
        remedy="use fewer claims or a smaller overprovision",
    )
    gen = as_generator(rng)
    forecast = claim_sizes(n_claims, decimal_fraction=decimal_fraction, rng=gen)
    stream = claim_sizes(n_claims, decimal_fraction=decimal_fraction, rng=gen)
    caps = static_pool(
        forecast, np.array(spec.tiers_bytes) // GIB, overprovision=spec.overprovision
    )
    volumes = make_volumes(caps)
    arrival = bind(make_claims(stream), volumes, mode="Immediate", rng=gen).summary.iloc[0]
    best = bind(make_claims(np.sort(stream)), volumes, mode="Immediate", rng=gen).summary.iloc[0]
    summary = pd.DataFrame(
        {
            "bound_fraction": [arrival.bound / n_claims],
            "pending_fraction": [arrival.pending / n_claims],
            "min_pending_fraction": [best.pending / n_claims],
            "wasted_fraction": [float(arrival.wasted_fraction)],
            "pool_utilization": [arrival.request_bytes / caps.sum() if caps.size else np.nan],
            "pvs": [int(caps.size)],
            "method": ["pv_controller_monte_carlo"],
            "exact": [False],
        }
    )
    params = {
        "n_claims": n_claims,
        "pool": pool if isinstance(pool, str) else spec,
        "overprovision": spec.overprovision,
        "decimal_fraction": decimal_fraction,
    }
    notes = ("claim sizes follow the assumed mix scenarios.CLAIM_MIX_GIB (no public data)",)
    return Result(summary=summary, params=params, notes=notes)

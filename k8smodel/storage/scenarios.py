"""Scenario helpers for studies: claim mixes, static PV pools, node counts.

Each function draws its randomness in bulk from ``rng`` and returns arrays;
:func:`k8smodel.storage.simulate` composes them into a sweepable study.

The claim-size mix is an assumption of this project, not a measurement: no
public dataset of PersistentVolumeClaim sizes was found. It puts most claims
on the round sizes people type (1, 5, 8, 10, 20, 50, 100 Gi ...) and a
minority in decimal units (``10G`` = 9.31 GiB), which is what makes GiB
rounding visible.
"""

from __future__ import annotations

import numpy as np

from k8smodel._random import as_generator
from k8smodel._validate import check_int, check_probability, check_real

__all__ = [
    "CLAIM_MIX_GIB",
    "POOLS_GIB",
    "claim_sizes",
    "static_pool",
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
    n = check_int(n, "n", minimum=0)
    decimal_fraction = check_probability(decimal_fraction, "decimal_fraction")
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
    overprovision = check_real(overprovision, "overprovision", minimum=0)
    idx = np.searchsorted(tiers, req, side="left")
    idx = np.minimum(idx, tiers.size - 1)  # requests above the top tier still get counted there
    counts = np.ceil(np.bincount(idx, minlength=tiers.size) * overprovision).astype(np.int64)
    return np.repeat(tiers, counts)

"""The latency users see: the RTT matrix, weighted quantiles, and health scenarios.

The routing *rule* (which cluster a user's traffic goes to) is a semantics rule and lives in
:func:`k8smodel.federation.semantics.route`; this module measures its outcome. It is kept
apart from ``theory.py`` because nothing here is a model of failure or a closed form: it is
the bookkeeping of a latency distribution over a population.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd

from k8smodel._validate import check_budget, check_int, check_real
from k8smodel.federation.geo import locate
from k8smodel.federation.latency import RttModel, default_rtt_model, rtt_ms
from k8smodel.federation.semantics import ROUTING_POLICIES, _weights, route

__all__ = [
    "ROUTING_POLICIES",
    "latency_matrix",
    "route",
    "weighted_quantile",
    "latency_summary",
    "failure_scenarios",
]


def latency_matrix(
    users: pd.DataFrame,
    clusters: Any,
    *,
    model: RttModel | None = None,
    measured: pd.DataFrame | None = None,
    access_ms: float = 0.0,
) -> np.ndarray:
    """RTT from each user location to each cluster, ms.

    Parameters
    ----------
    users : pandas.DataFrame
        ``lat``, ``lon`` (and ``name`` when ``measured`` is given).
    clusters : sequence of locations
        Region names or ``(lat, lon)`` points.
    model : RttModel, optional
        Distance model (default :func:`k8smodel.federation.latency.default_rtt_model`).
    measured : pandas.DataFrame, optional
        Measured RTTs indexed by user name (rows) and cluster name (columns); used
        instead of the model.
    access_ms : float, default 0
        Added to every entry: the user's own access network (last mile, Wi-Fi,
        mobile), which the inter-region fit does not include.

    Returns
    -------
    numpy.ndarray
        Shape ``(users, clusters)``.
    """
    access_ms = check_real(access_ms, "access_ms", minimum=0.0)
    if not isinstance(users, pd.DataFrame):
        raise TypeError(f"users must be a pandas DataFrame; got {type(users).__name__}")
    need = ("name",) if measured is not None else ("lat", "lon")
    missing = [c for c in need if c not in users.columns]
    if missing:
        raise ValueError(f"users must have columns {need}; missing {missing}")
    if measured is not None:
        names = [c if isinstance(c, str) else str(c) for c in clusters]
        lat = rtt_ms(list(users.name), names, measured=measured)
    else:
        model = default_rtt_model() if model is None else model
        pts = locate(list(clusters))
        lat = rtt_ms(users[["lat", "lon"]].to_numpy(float), pts, model=model)
    return np.atleast_2d(np.asarray(lat, dtype=float)) + access_ms


def weighted_quantile(values: Any, weights: Any, q: Any) -> np.ndarray:
    """Quantiles of a weighted sample (inverse of the weighted empirical CDF).

    Parameters
    ----------
    values, weights : array_like, 1-d
        Same length; weights >= 0 with a positive sum.
    q : float or array_like
        Quantile levels in [0, 1].

    Returns
    -------
    numpy.ndarray
        For each ``q``, the smallest value whose cumulative weight reaches ``q``
        of the total; equals ``numpy.quantile(..., method="inverted_cdf")`` on the
        sample with each value repeated ``weight`` times (Hyndman and Fan, Am.
        Stat. 50(4), 1996, definition 1).
    """
    v = np.asarray(values, dtype=float).ravel()
    w = np.asarray(weights, dtype=float).ravel()
    if v.shape != w.shape or v.size == 0:
        raise ValueError("values and weights must be non-empty and of the same length")
    if np.isnan(v).any():
        raise ValueError("values must not be NaN")
    w = _weights(w, w.size)
    qs = np.atleast_1d(np.asarray(q, dtype=float))
    if not np.isfinite(qs).all() or ((qs < 0) | (qs > 1)).any():
        raise ValueError(f"q must be in [0, 1]; got {q!r}")
    v, w = v[w > 0], w[w > 0]  # zero-weight values are not in the sample
    order = np.argsort(v, kind="stable")
    cw = np.cumsum(w[order])
    # A tiny relative tolerance so that q * total equal to a cumulative weight picks that value.
    idx = np.searchsorted(cw, qs * cw[-1] * (1 - 1e-12), side="left")
    return v[order][np.minimum(idx, v.size - 1)]


def latency_summary(
    latency_ms: np.ndarray, shares: np.ndarray, user_weight: Any
) -> dict[str, float]:
    """Population-weighted latency users see under a routing (one health scenario).

    Parameters
    ----------
    latency_ms : numpy.ndarray, shape (users, clusters)
        RTT matrix.
    shares : numpy.ndarray, shape (users, clusters)
        From :func:`route`.
    user_weight : array_like, shape (users,)
        Population (or request volume) per user location.

    Returns
    -------
    dict
        ``mean_rtt_ms``, ``p50_rtt_ms``, ``p95_rtt_ms``, ``p99_rtt_ms`` over served traffic, and
        ``unserved_fraction`` (traffic with no healthy cluster).

    Notes
    -----
    Each (user, cluster) pair carries mass ``weight * share``; the quantiles are
    of that mixture (:func:`weighted_quantile`).
    """
    lat = np.asarray(latency_ms, dtype=float)
    sh = np.asarray(shares, dtype=float)
    w = _weights(user_weight, lat.shape[0], "user_weight")
    if sh.shape != lat.shape:
        raise ValueError(f"shares must have the shape of latency_ms {lat.shape}; got {sh.shape}")
    mass = (w[:, None] * sh).ravel()
    served = mass.sum()
    if served <= 0:
        nan = float("nan")
        return {
            "mean_rtt_ms": nan,
            "p50_rtt_ms": nan,
            "p95_rtt_ms": nan,
            "p99_rtt_ms": nan,
            "unserved_fraction": 1.0,
        }
    vals = lat.ravel()
    keep = mass > 0
    p50, p95, p99 = weighted_quantile(vals[keep], mass[keep], [0.5, 0.95, 0.99])
    return {
        "mean_rtt_ms": float((vals * mass).sum() / served),
        "p50_rtt_ms": float(p50),
        "p95_rtt_ms": float(p95),
        "p99_rtt_ms": float(p99),
        "unserved_fraction": float(1 - served / w.sum()),
    }


def failure_scenarios(n_clusters: int, failures: int = 1) -> np.ndarray:
    """Health masks: all up, then every way of losing up to ``failures`` clusters.

    Parameters
    ----------
    n_clusters : int
        Number of clusters.
    failures : int, default 1
        Largest number of simultaneous failures to enumerate.

    Returns
    -------
    numpy.ndarray of bool
        Shape ``(scenarios, n_clusters)``; row 0 is all healthy.
    """
    n_clusters = check_int(n_clusters, "n_clusters", minimum=1)
    failures = check_int(failures, "failures", minimum=0)
    f_max = min(failures, n_clusters)
    count = sum(math.comb(n_clusters, f) for f in range(min(f_max, 64) + 1))  # lower bound if cut
    check_budget(
        float(count) * n_clusters,
        f"failure_scenarios(n_clusters={n_clusters}, failures={failures}): {count:,} masks",
        remedy="use fewer clusters or fewer simultaneous failures",
    )
    rows = [np.ones(n_clusters, dtype=bool)]
    for f in range(1, min(failures, n_clusters) + 1):
        for down in itertools.combinations(range(n_clusters), f):
            row = np.ones(n_clusters, dtype=bool)
            row[list(down)] = False
            rows.append(row)
    return np.stack(rows)

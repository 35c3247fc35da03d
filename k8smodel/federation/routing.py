"""Routing users to clusters and the latency they see.

Three policies, as a global DNS balancer such as k8gb offers them (``Gslb``
``spec.strategy.type``: ``geoip``, ``roundRobin``, ``failover``; a cluster is
healthy when the Service has ready endpoints; default DNS TTL 30 s; REFERENCE.md §4):

* ``"nearest"``: each user goes to the healthy cluster with the lowest RTT
  (geo-DNS or anycast; with the distance model, the geographically nearest).
* ``"round_robin"``: DNS hands out every healthy cluster, optionally weighted;
  each user's requests spread over them in proportion to the weights.
* ``"failover"``: everything goes to the first healthy cluster in a priority list.

Everything is an array operation over a ``users x clusters`` latency matrix, and
over any number of health scenarios at once: ``healthy`` may be ``(clusters,)``
or ``(scenarios, clusters)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from k8smodel.federation._checks import nonnegative, weight_vector, whole
from k8smodel.federation.geo import locate
from k8smodel.federation.latency import RttModel, default_rtt_model, rtt_ms

__all__ = [
    "ROUTING_POLICIES",
    "latency_matrix",
    "route",
    "weighted_quantile",
    "latency_summary",
    "failure_scenarios",
]

ROUTING_POLICIES = ("nearest", "round_robin", "failover")


def latency_matrix(
    users: pd.DataFrame,
    clusters,
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
    access_ms = nonnegative(access_ms, "access_ms")
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


def _healthy_mask(healthy, n_clusters: int) -> np.ndarray:
    if healthy is None:
        return np.ones(n_clusters, dtype=bool)
    mask = np.asarray(healthy, dtype=bool)
    if mask.shape[-1] != n_clusters:
        raise ValueError(f"healthy must have {n_clusters} entries on its last axis")
    return mask


def route(
    latency_ms: np.ndarray,
    *,
    routing: str = "nearest",
    healthy=None,
    weights=None,
    order=None,
) -> np.ndarray:
    """Share of each user's traffic sent to each cluster.

    Parameters
    ----------
    latency_ms : numpy.ndarray, shape (users, clusters)
        From :func:`latency_matrix`.
    routing : {"nearest", "round_robin", "failover"}
        The policy (see the module notes).
    healthy : array_like of bool, shape (clusters,) or (scenarios, clusters), optional
        Which clusters are up (default all).
    weights : array_like, optional
        ``round_robin`` weights per cluster (default equal; k8gb's weighted
        round robin).
    order : sequence of int, optional
        ``failover`` priority: cluster indices, most preferred first (default
        the given cluster order).

    Returns
    -------
    numpy.ndarray
        Shape ``(users, clusters)`` or ``(scenarios, users, clusters)``; each
        user's row sums to 1, or to 0 when no cluster is healthy.
    """
    lat = np.asarray(latency_ms, dtype=float)
    if lat.ndim != 2:
        raise ValueError("latency_ms must be a (users, clusters) matrix")
    if np.isnan(lat).any():
        raise ValueError("latency_ms must not contain NaN")
    n_users, n_cl = lat.shape
    mask = _healthy_mask(healthy, n_cl)
    scen = mask.reshape(-1, n_cl)
    if routing == "nearest":
        masked = np.where(scen[:, None, :], lat[None, :, :], np.inf)
        pick = masked.argmin(axis=2)
        out = np.zeros((scen.shape[0], n_users, n_cl))
        np.put_along_axis(out, pick[..., None], 1.0, axis=2)
        out *= scen.any(axis=1)[:, None, None]
    elif routing == "round_robin":
        w = np.ones(n_cl) if weights is None else weight_vector(weights, "weights", n_cl)
        eff = scen * w
        tot = eff.sum(axis=1, keepdims=True)
        frac = np.divide(eff, tot, out=np.zeros_like(eff), where=tot > 0)
        out = np.broadcast_to(frac[:, None, :], (scen.shape[0], n_users, n_cl)).copy()
    elif routing == "failover":
        prio = np.arange(n_cl) if order is None else np.asarray(order, dtype=int)
        if sorted(prio.tolist()) != list(range(n_cl)):
            raise ValueError(f"order must be a permutation of 0..{n_cl - 1}; got {order!r}")
        ranked = scen[:, prio]
        first = ranked.argmax(axis=1)
        frac = np.zeros(scen.shape, dtype=float)
        frac[np.arange(scen.shape[0]), prio[first]] = 1.0
        frac *= scen.any(axis=1)[:, None]
        out = np.broadcast_to(frac[:, None, :], (scen.shape[0], n_users, n_cl)).copy()
    else:
        raise ValueError(f"routing must be one of {ROUTING_POLICIES}; got {routing!r}")
    return out[0] if mask.ndim == 1 else out


def weighted_quantile(values, weights, q) -> np.ndarray:
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
    w = weight_vector(w, "weights")
    qs = np.atleast_1d(np.asarray(q, dtype=float))
    if not np.isfinite(qs).all() or ((qs < 0) | (qs > 1)).any():
        raise ValueError(f"q must be in [0, 1]; got {q!r}")
    v, w = v[w > 0], w[w > 0]  # zero-weight values are not in the sample
    order = np.argsort(v, kind="stable")
    cw = np.cumsum(w[order])
    # A tiny relative tolerance so that q * total equal to a cumulative weight picks that value.
    idx = np.searchsorted(cw, qs * cw[-1] * (1 - 1e-12), side="left")
    return v[order][np.minimum(idx, v.size - 1)]


def latency_summary(latency_ms: np.ndarray, shares: np.ndarray, user_weight) -> dict[str, float]:
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
        ``mean_ms``, ``p50_ms``, ``p95_ms``, ``p99_ms`` over served traffic, and
        ``unserved_fraction`` (traffic with no healthy cluster).

    Notes
    -----
    Each (user, cluster) pair carries mass ``weight * share``; the quantiles are
    of that mixture (:func:`weighted_quantile`).
    """
    lat = np.asarray(latency_ms, dtype=float)
    sh = np.asarray(shares, dtype=float)
    w = weight_vector(user_weight, "user_weight", lat.shape[0])
    if sh.shape != lat.shape:
        raise ValueError(f"shares must have the shape of latency_ms {lat.shape}; got {sh.shape}")
    mass = (w[:, None] * sh).ravel()
    served = mass.sum()
    if served <= 0:
        nan = float("nan")
        return {
            "mean_ms": nan,
            "p50_ms": nan,
            "p95_ms": nan,
            "p99_ms": nan,
            "unserved_fraction": 1.0,
        }
    vals = lat.ravel()
    keep = mass > 0
    p50, p95, p99 = weighted_quantile(vals[keep], mass[keep], [0.5, 0.95, 0.99])
    return {
        "mean_ms": float((vals * mass).sum() / served),
        "p50_ms": float(p50),
        "p95_ms": float(p95),
        "p99_ms": float(p99),
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
    import itertools

    n_clusters = whole(n_clusters, "n_clusters", 1)
    failures = whole(failures, "failures", 0)
    rows = [np.ones(n_clusters, dtype=bool)]
    for f in range(1, min(failures, n_clusters) + 1):
        for down in itertools.combinations(range(n_clusters), f):
            row = np.ones(n_clusters, dtype=bool)
            row[list(down)] = False
            rows.append(row)
    return np.stack(rows)

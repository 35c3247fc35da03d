"""Routing users to clusters, as a global DNS balancer does.

The rules of k8gb's ``Gslb`` (``spec.strategy.type``: ``geoip``, ``roundRobin``,
``failover``; a cluster is healthy when the Service has ready endpoints; default DNS TTL
30 s; REFERENCE.md §4):

* ``"nearest"``: each user goes to the healthy cluster with the lowest RTT
  (geo-DNS or anycast; with the distance model, the geographically nearest).
* ``"round_robin"``: DNS hands out every healthy cluster, optionally weighted;
  each user's requests spread over them in proportion to the weights.
* ``"failover"``: everything goes to the first healthy cluster in a priority list.

:func:`route` is an array operation over a ``users x clusters`` latency matrix and any
number of health scenarios at once (``healthy`` may be ``(clusters,)`` or
``(scenarios, clusters)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from k8smodel._validate import check_choice, check_vector
from k8smodel.federation.spec import ROUTING_POLICIES

__all__ = ["ROUTING_POLICIES", "route"]


def _healthy_mask(healthy: Any, n_clusters: int) -> np.ndarray:
    if healthy is None:
        return np.ones(n_clusters, dtype=bool)
    mask: np.ndarray = np.asarray(healthy, dtype=bool)
    if mask.shape[-1] != n_clusters:
        raise ValueError(f"healthy must have {n_clusters} entries on its last axis")
    return mask


def route(
    latency_ms: np.ndarray,
    *,
    routing: str = "nearest",
    healthy: Any = None,
    weights: Any = None,
    order: Sequence[int] | None = None,
) -> np.ndarray:
    """Share of each user's traffic sent to each cluster.

    Parameters
    ----------
    latency_ms : numpy.ndarray, shape (users, clusters)
        From :func:`k8smodel.federation.routing.latency_matrix`.
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

    Notes
    -----
    k8gb ``controllers/providers/assistant`` and ``api/v1beta1/gslb_types.go``
    (strategy types ``roundRobin``, ``failover``, ``geoip``); REFERENCE.md §4.
    """
    lat = np.asarray(latency_ms, dtype=float)
    if lat.ndim != 2:
        raise ValueError(f"latency_ms must be a (users, clusters) matrix; got shape {lat.shape}")
    if np.isnan(lat).any():
        raise ValueError("latency_ms must not contain NaN")
    check_choice(routing, "routing", ROUTING_POLICIES)
    n_users, n_cl = lat.shape
    mask = _healthy_mask(healthy, n_cl)
    scen = mask.reshape(-1, n_cl)
    if routing == "nearest":
        masked = np.where(scen[:, None, :], lat[None, :, :], np.inf)
        pick = masked.argmin(axis=2)
        out = np.zeros((scen.shape[0], n_users, n_cl))
        np.put_along_axis(out, pick[..., None], 1.0, axis=2)
        out *= np.any(scen, axis=1).reshape(-1, 1, 1)
    elif routing == "round_robin":
        w = np.ones(n_cl) if weights is None else _weights(weights, n_cl)
        eff = scen * w
        tot = eff.sum(axis=1, keepdims=True)
        frac = np.divide(eff, tot, out=np.zeros_like(eff), where=tot > 0)
        out = np.broadcast_to(frac[:, None, :], (scen.shape[0], n_users, n_cl)).copy()
    else:
        prio = np.arange(n_cl) if order is None else np.asarray(order, dtype=int)
        if sorted(prio.tolist()) != list(range(n_cl)):
            raise ValueError(f"order must be a permutation of 0..{n_cl - 1}; got {order!r}")
        ranked = scen[:, prio]
        first = ranked.argmax(axis=1)
        frac = np.zeros(scen.shape, dtype=float)
        frac[np.arange(scen.shape[0]), prio[first]] = 1.0
        frac *= np.any(scen, axis=1).reshape(-1, 1)
        out = np.broadcast_to(frac[:, None, :], (scen.shape[0], n_users, n_cl)).copy()
    return out[0] if mask.ndim == 1 else out


def _weights(values: Any, size: int, name: str = "weights") -> np.ndarray:
    """Finite weights >= 0 with a positive sum, one per item."""
    w = check_vector(values, name, size=size, minimum=0.0)
    if w.sum() <= 0:
        raise ValueError(f"{name} must be finite numbers >= 0 with a positive sum; got {values!r}")
    return w

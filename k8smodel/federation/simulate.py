"""Monte Carlo faces of the federation's closed forms, drawn in bulk.

* :func:`simulate_availability` - k-of-n availability under the beta-binomial or
  independent failures plus shocks; checks :func:`k8smodel.federation.availability`.
* :func:`simulate_failover` - when each client stops using a failed cluster under DNS
  failover; checks :func:`k8smodel.federation.failover_time` and gives the whole law.

Both return the columns of their closed form where both exist, plus ``_se`` columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from k8smodel._random import RngLike, as_generator
from k8smodel._validate import check_budget, check_int, check_probability
from k8smodel.federation.results import FederationResult
from k8smodel.federation.spec import DnsFailover, FailureModel
from k8smodel.federation.theory import (
    Shock,
    _check_shocks,
    _cluster_vector,
    beta_binomial_parameters,
)

__all__ = ["simulate_availability", "simulate_failover"]


def _se(p: float, n: int) -> float:
    return float(np.sqrt(p * (1 - p) / n))


def simulate_availability(
    cluster_availability: float | Sequence[float] = 0.999,
    *,
    clusters: int | None = None,
    needed: int = 1,
    correlation: float | None = None,
    shocks: Sequence[Shock] = (),
    replications: int = 100_000,
    rng: RngLike = None,
) -> FederationResult:
    """Monte Carlo estimate of :func:`k8smodel.federation.availability`.

    Parameters
    ----------
    cluster_availability : float or sequence of float, default 0.999
        Per-cluster up probability (a sequence gives one per cluster).
    clusters : int, optional
        Number of clusters when ``cluster_availability`` is a number.
    needed : int, default 1
        Clusters that must be up.
    correlation : float, optional
        Beta-binomial correlation (as in :func:`~k8smodel.federation.availability`;
        default 0.05 without shocks, 0 with them).
    shocks : sequence of (members, probability)
        Common-cause shocks (then failures are otherwise independent).
    replications : int, default 100000
        Independent periods simulated.
    rng : int, Generator, SeedSequence or None
        Randomness.

    Returns
    -------
    FederationResult
        One row: ``availability`` and ``availability_se`` (binomial standard error),
        ``unavailability`` and ``unavailability_se``, ``failure_model``, ``method``
        (``"simulation"``) and ``exact`` (False).

    Notes
    -----
    Beta-binomial: each period draws the shared up-probability from the Beta law
    (:func:`~k8smodel.federation.beta_binomial_parameters`), then the number of clusters
    up from the binomial. Shocks: each period draws every cluster's own state and every
    shock at once; a cluster is up when it is up on its own and no shock holding it hit.

    Examples
    --------
    >>> r = simulate_availability(0.9, clusters=2, correlation=0, replications=1000, rng=1)
    >>> r.summary.method.iloc[0]
    'simulation'
    """
    n_rep = check_int(replications, "replications", minimum=1)
    gen = as_generator(rng)
    vector = _cluster_vector(cluster_availability, clusters)
    # every path draws at least a few floats per replication
    check_budget(n_rep * 24.0, f"replications={n_rep}", remedy="use fewer replications")
    if vector is not None or shocks:
        if correlation not in (None, 0, 0.0):
            raise ValueError(
                f"correlation must be 0 (or left out) with shocks; got {correlation!r}"
            )
        if vector is None:
            p = check_probability(cluster_availability, "cluster_availability")
            vector = np.full(check_int(clusters, "clusters", minimum=1), p)
        k = check_int(needed, "needed", minimum=1, maximum=vector.size)
        checked = _check_shocks(shocks, vector.size)
        check_budget(n_rep * (vector.size + len(checked)) * 9.0, f"replications={n_rep}")
        up = gen.random((n_rep, vector.size)) < vector
        if checked:
            hits = gen.random((n_rep, len(checked))) < np.array([p for _, p in checked])
            masks = np.stack([m for m, _ in checked]).astype(np.int64)
            up &= ~(hits.astype(np.int64) @ masks > 0)
        ok = up.sum(axis=1) >= k
        label = f"independent + {len(checked)} shock(s)" if checked else "independent"
    else:
        p = check_probability(cluster_availability, "cluster_availability")
        model = FailureModel(cluster_availability=p, correlation=correlation)
        n = check_int(clusters, "clusters", minimum=1)
        k = check_int(needed, "needed", minimum=1, maximum=n)
        p, rho = float(model.cluster_availability), float(model.correlation or 0.0)
        if 0 < rho < 1 and 0 < p < 1:
            probs = gen.beta(*beta_binomial_parameters(p, rho), size=n_rep)
        elif rho == 1:
            probs = (gen.random(n_rep) < p).astype(float)
        else:
            probs = np.full(n_rep, p)
        ok = gen.binomial(n, probs) >= k
        label = model.label
    est = float(ok.mean())
    summary = pd.DataFrame(
        {
            "availability": [est],
            "availability_se": [_se(est, n_rep)],
            "unavailability": [1 - est],
            "unavailability_se": [_se(est, n_rep)],
            "replications": [n_rep],
            "failure_model": [label],
            "method": ["simulation"],
            "exact": [False],
        }
    )
    notes: tuple[str, ...] = ()
    if est in (0.0, 1.0):
        notes = (
            f"no period out of {n_rep} was {'up' if est == 0 else 'down'}: the standard error "
            "is 0 only for want of events; use the exact availability()",
        )
    return FederationResult(summary=summary, params={"replications": n_rep}, notes=notes)


def simulate_failover(
    *,
    probe_interval_s: float = 30.0,
    failure_threshold: int = 3,
    ttl_s: float = 30.0,
    client_cache_s: float = 30.0,
    replications: int = 10_000,
    rng: RngLike = None,
) -> FederationResult:
    """Simulated times until a client stops using a failed cluster, s (drawn in bulk).

    Parameters
    ----------
    probe_interval_s, failure_threshold, ttl_s, client_cache_s
        As in :func:`k8smodel.federation.failover_time`.
    replications : int, default 10000
        Clients (or failures) simulated.
    rng : int, Generator, SeedSequence or None
        Randomness.

    Returns
    -------
    FederationResult
        ``summary`` (one row): ``total_mean_s`` and ``total_mean_s_se``, ``p50_total_s``,
        ``p99_total_s``, ``total_max_s``; ``samples``: every switch time, s.

    Notes
    -----
    Switch time = detection ``(U1 + threshold - 1) * interval`` + the answer's remaining
    TTL ``U2 * ttl`` + the client's remaining cache time ``U3 * cache``, with independent
    uniforms: the failure falls at a random point of the probe cycle; the cached answers
    were fetched at random times before the switch.

    Examples
    --------
    >>> r = simulate_failover(ttl_s=0, client_cache_s=0, failure_threshold=1,
    ...                       replications=1000, rng=1)
    >>> bool(r.samples.max() <= 30.0)
    True
    """
    dns = DnsFailover(
        probe_interval_s=probe_interval_s,
        failure_threshold=failure_threshold,
        ttl_s=ttl_s,
        client_cache_s=client_cache_s,
    )
    n = check_int(replications, "replications", minimum=1)
    check_budget(n * 4 * 8.0, f"replications={n}")
    u = as_generator(rng).random((3, n))
    detection = (u[0] + dns.failure_threshold - 1) * dns.probe_interval_s
    x = detection + u[1] * dns.ttl_s + u[2] * dns.client_cache_s
    summary = pd.DataFrame(
        {
            "total_mean_s": [float(x.mean())],
            "total_mean_s_se": [float(x.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan],
            "p50_total_s": [float(np.quantile(x, 0.5))],
            "p99_total_s": [float(np.quantile(x, 0.99))],
            "total_max_s": [float(x.max())],
            "replications": [n],
            "method": ["simulation"],
            "exact": [False],
        }
    )
    params: dict[str, Any] = {**vars(dns), "replications": n}
    return FederationResult(summary=summary, params=params, samples=x)

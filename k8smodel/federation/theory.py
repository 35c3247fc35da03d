"""Closed forms for a federation: k-of-n availability, failover time, headroom, bad changes.

* :func:`availability` - probability that at least ``needed`` clusters are up: binomial
  (independent), beta-binomial (correlated), or independent failures plus common-cause
  shocks (region, provider, global), exact by enumeration. Every row says which law
  produced it (``method``) and with what correlation (``failure_model``).
* :func:`failover_time` - DNS failover: detection + TTL + client caches, worst and mean.
* :func:`headroom` - the spare capacity each cluster needs to absorb failed neighbours.
* :func:`bad_change_impact` - a bad change rolled out in waves: traffic hit, global outages.

Monte Carlo counterparts are in :mod:`k8smodel.federation.simulate`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from k8smodel._validate import (
    check_array,
    check_int,
    check_probability,
    check_real,
    check_vector,
    describe,
)
from k8smodel.federation.results import FederationResult
from k8smodel.federation.spec import DnsFailover, FailureModel

__all__ = [
    "availability",
    "bad_change_impact",
    "beta_binomial_parameters",
    "failover_time",
    "headroom",
    "shocks_for",
]

Shock = tuple[Iterable[int], float]
_MAX_SHOCKS = 20


def beta_binomial_parameters(
    cluster_availability: float, correlation: float
) -> tuple[float, float]:
    r"""Beta parameters for a mean availability and an intra-class correlation.

    Parameters
    ----------
    cluster_availability : float
        Mean probability a cluster is up, in [0, 1] (at 0 or 1 one of the
        parameters is 0: a degenerate Beta, which :func:`availability` treats
        as the binomial).
    correlation : float
        Correlation between two clusters' up/down indicators, in (0, 1).

    Returns
    -------
    (float, float)
        :math:`\alpha = p(1-\rho)/\rho`, :math:`\beta = (1-p)(1-\rho)/\rho`.

    Notes
    -----
    In the beta-binomial, each cluster is up with a shared random probability
    :math:`P \sim \mathrm{Beta}(\alpha, \beta)`; two clusters' indicators then
    have correlation :math:`\rho = 1/(\alpha+\beta+1)` (Skellam, J. R. Stat. Soc. B
    10(2), 1948; Griffiths, Biometrics 29(4), 1973, doi:10.2307/2529158).

    Examples
    --------
    >>> [round(x, 9) for x in beta_binomial_parameters(0.9, 0.2)]
    [3.6, 0.4]
    """
    p = check_probability(cluster_availability, "cluster_availability")
    rho = check_real(
        correlation, "correlation", minimum=0, maximum=1, lower_open=True, upper_open=True
    )
    scale = (1 - rho) / rho
    return p * scale, (1 - p) * scale


def _count_law(n: int, p: float, rho: float) -> Any:
    """The law of the number of clusters up (a frozen scipy.stats law), or None for rho = 1."""
    if rho == 1:
        return None
    if rho == 0 or p in (0.0, 1.0):
        return stats.binom(n, p)
    return stats.betabinom(n, *beta_binomial_parameters(p, rho))


def _k_of_n(n: int, k: int, p: float, rho: float) -> tuple[float, float, float]:
    """P(at least k up), P(fewer than k up), P(none up): each from its own tail, no cancellation."""
    law = _count_law(n, p, rho)
    if law is None:  # all clusters fail together
        return p, 1 - p, 1 - p
    if isinstance(law.dist, type(stats.binom)):
        # (1 - p)^n directly: scipy's binomial pmf overflows for subnormal p
        none = math.exp(n * math.log1p(-p)) if p < 1 else 0.0
    else:
        none = float(law.pmf(0))
    return float(law.sf(k - 1)), float(law.cdf(k - 1)), none


def _check_shocks(shocks: Sequence[Shock], n: int) -> list[tuple[np.ndarray, float]]:
    out = []
    for i, item in enumerate(shocks):
        try:
            members, prob = item
        except (TypeError, ValueError):
            raise ValueError(
                f"shocks[{i}] must be a (members, probability) pair; got {describe(item)}"
            ) from None
        raw = np.asarray(list(members) if not isinstance(members, np.ndarray) else members)
        if raw.size and (raw.dtype.kind not in "iu" or raw.ndim != 1):
            raise ValueError(
                f"shocks[{i}] members must be whole cluster indices in [0, {n}); got {members!r}"
            )
        idx = raw.astype(int).ravel()
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise ValueError(f"shocks[{i}] members must be cluster indices in [0, {n})")
        mask = np.zeros(n, dtype=bool)
        mask[idx] = True
        out.append((mask, check_probability(prob, f"shocks[{i}] probability")))
    if len(out) > _MAX_SHOCKS:
        raise ValueError(
            f"shocks must number at most {_MAX_SHOCKS} to be enumerated exactly; got {len(out)} "
            "(use k8smodel.federation.simulate_availability)"
        )
    return out


def _poisson_binomial(up_prob: np.ndarray) -> np.ndarray:
    """The pmf of the number of successes of independent Bernoullis (by convolution)."""
    dist = np.zeros(up_prob.size + 1)
    dist[0] = 1.0
    for p in up_prob:  # one pass per cluster (a handful), each vectorized over counts
        dist[1:] = dist[1:] * (1 - p) + dist[:-1] * p
        dist[0] *= 1 - p
    return dist


def _shock_tails(a: np.ndarray, k: int, checked: list) -> tuple[float, float, float]:
    """P(>= k up), P(< k up), P(none up): each summed over the shock patterns' own tails."""
    up_total = down_total = none_total = 0.0
    for pattern in itertools.product((False, True), repeat=len(checked)):
        weight = 1.0
        down = np.zeros(a.size, dtype=bool)
        for hit, (mask, prob) in zip(pattern, checked, strict=True):
            weight *= prob if hit else 1 - prob
            if hit:
                down |= mask
        if weight == 0:
            continue
        pmf = _poisson_binomial(a[~down])
        up_total += weight * float(pmf[k:].sum())
        down_total += weight * float(pmf[:k].sum())
        none_total += weight * float(pmf[0])
    return up_total, down_total, none_total


def _cluster_vector(cluster_availability: Any, clusters: int | None) -> np.ndarray | None:
    """Per-cluster availabilities when given as a sequence, else None."""
    if np.ndim(cluster_availability) == 0:
        return None
    a = check_vector(cluster_availability, "cluster_availability", minimum=0.0, maximum=1.0)
    if clusters is not None and check_int(clusters, "clusters", minimum=1) != a.size:
        raise ValueError(
            f"clusters must equal len(cluster_availability) ({a.size}); got {clusters}"
        )
    return a


def availability(
    *,
    clusters: int | None = None,
    needed: int = 1,
    cluster_availability: float | Sequence[float] = 0.999,
    correlation: float | None = None,
    shocks: Sequence[Shock] = (),
    rng: object = None,
) -> FederationResult:
    """Probability that at least ``needed`` clusters are up, exactly.

    Parameters
    ----------
    clusters : int, optional
        Number of clusters ``n >= 1``; may be left out when ``cluster_availability``
        is a sequence (one entry per cluster).
    needed : int, default 1
        How many must be up for the service to be up, ``1 <= needed <= clusters``.
    cluster_availability : float or sequence of float, default 0.999
        Probability that a cluster is up (from its own causes, with ``shocks``).
    correlation : float, optional
        Pairwise correlation of cluster up/down states, in [0, 1]: 0 gives the
        binomial, values in (0, 1) the beta-binomial, 1 "all fail together".
        Default :data:`k8smodel.federation.spec.DEFAULT_CORRELATION` (0.05), or 0 when
        ``shocks`` or per-cluster availabilities are given.
    shocks : sequence of (members, probability), optional
        Common-cause shocks, each independent, each taking down every member (cluster
        indices) at once: a region, a provider, a bad change reaching all clusters
        (:func:`shocks_for` builds them from region names). Failures are otherwise
        independent.
    rng : ignored
        The value is exact; ``rng`` is accepted so that :func:`k8smodel.sweep` runs this
        function beside :func:`k8smodel.federation.simulate_availability`.

    Returns
    -------
    FederationResult
        One row: ``clusters``, ``needed``, ``cluster_availability`` (the mean),
        ``correlation``, ``availability``, ``unavailability`` (summed from the lower tail,
        so values far below 1e-16 keep their digits), ``p_all_down``, ``failure_model``
        (readable), ``method`` (``binomial``, ``beta_binomial``, ``common_mode`` or
        ``shocks``) and ``exact`` (True).

    Notes
    -----
    Independent failures: ``binom.sf(needed-1, n, p)``. Correlated: the beta-binomial
    with :func:`beta_binomial_parameters`. Correlation caps what more clusters can buy:
    as ``n`` grows, P(all down) tends to the Beta mass near 0, not to 0; Ford et al.,
    "Availability in Globally Distributed Storage Systems", OSDI 2010, found 37 % of
    node failures in bursts. Shocks: the ``2**len(shocks)`` shock patterns are
    enumerated and, in each, the Poisson-binomial of the surviving clusters is summed:
    the common-cause model of Marshall and Olkin, J. Am. Stat. Assoc. 62(317), 1967,
    doi:10.1080/01621459.1967.10482885.

    Examples
    --------
    >>> r = availability(clusters=3, cluster_availability=0.999, correlation=0)
    >>> float(r.summary.unavailability.iloc[0])  # doctest: +ELLIPSIS
    1.0000000000000...e-09
    >>> r.summary.method.iloc[0]
    'binomial'
    """
    vector = _cluster_vector(cluster_availability, clusters)
    if vector is not None or shocks:
        if correlation not in (None, 0, 0.0):
            raise ValueError(
                "correlation must be 0 (or left out) with shocks or per-cluster availabilities; "
                f"got {correlation!r}"
            )
        if vector is None:
            p = check_probability(cluster_availability, "cluster_availability")
            n = check_int(clusters, "clusters", minimum=1)
            vector = np.full(n, p)
        n = vector.size
        k = check_int(needed, "needed", minimum=1, maximum=n)
        checked = _check_shocks(shocks, n)
        up, down, none = _shock_tails(vector, k, checked)
        method = "shocks" if checked else "poisson_binomial"
        label = f"independent + {len(checked)} shock(s)" if checked else "independent"
        p_mean, rho = float(vector.mean()), 0.0
    else:
        p = check_probability(cluster_availability, "cluster_availability")
        model = FailureModel(cluster_availability=p, correlation=correlation)
        n = check_int(clusters, "clusters", minimum=1)
        k = check_int(needed, "needed", minimum=1, maximum=n)
        p_mean, rho = float(model.cluster_availability), float(model.correlation or 0.0)
        up, down, none = _k_of_n(n, k, p_mean, rho)
        method, label = model.method, model.label
    summary = pd.DataFrame(
        {
            "clusters": [n],
            "needed": [k],
            "cluster_availability": [p_mean],
            "correlation": [rho],
            "availability": [up],
            "unavailability": [down],
            "p_all_down": [none],
            "failure_model": [label],
            "method": [method],
            "exact": [True],
        }
    )
    return FederationResult(
        summary=summary,
        params={"clusters": n, "needed": k, "correlation": rho, "shocks": len(shocks)},
        notes=(f"availability from the {label} model of cluster failures",),
    )


def shocks_for(
    clusters: Sequence[str],
    *,
    region_probability: float = 0.0,
    provider_probability: float = 0.0,
    global_probability: float = 0.0,
) -> list[tuple[list[int], float]]:
    """Common-cause shocks for clusters named by catalog region.

    Parameters
    ----------
    clusters : sequence of str
        Region names of the clusters (several clusters may share a region).
    region_probability : float, default 0
        Probability (per period) that a region fails as a whole: one shock per
        distinct region, hitting every cluster in it.
    provider_probability : float, default 0
        Probability that a provider fails as a whole (control plane, IAM, DNS):
        one shock per provider present.
    global_probability : float, default 0
        Probability of a shock hitting every cluster (a bad change pushed
        everywhere, a shared DNS zone): see :func:`bad_change_impact` for its size.

    Returns
    -------
    list of (list of int, float)
        Shocks for :func:`availability` and :func:`k8smodel.federation.simulate_availability`;
        zero-probability shocks are left out.
    """
    from k8smodel.federation.geo import catalog_row

    names = list(clusters)
    probs = {
        "region": check_probability(region_probability, "region_probability"),
        "provider": check_probability(provider_probability, "provider_probability"),
    }
    glob = check_probability(global_probability, "global_probability")
    rows = [catalog_row(str(name)) for name in names]
    shocks: list[tuple[list[int], float]] = []
    for key, prob in probs.items():
        if prob > 0:
            groups: dict[str, list[int]] = {}
            for i, row in enumerate(rows):
                groups.setdefault(str(row[key]), []).append(i)
            shocks.extend((members, prob) for members in groups.values())
    if glob > 0:
        shocks.append((list(range(len(names))), glob))
    return shocks


def bad_change_impact(
    traffic_share: Sequence[float],
    *,
    waves: Sequence[int] | None = None,
    detection_probability: float = 0.9,
    error_rate: float = 1.0,
    bake_s: float = 3600.0,
    rollback_s: float = 600.0,
    late_detection_s: float = 3600.0,
) -> FederationResult:
    """What a bad change costs when rolled out cluster by cluster in waves.

    Parameters
    ----------
    traffic_share : sequence of float
        Fraction of traffic each cluster serves (summing to 1), in rollout order:
        the first cluster is the canary.
    waves : sequence of int, optional
        Clusters per wave, summing to the number of clusters (e.g. ``[1, 2, 3]``:
        a canary, then 2, then 3). Default: one wave with every cluster.
    detection_probability : float, default 0.9
        Probability that a bad change is caught during one wave's bake time.
    error_rate : float, default 1.0
        Fraction of an affected cluster's requests that fail.
    bake_s : float, default 3600
        Time each wave runs before the next starts, s.
    rollback_s : float, default 600
        Time from detection until the change is undone everywhere, s.
    late_detection_s : float, default 3600
        When no bake catches it, time after the last wave until users report it, s.

    Returns
    -------
    FederationResult
        One row: ``traffic_affected`` (expected fraction of requests failing while the
        change is live, at its worst point), ``p_all_clusters_hit`` (probability the
        change reaches every cluster), ``error_budget_s`` (expected failing-traffic
        fraction x seconds), ``waves``, ``method`` and ``exact``.

    Notes
    -----
    Wave ``w`` (1-based) goes out at ``(w-1) * bake_s``; if caught in the bake of
    wave ``w`` (probability ``(1-d)^(w-1) d``), the clusters of waves ``1..w`` are
    hit and the change is rolled back at ``w * bake_s + rollback_s``. Google SRE
    book, ch. 1 and "Canarying Releases" (SRE Workbook, ch. 16): about 70 % of
    outages follow a change; a 5 % canary with a 20 % error rate affects 1 % of
    traffic.

    Examples
    --------
    >>> r = bad_change_impact([0.05] + [0.95 / 19] * 19, waves=[1, 19],
    ...                       detection_probability=1.0, error_rate=0.2)
    >>> round(r.value("traffic_affected"), 6)
    0.01
    """
    share = np.asarray(traffic_share, dtype=float)
    if share.ndim != 1 or share.size == 0 or not np.isfinite(share).all() or (share < 0).any():
        raise ValueError(
            f"traffic_share must be a non-empty 1-d sequence of fractions >= 0; "
            f"got {describe(traffic_share)}"
        )
    if not np.isclose(share.sum(), 1.0):
        raise ValueError(f"traffic_share must sum to 1; got {share.sum():.6g}")
    plan = [share.size] if waves is None else [check_int(w, "waves[i]", minimum=1) for w in waves]
    if sum(plan) != share.size:
        raise ValueError(f"waves must sum to the number of clusters ({share.size}); got {plan}")
    d = check_probability(detection_probability, "detection_probability")
    err = check_probability(error_rate, "error_rate")
    bake_s = check_real(bake_s, "bake_s", minimum=0.0)
    rollback_s = check_real(rollback_s, "rollback_s", minimum=0.0)
    late_detection_s = check_real(late_detection_s, "late_detection_s", minimum=0.0)
    cum_share = np.cumsum(share)[np.cumsum(plan) - 1]
    wave_share = np.diff(np.concatenate([[0.0], cum_share]))
    n_w = len(plan)
    start = np.arange(n_w) * bake_s
    p_first = (1 - d) ** np.arange(n_w) * d
    p_never = (1 - d) ** n_w
    expected = float((p_first * cum_share).sum() + p_never * cum_share[-1]) * err
    # Error budget: wave j is live from start[j] until the rollback finishes; caught in wave w,
    # the clusters of waves 1..w are live for (w * bake + rollback - start[j]).
    stop = start + bake_s + rollback_s
    live = np.where(np.tri(n_w, dtype=bool), stop[:, None] - start[None, :], 0.0)
    error_s = float(p_first @ (live @ wave_share))
    stop_never = start[-1] + bake_s + late_detection_s + rollback_s
    error_s += p_never * float((wave_share * (stop_never - start)).sum())
    summary = pd.DataFrame(
        {
            "clusters": [share.size],
            "waves": [n_w],
            "detection_probability": [d],
            "traffic_affected": [expected],
            "p_all_clusters_hit": [float((1 - d) ** (n_w - 1))],
            "error_budget_s": [error_s * err],
            "method": ["staged_rollout"],
            "exact": [True],
        }
    )
    return FederationResult(summary=summary, params={"waves": plan, "bake_s": bake_s})


def failover_time(
    *,
    probe_interval_s: float = 30.0,
    failure_threshold: int = 3,
    ttl_s: float = 30.0,
    client_cache_s: float = 30.0,
) -> FederationResult:
    """Time for clients to move off a failed cluster under DNS failover.

    Parameters
    ----------
    probe_interval_s : float, default 30
        Health-check interval (Route 53 default 30 s; Azure Traffic Manager 30 s).
    failure_threshold : int, default 3
        Consecutive failed probes before the endpoint is marked down (Route 53 3,
        Traffic Manager 4).
    ttl_s : float, default 30
        DNS record TTL (k8gb default 30 s, Traffic Manager 30 s).
    client_cache_s : float, default 30
        Extra caching after the resolver: CoreDNS ``cache 30``, the JVM's 30 s.

    Returns
    -------
    FederationResult
        One row: ``detection_worst_s``, ``ttl_worst_s``, ``client_cache_worst_s``,
        ``total_worst_s`` (their sum, REFERENCE.md §4), the matching ``*_mean_s``,
        ``method`` and ``exact``.

    Notes
    -----
    Worst case: the failure happens just after a good probe, so detection takes
    ``failure_threshold`` full intervals; a resolver and a client that cached the
    answer just before the switch keep it for a full TTL and cache time. Mean
    case: the failure falls uniformly within a probe interval
    (``(threshold - 1/2) * interval``) and cached answers are on average half
    way through their lifetime (``ttl/2``, ``cache/2``).

    Examples
    --------
    >>> failover_time().value("total_worst_s")
    150.0
    """
    dns = DnsFailover(
        probe_interval_s=probe_interval_s,
        failure_threshold=failure_threshold,
        ttl_s=ttl_s,
        client_cache_s=client_cache_s,
    )
    k, probe = dns.failure_threshold, dns.probe_interval_s
    row = {
        "detection_worst_s": k * probe,
        "ttl_worst_s": dns.ttl_s,
        "client_cache_worst_s": dns.client_cache_s,
        "total_worst_s": k * probe + dns.ttl_s + dns.client_cache_s,
        "detection_mean_s": (k - 0.5) * probe,
        "ttl_mean_s": dns.ttl_s / 2,
        "client_cache_mean_s": dns.client_cache_s / 2,
    }
    row["total_mean_s"] = row["detection_mean_s"] + row["ttl_mean_s"] + row["client_cache_mean_s"]
    summary = pd.DataFrame({key: [float(v)] for key, v in row.items()})
    summary["method"] = "dns_failover_bounds"
    summary["exact"] = True
    return FederationResult(summary=summary, params=dict(vars(dns)))


def headroom(shares: Any) -> FederationResult:
    """Capacity each cluster needs to absorb failed clusters' traffic.

    Parameters
    ----------
    shares : array_like, shape (scenarios, clusters)
        Traffic fraction each cluster serves in each scenario; row 0 is all
        healthy and the other rows are the failure scenarios to survive (e.g. from
        :func:`k8smodel.federation.routing.failure_scenarios`).

    Returns
    -------
    FederationResult
        ``summary`` (one row): ``capacity_multiplier`` (``sum(required) / sum(normal)``:
        capacity bought over capacity used when healthy) and ``max_headroom_fraction``;
        ``per_cluster``: ``normal_share`` (row 0), ``required_share`` (column maximum over
        scenarios) and ``headroom_fraction`` (``required / normal - 1``).

    Notes
    -----
    With ``n`` equal clusters sharing traffic evenly, surviving ``f`` failures
    needs ``1/(n-f)`` of the traffic per cluster: a multiplier of ``n/(n-f)``.

    Examples
    --------
    >>> headroom([[0.5, 0.5], [0.0, 1.0], [1.0, 0.0]]).value("capacity_multiplier")
    2.0
    """
    arr = check_array(shares, "shares", minimum=0)
    if arr.ndim != 2 or arr.shape[0] < 1:
        raise ValueError(f"shares must be a 2-d array (scenarios, clusters); got shape {arr.shape}")
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise ValueError("shares must be finite fractions >= 0")
    normal = arr[0]
    required = arr.max(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(normal > 0, required / normal - 1, np.where(required > 0, np.inf, 0.0))
    finite = frac[np.isfinite(frac)]
    summary = pd.DataFrame(
        {
            "capacity_multiplier": [
                float(required.sum() / normal.sum()) if normal.sum() else np.nan
            ],
            "max_headroom_fraction": [float(finite.max(initial=0.0))],
            "method": ["worst_scenario"],
            "exact": [True],
        }
    )
    per_cluster = pd.DataFrame(
        {"normal_share": normal, "required_share": required, "headroom_fraction": frac}
    )
    return FederationResult(summary=summary, per_cluster=per_cluster)

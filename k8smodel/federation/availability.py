"""Failure isolation: k-of-n availability under correlation, shocks, bad changes, failover time.

* :func:`availability` - probability that at least ``needed`` of ``clusters`` are up,
  binomial when failures are independent, beta-binomial when they are correlated.
* :func:`availability_with_shocks` - independent cluster failures plus common-cause
  shocks (a region, a provider, a global change) that take down groups at once;
  exact by enumeration, with :func:`simulate_availability` as a Monte Carlo check.
* :func:`bad_change_impact` - a bad change rolled out in waves (canary cluster,
  bake time, waves): how much traffic it hits and how often it reaches everything.
* :func:`failover_time` - DNS failover: detection + TTL + client caches.
* :func:`headroom` - the spare capacity each cluster needs to absorb a failed
  neighbour's traffic.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from scipy import stats

from k8smodel._random import RngLike, as_generator
from k8smodel.federation._checks import nonnegative, probability, whole

__all__ = [
    "availability",
    "availability_model",
    "unavailability",
    "beta_binomial_parameters",
    "availability_with_shocks",
    "unavailability_with_shocks",
    "simulate_availability",
    "bad_change_impact",
    "failover_time",
    "failover_samples",
    "shocks_for",
    "FAILOVER_PRESETS",
    "headroom",
]


def _k_of_n(clusters, needed, cluster_availability, correlation):
    """Checked ``(n, k, p, rho)`` for the k-of-n functions."""
    n = whole(clusters, "clusters", 1)
    k = whole(needed, "needed", 1)
    if k > n:
        raise ValueError(f"needed must be <= clusters ({n}); got {needed!r}")
    p = probability(cluster_availability, "cluster_availability")
    rho = probability(correlation, "correlation")
    return n, k, p, rho


def beta_binomial_parameters(cluster_availability: float, correlation: float):
    r"""Beta parameters for a mean availability and an intra-class correlation.

    Parameters
    ----------
    cluster_availability : float
        Mean probability a cluster is up, in [0, 1] (at 0 or 1 one of the
        parameters is 0: a degenerate Beta, which :func:`availability` treats
        as the binomial).
    correlation : float
        Correlation between two clusters' up/down indicators, in (0, 1).

    Raises
    ------
    ValueError
        ``cluster_availability`` outside [0, 1] or ``correlation`` outside (0, 1).

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
    """
    p = probability(cluster_availability, "cluster_availability")
    rho = probability(correlation, "correlation")
    if not 0 < rho < 1:
        raise ValueError(
            f"correlation must be in (0, 1) for the beta-binomial; got {correlation!r}"
        )
    scale = (1 - rho) / rho
    return p * scale, (1 - p) * scale


def _k_of_n_tails(clusters, needed, cluster_availability, correlation) -> tuple[float, float]:
    """P(at least ``needed`` up) and P(fewer up), each from its own tail of the count's law."""
    n, k, p, rho = _k_of_n(clusters, needed, cluster_availability, correlation)
    if rho == 1:
        return p, 1 - p  # all clusters fail together
    if rho == 0 or p in (0.0, 1.0):
        law = stats.binom(n, p)
    else:
        law = stats.betabinom(n, *beta_binomial_parameters(p, rho))
    return float(law.sf(k - 1)), float(law.cdf(k - 1))


def availability(
    *,
    clusters: int,
    needed: int = 1,
    cluster_availability: float,
    correlation: float = 0.0,
) -> float:
    """Probability that at least ``needed`` of ``clusters`` identical clusters are up.

    Parameters
    ----------
    clusters : int
        Number of clusters ``n >= 1``.
    needed : int, default 1
        How many must be up for the service to be up, ``1 <= needed <= clusters``.
    cluster_availability : float
        Probability that one cluster is up, in [0, 1].
    correlation : float, default 0
        Pairwise correlation of cluster up/down states, in [0, 1]. 0 gives the
        binomial; values in (0, 1) the beta-binomial; 1 means all clusters fail
        together (availability = ``cluster_availability``).

    Returns
    -------
    float
        P(at least ``needed`` up).

    Notes
    -----
    Independent failures: binomial survival function, ``binom.sf(needed-1, n, p)``.
    Correlated: beta-binomial with the parameters of
    :func:`beta_binomial_parameters`, ``scipy.stats.betabinom``. Correlation
    caps what more clusters can buy: as ``n`` grows, P(all down) tends to the
    Beta mass near 0, not to 0. Ford et al., "Availability in Globally
    Distributed Storage Systems", OSDI 2010, found 37 % of node failures in
    bursts, which is why the correlated case matters.
    """
    return _k_of_n_tails(clusters, needed, cluster_availability, correlation)[0]


def unavailability(
    *,
    clusters: int,
    needed: int = 1,
    cluster_availability: float,
    correlation: float = 0.0,
) -> float:
    """Probability that fewer than ``needed`` clusters are up, computed directly.

    Parameters
    ----------
    clusters, needed, cluster_availability, correlation
        As in :func:`availability`.

    Returns
    -------
    float
        ``binom.cdf(needed - 1, n, p)`` or ``betabinom.cdf(needed - 1, n, a, b)``:
        accurate even when it is far below 1e-16, where ``1 - availability`` rounds to 0.
    """
    return _k_of_n_tails(clusters, needed, cluster_availability, correlation)[1]


def _poisson_binomial_tails(up_prob: np.ndarray, needed: int) -> tuple[float, float]:
    """P(at least ``needed`` successes) and P(fewer) for independent Bernoullis, by convolution.

    Both tails are summed from the pmf, so a tiny lower tail keeps its digits
    instead of being lost in ``1 - upper``.
    """
    dist = np.zeros(up_prob.size + 1)
    dist[0] = 1.0
    for p in up_prob:
        dist[1:] = dist[1:] * (1 - p) + dist[:-1] * p
        dist[0] *= 1 - p
    if needed > up_prob.size:
        return 0.0, 1.0
    return float(dist[needed:].sum()), float(dist[:needed].sum())


def _check_shocks(shocks, n: int):
    out = []
    for i, item in enumerate(shocks):
        try:
            members, prob = item
        except (TypeError, ValueError):
            raise ValueError(f"shocks[{i}] must be a (members, probability) pair") from None
        mask = np.zeros(n, dtype=bool)
        raw = np.asarray(list(members) if not isinstance(members, np.ndarray) else members)
        if raw.size and (raw.dtype.kind not in "iu" or raw.ndim != 1):
            raise ValueError(
                f"shocks[{i}] members must be whole cluster indices in [0, {n}); got {members!r}"
            )
        idx = raw.astype(int).ravel()
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise ValueError(f"shocks[{i}] members must be cluster indices in [0, {n})")
        mask[idx] = True
        out.append((mask, probability(prob, f"shocks[{i}] probability")))
    return out


def availability_with_shocks(
    cluster_availability, *, needed: int = 1, shocks: Sequence = ()
) -> float:
    """At-least-``needed`` availability with independent failures plus common-cause shocks.

    Parameters
    ----------
    cluster_availability : float or sequence of float
        Probability each cluster is up from its own causes (independent).
    needed : int, default 1
        Clusters that must be up.
    shocks : sequence of (members, probability)
        Each shock happens independently with its probability and takes down
        every member (cluster indices) at once: a region outage for clusters in
        one region, a provider-wide outage, or a bad change reaching all clusters.

    Returns
    -------
    float
        P(at least ``needed`` clusters up).

    Notes
    -----
    Exact: enumerates the ``2**len(shocks)`` shock combinations (fine up to about
    15 shocks) and, in each, the Poisson-binomial of the clusters that survived
    them. This is the common-cause (shock) model of Marshall and Olkin, J. Am.
    Stat. Assoc. 62(317), 1967, doi:10.1080/01621459.1967.10482885.
    """
    a, k = _check_cluster_availability(cluster_availability, needed)
    checked = _check_shocks(shocks, a.size)
    if len(checked) > 20:
        raise ValueError("at most 20 shocks can be enumerated exactly; use simulate_availability")
    return _shock_tails(a, k, checked)[0]


def _shock_tails(a: np.ndarray, k: int, checked) -> tuple[float, float]:
    """P(at least ``k`` up) and P(fewer than ``k`` up), each summed over shock patterns."""
    up_total = down_total = 0.0
    for pattern in itertools.product((False, True), repeat=len(checked)):
        weight = 1.0
        down = np.zeros(a.size, dtype=bool)
        for hit, (mask, prob) in zip(pattern, checked, strict=True):
            weight *= prob if hit else 1 - prob
            if hit:
                down |= mask
        if weight == 0:
            continue
        up, low = _poisson_binomial_tails(a[~down], k)
        up_total += weight * up
        down_total += weight * low
    return float(up_total), float(down_total)


def _check_cluster_availability(cluster_availability, needed):
    a = np.atleast_1d(np.asarray(cluster_availability, dtype=float))
    if a.ndim != 1 or a.size == 0 or not np.isfinite(a).all() or ((a < 0) | (a > 1)).any():
        raise ValueError(
            f"cluster_availability must be a number or 1-d sequence of numbers in [0, 1]; "
            f"got {cluster_availability!r}"
        )
    k = whole(needed, "needed", 1)
    if k > a.size:
        raise ValueError(f"needed must be <= number of clusters ({a.size}); got {needed!r}")
    return a, k


def unavailability_with_shocks(
    cluster_availability, *, needed: int = 1, shocks: Sequence = ()
) -> float:
    """P(fewer than ``needed`` clusters up) with independent failures plus shocks, directly.

    Parameters
    ----------
    cluster_availability, needed, shocks
        As in :func:`availability_with_shocks`.

    Returns
    -------
    float
        The complement of :func:`availability_with_shocks`, summed from the lower
        tail of each shock pattern's Poisson-binomial rather than taken as
        ``1 - availability``: it keeps its digits below 1e-16.
    """
    a, k = _check_cluster_availability(cluster_availability, needed)
    checked = _check_shocks(shocks, a.size)
    if len(checked) > 20:
        raise ValueError("at most 20 shocks can be enumerated exactly; use simulate_availability")
    return _shock_tails(a, k, checked)[1]


def simulate_availability(
    cluster_availability,
    *,
    needed: int = 1,
    shocks: Sequence = (),
    samples: int = 100_000,
    rng: RngLike = None,
) -> dict[str, float]:
    """Monte Carlo estimate of :func:`availability_with_shocks`, drawn in bulk.

    Parameters
    ----------
    cluster_availability : float or sequence of float
        Per-cluster independent up probability.
    needed : int, default 1
        Clusters that must be up.
    shocks : sequence of (members, probability)
        As in :func:`availability_with_shocks`.
    samples : int, default 100000
        Independent days (or any period) simulated.
    rng : int, Generator, SeedSequence or None
        Randomness.

    Returns
    -------
    dict
        ``availability`` (fraction of samples with at least ``needed`` up) and
        ``se`` (its binomial standard error).
    """
    a, k = _check_cluster_availability(cluster_availability, needed)
    n_samples = whole(samples, "samples", 1)
    checked = _check_shocks(shocks, a.size)
    gen = as_generator(rng)
    up = gen.random((n_samples, a.size)) < a
    if checked:
        hits = gen.random((n_samples, len(checked))) < np.array([p for _, p in checked])
        masks = np.stack([m for m, _ in checked])
        up &= ~(hits.astype(np.int64) @ masks.astype(np.int64) > 0)
    ok = up.sum(axis=1) >= k
    est = float(ok.mean())
    return {"availability": est, "se": float(np.sqrt(est * (1 - est) / n_samples))}


def bad_change_impact(
    traffic_share,
    *,
    waves: Sequence[int] | None = None,
    detection_probability: float = 0.9,
    error_rate: float = 1.0,
    bake_s: float = 3600.0,
    rollback_s: float = 600.0,
    late_detection_s: float = 3600.0,
) -> dict[str, float]:
    """What a bad change costs when rolled out cluster by cluster in waves.

    Parameters
    ----------
    traffic_share : sequence of float
        Fraction of traffic each cluster serves (summing to 1), in rollout order:
        the first cluster is the canary.
    waves : sequence of int, optional
        Clusters per wave, summing to the number of clusters (e.g. ``[1, 2, 3]``:
        a canary, then 2, then 3). Default: one wave with every cluster (pushed
        everywhere at once).
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
    dict
        ``expected_traffic_affected`` (expected fraction of requests failing while
        the change is live, at its worst point), ``p_all_clusters_hit``
        (probability the change reaches every cluster, the global outage term),
        ``expected_error_seconds`` (expected failing-traffic fraction x seconds,
        i.e. the error budget spent) and ``waves``.

    Notes
    -----
    Wave ``w`` (1-based) goes out at ``(w-1) * bake_s``; if caught in the bake of
    wave ``w`` (probability ``(1-d)^(w-1) d``), the clusters of waves ``1..w`` are
    hit and the change is rolled back at ``w * bake_s + rollback_s``. Google SRE
    book, ch. 1 and "Canarying Releases" (SRE Workbook, ch. 16): about 70 % of
    outages follow a change; a 5 % canary with a 20 % error rate affects 1 % of
    traffic.
    """
    share = np.asarray(traffic_share, dtype=float)
    if share.ndim != 1 or share.size == 0 or not np.isfinite(share).all() or (share < 0).any():
        raise ValueError("traffic_share must be a non-empty 1-d sequence of fractions >= 0")
    if not np.isclose(share.sum(), 1.0):
        raise ValueError(f"traffic_share must sum to 1; got {share.sum():.6g}")
    waves = [share.size] if waves is None else [whole(w, "waves entries", 1) for w in waves]
    if sum(waves) != share.size:
        raise ValueError(f"waves must sum to the number of clusters ({share.size}); got {waves}")
    d = probability(detection_probability, "detection_probability")
    err = probability(error_rate, "error_rate")
    bake_s = nonnegative(bake_s, "bake_s")
    rollback_s = nonnegative(rollback_s, "rollback_s")
    late_detection_s = nonnegative(late_detection_s, "late_detection_s")
    ends = np.cumsum(waves)
    cum_share = np.cumsum(share)[ends - 1]
    wave_share = np.diff(np.concatenate([[0.0], cum_share]))
    n_w = len(waves)
    start = np.arange(n_w) * bake_s
    p_first = (1 - d) ** np.arange(n_w) * d
    p_never = (1 - d) ** n_w
    expected = float((p_first * cum_share).sum() + p_never * cum_share[-1]) * err
    # Error budget: wave j is live from start[j] until the rollback finishes.
    error_s = 0.0
    for w in range(n_w):
        stop = start[w] + bake_s + rollback_s
        error_s += p_first[w] * float((wave_share[: w + 1] * (stop - start[: w + 1])).sum())
    stop_never = start[-1] + bake_s + late_detection_s + rollback_s
    error_s += p_never * float((wave_share * (stop_never - start)).sum())
    # The last wave hits everything; it is reached when no earlier bake caught the change.
    p_all = float((1 - d) ** (n_w - 1))
    return {
        "expected_traffic_affected": expected,
        "p_all_clusters_hit": p_all,
        "expected_error_seconds": error_s * err,
        "waves": float(n_w),
    }


#: Failover settings documented by DNS providers and resolvers (REFERENCE.md §4).
FAILOVER_PRESETS = {
    "azure-traffic-manager": {"probe_interval_s": 30.0, "failure_threshold": 4, "ttl_s": 30.0},
    "route53": {"probe_interval_s": 30.0, "failure_threshold": 3},
    "k8gb": {"ttl_s": 30.0},
    "coredns-cache": {"client_cache_s": 30.0},
    "jvm": {"client_cache_s": 30.0},
}


def failover_time(
    *,
    probe_interval_s: float = 30.0,
    failure_threshold: int = 3,
    ttl_s: float = 30.0,
    client_cache_s: float = 30.0,
) -> dict[str, float]:
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
    dict
        ``detection_worst_s``, ``ttl_worst_s``, ``client_cache_worst_s``,
        ``total_worst_s`` (their sum, REFERENCE.md §4) and the matching
        ``*_mean_s`` values.

    Notes
    -----
    Worst case: the failure happens just after a good probe, so detection takes
    ``failure_threshold`` full intervals; a resolver and a client that cached the
    answer just before the switch keep it for a full TTL and cache time. Mean
    case: the failure falls uniformly within a probe interval
    (``(threshold - 1/2) * interval``) and cached answers are on average half
    way through their lifetime (``ttl/2``, ``cache/2``).
    """
    k = whole(failure_threshold, "failure_threshold", 1)
    probe_interval_s = nonnegative(probe_interval_s, "probe_interval_s")
    ttl_s = nonnegative(ttl_s, "ttl_s")
    client_cache_s = nonnegative(client_cache_s, "client_cache_s")
    out = {
        "detection_worst_s": k * probe_interval_s,
        "ttl_worst_s": float(ttl_s),
        "client_cache_worst_s": float(client_cache_s),
        "detection_mean_s": (k - 0.5) * probe_interval_s,
        "ttl_mean_s": ttl_s / 2,
        "client_cache_mean_s": client_cache_s / 2,
    }
    out["total_worst_s"] = out["detection_worst_s"] + ttl_s + client_cache_s
    out["total_mean_s"] = out["detection_mean_s"] + out["ttl_mean_s"] + out["client_cache_mean_s"]
    return {k_: float(v) for k_, v in out.items()}


def headroom(shares) -> dict[str, np.ndarray | float]:
    """Capacity each cluster needs to absorb failed clusters' traffic.

    Parameters
    ----------
    shares : array_like, shape (scenarios, clusters)
        Traffic fraction each cluster serves in each scenario; row 0 is all
        healthy and the other rows are the failure scenarios to survive (e.g. from
        :func:`k8smodel.federation.routing.failure_scenarios`). Rows sum to the
        served fraction. The scenarios define what is survived.

    Returns
    -------
    dict
        ``normal`` (row 0), ``required`` (column maximum over scenarios),
        ``headroom_fraction`` per cluster (``required / normal - 1``), and
        ``capacity_multiplier`` (``sum(required) / sum(normal)``): how much more
        capacity the federation buys than it uses when healthy.

    Notes
    -----
    With ``n`` equal clusters sharing traffic evenly, surviving ``f`` failures
    needs ``1/(n-f)`` of the traffic per cluster: a multiplier of ``n/(n-f)``.
    """
    arr = np.asarray(shares, dtype=float)
    if arr.ndim != 2 or arr.shape[0] < 1:
        raise ValueError("shares must be a 2-d array (scenarios, clusters)")
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise ValueError("shares must be finite fractions >= 0")
    normal = arr[0]
    required = arr.max(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(normal > 0, required / normal - 1, np.where(required > 0, np.inf, 0.0))
    return {
        "normal": normal,
        "required": required,
        "headroom_fraction": frac,
        "capacity_multiplier": float(required.sum() / normal.sum()) if normal.sum() else np.nan,
    }


def availability_model(
    *,
    clusters: int,
    needed: int = 1,
    cluster_availability: float,
    correlation: float = 0.0,
    samples: int = 0,
    rng: RngLike = None,
) -> dict[str, float]:
    """k-of-n availability as a dict of scalars, with an optional Monte Carlo check.

    Parameters
    ----------
    clusters, needed, cluster_availability, correlation
        As in :func:`availability`.
    samples : int, default 0
        When > 0, also simulate: draw each period's shared up-probability from
        the Beta distribution (or use ``cluster_availability`` at zero
        correlation), then the number of clusters up from the binomial.
    rng : int, Generator, SeedSequence or None
        Randomness for the simulation (``k8smodel.sweep`` passes a SeedSequence).

    Returns
    -------
    dict
        ``availability`` (exact), ``p_all_down`` (exact), and when simulating
        ``availability_sim`` and ``availability_se``.
    """
    n, k, p, rho = _k_of_n(clusters, needed, cluster_availability, correlation)
    exact = availability(clusters=n, needed=k, cluster_availability=p, correlation=rho)
    # P(no cluster up) from the pmf at 0: no cancellation when it is tiny.
    if rho == 0 or p in (0.0, 1.0):
        down = stats.binom.pmf(0, n, p)
    elif rho == 1:
        down = 1 - p
    else:
        down = stats.betabinom.pmf(0, n, *beta_binomial_parameters(p, rho))
    out = {"availability": exact, "p_all_down": float(down)}
    n_samples = whole(samples, "samples", 0)
    if n_samples:
        gen = as_generator(rng)
        if 0 < rho < 1 and 0 < p < 1:
            a, b = beta_binomial_parameters(p, rho)
            probs = gen.beta(a, b, size=n_samples)
        elif rho == 1:
            probs = (gen.random(n_samples) < p).astype(float)
        else:
            probs = np.full(n_samples, p)
        up = gen.binomial(n, probs)
        est = float((up >= k).mean())
        out["availability_sim"] = est
        out["availability_se"] = float(np.sqrt(max(est * (1 - est), 1e-300) / n_samples))
    return out


def failover_samples(
    *,
    probe_interval_s: float = 30.0,
    failure_threshold: int = 3,
    ttl_s: float = 30.0,
    client_cache_s: float = 30.0,
    samples: int = 10_000,
    rng: RngLike = None,
) -> np.ndarray:
    """Simulated times until a client stops using a failed cluster, s (drawn in bulk).

    Parameters
    ----------
    probe_interval_s, failure_threshold, ttl_s, client_cache_s
        As in :func:`failover_time`.
    samples : int, default 10000
        Clients (or failures) simulated.
    rng : int, Generator, SeedSequence or None
        Randomness.

    Returns
    -------
    numpy.ndarray
        ``samples`` switch times: detection ``(U1 + threshold - 1) * interval``
        plus the answer's remaining TTL ``U2 * ttl`` plus the client's remaining
        cache time ``U3 * cache``, with independent uniforms U1, U2, U3 (the
        failure falls at a random point of the probe cycle; the cached answers
        were fetched at random times before the switch).
    """
    failover_time(
        probe_interval_s=probe_interval_s,
        failure_threshold=failure_threshold,
        ttl_s=ttl_s,
        client_cache_s=client_cache_s,
    )  # validates
    n = whole(samples, "samples", 1)
    u = as_generator(rng).random((3, n))
    detection = (u[0] + failure_threshold - 1) * probe_interval_s
    return detection + u[1] * ttl_s + u[2] * client_cache_s


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
        Shocks for :func:`availability_with_shocks` and :func:`simulate_availability`;
        zero-probability shocks are left out.
    """
    from k8smodel.federation.geo import _catalog, _name_index

    names = list(clusters)
    probs = {
        "region_probability": probability(region_probability, "region_probability"),
        "provider_probability": probability(provider_probability, "provider_probability"),
        "global_probability": probability(global_probability, "global_probability"),
    }
    rows = []
    for name in names:
        idx = _name_index().get(str(name).lower())
        if idx is None:
            from k8smodel.federation.geo import locate

            locate(str(name))  # raises the unknown-region error with suggestions
        rows.append(_catalog().iloc[idx])
    shocks: list[tuple[list[int], float]] = []
    for key, prob in (
        ("region", probs["region_probability"]),
        ("provider", probs["provider_probability"]),
    ):
        if prob > 0:
            groups: dict[str, list[int]] = {}
            for i, row in enumerate(rows):
                groups.setdefault(row[key], []).append(i)
            shocks.extend((members, prob) for members in groups.values())
    if probs["global_probability"] > 0:
        shocks.append((list(range(len(names))), probs["global_probability"]))
    return shocks

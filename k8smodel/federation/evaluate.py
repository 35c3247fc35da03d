"""One call that scores a federation: latency, availability, failover, headroom and cost."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from k8smodel.federation._checks import probability, user_weights
from k8smodel.federation.availability import (
    availability,
    availability_with_shocks,
    failover_time,
    headroom,
    shocks_for,
    unavailability,
    unavailability_with_shocks,
)
from k8smodel.federation.cost import EKS_CONTROL_PLANE_USD_MONTH, monthly_cost
from k8smodel.federation.geo import users as default_users
from k8smodel.federation.routing import failure_scenarios, latency_matrix, latency_summary, route

__all__ = ["Evaluation", "evaluate", "frontier"]


@dataclass(frozen=True)
class Evaluation:
    """The result of :func:`evaluate`.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row. Columns: ``clusters`` (comma-joined names), ``k``, ``routing``;
        latency over served traffic when all clusters are up: ``mean_ms``,
        ``p50_ms``, ``p95_ms``, ``p99_ms``; ``p95_ms_worst_failure`` (the worst p95
        over single-cluster failures); ``availability`` (P(at least ``needed``
        clusters up)) and ``unavailability`` (its complement, summed from the lower
        tail rather than taken as ``1 - availability``, so that tiny values survive,
        with or without shocks); ``max_users_affected_per_failure`` (the largest
        traffic share on one cluster: the users who wait out the failover when that
        cluster fails; the mean over clusters is always ``1/k`` and is not reported);
        ``failover_worst_s``; ``capacity_multiplier`` and ``max_headroom_fraction``
        (:func:`k8smodel.federation.availability.headroom`); and the monthly costs
        ``fixed_usd``, ``capacity_usd``, ``headroom_usd``, ``replication_usd``,
        ``egress_usd``, ``total_usd``.
    per_cluster : pandas.DataFrame
        Per cluster: ``cluster``, ``traffic_share``, ``required_share`` (worst case
        over the failure scenarios) and ``headroom_fraction``.
    per_user : pandas.DataFrame
        The user table with ``rtt_ms`` (share-weighted RTT when all are up) and
        ``cluster`` (the cluster taking most of the user's traffic).
    latency_ms : numpy.ndarray
        The ``(users, clusters)`` RTT matrix used.
    """

    summary: pd.DataFrame
    per_cluster: pd.DataFrame
    per_user: pd.DataFrame
    latency_ms: np.ndarray = field(repr=False)


def evaluate(
    clusters,
    *,
    users: pd.DataFrame | None = None,
    routing: str = "nearest",
    weights=None,
    order=None,
    cluster_availability: float = 0.999,
    needed: int = 1,
    correlation: float = 0.0,
    region_shock_probability: float = 0.0,
    provider_shock_probability: float = 0.0,
    global_shock_probability: float = 0.0,
    failures: int = 1,
    probe_interval_s: float = 30.0,
    failure_threshold: int = 3,
    ttl_s: float = 30.0,
    client_cache_s: float = 30.0,
    fixed_usd_per_cluster: float = EKS_CONTROL_PLANE_USD_MONTH,
    capacity_usd: float = 0.0,
    replication_gb: float = 0.0,
    egress_gb: float = 0.0,
    model=None,
    measured: pd.DataFrame | None = None,
    access_ms: float = 0.0,
) -> Evaluation:
    """Score a set of clusters for a user population.

    Parameters
    ----------
    clusters : sequence of region names or (lat, lon) points
        Where the clusters run.
    users : pandas.DataFrame, optional
        ``lat``, ``lon``, ``weight``; default :func:`k8smodel.federation.users`.
    routing : {"nearest", "round_robin", "failover"}, default "nearest"
        See :func:`k8smodel.federation.routing.route`; ``weights`` and ``order``
        are passed on.
    weights, order : optional
        Round-robin weights; failover priority (cluster indices).
    cluster_availability : float, default 0.999
        Probability a cluster is up.
    needed : int, default 1
        Clusters needed for the service to be up.
    correlation : float, default 0
        Correlation of cluster failures (beta-binomial, :func:`availability`).
    region_shock_probability, provider_shock_probability, global_shock_probability : float
        Common-cause shocks instead of the beta-binomial (:func:`shocks_for`,
        :func:`availability_with_shocks`); clusters must then be region names, and
        ``correlation`` must be 0.
    failures : int, default 1
        Simultaneous failures the headroom must absorb.
    probe_interval_s, failure_threshold, ttl_s, client_cache_s : float
        DNS failover settings (:func:`failover_time`).
    fixed_usd_per_cluster, capacity_usd, replication_gb, egress_gb : float
        Cost inputs (:func:`k8smodel.federation.cost.monthly_cost`).
    model, measured, access_ms
        Latency inputs (:func:`k8smodel.federation.routing.latency_matrix`).

    Returns
    -------
    Evaluation
        ``summary``, ``per_cluster``, ``per_user`` tables and the latency matrix.
    """
    names = list(clusters)
    if not names:
        raise ValueError("clusters must name at least one region")
    users = default_users() if users is None else users
    w = user_weights(users)
    lat = latency_matrix(users, names, model=model, measured=measured, access_ms=access_ms)
    scen = failure_scenarios(len(names), failures)
    shares = route(lat, routing=routing, healthy=scen, weights=weights, order=order)
    traffic = np.einsum("u,suc->sc", w / w.sum(), shares)
    room = headroom(traffic)
    normal = latency_summary(lat, shares[0], w)
    worst_p95 = normal["p95_ms"]
    for s in range(1, scen.shape[0]):
        if (~scen[s]).sum() == 1:
            worst_p95 = max(worst_p95, latency_summary(lat, shares[s], w)["p95_ms"])
    fo = failover_time(
        probe_interval_s=probe_interval_s,
        failure_threshold=failure_threshold,
        ttl_s=ttl_s,
        client_cache_s=client_cache_s,
    )
    cost = monthly_cost(
        [n if isinstance(n, str) else tuple(n) for n in names],
        traffic_share=traffic[0],
        capacity_multiplier=room["capacity_multiplier"],
        fixed_usd_per_cluster=fixed_usd_per_cluster,
        capacity_usd=capacity_usd,
        replication_gb=replication_gb,
        egress_gb=egress_gb,
    )
    shock_p = [
        probability(value, name)
        for name, value in (
            ("region_shock_probability", region_shock_probability),
            ("provider_shock_probability", provider_shock_probability),
            ("global_shock_probability", global_shock_probability),
        )
    ]
    if any(p > 0 for p in shock_p):
        if correlation != 0:
            raise ValueError(
                "use either correlation (beta-binomial) or shock probabilities, not both"
            )
        shocks = shocks_for(
            [str(n) for n in names],
            region_probability=region_shock_probability,
            provider_probability=provider_shock_probability,
            global_probability=global_shock_probability,
        )
        per_cluster = [cluster_availability] * len(names)
        avail = availability_with_shocks(per_cluster, needed=needed, shocks=shocks)
        unavail = unavailability_with_shocks(per_cluster, needed=needed, shocks=shocks)
    else:
        avail = availability(
            clusters=len(names),
            needed=needed,
            cluster_availability=cluster_availability,
            correlation=correlation,
        )
        unavail = unavailability(
            clusters=len(names),
            needed=needed,
            cluster_availability=cluster_availability,
            correlation=correlation,
        )
    frac = room["headroom_fraction"]
    summary = {
        "clusters": ",".join(map(str, names)),
        "k": len(names),
        "routing": routing,
        **normal,
        "p95_ms_worst_failure": worst_p95,
        "availability": avail,
        "unavailability": unavail,
        "max_users_affected_per_failure": float(traffic[0].max()),
        "failover_worst_s": fo["total_worst_s"],
        "capacity_multiplier": room["capacity_multiplier"],
        "max_headroom_fraction": float(np.max(frac[np.isfinite(frac)], initial=0.0)),
        **cost,
    }
    per_cluster = pd.DataFrame(
        {
            "cluster": [str(n) for n in names],
            "traffic_share": traffic[0],
            "required_share": room["required"],
            "headroom_fraction": frac,
        }
    )
    per_user = users.copy()
    per_user["rtt_ms"] = (lat * shares[0]).sum(axis=1)
    per_user["cluster"] = [str(names[j]) for j in shares[0].argmax(axis=1)]
    return Evaluation(
        summary=pd.DataFrame([summary]), per_cluster=per_cluster, per_user=per_user, latency_ms=lat
    )


def frontier(
    *,
    ks,
    candidates,
    users: pd.DataFrame | None = None,
    method: str = "optimal",
    **evaluate_options,
) -> pd.DataFrame:
    """Latency, availability and cost as the number of clusters grows.

    Parameters
    ----------
    ks : iterable of int
        Cluster counts to try.
    candidates : sequence of region names or the regions() DataFrame
        Where clusters may go.
    users : pandas.DataFrame, optional
        Default :func:`k8smodel.federation.users`.
    method : {"optimal", "greedy", "brute"}, default "optimal"
        Placement method (:func:`k8smodel.federation.placement.place`), which
        minimizes population-weighted RTT for each ``k``.
    **evaluate_options
        Passed to :func:`evaluate` (availability, correlation, costs, ...).

    Returns
    -------
    pandas.DataFrame
        One :func:`evaluate` summary row per ``k`` plus ``pareto``: True when no
        other row is at least as good on mean latency, availability and total
        cost and strictly better on one.
    """
    from k8smodel.federation.placement import place

    users = default_users() if users is None else users
    latency_keys = {"model", "measured", "access_ms"}
    lat_opts = {key: v for key, v in evaluate_options.items() if key in latency_keys}
    rows = []
    for k in ks:
        chosen = place(k=k, candidates=candidates, users=users, method=method, **lat_opts)
        rows.append(evaluate(chosen.regions, users=users, **evaluate_options).summary)
    table = pd.concat(rows, ignore_index=True)
    m, u, c = table.mean_ms.to_numpy(), table.unavailability.to_numpy(), table.total_usd.to_numpy()
    better_eq = (m[None, :] <= m[:, None]) & (u[None, :] <= u[:, None]) & (c[None, :] <= c[:, None])
    strictly = (m[None, :] < m[:, None]) | (u[None, :] < u[:, None]) | (c[None, :] < c[:, None])
    table["pareto"] = ~(better_eq & strictly).any(axis=1)
    return table

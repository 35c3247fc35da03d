"""One call that scores a federation: latency, availability, failover, headroom and cost.

:func:`evaluate` composes the family's parts (routing semantics, the latency model, the
availability theory, cost) for one set of clusters; :func:`frontier` repeats it over the
cluster count with the best placement for each.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from k8smodel.federation.cost import EKS_CONTROL_PLANE_USD_MONTH, monthly_cost
from k8smodel.federation.geo import user_weights
from k8smodel.federation.geo import users as default_users
from k8smodel.federation.results import FederationResult
from k8smodel.federation.routing import failure_scenarios, latency_matrix, latency_summary
from k8smodel.federation.semantics import route
from k8smodel.federation.spec import DnsFailover, FailureModel, Federation
from k8smodel.federation.theory import availability, failover_time, headroom, shocks_for

__all__ = ["evaluate", "frontier"]


def _availability(fed: Federation, failure: FailureModel) -> pd.Series:
    """The availability row for the federation under the failure model."""
    if failure.has_shocks:
        shocks = shocks_for(
            [str(n) for n in fed.clusters],
            region_probability=failure.region_shock_probability,
            provider_probability=failure.provider_shock_probability,
            global_probability=failure.global_shock_probability,
        )
        res = availability(
            cluster_availability=[failure.cluster_availability] * len(fed.clusters),
            needed=fed.needed,
            shocks=shocks,
        )
    else:
        res = availability(
            clusters=len(fed.clusters),
            needed=fed.needed,
            cluster_availability=failure.cluster_availability,
            correlation=failure.correlation,
        )
    return res.summary.iloc[0]


def evaluate(
    clusters: Sequence[Any] | Federation,
    *,
    users: pd.DataFrame | None = None,
    routing: str = "nearest",
    weights: Sequence[float] | None = None,
    order: Sequence[int] | None = None,
    cluster_availability: float = 0.999,
    needed: int = 1,
    correlation: float | None = None,
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
    model: Any = None,
    measured: pd.DataFrame | None = None,
    access_ms: float = 0.0,
    failure: FailureModel | None = None,
    dns: DnsFailover | None = None,
    rng: object = None,
) -> FederationResult:
    """Score a set of clusters for a user population.

    Parameters
    ----------
    clusters : sequence of region names or (lat, lon) points, or a Federation
        Where the clusters run; a :class:`~k8smodel.federation.spec.Federation` also
        carries ``routing``, ``weights``, ``order``, ``needed`` and ``failures`` (then leave
        those arguments at their defaults).
    users : pandas.DataFrame, optional
        ``lat``, ``lon``, ``weight``; default :func:`k8smodel.federation.users`.
    routing : {"nearest", "round_robin", "failover"}, default "nearest"
        See :func:`k8smodel.federation.semantics.route`; ``weights`` and ``order``
        are passed on.
    weights, order : optional
        Round-robin weights; failover priority (cluster indices).
    cluster_availability : float, default 0.999
        Probability a cluster is up.
    needed : int, default 1
        Clusters needed for the service to be up.
    correlation : float, optional
        Correlation of cluster failures (beta-binomial). Default 0.05
        (:data:`k8smodel.federation.spec.DEFAULT_CORRELATION`): independent failures
        (``correlation=0``) are an optimistic bound, not a forecast.
    region_shock_probability, provider_shock_probability, global_shock_probability : float
        Common-cause shocks instead of the beta-binomial
        (:func:`k8smodel.federation.shocks_for`); clusters must then be region names.
    failures : int, default 1
        Simultaneous failures the headroom must absorb.
    probe_interval_s, failure_threshold, ttl_s, client_cache_s : float
        DNS failover settings (:class:`~k8smodel.federation.spec.DnsFailover`).
    fixed_usd_per_cluster, capacity_usd, replication_gb, egress_gb : float
        Cost inputs (:func:`k8smodel.federation.cost.monthly_cost`).
    model, measured, access_ms
        Latency inputs (:func:`k8smodel.federation.routing.latency_matrix`).
    failure : FailureModel, optional
        The failure model as a spec, instead of ``cluster_availability``, ``correlation``
        and the shock probabilities.
    dns : DnsFailover, optional
        The DNS failover settings as a spec, instead of ``probe_interval_s``,
        ``failure_threshold``, ``ttl_s`` and ``client_cache_s``.
    rng : ignored
        Every number is exact for the model; accepted so :func:`k8smodel.sweep` can run it.

    Returns
    -------
    FederationResult
        ``summary`` (one row): ``clusters`` (comma-joined), ``k``, ``routing``; latency
        over served traffic when all clusters are up: ``mean_rtt_ms``, ``p50_rtt_ms``,
        ``p95_rtt_ms``, ``p99_rtt_ms``; ``p95_rtt_ms_worst_failure`` (the worst p95 over
        single-cluster failures); ``availability`` and ``unavailability`` (each from its
        own tail) with ``failure_model`` and ``method`` naming the law that produced them;
        ``max_users_affected_per_failure`` (the largest traffic share on one cluster);
        ``failover_worst_s``; ``capacity_multiplier`` and ``max_headroom_fraction``; the
        monthly costs ``fixed_usd``, ``capacity_usd``, ``headroom_usd``,
        ``replication_usd``, ``egress_usd``, ``total_usd``; ``exact``.
        ``per_cluster``: ``cluster``, ``traffic_share``, ``required_share``,
        ``headroom_fraction``. ``per_user``: the user table with ``rtt_ms`` and
        ``cluster``. ``latency_ms``: the ``(users, clusters)`` matrix.

    Examples
    --------
    >>> from k8smodel import federation as fed
    >>> ev = fed.evaluate(["us-east-1", "eu-west-1", "ap-southeast-1"])
    >>> ev.summary.method.iloc[0], ev.summary.failure_model.iloc[0]
    ('beta_binomial', 'beta_binomial(rho=0.05)')
    """
    loose: dict[str, tuple[Any, Any]] = {
        "routing": (routing, "nearest"),
        "weights": (weights, None),
        "order": (order, None),
        "needed": (needed, 1),
        "failures": (failures, 1),
    }
    fed = _spec_or_arguments(
        clusters,
        Federation,
        "clusters",
        loose,
        lambda: Federation(
            clusters=clusters,  # type: ignore[arg-type]
            routing=routing,
            weights=weights,
            order=order,
            needed=needed,
            failures=failures,
        ),
    )
    weights, order = fed.weights, fed.order
    loose = {
        "cluster_availability": (cluster_availability, 0.999),
        "correlation": (correlation, None),
        "region_shock_probability": (region_shock_probability, 0.0),
        "provider_shock_probability": (provider_shock_probability, 0.0),
        "global_shock_probability": (global_shock_probability, 0.0),
    }
    failure = _spec_or_arguments(
        failure,
        FailureModel,
        "failure",
        loose,
        lambda: FailureModel(
            cluster_availability=cluster_availability,
            correlation=correlation,
            region_shock_probability=region_shock_probability,
            provider_shock_probability=provider_shock_probability,
            global_shock_probability=global_shock_probability,
        ),
    )
    loose = {
        "probe_interval_s": (probe_interval_s, 30.0),
        "failure_threshold": (failure_threshold, 3),
        "ttl_s": (ttl_s, 30.0),
        "client_cache_s": (client_cache_s, 30.0),
    }
    dns = _spec_or_arguments(
        dns,
        DnsFailover,
        "dns",
        loose,
        lambda: DnsFailover(
            probe_interval_s=probe_interval_s,
            failure_threshold=failure_threshold,
            ttl_s=ttl_s,
            client_cache_s=client_cache_s,
        ),
    )
    users = default_users() if users is None else users
    w = user_weights(users)
    names = list(fed.clusters)
    lat = latency_matrix(users, names, model=model, measured=measured, access_ms=access_ms)
    scen = failure_scenarios(len(names), fed.failures)
    shares = route(lat, routing=fed.routing, healthy=scen, weights=weights, order=order)
    traffic = np.einsum("u,suc->sc", w / w.sum(), shares)
    room = headroom(traffic)
    normal = latency_summary(lat, shares[0], w)
    single = [s for s in range(1, scen.shape[0]) if (~scen[s]).sum() == 1]
    worst_p95 = max(
        [normal["p95_rtt_ms"]] + [latency_summary(lat, shares[s], w)["p95_rtt_ms"] for s in single]
    )
    cost = monthly_cost(
        names,
        traffic_share=traffic[0],
        capacity_multiplier=room.value("capacity_multiplier"),
        fixed_usd_per_cluster=fixed_usd_per_cluster,
        capacity_usd=capacity_usd,
        replication_gb=replication_gb,
        egress_gb=egress_gb,
    ).summary.drop(columns=["method", "exact"])
    avail = _availability(fed, failure)
    row: dict[str, Any] = {
        "clusters": ",".join(fed.names),
        "k": len(names),
        "routing": fed.routing,
        **normal,
        "p95_rtt_ms_worst_failure": worst_p95,
        "availability": avail["availability"],
        "unavailability": avail["unavailability"],
        "failure_model": avail["failure_model"],
        "max_users_affected_per_failure": float(traffic[0].max()),
        "failover_worst_s": _dns_worst(dns),
        "capacity_multiplier": room.value("capacity_multiplier"),
        "max_headroom_fraction": room.value("max_headroom_fraction"),
        **{str(key): value for key, value in cost.iloc[0].items()},
        "method": avail["method"],
        "exact": True,
    }
    per_cluster = room.per_cluster
    assert per_cluster is not None
    per_cluster = per_cluster.drop(columns="normal_share").assign(traffic_share=traffic[0])
    per_cluster.insert(0, "cluster", list(fed.names))
    per_user = users.copy()
    per_user["rtt_ms"] = (lat * shares[0]).sum(axis=1)
    per_user["cluster"] = [fed.names[j] for j in shares[0].argmax(axis=1)]
    notes = (
        f"availability from the {avail['failure_model']} model of cluster failures, "
        f"each cluster up with probability {failure.cluster_availability:g}",
        f"DNS failover: {dns.failure_threshold} probes x {dns.probe_interval_s:g} s, "
        f"TTL {dns.ttl_s:g} s, client cache {dns.client_cache_s:g} s",
    )
    return FederationResult(
        summary=pd.DataFrame([row]),
        params={
            "clusters": list(fed.names),
            "routing": fed.routing,
            "needed": fed.needed,
            "failures": fed.failures,
            "failure_model": failure.label,
            "users": len(users),
        },
        notes=notes,
        per_cluster=per_cluster[
            ["cluster", "traffic_share", "required_share", "headroom_fraction"]
        ],
        per_user=per_user,
        latency_ms=lat,
    )


def _spec_or_arguments(
    given: Any, kind: type, name: str, loose: dict[str, tuple[Any, Any]], build: Any
) -> Any:
    """``given`` when it is a ``kind`` spec, else the spec ``build`` makes from loose arguments.

    With a spec, the loose arguments must be left at their defaults (no silent override).
    """
    if not isinstance(given, kind):
        return build()
    changed = [
        key
        for key, (value, default) in loose.items()
        if ((value is not None) if default is None else (value != default))
    ]
    if changed:
        raise ValueError(f"pass either {name}={kind.__name__}(...) or {changed}, not both")
    return given


def _dns_worst(dns: DnsFailover) -> float:
    """Worst-case DNS failover time of the settings, s (:func:`failover_time`)."""
    return float(failover_time(**vars(dns)).value("total_worst_s"))


def frontier(
    *,
    ks: Iterable[int],
    candidates: Any,
    users: pd.DataFrame | None = None,
    method: str = "optimal",
    objective: str = "mean",
    **evaluate_options: Any,
) -> FederationResult:
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
        Placement method (:func:`k8smodel.federation.place`).
    objective : {"mean", "p95", "p99", "max"}, default "mean"
        What the placement minimises for each ``k``.
    **evaluate_options
        Passed to :func:`evaluate` (availability, correlation, costs, ...).

    Returns
    -------
    FederationResult
        One :func:`evaluate` summary row per ``k`` plus ``placement_method`` and
        ``pareto``: True when no other row is at least as good on mean latency,
        availability and total cost and strictly better on one.
    """
    from k8smodel.federation.placement import place

    users = default_users() if users is None else users
    latency_keys = {"model", "measured", "access_ms"}
    lat_opts = {key: v for key, v in evaluate_options.items() if key in latency_keys}
    rows: list[pd.DataFrame] = []
    notes: tuple[str, ...] = ()
    for k in ks:
        chosen = place(
            k=k, candidates=candidates, users=users, method=method, objective=objective, **lat_opts
        )
        ev = evaluate(chosen.regions or [], users=users, **evaluate_options)
        rows.append(ev.summary.assign(placement_method=chosen.summary.method.iloc[0]))
        notes = ev.notes
    table = pd.concat(rows, ignore_index=True)
    m = table.mean_rtt_ms.to_numpy()
    u = table.unavailability.to_numpy()
    c = table.total_usd.to_numpy()
    better_eq = (m[None, :] <= m[:, None]) & (u[None, :] <= u[:, None]) & (c[None, :] <= c[:, None])
    strictly = (m[None, :] < m[:, None]) | (u[None, :] < u[:, None]) | (c[None, :] < c[:, None])
    table["pareto"] = np.logical_not((better_eq & strictly).any(axis=1))
    return FederationResult(
        summary=table, params={"method": method, "objective": objective}, notes=notes
    )

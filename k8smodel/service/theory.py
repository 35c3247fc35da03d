r"""Exact per-pod shares of a Service's layered dispatch, and what they cost.

A connection enters on a node (chosen by the client's location, a NodePort client or a
load balancer spreading over the nodes that pass its health check) and kube-proxy there
picks uniformly among the endpoints :func:`k8smodel.service.semantics.categorize_endpoints`
leaves it. Pod ``p``'s share is therefore exactly

.. math:: s_p = \frac{1}{1 - d} \sum_n w_n \, \frac{[p \in E_n]}{|E_n|},

with ``w_n`` the entry probability of node ``n``, ``E_n`` its endpoint list and ``d`` the
probability of entering on a node whose list is empty. Two special cases have a closed
form that does not need the matrix (:func:`local_lb_shares`, :func:`cluster_shares`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from k8smodel import metrics
from k8smodel._validate import check_int, check_real, check_vector
from k8smodel.result import Result
from k8smodel.service._plan import Plan, make_plan
from k8smodel.service.spec import Layout, Service

__all__ = ["ServiceResult", "theory", "local_lb_shares", "cluster_shares", "SUMMARY_COLUMNS"]

#: Columns of ``ServiceResult.summary`` besides ``method``/``exact`` (simulation adds ``_se``).
SUMMARY_COLUMNS = (
    "jain_requests",
    "max_share",
    "fraction_cross_zone",
    "fraction_extra_hop",
    "fraction_dropped",
    "nodes_no_local_pod",
    "cross_zone_gb_per_day",
    "cross_zone_usd_per_day",
    "max_utilization",
)

_NEAR_CAPACITY = 0.9


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class ServiceResult(Result):
    """A Service's traffic answer: the summary row plus per-pod, per-node, per-zone tables.

    Attributes
    ----------
    per_pod : pandas.DataFrame
        ``pod, node, zone, share_requests, share_connections, utilization`` (simulation
        adds ``_se`` columns).
    per_node : pandas.DataFrame
        ``node, zone, share_entry, local_pods, passes_health_check, fraction_sent_off_node``.
    per_zone : pandas.DataFrame
        ``zone, share_entry, share_served, pods``.
    """

    per_pod: pd.DataFrame = field(default_factory=pd.DataFrame)
    per_node: pd.DataFrame = field(default_factory=pd.DataFrame)
    per_zone: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True)
class Load:
    """Traffic volume and pod capacity, validated once for theory and simulate."""

    request_rate_per_s: float
    mean_service_s: float
    pod_concurrency: int
    bytes_per_request: float
    usd_per_gb: float

    @classmethod
    def check(cls, **kw: Any) -> Load:
        return cls(
            check_real(kw["request_rate_per_s"], "request_rate_per_s", minimum=0),
            check_real(kw["mean_service_s"], "mean_service_s", minimum=0, lower_open=True),
            check_int(kw["pod_concurrency"], "pod_concurrency", minimum=1),
            check_real(kw["bytes_per_request"], "bytes_per_request", minimum=0),
            check_real(kw["usd_per_gb"], "usd_per_gb", minimum=0),
        )

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def flow_metrics(plan: Plan, flow: np.ndarray) -> dict[str, np.ndarray]:
    """Summary numbers of one or many ``flow`` matrices (``(..., nodes, pods)``).

    Returns per-pod shares and the fractions dropped, crossing zones and taking an extra
    node hop; used by ``theory`` on the exact flow and by ``simulate`` on counted flows.
    """
    delivered = flow.sum(axis=(-2, -1))
    node_zone = plan.node_zone
    pod_zone = node_zone[plan.pod_node]
    cross = node_zone[:, None] != pod_zone[None, :]
    off_node = np.arange(len(node_zone))[:, None] != plan.pod_node[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        per_pod = flow.sum(axis=-2)
        return {
            "shares": per_pod / delivered[..., None],
            "delivered": delivered,
            "fraction_cross_zone": (flow * cross).sum(axis=(-2, -1)) / delivered,
            "fraction_extra_hop": (flow * off_node).sum(axis=(-2, -1)) / delivered,
        }


def nodes_no_local_pod(plan: Plan) -> int:
    """Nodes that receive traffic but send all of it to other nodes."""
    received = plan.flow.sum(axis=1) > 0
    own = np.zeros(len(plan.layout.nodes))
    np.add.at(own, plan.pod_node, plan.flow[plan.pod_node, np.arange(len(plan.layout.pods))])
    return int((received & (own == 0)).sum())


def cost_and_load(
    load: Load, plan: Plan, shares: np.ndarray, delivered: float, cross: float
) -> dict[str, Any]:
    """Cross-zone volume and price per day, per-pod utilization and its flags."""
    rate = load.request_rate_per_s * delivered
    gb = cross * rate * load.bytes_per_request * 86400 / 1e9
    util = rate * shares * load.mean_service_s / load.pod_concurrency
    return {
        "cross_zone_gb_per_day": gb,
        "cross_zone_usd_per_day": gb * load.usd_per_gb,
        "utilization": util,
        "max_utilization": float(np.nanmax(util)) if util.size else float("nan"),
    }


def flags_and_notes(plan: Plan, max_util: float, dropped: float) -> tuple[str, list[str]]:
    """Reliability flags and the sentences that go with them."""
    flags, notes = [], []
    if dropped > 0:
        flags.append("dropped")
        notes.append(
            f"{dropped:.1%} of connections enter on nodes with no usable endpoint and are dropped"
        )
    if max_util >= 1:
        flags.append("overloaded")
        notes.append(
            f"a pod is offered {max_util:.2f} of its capacity: its queue grows without bound"
        )
    elif max_util >= _NEAR_CAPACITY:
        flags.append("near_capacity")
        notes.append(f"the busiest pod runs at {max_util:.0%} of capacity")
    if not plan.layout.pods:
        flags.append("no_pods")
    notes.append(f"hints: {plan.hints}")
    return ";".join(flags), notes


def tables(
    plan: Plan, shares: np.ndarray, util: np.ndarray, conn_shares: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per-pod, per-node and per-zone tables."""
    layout = plan.layout
    zone_of = {n.name: n.zone for n in layout.nodes}
    per_pod = pd.DataFrame(
        {
            "pod": [p.name for p in layout.pods],
            "node": [p.node for p in layout.pods],
            "zone": [zone_of[p.node] for p in layout.pods],
            "share_requests": shares,
            "share_connections": conn_shares,
            "utilization": util,
        }
    )
    received = plan.flow.sum(axis=1)
    own = np.zeros(len(layout.nodes))
    np.add.at(own, plan.pod_node, plan.flow[plan.pod_node, np.arange(len(layout.pods))])
    with np.errstate(invalid="ignore", divide="ignore"):
        off = np.where(received > 0, 1 - own / received, np.nan)
    per_node = pd.DataFrame(
        {
            "node": [n.name for n in layout.nodes],
            "zone": [n.zone for n in layout.nodes],
            "share_entry": received / received.sum() if received.sum() > 0 else received,
            "local_pods": [sum(p.node == n.name for p in layout.pods) for n in layout.nodes],
            "passes_health_check": plan.healthy,
            "fraction_sent_off_node": off,
        }
    )
    zones = layout.zones
    per_zone = pd.DataFrame(
        {
            "zone": zones,
            "share_entry": [per_node.loc[per_node.zone == z, "share_entry"].sum() for z in zones],
            "share_served": [float(np.nansum(shares[per_pod.zone == z])) for z in zones],
            "pods": [int((per_pod.zone == z).sum()) for z in zones],
        }
    )
    return per_pod, per_node, per_zone


def theory(
    service: Service,
    layout: Layout,
    *,
    source: str | None = None,
    client_weights: Mapping[str, float] | None = None,
    failed_zones: Iterable[str] = (),
    failed_nodes: Iterable[str] = (),
    request_rate_per_s: float = 100.0,
    mean_service_s: float = 0.02,
    pod_concurrency: int = 1,
    bytes_per_request: float = 10_000.0,
    usd_per_gb: float = 0.01,
) -> ServiceResult:
    r"""Exact per-pod shares, cross-zone and extra-hop fractions of a Service.

    Parameters
    ----------
    service : Service
    layout : Layout
    source : {"external", "internal"} or None
        External clients (through the NodePort or the load balancer) or pods calling the
        ClusterIP; None picks external for NodePort/LoadBalancer, internal for ClusterIP.
    client_weights : mapping, optional
        Node name -> weight of where internal clients run (or which nodes NodePort clients
        hit); default every ready node alike.
    failed_zones, failed_nodes : iterable of str
        Zones and nodes that are down: their pods are gone, hints are recomputed and the
        load balancer's health check drops them (the state after the controllers react).
    request_rate_per_s : float, default 100
        Offered requests per second (for utilization and the cross-zone volume).
    mean_service_s : float, default 0.02
        Mean service time of one request on a pod.
    pod_concurrency : int, default 1
        Requests a pod serves at once.
    bytes_per_request : float, default 10000
        Request plus response bytes that cross a zone when the hop does.
    usd_per_gb : float, default 0.01
        Price of inter-zone transfer per GB (10^9 bytes); AWS lists $0.01/GB in each
        direction.

    Returns
    -------
    ServiceResult
        ``summary`` (one row, ``method="layered_dispatch"``, ``exact=True``) and the
        per-pod/node/zone tables.

    Notes
    -----
    ``fraction_cross_zone`` and ``fraction_extra_hop`` count the hop inside the cluster
    (entry node -> pod); a zonal load balancer's own hop to a node in another zone is not
    included. With ``sessionAffinity: ClientIP`` the shares are the expectation over clients: each
    client sticks to one pod, so few clients give a lumpy realized split (see
    :func:`k8smodel.service.simulate`). Jain's index and the max share are those of the
    exact shares.

    Examples
    --------
    >>> from k8smodel.service import Service, Layout, theory
    >>> svc = Service(type="LoadBalancer", external_traffic_policy="Local")
    >>> r = theory(svc, Layout.uniform(zones=1, nodes_per_zone=2, pods_per_node=[2, 1]))
    >>> [round(s, 2) for s in r.per_pod.share_requests]
    [0.25, 0.25, 0.5]
    """
    load = Load.check(
        request_rate_per_s=request_rate_per_s,
        mean_service_s=mean_service_s,
        pod_concurrency=pod_concurrency,
        bytes_per_request=bytes_per_request,
        usd_per_gb=usd_per_gb,
    )
    plan = make_plan(
        service,
        layout,
        source=source,
        client_weights=client_weights,
        failed_zones=failed_zones,
        failed_nodes=failed_nodes,
    )
    m = flow_metrics(plan, plan.flow)
    delivered = float(m["delivered"])
    delivered = 1.0 if abs(1.0 - delivered) < 1e-12 else delivered  # rounding, not drops
    shares = np.nan_to_num(m["shares"]) if delivered > 0 else np.zeros(len(plan.layout.pods))
    cross = float(np.nan_to_num(m["fraction_cross_zone"]))
    extra = float(np.nan_to_num(m["fraction_extra_hop"]))
    money = cost_and_load(load, plan, shares, delivered, cross)
    flags, notes = flags_and_notes(plan, money["max_utilization"], 1 - delivered)
    if service.session_affinity == "ClientIP":
        notes.append("ClientIP affinity: shares are expectations over clients")
    row = summary_row(plan, shares, cross, extra, 1 - delivered, money, flags)
    row.update(method="layered_dispatch", exact=True)
    per_pod, per_node, per_zone = tables(plan, shares, money["utilization"], shares)
    return ServiceResult(
        summary=pd.DataFrame([row]),
        params=params_of(plan, load, failed_zones, failed_nodes),
        notes=tuple(notes),
        per_pod=per_pod,
        per_node=per_node,
        per_zone=per_zone,
    )


def summary_row(
    plan: Plan,
    shares: np.ndarray,
    cross: float,
    extra: float,
    dropped: float,
    money: Mapping[str, Any],
    flags: str,
) -> dict[str, Any]:
    """The summary row shared by theory and simulate (before ``_se`` columns)."""
    some = shares.size and shares.sum() > 0
    return {
        "service": plan.service.label,
        "source": plan.source,
        "live_pods": len(plan.layout.pods),
        "live_nodes": len(plan.layout.nodes),
        "jain_requests": float(metrics.jain(shares)) if some else float("nan"),
        "max_share": float(metrics.max_share(shares)) if some else float("nan"),
        "fraction_cross_zone": cross,
        "fraction_extra_hop": extra,
        "fraction_dropped": dropped,
        "nodes_no_local_pod": nodes_no_local_pod(plan),
        "cross_zone_gb_per_day": money["cross_zone_gb_per_day"],
        "cross_zone_usd_per_day": money["cross_zone_usd_per_day"],
        "max_utilization": money["max_utilization"],
        "flags": flags,
    }


def params_of(plan: Plan, load: Load, failed_zones: Iterable[str], failed_nodes: Iterable[str]):
    """The resolved inputs for ``Result.params``."""
    return {
        "service": plan.service,
        "source": plan.source,
        "nodes": len(plan.layout.nodes),
        "pods": len(plan.layout.pods),
        "failed_zones": tuple(failed_zones),
        "failed_nodes": tuple(failed_nodes),
        **load.as_dict(),
    }


def local_lb_shares(pods_per_node: Sequence[int]) -> np.ndarray:
    """Closed form for eTP Local behind a node-level load balancer.

    The LB spreads evenly over the ``K`` nodes with at least one ready pod and each node
    spreads evenly over its own ``n_i`` pods, so every pod on node ``i`` gets
    ``1 / (K n_i)`` (Kubernetes docs, "Create an External Load Balancer", caveats of
    preserving the client source IP). Returned per pod, nodes in order.

    Examples
    --------
    >>> local_lb_shares([2, 1]).tolist()
    [0.25, 0.25, 0.5]
    """
    counts = check_vector(pods_per_node, "pods_per_node", minimum=0, integer=True).astype(int)
    k = int((counts > 0).sum())
    if k == 0:
        raise ValueError("pods_per_node must have at least one node with a pod; got all zeros")
    return np.concatenate([np.full(c, 1.0 / (k * c)) for c in counts if c > 0])


def cluster_shares(pods: int, nodes: int) -> tuple[np.ndarray, float]:
    """Closed form for Cluster policy without hints: equal shares, extra hop ``1 - 1/nodes``.

    Every node spreads evenly over all ``pods`` endpoints, so each pod gets ``1/pods``;
    with the same number of pods on each of ``nodes`` nodes and traffic entering evenly,
    the fraction leaving its entry node is ``1 - 1/nodes``.
    """
    p = check_int(pods, "pods", minimum=1)
    n = check_int(nodes, "nodes", minimum=1)
    return np.full(p, 1.0 / p), 1.0 - 1.0 / n

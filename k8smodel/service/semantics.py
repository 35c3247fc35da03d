"""Kubernetes' rules for where a Service's traffic goes, as small pure functions.

Read at the current source: the EndpointSlice controller in the staging mirror
kubernetes/endpointslice (HEAD daa4d01084ee, 2026-07-21; identical to
``staging/src/k8s.io/endpointslice`` in kubernetes/kubernetes) and kube-proxy in
kubernetes/kubernetes (``pkg/proxy/topology.go`` with PreferSameNode support, blob of commit
008b3652959c; the full repository was too large to mirror here, so kube-proxy files were
read from the search index's newest stored version):

* EndpointSlice controller, topology-aware hints
  (``staging/src/k8s.io/endpointslice/topologycache/topologycache.go`` and ``utils.go``):
  :func:`zone_cpu_ratios` (``SetNodes``), :func:`zone_allocations` (``getAllocations``),
  :func:`giving_and_receiving_zones` (``getGivingAndReceivingZones``),
  :func:`allocate_zone_hints` (``AddHints``), :func:`redistribute_hints`
  (``redistributeHints``);
* EndpointSlice controller, ``spec.trafficDistribution``
  (``staging/src/k8s.io/endpointslice/trafficdist/trafficdist.go``):
  :func:`traffic_distribution_hints`; which of the two applies
  (``staging/src/k8s.io/endpointslice/reconciler.go``, ``hintsEnabled``): :func:`endpoint_hints`;
* kube-proxy (``pkg/proxy/topology.go``): :func:`topology_mode_from_hints`,
  :func:`categorize_endpoints` (``CategorizeEndpoints``), with the policy switches of
  ``pkg/proxy/serviceport.go`` (``UsesClusterEndpoints``/``UsesLocalEndpoints``);
* the load balancer's health check (``pkg/proxy/healthcheck/service_health.go`` fed by
  ``EndpointsMap.LocalReadyEndpoints`` in ``pkg/proxy/endpointschangetracker.go``):
  :func:`passes_lb_health_check`;
* kube-proxy's choice among the endpoints it kept: uniform (iptables
  ``-m statistic --mode random --probability 1/(n-i)`` in
  ``pkg/proxy/iptables/proxier.go`` ``writeServiceToEndpointRules``; nftables
  ``numgen random mod n`` in ``pkg/proxy/nftables/proxier.go``; IPVS round robin has the
  same long-run shares): :func:`dispatch`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from k8smodel._validate import check_real
from k8smodel.service.spec import Layout, Node, Service

__all__ = [
    "OVERLOAD_THRESHOLD",
    "Endpoint",
    "Allocation",
    "hints_enabled",
    "zone_cpu_ratios",
    "zone_allocations",
    "giving_and_receiving_zones",
    "allocate_zone_hints",
    "redistribute_hints",
    "traffic_distribution_hints",
    "endpoint_hints",
    "service_overloaded",
    "topology_mode_from_hints",
    "categorize_endpoints",
    "passes_lb_health_check",
    "entry_weights",
    "dispatch",
]

#: ``overloadThreshold`` in topologycache.go: no zone's endpoints should see more than
#: 20 % above their fair share.
OVERLOAD_THRESHOLD = 0.2


@dataclass(frozen=True)
class Endpoint:
    """kube-proxy's view of one endpoint (``pkg/proxy/endpoint.go`` ``BaseEndpointInfo``)."""

    name: str
    ready: bool = True
    serving: bool = True
    terminating: bool = False
    is_local: bool = False
    zone_hints: frozenset[str] = frozenset()
    node_hints: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Allocation:
    """``allocation`` in topologycache.go: endpoints a zone should get."""

    minimum: int
    maximum: int
    desired: float


def hints_enabled(annotation: str | None) -> bool:
    """Whether the topology annotation turns on CPU-proportional hints.

    ``hintsEnabled`` in staging/src/k8s.io/endpointslice/reconciler.go: the value of
    ``service.kubernetes.io/topology-mode`` (or the deprecated
    ``service.kubernetes.io/topology-aware-hints``) is exactly ``"Auto"`` or ``"auto"``.
    """
    return annotation in ("Auto", "auto")


def zone_cpu_ratios(nodes: Sequence[Node]) -> tuple[dict[str, float] | None, str]:
    """Each zone's share of allocatable CPU, or ``None`` and why hints cannot be used.

    ``TopologyCache.SetNodes`` (topologycache.go): control-plane nodes and unready nodes
    are skipped; one counted node without a zone or with zero CPU makes the whole
    cluster's information insufficient; fewer than two zones is insufficient too.

    Returns
    -------
    ratios : dict or None
        ``zone -> cpu(zone) / cpu(all)``.
    reason : str
        "" when usable, else the controller's reason.
    """
    cpu: dict[str, int] = {}
    for node in nodes:
        if node.control_plane or not node.ready:
            continue
        milli = round(node.cpu * 1000)
        if not node.zone or milli == 0:
            return None, f"insufficient node info (node {node.name} has no zone or no CPU)"
        cpu[node.zone] = cpu.get(node.zone, 0) + milli
    total = sum(cpu.values())
    if total == 0 or len(cpu) < 2:
        return None, "insufficient node info (fewer than 2 zones with ready nodes)"
    return {zone: c / total for zone, c in cpu.items()}, ""


def zone_allocations(
    cpu_ratios: Mapping[str, float] | None, ready_endpoints: int
) -> tuple[dict[str, Allocation] | None, str]:
    """Minimum, maximum and desired endpoints per zone, or ``None`` and the reason.

    ``TopologyCache.getAllocations`` (topologycache.go): desired = ratio x endpoints;
    minimum = ceil(desired / (1 + 0.2)); hints are refused when the ratios are missing,
    there are more zones than ready endpoints, or the minima add up to more than the
    endpoints; maximum = minimum + endpoints - sum of minima.
    """
    if cpu_ratios is None:
        return None, "insufficient node info"
    if len(cpu_ratios) < 2:
        return None, "nodes ready in only one zone"
    if len(cpu_ratios) > ready_endpoints:
        return None, (
            f"insufficient number of endpoints ({ready_endpoints} endpoints, "
            f"{len(cpu_ratios)} zones)"
        )
    out: dict[str, Allocation] = {}
    remaining = ready_endpoints
    for zone, ratio in cpu_ratios.items():
        desired = ratio * ready_endpoints
        minimum = int(math.ceil(desired * (1 / (1 + OVERLOAD_THRESHOLD))))
        out[zone] = Allocation(minimum, 0, max(desired, float(minimum)))
        remaining -= minimum
        if remaining < 0:
            return None, (
                "minimum allocation exceeds the overload threshold "
                f"({ready_endpoints} endpoints, {len(cpu_ratios)} zones)"
            )
    min_total = sum(a.minimum for a in out.values())
    return {
        z: Allocation(a.minimum, a.minimum + ready_endpoints - min_total, a.desired)
        for z, a in out.items()
    }, ""


def _most(values: Mapping[str, float]) -> tuple[str, float]:
    # getMost: strictly greatest value; Go's map order breaks ties, sorted order here.
    zone, most = "", 0.0
    for z in sorted(values):
        if values[z] > most:
            zone, most = z, values[z]
    return zone, most


def giving_and_receiving_zones(
    desired: Mapping[str, float], allocated: Mapping[str, int]
) -> tuple[dict[str, int], dict[str, int]]:
    """How many endpoints each zone gives away and receives.

    ``getGivingAndReceivingZones`` (topologycache/utils.go): a zone with more same-zone
    endpoints than ``desired`` gives, one with fewer receives; whole endpoints move from
    the zone with most to give to the zone with most need while both have at least 0.5
    and at least one of them has 1 or more.

    Parameters
    ----------
    desired : mapping
        ``zone -> allocation.desired``.
    allocated : mapping
        ``zone -> endpoints hinted for it so far``.
    """
    giving_want: dict[str, float] = {}
    receiving_want: dict[str, float] = {}
    for zone, target in desired.items():
        have = float(allocated.get(zone, 0))
        if have > target:
            giving_want[zone] = have - target
        elif have < target:
            receiving_want[zone] = target - have
    giving: dict[str, int] = {}
    receiving: dict[str, int] = {}
    while True:
        give_zone, to_give = _most(giving_want)
        take_zone, to_take = _most(receiving_want)
        if (
            not give_zone
            or not take_zone
            or (to_give < 1.0 and to_take < 1.0)
            or to_give < 0.5
            or to_take < 0.5
        ):
            return giving, receiving
        giving[give_zone] = giving.get(give_zone, 0) + 1
        giving_want[give_zone] -= 1
        receiving[take_zone] = receiving.get(take_zone, 0) + 1
        receiving_want[take_zone] -= 1


def allocate_zone_hints(
    zones: Sequence[str], ready: Sequence[bool], cpu_ratios: Mapping[str, float] | None
) -> tuple[list[str | None] | None, str]:
    """The zone hint the controller writes on each endpoint under ``topology-mode: Auto``.

    ``TopologyCache.AddHints`` (topologycache.go) for freshly built slices: every ready
    endpoint is first hinted for its own zone, then ``redistributeHints`` (utils.go)
    re-hints endpoints of giving zones, in endpoint order, for receiving zones.

    Parameters
    ----------
    zones : sequence of str
        Each endpoint's zone ("" when unknown).
    ready : sequence of bool
        Each endpoint's Ready condition.
    cpu_ratios : mapping or None
        :func:`zone_cpu_ratios`.

    Returns
    -------
    hints : list or None
        One zone name per endpoint (``None`` for an unready one), or ``None`` when the
        controller removes hints.
    reason : str
        Why hints were removed ("" when they were written).

    Notes
    -----
    Go iterates the receiving zones in map order (random); here in sorted order. The
    number of endpoints each zone receives is the same either way.
    """
    n_ready = sum(bool(r) for r in ready)
    allocations, reason = zone_allocations(cpu_ratios, n_ready)
    if allocations is None:
        return None, reason
    hints: list[str | None] = []
    allocated: dict[str, int] = {}
    for zone, ok in zip(zones, ready, strict=True):
        if not ok:
            hints.append(None)
            continue
        if not zone:
            return None, "an endpoint has no zone"
        allocated[zone] = allocated.get(zone, 0) + 1
        hints.append(zone)
    giving, receiving = giving_and_receiving_zones(
        {z: a.desired for z, a in allocations.items()}, allocated
    )
    hints, _ = redistribute_hints(hints, zones, giving, receiving)
    return hints, ""


def redistribute_hints(
    hints: Sequence[str | None],
    zones: Sequence[str],
    giving: Mapping[str, int],
    receiving: Mapping[str, int],
) -> tuple[list[str | None], dict[str, int]]:
    """Re-hint endpoints of giving zones for receiving zones, in endpoint order.

    ``redistributeHints`` (topologycache/utils.go): for each ready endpoint (``hint`` not
    None) whose zone still has endpoints to give, hint it for a receiving zone that still
    needs some; stop when either side is exhausted.

    Returns
    -------
    hints : list
        The new hint per endpoint.
    redistributions : dict
        ``zone -> change in endpoints hinted for it``.
    """
    give, take = dict(giving), dict(receiving)
    out = list(hints)
    moved: dict[str, int] = {}
    for i, zone in enumerate(zones):
        if out[i] is None:
            continue
        if not give or not take:
            break
        if give.get(zone, 0) > 0:
            to = next(z for z in sorted(take) if take[z] > 0)
            out[i] = to
            give[zone] -= 1
            if give[zone] == 0:
                del give[zone]
            take[to] -= 1
            if take[to] == 0:
                del take[to]
            moved[to] = moved.get(to, 0) + 1
            moved[zone] = moved.get(zone, 0) - 1
    return out, moved


def service_overloaded(
    hints_by_zone: Mapping[str, int], cpu_ratios: Mapping[str, float] | None
) -> bool:
    """Whether a Service's hints leave some zone below its minimum: the controller re-hints.

    ``serviceOverloaded`` (topologycache/utils.go), checked for every Service when nodes
    change (``GetOverloadedServices``): true when a zone with CPU has no hinted endpoint,
    or fewer than ``ceil(total x ratio / 1.2)``; also true when the ratios are gone.
    """
    if not hints_by_zone:
        return False
    if not cpu_ratios:
        return True
    total = float(sum(hints_by_zone.values()))
    for zone, ratio in cpu_ratios.items():
        if zone not in hints_by_zone:
            return True
        if hints_by_zone[zone] < int(math.ceil(total * ratio * (1 / (1 + OVERLOAD_THRESHOLD)))):
            return True
    return False


def traffic_distribution_hints(
    value: str | None,
    zones: Sequence[str],
    nodes: Sequence[str],
    ready: Sequence[bool],
    *,
    prefer_same_gate: bool = True,
) -> list[tuple[frozenset[str], frozenset[str]]]:
    """Hints written for ``spec.trafficDistribution``: own zone (and own node).

    ``trafficdist.ReconcileHints`` (trafficdist/trafficdist.go): for PreferClose and
    PreferSameZone every ready endpoint gets a hint for its own zone; PreferSameNode adds
    a hint for its own node; otherwise hints are removed. ``validTrafficDistribution`` in
    reconciler.go accepts PreferSameZone/PreferSameNode only with the
    ``PreferSameTrafficDistribution`` gate.
    """
    close = {"PreferClose"} | ({"PreferSameZone", "PreferSameNode"} if prefer_same_gate else set())
    out: list[tuple[frozenset[str], frozenset[str]]] = []
    for zone, node, ok in zip(zones, nodes, ready, strict=True):
        if value not in close or not ok:
            out.append((frozenset(), frozenset()))
            continue
        node_hint = frozenset({node}) if value == "PreferSameNode" and node else frozenset()
        out.append((frozenset({zone}) if zone else frozenset(), node_hint))
    return out


def endpoint_hints(
    service: Service, layout: Layout
) -> tuple[list[tuple[frozenset[str], frozenset[str]]], str]:
    """Each pod's (zone hints, node hints) and which mechanism wrote them.

    ``Reconciler.finalize`` (staging/src/k8s.io/endpointslice/reconciler.go): with the
    topology annotation set to Auto the topology cache writes hints (and
    ``trafficDistribution`` is ignored); otherwise a valid ``trafficDistribution`` writes
    them; otherwise none. Hints already present on the pods (read from a manifest) are
    taken as they are.
    """
    pods = layout.pods
    if any(p.zone_hints is not None or p.node_hints is not None for p in pods):
        given = [(frozenset(p.zone_hints or ()), frozenset(p.node_hints or ())) for p in pods]
        return given, "hints as written on the EndpointSlices"
    zone_of = {n.name: n.zone for n in layout.nodes}
    zones = [zone_of[p.node] for p in pods]
    ready = [p.ready for p in pods]
    if hints_enabled(service.topology_mode):
        ratios, why = zone_cpu_ratios(layout.nodes)
        hints, reason = allocate_zone_hints(zones, ready, ratios) if ratios else (None, why)
        if hints is None:
            return [(frozenset(), frozenset())] * len(pods), f"topology hints removed: {reason}"
        allocated: list[tuple[frozenset[str], frozenset[str]]] = [
            (frozenset({h}) if h else frozenset(), frozenset()) for h in hints
        ]
        return allocated, "topology hints allocated by zone CPU"
    if service.traffic_distribution is not None:
        out = traffic_distribution_hints(
            service.traffic_distribution,
            zones,
            [p.node for p in pods],
            ready,
            prefer_same_gate=service.prefer_same_gate,
        )
        if any(z or n for z, n in out):
            return out, f"trafficDistribution {service.traffic_distribution} hints"
    return [(frozenset(), frozenset())] * len(pods), "no hints"


def topology_mode_from_hints(
    endpoints: Sequence[Endpoint], node: str, zone: str, *, prefer_same_gate: bool = True
) -> str:
    """kube-proxy's topology mode on one node: "", "PreferSameZone" or "PreferSameNode".

    ``topologyModeFromHints`` (pkg/proxy/topology.go): with the gate on, when every ready
    endpoint has a node hint and one names this node, PreferSameNode; otherwise when every
    ready endpoint has a zone hint and one names this node's zone, PreferSameZone;
    otherwise no topology.
    """
    ready = [e for e in endpoints if e.ready]
    if not ready:
        return ""
    if prefer_same_gate and all(e.node_hints for e in ready):
        if any(node in e.node_hints for e in ready):
            return "PreferSameNode"
    if all(e.zone_hints for e in ready) and any(zone in e.zone_hints for e in ready):
        return "PreferSameZone"
    return ""


def _available(e: Endpoint, mode: str, node: str, zone: str) -> bool:
    # availableForTopology (pkg/proxy/topology.go)
    if mode == "":
        return True
    if mode == "PreferSameNode":
        return node in e.node_hints
    return zone in e.zone_hints


def categorize_endpoints(
    endpoints: Sequence[Endpoint],
    *,
    node: str = "",
    zone: str = "",
    internal_local: bool = False,
    external_local: bool = False,
    externally_accessible: bool = False,
    prefer_same_gate: bool = True,
) -> tuple[list[str] | None, list[str] | None]:
    """The endpoints kube-proxy on ``node`` uses: (cluster endpoints, local endpoints).

    ``CategorizeEndpoints`` (pkg/proxy/topology.go). Cluster endpoints (used when
    ``UsesClusterEndpoints``: iTP Cluster or externally accessible) are the ready ones
    allowed by the node's topology mode, or, when there are none, the serving-terminating
    ones. Local endpoints (used when ``UsesLocalEndpoints``: iTP Local, or eTP Local on an
    externally accessible Service) are the local ready ones, or else the local
    serving-terminating ones. ``None`` means the Service never uses that kind.
    """
    uses_cluster = (not internal_local) or externally_accessible
    uses_local = internal_local or (external_local and externally_accessible)
    cluster: list[str] | None = None
    local: list[str] | None = None
    if uses_cluster:
        mode = topology_mode_from_hints(endpoints, node, zone, prefer_same_gate=prefer_same_gate)
        cluster = [e.name for e in endpoints if e.ready and _available(e, mode, node, zone)]
        if not cluster:
            cluster = [e.name for e in endpoints if e.serving and e.terminating]
    if uses_local:
        local = [e.name for e in endpoints if e.is_local and e.ready]
        if not local:
            local = [e.name for e in endpoints if e.is_local and e.serving and e.terminating]
    return cluster, local


def passes_lb_health_check(service: Service, layout: Layout, node: Node) -> bool:
    """Whether a node-level load balancer sends traffic to ``node``.

    Under eTP Local the LB probes ``healthCheckNodePort``, which answers 200 only when
    the node has a local **ready** endpoint (``EndpointsMap.LocalReadyEndpoints``:
    terminating ones do not count, so the LB drains them); under eTP Cluster it probes
    kube-proxy's ``/healthz`` (pkg/proxy/healthcheck/proxy_health.go), which fails when
    the node is not ready. A failed node passes neither.
    """
    if not node.ready:
        return False
    if service.external_traffic_policy != "Local":
        return True
    return any(p.node == node.name and p.ready for p in layout.pods)


def entry_weights(
    service: Service,
    layout: Layout,
    source: str,
    client_weights: Mapping[str, float] | None = None,
) -> np.ndarray:
    """Where traffic enters: a probability per node (per pod in IP mode).

    ``source="internal"``: clients are pods on the nodes in ``client_weights`` (default:
    every ready node alike) and call the ClusterIP through their own node's kube-proxy.
    ``source="external"``: a LoadBalancer in node mode spreads connections evenly over the
    nodes passing :func:`passes_lb_health_check`; in IP mode it spreads them evenly over
    ready pods (the returned vector is then per pod); a bare NodePort receives them on the
    nodes in ``client_weights`` (default every ready node alike: no health check).
    """
    nodes = layout.nodes
    if source == "external" and service.type == "LoadBalancer" and service.lb_mode == "pods":
        w = np.array([1.0 if p.ready else 0.0 for p in layout.pods])
    elif source == "external" and service.type == "LoadBalancer":
        w = np.array([1.0 if passes_lb_health_check(service, layout, n) else 0.0 for n in nodes])
    elif client_weights is not None:
        unknown = set(client_weights) - {n.name for n in nodes}
        if unknown:
            raise ValueError(f"client_weights must name nodes of the layout; got {sorted(unknown)}")
        given = {
            k: check_real(v, f"client_weights[{k!r}]", minimum=0) for k, v in client_weights.items()
        }
        w = np.array([given.get(n.name, 0.0) * n.ready for n in nodes])
    else:
        w = np.array([1.0 if n.ready else 0.0 for n in nodes])
    total = w.sum()
    return w / total if total > 0 else w


def dispatch(service: Service, layout: Layout, source: str) -> tuple[np.ndarray, str]:
    """The node-by-pod matrix of kube-proxy's choice: row = entry node, entries sum to 1.

    Row ``n`` gives the probability that a connection entering on node ``n`` reaches each
    pod: uniform over the list :func:`categorize_endpoints` hands that node's proxier
    (external traffic: the local list under eTP Local, else the cluster list; internal
    traffic: the local list under iTP Local, else the cluster list). A row of zeros means
    the node drops the traffic (no usable endpoint). Also returns how hints were made.
    """
    hints, how = endpoint_hints(service, layout)
    matrix = np.zeros((len(layout.nodes), len(layout.pods)))
    index = {p.name: j for j, p in enumerate(layout.pods)}
    internal_local = service.internal_traffic_policy == "Local"
    external_local = service.external_traffic_policy == "Local"
    for i, node in enumerate(layout.nodes):
        eps = [
            Endpoint(p.name, p.ready, bool(p.serving), p.terminating, p.node == node.name, zh, nh)
            for p, (zh, nh) in zip(layout.pods, hints, strict=True)
        ]
        cluster, local = categorize_endpoints(
            eps,
            node=node.name,
            zone=node.zone,
            internal_local=internal_local,
            external_local=external_local,
            externally_accessible=service.externally_accessible,
            prefer_same_gate=service.prefer_same_gate,
        )
        if source == "external":
            chosen = local if (external_local and service.externally_accessible) else cluster
        else:
            chosen = local if internal_local else cluster
        for name in chosen or ():
            matrix[i, index[name]] = 1.0 / len(chosen or ())
    return matrix, how

"""The layered dispatch of one Service, shared by ``theory`` and ``simulate``.

A :class:`Plan` holds, after failures are applied, where traffic enters (per node, or per
pod when a load balancer targets pods) and kube-proxy's node-by-pod choice matrix from
:func:`k8smodel.service.semantics.dispatch`; ``flow`` is their product.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from k8smodel._validate import check_budget, check_choice
from k8smodel.service import semantics
from k8smodel.service.spec import Layout, Service

SOURCES = ("external", "internal")
#: float64 node-by-pod arrays alive at once: choice matrix, flow and temporaries in theory.
_BYTES_PER_NODE_POD = 6 * 8


@dataclass(frozen=True)
class Plan:
    """Entry probabilities, kube-proxy's choice matrix and their product ``flow``."""

    service: Service
    layout: Layout
    source: str
    ip_mode: bool
    entry: np.ndarray  # per node (per pod in IP mode)
    matrix: np.ndarray  # nodes x pods
    flow: np.ndarray  # nodes x pods: P(enter on node n and reach pod p)
    hints: str
    healthy: np.ndarray  # per node: passes the LB health check

    @property
    def node_zone(self) -> np.ndarray:
        return np.array([n.zone for n in self.layout.nodes], dtype=object)

    @property
    def pod_node(self) -> np.ndarray:
        index = {n.name: i for i, n in enumerate(self.layout.nodes)}
        return np.array([index[p.node] for p in self.layout.pods], dtype=np.int64)


def resolve_source(service: Service, source: str | None) -> str:
    """``None`` means external traffic for NodePort/LoadBalancer, internal for ClusterIP."""
    if source is None:
        return "external" if service.externally_accessible else "internal"
    source = check_choice(source, "source", SOURCES)
    if source == "external" and not service.externally_accessible:
        raise ValueError(
            f"source must be 'internal' for a ClusterIP Service; got {source!r} "
            "(set type to NodePort or LoadBalancer for external traffic)"
        )
    return source


def _names(value: Iterable[str], name: str) -> tuple[str, ...]:
    # A bare string is iterable: without this check "zone-a" would fail as 6 one-letter zones.
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a list of names; got {type(value).__name__} {value!r}")
    return tuple(value)


def make_plan(
    service: Service,
    layout: Layout,
    *,
    source: str | None = None,
    client_weights: Mapping[str, float] | None = None,
    failed_zones: Iterable[str] = (),
    failed_nodes: Iterable[str] = (),
) -> Plan:
    """Build the plan, after removing failed zones and nodes (hints recomputed)."""
    if not isinstance(service, Service):
        raise TypeError(f"service must be a k8smodel.service.Service; got {service!r}")
    if not isinstance(layout, Layout):
        raise TypeError(f"layout must be a k8smodel.service.Layout; got {layout!r}")
    src = resolve_source(service, source)
    failed_zones, failed_nodes = (
        _names(failed_zones, "failed_zones"),
        _names(failed_nodes, "failed_nodes"),
    )
    if failed_zones or failed_nodes:
        layout = layout.without(zones=failed_zones, nodes=failed_nodes)
    cells = len(layout.nodes) * len(layout.pods)
    check_budget(
        cells * _BYTES_PER_NODE_POD,
        f"{len(layout.nodes)} nodes x {len(layout.pods)} pods",
        remedy="model a smaller layout (the dispatch is a dense node-by-pod matrix)",
    )
    if client_weights is not None:
        live = {n.name for n in layout.nodes}
        client_weights = {k: v for k, v in client_weights.items() if k in live}
    entry = semantics.entry_weights(service, layout, src, client_weights)
    healthy = np.array([semantics.passes_lb_health_check(service, layout, n) for n in layout.nodes])
    ip_mode = src == "external" and service.type == "LoadBalancer" and service.lb_mode == "pods"
    matrix, hints = semantics.dispatch(service, layout, src)
    if ip_mode:
        # The LB reaches pod IPs: each pod's traffic "enters" on its own node.
        index = {n.name: i for i, n in enumerate(layout.nodes)}
        pod_node = np.array([index[p.node] for p in layout.pods], dtype=np.int64)
        flow = np.zeros_like(matrix)
        flow[pod_node, np.arange(len(layout.pods))] = entry
        hints = "load balancer targets pods (kube-proxy bypassed)"
        if service.session_affinity == "ClientIP":
            hints += "; ClientIP affinity is kube-proxy's and does not apply"
    else:
        flow = entry[:, None] * matrix
    return Plan(service, layout, src, ip_mode, entry, matrix, flow, hints, healthy)

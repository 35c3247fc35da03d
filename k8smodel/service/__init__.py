"""How ClusterIP, NodePort and LoadBalancer Services spread load across nodes, zones and pods.

The path of a connection: client -> (cloud load balancer over nodes or pods | NodePort on a
node | ClusterIP from a pod on a node) -> kube-proxy on that node -> an endpoint of the
list kube-proxy keeps for that node -> the pod, possibly on another node or zone.

* :mod:`~k8smodel.service.spec`: :class:`Service`, :class:`Node`, :class:`Pod`, :class:`Layout`;
* :mod:`~k8smodel.service.semantics`: the rules, cited to kubernetes/kubernetes
  (externalTrafficPolicy/internalTrafficPolicy, health checks, terminating endpoints,
  trafficDistribution, topology-aware hints and kube-proxy's use of them);
* :func:`theory`: exact per-pod shares of the layered dispatch, fraction crossing zones
  and its price, extra node hops, nodes serving no local pod, failures, utilization;
* :func:`simulate`: vectorized Monte Carlo of connection arrivals, ClientIP affinity with
  its timeout and few clients, kube-proxy's random choice;
* :func:`from_manifest`: Service, EndpointSlice and Node objects as kubectl prints them.

Latency per pod (queueing on top of these shares) lives in
:mod:`k8smodel.studies.service_latency`, since it composes this family with ``lb``.
"""

from k8smodel.service.manifest import ManifestSpec, from_manifest
from k8smodel.service.semantics import (
    Endpoint,
    allocate_zone_hints,
    categorize_endpoints,
    dispatch,
    endpoint_hints,
    giving_and_receiving_zones,
    hints_enabled,
    passes_lb_health_check,
    redistribute_hints,
    service_overloaded,
    topology_mode_from_hints,
    traffic_distribution_hints,
    zone_allocations,
    zone_cpu_ratios,
)
from k8smodel.service.simulate import simulate
from k8smodel.service.spec import Layout, Node, Pod, Service
from k8smodel.service.theory import ServiceResult, cluster_shares, local_lb_shares, theory

__all__ = [
    "Service",
    "Node",
    "Pod",
    "Layout",
    "ServiceResult",
    "theory",
    "simulate",
    "from_manifest",
    "ManifestSpec",
    "local_lb_shares",
    "cluster_shares",
    "Endpoint",
    "allocate_zone_hints",
    "categorize_endpoints",
    "dispatch",
    "endpoint_hints",
    "giving_and_receiving_zones",
    "hints_enabled",
    "passes_lb_health_check",
    "redistribute_hints",
    "service_overloaded",
    "topology_mode_from_hints",
    "traffic_distribution_hints",
    "zone_allocations",
    "zone_cpu_ratios",
]

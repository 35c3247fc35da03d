"""What the user describes: the Service's settings and where its pods and nodes are.

Three frozen dataclasses, validated in ``__post_init__`` through :mod:`k8smodel._validate`:

* :class:`Node`: a node's name, zone label, allocatable CPU and readiness;
* :class:`Pod`: one endpoint (a pod on a node) with its EndpointSlice conditions and, when
  read from a manifest, the hints the controller had already written;
* :class:`Service`: ``type``, ``externalTrafficPolicy``, ``internalTrafficPolicy``,
  ``sessionAffinity`` (+ timeout), ``trafficDistribution``, the topology-mode annotation
  and how a cloud load balancer targets the cluster (nodes, or pods in IP mode);
* :class:`Layout`: the nodes and pods together, with :meth:`Layout.uniform` for the
  symmetric layouts the closed forms are written for and :meth:`Layout.without` for failures.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from k8smodel._validate import check_choice, check_int, check_real, describe

__all__ = [
    "SERVICE_TYPES",
    "TRAFFIC_POLICIES",
    "AFFINITIES",
    "TRAFFIC_DISTRIBUTIONS",
    "LB_MODES",
    "DEFAULT_AFFINITY_TIMEOUT_S",
    "Node",
    "Pod",
    "Service",
    "Layout",
]

SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer")
TRAFFIC_POLICIES = ("Cluster", "Local")
AFFINITIES = ("None", "ClientIP")
#: ``spec.trafficDistribution`` values (k8s.io/api/core/v1 types.go); ``None`` = unset.
TRAFFIC_DISTRIBUTIONS = ("PreferClose", "PreferSameZone", "PreferSameNode")
#: How a cloud load balancer reaches the cluster: every node's NodePort, or pod IPs directly.
LB_MODES = ("nodes", "pods")
#: ``DefaultClientIPServiceAffinitySeconds`` (pkg/apis/core/types.go): 3 hours.
DEFAULT_AFFINITY_TIMEOUT_S = 10800.0
#: ``MaxClientIPServiceAffinitySeconds`` (pkg/apis/core/types.go): one day.
MAX_AFFINITY_TIMEOUT_S = 86400.0


def _check_name(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string; got {describe(value)}")
    if not value:
        raise ValueError(f"{name} must be a non-empty string; got {value!r}")
    return value


def _check_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False; got {describe(value)}")
    return value


def _check_hints(value: object, name: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be None or a sequence of names; got {describe(value)}")
    hints = tuple(value)
    for hint in hints:
        _check_name(hint, name)
    return hints


#: The largest cluster Kubernetes supports (kubernetes.io/docs/setup/best-practices/cluster-large/).
MAX_NODES = 5_000
MAX_PODS = 150_000


@dataclass(frozen=True)
class Node:
    """A node as the EndpointSlice controller and kube-proxy see it.

    Parameters
    ----------
    name : str
        ``metadata.name``.
    zone : str, default ""
        The ``topology.kubernetes.io/zone`` label ("" when missing).
    cpu : float, default 1.0
        Allocatable CPU in cores (``status.allocatable.cpu``); weights topology hints.
    ready : bool, default True
        The ``Ready`` condition; an unready node is left out of hint ratios and fails
        the load balancer's health check.
    control_plane : bool, default False
        Carries ``node-role.kubernetes.io/control-plane``; left out of hint ratios.
    """

    name: str
    zone: str = ""
    cpu: float = 1.0
    ready: bool = True
    control_plane: bool = False

    def __post_init__(self) -> None:
        _check_name(self.name, "Node.name")
        if not isinstance(self.zone, str):
            raise TypeError(f"Node.zone must be a string; got {describe(self.zone)}")
        object.__setattr__(self, "cpu", check_real(self.cpu, f"Node {self.name}: cpu", minimum=0))
        _check_bool(self.ready, f"Node {self.name}: ready")
        _check_bool(self.control_plane, f"Node {self.name}: control_plane")


@dataclass(frozen=True)
class Pod:
    """One endpoint of the Service: a pod on a node, with its EndpointSlice conditions.

    Parameters
    ----------
    name : str
        The pod (``targetRef.name``) or its address.
    node : str
        ``nodeName``: the node it runs on.
    ready, serving, terminating : bool
        ``conditions`` of the EndpointSlice endpoint. ``serving`` defaults to ``ready``
        (the API's rule for an unset ``serving``).
    zone_hints, node_hints : tuple of str or None
        Hints already written on the endpoint (from a manifest). ``None`` lets the model
        compute them from the Service's settings.
    """

    name: str
    node: str
    ready: bool = True
    serving: bool | None = None
    terminating: bool = False
    zone_hints: tuple[str, ...] | None = None
    node_hints: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        _check_name(self.name, "Pod.name")
        _check_name(self.node, f"Pod {self.name}: node")
        _check_bool(self.ready, f"Pod {self.name}: ready")
        _check_bool(self.terminating, f"Pod {self.name}: terminating")
        if self.serving is None:
            object.__setattr__(self, "serving", self.ready)
        _check_bool(self.serving, f"Pod {self.name}: serving")
        object.__setattr__(
            self, "zone_hints", _check_hints(self.zone_hints, f"Pod {self.name}: zone_hints")
        )
        object.__setattr__(
            self, "node_hints", _check_hints(self.node_hints, f"Pod {self.name}: node_hints")
        )


@dataclass(frozen=True)
class Service:
    """A Service's traffic settings.

    Parameters
    ----------
    type : {"ClusterIP", "NodePort", "LoadBalancer"}
        ``spec.type``.
    external_traffic_policy, internal_traffic_policy : {"Cluster", "Local"}
        ``spec.externalTrafficPolicy`` (only honoured for NodePort and LoadBalancer) and
        ``spec.internalTrafficPolicy``.
    session_affinity : {"None", "ClientIP"}
        ``spec.sessionAffinity``.
    affinity_timeout_s : float, default 10800
        ``sessionAffinityConfig.clientIP.timeoutSeconds`` (1 .. 86400).
    traffic_distribution : str or None
        ``spec.trafficDistribution``: None, "PreferClose", "PreferSameZone" or
        "PreferSameNode".
    topology_mode : str or None
        The ``service.kubernetes.io/topology-mode`` annotation; "Auto"/"auto" turns on the
        CPU-proportional hint allocation, any other value leaves it off.
    lb_mode : {"nodes", "pods"}
        How a LoadBalancer reaches the cluster: through every healthy node's NodePort
        (the classic mode), or straight to pod IPs (container-native / IP mode).
    prefer_same_gate : bool, default True
        The ``PreferSameTrafficDistribution`` feature gate (PreferSameZone/PreferSameNode).
    """

    type: str = "ClusterIP"
    external_traffic_policy: str = "Cluster"
    internal_traffic_policy: str = "Cluster"
    session_affinity: str = "None"
    affinity_timeout_s: float = DEFAULT_AFFINITY_TIMEOUT_S
    traffic_distribution: str | None = None
    topology_mode: str | None = None
    lb_mode: str = "nodes"
    prefer_same_gate: bool = True

    def __post_init__(self) -> None:
        check_choice(self.type, "type", SERVICE_TYPES)
        check_choice(self.external_traffic_policy, "external_traffic_policy", TRAFFIC_POLICIES)
        check_choice(self.internal_traffic_policy, "internal_traffic_policy", TRAFFIC_POLICIES)
        check_choice(self.session_affinity, "session_affinity", AFFINITIES)
        object.__setattr__(
            self,
            "affinity_timeout_s",
            check_real(
                self.affinity_timeout_s,
                "affinity_timeout_s",
                minimum=1,
                maximum=MAX_AFFINITY_TIMEOUT_S,
            ),
        )
        if self.traffic_distribution is not None:
            check_choice(self.traffic_distribution, "traffic_distribution", TRAFFIC_DISTRIBUTIONS)
        if self.topology_mode is not None and not isinstance(self.topology_mode, str):
            raise TypeError(f"topology_mode must be None or a string; got {self.topology_mode!r}")
        check_choice(self.lb_mode, "lb_mode", LB_MODES)
        _check_bool(self.prefer_same_gate, "prefer_same_gate")

    @property
    def externally_accessible(self) -> bool:
        """NodePort and LoadBalancer Services take traffic from outside the cluster."""
        return self.type in ("NodePort", "LoadBalancer")

    @property
    def label(self) -> str:
        """A short description for tables and plots."""
        parts = [self.type]
        if self.externally_accessible:
            parts.append(f"eTP={self.external_traffic_policy}")
        if self.internal_traffic_policy == "Local":
            parts.append("iTP=Local")
        if self.type == "LoadBalancer" and self.lb_mode == "pods":
            parts.append("IP-mode")
        if self.session_affinity == "ClientIP":
            parts.append("ClientIP")
        if self.traffic_distribution:
            parts.append(self.traffic_distribution)
        if self.topology_mode is not None:
            parts.append(f"topology-mode={self.topology_mode}")
        return " ".join(parts)


@dataclass(frozen=True)
class Layout:
    """Nodes and the Service's pods on them.

    Parameters
    ----------
    nodes : sequence of Node
    pods : sequence of Pod
        Each pod's ``node`` must name one of ``nodes``.
    """

    nodes: tuple[Node, ...]
    pods: tuple[Pod, ...] = field(default=())

    def __post_init__(self) -> None:
        for what, items, kind in (("nodes", self.nodes, Node), ("pods", self.pods, Pod)):
            if isinstance(items, str | bytes) or not isinstance(items, Sequence):
                raise TypeError(f"{what} must be a sequence of {kind.__name__}; got {items!r}")
            for item in items:
                if not isinstance(item, kind):
                    raise TypeError(
                        f"{what} must hold {kind.__name__} objects; got {describe(item)}"
                    )
        object.__setattr__(self, "nodes", tuple(self.nodes))
        object.__setattr__(self, "pods", tuple(self.pods))
        if not self.nodes:
            raise ValueError("nodes must hold at least one Node; got none")
        names = [n.name for n in self.nodes]
        if len(set(names)) != len(names):
            raise ValueError(f"node names must be unique; got {names}")
        pod_names = [p.name for p in self.pods]
        if len(set(pod_names)) != len(pod_names):
            raise ValueError(f"pod names must be unique; got {pod_names}")
        for pod in self.pods:
            if pod.node not in names:
                raise ValueError(f"Pod {pod.name}: node must be one of {names}; got {pod.node!r}")

    @classmethod
    def uniform(
        cls,
        *,
        zones: int = 3,
        nodes_per_zone: int = 2,
        pods_per_node: int | Sequence[int] = 1,
        cpu: float = 4.0,
    ) -> Layout:
        """A symmetric layout: ``zones`` zones (``zone-a``, ...) of ``nodes_per_zone`` nodes.

        ``pods_per_node`` is one count for every node, or one count per node in order
        (zone-a's nodes first), so ``pods_per_node=[2, 1]`` with one zone of two nodes is
        the classic 2 + 1 example.

        Examples
        --------
        >>> lay = Layout.uniform(zones=1, nodes_per_zone=2, pods_per_node=[2, 1])
        >>> [p.node for p in lay.pods]
        ['zone-a-node-0', 'zone-a-node-0', 'zone-a-node-1']
        """
        z = check_int(zones, "zones", minimum=1, maximum=26)
        # Kubernetes supports at most 5,000 nodes and 150,000 pods per cluster
        # (kubernetes.io/docs/setup/best-practices/cluster-large/).
        per_zone = check_int(nodes_per_zone, "nodes_per_zone", minimum=1, maximum=MAX_NODES // z)
        total = z * per_zone
        if isinstance(pods_per_node, int) and not isinstance(pods_per_node, bool):
            counts = [check_int(pods_per_node, "pods_per_node", minimum=0)] * total
        else:
            if isinstance(pods_per_node, str) or not isinstance(pods_per_node, Sequence):
                raise TypeError(
                    f"pods_per_node must be a count or a sequence of counts; got {pods_per_node!r}"
                )
            counts = [check_int(c, "pods_per_node", minimum=0) for c in pods_per_node]
            if len(counts) != total:
                raise ValueError(f"pods_per_node must have {total} counts; got {len(counts)}")
        if sum(counts) > MAX_PODS:
            raise ValueError(
                f"pods_per_node must add up to at most {MAX_PODS:,} pods (Kubernetes' supported "
                f"cluster size); got {sum(counts):,}"
            )
        nodes, pods = [], []
        for i in range(total):
            zone = f"zone-{chr(ord('a') + i // per_zone)}"
            node = Node(f"{zone}-node-{i % per_zone}", zone=zone, cpu=cpu)
            nodes.append(node)
            pods += [Pod(f"{node.name}-pod-{k}", node.name) for k in range(counts[i])]
        return cls(tuple(nodes), tuple(pods))

    def without(self, *, zones: Iterable[str] = (), nodes: Iterable[str] = ()) -> Layout:
        """The layout after ``zones`` and ``nodes`` fail: their nodes and pods are gone."""
        dead_zones, dead_nodes = set(zones), set(nodes)
        unknown = (dead_zones - {n.zone for n in self.nodes}) | (
            dead_nodes - {n.name for n in self.nodes}
        )
        if unknown:
            raise ValueError(f"failed zones/nodes must exist in the layout; got {sorted(unknown)}")
        keep = [n for n in self.nodes if n.zone not in dead_zones and n.name not in dead_nodes]
        if not keep:
            raise ValueError("the failure removes every node; nothing is left to model")
        names = {n.name for n in keep}
        return replace(self, nodes=tuple(keep), pods=tuple(p for p in self.pods if p.node in names))

    @property
    def zones(self) -> list[str]:
        """Zone labels in order of first appearance."""
        return list(dict.fromkeys(n.zone for n in self.nodes))

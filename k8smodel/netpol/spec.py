"""What the user describes: namespaces, workloads (as their pod templates) and NetworkPolicies.

Every class is a frozen dataclass validated in ``__post_init__``; labels are given as a
mapping and stored as a sorted tuple of ``(key, value)`` pairs so that specs hash and
compare by value. The field names follow ``k8s.io/api/networking/v1`` (``types.go``): an
absent list and an empty list mean the same thing for ``from``/``to``/``ports`` (all), so
both are an empty tuple here; an empty ``ingress``/``egress`` list means "no rule", which
isolates the selected pods once the direction is in ``policy_types``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from k8smodel._validate import check_choice, check_int, describe

__all__ = [
    "PROTOCOLS",
    "Requirement",
    "LabelSelector",
    "IPBlock",
    "PolicyPort",
    "Peer",
    "Rule",
    "NetworkPolicy",
    "ContainerPort",
    "Workload",
    "Namespace",
    "Cluster",
    "NAMESPACE_NAME_LABEL",
]

#: The protocols a NetworkPolicyPort may name (``k8s.io/api/core/v1`` Protocol).
PROTOCOLS = ("SCTP", "TCP", "UDP")
#: The label the API server puts on every namespace (``kubernetes.io/metadata.name``).
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
_PORT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def _labels(value: Any, name: str) -> tuple[tuple[str, str], ...]:
    if isinstance(value, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in value):
        value = dict(value)
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping of label keys to values; got {describe(value)}")
    for key, val in value.items():
        if not isinstance(key, str) or not isinstance(val, str):
            raise TypeError(f"{name} must map strings to strings; got {key!r}: {val!r}")
    return tuple(sorted(value.items()))


def _tuple_of(value: Any, kind: type, name: str) -> tuple:
    items = tuple(value)
    for item in items:
        if not isinstance(item, kind):
            raise TypeError(f"{name} must hold {kind.__name__} objects; got {describe(item)}")
    return items


@dataclass(frozen=True)
class Requirement:
    """One ``matchExpressions`` entry: ``key`` ``operator`` ``values``."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key:
            raise ValueError(f"matchExpressions key must be a non-empty string; got {self.key!r}")
        check_choice(self.operator, "matchExpressions operator", OPERATORS)
        values = tuple(self.values)
        object.__setattr__(self, "values", values)
        if self.operator in ("In", "NotIn") and not values:
            raise ValueError(
                f"matchExpressions values must be non-empty for operator {self.operator}; "
                f"got [] (key {self.key!r})"
            )
        if self.operator in ("Exists", "DoesNotExist") and values:
            raise ValueError(
                f"matchExpressions values must be empty for operator {self.operator}; "
                f"got {list(values)} (key {self.key!r})"
            )


@dataclass(frozen=True)
class LabelSelector:
    """A label selector: ``match_labels`` AND every ``match_expressions`` requirement.

    An empty selector (the default) selects everything.
    """

    match_labels: Any = ()
    match_expressions: tuple[Requirement, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "match_labels", _labels(self.match_labels, "matchLabels"))
        object.__setattr__(
            self,
            "match_expressions",
            _tuple_of(self.match_expressions, Requirement, "matchExpressions"),
        )

    @property
    def is_empty(self) -> bool:
        """True when the selector has no requirement (selects everything)."""
        return not self.match_labels and not self.match_expressions


@dataclass(frozen=True)
class IPBlock:
    """A CIDR minus ``except_`` CIDRs, each of which must lie inside ``cidr``."""

    cidr: str
    except_: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        net = _network(self.cidr, "ipBlock.cidr")
        excepts = tuple(self.except_)
        object.__setattr__(self, "except_", excepts)
        for text in excepts:
            sub = _network(text, "ipBlock.except")
            if sub.version != net.version or not sub.subnet_of(net):  # type: ignore[arg-type]
                raise ValueError(f"ipBlock.except must lie inside cidr {self.cidr}; got {text!r}")

    @property
    def is_ipv4(self) -> bool:
        """True for an IPv4 block (the model's external address space is IPv4)."""
        return _network(self.cidr, "ipBlock.cidr").version == 4


def _network(text: Any, name: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a CIDR string such as '10.0.0.0/8'; got {describe(text)}")
    if "/" not in text:
        raise ValueError(f"{name} must be a CIDR such as '10.0.0.0/8'; got {text!r}")
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(
            f"{name} must be a valid CIDR such as '10.0.0.0/8'; got {text!r}"
        ) from None


@dataclass(frozen=True)
class PolicyPort:
    """A NetworkPolicyPort.

    ``protocol`` defaults to TCP; ``port`` is a number, a name or None (all ports);
    ``end_port`` is inclusive, only with a numeric ``port``, and ``>= port``.
    """

    protocol: str = "TCP"
    port: int | str | None = None
    end_port: int | None = None

    def __post_init__(self) -> None:
        check_choice(self.protocol, "ports.protocol", PROTOCOLS)
        if isinstance(self.port, str):
            if (
                not _PORT_NAME.match(self.port)
                or len(self.port) > 15
                or not any(ch.isalpha() for ch in self.port)
            ):
                raise ValueError(
                    f"ports.port must be a number 1-65535 or a port name (IANA_SVC_NAME); "
                    f"got {self.port!r}"
                )
            if self.end_port is not None:
                raise ValueError(
                    f"ports.endPort must be absent when port is a named port; "
                    f"got endPort {self.end_port} with port {self.port!r}"
                )
        elif self.port is not None:
            check_int(self.port, "ports.port", minimum=1, maximum=65535)
        if self.end_port is not None:
            if self.port is None:
                raise ValueError(
                    f"ports.endPort must be absent when port is absent; got {self.end_port}"
                )
            check_int(self.end_port, "ports.endPort", minimum=1, maximum=65535)
            if self.end_port < self.port:  # type: ignore[operator]
                raise ValueError(f"ports.endPort must be >= port {self.port}; got {self.end_port}")


@dataclass(frozen=True)
class Peer:
    """A NetworkPolicyPeer: selectors (ANDed when both are set) or an ``ip_block``."""

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None

    def __post_init__(self) -> None:
        has_selector = self.pod_selector is not None or self.namespace_selector is not None
        if self.ip_block is not None and has_selector:
            raise ValueError(
                "a peer must set either ipBlock or podSelector/namespaceSelector; got both"
            )
        if self.ip_block is None and not has_selector:
            raise ValueError(
                "a peer must set one of podSelector, namespaceSelector or ipBlock; got none"
            )
        for name in ("pod_selector", "namespace_selector"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, LabelSelector):
                raise TypeError(f"{name} must be a LabelSelector; got {describe(value)}")


@dataclass(frozen=True)
class Rule:
    """One ingress or egress rule; an empty ``peers`` or ``ports`` tuple means *all*."""

    peers: tuple[Peer, ...] = ()
    ports: tuple[PolicyPort, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "peers", _tuple_of(self.peers, Peer, "from/to"))
        object.__setattr__(self, "ports", _tuple_of(self.ports, PolicyPort, "ports"))


@dataclass(frozen=True)
class NetworkPolicy:
    """A NetworkPolicy; ``policy_types=None`` takes the API default (see ``semantics``)."""

    name: str
    namespace: str = "default"
    pod_selector: LabelSelector = field(default_factory=LabelSelector)
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()
    policy_types: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        _name(self.name, "NetworkPolicy name")
        _name(self.namespace, "NetworkPolicy namespace")
        object.__setattr__(self, "ingress", _tuple_of(self.ingress, Rule, "ingress"))
        object.__setattr__(self, "egress", _tuple_of(self.egress, Rule, "egress"))
        if self.policy_types is not None:
            types = tuple(self.policy_types)
            for t in types:
                check_choice(t, "policyTypes", ("Ingress", "Egress"))
            object.__setattr__(self, "policy_types", types)

    @property
    def ref(self) -> str:
        """``namespace/name``."""
        return f"{self.namespace}/{self.name}"


def _name(value: Any, name: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string; got {describe(value)}")


@dataclass(frozen=True)
class ContainerPort:
    """A container port of a pod template (``name`` may be empty)."""

    port: int
    name: str = ""
    protocol: str = "TCP"

    def __post_init__(self) -> None:
        check_int(self.port, "containerPort", minimum=1, maximum=65535)
        check_choice(self.protocol, "containerPort protocol", PROTOCOLS)


@dataclass(frozen=True)
class Workload:
    """A set of identical pods: a bare Pod or a controller's pod template.

    ``replicas`` counts the pods (for fractions of pod pairs); the connection list has one
    entry per workload, printed ``namespace/name[Kind]`` as netpol-analyzer does.
    """

    name: str
    namespace: str = "default"
    kind: str = "Pod"
    labels: Any = ()
    ports: tuple[ContainerPort, ...] = ()
    replicas: int = 1
    #: ``namespace/name[Kind]``, the analyzer's name for the workload (derived).
    ref: str = field(init=False, repr=False, compare=False)
    #: What every policy sees of the pods: namespace, labels, container ports (derived).
    class_key: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _name(self.name, "workload name")
        _name(self.namespace, "workload namespace")
        _name(self.kind, "workload kind")
        object.__setattr__(self, "labels", _labels(self.labels, f"{self.kind} labels"))
        object.__setattr__(self, "ports", _tuple_of(self.ports, ContainerPort, "ports"))
        check_int(self.replicas, "replicas", minimum=0)
        # plain tuples of str/int hash in C: reach.py groups 10^5 pods by this key
        ports_key = tuple((p.port, p.name, p.protocol) for p in self.ports)
        object.__setattr__(self, "class_key", (self.namespace, self.labels, ports_key))
        object.__setattr__(self, "ref", f"{self.namespace}/{self.name}[{self.kind}]")


@dataclass(frozen=True)
class Namespace:
    """A namespace and its labels (``kubernetes.io/metadata.name`` is added if missing)."""

    name: str
    labels: Any = ()

    def __post_init__(self) -> None:
        _name(self.name, "namespace name")
        labels = dict(_labels(self.labels, "namespace labels"))
        labels.setdefault(NAMESPACE_NAME_LABEL, self.name)
        object.__setattr__(self, "labels", tuple(sorted(labels.items())))


@dataclass(frozen=True)
class Cluster:
    """Workloads, policies and namespaces; namespaces only referenced get the default label.

    ``ignored`` lists ``(kind, "namespace/name", reason)`` for objects read but not used.
    """

    workloads: tuple[Workload, ...] = ()
    policies: tuple[NetworkPolicy, ...] = ()
    namespaces: tuple[Namespace, ...] = ()
    ignored: tuple[tuple[str, str, str], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "workloads", _tuple_of(self.workloads, Workload, "workloads"))
        object.__setattr__(self, "policies", _tuple_of(self.policies, NetworkPolicy, "policies"))
        object.__setattr__(self, "namespaces", _tuple_of(self.namespaces, Namespace, "namespaces"))
        seen: set[str] = set()
        for ns in self.namespaces:
            if ns.name in seen:
                raise ValueError(f"namespaces must have unique names; got {ns.name!r} twice")
            seen.add(ns.name)
        object.__setattr__(self, "ignored", tuple(tuple(i) for i in self.ignored))

    def namespace_labels(self) -> dict[str, dict[str, str]]:
        """Labels of every namespace given or referenced by a workload or a policy."""
        out = {ns.name: dict(ns.labels) for ns in self.namespaces}
        for name in sorted(
            {w.namespace for w in self.workloads} | {p.namespace for p in self.policies}
        ):
            out.setdefault(name, {NAMESPACE_NAME_LABEL: name})
        return out

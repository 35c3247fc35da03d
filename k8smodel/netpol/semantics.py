"""NetworkPolicy rules as small pure functions, one pair of pods (or pod and address) at a time.

These are the scalar statements of the rules; :mod:`k8smodel.netpol.reach` computes the same
relation for all pairs at once, and :func:`naive_connection` (which composes the functions
here) is its per-pair reference in tests and in ``benchmarks/bench_netpol.py``.

Sources
-------
* ``k8s.io/api`` ``networking/v1/types.go`` (kubernetes/api at commit
  10b39a39bcee995dfe7cd5e8e7b922be5e46f1e2): ``NetworkPolicySpec`` (podSelector, ingress, egress,
  policyTypes and its default), ``NetworkPolicyIngressRule``/``NetworkPolicyEgressRule``
  (empty or missing ``from``/``to``/``ports`` match all), ``NetworkPolicyPort`` (protocol
  default TCP, named ports, inclusive ``endPort``), ``IPBlock`` (``except`` inside ``cidr``),
  ``NetworkPolicyPeer`` (podSelector AND namespaceSelector in one peer; podSelector alone means
  the policy's namespace; ipBlock excludes both).
* https://kubernetes.io/docs/concepts/services-networking/network-policies/ (isolation per
  direction, policies are additive, a connection needs egress at the source and ingress at the
  destination, the ``kubernetes.io/metadata.name`` namespace label).
* ``k8s.io/apimachinery`` ``pkg/labels/selector.go`` (``Requirement.Matches``: In, NotIn,
  Exists, DoesNotExist; NotIn matches a missing key).
* np-guard/netpol-analyzer (commit e54a33430edb4a86f077544a5d15afb050e8a3c3),
  ``pkg/netpol/eval/internal/k8s/netpol.go`` (``ruleSelectsPeer``: pods are never matched by an
  ipBlock; ``ruleConnections``; ``policyAffectsDirection``) and
  ``netpols_common.go::getPortsRange`` (a named port resolves on the destination pod's
  container ports, with the rule's protocol); ``pkg/netpol/internal/common/connectionset.go``
  (ports 1-65535; all three protocols on all ports print as ``All Connections``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence

from k8smodel.netpol.spec import (
    PROTOCOLS,
    ContainerPort,
    IPBlock,
    LabelSelector,
    NetworkPolicy,
    Peer,
    PolicyPort,
    Requirement,
    Rule,
)

__all__ = [
    "MIN_PORT",
    "MAX_PORT",
    "IPV4_MAX",
    "requirement_matches",
    "selector_matches",
    "policy_affects",
    "peer_selects_pod",
    "peer_selects_address",
    "resolve_named_port",
    "port_range",
    "rule_ports",
    "ip_block_intervals",
    "elementary_intervals",
    "format_ports",
    "format_ip_range",
    "naive_connection",
]

MIN_PORT, MAX_PORT = 1, 65535
IPV4_MAX = 2**32 - 1
#: A connection: protocol -> sorted disjoint inclusive port ranges.
Connection = dict[str, list[tuple[int, int]]]


def requirement_matches(req: Requirement, labels: Mapping[str, str]) -> bool:
    """``Requirement.Matches`` of apimachinery ``pkg/labels/selector.go``.

    In: the key is present with one of the values; NotIn: the key is absent or its value is
    not listed; Exists/DoesNotExist: presence of the key.
    """
    present = req.key in labels
    if req.operator == "In":
        return present and labels[req.key] in req.values
    if req.operator == "NotIn":
        return not present or labels[req.key] not in req.values
    if req.operator == "Exists":
        return present
    return not present


def selector_matches(selector: LabelSelector, labels: Mapping[str, str]) -> bool:
    """Whether ``labels`` satisfy every matchLabels pair and matchExpressions requirement.

    ``metav1.LabelSelectorAsSelector``: the requirements are ANDed; an empty selector
    matches everything.

    Examples
    --------
    >>> from k8smodel.netpol.spec import LabelSelector, Requirement
    >>> selector_matches(LabelSelector({"app": "db"}), {"app": "db", "tier": "x"})
    True
    >>> selector_matches(LabelSelector(match_expressions=(Requirement("env", "NotIn",
    ...     ("prod",)),)), {})
    True
    """
    if any(labels.get(k) != v for k, v in selector.match_labels):
        return False
    return all(requirement_matches(r, labels) for r in selector.match_expressions)


def policy_affects(policy: NetworkPolicy, direction: str) -> bool:
    """Whether ``policy`` isolates its pods in ``direction`` (``"Ingress"``/``"Egress"``).

    ``NetworkPolicySpec.PolicyTypes`` (types.go): when absent, every policy affects Ingress,
    and Egress only when it has an egress section (netpol-analyzer
    ``policyAffectsDirection``: a non-empty ``egress`` list).
    """
    if policy.policy_types is not None and len(policy.policy_types) > 0:
        return direction in policy.policy_types
    return direction == "Ingress" or len(policy.egress) > 0


def peer_selects_pod(
    peer: Peer,
    policy_namespace: str,
    pod_labels: Mapping[str, str],
    pod_namespace: str,
    namespace_labels: Mapping[str, str],
) -> bool:
    """``NetworkPolicyPeer`` on a pod: both selectors ANDed; podSelector alone = own namespace.

    An ``ipBlock`` peer never selects a pod (netpol-analyzer ``ruleSelectsPeer``: cluster pods
    are matched by selectors, ipBlocks describe addresses outside the pod network).
    """
    if peer.ip_block is not None:
        return False
    if peer.namespace_selector is None:
        ns_ok = pod_namespace == policy_namespace
    else:
        ns_ok = selector_matches(peer.namespace_selector, namespace_labels)
    pod_ok = peer.pod_selector is None or selector_matches(peer.pod_selector, pod_labels)
    return ns_ok and pod_ok


def peer_selects_address(peer: Peer, interval: tuple[int, int]) -> bool:
    """Whether an ipBlock peer covers the whole IPv4 ``interval`` (selectors never do)."""
    if peer.ip_block is None:
        return False
    lo, hi = interval
    return any(a <= lo and hi <= b for a, b in ip_block_intervals(peer.ip_block))


def resolve_named_port(
    name: str, protocol: str, container_ports: Sequence[ContainerPort]
) -> int | None:
    """The number of the destination's container port called ``name``, if on the rule's protocol.

    netpol-analyzer ``getPortsRange`` / ``Pod.ConvertPodNamedPort``.
    """
    for cp in container_ports:
        if cp.name == name:
            return cp.port if cp.protocol == protocol else None
    return None


def port_range(
    port: PolicyPort, container_ports: Sequence[ContainerPort] | None
) -> tuple[int, int] | None:
    """The inclusive port range a NetworkPolicyPort allows on a destination.

    No ``port``: all ports. A number: it, or ``port..endPort``. A name: the destination's
    container port of that name and protocol, or nothing (``None``) when it has none or the
    destination is an address (``container_ports=None``).
    """
    if port.port is None:
        return (MIN_PORT, MAX_PORT)
    if isinstance(port.port, str):
        if container_ports is None:
            return None
        number = resolve_named_port(port.port, port.protocol, container_ports)
        return None if number is None else (number, number)
    return (port.port, port.end_port if port.end_port is not None else port.port)


def rule_ports(rule: Rule, container_ports: Sequence[ContainerPort] | None) -> Connection:
    """The connection a rule allows on a destination: all when ``ports`` is empty."""
    if not rule.ports:
        return {p: [(MIN_PORT, MAX_PORT)] for p in PROTOCOLS}
    out: Connection = {}
    for port in rule.ports:
        rng = port_range(port, container_ports)
        if rng is not None:
            out.setdefault(port.protocol, []).append(rng)
    return {p: _merge(r) for p, r in out.items()}


def _merge(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def union(a: Connection, b: Connection) -> Connection:
    """The union of two connections."""
    return {p: _merge(a.get(p, []) + b.get(p, [])) for p in set(a) | set(b)}


def intersect(a: Connection, b: Connection) -> Connection:
    """The intersection of two connections (empty protocols dropped)."""
    out: Connection = {}
    for p in set(a) & set(b):
        pieces = [
            (max(l1, l2), min(h1, h2))
            for l1, h1 in a[p]
            for l2, h2 in b[p]
            if max(l1, l2) <= min(h1, h2)
        ]
        if pieces:
            out[p] = _merge(pieces)
    return out


ALL: Connection = {p: [(MIN_PORT, MAX_PORT)] for p in PROTOCOLS}


def ip_block_intervals(block: IPBlock) -> list[tuple[int, int]]:
    """``cidr`` minus every ``except`` as sorted disjoint IPv4 integer intervals ([] for IPv6).

    netpol-analyzer ``parseNetpolCIDR`` then ``IPBlock.Split`` (np-guard/models ``netset``).
    """
    net = ipaddress.ip_network(block.cidr, strict=False)
    if net.version != 4:
        return []
    pieces = [(int(net.network_address), int(net.broadcast_address))]
    for text in block.except_:
        ex = ipaddress.ip_network(text, strict=False)
        lo, hi = int(ex.network_address), int(ex.broadcast_address)
        nxt = []
        for a, b in pieces:
            if hi < a or lo > b:
                nxt.append((a, b))
                continue
            if a < lo:
                nxt.append((a, lo - 1))
            if hi < b:
                nxt.append((hi + 1, b))
        pieces = nxt
    return pieces


def elementary_intervals(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The partition of 0.0.0.0-255.255.255.255 cut at every interval's ends.

    This is what np-guard/models ``netset.DisjointIPBlocks`` returns for single-interval
    blocks plus the whole space: each input is a union of parts, and parts are intervals.
    """
    cuts = {0, IPV4_MAX + 1}
    for lo, hi in intervals:
        cuts.update((lo, hi + 1))
    edges = sorted(cuts)
    return [(a, b - 1) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def format_ip_range(interval: tuple[int, int]) -> str:
    """``first-last`` dotted quads, the analyzer's ``IPBlock.ToIPRanges`` for one interval."""
    lo, hi = interval
    return f"{ipaddress.IPv4Address(int(lo))}-{ipaddress.IPv4Address(int(hi))}"


def format_ports(conn: Mapping[str, Sequence[tuple[int, int]]]) -> str:
    """netpol-analyzer's text for a connection (``ConnStrFromConnProperties``).

    ``All Connections`` when SCTP, TCP and UDP are open on 1-65535; otherwise
    ``PROTO ranges`` sorted by protocol and joined by ``,``, ranges as ``p`` or ``lo-hi``
    joined by ``,``; ``No Connections`` when empty.

    Examples
    --------
    >>> format_ports({"UDP": [(53, 53)], "TCP": [(80, 80), (8000, 8090)]})
    'TCP 80,8000-8090,UDP 53'
    """
    merged = {p: _merge(r) for p, r in conn.items() if r}
    if all(merged.get(p) == [(MIN_PORT, MAX_PORT)] for p in PROTOCOLS):
        return "All Connections"
    if not merged:
        return "No Connections"
    parts = []
    for proto in sorted(merged):
        text = ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in merged[proto])
        parts.append(f"{proto} {text}")
    return ",".join(parts)


def _direction_allowed(
    policies: Sequence[NetworkPolicy],
    direction: str,
    subject_ns: str,
    subject_labels: Mapping[str, str],
    other_matches: object,
    dst_ports: Sequence[ContainerPort] | None,
) -> Connection:
    """Union of what the policies selecting the subject allow in one direction (ALL if none)."""
    selecting = [
        p
        for p in policies
        if p.namespace == subject_ns
        and policy_affects(p, direction)
        and selector_matches(p.pod_selector, subject_labels)
    ]
    if not selecting:
        return dict(ALL)
    out: Connection = {}
    for pol in selecting:
        for rule in pol.ingress if direction == "Ingress" else pol.egress:
            if not rule.peers or any(other_matches(pol, peer) for peer in rule.peers):  # type: ignore[operator]
                out = union(out, rule_ports(rule, dst_ports))
    return out


def naive_connection(
    policies: Sequence[NetworkPolicy],
    namespace_labels: Mapping[str, Mapping[str, str]],
    src: tuple[str, Mapping[str, str]] | tuple[int, int],
    dst: tuple[str, Mapping[str, str]] | tuple[int, int],
    dst_ports: Sequence[ContainerPort] = (),
) -> Connection:
    """What ``src`` may open to ``dst``, evaluated for this one pair.

    A pod is ``(namespace, labels)``; an external address range is an ``(lo, hi)`` pair of
    IPv4 integers. The connection is egress allowed at the source (all, if no egress policy
    selects it, or for an address) intersected with ingress allowed at the destination.
    """

    def matcher(pod_or_range):
        if isinstance(pod_or_range[0], int):
            return lambda pol, peer: peer_selects_address(peer, pod_or_range)
        ns, labels = pod_or_range
        return lambda pol, peer: peer_selects_pod(
            peer, pol.namespace, labels, ns, namespace_labels[ns]
        )

    is_pod_dst = not isinstance(dst[0], int)
    ports = dst_ports if is_pod_dst else None
    egress = dict(ALL)
    if not isinstance(src[0], int):
        egress = _direction_allowed(policies, "Egress", src[0], src[1], matcher(dst), ports)
    ingress = dict(ALL)
    if is_pod_dst:
        ingress = _direction_allowed(policies, "Ingress", dst[0], dst[1], matcher(src), ports)  # type: ignore[arg-type]
    return intersect(egress, ingress)

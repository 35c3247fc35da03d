"""The vectorized relation against a separate per-pair reference written here.

``reference_allows`` below restates the rules directly on plain dictionaries (it does not use
``k8smodel.netpol.semantics``), and is probed at every port that matters (each rule's range
ends, resolved named ports, and a few others) for random small clusters (fixed seeds).
Fractions of pod pairs and blast radius are checked against brute force over that reference.
"""

from __future__ import annotations

import ipaddress
from collections import deque

import numpy as np
import pytest

from k8smodel import netpol
from k8smodel.netpol import (
    Cluster,
    ContainerPort,
    IPBlock,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    Peer,
    PolicyPort,
    Requirement,
    Rule,
    Workload,
)

PROTOS = ("TCP", "UDP", "SCTP")


# -- the reference -----------------------------------------------------------------------------


def _sel(selector, labels):
    for k, v in selector.match_labels:
        if labels.get(k) != v:
            return False
    for r in selector.match_expressions:
        has = r.key in labels
        ok = {
            "In": has and labels.get(r.key) in r.values,
            "NotIn": not (has and labels.get(r.key) in r.values),
            "Exists": has,
            "DoesNotExist": not has,
        }[r.operator]
        if not ok:
            return False
    return True


def _peer_hits(peer, pol, other, ns_labels):
    if other[0] == "ip":
        if peer.ip_block is None:
            return False
        addr = ipaddress.IPv4Address(other[1])
        net = ipaddress.ip_network(peer.ip_block.cidr, strict=False)
        return addr in net and not any(
            addr in ipaddress.ip_network(e, strict=False) for e in peer.ip_block.except_
        )
    if peer.ip_block is not None:
        return False
    wl = other[1]
    if peer.namespace_selector is None:
        ns_ok = wl.namespace == pol.namespace
    else:
        ns_ok = _sel(peer.namespace_selector, ns_labels[wl.namespace])
    return ns_ok and (peer.pod_selector is None or _sel(peer.pod_selector, dict(wl.labels)))


def _port_hits(rule, proto, port, dst):
    if not rule.ports:
        return True
    for q in rule.ports:
        if q.protocol != proto:
            continue
        if q.port is None:
            return True
        if isinstance(q.port, str):
            if dst[0] == "ip":
                continue
            named = [c for c in dst[1].ports if c.name == q.port]
            if named and named[0].protocol == proto and named[0].port == port:
                return True
        elif q.port <= port <= (q.end_port or q.port):
            return True
    return False


def _types(pol):
    if pol.policy_types:
        return set(pol.policy_types)
    return {"Ingress"} | ({"Egress"} if pol.egress else set())


def _side(cluster, subject, other, dst, direction, proto, port, ns_labels):
    if subject[0] == "ip":
        return True
    wl = subject[1]
    pols = [
        p
        for p in cluster.policies
        if p.namespace == wl.namespace
        and direction in _types(p)
        and _sel(p.pod_selector, dict(wl.labels))
    ]
    if not pols:
        return True
    for p in pols:
        for rule in p.ingress if direction == "Ingress" else p.egress:
            if (
                not rule.peers or any(_peer_hits(x, p, other, ns_labels) for x in rule.peers)
            ) and _port_hits(rule, proto, port, dst):
                return True
    return False


def reference_allows(cluster, src, dst, proto, port):
    ns = cluster.namespace_labels()
    return _side(cluster, src, dst, dst, "Egress", proto, port, ns) and _side(
        cluster, dst, src, dst, "Ingress", proto, port, ns
    )


# -- random clusters ---------------------------------------------------------------------------


def random_cluster(seed: int) -> Cluster:
    rng = np.random.default_rng(seed)
    keys, values = ["app", "tier", "env"], ["a", "b", "c"]
    namespaces = tuple(
        Namespace(n, {"team": str(rng.choice(["x", "y"]))}) for n in ("n1", "n2", "n3")
    )

    def labels():
        return {k: str(rng.choice(values)) for k in keys if rng.random() < 0.7}

    def selector():
        ml = {k: str(rng.choice(values)) for k in keys if rng.random() < 0.3}
        ops = []
        if rng.random() < 0.4:
            op = str(rng.choice(["In", "NotIn", "Exists", "DoesNotExist"]))
            vals = tuple(rng.choice(values, size=2, replace=False)) if op in ("In", "NotIn") else ()
            ops.append(Requirement(str(rng.choice(keys)), op, tuple(str(v) for v in vals)))
        return LabelSelector(ml, tuple(ops))

    def peer():
        r = rng.random()
        if r < 0.2:
            cidr = str(rng.choice(["10.0.0.0/8", "10.1.0.0/16", "192.168.0.0/16", "0.0.0.0/0"]))
            exc = (
                ("10.1.2.0/24",)
                if cidr in ("10.0.0.0/8", "10.1.0.0/16") and rng.random() < 0.5
                else ()
            )
            return Peer(ip_block=IPBlock(cidr, exc))
        pod = selector() if r < 0.8 else None
        nss = (
            (
                LabelSelector({"team": str(rng.choice(["x", "y"]))})
                if rng.random() < 0.5
                else LabelSelector()
            )
            if r > 0.5
            else None
        )
        return Peer(pod, nss)

    def port():
        r = rng.random()
        proto = str(rng.choice(PROTOS, p=[0.7, 0.2, 0.1]))
        if r < 0.2:
            return PolicyPort(proto)
        if r < 0.4:
            return PolicyPort(proto, str(rng.choice(["http", "dns"])))
        lo = int(rng.choice([53, 80, 443, 8080]))
        return PolicyPort(proto, lo, lo + int(rng.integers(0, 20)) if rng.random() < 0.3 else None)

    def rule():
        peers = tuple(peer() for _ in range(int(rng.integers(0, 3))))
        ports = tuple(port() for _ in range(int(rng.integers(0, 3))))
        return Rule(peers, ports)

    workloads = []
    for i in range(int(rng.integers(4, 9))):
        cports = []
        if rng.random() < 0.6:
            cports.append(ContainerPort(int(rng.choice([80, 8080, 9000])), "http"))
        if rng.random() < 0.3:
            cports.append(ContainerPort(53, "dns", str(rng.choice(["UDP", "TCP"]))))
        workloads.append(
            Workload(
                f"w{i}",
                str(rng.choice(["n1", "n2", "n3"])),
                "Deployment",
                labels(),
                tuple(cports),
                int(rng.integers(1, 4)),
            )
        )
    policies = []
    for i in range(int(rng.integers(1, 5))):
        types = [None, ("Ingress",), ("Egress",), ("Ingress", "Egress")][int(rng.integers(0, 4))]
        policies.append(
            NetworkPolicy(
                f"p{i}",
                str(rng.choice(["n1", "n2", "n3"])),
                selector(),
                tuple(rule() for _ in range(int(rng.integers(0, 3)))),
                tuple(rule() for _ in range(int(rng.integers(0, 3)))),
                types,
            )
        )
    return Cluster(tuple(workloads), tuple(policies), namespaces)


def _probe_ports(cluster):
    ports = {1, 52, 53, 54, 79, 80, 81, 443, 8080, 8081, 9000, 65535}
    for pol in cluster.policies:
        for r in (*pol.ingress, *pol.egress):
            for q in r.ports:
                if isinstance(q.port, int):
                    ports |= {
                        q.port - 1,
                        q.port,
                        (q.end_port or q.port),
                        (q.end_port or q.port) + 1,
                    }
    return sorted(p for p in ports if 1 <= p <= 65535)


def _parse(text):
    if text == "All Connections":
        return {p: [(1, 65535)] for p in PROTOS}
    out, proto = {}, ""
    for item in text.split(",") if text else []:
        if " " in item:
            proto, item = item.split(" ")
        lo, _, hi = item.partition("-")
        out.setdefault(proto, []).append((int(lo), int(hi or lo)))
    return out


def _allowed_in(text, proto, port):
    return any(lo <= port <= hi for lo, hi in _parse(text).get(proto, []))


@pytest.mark.parametrize("seed", range(12))
def test_relation_equals_the_reference_at_every_probe(seed):
    cluster = random_cluster(seed)
    result = netpol.analyze(cluster)
    table = {
        (s, d): c
        for s, d, c in result.connections[["src", "dst", "connection"]].itertuples(index=False)
    }
    wl = {w.ref: ("pod", w) for w in cluster.workloads}

    def ends_of(intervals):
        names = {}
        for lo, hi in intervals:
            first, last = ipaddress.IPv4Address(int(lo)), ipaddress.IPv4Address(int(hi))
            names[f"{first}-{last}[External]"] = ("ip", str(first))
        return names

    src_ends = ends_of(result.relation.src_ips)
    ends = ends_of(result.relation.dst_ips)
    probes = _probe_ports(cluster)
    checked = 0
    for s_ref, src in {**wl, **src_ends}.items():
        for d_ref, dst in wl.items():
            if s_ref == d_ref:
                continue
            text = table.get((s_ref, d_ref), "")
            for proto in PROTOS:
                for port in probes:
                    assert _allowed_in(text, proto, port) == reference_allows(
                        cluster, src, dst, proto, port
                    ), (s_ref, d_ref, proto, port, text)
                    checked += 1
        if src[0] == "pod":
            for d_ref, dst in ends.items():
                text = table.get((s_ref, d_ref), "")
                for proto in PROTOS:
                    for port in probes:
                        assert _allowed_in(text, proto, port) == reference_allows(
                            cluster, src, dst, proto, port
                        )
    assert checked > 0


def _adjacency(cluster):
    """Pod-level adjacency from the reference (any probed port)."""
    pods = [(w, k) for w in cluster.workloads for k in range(w.replicas)]
    probes = _probe_ports(cluster)
    can = {}
    for a in cluster.workloads:
        for b in cluster.workloads:
            can[(a.ref, b.ref)] = any(
                reference_allows(cluster, ("pod", a), ("pod", b), p, port)
                for p in PROTOS
                for port in probes
            )
    return pods, can


@pytest.mark.parametrize("seed", range(6))
def test_fraction_of_pairs_and_blast_radius_by_brute_force(seed):
    cluster = random_cluster(100 + seed)
    result = netpol.analyze(cluster)
    pods, can = _adjacency(cluster)
    n = len(pods)
    talk = sum(
        can[(a.ref, b.ref)]
        for i, (a, _) in enumerate(pods)
        for j, (b, _) in enumerate(pods)
        if i != j
    )
    assert result.summary["fraction_pairs_allowed"].iloc[0] == pytest.approx(talk / (n * (n - 1)))
    blast = netpol.blast_radius(result)
    for w_index, w in enumerate(cluster.workloads):
        start = next(i for i, (x, _) in enumerate(pods) if x is w)
        dist = {start: 0}
        queue = deque([start])
        while queue:
            i = queue.popleft()
            for j in range(n):
                if j not in dist and can[(pods[i][0].ref, pods[j][0].ref)]:
                    dist[j] = dist[i] + 1
                    queue.append(j)
        row = blast.summary.iloc[w_index]
        assert row["pods_reachable"] == len(dist) - 1
        assert row["hops"] == max(dist.values())
        per_hop = blast.per_hop[blast.per_hop["source"] == w.ref]
        for hop, new in zip(per_hop["hop"], per_hop["new_pods"], strict=True):
            assert new == sum(1 for d in dist.values() if d == hop)


def test_isolation_and_default_deny_coverage():
    cluster = Cluster(
        workloads=(
            Workload("a", "n1", labels={"app": "a"}, replicas=3),
            Workload("b", "n1", labels={"app": "b"}),
            Workload("c", "n2"),
        ),
        policies=(
            NetworkPolicy("deny-in", "n1"),
            NetworkPolicy("eg", "n1", LabelSelector({"app": "a"}), policy_types=("Egress",)),
        ),
    )
    result = netpol.analyze(cluster)
    iso = result.isolation.set_index("name")
    assert iso.loc["a", "ingress_isolated"] and iso.loc["a", "egress_isolated"]
    assert iso.loc["b", "ingress_isolated"] and not iso.loc["b", "egress_isolated"]
    assert not iso.loc["c", "ingress_isolated"]
    cov = result.coverage.set_index("namespace")
    assert cov.loc["n1", "default_deny_ingress"] and not cov.loc["n1", "default_deny_egress"]
    assert cov.loc["n1", "fraction_egress_isolated"] == pytest.approx(3 / 4)
    assert cov.loc["n2", "fraction_ingress_isolated"] == 0


def test_diff_reports_what_opens_and_closes():
    wl = (Workload("a", labels={"app": "a"}), Workload("b", labels={"app": "b"}))
    only_80 = NetworkPolicy(
        "p", pod_selector=LabelSelector({"app": "b"}), ingress=(Rule(ports=(PolicyPort(port=80),)),)
    )
    only_443 = NetworkPolicy(
        "p",
        pod_selector=LabelSelector({"app": "b"}),
        ingress=(Rule(ports=(PolicyPort(port=443),)),),
    )
    d = netpol.diff(Cluster(wl, (only_80,)), Cluster(wl, (only_443,)))
    row = d.changes.set_index(["src", "dst"]).loc[("default/a[Pod]", "default/b[Pod]")]
    assert (row["opened"], row["closed"], row["change"]) == ("TCP 443", "TCP 80", "changed")


def test_oversized_work_is_refused_before_allocating():
    cluster = random_cluster(1)
    with pytest.raises(ValueError, match="GiB"):
        netpol.analyze(cluster, max_memory_bytes=10)


def test_wrong_types_are_refused():
    with pytest.raises(TypeError, match="cluster must be"):
        netpol.analyze([Workload("a")])
    with pytest.raises(ValueError, match="source must be a workload"):
        netpol.blast_radius(netpol.analyze(Cluster((Workload("a"),))), ["nope/x"])


def test_verbs_refuse_wrong_types_with_a_clear_error():
    # Regression: diff(cluster, result) crashed with AttributeError, and
    # blast_radius(result, "default/a") read the string letter by letter ("got 'd'").
    from k8smodel import netpol

    c = netpol.Cluster(workloads=(netpol.Workload("a"), netpol.Workload("b")))
    r = netpol.analyze(c)
    with pytest.raises(TypeError, match="after must be a netpol.Cluster; got NetpolResult"):
        netpol.diff(c, r)
    with pytest.raises(TypeError, match="sources must be a list of workloads; got str"):
        netpol.blast_radius(r, "default/a")
    with pytest.raises(TypeError, match="result must be a NetpolResult; got Cluster"):
        netpol.blast_radius(c)

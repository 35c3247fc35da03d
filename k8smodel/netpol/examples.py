"""A synthetic but realistic multi-tenant cluster, for the notebook, the benchmark and the CLI.

Each tenant namespace runs a few of: ``frontend`` (named port ``http`` 8080), ``api`` (``http``
8080), ``db`` (``postgres`` 5432), ``cache`` (``redis`` 6379) and ``worker`` (no port), with
``metrics`` on 9090 everywhere. Shared namespaces: ``ingress-nginx`` (the edge proxy),
``monitoring`` (Prometheus, which scrapes every pod) and ``kube-system`` (CoreDNS on 53/UDP and
53/TCP). Tenants adopt NetworkPolicies to different degrees, in the order teams usually write
them: default-deny ingress, allow the edge to the frontend, frontend to api, api to db, api and
worker to cache, monitoring scrapes, then default-deny egress with DNS, in-namespace traffic
and HTTPS to the internet (``0.0.0.0/0`` except ``10.0.0.0/8``). The policy count is spread
over the tenants at random, so some namespaces stay wide open: as in real clusters.
"""

from __future__ import annotations

import numpy as np

from k8smodel._random import as_generator
from k8smodel._validate import check_int
from k8smodel.netpol.spec import (
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

__all__ = ["synthetic_cluster"]

_APPS = {
    "frontend": ("web", (ContainerPort(8080, "http"),)),
    "api": ("backend", (ContainerPort(8080, "http"),)),
    "db": ("data", (ContainerPort(5432, "postgres"),)),
    "cache": ("data", (ContainerPort(6379, "redis"),)),
    "worker": ("backend", ()),
}
_METRICS = ContainerPort(9090, "metrics")
NS_NAME = "kubernetes.io/metadata.name"


def _app(name: str) -> LabelSelector:
    return LabelSelector({"app": name})


def _from_ns(ns: str) -> Peer:
    return Peer(namespace_selector=LabelSelector({NS_NAME: ns}))


def _tenant_policies(ns: str) -> list[NetworkPolicy]:
    """A tenant's policies in the order they are usually adopted."""
    http, pg, redis = (
        PolicyPort("TCP", "http"),
        PolicyPort("TCP", "postgres"),
        PolicyPort("TCP", "redis"),
    )
    dns = (PolicyPort("UDP", 53), PolicyPort("TCP", 53))
    return [
        NetworkPolicy("default-deny-ingress", ns, LabelSelector(), policy_types=("Ingress",)),
        NetworkPolicy(
            "allow-edge-to-frontend",
            ns,
            _app("frontend"),
            ingress=(Rule((_from_ns("ingress-nginx"),), (http,)),),
        ),
        NetworkPolicy(
            "allow-frontend-to-api",
            ns,
            _app("api"),
            ingress=(Rule((Peer(pod_selector=_app("frontend")),), (http,)),),
        ),
        NetworkPolicy(
            "allow-api-to-db",
            ns,
            _app("db"),
            ingress=(Rule((Peer(pod_selector=_app("api")),), (pg,)),),
        ),
        NetworkPolicy(
            "allow-to-cache",
            ns,
            _app("cache"),
            ingress=(
                Rule(
                    (
                        Peer(
                            pod_selector=LabelSelector(
                                match_expressions=(Requirement("app", "In", ("api", "worker")),)
                            )
                        ),
                    ),
                    (redis,),
                ),
            ),
        ),
        NetworkPolicy(
            "allow-monitoring",
            ns,
            LabelSelector(),
            ingress=(Rule((_from_ns("monitoring"),), (PolicyPort("TCP", "metrics"),)),),
        ),
        NetworkPolicy(
            "default-deny-egress",
            ns,
            LabelSelector(),
            policy_types=("Egress",),
            egress=(
                Rule((_from_ns("kube-system"),), dns),
                Rule((Peer(pod_selector=LabelSelector()),)),
            ),
        ),
        NetworkPolicy(
            "allow-https-out",
            ns,
            LabelSelector(match_expressions=(Requirement("app", "In", ("api", "worker")),)),
            policy_types=("Egress",),
            egress=(
                Rule(
                    (Peer(ip_block=IPBlock("0.0.0.0/0", ("10.0.0.0/8",))),),
                    (PolicyPort("TCP", 443),),
                ),
            ),
        ),
    ]


def synthetic_cluster(
    namespaces: int = 20,
    pods: int = 600,
    policies: int = 60,
    *,
    pods_as_objects: bool = False,
    rng=None,
) -> Cluster:
    """A multi-tenant cluster (see the module docstring).

    Parameters
    ----------
    namespaces : int
        Tenant namespaces (three shared namespaces are added).
    pods : int
        Pods over all tenants (about ``pods / namespaces`` each, spread over their apps).
    policies : int
        NetworkPolicies over all tenants (at most 8 per tenant).
    pods_as_objects : bool
        One :class:`Workload` of kind ``Pod`` per pod (as a cluster dump lists them) instead of
        one Deployment per app with ``replicas``.
    rng : int, Generator or None
        Seed.

    Examples
    --------
    >>> c = synthetic_cluster(namespaces=3, pods=30, policies=6, rng=1)
    >>> sum(w.replicas for w in c.workloads) >= 30
    True
    """
    # Kubernetes' supported cluster size is 150,000 pods; a synthetic benchmark may go a little
    # beyond it, but not to sizes that would only exhaust memory.
    check_int(namespaces, "namespaces", minimum=1, maximum=100_000)
    check_int(pods, "pods", minimum=1, maximum=1_000_000)
    check_int(policies, "policies", minimum=0, maximum=8 * namespaces)
    gen = as_generator(rng)
    names = [f"team-{i:04d}" for i in range(namespaces)]
    spaces = [
        Namespace(n, {"team": n, "env": str(gen.choice(["prod", "staging", "dev"]))}) for n in names
    ]
    spaces += [Namespace(n) for n in ("ingress-nginx", "monitoring", "kube-system")]
    workloads = [
        Workload(
            "ingress-nginx-controller",
            "ingress-nginx",
            "Deployment",
            {"app": "ingress-nginx"},
            (ContainerPort(443, "https"),),
            2,
        ),
        Workload(
            "prometheus",
            "monitoring",
            "StatefulSet",
            {"app": "prometheus"},
            (ContainerPort(9090, "web"),),
            1,
        ),
        Workload(
            "coredns",
            "kube-system",
            "Deployment",
            {"k8s-app": "kube-dns"},
            (ContainerPort(53, "dns", "UDP"), ContainerPort(53, "dns-tcp")),
            2,
        ),
    ]
    per_ns = gen.multinomial(pods, np.full(namespaces, 1 / namespaces))
    catalog = list(_APPS)
    for ns, count in zip(names, per_ns, strict=True):
        apps = ["frontend", "api"] + [a for a in catalog[2:] if gen.random() < 0.6]
        split = gen.multinomial(int(count), np.full(len(apps), 1 / len(apps)))
        for app, n in zip(apps, split, strict=True):
            tier, ports = _APPS[app]
            labels = {"app": app, "tier": tier}
            if pods_as_objects:
                workloads += [
                    Workload(f"{app}-{k}", ns, "Pod", labels, (*ports, _METRICS))
                    for k in range(int(n))
                ]
            elif n:
                workloads.append(
                    Workload(app, ns, "Deployment", labels, (*ports, _METRICS), int(n))
                )
    # tenants adopt a prefix of the usual order, of random length, until the count is spent
    adopted = np.zeros(namespaces, dtype=int)
    left = policies
    for i in gen.permutation(namespaces):
        if left == 0:
            break
        adopted[i] = min(left, int(gen.integers(1, 9)))
        left -= adopted[i]
    while left:  # more policies than random prefixes gave: complete the partial tenants
        i = int(np.flatnonzero(adopted < 8)[0])
        add = min(left, 8 - int(adopted[i]))
        adopted[i] += add
        left -= add
    chosen = [p for ns, k in zip(names, adopted, strict=True) for p in _tenant_policies(ns)[:k]]
    return Cluster(tuple(workloads), tuple(chosen), tuple(spaces))

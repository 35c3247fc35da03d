"""A realistic cluster dump as ``kubectl get ... -A -o json`` prints it (examples, benchmarks).

:func:`example_dump` builds a ``List`` of the objects of a small production cluster: ``zones``
zones of worker nodes (AWS ``m5.xlarge``: 4 vCPU, 3920m allocatable; CSINode
``ebs.csi.aws.com`` with 26 attachments = 27 shared slots minus the root volume (one ENI), as
the EBS CSI driver reports them) plus three tainted control-plane nodes; ingress-nginx (a
``LoadBalancer`` Service with ``externalTrafficPolicy: Local`` and the controller ConfigMap
with ``load-balance: ewma``) in front of a web tier (Deployment, ``trafficDistribution:
PreferClose`` Service, HPA) and an api tier (one Ingress annotated ``round_robin``); a
3-replica PostgreSQL StatefulSet with ``gp3`` claims bound to zonal PVs; a fluent-bit log
DaemonSet on every worker; CoreDNS; NetworkPolicies (default-deny in ``shop`` and ``data``,
allows along the request path); EndpointSlices with zone hints; and the ``kube-root-ca.crt``
ConfigMaps and Events every real dump carries (which the inventory lists as skipped).

``filler_deployments`` adds Deployments of ``filler_pods`` pods each (with a Service each), to
make the 5,000-node, 50,000-pod dump of ``benchmarks/bench_cluster.py``.

The module is a little over 600 lines because the objects are written out field by field, as
kubectl prints them; split across modules they would hide the one dump they make.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from k8smodel._random import as_generator
from k8smodel._validate import check_int

__all__ = ["example_dump", "example_path"]

_ZONE = "topology.kubernetes.io/zone"


def _meta(name: str, namespace: str | None = None, **extra: Any) -> dict:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta.update(extra)
    return meta


def _node(name: str, zone: str, control_plane: bool = False, ready: bool = True) -> dict:
    labels = {
        _ZONE: zone,
        "topology.kubernetes.io/region": zone[:-1],
        "node.kubernetes.io/instance-type": "m5.xlarge",
        "kubernetes.io/hostname": name,
    }
    spec: dict[str, Any] = {}
    if control_plane:
        labels["node-role.kubernetes.io/control-plane"] = ""
        spec["taints"] = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": _meta(name, labels=labels),
        "spec": spec,
        "status": {
            "allocatable": {"cpu": "3920m", "memory": "15038096Ki", "pods": "58"},
            "capacity": {"cpu": "4", "memory": "16126608Ki", "pods": "58"},
            "conditions": [{"type": "Ready", "status": "True" if ready else "Unknown"}],
        },
    }


def _csinode(name: str, count: int = 26) -> dict:
    drivers = [{"name": "ebs.csi.aws.com", "nodeID": name, "allocatable": {"count": count}}]
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "CSINode",
        "metadata": _meta(name),
        "spec": {"drivers": drivers},
    }


def _template(labels: dict, cpu: str, ports: list[dict], claims: Sequence[str] = ()) -> dict:
    spec: dict[str, Any] = {
        "containers": [
            {
                "name": labels["app"],
                "image": f"example/{labels['app']}:1.0",
                "ports": ports,
                "resources": {"requests": {"cpu": cpu, "memory": "256Mi"}},
            }
        ]
    }
    if claims:
        spec["volumes"] = [{"name": c, "persistentVolumeClaim": {"claimName": c}} for c in claims]
    return {"metadata": {"labels": labels}, "spec": spec}


def _pod(
    name: str,
    ns: str,
    node: str,
    labels: dict,
    owner: tuple[str, str],
    cpu: str,
    ports: list[dict],
    ip: str,
    claims: Sequence[str] = (),
) -> dict:
    tpl = _template(labels, cpu, ports, claims)
    tpl["spec"]["nodeName"] = node
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(
            name,
            ns,
            labels=labels,
            ownerReferences=[
                {"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1], "controller": True}
            ],
        ),
        "spec": tpl["spec"],
        "status": {
            "phase": "Running",
            "podIP": ip,
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


class _Builder:
    """Accumulates objects; places pods on worker nodes round-robin across zones."""

    def __init__(self, zones: list[str], workers: list[tuple[str, str]], rng: np.random.Generator):
        self.items: list[dict] = []
        self.zones = zones
        self.workers = workers
        self.rng = rng
        self.next_ip = 0
        self.cursor = 0

    def ip(self) -> str:
        self.next_ip += 1
        n = self.next_ip
        return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"

    def place(self) -> tuple[str, str]:
        # Stride by a prime so consecutive replicas land in different zones and nodes.
        node = self.workers[self.cursor % len(self.workers)]
        self.cursor += 7
        return node

    def deployment(
        self,
        name: str,
        ns: str,
        replicas: int,
        cpu: str,
        port: int,
        service: dict | None = None,
        strategy: dict | None = None,
    ) -> list[tuple[str, str, str, str]]:
        labels = {"app": name}
        ports = [{"name": "http", "containerPort": port}]
        rs = f"{name}-5d9f7c8b6"
        spec: dict[str, Any] = {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": _template(labels, cpu, ports),
        }
        if strategy:
            spec["strategy"] = strategy
        self.items.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": _meta(name, ns),
                "spec": spec,
                "status": {"replicas": replicas, "readyReplicas": replicas},
            }
        )
        self.items.append(
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": _meta(
                    rs,
                    ns,
                    ownerReferences=[
                        {
                            "apiVersion": "apps/v1",
                            "kind": "Deployment",
                            "name": name,
                            "controller": True,
                        }
                    ],
                ),
                "spec": {"replicas": replicas},
            }
        )
        placed = []
        for i in range(replicas):
            node, zone = self.place()
            suffix = "".join(self.rng.choice(list("bcdfghjklmnpqrstvwxz2456789"), 5))
            pod = f"{rs}-{suffix}{i}"
            ip = self.ip()
            self.items.append(_pod(pod, ns, node, labels, ("ReplicaSet", rs), cpu, ports, ip))
            placed.append((pod, node, zone, ip))
        if service is not None:
            self.service(name, ns, labels, port, placed, **service)
        return placed

    def service(
        self,
        name: str,
        ns: str,
        selector: dict,
        port: int,
        placed: list,
        *,
        spec: dict | None = None,
        annotations: dict | None = None,
        hints: bool = False,
    ) -> None:
        svc_spec = {
            "type": "ClusterIP",
            "selector": selector,
            "ports": [{"name": "http", "port": port, "targetPort": port, "protocol": "TCP"}],
        }
        svc_spec.update(spec or {})
        meta = _meta(name, ns, annotations=annotations) if annotations else _meta(name, ns)
        self.items.append(
            {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": svc_spec}
        )
        endpoints = []
        for pod, node, zone, ip in placed:
            ep: dict[str, Any] = {
                "addresses": [ip],
                "nodeName": node,
                "zone": zone,
                "conditions": {"ready": True, "serving": True, "terminating": False},
                "targetRef": {"kind": "Pod", "name": pod, "namespace": ns},
            }
            if hints:
                ep["hints"] = {"forZones": [{"name": zone}]}
            endpoints.append(ep)
        self.items.append(
            {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": _meta(f"{name}-x7k2p", ns, labels={"kubernetes.io/service-name": name}),
                "addressType": "IPv4",
                "endpoints": endpoints,
                "ports": [{"name": "http", "port": port, "protocol": "TCP"}],
            }
        )


def _policy(
    name: str, ns: str, selector: dict, types: list[str], ingress: list | None = None
) -> dict:
    spec: dict[str, Any] = {
        "podSelector": {"matchLabels": selector} if selector else {},
        "policyTypes": types,
    }
    if ingress is not None:
        spec["ingress"] = ingress
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(name, ns),
        "spec": spec,
    }


def _from(app: str | None, ns: str | None, port: int) -> dict:
    peer: dict[str, Any] = {}
    if app:
        peer["podSelector"] = {"matchLabels": {"app": app}}
    if ns:
        peer["namespaceSelector"] = {"matchLabels": {"kubernetes.io/metadata.name": ns}}
    return {"from": [peer], "ports": [{"protocol": "TCP", "port": port}]}


def _postgres(b: _Builder) -> None:
    """A 3-replica StatefulSet, headless Service, one 100Gi gp3 claim per replica on a zonal PV."""
    ns, labels, ports = "data", {"app": "postgres"}, [{"name": "postgres", "containerPort": 5432}]
    claim_spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "storageClassName": "gp3",
        "resources": {"requests": {"storage": "100Gi"}},
    }
    claim_tpl = {"metadata": {"name": "data"}, "spec": claim_spec}
    b.items.append(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": _meta("postgres", ns),
            "spec": {
                "replicas": 3,
                "serviceName": "postgres",
                "selector": {"matchLabels": labels},
                "podManagementPolicy": "OrderedReady",
                "updateStrategy": {"type": "RollingUpdate"},
                "template": _template(labels, "1", ports),
                "volumeClaimTemplates": [claim_tpl],
            },
            "status": {"replicas": 3, "readyReplicas": 3},
        }
    )
    placed = []
    for i in range(3):
        node, zone = next(w for w in b.workers if w[1] == b.zones[i % len(b.zones)])
        pod, claim, ip = f"postgres-{i}", f"data-postgres-{i}", b.ip()
        b.items.append(
            _pod(pod, ns, node, labels, ("StatefulSet", "postgres"), "1", ports, ip, [claim])
        )
        pv = f"pvc-0c1d2e3f-{i:04d}"
        b.items.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": _meta(claim, ns, labels=labels),
                "spec": {**claim_spec, "volumeName": pv},
                "status": {"phase": "Bound"},
            }
        )
        b.items.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": _meta(pv),
                "spec": {
                    "capacity": {"storage": "100Gi"},
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": "gp3",
                    "persistentVolumeReclaimPolicy": "Delete",
                    "claimRef": {"namespace": ns, "name": claim},
                    "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": f"vol-{i:017x}"},
                    "nodeAffinity": {
                        "required": {
                            "nodeSelectorTerms": [
                                {
                                    "matchExpressions": [
                                        {"key": _ZONE, "operator": "In", "values": [zone]}
                                    ]
                                }
                            ]
                        }
                    },
                },
                "status": {"phase": "Bound"},
            }
        )
        placed.append((pod, node, zone, ip))
    b.service("postgres", ns, labels, 5432, placed, spec={"clusterIP": "None"})
    # A fourth claim made by hand for a restore job, still Pending: no PV, consumer not scheduled.
    b.items.append(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": _meta("restore-scratch", ns),
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "gp3",
                "resources": {"requests": {"storage": "500Gi"}},
            },
            "status": {"phase": "Pending"},
        }
    )


def _logging(b: _Builder) -> None:
    ns, labels = "logging", {"app": "fluent-bit"}
    b.items.append(
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": _meta("fluent-bit", ns),
            "spec": {
                "selector": {"matchLabels": labels},
                "template": _template(labels, "100m", []),
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            },
            "status": {"desiredNumberScheduled": len(b.workers), "numberReady": len(b.workers)},
        }
    )
    for i, (node, _zone) in enumerate(b.workers):
        b.items.append(
            _pod(
                f"fluent-bit-{i:05x}",
                ns,
                node,
                labels,
                ("DaemonSet", "fluent-bit"),
                "100m",
                [],
                b.ip(),
            )
        )


def _edge(b: _Builder) -> None:
    """ingress-nginx, its ConfigMap (ewma), and the Ingresses of the shop."""
    b.items.append(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta(
                "ingress-nginx-controller",
                "ingress-nginx",
                labels={"app.kubernetes.io/name": "ingress-nginx"},
            ),
            "data": {"load-balance": "ewma", "use-forwarded-headers": "true"},
        }
    )
    b.deployment(
        "ingress-nginx-controller",
        "ingress-nginx",
        3,
        "500m",
        80,
        service={"spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local"}},
    )
    for name, backend, notes in (
        ("web", "web", {}),
        ("api", "api", {"nginx.ingress.kubernetes.io/load-balance": "round_robin"}),
    ):
        meta = _meta(name, "shop", annotations=notes) if notes else _meta(name, "shop")
        b.items.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "Ingress",
                "metadata": meta,
                "spec": {
                    "ingressClassName": "nginx",
                    "rules": [
                        {
                            "host": f"{name}.example.com",
                            "http": {
                                "paths": [
                                    {
                                        "path": "/",
                                        "pathType": "Prefix",
                                        "backend": {
                                            "service": {"name": backend, "port": {"number": 8080}}
                                        },
                                    }
                                ]
                            },
                        }
                    ],
                },
            }
        )


def _policies(b: _Builder) -> None:
    b.items += [
        _policy("default-deny-ingress", "shop", {}, ["Ingress"]),
        _policy(
            "allow-edge-to-web",
            "shop",
            {"app": "web"},
            ["Ingress"],
            [_from(None, "ingress-nginx", 8080)],
        ),
        _policy(
            "allow-edge-to-api",
            "shop",
            {"app": "api"},
            ["Ingress"],
            [_from(None, "ingress-nginx", 8080), _from("web", None, 8080)],
        ),
        _policy("default-deny-ingress", "data", {}, ["Ingress"]),
        _policy(
            "allow-api-to-postgres",
            "data",
            {"app": "postgres"},
            ["Ingress"],
            [_from("api", "shop", 5432)],
        ),
    ]


def example_dump(
    *,
    zones: int = 3,
    workers_per_zone: int = 9,
    web_replicas: int = 6,
    filler_deployments: int = 0,
    filler_pods: int = 10,
    rng: Any = 20261130,
) -> dict:
    """The example cluster as one ``List`` (what ``kubectl get ... -A -o json`` prints).

    Parameters
    ----------
    zones, workers_per_zone : int
        Worker nodes per zone (three control-plane nodes are added, one per zone up to 3).
    web_replicas : int
        Pods of the web Deployment (its HPA allows 3 to 30).
    filler_deployments, filler_pods : int
        Extra Deployments (each with a Service) of ``filler_pods`` pods, for scale tests.
    rng : seed or Generator
        For pod-name suffixes.

    Returns
    -------
    dict
        ``{"apiVersion": "v1", "kind": "List", "items": [...]}``.

    Examples
    --------
    >>> dump = example_dump()
    >>> sum(o["kind"] == "Node" for o in dump["items"])
    30
    """
    zones = check_int(zones, "zones", minimum=1, maximum=26)
    workers_per_zone = check_int(workers_per_zone, "workers_per_zone", minimum=1)
    web_replicas = check_int(web_replicas, "web_replicas", minimum=1)
    filler_deployments = check_int(filler_deployments, "filler_deployments", minimum=0)
    filler_pods = check_int(filler_pods, "filler_pods", minimum=1)
    names = [f"us-east-1{chr(97 + z)}" for z in range(zones)]
    workers = [
        (f"ip-10-0-{z}-{i + 10}.ec2.internal", zone)
        for i in range(workers_per_zone)
        for z, zone in enumerate(names)
    ]
    b = _Builder(names, workers, as_generator(rng))
    for z, zone in enumerate(names[:3]):
        b.items.append(_node(f"ip-10-0-{z}-5.ec2.internal", zone, control_plane=True))
    for node, zone in workers:
        b.items.append(_node(node, zone))
        b.items.append(_csinode(node))
    for ns in ("shop", "data", "logging", "ingress-nginx", "kube-system"):
        b.items.append(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": _meta(ns, labels={"kubernetes.io/metadata.name": ns}),
            }
        )
        b.items.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": _meta("kube-root-ca.crt", ns),
                "data": {
                    "ca.crt": "-----BEGIN CERTIFICATE-----\n(elided)\n-----END CERTIFICATE-----\n"
                },
            }
        )
    b.items.append(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": _meta(
                "gp3", annotations={"storageclass.kubernetes.io/is-default-class": "true"}
            ),
            "provisioner": "ebs.csi.aws.com",
            "volumeBindingMode": "WaitForFirstConsumer",
            "reclaimPolicy": "Delete",
            "parameters": {"type": "gp3"},
        }
    )
    _edge(b)
    b.deployment(
        "web",
        "shop",
        web_replicas,
        "500m",
        8080,
        service={"spec": {"trafficDistribution": "PreferClose"}, "hints": True},
        strategy={
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0},
        },
    )
    b.items.append(
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": _meta("web", "shop"),
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 3,
                "maxReplicas": 30,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 60},
                        },
                    }
                ],
            },
            "status": {"currentReplicas": web_replicas, "desiredReplicas": web_replicas},
        }
    )
    b.deployment("api", "shop", 4, "1", 8080, service={})
    b.deployment("coredns", "kube-system", 2, "100m", 53, service={})
    _postgres(b)
    _logging(b)
    _policies(b)
    for k in range(filler_deployments):
        b.deployment(f"svc-{k:05d}", f"team-{k % 50:02d}", filler_pods, "100m", 8080, service={})
    b.items.append(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": _meta("web.17f0a1b2c3d4e5f6", "shop"),
            "reason": "ScalingReplicaSet",
            "message": f"Scaled up replica set web-5d9f7c8b6 to {web_replicas}",
        }
    )
    return {
        "apiVersion": "v1",
        "kind": "List",
        "items": b.items,
        "metadata": {"resourceVersion": ""},
    }


def example_path():
    """Path of ``data/cluster_example.json``, the dump :func:`example_dump` writes by default."""
    from k8smodel._data import data_dir

    return data_dir() / "cluster_example.json"

"""Build a :class:`~k8smodel.netpol.spec.Cluster` from Kubernetes objects (YAML, JSON, Lists).

Read: Namespaces, NetworkPolicies, Pods, and the workloads that stamp pods from a template:
Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers, Jobs and CronJobs
(each becomes one :class:`~k8smodel.netpol.spec.Workload` with its template's labels and
container ports). A Pod with a controlling owner reference is listed under its owner
(``ns/owner[OwnerKind]``), as netpol-analyzer does (``pkg/netpol/eval/internal/k8s/pod.go``,
``PodFromCoreObject`` and ``WorkloadPeer.String``). A missing namespace is ``default``.

Everything else (Services, Ingresses, Routes, admin policies, user-defined networks, ...) is
listed in ``Cluster.ignored`` with the reason. Files are parsed by the project's hardened
reader (:func:`k8smodel.manifests.read_documents`: safe loading, size, alias and depth limits,
duplicate keys refused).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from k8smodel.manifests import read_documents
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

__all__ = ["from_manifest", "load_objects", "to_manifest"]

_TEMPLATE_PATHS = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
_WHY_IGNORED = {
    "AdminNetworkPolicy": "admin network policies are not modelled",
    "BaselineAdminNetworkPolicy": "admin network policies are not modelled",
    "Ingress": "ingress-controller connections are not modelled",
    "Route": "ingress-controller connections are not modelled",
    "Service": "Services do not change which pods may connect",
    "UserDefinedNetwork": "user-defined networks are not modelled (one pod network assumed)",
    "ClusterUserDefinedNetwork": "user-defined networks are not modelled",
    "NetworkAttachmentDefinition": "secondary networks are not modelled",
    "MultiNetworkPolicy": "secondary networks are not modelled",
    "VirtualMachine": "virtual machines are not modelled",
}
_SUFFIXES = (".yaml", ".yml", ".json")


def load_objects(source: Any) -> Iterator[tuple[str, dict]]:
    """Yield ``(where, object)`` from a path (file or folder), a mapping or a list of them.

    Lists (``kind: List`` or ``...List`` with ``items``) are flattened.
    """
    if isinstance(source, str | Path):
        path = Path(source)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.suffix.lower() in _SUFFIXES):
                yield from _from_file(child)
        elif path.is_file():
            yield from _from_file(path)
        else:
            raise ValueError(f"manifest path must be an existing file or folder; got {str(path)!r}")
    elif isinstance(source, Mapping):
        yield from _flatten("<object>", dict(source))
    elif isinstance(source, list | tuple):
        for item in source:
            yield from load_objects(item)
    else:
        raise TypeError(
            "manifest source must be a path, a mapping or a list of them; "
            f"got {type(source).__name__}"
        )


def _from_file(path: Path) -> Iterator[tuple[str, dict]]:
    # The project's hardened reader: size, alias and depth limits, duplicate keys refused.
    docs = read_documents(path)
    for doc in docs:
        if doc is None:
            continue
        if not isinstance(doc, Mapping):
            yield str(path), {"kind": "", "_not_an_object": type(doc).__name__}
            continue
        yield from _flatten(str(path), dict(doc))


def _flatten(where: str, obj: dict) -> Iterator[tuple[str, dict]]:
    kind = obj.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(obj.get("items"), list):
        for item in obj["items"]:
            if isinstance(item, Mapping):
                item = dict(item)
                if "kind" not in item and kind != "List":
                    item["kind"] = kind[: -len("List")]
                yield from _flatten(where, item)
        return
    yield where, obj


def from_manifest(*sources: Any) -> Cluster:
    """Read Kubernetes objects into a :class:`Cluster`.

    Parameters
    ----------
    *sources : str, Path, mapping or list
        Files or folders (``.yaml``, ``.yml``, ``.json``, searched recursively), objects as
        mappings, or lists of either.

    Returns
    -------
    Cluster
        Its ``ignored`` lists every object not used, with the reason.

    Raises
    ------
    ValueError
        Naming ``Kind namespace/name`` and the field, for malformed selectors, invalid CIDRs,
        an ``except`` outside its ``cidr``, an ``endPort`` below ``port`` or with a named port.

    Examples
    --------
    >>> c = from_manifest({"kind": "Pod", "metadata": {"name": "a", "labels": {"app": "a"}}})
    >>> c.workloads[0].ref
    'default/a[Pod]'
    """
    namespaces: list[Namespace] = []
    policies: dict[str, NetworkPolicy] = {}
    workloads: dict[str, Workload] = {}
    ignored: list[tuple[str, str, str]] = []
    for source in sources:
        for where, obj in load_objects(source):
            kind = str(obj.get("kind", ""))
            if "_not_an_object" in obj:
                ignored.append(
                    ("<document>", where, f"a {obj['_not_an_object']}, not a Kubernetes object")
                )
                continue
            meta = obj.get("metadata") or {}
            if not isinstance(meta, Mapping):
                raise ValueError(f"{where}: {kind}: metadata must be a mapping")
            ns = str(meta.get("namespace") or "default")
            name = str(meta.get("name") or "")
            if kind == "Namespace":
                with _at(f"Namespace {name}", "metadata.labels"):
                    namespaces.append(Namespace(name, _mapping(meta.get("labels"))))
            elif kind == "NetworkPolicy":
                policy = _policy(obj, ns, name)
                if policies.get(policy.ref, policy) != policy:
                    raise ValueError(
                        f"NetworkPolicy {policy.ref}: metadata.name must be unique in its "
                        "namespace; got two different policies of that name"
                    )
                policies[policy.ref] = policy
            elif kind == "Pod" or kind in _TEMPLATE_PATHS:
                wl, note = _workload(obj, kind, ns, name)
                if note:
                    ignored.append((kind, f"{ns}/{name}", note))
                if wl is not None:
                    _add_workload(workloads, wl, kind, f"{ns}/{name}", ignored)
            else:
                reason = _WHY_IGNORED.get(kind, "this kind does not affect pod connectivity")
                ignored.append((kind or "<no kind>", f"{ns}/{name}", reason))
    return Cluster(
        tuple(workloads.values()), tuple(policies.values()), _unique(namespaces), tuple(ignored)
    )


def _add_workload(
    workloads: dict[str, Workload], wl: Workload, kind: str, ref: str, ignored: list
) -> None:
    """Pods of one owner are one workload (replicas add up); a controller given twice is not."""
    first = workloads.get(wl.ref)
    if first is None:
        workloads[wl.ref] = wl
    elif kind != "Pod":
        ignored.append((kind, ref, "defined again; the last definition is used"))
        workloads[wl.ref] = wl
    else:
        if first.labels != wl.labels:
            ignored.append(
                (kind, ref, f"labels differ from the first pod of {wl.ref}; its labels are used")
            )
        workloads[wl.ref] = Workload(
            first.name,
            first.namespace,
            first.kind,
            first.labels,
            first.ports,
            first.replicas + wl.replicas,
        )


def _unique(namespaces: list[Namespace]) -> tuple[Namespace, ...]:
    seen: dict[str, Namespace] = {}
    for ns in namespaces:
        if ns.name in seen and seen[ns.name] != ns:
            raise ValueError(f"Namespace {ns.name}: defined twice with different labels")
        seen[ns.name] = ns
    return tuple(seen.values())


@contextmanager
def _at(obj: str, field: str) -> Iterator[None]:
    try:
        yield
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{obj}: {field}: {exc}") from None


def _mapping(value: Any) -> dict:
    return dict(value) if isinstance(value, Mapping) else ({} if value is None else value)


def _selector(value: Any, obj: str, field: str) -> LabelSelector:
    if value is None:
        value = {}
    with _at(obj, field):
        if not isinstance(value, Mapping):
            raise TypeError(f"a label selector must be a mapping; got {value!r}")
        exprs = value.get("matchExpressions") or []
        if not isinstance(exprs, list):
            raise TypeError(f"matchExpressions must be a list; got {exprs!r}")
        labels = value.get("matchLabels") or {}
        if isinstance(labels, Mapping):
            labels = {str(k): str(v) for k, v in labels.items()}
    reqs = []
    for i, e in enumerate(exprs):
        with _at(obj, f"{field}.matchExpressions[{i}]"):
            if not isinstance(e, Mapping):
                raise TypeError(f"a requirement must be a mapping; got {e!r}")
            values = e.get("values") or []
            if not isinstance(values, list):
                raise TypeError(f"values must be a list; got {values!r}")
            key: Any = e.get("key")
            operator: Any = e.get("operator")
            reqs.append(Requirement(key, operator, tuple(str(v) for v in values)))
    with _at(obj, f"{field}.matchLabels"):
        return LabelSelector(labels, tuple(reqs))


def _policy(obj: dict, ns: str, name: str) -> NetworkPolicy:
    where = f"NetworkPolicy {ns}/{name}"
    spec = obj.get("spec") or {}
    if not isinstance(spec, Mapping):
        raise ValueError(f"{where}: spec must be a mapping")
    pod_selector = _selector(spec.get("podSelector"), where, "spec.podSelector")
    rules = {}
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        raw = spec.get(direction) or []
        with _at(where, f"spec.{direction}"):
            if not isinstance(raw, list):
                raise TypeError(f"must be a list of rules; got {raw!r}")
        rules[direction] = tuple(
            _rule(r, where, f"spec.{direction}[{i}]", peers_key) for i, r in enumerate(raw)
        )
    types = spec.get("policyTypes")
    with _at(where, "spec.policyTypes"):
        return NetworkPolicy(
            name,
            ns,
            pod_selector,
            rules["ingress"],
            rules["egress"],
            tuple(types) if types else None,
        )


def _rule(raw: Any, where: str, field: str, peers_key: str) -> Rule:
    with _at(where, field):
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise TypeError(f"a rule must be a mapping; got {raw!r}")
    peers = []
    for j, p in enumerate(raw.get(peers_key) or []):
        pfield = f"{field}.{peers_key}[{j}]"
        if not isinstance(p, Mapping):
            raise TypeError(f"{where}: {pfield}: a peer must be a mapping; got {p!r}")
        block = None
        if p.get("ipBlock") is not None:
            ib = p["ipBlock"]
            with _at(where, f"{pfield}.ipBlock"):
                if not isinstance(ib, Mapping):
                    raise TypeError(f"must be a mapping; got {ib!r}")
                cidr: Any = ib.get("cidr")
                block = IPBlock(cidr, tuple(ib.get("except") or ()))
        pod = (
            _selector(p["podSelector"], where, f"{pfield}.podSelector")
            if "podSelector" in p and p["podSelector"] is not None
            else None
        )
        nss = (
            _selector(p["namespaceSelector"], where, f"{pfield}.namespaceSelector")
            if "namespaceSelector" in p and p["namespaceSelector"] is not None
            else None
        )
        with _at(where, pfield):
            peers.append(Peer(pod, nss, block))
    ports = []
    for j, q in enumerate(raw.get("ports") or []):
        with _at(where, f"{field}.ports[{j}]"):
            if not isinstance(q, Mapping):
                raise TypeError(f"a port must be a mapping; got {q!r}")
            ports.append(PolicyPort(q.get("protocol") or "TCP", q.get("port"), q.get("endPort")))
    return Rule(tuple(peers), tuple(ports))


def _workload(obj: dict, kind: str, ns: str, name: str) -> tuple[Workload | None, str]:
    where = f"{kind} {ns}/{name}"
    if kind == "Pod":
        template: Any = obj
        owner = _controller(obj.get("metadata") or {})
        if name.startswith("virt-launcher-"):
            return None, "virt-launcher pods wrap virtual machines, which are not modelled"
        wl_name, wl_kind, replicas = (owner or (name, "Pod")) + (1,)
    else:
        template = obj
        for key in _TEMPLATE_PATHS[kind]:
            template = template.get(key) if isinstance(template, Mapping) else None
        if not isinstance(template, Mapping):
            raise ValueError(f"{where}: {'.'.join(_TEMPLATE_PATHS[kind])} must be a pod template")
        spec = obj.get("spec") or {}
        count = spec.get("parallelism" if kind == "Job" else "replicas")
        replicas = 1 if count is None or kind in ("DaemonSet", "CronJob") else count
        wl_name, wl_kind = name, kind
    meta = template.get("metadata") or {}
    with _at(where, "labels"):
        labels = {str(k): str(v) for k, v in _mapping(meta.get("labels")).items()}
    ports = []
    containers = (template.get("spec") or {}).get("containers") or []
    skipped = []
    for i, c in enumerate(containers):
        for j, p in enumerate((c or {}).get("ports") or []):
            if isinstance(p, Mapping) and p.get("containerPort") is None:
                skipped.append(f"containers[{i}].ports[{j}] has no containerPort and was skipped")
                continue
            with _at(where, f"containers[{i}].ports[{j}]"):
                ports.append(
                    ContainerPort(
                        p.get("containerPort"), str(p.get("name") or ""), p.get("protocol") or "TCP"
                    )
                )
    with _at(where, "replicas"):
        return Workload(wl_name, ns, wl_kind, labels, tuple(ports), replicas), "; ".join(skipped)


def _controller(meta: Mapping) -> tuple[str, str] | None:
    for ref in meta.get("ownerReferences") or []:
        if isinstance(ref, Mapping) and ref.get("controller") is True:
            if ref.get("kind") == "Node":
                return None
            # an owner without a kind is shown as a Pod, as netpol-analyzer's WorkloadPeer.Kind does
            return str(ref.get("name")), str(ref.get("kind") or "Pod")
    return None


def to_manifest(cluster: Cluster) -> list[dict]:
    """Kubernetes objects for ``cluster`` (the inverse of :func:`from_manifest`).

    Namespaces, then workloads (a Pod, or a controller with its pod template and replicas),
    then NetworkPolicies; ``from_manifest(to_manifest(c))`` gives back ``c``'s workloads,
    policies and namespaces.
    """
    out: list[dict] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": ns.name, "labels": dict(ns.labels)},
        }
        for ns in cluster.namespaces
    ]
    for w in cluster.workloads:
        meta = {"name": w.name, "namespace": w.namespace}
        pod_spec = {
            "containers": [
                {
                    "name": "main",
                    "image": "registry.example/app:1",
                    "ports": [
                        {
                            "containerPort": p.port,
                            "protocol": p.protocol,
                            **({"name": p.name} if p.name else {}),
                        }
                        for p in w.ports
                    ],
                }
            ]
        }
        template = {"metadata": {"labels": dict(w.labels)}, "spec": pod_spec}
        if w.kind == "Pod":
            out.append(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {**meta, "labels": dict(w.labels)},
                    "spec": pod_spec,
                }
            )
            continue
        spec: dict[str, Any] = {"template": template}
        if w.kind == "CronJob":
            spec = {"schedule": "@hourly", "jobTemplate": {"spec": {"template": template}}}
        elif w.kind == "Job":
            spec["parallelism"] = w.replicas
        elif w.kind != "DaemonSet":
            spec["replicas"] = w.replicas
            spec["selector"] = {"matchLabels": dict(w.labels)}
        api = "batch/v1" if w.kind in ("Job", "CronJob") else "apps/v1"
        out.append({"apiVersion": api, "kind": w.kind, "metadata": meta, "spec": spec})
    out += [_policy_object(p) for p in cluster.policies]
    return out


def _selector_object(sel: LabelSelector) -> dict:
    out: dict[str, Any] = {}
    if sel.match_labels:
        out["matchLabels"] = dict(sel.match_labels)
    if sel.match_expressions:
        out["matchExpressions"] = [
            {
                "key": r.key,
                "operator": r.operator,
                **({"values": list(r.values)} if r.values else {}),
            }
            for r in sel.match_expressions
        ]
    return out


def _peer_object(peer: Peer) -> dict:
    if peer.ip_block is not None:
        block: dict[str, Any] = {"cidr": peer.ip_block.cidr}
        if peer.ip_block.except_:
            block["except"] = list(peer.ip_block.except_)
        return {"ipBlock": block}
    out = {}
    if peer.pod_selector is not None:
        out["podSelector"] = _selector_object(peer.pod_selector)
    if peer.namespace_selector is not None:
        out["namespaceSelector"] = _selector_object(peer.namespace_selector)
    return out


def _rule_object(rule: Rule, peers_key: str) -> dict:
    out: dict[str, Any] = {}
    if rule.peers:
        out[peers_key] = [_peer_object(p) for p in rule.peers]
    if rule.ports:
        out["ports"] = [
            {
                "protocol": q.protocol,
                **({"port": q.port} if q.port is not None else {}),
                **({"endPort": q.end_port} if q.end_port is not None else {}),
            }
            for q in rule.ports
        ]
    return out


def _policy_object(pol: NetworkPolicy) -> dict:
    spec: dict[str, Any] = {"podSelector": _selector_object(pol.pod_selector)}
    if pol.ingress:
        spec["ingress"] = [_rule_object(r, "from") for r in pol.ingress]
    if pol.egress:
        spec["egress"] = [_rule_object(r, "to") for r in pol.egress]
    if pol.policy_types is not None:
        spec["policyTypes"] = list(pol.policy_types)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": pol.name, "namespace": pol.namespace},
        "spec": spec,
    }

"""Build a Service model from Service, EndpointSlice and Node objects.

Accepts what ``kubectl get -o yaml|json`` prints: one object, a ``List`` (``items``), a
multi-document YAML stream, a path to such a file, or Python dicts. It reads

* Service: ``spec.type``, ``spec.externalTrafficPolicy``, ``spec.internalTrafficPolicy``,
  ``spec.sessionAffinity`` and ``spec.sessionAffinityConfig.clientIP.timeoutSeconds``,
  ``spec.trafficDistribution``, the annotation ``service.kubernetes.io/topology-mode``
  (or the deprecated ``service.kubernetes.io/topology-aware-hints``);
* EndpointSlice (label ``kubernetes.io/service-name``): ``endpoints[].nodeName``, ``.zone``,
  ``.conditions`` (ready, serving, terminating), ``.hints`` (forZones, forNodes),
  ``.targetRef.name``;
* Node: label ``topology.kubernetes.io/zone``, ``status.allocatable.cpu``, the Ready
  condition, the control-plane role label.

An endpoint without ``conditions.ready`` is taken as ready, as kube-proxy does
(``pkg/proxy/endpointslicecache.go``); the topology cache counts only an explicit ``true``.

Objects it cannot use are listed in :attr:`ManifestSpec.skipped` with the reason; a field
of the wrong shape raises ``ValueError`` naming ``kind namespace/name`` and the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from k8smodel.manifests import read_documents
from k8smodel.service.spec import DEFAULT_AFFINITY_TIMEOUT_S, Layout, Node, Pod, Service

__all__ = ["ManifestSpec", "from_manifest", "parse_cpu"]


_ZONE_LABEL = "topology.kubernetes.io/zone"
_TOPOLOGY_ANNOTATIONS = (
    "service.kubernetes.io/topology-aware-hints",  # deprecated, wins when both are set
    "service.kubernetes.io/topology-mode",
)
_CPU = re.compile(r"^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(m?)$")


@dataclass(frozen=True)
class ManifestSpec:
    """What :func:`from_manifest` read: the Service, the layout and what it skipped."""

    name: str
    service: Service
    layout: Layout
    skipped: tuple[str, ...] = ()


def parse_cpu(value: Any, where: str) -> float:
    """A CPU quantity (``"3500m"``, ``"4"``, ``2``) in cores.

    Examples
    --------
    >>> parse_cpu("3500m", "Node n: status.allocatable.cpu")
    3.5
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    match = _CPU.match(str(value).strip()) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"{where} must be a CPU quantity such as '4' or '3500m'; got {value!r}")
    number = float(match.group(1))
    return number / 1000 if match.group(2) else number


def _ident(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    name = meta.get("name", "?")
    return f"{obj.get('kind', '?')} {ns + '/' if ns else ''}{name}"


def _field(obj: Mapping[str, Any], path: str, kind: type | tuple[type, ...], default: Any) -> Any:
    node: Any = obj
    for part in path.split("."):
        if not isinstance(node, Mapping) or node.get(part) is None:
            return default
        node = node[part]
    if not isinstance(node, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ValueError(f"{_ident(obj)}: {path} must be {names}; got {node!r}")
    return node


def _load(source: Any) -> list[Mapping[str, Any]]:
    is_text = isinstance(source, str) and ("\n" in source or source.lstrip()[:1] in ("{", "["))
    if isinstance(source, str | Path) and not is_text:
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"manifest must be an existing file or YAML/JSON text; got {source!r}")
        source = path
    if isinstance(source, str | Path):
        # The project's hardened reader: size, alias and depth limits, duplicate keys refused.
        docs = read_documents(source)
        if len(docs) == 1 and isinstance(docs[0], list):
            docs = docs[0]
    elif isinstance(source, Mapping):
        docs = [source]
    elif isinstance(source, Iterable):
        docs = list(source)
    else:
        raise TypeError(
            f"manifest must be a path, YAML/JSON text, a dict or a list; got {source!r}"
        )
    out: list[Mapping[str, Any]] = []
    for doc in docs:
        if doc is None:
            continue
        if not isinstance(doc, Mapping):
            raise ValueError(f"manifest documents must be objects; got {doc!r}")
        items = doc.get("items")
        out += list(items) if isinstance(items, list) else [doc]
    return out


def _node(obj: Mapping[str, Any]) -> Node:
    ident = _ident(obj)
    labels = _field(obj, "metadata.labels", dict, {})
    cpu = _field(obj, "status.allocatable.cpu", (str, int, float), None)
    conditions = _field(obj, "status.conditions", list, [])
    ready = any(
        isinstance(c, Mapping) and c.get("type") == "Ready" and c.get("status") == "True"
        for c in conditions
    )
    return Node(
        name=obj["metadata"]["name"],
        zone=str(labels.get(_ZONE_LABEL, "")),
        cpu=0.0 if cpu is None else parse_cpu(cpu, f"{ident}: status.allocatable.cpu"),
        ready=ready,
        control_plane="node-role.kubernetes.io/control-plane" in labels
        or "node-role.kubernetes.io/master" in labels,
    )


def _service(obj: Mapping[str, Any]) -> Service:
    ident = _ident(obj)
    annotations = _field(obj, "metadata.annotations", dict, {})
    mode = next((annotations[a] for a in _TOPOLOGY_ANNOTATIONS if a in annotations), None)
    kw = {
        "type": _field(obj, "spec.type", str, "ClusterIP"),
        "external_traffic_policy": _field(obj, "spec.externalTrafficPolicy", str, "Cluster"),
        "internal_traffic_policy": _field(obj, "spec.internalTrafficPolicy", str, "Cluster"),
        "session_affinity": _field(obj, "spec.sessionAffinity", str, "None"),
        "affinity_timeout_s": float(
            _field(
                obj,
                "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                int,
                int(DEFAULT_AFFINITY_TIMEOUT_S),
            )
        ),
        "traffic_distribution": _field(obj, "spec.trafficDistribution", str, None),
        "topology_mode": mode,
    }
    try:
        return Service(**kw)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{ident}: {err}") from None


def _primary_family_slices(
    svc_obj: Mapping[str, Any], slices: list[Mapping[str, Any]], skipped: list[str]
) -> list[Mapping[str, Any]]:
    """The slices of the Service's primary IP family; the others are listed as skipped.

    A dual-stack Service has one set of EndpointSlices per ``addressType`` naming the same
    pods, and kube-proxy runs one proxier per family (``pkg/proxy/metaproxier``), so a
    connection chooses among one family's endpoints. The family is ``spec.ipFamilies[0]``,
    else IPv4 when an IPv4 slice exists; a slice without ``addressType`` is kept.
    """
    families = _field(svc_obj, "spec.ipFamilies", list, [])
    present = [sl.get("addressType") for sl in slices if sl.get("addressType")]
    family = (
        families[0] if families else ("IPv4" if "IPv4" in present else next(iter(present), None))
    )
    kept = []
    for sl in slices:
        fam = sl.get("addressType")
        if family and fam and fam != family:
            skipped.append(
                f"{_ident(sl)}: addressType {fam}; the model follows the Service's primary "
                f"IP family {family} (kube-proxy proxies each family separately)"
            )
        else:
            kept.append(sl)
    return kept


def _same_namespace(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """An EndpointSlice serves the Service of its own namespace (when both name one)."""
    ns_a = (a.get("metadata") or {}).get("namespace")
    ns_b = (b.get("metadata") or {}).get("namespace")
    return not (ns_a and ns_b) or ns_a == ns_b


def _pods(
    slices: list[Mapping[str, Any]], skipped: list[str], node_zones: dict[str, str]
) -> list[Pod]:
    pods: list[Pod] = []
    for sl in slices:
        ident = _ident(sl)
        for i, ep in enumerate(_field(sl, "endpoints", list, [])):
            where = f"{ident}: endpoints[{i}]"
            if not isinstance(ep, Mapping):
                raise ValueError(f"{where} must be an object; got {ep!r}")
            node = ep.get("nodeName")
            name = (ep.get("targetRef") or {}).get("name") or ",".join(ep.get("addresses") or [])
            if not node:
                skipped.append(f"{where} ({name or 'unnamed'}): no nodeName, cannot place it")
                continue
            if not isinstance(node, str):
                raise ValueError(f"{where}.nodeName must be a string; got {node!r}")
            if ep.get("zone") and node_zones.get(node, ep["zone"]) != ep["zone"]:
                skipped.append(f"{where}: zone {ep['zone']!r} differs from Node {node}'s label")
            node_zones.setdefault(node, ep.get("zone") or "")
            cond = ep.get("conditions") or {}
            for key in ("ready", "serving", "terminating"):
                if cond.get(key) is not None and not isinstance(cond[key], bool):
                    raise ValueError(f"{where}.conditions.{key} must be true or false")
            hints = ep.get("hints")
            pods.append(
                Pod(
                    name=name or f"{ident}#{i}",
                    node=node,
                    # Ready unset means ready (discovery/v1 EndpointConditions doc).
                    ready=cond.get("ready", True) is not False,
                    serving=cond.get("serving"),
                    terminating=bool(cond.get("terminating", False)),
                    zone_hints=None
                    if hints is None
                    else tuple(z["name"] for z in hints.get("forZones") or ()),
                    node_hints=None
                    if hints is None
                    else tuple(n["name"] for n in hints.get("forNodes") or ()),
                )
            )
    return pods


def from_manifest(manifest: Any, *, service: str | None = None) -> ManifestSpec:
    """Read a Service, its EndpointSlices and the Nodes into a model.

    Parameters
    ----------
    manifest : path, str, dict or list
        A file or text of YAML/JSON objects, or already-parsed objects.
    service : str, optional
        The Service's name when the manifest holds several.

    Returns
    -------
    ManifestSpec
        ``service``, ``layout`` (Nodes from Node objects; a node named by an endpoint
        but missing from them gets the endpoint's zone and unknown CPU) and ``skipped``.

    Examples
    --------
    >>> doc = '''
    ... kind: Service
    ... metadata: {name: web, namespace: shop}
    ... spec: {type: LoadBalancer, externalTrafficPolicy: Local}
    ... ---
    ... kind: EndpointSlice
    ... metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}
    ... endpoints:
    ... - {addresses: [10.0.0.1], nodeName: n1, zone: a}
    ... - {addresses: [10.0.0.2], nodeName: n1, zone: a}
    ... - {addresses: [10.0.0.3], nodeName: n2, zone: a}
    ... '''
    >>> spec = from_manifest(doc)
    >>> spec.service.external_traffic_policy, len(spec.layout.pods)
    ('Local', 3)
    """
    objects = _load(manifest)
    skipped: list[str] = []
    services = [o for o in objects if o.get("kind") == "Service"]
    if service is not None:
        services = [o for o in services if (o.get("metadata") or {}).get("name") == service]
    if len(services) != 1:
        names = [(o.get("metadata") or {}).get("name") for o in services]
        raise ValueError(
            f"manifest must hold exactly one Service (or name one with service=); found {names}"
        )
    svc_obj = services[0]
    name = svc_obj["metadata"]["name"]
    spec = _service(svc_obj)
    nodes: dict[str, Node] = {}
    slices = []
    for obj in objects:
        kind = obj.get("kind")
        if kind == "Node":
            node = _node(obj)
            nodes[node.name] = node
        elif kind == "EndpointSlice":
            labels = _field(obj, "metadata.labels", dict, {})
            if labels.get("kubernetes.io/service-name") == name and _same_namespace(obj, svc_obj):
                slices.append(obj)
            else:
                skipped.append(f"{_ident(obj)}: belongs to another Service")
        elif obj is not svc_obj:
            skipped.append(f"{_ident(obj)}: kind {kind!r} is not used by this model")
    slices = _primary_family_slices(svc_obj, slices, skipped)
    zones = {n: node.zone for n, node in nodes.items()}
    pods = _pods(slices, skipped, zones)
    for pod in pods:
        if pod.node not in nodes:
            nodes[pod.node] = Node(pod.node, zone=zones.get(pod.node, ""), cpu=0.0)
            skipped.append(f"Node {pod.node}: no Node object; zone from the endpoint, CPU unknown")
    if not nodes:
        raise ValueError(f"Service {name}: no Node objects and no endpoints with a nodeName")
    return ManifestSpec(name, spec, Layout(tuple(nodes.values()), tuple(pods)), tuple(skipped))

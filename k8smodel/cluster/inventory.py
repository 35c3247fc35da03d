"""Read a cluster dump into an :class:`Inventory`: one table per kind, the objects, the skips.

The rows come from :mod:`k8smodel.cluster.kinds`; this module reads the sources (always through
:func:`k8smodel.manifests.load_objects`), keeps one object per ``kind namespace/name``, links
pods to their workloads and Ingresses to their balancing method, and lists every object it
did not use with the reason.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from k8smodel.cluster.kinds import (
    CLUSTER_SCOPED,
    INGRESS_NGINX_DEFAULT_BALANCE,
    ROWS,
    Skip,
)
from k8smodel.manifests import DEFAULT_MAX_BYTES, ManifestError, load_objects

__all__ = ["Inventory", "KINDS", "read_dump"]

#: The kinds read, in the order tables are listed.
KINDS = tuple(ROWS)
_SUFFIXES = (".json", ".yaml", ".yml")
_SKIP_COLUMNS = ["source", "kind", "namespace", "name", "reason"]
_WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


@dataclass(frozen=True, eq=False)
class Inventory:
    """A cluster dump, read and checked.

    Attributes
    ----------
    tables : dict of str -> DataFrame
        One table per kind (``nodes``, ``pods``, ``services``, ``endpointslices``,
        ``ingresses``, ``ingress_nginx_configmaps``, ``deployments``, ``replicasets``,
        ``statefulsets``, ``daemonsets``, ``hpas``, ``pvcs``, ``pvs``, ``storageclasses``,
        ``csinodes``, ``networkpolicies``, ``namespaces``), each with ``namespace`` and
        ``name`` first; also reachable as attributes (``inv.nodes``).
    objects : dict of str -> tuple of dict
        The objects kept, by kind, as they were read: what each family's ``from_manifest``
        is given.
    skipped : DataFrame
        ``source, kind, namespace, name, reason`` for every object not used.
    sources : tuple of str
        What was read.
    """

    tables: Mapping[str, pd.DataFrame]
    objects: Mapping[str, tuple[dict, ...]]
    skipped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_SKIP_COLUMNS))
    sources: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(f"Inventory has no table {name!r}; tables: {sorted(tables)}")

    def objects_of(self, *kinds: str) -> list[dict]:
        """The kept objects of ``kinds`` (every kind when none is named), in reading order."""
        wanted = kinds or tuple(self.objects)
        return [obj for kind in wanted for obj in self.objects.get(kind, ())]

    def counts(self) -> pd.DataFrame:
        """Objects kept per kind, and skipped per kind."""
        skipped = self.skipped.groupby("kind").size() if len(self.skipped) else pd.Series(dtype=int)
        kinds = list(dict.fromkeys(list(self.objects) + list(skipped.index)))
        return pd.DataFrame(
            {
                "kind": kinds,
                "kept": [len(self.objects.get(k, ())) for k in kinds],
                "skipped": [int(skipped.get(k, 0)) for k in kinds],
            }
        )

    def workloads(self) -> pd.DataFrame:
        """Deployments, StatefulSets and DaemonSets with their pods, Services, HPA and claims.

        ``services``: Services in the namespace whose selector is non-empty and matches the
        pod template's labels (a Service selects pods by labels, ``pkg/controller/endpointslice``).
        """
        frames = []
        for kind in _WORKLOAD_KINDS:
            table = self.tables[ROWS[kind][0]]
            if len(table):
                frames.append(
                    table.assign(kind=kind)[
                        ["namespace", "name", "kind", "template_labels", "cpu_request"]
                    ].assign(
                        replicas=table["replicas"] if "replicas" in table else table["desired"]
                    )
                )
        if not frames:
            return pd.DataFrame(
                columns=[
                    "namespace",
                    "name",
                    "kind",
                    "replicas",
                    "pods",
                    "services",
                    "hpa",
                    "ingresses",
                ]
            )
        out = pd.concat(frames, ignore_index=True)
        pods = self.pods
        counts: Any = (
            pods.groupby(["namespace", "workload_kind", "workload"]).size() if len(pods) else {}
        )
        out["pods"] = [int(counts.get((r.namespace, r.kind, r.name), 0)) for r in rows(out)]
        by_ns: dict[str, list[tuple[str, dict]]] = {}
        for s in rows(self.services):
            if s.selector:  # a Service without a selector has hand-made endpoints
                by_ns.setdefault(s.namespace, []).append((s.name, s.selector))
        out["services"] = [
            tuple(
                name
                for name, sel in by_ns.get(r.namespace, ())
                if all(r.template_labels.get(k) == v for k, v in sel.items())
            )
            for r in rows(out)
        ]
        hpa_of = {(h.namespace, h.target_kind, h.target_name): h.name for h in rows(self.hpas)}
        out["hpa"] = [hpa_of.get((r.namespace, r.kind, r.name), "") for r in rows(out)]
        ingresses: dict[tuple[str, str], list[str]] = {}
        for i in rows(self.ingresses):
            for backend in i.backends:
                ingresses.setdefault((i.namespace, backend), []).append(i.name)
        out["ingresses"] = [
            tuple(
                dict.fromkeys(n for svc in services for n in ingresses.get((r.namespace, svc), ()))
            )
            for r, services in zip(rows(out), out["services"], strict=True)
        ]
        return out


def rows(table: pd.DataFrame) -> Iterator[Any]:
    """The rows of ``table`` as named tuples (typed loosely: columns vary by kind)."""
    return iter(table.itertuples())


def _expand(sources: Sequence[Any]) -> list[Any]:
    """Folders become their ``.json``/``.yaml``/``.yml`` files (sorted, recursively)."""
    out: list[Any] = []
    for source in sources:
        if _is_folder(source):
            files = sorted(p for p in Path(source).rglob("*") if p.suffix.lower() in _SUFFIXES)
            if not files:
                raise ManifestError(f"{source}: a folder with no .json, .yaml or .yml file")
            out += files
        else:
            out.append(source)
    return out


def _is_folder(source: Any) -> bool:
    if isinstance(source, str) and (
        len(source) > 4096 or source.lstrip()[:1] in ("{", "[") or "\n" in source
    ):
        return False  # YAML or JSON text, not a path
    try:
        return isinstance(source, str | os.PathLike) and Path(source).is_dir()
    except OSError:  # a name the file system refuses is not a folder
        return False


def _read(source: Any, max_bytes: int) -> tuple[str, list[dict]]:
    """``(name, objects)`` of one source, through the hardened loader."""
    if isinstance(source, Mapping):  # already parsed: still through the loader's checks
        return "<object>", load_objects(json.dumps(source), max_bytes=max_bytes)
    name = (
        str(source)
        if isinstance(source, str | os.PathLike) and len(str(source)) < 256
        else "<text>"
    )
    return name, load_objects(source, max_bytes=max_bytes)


def _identity(obj: Mapping) -> tuple[str, str, Any]:
    meta = obj.get("metadata")
    if not isinstance(meta, Mapping):
        return "", "", "metadata is missing or not a mapping"
    name = meta.get("name")
    namespace = meta.get("namespace", "")
    if not isinstance(name, str) or not name:
        return str(namespace or ""), "", "metadata.name is missing"
    if namespace is not None and not isinstance(namespace, str):
        return "", name, f"metadata.namespace must be a string; got {namespace!r}"
    return namespace or "", name, None


def read_dump(
    *sources: Any,
    strict: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Inventory:
    """Read a cluster dump (files, folders, text or parsed objects) into one :class:`Inventory`.

    Parameters
    ----------
    *sources : path, str, bytes, file object or mapping
        What ``kubectl get ... -A -o json|yaml`` printed: one ``List`` or several files (or a
        folder of them).
    strict : bool, default False
        Raise on the first object that cannot be used instead of listing it in ``skipped``.
    max_bytes : int
        Largest file read (:func:`k8smodel.manifests.load_objects`); raise it for huge dumps.

    Returns
    -------
    Inventory

    Raises
    ------
    k8smodel.manifests.ManifestError
        (a ``ValueError``) for a file that cannot be read: truncated JSON, invalid YAML,
        duplicate keys, over the size limits; the message names the file and the place.

    Examples
    --------
    >>> inv = read_dump('''{"kind": "List", "items": [
    ...   {"kind": "Node", "metadata": {"name": "n1",
    ...    "labels": {"topology.kubernetes.io/zone": "a"}},
    ...    "status": {"allocatable": {"cpu": "3500m"}}},
    ...   {"kind": "Widget", "metadata": {"name": "w"}}]}''')
    >>> inv.nodes[["name", "zone", "cpu_allocatable"]].values.tolist()
    [['n1', 'a', 3.5]]
    >>> inv.skipped.reason.tolist()
    ["kind 'Widget' is not read by the cluster inventory"]
    """
    if not sources:
        raise TypeError("read_dump needs at least one source (a file, folder, text or object)")
    rows: dict[str, list[dict]] = {kind: [] for kind in ROWS}
    kept: dict[str, list[dict]] = {kind: [] for kind in ROWS}
    seen: dict[tuple[str, str, str], dict] = {}
    skipped: list[dict] = []
    names: list[str] = []
    for source in _expand(sources):
        name, objects = _read(source, max_bytes)
        names.append(name)
        for obj in objects:
            kind = obj["kind"]
            namespace, obj_name, problem = _identity(obj)
            if problem is None and kind not in ROWS:
                problem = f"kind {kind!r} is not read by the cluster inventory"
            if problem is None:
                namespace = "" if kind in CLUSTER_SCOPED else (namespace or "default")
                key = (kind, namespace, obj_name)
                if key in seen:
                    same = seen[key] == obj
                    problem = (
                        "duplicate of an identical object read earlier"
                        if same
                        else "another object of this kind and name was read earlier; "
                        "the first is kept"
                    )
            if problem is None:
                try:
                    row = ROWS[kind][1](obj)
                except Skip as why:
                    problem = str(why)
            if problem is not None:
                where = f"{kind} {namespace + '/' if namespace else ''}{obj_name}"
                if strict:
                    raise ManifestError(f"{name}: {where}: {problem}")
                skipped.append(
                    dict(
                        zip(_SKIP_COLUMNS, (name, kind, namespace, obj_name, problem), strict=True)
                    )
                )
                continue
            seen[key] = obj
            rows[kind].append({"namespace": namespace, "name": obj_name, **row})
            kept[kind].append(obj)
    tables = {ROWS[kind][0]: _table(kind, rows[kind]) for kind in ROWS}
    _link_pods(tables)
    _resolve_balancing(tables)
    return Inventory(
        tables=tables,
        objects={kind: tuple(objs) for kind, objs in kept.items()},
        skipped=pd.DataFrame(skipped, columns=_SKIP_COLUMNS),
        sources=tuple(names),
    )


def _table(kind: str, rows: list[dict]) -> pd.DataFrame:
    if rows:
        return pd.DataFrame(rows)
    # An empty table still has its columns, read off a row of an empty object.
    try:
        columns = list(ROWS[kind][1]({"metadata": {"name": "x"}}))
    except Skip:
        columns = []
    return pd.DataFrame(columns=["namespace", "name", *columns])


def _link_pods(tables: dict[str, pd.DataFrame]) -> None:
    """Give each pod its workload: a ReplicaSet's owner Deployment, else the direct owner.

    Without the ReplicaSet in the dump, a ReplicaSet named ``<deployment>-<hash>`` whose
    Deployment exists is taken as that Deployment's (the Deployment controller names them so,
    ``pkg/controller/deployment/sync.go``, ``getNewReplicaSet``).
    """
    pods = tables["pods"]
    rs = tables["replicasets"]
    rs_owner = {(r.namespace, r.name): r.deployment for r in rows(rs)} if len(rs) else {}
    deployments = set(zip(tables["deployments"].namespace, tables["deployments"].name, strict=True))
    kinds, names = [], []
    for p in rows(pods):
        kind, name = p.owner_kind, p.owner_name
        if kind == "ReplicaSet":
            owner = rs_owner.get((p.namespace, name)) or name.rsplit("-", 1)[0]
            if (p.namespace, owner) in deployments:
                kind, name = "Deployment", owner
        kinds.append(kind)
        names.append(name)
    pods["workload_kind"] = kinds
    pods["workload"] = names


def _resolve_balancing(tables: dict[str, pd.DataFrame]) -> None:
    """Each Ingress's balancing method: its annotation, else the ConfigMap, else the default.

    ingress-nginx reads ``nginx.ingress.kubernetes.io/load-balance`` per Ingress
    (``internal/ingress/annotations/loadbalancing/main.go``, ``Parse``); an Ingress without it
    takes the controller ConfigMap's ``load-balance``, and with neither the Lua balancer uses
    ``round_robin`` (``rootfs/etc/nginx/lua/balancer.lua``, ``DEFAULT_LB_ALG``).
    """
    ing = tables["ingresses"]
    configs = tables["ingress_nginx_configmaps"]
    configured = [v for v in configs.get("load_balance", []) if v]
    global_value = configured[0] if configured else ""
    methods, origins = [], []
    for annotation in ing.get("load_balance_annotation", []):
        if annotation:
            methods.append(annotation)
            origins.append("annotation")
        elif global_value:
            methods.append(global_value)
            origins.append("configmap")
        else:
            methods.append(INGRESS_NGINX_DEFAULT_BALANCE)
            origins.append("default")
    ing["load_balance"] = methods
    ing["load_balance_source"] = origins

"""Load PersistentVolumes, claims, StorageClasses and StatefulSets from Kubernetes YAML or JSON.

Accepts single objects, multi-document YAML, ``kind: List`` (what ``kubectl get
... -o yaml`` prints) and typed lists such as ``PersistentVolumeList``. Files
and text are read by the hardened :func:`k8smodel.manifests.load_objects`. Each object becomes
one row of a tidy DataFrame; StatefulSets also expand their ``volumeClaimTemplates`` into one
claim per template and replica, named as the StatefulSet controller names them.

References
----------
* Kubernetes API: core/v1 PersistentVolume, PersistentVolumeClaim; storage/v1
  StorageClass; apps/v1 StatefulSet (https://kubernetes.io/docs/reference/kubernetes-api/).
* Claim names for StatefulSet pods: ``<template>-<statefulset>-<ordinal>``,
  kubernetes/kubernetes ``pkg/controller/statefulset/stateful_set_utils.go``
  (getPersistentVolumeClaimName); pod names ``<statefulset>-<ordinal>``.
* Storage class of an object: the beta annotation
  ``volume.beta.kubernetes.io/storage-class`` wins over ``spec.storageClassName``
  (``GetPersistentVolumeClaimClass`` / ``GetPersistentVolumeClass`` in
  ``staging/src/k8s.io/component-helpers/storage/volume/helpers.go``).
* A claim that names no class gets the default StorageClass at admission
  (``storageclass.kubernetes.io/is-default-class: "true"``; admission plugin
  ``plugin/pkg/admission/storage/storageclass/setdefault``); with several, the
  newest wins (``GetDefaultClass``, ``pkg/volume/util/storageclass.go``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pandas as pd

from k8smodel._validate import DEFAULT_MEMORY_BYTES, check_budget, check_real
from k8smodel.manifests import INT32_MAX, ManifestError, load_objects
from k8smodel.storage.quantity import parse_quantity
from k8smodel.storage.semantics import ACCESS_MODES, VOLUME_MODES
from k8smodel.storage.spec import CLAIM_SCHEMA, CLASS_SCHEMA, VOLUME_SCHEMA

__all__ = ["Manifests", "from_manifest", "default_class_name", "check_selector", "ACCESS_MODES"]

#: Operators of a metav1.LabelSelector's matchExpressions (LabelSelectorAsSelector).
SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
_BETA_CLASS = "volume.beta.kubernetes.io/storage-class"
_DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
_BETA_DEFAULT_CLASS = "storageclass.beta.kubernetes.io/is-default-class"

# The column lists are the one schema of spec.py.
VOLUME_COLUMNS = list(VOLUME_SCHEMA)
CLAIM_COLUMNS = list(CLAIM_SCHEMA)
CLASS_COLUMNS = list(CLASS_SCHEMA)
STS_COLUMNS = [
    "namespace",
    "name",
    "replicas",
    "template",
    "request_bytes",
    "storage_class",
    "access_modes",
]


@dataclass(frozen=True)
class Manifests:
    """Objects loaded by :func:`from_manifest`, one DataFrame per kind.

    Attributes
    ----------
    volumes : pandas.DataFrame
        PersistentVolumes. Columns: ``name``, ``capacity_bytes`` (int),
        ``storage_class`` (str, ``""`` for none), ``access_modes`` (tuple of
        str), ``volume_mode`` (``Filesystem`` or ``Block``), ``labels`` (dict),
        ``claim_ref_namespace``, ``claim_ref_name``, ``claim_ref_uid`` (str,
        ``""`` when not pre-bound), ``phase`` (``status.phase``, ``Available``
        when absent), ``deleting`` (bool, ``metadata.deletionTimestamp`` set).
    claims : pandas.DataFrame
        PersistentVolumeClaims, including those a StatefulSet will create.
        Columns: ``namespace``, ``name``, ``uid``, ``storage_class`` (str;
        ``None`` when unspecified and no default class exists),
        ``request_bytes`` (int), ``access_modes``, ``volume_mode``,
        ``selector`` (dict or None), ``volume_name`` (``spec.volumeName``,
        ``""`` if none), ``pod`` (the StatefulSet pod that will use it, ``""``
        otherwise), ``source`` (``PersistentVolumeClaim`` or
        ``StatefulSet/<name>``).
    storage_classes : pandas.DataFrame
        Columns: ``name``, ``provisioner``, ``volume_binding_mode``,
        ``reclaim_policy``, ``allow_volume_expansion``, ``is_default``,
        ``created`` (``metadata.creationTimestamp`` as a UTC
        ``pandas.Timestamp``, ``NaT`` if absent).
    statefulsets : pandas.DataFrame
        One row per StatefulSet and claim template: ``namespace``, ``name``,
        ``replicas``, ``template``, ``request_bytes``, ``storage_class``,
        ``access_modes``.
    """

    volumes: pd.DataFrame
    claims: pd.DataFrame
    storage_classes: pd.DataFrame
    statefulsets: pd.DataFrame


class _ObjectError(ValueError):
    pass


def _where(kind, meta) -> str:
    ns = meta.get("namespace") if isinstance(meta, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    return f"{kind} {ns + '/' if ns else ''}{name or '<unnamed>'}"


def _get(obj: dict, path: str, where: str, *, required=False, kind=None, default=None):
    cur: Any = obj
    for part in path.split("."):
        if cur is None:
            break
        if not isinstance(cur, dict):
            raise _ObjectError(f"{where}: field {path!r} must be inside a mapping; got {cur!r}")
        cur = cur.get(part)
    if cur is None:
        if required:
            raise _ObjectError(f"{where}: required field {path!r} is missing")
        return default
    if kind is not None and not isinstance(cur, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise _ObjectError(
            f"{where}: field {path!r} must be a {names}; got {type(cur).__name__} {cur!r}"
        )
    return cur


def _quantity(obj, path, where, *, required=True) -> int | None:
    raw = _get(obj, path, where, required=required)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise _ObjectError(f"{where}: field {path!r} must be a quantity; got {raw!r}")
    try:
        q = parse_quantity(str(raw) if not isinstance(raw, float) else repr(raw))
    except ValueError as err:
        raise _ObjectError(f"{where}: field {path!r}: {err}") from None
    if q < 0:
        raise _ObjectError(f"{where}: field {path!r} must be >= 0; got {raw!r}")
    return q.value


def _modes(obj, path, where) -> tuple[str, ...]:
    modes = _get(obj, path, where, kind=list, default=[])
    for m in modes:
        if m not in ACCESS_MODES:
            raise _ObjectError(f"{where}: field {path!r}: unknown access mode {m!r}")
    return tuple(m for m in ACCESS_MODES if m in modes)


def _volume_mode(obj, path, where) -> str:
    mode = _get(obj, path, where, kind=str, default="Filesystem")
    if mode not in VOLUME_MODES:
        raise _ObjectError(f"{where}: field {path!r} must be one of {VOLUME_MODES}; got {mode!r}")
    return mode


def _selector(obj, path, where):
    sel = _get(obj, path, where, kind=dict)
    if sel is None:
        return None
    ml = sel.get("matchLabels") or {}
    if not isinstance(ml, dict):
        raise _ObjectError(f"{where}: field '{path}.matchLabels' must be a mapping")
    exprs = sel.get("matchExpressions") or []
    if not isinstance(exprs, list):
        raise _ObjectError(f"{where}: field '{path}.matchExpressions' must be a list")
    try:
        check_selector({"matchLabels": ml, "matchExpressions": exprs}, f"{where}: field {path!r}")
    except ValueError as err:
        raise _ObjectError(str(err)) from None
    return {"matchLabels": {str(k): str(v) for k, v in ml.items()}, "matchExpressions": exprs}


def check_selector(selector, where: str) -> None:
    """Raise ValueError unless ``selector`` is a valid metav1.LabelSelector.

    As ``LabelSelectorAsSelector`` (apimachinery ``pkg/apis/meta/v1/helpers.go``)
    and ``labels.NewRequirement`` (``pkg/labels/selector.go``) require: every
    expression is a mapping with a string ``key`` and an ``operator`` among
    In, NotIn, Exists, DoesNotExist ("is not a valid label selector
    operator" otherwise); In and NotIn need a non-empty ``values`` list ("values
    set can't be empty"); Exists and DoesNotExist take none ("values set must be
    empty for exists and does not exist").
    """
    if selector is None:
        return
    if not isinstance(selector, dict):
        raise ValueError(f"{where}: a label selector must be a mapping; got {selector!r}")
    unknown = set(selector) - {"matchLabels", "matchExpressions"}
    if unknown:
        raise ValueError(
            f"{where}: unknown selector field(s) {sorted(unknown)}; "
            "allowed: matchLabels, matchExpressions"
        )
    ml = selector.get("matchLabels") or {}
    if not isinstance(ml, dict):
        raise ValueError(f"{where}.matchLabels must be a mapping; got {ml!r}")
    exprs = selector.get("matchExpressions") or []
    if not isinstance(exprs, list):
        raise ValueError(f"{where}.matchExpressions must be a list; got {exprs!r}")
    for i, e in enumerate(exprs):
        at = f"{where}.matchExpressions[{i}]"
        if not isinstance(e, dict):
            raise ValueError(f"{at} must be a mapping; got {e!r}")
        if not isinstance(e.get("key"), str) or not e.get("key"):
            raise ValueError(f"{at}: 'key' must be a non-empty string; got {e.get('key')!r}")
        op = e.get("operator")
        if op not in SELECTOR_OPERATORS:
            raise ValueError(
                f"{at}: {op!r} is not a valid label selector operator; "
                f"allowed: {', '.join(SELECTOR_OPERATORS)}"
            )
        values = e.get("values")
        if values is not None and not isinstance(values, (list, tuple)):
            raise ValueError(f"{at}: 'values' must be a list; got {values!r}")
        if op in ("In", "NotIn") and not values:
            raise ValueError(f"{at}: for 'In', 'NotIn' operators, values can't be empty")
        if op in ("Exists", "DoesNotExist") and values:
            raise ValueError(
                f"{at}: values must be empty for 'Exists' and 'DoesNotExist'; got {values!r}"
            )


def _class_of(obj, where) -> str | None:
    ann = _get(obj, "metadata.annotations", where, kind=dict, default={})
    if _BETA_CLASS in ann:
        return str(ann[_BETA_CLASS])
    cls = _get(obj, "spec.storageClassName", where, kind=str)
    return cls


def _volume_row(obj, where) -> dict:
    ref = _get(obj, "spec.claimRef", where, kind=dict, default={})
    return {
        "name": _get(obj, "metadata.name", where, required=True, kind=str),
        "capacity_bytes": _quantity(obj, "spec.capacity.storage", where),
        "storage_class": _class_of(obj, where) or "",
        "access_modes": _modes(obj, "spec.accessModes", where),
        "volume_mode": _volume_mode(obj, "spec.volumeMode", where),
        "labels": dict(_get(obj, "metadata.labels", where, kind=dict, default={})),
        "claim_ref_namespace": str(ref.get("namespace") or ("default" if ref else "")),
        "claim_ref_name": str(ref.get("name") or ""),
        "claim_ref_uid": str(ref.get("uid") or ""),
        "phase": _get(obj, "status.phase", where, kind=str, default="Available"),
        "deleting": _get(obj, "metadata.deletionTimestamp", where) is not None,
    }


def _claim_row(obj, where, *, namespace=None, name=None, pod="", source="PersistentVolumeClaim"):
    return {
        "namespace": namespace
        or _get(obj, "metadata.namespace", where, kind=str, default="default"),
        "name": name or _get(obj, "metadata.name", where, required=True, kind=str),
        "uid": str(_get(obj, "metadata.uid", where, default="")),
        "storage_class": _class_of(obj, where),
        "request_bytes": _quantity(obj, "spec.resources.requests.storage", where),
        "access_modes": _modes(obj, "spec.accessModes", where),
        "volume_mode": _volume_mode(obj, "spec.volumeMode", where),
        "selector": _selector(obj, "spec.selector", where),
        "volume_name": _get(obj, "spec.volumeName", where, kind=str, default=""),
        "pod": pod,
        "source": source,
    }


def _class_row(obj, where) -> dict:
    ann = _get(obj, "metadata.annotations", where, kind=dict, default={})
    mode = _get(obj, "volumeBindingMode", where, kind=str, default="Immediate")
    if mode not in ("Immediate", "WaitForFirstConsumer"):
        raise _ObjectError(f"{where}: field 'volumeBindingMode' is unknown: {mode!r}")
    return {
        "name": _get(obj, "metadata.name", where, required=True, kind=str),
        "provisioner": _get(obj, "provisioner", where, required=True, kind=str),
        "volume_binding_mode": mode,
        "reclaim_policy": _get(obj, "reclaimPolicy", where, kind=str, default="Delete"),
        "allow_volume_expansion": bool(_get(obj, "allowVolumeExpansion", where, default=False)),
        # IsDefaultAnnotation (pkg/volume/util/storageclass.go): exactly "true", GA or beta key
        "is_default": ann.get(_DEFAULT_CLASS) == "true" or ann.get(_BETA_DEFAULT_CLASS) == "true",
        "created": _timestamp(obj, "metadata.creationTimestamp", where),
    }


def _timestamp(obj, path, where):
    value = _get(obj, path, where, default=None)
    if value is None:
        return pd.NaT
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise _ObjectError(f"{where}: field {path!r} is not an RFC 3339 time: {value!r}") from None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def default_class_name(classes: pd.DataFrame) -> str | None:
    """The default StorageClass Kubernetes picks, or None.

    ``GetDefaultClass`` (kubernetes/kubernetes ``pkg/volume/util/storageclass.go``,
    used by the DefaultStorageClass admission plugin and the PV controller's
    retroactive defaulting): among classes whose ``is-default-class`` annotation
    (GA or beta key) is exactly ``"true"``, the newest by creationTimestamp,
    ties broken by name in ascending order. A class without a timestamp counts
    as the oldest (Go's zero time).
    """
    d = classes.loc[classes.is_default.astype(bool)]
    if d.empty:
        return None
    # sort key: has a timestamp (1) before none (0), then newest, then name ascending
    keys = [
        ((0, 0) if pd.isna(t) else (1, pd.Timestamp(t).value), str(n))
        for t, n in zip(d["created"], d["name"], strict=True)
    ]
    keys.sort(key=lambda k: (-k[0][0], -k[0][1], k[1]))
    return keys[0][1]


def _flatten(doc, origin: str):
    if doc is None:
        return
    if isinstance(doc, list):
        for d in doc:
            yield from _flatten(d, origin)
        return
    if not isinstance(doc, dict):
        raise ValueError(f"{origin}: expected a Kubernetes object (a mapping); got {doc!r}")
    kind = doc.get("kind")
    if isinstance(kind, str) and kind.endswith("List") and "items" in doc:
        items = doc["items"] or []
        if not isinstance(items, list):
            raise ValueError(f"{origin}: {kind}.items must be a list")
        item_kind = kind[: -len("List")] if kind != "List" else None
        for it in items:
            if isinstance(it, dict) and item_kind and "kind" not in it:
                it = {**it, "kind": item_kind}
            yield from _flatten(it, origin)
        return
    yield doc


def _read_documents(source) -> tuple[list, str]:
    """Parsed objects as given, or the objects of a file or text through the hardened loader."""
    if isinstance(source, (dict, list)):
        return [source], "<objects>"
    if isinstance(source, str) and _looks_like_missing_path(source):
        raise FileNotFoundError(f"no manifest file {source!r} (and it is not YAML/JSON text)")
    if not isinstance(source, (str, bytes, os.PathLike)) and not hasattr(source, "read"):
        raise TypeError(
            "source must be a path, YAML/JSON text, or parsed objects (dict or list); "
            f"got {type(source).__name__}"
        )
    try:
        objects = load_objects(source)
    except ManifestError as err:
        # the loader names the file; callers match "malformed YAML/JSON" for parse errors
        text = str(err)
        if "invalid YAML" in text or "invalid JSON" in text:
            text = text.replace("invalid YAML", "malformed YAML/JSON: invalid YAML")
            text = text.replace("invalid JSON", "malformed YAML/JSON: invalid JSON")
        raise ManifestError(text) from None
    return objects, _origin(source)


def _looks_like_missing_path(text: str) -> bool:
    stripped = text.strip()
    return (
        "\n" not in stripped
        and not stripped.startswith(("{", "[", "apiVersion", "kind"))
        and ": " not in stripped
        and not os.path.exists(stripped)
    )


def _origin(source) -> str:
    if isinstance(source, os.PathLike) or (isinstance(source, str) and os.path.exists(source)):
        return str(source)
    return "<text>"


def _replica_count(obj, where) -> int:
    """``spec.replicas`` (default 1): an int32 >= 0, as the apps/v1 API types it."""
    replicas = _get(obj, "spec.replicas", where, kind=int, default=1)
    if isinstance(replicas, bool):
        raise _ObjectError(f"{where}: field 'spec.replicas' must be an int; got bool {replicas!r}")
    if not 0 <= replicas <= INT32_MAX:
        raise _ObjectError(
            f"{where}: field 'spec.replicas' must be an int32 between 0 and {INT32_MAX}; "
            f"got {replicas}"
        )
    return replicas


#: Bytes one expanded StatefulSet claim costs while loading (a dict row, its strings, the
#: DataFrame row built from it): tracemalloc's peak is about 800 bytes a claim at 10**5 claims;
#: 2 KiB leaves room.
CLAIM_ROW_BYTES = 2048


def from_manifest(source, *, max_memory_bytes: float = DEFAULT_MEMORY_BYTES) -> Manifests:
    """Load Kubernetes storage objects into DataFrames.

    Parameters
    ----------
    source : str, pathlib.Path, dict or list
        A file path; YAML or JSON text (one or many ``---`` documents, a
        ``kind: List`` or a typed list such as ``PersistentVolumeList``); or
        objects already parsed into dicts. Other kinds (Pods, Services, ...)
        are ignored. Files and text are read by :func:`k8smodel.manifests.load_objects`
        (size, alias, nesting and duplicate-key limits).
    max_memory_bytes : float, optional
        The most the claims expanded from StatefulSets may take (about
        ``CLAIM_ROW_BYTES`` each); ``spec.replicas`` above int32 is always refused.

    Returns
    -------
    Manifests
        ``volumes``, ``claims`` (standalone claims first, in file order, then
        the claims of each StatefulSet by ordinal and template),
        ``storage_classes`` and ``statefulsets``; columns are documented on
        :class:`Manifests`.

    Raises
    ------
    ValueError
        On malformed YAML (naming the file), or a malformed object: the message
        names the kind, namespace/name and the field.
    FileNotFoundError
        If ``source`` is a string that is neither an existing file nor YAML text.

    Notes
    -----
    A claim without a storage class gets the default class, as the
    DefaultStorageClass admission plugin sets it: among the loaded classes
    annotated ``storageclass.kubernetes.io/is-default-class: "true"`` (or the
    beta key ``storageclass.beta.kubernetes.io/is-default-class``; the value
    must be exactly ``"true"``) the newest by ``metadata.creationTimestamp``,
    ties broken by name (``GetDefaultClass`` in kubernetes/kubernetes
    ``pkg/volume/util/storageclass.go``). With no default class its
    ``storage_class`` stays ``None``, which binding treats as ``""`` (only
    class-less PVs match).
    """
    max_memory_bytes = check_real(max_memory_bytes, "max_memory_bytes", minimum=0)
    docs, origin = _read_documents(source)
    vols, claims, classes, sts_rows, sts_claims = [], [], [], [], []
    expanded = 0
    for obj in _flatten(docs, origin):
        kind = obj.get("kind")
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        where = _where(kind, meta)
        if not isinstance(kind, str) or not kind:
            raise ValueError(
                f"{origin}: object {where.split(' ', 1)[1]} has no 'kind' field (got {kind!r}); "
                "every Kubernetes object needs one"
            )
        try:
            if kind == "PersistentVolume":
                vols.append(_volume_row(obj, where))
            elif kind == "PersistentVolumeClaim":
                claims.append(_claim_row(obj, where))
            elif kind == "StorageClass":
                classes.append(_class_row(obj, where))
            elif kind == "StatefulSet":
                ns = _get(obj, "metadata.namespace", where, kind=str, default="default")
                name = _get(obj, "metadata.name", where, required=True, kind=str)
                replicas = _replica_count(obj, where)
                templates = _get(obj, "spec.volumeClaimTemplates", where, kind=list, default=[])
                parsed = []
                for i, tpl in enumerate(templates):
                    if not isinstance(tpl, dict):
                        raise _ObjectError(f"{where}: spec.volumeClaimTemplates[{i}] is malformed")
                    tname = _get(tpl, "metadata.name", f"{where} template {i}", required=True)
                    twhere = f"{where} volumeClaimTemplate {tname}"
                    row = _claim_row(tpl, twhere, namespace=ns, name=tname)
                    parsed.append((tname, tpl, row))
                    sts_rows.append(
                        {
                            "namespace": ns,
                            "name": name,
                            "replicas": replicas,
                            "template": tname,
                            "request_bytes": row["request_bytes"],
                            "storage_class": row["storage_class"],
                            "access_modes": row["access_modes"],
                        }
                    )
                expanded += replicas * len(parsed)
                check_budget(
                    expanded * CLAIM_ROW_BYTES,
                    f"{where}: {replicas:,} replicas x {len(parsed)} volumeClaimTemplates "
                    f"({expanded:,} claims in all so far)",
                    limit_bytes=max_memory_bytes,
                    remedy=f"at most about {max_memory_bytes // CLAIM_ROW_BYTES:,} claims fit; "
                    "lower spec.replicas or raise max_memory_bytes",
                )
                for ordinal in range(replicas if parsed else 0):
                    pod = f"{name}-{ordinal}"
                    for tname, _tpl, row in parsed:
                        sts_claims.append(
                            {
                                **row,
                                "name": f"{tname}-{pod}",
                                "pod": pod,
                                "source": f"StatefulSet/{name}",
                            }
                        )
        except _ObjectError as err:
            raise ValueError(f"{origin}: {err}") from None
    classes_df = pd.DataFrame(classes, columns=CLASS_COLUMNS)
    # The StatefulSet controller creates a template's claim only when it is missing
    # (pkg/controller/statefulset/stateful_pod_control.go, createPersistentVolumeClaims: it
    # creates on NotFound), so a claim that already exists in the dump is not counted twice.
    existing = {(c.get("namespace"), c.get("name")) for c in claims}
    missing = [c for c in sts_claims if (c.get("namespace"), c.get("name")) not in existing]
    claims_df = pd.DataFrame(claims + missing, columns=CLAIM_COLUMNS)
    default = default_class_name(classes_df)
    if default is not None and len(claims_df):
        unset = claims_df.storage_class.isna()
        claims_df.loc[unset, "storage_class"] = default
    return Manifests(
        volumes=pd.DataFrame(vols, columns=VOLUME_COLUMNS),
        claims=claims_df,
        storage_classes=classes_df,
        statefulsets=pd.DataFrame(sts_rows, columns=STS_COLUMNS),
    )

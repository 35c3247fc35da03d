"""What the user describes: claims, volumes, storage classes, a static pool, a node.

Claims and volumes are tables (one row per object), because a cluster has thousands of
them; their columns and defaults are written once here (:data:`CLAIM_SCHEMA`,
:data:`VOLUME_SCHEMA`), and every path that builds or reads a table (``make_claims``,
``make_volumes``, ``from_manifest``, ``bind``) goes through :func:`claims_table` and
:func:`volumes_table`. Things a user states once (a pool layout, a node) are frozen
dataclasses validated through :mod:`k8smodel._validate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from k8smodel._validate import check_int, check_real, check_vector, describe
from k8smodel.storage.quantity import to_bytes
from k8smodel.storage.semantics import ACCESS_MODES, VOLUME_MODES

__all__ = [
    "GIB",
    "CLAIM_SCHEMA",
    "CLASS_SCHEMA",
    "VOLUME_PHASES",
    "VOLUME_SCHEMA",
    "Node",
    "StaticPool",
    "claims_table",
    "class_table",
    "make_claims",
    "make_volumes",
    "volumes_table",
]

GIB = 1 << 30
#: PersistentVolume phases (core/v1 PersistentVolumePhase).
VOLUME_PHASES = ("Pending", "Available", "Bound", "Released", "Failed")

#: Claim columns and their defaults, in order (``request_bytes`` is required).
CLAIM_SCHEMA: dict[str, Any] = {
    "namespace": "default",
    "name": None,  # claim-<i>
    "uid": "",
    "storage_class": "",
    "request_bytes": None,
    "access_modes": ("ReadWriteOnce",),
    "volume_mode": "Filesystem",
    "selector": None,
    "volume_name": "",
    "pod": "",
    "source": "PersistentVolumeClaim",
}
#: Volume columns and their defaults, in order (``capacity_bytes`` is required).
VOLUME_SCHEMA: dict[str, Any] = {
    "name": None,  # pv-<i>
    "capacity_bytes": None,
    "storage_class": "",
    "access_modes": ("ReadWriteOnce",),
    "volume_mode": "Filesystem",
    "labels": None,
    "claim_ref_namespace": "",
    "claim_ref_name": "",
    "claim_ref_uid": "",
    "phase": "Available",
    "deleting": False,
}
#: StorageClass columns and their defaults (``name`` and ``provisioner`` are required).
CLASS_SCHEMA: dict[str, Any] = {
    "name": None,
    "provisioner": None,
    "volume_binding_mode": "Immediate",
    "reclaim_policy": "Delete",
    "allow_volume_expansion": False,
    "is_default": False,
    "created": None,
}


def _modes(value: Any, where: str) -> tuple[str, ...]:
    modes = (value,) if isinstance(value, str) else tuple(value)
    for m in modes:
        if m not in ACCESS_MODES:
            raise ValueError(f"{where}: unknown access mode {m!r}; allowed: {ACCESS_MODES}")
    return modes


def _volume_mode(value: Any, where: str) -> str:
    if value not in VOLUME_MODES:
        raise ValueError(f"{where} must be one of {VOLUME_MODES}; got {value!r}")
    return str(value)


def _sizes(values: Any, name: str) -> np.ndarray:
    """to_bytes with errors naming ``name`` instead of ``values``."""
    if values is None or isinstance(values, bool | float):
        raise TypeError(
            f"{name} must be quantity strings or whole numbers of bytes; got {values!r}"
        )
    try:
        return to_bytes(values)
    except (ValueError, TypeError) as err:
        msg = str(err)
        msg = msg.replace("values[", f"{name}[", 1) if "values[" in msg else f"{name}: {msg}"
        raise type(err)(msg) from None


def _is_missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and x != x)


def _table(df: Any, name: str, schema: Mapping[str, Any], size_col: str, prefix: str):
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame; got {type(df).__name__}")
    if size_col not in df.columns:
        raise ValueError(f"{name} needs a {size_col!r} column; has {list(df.columns)}")
    out = df.copy().reset_index(drop=True)
    n = len(out)
    if out[size_col].dtype.kind not in "iu":  # quantity strings, floats: parse and check
        out[size_col] = _sizes(out[size_col].tolist(), f"{name}.{size_col}") if n else []
    out[size_col] = out[size_col].astype(np.int64)
    if (out[size_col] < 0).any():
        i = int(np.flatnonzero(out[size_col].to_numpy() < 0)[0])
        raise ValueError(f"{name}.{size_col}[{i}] is negative: {out[size_col].iloc[i]}")
    if "name" not in out.columns:
        out["name"] = [f"{prefix}-{i}" for i in range(n)]
    for col, default in schema.items():
        if col in (size_col, "name"):
            continue
        if col not in out.columns:
            out[col] = [default] * n
        elif n and (missing := out[col].isna().to_numpy()).any():
            out[col] = [default if m else x for x, m in zip(out[col], missing, strict=True)]
    checked: dict[tuple, tuple[str, ...]] = {}  # validate each distinct mode set once
    modes = out["access_modes"].tolist()
    for i, m in enumerate(modes):
        if not isinstance(m, tuple) or m not in checked:
            valid = _modes(m, f"{name}[{i}].access_modes")
            checked[valid] = valid
            modes[i] = valid
    out["access_modes"] = pd.Series(modes, index=out.index, dtype=object)
    out["storage_class"] = out["storage_class"].astype(str)
    bad = ~out["volume_mode"].isin(VOLUME_MODES).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        _volume_mode(out["volume_mode"].iloc[i], f"{name}.volume_mode[{i}]")
    extra = [c for c in out.columns if c not in schema]
    return out[list(schema) + extra]


def claims_table(claims: pd.DataFrame) -> pd.DataFrame:
    """A claims table in the one schema: defaults filled, sizes in bytes, values checked.

    Raises
    ------
    TypeError, ValueError
        Naming ``claims.<column>[<row>]``, the value and what is allowed.
    """
    from k8smodel.storage.manifest import check_selector

    out = _table(claims, "claims", CLAIM_SCHEMA, "request_bytes", "claim")
    for i, sel in enumerate(out["selector"].tolist()):
        if sel:
            check_selector(sel, f"claims.selector[{i}]")
    out["pod"] = out["pod"].astype(str)
    out["volume_name"] = out["volume_name"].astype(str)
    return out


def volumes_table(volumes: pd.DataFrame) -> pd.DataFrame:
    """A volumes table in the one schema (see :func:`claims_table`)."""
    out = _table(volumes, "volumes", VOLUME_SCHEMA, "capacity_bytes", "pv")
    for i, ph in enumerate(out["phase"].tolist()):
        if ph not in VOLUME_PHASES:
            raise ValueError(f"volumes.phase[{i}] must be one of {VOLUME_PHASES}; got {ph!r}")
    out["deleting"] = out["deleting"].astype(bool)
    return out


def class_table(storage_classes: pd.DataFrame | None) -> dict[str, dict[str, Any]]:
    """StorageClasses by name: ``provisioner`` and ``volume_binding_mode`` (default Immediate)."""
    if storage_classes is None:
        return {}
    if not isinstance(storage_classes, pd.DataFrame):
        raise TypeError(
            "storage_classes must be a DataFrame (Manifests.storage_classes) or None; "
            f"got {type(storage_classes).__name__}"
        )
    for col in ("name", "provisioner"):
        if col not in storage_classes.columns:
            raise ValueError(f"storage_classes needs a {col!r} column")
    return {
        str(row["name"]): {
            "provisioner": str(row["provisioner"]),
            "volume_binding_mode": row.get("volume_binding_mode") or "Immediate",
        }
        for row in storage_classes.to_dict("records")
    }


def _per_item(values: Any, n: int, name: str) -> list:
    out = list(values)
    if len(out) != n:
        raise ValueError(f"{name} must have one entry per item ({n}); got {len(out)}")
    return out


def make_claims(
    request_bytes: Any,
    *,
    storage_class: str = "",
    access_modes: Any = ("ReadWriteOnce",),
    volume_mode: str = "Filesystem",
    namespace: str = "default",
    prefix: str = "claim",
    pod: Any = None,
) -> pd.DataFrame:
    """Build a claims table for :func:`~k8smodel.storage.bind` from request sizes.

    Parameters
    ----------
    request_bytes : array_like of int or quantity strings
        One request per claim, in arrival order.
    storage_class, access_modes, volume_mode, namespace : keyword-only
        The same for every claim.
    prefix : str, keyword-only
        Claims are named ``<prefix>-<i>``.
    pod : array_like of str, optional, keyword-only
        The pod that uses each claim (for ``WaitForFirstConsumer``). Default: no pod,
        so a delayed claim stays Pending (``waiting_for_first_consumer``) unless a PV is
        pre-bound to it.

    Returns
    -------
    pandas.DataFrame
        With the columns of :data:`CLAIM_SCHEMA`.

    Examples
    --------
    >>> make_claims(["1Gi", "10G"])[["name", "request_bytes"]].values.tolist()
    [['claim-0', 1073741824], ['claim-1', 10000000000]]
    """
    req = _sizes(request_bytes, "request_bytes")
    n = req.size
    modes = _modes(access_modes, "access_modes")
    _volume_mode(volume_mode, "volume_mode")
    pods = _per_item(pod, n, "pod") if pod is not None else [""] * n
    return claims_table(
        pd.DataFrame(
            {
                "namespace": [namespace] * n,
                "name": [f"{prefix}-{i}" for i in range(n)],
                "storage_class": [storage_class] * n,
                "request_bytes": req,
                "access_modes": [modes] * n,
                "volume_mode": [volume_mode] * n,
                "pod": pods,
            }
        )
    )


def make_volumes(
    capacity_bytes: Any,
    *,
    storage_class: str = "",
    access_modes: Any = ("ReadWriteOnce",),
    volume_mode: str = "Filesystem",
    prefix: str = "pv",
    labels: Any = None,
) -> pd.DataFrame:
    """Build an Available, unbound volumes table from capacities.

    Parameters
    ----------
    capacity_bytes : array_like of int or quantity strings
        One capacity per PersistentVolume.
    storage_class, access_modes, volume_mode : keyword-only
        The same for every volume.
    prefix : str, keyword-only
        Volumes are named ``<prefix>-<i>``.
    labels : list of dict, optional, keyword-only
        Labels per volume.

    Returns
    -------
    pandas.DataFrame
        With the columns of :data:`VOLUME_SCHEMA`.

    Examples
    --------
    >>> make_volumes(["10Gi"]).capacity_bytes.tolist()
    [10737418240]
    """
    cap = _sizes(capacity_bytes, "capacity_bytes")
    n = cap.size
    modes = _modes(access_modes, "access_modes")
    _volume_mode(volume_mode, "volume_mode")
    labs = _per_item(labels, n, "labels") if labels is not None else [{} for _ in range(n)]
    return volumes_table(
        pd.DataFrame(
            {
                "name": [f"{prefix}-{i}" for i in range(n)],
                "capacity_bytes": cap,
                "storage_class": [storage_class] * n,
                "access_modes": [modes] * n,
                "volume_mode": [volume_mode] * n,
                "labels": labs,
            }
        )
    )


@dataclass(frozen=True)
class StaticPool:
    """PV sizes an administrator pre-creates, and how many per expected claim.

    Attributes
    ----------
    tiers_bytes : tuple of int
        The PV sizes on offer, ascending.
    overprovision : float
        PVs per expected claim in each tier (>= 0).

    Examples
    --------
    >>> StaticPool(tiers_bytes=(100 * 2**30, 10 * 2**30)).tiers_bytes == (10 * 2**30, 100 * 2**30)
    True
    """

    tiers_bytes: tuple[int, ...]
    overprovision: float = 1.3

    def __post_init__(self) -> None:
        tiers = check_vector(self.tiers_bytes, "tiers_bytes", minimum=0, lower_open=True)
        if (tiers != np.round(tiers)).any():
            raise ValueError(f"tiers_bytes must be whole numbers; got {describe(self.tiers_bytes)}")
        ints = sorted(int(t) for t in self.tiers_bytes)
        object.__setattr__(self, "tiers_bytes", tuple(ints))
        over = check_real(self.overprovision, "overprovision", minimum=0)
        object.__setattr__(self, "overprovision", over)


@dataclass(frozen=True)
class Node:
    """A node (or disk) that hosts volumes: a storage budget and an attach limit.

    Attributes
    ----------
    capacity_bytes : int
        Storage the node offers to volumes (> 0).
    attach_limit : int or None
        Volumes the CSI driver lets it attach (``CSINode`` allocatable count); None for
        no limit. :func:`~k8smodel.storage.attach_limit` reads it for a cloud type.

    Examples
    --------
    >>> Node(capacity_bytes=500 * 2**30, attach_limit=25).attach_limit
    25
    """

    capacity_bytes: int
    attach_limit: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "capacity_bytes", check_int(self.capacity_bytes, "capacity_bytes", minimum=1)
        )
        if self.attach_limit is not None:
            object.__setattr__(
                self, "attach_limit", check_int(self.attach_limit, "attach_limit", minimum=1)
            )

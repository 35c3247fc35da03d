"""How PersistentVolumeClaims bind to PersistentVolumes, and what that wastes.

Reproduces the PV controller (``Immediate`` binding) and the scheduler's
VolumeBinding plugin (``WaitForFirstConsumer``) on tables of claims and
volumes, claim by claim in arrival order, plus dynamic provisioning rounded
to the provider's allocation unit.

The rules, read off kubernetes/kubernetes:

* ``FindMatchingVolume`` (``staging/src/k8s.io/component-helpers/storage/
  volume/pv_helpers.go``): skip volumes whose ``claimRef`` names another
  claim, whose capacity is below the request, whose ``volumeMode`` differs
  (unset means ``Filesystem``) or that are being deleted; a volume pre-bound
  to this claim (``claimRef`` = the claim; its UID too when set) is returned
  at once; in the controller's delayed-binding path unbound volumes are then
  skipped; otherwise the volume must be ``Available``, match the claim's label
  selector and its storage class, and (scheduler path only) offer every
  requested access mode. Among the rest the smallest capacity wins; equal
  capacities are met in map order, which is random: here ``rng`` breaks ties.
* ``findByClaim`` (``pkg/controller/volume/persistentvolume/index.go``): the
  controller indexes PVs by their exact access-mode set, keeps the sets that
  contain every requested mode, sorts them by number of modes (fewest first;
  equal sizes in random order) and returns the first set's match. So a
  claim for RWO takes the smallest RWO-only PV before any RWO+ROX PV, even a
  smaller one, and a PV pre-bound to the claim only wins inside its own set.
* ``syncUnboundClaim`` (``pkg/controller/volume/persistentvolume/
  pv_controller.go``): a claim with ``spec.volumeName`` waits for that PV and
  binds it if it is already bound to the claim (no further check), or if it
  is unbound and satisfies the claim (``checkVolumeSatisfyClaim``: not being
  deleted, size, class, volume mode, access modes); a
  claim whose class has ``volumeBindingMode: WaitForFirstConsumer`` is
  matched with ``delayBinding=true``, so the controller still binds a PV
  pre-bound to it (``FindMatchingVolume`` returns it before skipping unbound
  PVs), with or without a pod; anything else is left to the scheduler, and a
  claim no pod uses stays Pending ("waiting for first consumer to be created
  before binding", ``emitEventForUnboundDelayBindingClaim``); a claim with no
  match is dynamically provisioned if its class has a provisioner, else it
  stays Pending.
* ``findMatchingVolumes`` (``pkg/scheduler/framework/plugins/volumebinding/
  binder.go``): one pod's unbound delayed claims are sorted by increasing
  request and matched one by one over the PVs of their class, excluding PVs
  already chosen for the pod; claims left over must be provisionable, or the
  pod cannot be scheduled and none of its delayed claims binds.
* Provisioning: the size is the request rounded up to the driver's unit;
  the AWS EBS, GCE PD and Azure Disk CSI drivers allocate whole GiB
  (``util.RoundUpGiB`` in kubernetes-sigs/aws-ebs-csi-driver,
  ``common.BytesToGbRoundUp`` in gcp-compute-persistent-disk-csi-driver,
  ``volumehelper.RoundUpGiB`` in azuredisk-csi-driver). Per-disk-type minimum
  sizes are not modelled.

Node affinity and topology are not modelled (every node is taken to satisfy
every PV), nor is capacity tracking of provisioners.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

from k8smodel._random import as_generator
from k8smodel.storage.manifests import ACCESS_MODES, VOLUME_MODES, check_selector
from k8smodel.storage.quantity import to_bytes

__all__ = [
    "BindingResult",
    "bind",
    "make_claims",
    "make_volumes",
    "PROVISION_UNIT_BYTES",
    "NO_PROVISIONER",
]

GIB = 1 << 30
NO_PROVISIONER = "kubernetes.io/no-provisioner"
#: Allocation unit of known provisioners (the CSI drivers round requests up to whole GiB).
PROVISION_UNIT_BYTES = {
    "ebs.csi.aws.com": GIB,
    "kubernetes.io/aws-ebs": GIB,
    "pd.csi.storage.gke.io": GIB,
    "kubernetes.io/gce-pd": GIB,
    "disk.csi.azure.com": GIB,
    "kubernetes.io/azure-disk": GIB,
}
_MODE_BIT = {m: 1 << i for i, m in enumerate(ACCESS_MODES)}
_MODES = ("Immediate", "WaitForFirstConsumer", "auto")
#: PersistentVolume phases (core/v1 PersistentVolumePhase).
VOLUME_PHASES = ("Pending", "Available", "Bound", "Released", "Failed")


@dataclass(frozen=True)
class BindingResult:
    """The outcome of :func:`bind`.

    Attributes
    ----------
    bindings : pandas.DataFrame
        One row per bound claim, in binding order: ``namespace``, ``claim``,
        ``volume``, ``requested_bytes``, ``capacity_bytes``, ``wasted_bytes``
        (capacity minus request), ``how`` (``static``, ``prebound`` or
        ``provisioned``), ``path`` (``controller`` or ``scheduler``).
    pending : pandas.DataFrame
        One row per claim left Pending: ``namespace``, ``claim``,
        ``requested_bytes``, ``reason`` (a short code: ``no_matching_volume``
        (no PV fits and the class cannot provision), ``class_not_found``,
        ``volume_not_found``, ``volume_bound_elsewhere``,
        ``volume_does_not_satisfy_claim``, ``pod_unschedulable``,
        ``unbound_immediate_claims``, ``waiting_for_first_consumer`` (a delayed
        claim no pod uses)) and ``detail`` (a sentence).
    volumes : pandas.DataFrame
        The static volumes after binding (``claim_ref_*`` and ``phase`` updated).
    """

    bindings: pd.DataFrame
    pending: pd.DataFrame
    volumes: pd.DataFrame

    @property
    def summary(self) -> pd.Series:
        """Totals over the run.

        ``bound``, ``pending``, ``bound_static``, ``bound_provisioned``,
        ``requested_bytes`` (of bound claims), ``provisioned_bytes`` (capacity
        they hold), ``wasted_bytes``, ``wasted_fraction`` (wasted / provisioned)
        and ``pending_bytes``.
        """
        b = self.bindings
        prov = int(b.capacity_bytes.sum()) if len(b) else 0
        wasted = int(b.wasted_bytes.sum()) if len(b) else 0
        return pd.Series(
            {
                "bound": len(b),
                "pending": len(self.pending),
                "bound_static": int((b.how != "provisioned").sum()) if len(b) else 0,
                "bound_provisioned": int((b.how == "provisioned").sum()) if len(b) else 0,
                "requested_bytes": int(b.requested_bytes.sum()) if len(b) else 0,
                "provisioned_bytes": prov,
                "wasted_bytes": wasted,
                "wasted_fraction": wasted / prov if prov else float("nan"),
                "pending_bytes": int(self.pending.requested_bytes.sum())
                if len(self.pending)
                else 0,
            },
            dtype=object,  # keep counts and bytes as exact ints
        )


def _modes_tuple(value, where) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    modes = tuple(value)
    for m in modes:
        if m not in _MODE_BIT:
            raise ValueError(f"{where}: unknown access mode {m!r}; allowed: {ACCESS_MODES}")
    return modes


def _check_volume_mode(value, where) -> str:
    if value not in VOLUME_MODES:
        raise ValueError(f"{where} must be one of {VOLUME_MODES}; got {value!r}")
    return value


def _per_item(values, n: int, name: str) -> list:
    out = list(values)
    if len(out) != n:
        raise ValueError(f"{name} must have one entry per item ({n}); got {len(out)}")
    return out


def _sizes(values, name: str) -> np.ndarray:
    """to_bytes with errors naming ``name`` instead of ``values``."""
    try:
        return to_bytes(values)
    except (ValueError, TypeError) as err:
        msg = str(err).replace("values[", f"{name}[", 1)
        raise type(err)(msg) from None


def make_claims(
    request_bytes,
    *,
    storage_class: str = "",
    access_modes=("ReadWriteOnce",),
    volume_mode: str = "Filesystem",
    namespace: str = "default",
    prefix: str = "claim",
    pod=None,
) -> pd.DataFrame:
    """Build a claims table for :func:`bind` from request sizes.

    Parameters
    ----------
    request_bytes : array_like of int or quantity strings
        One request per claim, in arrival order.
    storage_class, access_modes, volume_mode, namespace : keyword-only
        The same for every claim.
    prefix : str, keyword-only
        Claims are named ``<prefix>-<i>``.
    pod : array_like of str, optional, keyword-only
        The pod that uses each claim (for ``WaitForFirstConsumer``). Default:
        ``""`` for every claim, meaning no pod uses it, so a delayed claim stays
        Pending (``waiting_for_first_consumer``) unless a PV is pre-bound to it.

    Returns
    -------
    pandas.DataFrame
        With the claim columns of :class:`storage.Manifests`.
    """
    req = _sizes(request_bytes, "request_bytes")
    n = req.size
    modes = _modes_tuple(access_modes, "access_modes")
    _check_volume_mode(volume_mode, "volume_mode")
    pods = _per_item(pod, n, "pod") if pod is not None else [""] * n
    return pd.DataFrame(
        {
            "namespace": [namespace] * n,
            "name": [f"{prefix}-{i}" for i in range(n)],
            "uid": [""] * n,
            "storage_class": [storage_class] * n,
            "request_bytes": req,
            "access_modes": [modes] * n,
            "volume_mode": [volume_mode] * n,
            "selector": [None] * n,
            "volume_name": [""] * n,
            "pod": pods,
            "source": ["PersistentVolumeClaim"] * n,
        }
    )


def make_volumes(
    capacity_bytes,
    *,
    storage_class: str = "",
    access_modes=("ReadWriteOnce",),
    volume_mode: str = "Filesystem",
    prefix: str = "pv",
    labels=None,
) -> pd.DataFrame:
    """Build an Available, unbound volumes table for :func:`bind` from capacities.

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
        With the volume columns of :class:`storage.Manifests`.
    """
    cap = _sizes(capacity_bytes, "capacity_bytes")
    n = cap.size
    modes = _modes_tuple(access_modes, "access_modes")
    _check_volume_mode(volume_mode, "volume_mode")
    labs = _per_item(labels, n, "labels") if labels is not None else [{} for _ in range(n)]
    return pd.DataFrame(
        {
            "name": [f"{prefix}-{i}" for i in range(n)],
            "capacity_bytes": cap,
            "storage_class": [storage_class] * n,
            "access_modes": [modes] * n,
            "volume_mode": [volume_mode] * n,
            "labels": labs,
            "claim_ref_namespace": [""] * n,
            "claim_ref_name": [""] * n,
            "claim_ref_uid": [""] * n,
            "phase": ["Available"] * n,
            "deleting": [False] * n,
        }
    )


_CLAIM_DEFAULTS = {
    "namespace": "default",
    "uid": "",
    "storage_class": "",
    "access_modes": ("ReadWriteOnce",),
    "volume_mode": "Filesystem",
    "selector": None,
    "volume_name": "",
    "pod": "",
}
_VOLUME_DEFAULTS = {
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


def _normalise(df, name: str, size_col: str, defaults: dict, prefix: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame; got {type(df).__name__}")
    if size_col not in df.columns:
        raise ValueError(f"{name} needs a {size_col!r} column; has {list(df.columns)}")
    out = df.copy().reset_index(drop=True)
    out[size_col] = (
        _sizes(out[size_col].tolist(), f"{name}.{size_col}") if len(out) else np.zeros(0, np.int64)
    )
    if "name" not in out.columns:
        out["name"] = [f"{prefix}-{i}" for i in range(len(out))]
    for col, default in defaults.items():
        if col not in out.columns:
            out[col] = [default for _ in range(len(out))]
        else:  # cells left empty (NaN/None) take the default too
            out[col] = [
                default if (x is None or (isinstance(x, float) and x != x)) else x for x in out[col]
            ]
    if (out[size_col] < 0).any():
        i = int(np.flatnonzero(out[size_col].to_numpy() < 0)[0])
        raise ValueError(f"{name}.{size_col}[{i}] is negative: {out[size_col].iloc[i]}")
    out["access_modes"] = [
        _modes_tuple(m, f"{name}[{i}].access_modes") for i, m in enumerate(out["access_modes"])
    ]
    out["storage_class"] = [("" if c is None or c != c else str(c)) for c in out["storage_class"]]
    for i, m in enumerate(out["volume_mode"]):
        _check_volume_mode(m, f"{name}.volume_mode[{i}]")
    if "phase" in defaults:
        for i, ph in enumerate(out["phase"]):
            if ph not in VOLUME_PHASES:
                raise ValueError(f"{name}.phase[{i}] must be one of {VOLUME_PHASES}; got {ph!r}")
    if "selector" in defaults:
        for i, sel in enumerate(out["selector"]):
            check_selector(sel or None, f"{name}.selector[{i}]")
    return out


def _selector_matches(selector, labels: dict) -> bool:
    """``metav1.LabelSelectorAsSelector`` semantics: matchLabels AND every expression."""
    if not selector:
        return True
    labels = labels or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e["key"], e["operator"], set(e.get("values") or [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _class_table(storage_classes) -> dict[str, dict]:
    if storage_classes is None:
        return {}
    if not isinstance(storage_classes, pd.DataFrame):
        raise TypeError("storage_classes must be a DataFrame (Manifests.storage_classes) or None")
    for col in ("name", "provisioner"):
        if col not in storage_classes.columns:
            raise ValueError(f"storage_classes needs a {col!r} column")
    table = {}
    for row in storage_classes.to_dict("records"):
        table[str(row["name"])] = {
            "provisioner": str(row["provisioner"]),
            "volume_binding_mode": row.get("volume_binding_mode") or "Immediate",
        }
    return table


def bind(
    claims: pd.DataFrame,
    volumes: pd.DataFrame,
    *,
    mode: str = "auto",
    storage_classes: pd.DataFrame | None = None,
    provision_unit_bytes: int | None = None,
    rng=None,
) -> BindingResult:
    """Bind claims to volumes as the PV controller and the scheduler do.

    Parameters
    ----------
    claims : pandas.DataFrame
        Claims in arrival order: at least ``request_bytes`` (ints or quantity
        strings); optional columns as in :class:`storage.Manifests` (missing
        ones default to namespace ``default``, class ``""``, ``ReadWriteOnce``,
        ``Filesystem``, no selector, no ``volume_name``, no pod).
    volumes : pandas.DataFrame
        Existing PersistentVolumes: at least ``capacity_bytes``; optional
        columns as in :class:`storage.Manifests` (defaults: class ``""``,
        ``ReadWriteOnce``, ``Filesystem``, no labels, unbound, ``Available``).
    mode : {"auto", "Immediate", "WaitForFirstConsumer"}, keyword-only
        ``auto`` takes each claim's binding mode from its StorageClass (a
        missing class means ``Immediate``, as ``IsDelayBindingMode`` does);
        the other two force one path for every claim.
    storage_classes : pandas.DataFrame, optional, keyword-only
        ``name``, ``provisioner`` and ``volume_binding_mode`` per class. Without
        it no claim can be dynamically provisioned.
    provision_unit_bytes : int, optional, keyword-only
        Round provisioned sizes up to this unit. Default: the provisioner's
        unit from :data:`PROVISION_UNIT_BYTES` (whole GiB for EBS, GCE PD and
        Azure Disk), else 1 byte.
    rng : int, Generator, SeedSequence or None, keyword-only
        Breaks ties the real controller leaves to map iteration order (equal
        capacities; access-mode sets with as many modes).

    Returns
    -------
    BindingResult
        ``bindings``, ``pending``, the updated ``volumes`` and ``summary``.

    Raises
    ------
    ValueError, TypeError
        On missing columns, negative sizes, unknown access modes or an unknown ``mode``.

    Notes
    -----
    Each claim costs O(number of volumes) in numpy. See the module docstring
    for the rules and their sources.

    References
    ----------
    kubernetes/kubernetes: ``staging/src/k8s.io/component-helpers/storage/volume/
    pv_helpers.go`` (FindMatchingVolume, CheckVolumeModeMismatches,
    CheckAccessModes, IsVolumeBoundToClaim); ``pkg/controller/volume/
    persistentvolume/index.go`` (findByClaim, allPossibleMatchingAccessModes);
    ``pv_controller.go`` (syncUnboundClaim); ``pkg/scheduler/framework/plugins/
    volumebinding/binder.go`` (findMatchingVolumes, checkVolumeProvisions).
    """
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}; got {mode!r}")
    if provision_unit_bytes is not None and (
        isinstance(provision_unit_bytes, bool)
        or not isinstance(provision_unit_bytes, numbers.Integral)
        or provision_unit_bytes < 1
    ):
        raise ValueError(f"provision_unit_bytes must be an int >= 1; got {provision_unit_bytes!r}")
    c = _normalise(claims, "claims", "request_bytes", _CLAIM_DEFAULTS, "claim")
    v = _normalise(volumes, "volumes", "capacity_bytes", _VOLUME_DEFAULTS, "pv")
    classes = _class_table(storage_classes)
    gen = as_generator(rng)
    n_c, n_v = len(c), len(v)
    tie_u = gen.random(n_c)
    group_keys = gen.random((n_c, 1 << len(ACCESS_MODES)))

    # ---- volume arrays
    cap = v["capacity_bytes"].to_numpy(np.int64)
    vmask = np.array([sum(_MODE_BIT[m] for m in ms) for ms in v["access_modes"]], dtype=np.int64)
    class_codes: dict[str, int] = {}
    vclass = np.array([class_codes.setdefault(s, len(class_codes)) for s in v["storage_class"]])
    vclass = vclass.astype(np.int64) if n_v else np.zeros(0, np.int64)
    vblock = (v["volume_mode"].fillna("Filesystem") == "Block").to_numpy()
    available = (v["phase"] == "Available").to_numpy().copy()
    deleting = v["deleting"].astype(bool).to_numpy()
    key_of = {(ns, nm): i for i, (ns, nm) in enumerate(zip(c["namespace"], c["name"], strict=True))}
    ref = np.full(n_v, -1, dtype=np.int64)  # -1 unbound, -2 another claim, else claim index
    for j, (ns, nm, uid) in enumerate(
        zip(v["claim_ref_namespace"], v["claim_ref_name"], v["claim_ref_uid"], strict=True)
    ):
        if nm:
            i = key_of.get((ns or "default", nm))
            ok = i is not None and (not uid or uid == c.at[i, "uid"])
            ref[j] = i if ok else -2
    name_to_vol = {nm: j for j, nm in enumerate(v["name"])}
    groups = np.unique(vmask) if n_v else np.zeros(0, np.int64)

    # ---- claim arrays
    req = c["request_bytes"].to_numpy(np.int64)
    cmask = np.array([sum(_MODE_BIT[m] for m in ms) for ms in c["access_modes"]], dtype=np.int64)
    cclass = np.array([class_codes.get(s, -1) for s in c["storage_class"]], dtype=np.int64)
    cblock = (c["volume_mode"].fillna("Filesystem") == "Block").to_numpy()

    def delayed(i: int) -> bool:
        if mode != "auto":
            return mode == "WaitForFirstConsumer"
        cls = c.at[i, "storage_class"]
        return bool(cls) and classes.get(cls, {}).get("volume_binding_mode") == (
            "WaitForFirstConsumer"
        )

    def selector_mask(i: int) -> np.ndarray:
        sel = c.at[i, "selector"]
        if not sel:
            return np.ones(n_v, dtype=bool)
        return np.array([_selector_matches(sel, lab) for lab in v["labels"]], dtype=bool)

    def find_matching(i, subset, *, node: bool, delay: bool, excluded=None):
        """FindMatchingVolume over ``subset`` (a boolean mask); returns (index, prebound)."""
        base = subset & ~deleting & (cap >= req[i]) & (vblock == cblock[i])
        base &= (ref == -1) | (ref == i)
        if excluded is not None:
            base &= ~excluded
        pre = np.flatnonzero(base & (ref == i))
        if pre.size:
            return int(pre[int(tie_u[i] * pre.size)]), True
        if delay and not node:
            return -1, False
        cand = base & (ref == -1) & available & (vclass == cclass[i])
        if c.at[i, "selector"]:
            cand &= selector_mask(i)
        if node:
            cand &= (vmask & cmask[i]) == cmask[i]
        idx = np.flatnonzero(cand)
        if idx.size == 0:
            return -1, False
        smallest = idx[cap[idx] == cap[idx].min()]
        return int(smallest[int(tie_u[i] * smallest.size)]), False

    def find_by_claim(i, delay):
        """index.go findByClaim: access-mode sets with every requested mode, fewest first."""
        ok = groups[(groups & cmask[i]) == cmask[i]]
        if ok.size == 0:
            return -1, False
        pc = np.array([bin(int(g)).count("1") for g in ok])
        order = np.lexsort((group_keys[i, ok], pc))
        for g in ok[order]:
            j, pre = find_matching(i, vmask == g, node=False, delay=delay)
            if j >= 0:
                return j, pre
        return -1, False

    bindings: list[dict] = []
    pending: dict[int, tuple[str, str]] = {}
    bound_claim = np.zeros(n_c, dtype=bool)

    def do_bind(i, j, how, path):
        ref[j] = i
        available[j] = False
        bound_claim[i] = True
        bindings.append(
            {
                "namespace": c.at[i, "namespace"],
                "claim": c.at[i, "name"],
                "volume": v.at[j, "name"],
                "requested_bytes": int(req[i]),
                "capacity_bytes": int(cap[j]),
                "wasted_bytes": int(cap[j] - req[i]),
                "how": how,
                "path": path,
            }
        )

    def provision_unit(cls: str) -> int:
        """Allocation unit for a claim of class ``cls`` (the class can provision)."""
        if provision_unit_bytes is not None:
            return int(provision_unit_bytes)
        return PROVISION_UNIT_BYTES.get(classes[cls]["provisioner"], 1)

    def no_provision_reason(i) -> tuple[str, str] | None:
        cls = c.at[i, "storage_class"]
        if not cls:
            return (
                "no_matching_volume",
                "no persistent volumes available for this claim and no storage class is set",
            )
        if cls not in classes:
            return "class_not_found", f'storageclass.storage.k8s.io "{cls}" not found'
        if classes[cls]["provisioner"] == NO_PROVISIONER:
            return (
                "no_matching_volume",
                f"no matching volume, and class {cls!r} uses {NO_PROVISIONER}",
            )
        return None

    def do_provision(i, path):
        cls = c.at[i, "storage_class"]
        unit = provision_unit(cls)
        size = -(-int(req[i]) // unit) * unit
        bound_claim[i] = True
        bindings.append(
            {
                "namespace": c.at[i, "namespace"],
                "claim": c.at[i, "name"],
                "volume": f"pvc-{c.at[i, 'namespace']}-{c.at[i, 'name']}",
                "requested_bytes": int(req[i]),
                "capacity_bytes": size,
                "wasted_bytes": size - int(req[i]),
                "how": "provisioned",
                "path": path,
            }
        )

    def controller_named_volume(i):
        name = c.at[i, "volume_name"]
        j = name_to_vol.get(name)
        if j is None:
            pending[i] = ("volume_not_found", f"volume {name!r} requested by the claim not found")
            return
        if ref[j] == i:
            # IsVolumeBoundToClaim: the PV already names this claim; syncUnboundClaim finishes
            # the binding without checkVolumeSatisfyClaim.
            do_bind(i, j, "prebound", "controller")
            return
        if ref[j] != -1:
            pending[i] = ("volume_bound_elsewhere", f"volume {name!r} is bound to another claim")
            return
        problems = []
        if deleting[j]:  # checkVolumeSatisfyClaim checks the DeletionTimestamp first
            problems.append(f"the volume is marked for deletion {name!r}")
        if cap[j] < req[i]:
            problems.append("requested PV is too small")
        if vclass[j] != cclass[i]:
            problems.append("storageClassName does not match")
        if vblock[j] != cblock[i]:
            problems.append("incompatible volumeMode")
        if (vmask[j] & cmask[i]) != cmask[i]:
            problems.append("incompatible accessMode")
        if problems:
            pending[i] = ("volume_does_not_satisfy_claim", "; ".join(problems))
            return
        do_bind(i, j, "prebound", "controller")

    def controller(i):
        if c.at[i, "volume_name"]:
            controller_named_volume(i)
            return
        j, pre = find_by_claim(i, delay=False)
        if j >= 0:
            do_bind(i, j, "prebound" if pre else "static", "controller")
            return
        reason = no_provision_reason(i)
        if reason is None:
            do_provision(i, "controller")
        else:
            pending[i] = reason

    def controller_delayed(i) -> bool:
        """Controller pass for a delayed claim (syncUnboundClaim): only a pre-bound PV binds."""
        j, pre = find_by_claim(i, delay=True)
        if j >= 0:
            do_bind(i, j, "prebound", "controller")
            return True
        return False

    def scheduler(pod_claims: list[int], immediate_claims: list[int]):
        # The controller binds pre-bound PVs of delayed claims without waiting for a pod.
        pod_claims = [i for i in pod_claims if not controller_delayed(i)]
        if not pod_claims:
            return
        unbound_immediate = [i for i in immediate_claims if not bound_claim[i]]
        if unbound_immediate:
            for i in pod_claims:
                pending[i] = ("unbound_immediate_claims", "pod has unbound immediate claims")
            return
        order = sorted(pod_claims, key=lambda i: req[i])
        chosen = np.zeros(n_v, dtype=bool)
        matched, to_provision, failed = [], [], []
        for i in order:
            subset = vclass == cclass[i]
            j, pre = find_matching(i, subset, node=True, delay=True, excluded=chosen)
            if j >= 0:
                chosen[j] = True
                matched.append((i, j, pre))
            elif no_provision_reason(i) is None:
                to_provision.append(i)
            else:
                failed.append(i)
        if failed:
            for i in pod_claims:
                pending[i] = (
                    "pod_unschedulable",
                    "node(s) didn't find available persistent volumes to bind",
                )
            return
        for i, j, pre in matched:
            do_bind(i, j, "prebound" if pre else "static", "scheduler")
        for i in to_provision:
            do_provision(i, "scheduler")

    # ---- arrival order; a pod's delayed claims are handled when its first claim arrives
    pods = c["pod"].fillna("").astype(str).to_numpy()
    delayed_flags = np.array([delayed(i) for i in range(n_c)], dtype=bool)
    named = c["volume_name"].fillna("").astype(str).to_numpy() != ""
    pod_members: dict[str, list[int]] = {}
    for i in range(n_c):
        if pods[i]:
            pod_members.setdefault(pods[i], []).append(i)
    seen_pods = set()
    for i in range(n_c):
        if not delayed_flags[i] or named[i]:
            controller(i)
            continue
        if not pods[i]:
            # No pod uses the claim: only a pre-bound PV binds; otherwise it waits
            # (pv_controller.go emitEventForUnboundDelayBindingClaim).
            if not controller_delayed(i):
                pending[i] = (
                    "waiting_for_first_consumer",
                    "waiting for first consumer to be created before binding",
                )
            continue
        if pods[i] in seen_pods:
            continue
        seen_pods.add(pods[i])
        members = pod_members[pods[i]]
        delayed_members = [m for m in members if delayed_flags[m] and not named[m]]
        earlier_immediate = [m for m in members if m < i and m not in delayed_members]
        scheduler(delayed_members, earlier_immediate)

    pend_rows = [
        {
            "namespace": c.at[i, "namespace"],
            "claim": c.at[i, "name"],
            "requested_bytes": int(req[i]),
            "reason": pending[i][0],
            "detail": pending[i][1],
        }
        for i in sorted(pending)
        if not bound_claim[i]
    ]
    vout = v.copy()
    bound_vol = ref >= 0
    if n_v:
        vout.loc[bound_vol, "claim_ref_namespace"] = c["namespace"].to_numpy()[ref[bound_vol]]
        vout.loc[bound_vol, "claim_ref_name"] = c["name"].to_numpy()[ref[bound_vol]]
        newly = bound_vol & ~available & (v["phase"] == "Available").to_numpy()
        vout.loc[newly, "phase"] = "Bound"
    return BindingResult(
        bindings=pd.DataFrame(
            bindings,
            columns=[
                "namespace",
                "claim",
                "volume",
                "requested_bytes",
                "capacity_bytes",
                "wasted_bytes",
                "how",
                "path",
            ],
        ),
        pending=pd.DataFrame(
            pend_rows, columns=["namespace", "claim", "requested_bytes", "reason", "detail"]
        ),
        volumes=vout,
    )

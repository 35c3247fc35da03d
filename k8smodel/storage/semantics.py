"""The PV controller's and the scheduler's binding rules, one small pure function each.

Each function restates one rule of kubernetes/kubernetes and names its source file and
function. They work on plain values and numpy vectors over the candidate volumes (one
element per PersistentVolume), so each can be called and tested on its own;
:func:`k8smodel.storage.bind` composes them claim by claim.

Sources (kubernetes/kubernetes, read at HEAD; the commits the citations were checked at):

* ``staging/src/k8s.io/component-helpers/storage/volume/pv_helpers.go`` (109698ca):
  FindMatchingVolume, IsVolumeBoundToClaim, CheckVolumeModeMismatches, CheckAccessModes,
  IsDelayBindingMode.
* ``pkg/controller/volume/persistentvolume/index.go``: findByClaim,
  allPossibleMatchingAccessModes, byAccessModes.
* ``pkg/controller/volume/persistentvolume/pv_controller.go``: syncUnboundClaim,
  checkVolumeSatisfyClaim.
* ``pkg/scheduler/framework/plugins/volumebinding/binder.go`` (01aa0f3f):
  findMatchingVolumes, byPVCSize, checkVolumeProvisions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

__all__ = [
    "ACCESS_MODES",
    "NO_PROVISIONER",
    "PROVISION_UNIT_BYTES",
    "VOLUME_MODES",
    "access_mode_mask",
    "check_access_modes",
    "check_volume_satisfy_claim",
    "claims_by_size",
    "find_by_claim",
    "find_matching_volume",
    "is_delay_binding_mode",
    "is_volume_bound_to_claim",
    "matching_access_mode_sets",
    "provisioned_bytes",
    "provisioning_blocker",
    "selector_matches",
    "volume_mode_mismatch",
]

ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
VOLUME_MODES = ("Filesystem", "Block")
#: pv_helpers.go NotSupportedProvisioner: a class that cannot provision.
NO_PROVISIONER = "kubernetes.io/no-provisioner"
GIB = 1 << 30
#: Allocation unit of known provisioners (the CSI drivers round requests up to whole GiB:
#: util.RoundUpGiB in aws-ebs-csi-driver, common.BytesToGbRoundUp in the GCE PD driver,
#: volumehelper.RoundUpGiB in azuredisk-csi-driver).
PROVISION_UNIT_BYTES = {
    "ebs.csi.aws.com": GIB,
    "kubernetes.io/aws-ebs": GIB,
    "pd.csi.storage.gke.io": GIB,
    "kubernetes.io/gce-pd": GIB,
    "disk.csi.azure.com": GIB,
    "kubernetes.io/azure-disk": GIB,
}
_MODE_BIT = {m: 1 << i for i, m in enumerate(ACCESS_MODES)}


def access_mode_mask(modes: Iterable[str]) -> int:
    """The set of access modes as a bit mask (one bit per entry of :data:`ACCESS_MODES`).

    The PV controller indexes volumes by the string of their mode set
    (``accessModesIndexFunc`` in index.go); a mask is the same set in one integer.

    Examples
    --------
    >>> access_mode_mask(["ReadWriteOnce", "ReadOnlyMany"])
    3
    """
    mask = 0
    for mode in modes:
        if mode not in _MODE_BIT:
            raise ValueError(f"access mode must be one of {ACCESS_MODES}; got {mode!r}")
        mask |= _MODE_BIT[mode]
    return mask


def check_access_modes(claim_mask: int, volume_masks: Any) -> np.ndarray:
    """CheckAccessModes (pv_helpers.go): the volume offers every mode the claim asks for.

    Examples
    --------
    >>> check_access_modes(1, [1, 3, 4]).tolist()
    [True, True, False]
    """
    masks = np.asarray(volume_masks, dtype=np.int64)
    return (masks & claim_mask) == claim_mask


def volume_mode_mismatch(claim_mode: str, volume_modes: Any) -> np.ndarray:
    """CheckVolumeModeMismatches (pv_helpers.go): modes differ; unset counts as Filesystem.

    Examples
    --------
    >>> volume_mode_mismatch("Block", ["Filesystem", "", "Block"]).tolist()
    [True, True, False]
    """
    wanted = claim_mode or "Filesystem"
    modes = np.asarray([m or "Filesystem" for m in volume_modes], dtype=object)
    return modes != wanted


def is_volume_bound_to_claim(claim_ref: tuple[str, str, str], claim: tuple[str, str, str]) -> bool:
    """IsVolumeBoundToClaim (pv_helpers.go): the volume's claimRef names this claim.

    Both are ``(namespace, name, uid)``; an empty claimRef name means no claimRef. The
    namespace and name must be equal; the UID only when the claimRef carries one.

    Examples
    --------
    >>> is_volume_bound_to_claim(("default", "c", ""), ("default", "c", "u1"))
    True
    >>> is_volume_bound_to_claim(("default", "c", "u0"), ("default", "c", "u1"))
    False
    """
    ref_ns, ref_name, ref_uid = claim_ref
    ns, name, uid = claim
    if not ref_name or ref_name != name or (ref_ns or "default") != (ns or "default"):
        return False
    return not ref_uid or ref_uid == uid


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str] | None) -> bool:
    """A claim's label selector against a volume's labels (``metav1.LabelSelectorAsSelector``).

    ``matchLabels`` and every ``matchExpressions`` entry must hold (In, NotIn, Exists,
    DoesNotExist); an empty or missing selector matches everything.

    Examples
    --------
    >>> selector_matches({"matchLabels": {"tier": "gold"}}, {"tier": "gold", "zone": "a"})
    True
    >>> sel = {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["gold"]}]}
    >>> selector_matches(sel, {"tier": "gold"})
    False
    """
    if not selector:
        return True
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], set(expr.get("values") or [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def find_matching_volume(
    request_bytes: int,
    capacity_bytes: Any,
    *,
    bound_to_claim: Any,
    bound_elsewhere: Any,
    mode_mismatch: Any,
    deleting: Any,
    available: Any,
    class_matches: Any,
    selector_ok: Any = None,
    access_modes_ok: Any = None,
    excluded: Any = None,
    node: bool = False,
    delay_binding: bool = False,
    tie: float = 0.0,
) -> tuple[int, bool]:
    """FindMatchingVolume (pv_helpers.go): the volume a claim binds among candidates.

    Every vector has one entry per candidate volume. In the source's order: skip
    ``excluded`` volumes (the scheduler's chosen ones), volumes whose claimRef names
    another claim, volumes smaller than the request, a volume-mode mismatch and volumes
    being deleted. A volume pre-bound to the claim is returned at once. In the
    controller's delayed path (``delay_binding`` and no node) nothing else binds.
    Otherwise a volume must be Available, match the selector and the storage class and,
    on the scheduler path (``node``), offer every requested access mode; the smallest
    capacity wins.

    Parameters
    ----------
    request_bytes : int
        The claim's storage request.
    capacity_bytes : array_like of int
        Each volume's capacity.
    bound_to_claim, bound_elsewhere : array_like of bool, keyword-only
        claimRef names this claim (:func:`is_volume_bound_to_claim`) / another claim.
    mode_mismatch, deleting, available, class_matches : array_like of bool, keyword-only
        :func:`volume_mode_mismatch`; DeletionTimestamp set; phase Available; same class.
    selector_ok, access_modes_ok, excluded : array_like of bool, optional, keyword-only
        :func:`selector_matches` per volume (default: all); :func:`check_access_modes`
        (checked on the scheduler path only); volumes already chosen for the pod.
    node, delay_binding : bool, keyword-only
        Scheduler path (a node is given); the controller's delayed-binding call.
    tie : float in [0, 1), keyword-only
        Picks among equal smallest capacities (and among several pre-bound volumes); Go
        walks a map there, whose order is random.

    Returns
    -------
    (int, bool)
        Index of the chosen volume (-1 for none) and whether it was pre-bound.

    Examples
    --------
    >>> ok = [True] * 3
    >>> no = [False] * 3
    >>> find_matching_volume(8, [100, 10, 20], bound_to_claim=no, bound_elsewhere=no,
    ...     mode_mismatch=no, deleting=no, available=ok, class_matches=ok)
    (1, False)
    """
    cap = np.asarray(capacity_bytes, dtype=np.int64)
    base = (
        (cap >= request_bytes)
        & ~np.asarray(bound_elsewhere, bool)
        & ~np.asarray(mode_mismatch, bool)
        & ~np.asarray(deleting, bool)
    )
    if excluded is not None:
        base &= ~np.asarray(excluded, bool)
    pre = np.flatnonzero(base & np.asarray(bound_to_claim, bool))
    if pre.size:
        return int(pre[int(tie * pre.size)]), True
    if delay_binding and not node:
        return -1, False
    cand = (
        base
        & ~np.asarray(bound_to_claim, bool)
        & np.asarray(available, bool)
        & np.asarray(class_matches, bool)
    )
    if selector_ok is not None:
        cand &= np.asarray(selector_ok, bool)
    if node and access_modes_ok is not None:
        cand &= np.asarray(access_modes_ok, bool)
    idx = np.flatnonzero(cand)
    if idx.size == 0:
        return -1, False
    smallest = idx[cap[idx] == cap[idx].min()]
    return int(smallest[int(tie * smallest.size)]), False


def matching_access_mode_sets(
    index_masks: Iterable[int], requested_mask: int, tie_keys: Any = None
) -> list[int]:
    """AllPossibleMatchingAccessModes (index.go): the indexed mode sets to search, in order.

    Keeps the sets that contain every requested mode and sorts them by their number of
    modes, fewest first (``byAccessModes``). Sets with as many modes come in the order
    Go's unstable sort leaves them: ``tie_keys`` (one float per bit mask value, indexed
    by the mask) orders them; without it they keep ascending mask order.

    Examples
    --------
    >>> # index.go's comment: {RWO,ROX} (GCE PD) and {RWO,ROX,RWX} (NFS); a RWO claim
    >>> # searches both, the smaller set first; a RWX claim only the NFS set.
    >>> matching_access_mode_sets([0b011, 0b111], 0b001)
    [3, 7]
    >>> matching_access_mode_sets([0b011, 0b111], 0b100)
    [7]
    """
    sets = sorted({int(m) for m in index_masks if (int(m) & requested_mask) == requested_mask})
    keys = (lambda m: 0.0) if tie_keys is None else (lambda m: float(tie_keys[m]))
    return sorted(sets, key=lambda m: (bin(m).count("1"), keys(m)))


def find_by_claim(
    request_bytes: int,
    capacity_bytes: Any,
    *,
    volume_masks: Any,
    requested_mask: int,
    tie_keys: Any = None,
    delay_binding: bool = False,
    tie: float = 0.0,
    **checks: Any,
) -> tuple[int, bool]:
    """FindByClaim (index.go): search each matching access-mode set; the first match wins.

    The controller path: :func:`matching_access_mode_sets` gives the sets, and
    :func:`find_matching_volume` (without a node) runs over the volumes of each set in
    turn. So a claim for RWO takes the smallest RWO-only volume before any RWO+ROX one,
    even a smaller one. ``checks`` are the per-volume vectors of
    :func:`find_matching_volume`.

    Examples
    --------
    >>> ok, no = [True] * 2, [False] * 2
    >>> # a 10 Gi RWO+ROX volume and a 100 Gi RWO-only one; a 5 Gi RWO claim takes the latter
    >>> find_by_claim(5, [10, 100], volume_masks=[3, 1], requested_mask=1,
    ...     bound_to_claim=no, bound_elsewhere=no, mode_mismatch=no, deleting=no,
    ...     available=ok, class_matches=ok)
    (1, False)
    """
    masks = np.asarray(volume_masks, dtype=np.int64)
    cap = np.asarray(capacity_bytes, dtype=np.int64)
    arrays: dict[str, Any] = {k: (None if v is None else np.asarray(v)) for k, v in checks.items()}
    for group in matching_access_mode_sets(np.unique(masks), requested_mask, tie_keys):
        members = np.flatnonzero(masks == group)
        sub: dict[str, Any] = {k: (None if v is None else v[members]) for k, v in arrays.items()}
        j, pre = find_matching_volume(
            request_bytes, cap[members], delay_binding=delay_binding, tie=tie, **sub
        )
        if j >= 0:
            return int(members[j]), pre
    return -1, False


def check_volume_satisfy_claim(
    *,
    deleting: bool,
    capacity_bytes: int,
    request_bytes: int,
    class_matches: bool,
    mode_mismatch: bool,
    access_modes_ok: bool,
) -> list[str]:
    """CheckVolumeSatisfyClaim (pv_controller.go): why a named volume cannot serve a claim.

    Used when a claim names its volume (``spec.volumeName``) and the volume is unbound.
    Returns the problems in the source's order (an empty list: it satisfies the claim).

    Examples
    --------
    >>> check_volume_satisfy_claim(deleting=False, capacity_bytes=1, request_bytes=5,
    ...     class_matches=True, mode_mismatch=False, access_modes_ok=True)
    ['requested PV is too small']
    """
    problems = []
    if deleting:
        problems.append("the volume is marked for deletion")
    if capacity_bytes < request_bytes:
        problems.append("requested PV is too small")
    if not class_matches:
        problems.append("storageClassName does not match")
    if mode_mismatch:
        problems.append("incompatible volumeMode")
    if not access_modes_ok:
        problems.append("incompatible accessMode")
    return problems


def is_delay_binding_mode(storage_class: str, classes: Mapping[str, Mapping[str, Any]]) -> bool:
    """IsDelayBindingMode (pv_helpers.go): the claim's class binds WaitForFirstConsumer.

    No class, or a class that does not exist, means Immediate.

    Examples
    --------
    >>> classes = {"local": {"volume_binding_mode": "WaitForFirstConsumer"}}
    >>> is_delay_binding_mode("local", classes), is_delay_binding_mode("", classes)
    (True, False)
    """
    if not storage_class or storage_class not in classes:
        return False
    return classes[storage_class].get("volume_binding_mode") == "WaitForFirstConsumer"


def claims_by_size(request_bytes: Any) -> np.ndarray:
    """ByPVCSize (binder.go findMatchingVolumes): one pod's claims, smallest request first.

    Equal requests keep their order (Go's sort is not stable; the order of equal
    claims does not change which volumes the pod gets).

    Examples
    --------
    >>> claims_by_size([10, 5, 10, 1]).tolist()
    [3, 1, 0, 2]
    """
    return np.argsort(np.asarray(request_bytes, dtype=np.int64), kind="stable")


def provisioning_blocker(
    storage_class: str, classes: Mapping[str, Mapping[str, Any]]
) -> tuple[str, str] | None:
    """Why a claim with no matching volume cannot be provisioned, or None if it can.

    syncUnboundClaim (pv_controller.go) provisions only for a class that exists and
    whose provisioner is not ``kubernetes.io/no-provisioner``; checkVolumeProvisions
    (binder.go) asks the same on the scheduler path. Returns ``(reason, detail)``.

    Examples
    --------
    >>> provisioning_blocker("gp3", {"gp3": {"provisioner": "ebs.csi.aws.com"}}) is None
    True
    >>> provisioning_blocker("gold", {})[0]
    'class_not_found'
    """
    if not storage_class:
        return (
            "no_matching_volume",
            "no persistent volumes available for this claim and no storage class is set",
        )
    if storage_class not in classes:
        return "class_not_found", f'storageclass.storage.k8s.io "{storage_class}" not found'
    provisioner = classes[storage_class].get("provisioner") or ""
    if provisioner in ("", NO_PROVISIONER):
        return (
            "no_matching_volume",
            f"no matching volume, and class {storage_class!r} uses {NO_PROVISIONER}",
        )
    return None


def provisioned_bytes(request_bytes: int, unit_bytes: int) -> int:
    """The size a provisioner creates: the request rounded up to its allocation unit.

    The EBS, GCE PD and Azure Disk CSI drivers round to whole GiB (``util.RoundUpGiB``,
    ``common.BytesToGbRoundUp``, ``volumehelper.RoundUpGiB``).

    Examples
    --------
    >>> provisioned_bytes(1_500_000_000, 2**30) == 2 * 2**30
    True
    """
    return -(-int(request_bytes) // int(unit_bytes)) * int(unit_bytes)

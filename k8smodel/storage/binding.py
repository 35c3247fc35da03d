"""How PersistentVolumeClaims bind to PersistentVolumes, and what that wastes.

:func:`bind` replays the PV controller (``Immediate`` binding) and the scheduler's
VolumeBinding plugin (``WaitForFirstConsumer``) over tables of claims and volumes, claim
by claim in arrival order, with dynamic provisioning rounded to the provider's unit. Each
rule it applies is a named function of :mod:`k8smodel.storage.semantics`, cited there to
its kubernetes/kubernetes source; this module only keeps the state between claims (which
volumes are taken) and writes the tables.

The common case (a claim with no selector, no pre-bound volume and no named volume, on
the controller path) is answered from a per-access-mode-set index of free volumes sorted
by capacity, with a union-find "next free" pointer, in O(log n) per claim; it returns
what :func:`~k8smodel.storage.semantics.find_by_claim` returns (the tests check both
against a brute-force best fit).

Node affinity and topology are not modelled (every node is taken to satisfy every PV),
nor is capacity tracking of provisioners.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from k8smodel._random import as_generator
from k8smodel._validate import check_choice, check_int
from k8smodel.result import Result
from k8smodel.storage import semantics as sem
from k8smodel.storage.spec import claims_table, class_table, volumes_table

__all__ = ["BINDING_MODES", "BindingResult", "bind"]

BINDING_MODES = ("auto", "Immediate", "WaitForFirstConsumer")
_BINDING_COLUMNS = [
    "namespace",
    "claim",
    "volume",
    "request_bytes",
    "capacity_bytes",
    "wasted_bytes",
    "how",
    "path",
]
_PENDING_COLUMNS = ["namespace", "claim", "request_bytes", "reason", "detail"]


@dataclass(frozen=True, kw_only=True, eq=False)
class BindingResult(Result):
    """What :func:`bind` returns.

    ``summary`` has one row: ``bound``, ``pending``, ``bound_static``,
    ``bound_provisioned``, ``request_bytes`` (of bound claims), ``provisioned_bytes``
    (capacity they hold), ``wasted_bytes``, ``wasted_fraction`` (wasted / provisioned),
    ``pending_bytes``, ``method`` (``"pv_controller"``) and ``exact`` (True: the rules
    are replayed, not estimated; ties follow ``rng``).

    Attributes
    ----------
    bindings : pandas.DataFrame
        One row per bound claim, in binding order: ``namespace``, ``claim``, ``volume``,
        ``request_bytes``, ``capacity_bytes``, ``wasted_bytes``, ``how`` (``static``,
        ``prebound`` or ``provisioned``), ``path`` (``controller`` or ``scheduler``).
    pending : pandas.DataFrame
        One row per claim left Pending: ``namespace``, ``claim``, ``request_bytes``,
        ``reason`` (``no_matching_volume``, ``class_not_found``, ``volume_not_found``,
        ``volume_bound_elsewhere``, ``volume_does_not_satisfy_claim``,
        ``pod_unschedulable``, ``unbound_immediate_claims``,
        ``waiting_for_first_consumer``) and ``detail`` (a sentence).
    volumes : pandas.DataFrame
        The static volumes after binding (``claim_ref_*`` and ``phase`` updated).
    """

    bindings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_BINDING_COLUMNS))
    pending: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_PENDING_COLUMNS))
    volumes: pd.DataFrame = field(default_factory=pd.DataFrame)


def _summary(bindings: pd.DataFrame, pending: pd.DataFrame) -> pd.DataFrame:
    b = bindings
    provisioned = int(b.capacity_bytes.sum()) if len(b) else 0
    wasted = int(b.wasted_bytes.sum()) if len(b) else 0
    return pd.DataFrame(
        {
            "bound": [len(b)],
            "pending": [len(pending)],
            "bound_static": [int((b.how != "provisioned").sum()) if len(b) else 0],
            "bound_provisioned": [int((b.how == "provisioned").sum()) if len(b) else 0],
            "request_bytes": [int(b.request_bytes.sum()) if len(b) else 0],
            "provisioned_bytes": [provisioned],
            "wasted_bytes": [wasted],
            "wasted_fraction": [wasted / provisioned if provisioned else float("nan")],
            "pending_bytes": [int(pending.request_bytes.sum()) if len(pending) else 0],
            "method": ["pv_controller"],
            "exact": [True],
        }
    )


class _FreeIndex:
    """Free, unbound, Available volumes per (access-mode set, class, volume mode), by size.

    Within a bucket the volumes are sorted by (capacity, random key); ``nxt`` is a
    union-find pointer to the next free position, so "smallest free capacity >= r" is a
    binary search plus a near-constant find, and taking a volume is one assignment.
    """

    def __init__(self, keys: list[tuple], cap: np.ndarray, eligible: np.ndarray, order_key):
        self.buckets: dict[tuple, tuple[np.ndarray, np.ndarray, list[int]]] = {}
        self.where: dict[int, tuple[tuple, int]] = {}
        groups: dict[tuple, list[int]] = {}
        for j in np.flatnonzero(eligible).tolist():
            groups.setdefault(keys[j], []).append(j)
        for key, members in groups.items():
            m = np.asarray(members, dtype=np.int64)
            m = m[np.lexsort((order_key[m], cap[m]))]
            self.buckets[key] = (cap[m], m, list(range(m.size + 1)))
            for pos, j in enumerate(m.tolist()):
                self.where[j] = (key, pos)

    @staticmethod
    def _find(nxt: list[int], p: int) -> int:
        root = p
        while nxt[root] != root:
            root = nxt[root]
        while nxt[p] != root:
            nxt[p], p = root, nxt[p]
        return root

    def smallest_at_least(self, key: tuple, request: int) -> int:
        bucket = self.buckets.get(key)
        if bucket is None:
            return -1
        caps, members, nxt = bucket
        pos = self._find(nxt, int(np.searchsorted(caps, request, side="left")))
        return int(members[pos]) if pos < members.size else -1

    def take(self, j: int) -> None:
        if j in self.where:
            key, pos = self.where.pop(j)
            self.buckets[key][2][pos] = pos + 1


class _Binder:
    """The state one :func:`bind` call carries from claim to claim."""

    def __init__(self, c: pd.DataFrame, v: pd.DataFrame, classes, mode, unit, gen):
        self.c, self.v, self.classes, self.mode, self.unit = c, v, classes, mode, unit
        n_c, n_v = len(c), len(v)
        self.tie = gen.random(n_c)
        self.set_keys = gen.random((n_c, 1 << len(sem.ACCESS_MODES)))
        self.cap = v["capacity_bytes"].to_numpy(np.int64)
        self.vmask = np.array([sem.access_mode_mask(m) for m in v["access_modes"]], np.int64)
        self.vclass = v["storage_class"].to_numpy(object)
        self.vmode = v["volume_mode"].to_numpy(object)
        self.available = (v["phase"] == "Available").to_numpy().copy()
        self.deleting = v["deleting"].to_numpy(bool)
        self.req = c["request_bytes"].to_numpy(np.int64)
        self.cmask = np.array([sem.access_mode_mask(m) for m in c["access_modes"]], np.int64)
        self.ref = self._claim_refs()  # -1 unbound, -2 another claim, else claim index
        self.vname = v["name"].tolist()
        self.by_name = {nm: j for j, nm in enumerate(self.vname)}
        self.index_masks = np.unique(self.vmask) if n_v else self.vmask
        self._sets: dict[int, list[int]] = {}
        # claim columns as lists: per-claim DataFrame lookups would dominate the run time
        self.cns, self.cname, self.cuid = (c[k].tolist() for k in ("namespace", "name", "uid"))
        self.cclass, self.cmode = c["storage_class"].tolist(), c["volume_mode"].tolist()
        self.csel, self.cvol = c["selector"].tolist(), c["volume_name"].tolist()
        self.prebound = {int(i) for i in self.ref[self.ref >= 0]}
        self.free = _FreeIndex(
            [
                (int(m), cl, md)
                for m, cl, md in zip(self.vmask, self.vclass, self.vmode, strict=True)
            ],
            self.cap,
            (self.ref == -1) & self.available & ~self.deleting,
            gen.random(n_v),
        )
        self.bound = np.zeros(n_c, dtype=bool)
        self.rows: list[dict] = []
        self.pending: dict[int, tuple[str, str]] = {}

    def _claim_refs(self) -> np.ndarray:
        c, v = self.c, self.v
        key_of = {
            (ns, nm): i for i, (ns, nm) in enumerate(zip(c["namespace"], c["name"], strict=True))
        }
        ref = np.full(len(v), -1, dtype=np.int64)
        if not any(v["claim_ref_name"].tolist()):
            return ref
        cols = ("claim_ref_namespace", "claim_ref_name", "claim_ref_uid")
        refs = zip(*(v[k].tolist() for k in cols), strict=True)
        for j, (ns, nm, uid) in enumerate(refs):
            if nm:
                i = key_of.get((ns or "default", nm))
                ok = i is not None and sem.is_volume_bound_to_claim(
                    (ns, nm, uid), (str(c.at[i, "namespace"]), nm, str(c.at[i, "uid"]))
                )
                ref[j] = i if ok and i is not None else -2
        return ref

    # -- the per-volume checks of FindMatchingVolume for claim i
    def checks(self, i: int, *, node: bool) -> dict[str, Any]:
        sel = self.csel[i]
        return {
            "bound_to_claim": self.ref == i,
            "bound_elsewhere": (self.ref != -1) & (self.ref != i),
            "mode_mismatch": sem.volume_mode_mismatch(self.cmode[i], self.vmode),
            "deleting": self.deleting,
            "available": self.available,
            "class_matches": self.vclass == self.cclass[i],
            "selector_ok": None
            if not sel
            else np.array([sem.selector_matches(sel, lab) for lab in self.v["labels"]], bool),
            "access_modes_ok": sem.check_access_modes(int(self.cmask[i]), self.vmask)
            if node
            else None,
        }

    def find_by_claim(self, i: int, *, delay: bool) -> tuple[int, bool]:
        if not delay and i not in self.prebound and not self.csel[i]:
            return self._find_indexed(i), False
        return sem.find_by_claim(
            int(self.req[i]),
            self.cap,
            volume_masks=self.vmask,
            requested_mask=int(self.cmask[i]),
            tie_keys=self.set_keys[i],
            delay_binding=delay,
            tie=float(self.tie[i]),
            **self.checks(i, node=False),
        )

    def _find_indexed(self, i: int) -> int:
        cls, vmode = self.cclass[i], self.cmode[i]
        sets = self._sets.get(int(self.cmask[i]))
        if sets is None:
            sets = sem.matching_access_mode_sets(
                self.index_masks, int(self.cmask[i]), self.set_keys[i]
            )
            if len({bin(m).count("1") for m in sets}) == len(sets):  # no ties: same for all
                self._sets[int(self.cmask[i])] = sets
        for mask in sets:
            j = self.free.smallest_at_least((mask, cls, vmode), int(self.req[i]))
            if j >= 0:
                return j
        return -1

    # -- outcomes
    def do_bind(self, i: int, j: int, how: str, path: str) -> None:
        self.ref[j], self.available[j], self.bound[i] = i, False, True
        self.free.take(j)
        self._record(i, str(self.vname[j]), int(self.cap[j]), how, path)

    def do_provision(self, i: int, path: str) -> None:
        cls = self.cclass[i]
        unit = self.unit or sem.PROVISION_UNIT_BYTES.get(self.classes[cls]["provisioner"], 1)
        self.bound[i] = True
        name = f"pvc-{self.cns[i]}-{self.cname[i]}"
        self._record(i, name, sem.provisioned_bytes(int(self.req[i]), unit), "provisioned", path)

    def _record(self, i: int, volume: str, capacity: int, how: str, path: str) -> None:
        req = int(self.req[i])
        self.rows.append(
            dict(
                zip(
                    _BINDING_COLUMNS,
                    (self.cns[i], self.cname[i], volume, req, capacity)
                    + (capacity - req, how, path),
                    strict=True,
                )
            )
        )

    # -- the controller (syncUnboundClaim)
    def controller(self, i: int) -> None:
        if self.cvol[i]:
            self.named_volume(i)
            return
        j, pre = self.find_by_claim(i, delay=False)
        if j >= 0:
            self.do_bind(i, j, "prebound" if pre else "static", "controller")
            return
        blocker = sem.provisioning_blocker(self.cclass[i], self.classes)
        if blocker is None:
            self.do_provision(i, "controller")
        else:
            self.pending[i] = blocker

    def named_volume(self, i: int) -> None:
        name = self.cvol[i]
        j = self.by_name.get(name)
        if j is None:
            self.pending[i] = (
                "volume_not_found",
                f"volume {name!r} requested by the claim not found",
            )
        elif self.ref[j] == i:  # IsVolumeBoundToClaim: bind with no satisfy check
            self.do_bind(i, j, "prebound", "controller")
        elif self.ref[j] != -1:
            self.pending[i] = (
                "volume_bound_elsewhere",
                f"volume {name!r} is bound to another claim",
            )
        else:
            problems = sem.check_volume_satisfy_claim(
                deleting=bool(self.deleting[j]),
                capacity_bytes=int(self.cap[j]),
                request_bytes=int(self.req[i]),
                class_matches=self.vclass[j] == self.cclass[i],
                mode_mismatch=bool(sem.volume_mode_mismatch(self.cmode[i], [self.vmode[j]])[0]),
                access_modes_ok=bool(
                    sem.check_access_modes(int(self.cmask[i]), [self.vmask[j]])[0]
                ),
            )
            if problems:
                self.pending[i] = ("volume_does_not_satisfy_claim", "; ".join(problems))
            else:
                self.do_bind(i, j, "prebound", "controller")

    def controller_delayed(self, i: int) -> bool:
        """The controller's pass over a delayed claim: only a pre-bound volume binds."""
        j, _ = self.find_by_claim(i, delay=True)
        if j >= 0:
            self.do_bind(i, j, "prebound", "controller")
        return j >= 0

    # -- the scheduler (findMatchingVolumes, checkVolumeProvisions)
    def scheduler(self, pod_claims: list[int], immediate_claims: list[int]) -> None:
        pod_claims = [i for i in pod_claims if not self.controller_delayed(i)]
        if not pod_claims:
            return
        if any(not self.bound[i] for i in immediate_claims):
            for i in pod_claims:
                self.pending[i] = ("unbound_immediate_claims", "pod has unbound immediate claims")
            return
        order = [pod_claims[k] for k in sem.claims_by_size(self.req[pod_claims])]
        chosen = np.zeros(len(self.v), dtype=bool)
        matched, to_provision = [], []
        for i in order:
            j, pre = sem.find_matching_volume(
                int(self.req[i]),
                self.cap,
                excluded=chosen,
                node=True,
                delay_binding=True,
                tie=float(self.tie[i]),
                **self.checks(i, node=True),
            )
            if j >= 0:
                chosen[j] = True
                matched.append((i, j, pre))
            elif sem.provisioning_blocker(self.cclass[i], self.classes) is None:
                to_provision.append(i)
            else:
                for k in pod_claims:
                    self.pending[k] = (
                        "pod_unschedulable",
                        "node(s) didn't find available persistent volumes to bind",
                    )
                return
        for i, j, pre in matched:
            self.do_bind(i, j, "prebound" if pre else "static", "scheduler")
        for i in to_provision:
            self.do_provision(i, "scheduler")

    # -- arrival order; a pod's delayed claims are handled when its first claim arrives
    def run(self) -> None:
        c = self.c
        delayed = np.array(
            [
                self.mode == "WaitForFirstConsumer"
                or (self.mode == "auto" and sem.is_delay_binding_mode(cls, self.classes))
                for cls in c["storage_class"]
            ],
            dtype=bool,
        )
        pods = c["pod"].to_numpy(object)
        named = c["volume_name"].to_numpy(object) != ""
        members: dict[str, list[int]] = {}
        for i, p in enumerate(pods):
            if p:
                members.setdefault(p, []).append(i)
        seen: set[str] = set()
        for i in range(len(c)):
            if not delayed[i] or named[i]:
                self.controller(i)
            elif not pods[i]:
                if not self.controller_delayed(i):  # emitEventForUnboundDelayBindingClaim
                    self.pending[i] = (
                        "waiting_for_first_consumer",
                        "waiting for first consumer to be created before binding",
                    )
            elif pods[i] not in seen:
                seen.add(pods[i])
                group = members[pods[i]]
                delayed_members = [m for m in group if delayed[m] and not named[m]]
                earlier = [m for m in group if m < i and m not in delayed_members]
                self.scheduler(delayed_members, earlier)

    def result(self, params: dict) -> BindingResult:
        c, v = self.c, self.v
        pend = [
            (c.at[i, "namespace"], c.at[i, "name"], int(self.req[i])) + self.pending[i]
            for i in sorted(self.pending)
            if not self.bound[i]
        ]
        vout = v.copy()
        bound = self.ref >= 0
        if len(v):
            vout.loc[bound, "claim_ref_namespace"] = c["namespace"].to_numpy()[self.ref[bound]]
            vout.loc[bound, "claim_ref_name"] = c["name"].to_numpy()[self.ref[bound]]
            newly = bound & ~self.available & (v["phase"] == "Available").to_numpy()
            vout.loc[newly, "phase"] = "Bound"
        bindings = pd.DataFrame(self.rows, columns=_BINDING_COLUMNS)
        pending = pd.DataFrame(pend, columns=_PENDING_COLUMNS)
        notes = ("node affinity and topology are not modelled: every node reaches every PV",)
        return BindingResult(
            summary=_summary(bindings, pending),
            params=params,
            notes=notes,
            bindings=bindings,
            pending=pending,
            volumes=vout,
        )


def bind(
    claims: pd.DataFrame,
    volumes: pd.DataFrame,
    *,
    mode: str = "auto",
    storage_classes: pd.DataFrame | None = None,
    provision_unit_bytes: int | None = None,
    rng: Any = None,
) -> BindingResult:
    """Bind claims to volumes as the PV controller and the scheduler do.

    Parameters
    ----------
    claims : pandas.DataFrame
        Claims in arrival order: at least ``request_bytes`` (ints or quantity strings);
        other columns of :data:`~k8smodel.storage.spec.CLAIM_SCHEMA` take their defaults
        (namespace ``default``, class ``""``, ``ReadWriteOnce``, ``Filesystem``, no
        selector, no ``volume_name``, no pod).
    volumes : pandas.DataFrame
        Existing PersistentVolumes: at least ``capacity_bytes``; other columns of
        :data:`~k8smodel.storage.spec.VOLUME_SCHEMA` default to class ``""``,
        ``ReadWriteOnce``, ``Filesystem``, no labels, unbound, ``Available``.
    mode : {"auto", "Immediate", "WaitForFirstConsumer"}, keyword-only
        ``auto`` takes each claim's binding mode from its StorageClass
        (:func:`~k8smodel.storage.semantics.is_delay_binding_mode`); the other two force
        one path for every claim.
    storage_classes : pandas.DataFrame, optional, keyword-only
        ``name``, ``provisioner`` and ``volume_binding_mode`` per class. Without it no
        claim can be dynamically provisioned.
    provision_unit_bytes : int, optional, keyword-only
        Round provisioned sizes up to this unit. Default: the provisioner's unit from
        :data:`~k8smodel.storage.semantics.PROVISION_UNIT_BYTES` (whole GiB for EBS, GCE
        PD and Azure Disk), else 1 byte.
    rng : int, Generator, SeedSequence or None, keyword-only
        Breaks ties the real controller leaves to map iteration order (equal capacities;
        access-mode sets with as many modes).

    Returns
    -------
    BindingResult
        ``summary`` (one row), ``bindings``, ``pending`` and the updated ``volumes``.

    Raises
    ------
    TypeError, ValueError
        On missing columns, negative sizes, unknown access modes or an unknown ``mode``.

    Notes
    -----
    The rules and their sources are in :mod:`k8smodel.storage.semantics`: a controller
    claim takes :func:`~k8smodel.storage.semantics.find_by_claim`, a claim naming its
    volume :func:`~k8smodel.storage.semantics.check_volume_satisfy_claim`, one pod's
    delayed claims go through the scheduler in
    :func:`~k8smodel.storage.semantics.claims_by_size` order with
    :func:`~k8smodel.storage.semantics.find_matching_volume` on the node path, and
    unmatched claims are provisioned unless
    :func:`~k8smodel.storage.semantics.provisioning_blocker` says why not.

    Examples
    --------
    >>> from k8smodel.storage import make_claims, make_volumes
    >>> r = bind(make_claims(["8Gi"]), make_volumes(["100Gi", "10Gi", "20Gi"]), rng=0)
    >>> r.bindings[["claim", "volume", "wasted_bytes"]].values.tolist()
    [['claim-0', 'pv-1', 2147483648]]
    """
    check_choice(mode, "mode", BINDING_MODES)
    if provision_unit_bytes is not None:
        check_int(provision_unit_bytes, "provision_unit_bytes", minimum=1)
    c, v = claims_table(claims), volumes_table(volumes)
    binder = _Binder(
        c, v, class_table(storage_classes), mode, provision_unit_bytes, as_generator(rng)
    )
    binder.run()
    params = {
        "mode": mode,
        "claims": len(c),
        "volumes": len(v),
        "provision_unit_bytes": provision_unit_bytes,
    }
    return binder.result(params)

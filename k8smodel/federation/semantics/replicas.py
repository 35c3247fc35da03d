"""How Karmada and KubeFed divide a workload's replicas among member clusters.

Replica division, modelled rule for rule:

* **Karmada** ``PropagationPolicy`` with ``replicaSchedulingType: Divided``:
  ``Weighted`` by static weights or dynamically by each cluster's available
  replicas, and ``Aggregated`` (as few clusters as possible). Since the
  Webster-method migration (karmada-io/karmada issue #6739: PRs #6772, #6793,
  #6837; v1.16 per REFERENCE.md §4) the split is the Webster / Sainte-Laguë
  highest-averages method of ``pkg/util/helper/webstermethod.go``
  (``AllocateWebsterSeats``), with exact ties broken by a hash of the binding's UID
  (``tieBreakerByUID`` in ``pkg/util/helper/binding.go``). The older dispenser
  (``Dispenser.TakeByWeight``) is kept as ``"karmada-legacy"``.
* **KubeFed** ``ReplicaSchedulingPreference`` (archived 2023): weights,
  per-cluster min/max, estimated capacity and ``rebalance`` (default false),
  ``pkg/controller/util/planner/planner.go`` (``Planner.Plan``).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from k8smodel._validate import check_choice, check_int, describe
from k8smodel.manifests import INT32_MAX

__all__ = [
    "divide_replicas",
    "fnv32",
    "fnv32a",
    "karmada_legacy",
    "karmada_tie_order",
    "kubefed_plan",
    "webster",
]

_METHODS = (
    "karmada-static",
    "karmada-dynamic",
    "karmada-aggregated",
    "karmada-legacy",
    "kubefed",
)


def _sequence(values: Any, name: str) -> Any:
    """``values`` if it is a sized sequence (not a string), else a TypeError naming it."""
    if isinstance(values, str | bytes) or not hasattr(values, "__len__"):
        raise TypeError(
            f"{name} must be a sequence (one entry per cluster); got {describe(values)}"
        )
    return values


def _unique_names(names: Sequence[Any], name: str, size: int) -> list[str]:
    """``names`` as a list of ``size`` distinct strings."""
    out = [str(x) for x in names]
    if len(out) != size:
        raise ValueError(f"{name} must have one entry per cluster ({size}); got {len(out)}")
    if len(set(out)) != len(out):
        dup = sorted({x for x in out if out.count(x) > 1})
        raise ValueError(f"{name} must be distinct; {dup} repeat")
    return out


def _int_vector(
    values: Any, name: str, n: int | None = None, *, nonempty: bool = False
) -> np.ndarray:
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a 1-d sequence of whole numbers; got {values!r}") from None
    if nonempty and arr.ndim == 1 and arr.size == 0:
        raise ValueError(f"{name} must not be empty (one entry per cluster); got {values!r}")
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        exact = arr.dtype.kind == "f" and np.all(np.abs(arr) <= 2.0**53)  # int64-exact floats
        if arr.ndim == 1 and exact and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise ValueError(f"{name} must be a 1-d sequence of whole numbers; got {values!r}")
    if (arr < 0).any():
        raise ValueError(f"{name} must be >= 0; got {values!r}")
    if n is not None and arr.size != n:
        raise ValueError(f"{name} must have one entry per cluster ({n}); got {arr.size}")
    return arr.astype(np.int64)


def fnv32a(data: bytes) -> int:
    """32-bit FNV-1a hash (Go's ``hash/fnv.New32a``), Karmada's UID tie-break hash.

    Parameters
    ----------
    data : bytes
        Input.

    Returns
    -------
    int
        The hash, in ``[0, 2**32)``.

    Notes
    -----
    FNV-1a: start at 2166136261; per byte XOR the byte, then multiply by 16777619
    (mod 2^32) (Fowler, Noll, Vo; IETF draft-eastlake-fnv).

    Examples
    --------
    >>> fnv32a(b"a")
    3826002220
    """
    h = 2166136261
    for byte in data:
        h ^= byte
        h = (h * 16777619) & 0xFFFFFFFF
    return h


def karmada_tie_order(uid: str | None) -> str:
    """Which name order breaks Karmada's exact Webster ties for a binding with this UID.

    Parameters
    ----------
    uid : str or None
        The ResourceBinding's ``metadata.uid``; ``None`` or ``""`` when not known.

    Returns
    -------
    str
        ``"ascending"`` (the lexicographically smaller cluster name wins) or
        ``"descending"`` (the larger wins).

    Notes
    -----
    karmada-io/karmada ``pkg/util/helper/binding.go``, ``tieBreakerByUID``: an empty
    UID sorts names ascending; otherwise the FNV-1a hash of the UID picks descending
    when odd and ascending when even. Both first prefer the party with fewer seats.
    Half of real bindings (random UIDs) therefore get the mirrored split of an exact tie.

    Examples
    --------
    >>> karmada_tie_order("d43fdeeb-d750-4e2b-bee3-64eb94534f4c")
    'descending'
    """
    if uid is None or uid == "":
        return "ascending"
    if not isinstance(uid, str):
        raise TypeError(f"uid must be a string (a binding's metadata.uid); got {describe(uid)}")
    return "descending" if fnv32a(uid.encode()) & 1 else "ascending"


def _webster_floor(votes: np.ndarray, held: np.ndarray, seats: int) -> np.ndarray:
    """Seats every party surely gets: those whose quotient beats a divisor leaving <= ``seats``.

    Party ``i``'s quotients are ``v_i / (2 s + 1)`` for ``s >= held_i``; the count above a
    divisor ``t`` is ``max(0, ceil((v_i / t - 1) / 2) - held_i)``. Bisection finds a ``t``
    whose counts sum to at most ``seats``; a relative margin keeps float error on the safe
    side, so every seat counted here is among the top ``seats`` quotients (the exact loop
    hands out the rest).
    """
    if seats == 0 or votes.max(initial=0) == 0:
        return np.zeros_like(held)
    v = votes.astype(float)

    def counts(t: float) -> np.ndarray:
        x = np.ceil((v / t - 1.0) / 2.0)
        return np.maximum(x - held, 0.0)

    lo, hi = v.max() / (2.0 * (held.max(initial=0) + seats) + 1.0) / 4.0, v.max()
    for _ in range(80):  # counts(hi) <= seats always; shrink hi towards the true divisor
        mid = 0.5 * (lo + hi)
        if counts(mid).sum() <= seats:
            hi = mid
        else:
            lo = mid
    return counts(hi * (1 + 1e-9)).astype(np.int64)


def webster(
    seats: int,
    votes: Any,
    *,
    initial: Sequence[int] | None = None,
    names: Sequence[str] | None = None,
    uid: str | None = None,
) -> np.ndarray:
    """Webster / Sainte-Laguë apportionment as Karmada implements it.

    Parameters
    ----------
    seats : int
        New seats (replicas) to hand out.
    votes : sequence of int
        Votes (weights) per party (cluster), >= 0.
    initial : sequence of int, optional
        Seats each party holds already; they count in the divisors.
    names : sequence of str, optional
        Party names, used only to break exact ties; default ``"0", "1", ...``
        zero-padded so index order is kept.
    uid : str, optional
        The binding's UID: decides whether exact ties go to the smaller or the larger
        name (:func:`karmada_tie_order`). Without it, the smaller name wins.

    Returns
    -------
    numpy.ndarray
        Seats per party after the allocation (``initial`` included).

    Notes
    -----
    Seats go one at a time to the party with the largest ``votes / (2 s + 1)``
    (``s`` = seats held). Exact ties go to the party with fewer seats, then by name
    (``WebsterPriorityQueue.Less`` in karmada-io/karmada
    ``pkg/util/helper/webstermethod.go``; the UID's hash picks the name order,
    ``tieBreakerByUID`` in ``pkg/util/helper/binding.go``). A party with zero votes
    has priority 0 and only gets seats when every party has zero votes.
    Sainte-Laguë (1910); Balinski and Young, *Fair Representation*, 2nd ed., 2001.

    The bulk of the seats is counted at once against a divisor (:func:`_webster_floor`);
    the last few (at most about one per party) go one at a time through a heap keyed by
    the exact rational priority, so the result equals the seat-by-seat rule.

    Examples
    --------
    >>> webster(5, [1, 1], names=["A", "B"]).tolist()
    [3, 2]
    >>> webster(5, [1, 1], names=["A", "B"], uid="d43fdeeb-d750-4e2b-bee3-64eb94534f4c").tolist()
    [2, 3]
    """
    n_seats = check_int(seats, "seats", minimum=0, maximum=INT32_MAX)  # replicas are int32
    v = _int_vector(votes, "votes", nonempty=True)
    s = np.zeros_like(v) if initial is None else _int_vector(initial, "initial", v.size).copy()
    if v.size == 0:
        return s
    width = len(str(v.size))
    keys = (
        [str(i).zfill(width) for i in range(v.size)]
        if names is None
        else _unique_names(names, "names", v.size)
    )
    name_rank = np.argsort(np.argsort(np.array(keys, dtype=object)))
    if karmada_tie_order(uid) == "descending":
        name_rank = v.size - 1 - name_rank
    bulk = _webster_floor(v, s, n_seats)
    s += bulk
    heap = [
        (Fraction(-int(v[i]), 2 * int(s[i]) + 1), int(s[i]), int(name_rank[i]), i)
        for i in range(v.size)
    ]
    heapq.heapify(heap)
    for _ in range(n_seats - int(bulk.sum())):
        _, held, rank, i = heapq.heappop(heap)
        s[i] = held + 1
        heapq.heappush(heap, (Fraction(-int(v[i]), 2 * held + 3), held + 1, rank, i))
    return s


def karmada_legacy(
    replicas: int, weights: Any, *, names: Sequence[str] | None = None
) -> np.ndarray:
    """Karmada's dispenser before the Webster migration (``Dispenser.TakeByWeight``).

    Parameters
    ----------
    replicas : int
        Replicas to divide.
    weights : sequence of int
        Weight per cluster (>= 0); if all are 0 every cluster counts 1.
    names : sequence of str, optional
        Cluster names, the tie-breaker among equal weights.

    Returns
    -------
    numpy.ndarray
        Replicas per cluster.

    Notes
    -----
    Each cluster gets ``floor(w * replicas / sum(w))``; the remainder goes one
    by one to clusters in order of decreasing weight (then name). karmada-io/karmada
    ``pkg/util/helper/binding.go`` (``TakeByWeight``, "TODO: take rest replicas by
    fraction part"). Later versions broke equal-weight ties by the last schedule
    and then at random (``ClusterWeightInfoList.Less``); ties here go by name.
    With weights 2:1 and 2 replicas the result is 2:0 (issue #6424).
    """
    n = check_int(replicas, "replicas", minimum=0, maximum=INT32_MAX)  # replicas are int32
    w = _int_vector(weights, "weights", nonempty=True)
    if w.sum() == 0:
        w = np.ones_like(w)
    width = len(str(w.size))
    keys = (
        [str(i).zfill(width) for i in range(w.size)]
        if names is None
        else _unique_names(names, "names", w.size)
    )
    order = sorted(range(w.size), key=lambda i: (-int(w[i]), keys[i]))
    out = (w * n) // w.sum()
    remain = n - int(out.sum())
    for i in order[:remain]:
        out[i] += 1
    return out


def fnv32(data: bytes) -> int:
    """32-bit FNV-1 hash (Go's ``hash/fnv.New32``), used by KubeFed to order equal weights.

    Parameters
    ----------
    data : bytes
        Input.

    Returns
    -------
    int
        The hash, in ``[0, 2**32)``.

    Notes
    -----
    FNV-1: start at 2166136261; per byte multiply by 16777619 (mod 2^32), then
    XOR the byte (Fowler, Noll, Vo; IETF draft-eastlake-fnv).
    """
    h = 2166136261
    for byte in data:
        h = (h * 16777619) & 0xFFFFFFFF
        h ^= byte
    return h


def kubefed_plan(
    total_replicas: int,
    clusters: Sequence[str],
    preferences: Mapping[str, Mapping],
    *,
    current: Mapping[str, int] | None = None,
    capacity: Mapping[str, int] | None = None,
    rebalance: bool = False,
    key: str = "",
) -> tuple[dict[str, int], dict[str, int]]:
    """KubeFed's ReplicaSchedulingPreference planner, rule for rule.

    Parameters
    ----------
    total_replicas : int
        ``spec.totalReplicas``.
    clusters : sequence of str
        Available cluster names.
    preferences : mapping
        Cluster name (or ``"*"`` for the rest) to a mapping with ``weight``
        (default 0), ``min_replicas`` (default 0) and ``max_replicas`` (default None).
        Clusters matching no entry get 0 replicas.
    current : mapping, optional
        Replicas running now per cluster (used when ``rebalance`` is false).
    capacity : mapping, optional
        Estimated capacity per cluster; excess goes to ``overflow``.
    rebalance : bool, default False
        ``spec.rebalance``: when false, running replicas are not moved away.
    key : str, default ""
        The replica-set key hashed with each cluster name to order clusters of
        equal weight.

    Returns
    -------
    plan : dict
        Replicas per cluster.
    overflow : dict
        Replicas that did not fit a cluster's capacity (trimmed to the
        unplaced remainder when ``rebalance`` is false).

    Notes
    -----
    kubernetes-retired/kubefed ``pkg/controller/util/planner/planner.go``: sort by
    decreasing weight, then increasing FNV-32 hash of name + key; give each cluster
    its minimum (capped by capacity); with ``rebalance=false`` keep current replicas
    above the plan (capped by max and capacity) as pre-allocation; then repeat
    passes that split the remainder by weight, rounding up, capping at max and
    capacity and retiring full clusters, until nothing changes or nothing remains.
    """
    remaining = check_int(total_replicas, "total_replicas", minimum=0, maximum=INT32_MAX)
    clusters = _unique_names(_sequence(clusters, "clusters"), "clusters", len(clusters))
    if not clusters:
        raise ValueError("clusters must name at least one cluster; got []")
    current = dict(current or {})
    capacity = dict(capacity or {})
    prefs: list[tuple[str, int, int, int | None, int]] = []
    plan: dict[str, int] = {}
    overflow: dict[str, int] = {}
    for name in clusters:
        given = preferences.get(name, preferences.get("*"))
        if given is None:
            plan[name] = 0
            continue
        weight = check_int(given.get("weight", 0), "weight", minimum=0)
        lo = check_int(given.get("min_replicas", 0), "min_replicas", minimum=0)
        hi = given.get("max_replicas")
        hi = None if hi is None else check_int(hi, "max_replicas", minimum=0)
        h = fnv32(name.encode() + key.encode())
        prefs.append((name, weight, lo, hi, h))
    prefs.sort(key=lambda p: (-p[1], p[4]))

    for name, _, lo, _, _ in prefs:
        take = min(lo, remaining)
        if name in capacity:
            take = min(take, capacity[name])
        remaining -= take
        plan[name] = take

    prealloc: dict[str, int] = {}
    if not rebalance:
        for name, _, _, hi, _ in prefs:
            planned = plan[name]
            count = current.get(name)
            if count is not None and count > planned:
                target = count if hi is None else min(hi, count)
                if name in capacity:
                    target = min(capacity[name], target)
                extra = max(min(target - planned, remaining), 0)
                remaining -= extra
                prealloc[name] = extra
                plan[name] = extra + planned

    modified = True
    while modified and remaining > 0:
        modified = False
        weight_sum = sum(p[1] for p in prefs)
        kept = []
        distribute = remaining
        for item in prefs:
            name, weight, _, hi, _ = item
            if weight_sum <= 0:
                break
            start = plan[name]
            extra = (distribute * weight + weight_sum - 1) // weight_sum
            extra = min(extra, remaining)
            pre = prealloc.get(name, 0)
            used = min(extra, pre)
            prealloc[name] = pre - used
            extra -= used
            if used > 0:
                modified = True
            total = start + extra
            full = False
            if hi is not None and total > hi:
                total, full = hi, True
            if name in capacity and total > capacity[name]:
                overflow[name] = total - capacity[name]
                total, full = capacity[name], True
            if not full:
                kept.append(item)
            remaining -= total - start
            plan[name] = total
            if total > start:
                modified = True
        prefs = kept

    if not rebalance:
        overflow = {k: min(v, remaining) for k, v in overflow.items() if min(v, remaining) > 0}
    return plan, overflow


def divide_replicas(
    replicas: int,
    *,
    weights: Sequence[int] | None = None,
    available: Sequence[int] | None = None,
    method: str = "karmada-static",
    names: Sequence[str] | None = None,
    min_replicas: Sequence[int] | None = None,
    max_replicas: Sequence[int | None] | None = None,
    current: Sequence[int] | None = None,
    rebalance: bool = False,
    key: str = "",
    uid: str | None = None,
) -> pd.Series:
    """Replicas per cluster under a Karmada or KubeFed division rule.

    Parameters
    ----------
    replicas : int
        Desired total replicas.
    weights : sequence of int, optional
        Static weights per cluster (``karmada-static``, ``karmada-legacy``, ``kubefed``).
    available : sequence of int, optional
        Replicas each cluster can still fit (``karmada-dynamic``,
        ``karmada-aggregated``; the capacity for ``kubefed``).
    method : str, default "karmada-static"
        ``"karmada-static"`` (Webster over static weights), ``"karmada-dynamic"``
        (Webster over available replicas), ``"karmada-aggregated"`` (fewest clusters
        by available replicas, then Webster), ``"karmada-legacy"`` (floor and
        remainder by weight, before the Webster migration) or ``"kubefed"``.
    names : sequence of str, optional
        Cluster names (default ``cluster-0``, ...).
    min_replicas, max_replicas, current, rebalance, key
        KubeFed only: per-cluster minimum and maximum (None = unbounded), running
        replicas, ``spec.rebalance`` and the replica-set key (see :func:`kubefed_plan`).
    uid : str, optional
        Karmada only: the ResourceBinding's UID, which decides exact Webster ties
        (:func:`karmada_tie_order`); without it the smaller cluster name wins.

    Returns
    -------
    pandas.Series
        Replicas per cluster, indexed by name, named ``"replicas"``.

    Raises
    ------
    ValueError
        Unknown method, missing or mismatched inputs, or (Karmada dynamic and
        aggregated) fewer available replicas than requested, which Karmada reports
        as unschedulable.

    Notes
    -----
    Karmada static weights: clusters whose weight is 0 get nothing unless all
    weights are 0, then every cluster weighs 1 (``getStaticWeightInfoList``,
    ``pkg/scheduler/core/division_algorithm.go``). Dynamic and aggregated division
    fail when ``sum(available) < replicas`` (``dynamicDivideReplicas``). This
    function models a fresh schedule; Karmada's scale-up keeps earlier assignments
    and divides only the new replicas.
    """
    n = check_int(replicas, "replicas", minimum=0, maximum=INT32_MAX)  # replicas are int32
    check_choice(method, "method", _METHODS)
    given = weights if weights is not None else available
    size = (
        0
        if given is None
        else len(_sequence(given, "weights" if weights is not None else "available"))
    )
    if size == 0:
        raise ValueError("pass weights or available (one entry per cluster)")
    names = (
        [f"cluster-{i}" for i in range(size)]
        if names is None
        else _unique_names(names, "names", size)
    )

    if method in ("karmada-static", "karmada-legacy"):
        if weights is None:
            raise ValueError(f"method {method!r} needs weights")
        w = _int_vector(weights, "weights", size)
        if method == "karmada-legacy":
            out = karmada_legacy(n, w, names=names)
        else:
            if w.sum() == 0:
                w = np.ones_like(w)
            out = webster(n, w, names=names, uid=uid)
    elif method in ("karmada-dynamic", "karmada-aggregated"):
        if available is None:
            raise ValueError(f"method {method!r} needs available")
        avail = _int_vector(available, "available", size)
        if avail.sum() < n:
            raise ValueError(
                f"available replicas sum to {int(avail.sum())} < replicas {n}: "
                "Karmada reports this binding as unschedulable"
            )
        votes = avail.copy()
        if method == "karmada-aggregated":
            order = np.argsort(-avail, kind="stable")
            cum = np.cumsum(avail[order])
            keep = order[: int(np.searchsorted(cum, n)) + 1]
            votes = np.zeros_like(avail)
            votes[keep] = avail[keep]
        out = webster(n, votes, names=names, uid=uid)
    else:
        w = _int_vector(weights, "weights", size) if weights is not None else np.ones(size, int)
        lo = np.zeros(size, int) if min_replicas is None else _int_vector(min_replicas, "min", size)
        hi = [None] * size if max_replicas is None else list(max_replicas)
        if len(hi) != size:
            raise ValueError(f"max_replicas must have one entry per cluster ({size})")
        prefs = {
            name: {"weight": int(w[i]), "min_replicas": int(lo[i]), "max_replicas": hi[i]}
            for i, name in enumerate(names)
        }
        cur = (
            None
            if current is None
            else dict(zip(names, _int_vector(current, "current", size), strict=True))
        )
        cap = (
            None
            if available is None
            else dict(zip(names, _int_vector(available, "available", size), strict=True))
        )
        plan, _ = kubefed_plan(
            n, names, prefs, current=cur, capacity=cap, rebalance=rebalance, key=key
        )
        out = np.array([plan[name] for name in names])
    return pd.Series(
        np.asarray(out, dtype=np.int64), index=pd.Index(names, name="cluster"), name="replicas"
    )

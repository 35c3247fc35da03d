"""One-dimensional bin packing of volumes, with an optional cap on items per bin.

Heuristics (next-, first-, best- and worst-fit and their decreasing variants),
an exact arc-flow model solved with :func:`scipy.optimize.milp`, and the
Martello-Toth lower bounds L1 and L2. A "bin" is a node or a disk of fixed
capacity; ``max_items_per_bin`` is the node's volume attach limit.

References
----------
* Johnson, D. S. (1974). Fast algorithms for bin packing. J. Comput. Syst.
  Sci. 8(3), 272-314. doi:10.1016/S0022-0000(74)80026-7 (NF, FF, BF, WF).
* Dósa, G. (2007). The tight bound of first fit decreasing bin-packing
  algorithm is FFD(I) <= 11/9 OPT(I) + 6/9. ESCAPE 2007, LNCS 4614, 1-11.
  doi:10.1007/978-3-540-74450-4_1
* Martello, S. & Toth, P. (1990). Lower bounds and reduction procedures for
  the bin packing problem. Discrete Appl. Math. 28(1), 59-70.
  doi:10.1016/0166-218X(90)90094-S (L1, L2).
* Valério de Carvalho, J. M. (1999). Exact solution of bin-packing problems
  using column generation and branch-and-bound. Ann. Oper. Res. 86, 629-659.
  doi:10.1023/A:1018952112615 (arc-flow model).
* Krause, K. L., Shen, V. Y. & Schwetman, H. D. (1975). Analysis of several
  task-scheduling algorithms for a model of multiprogramming computer
  systems. J. ACM 22(4), 522-550 (bin packing with at most k items per bin,
  "cardinality constrained" bin packing).
"""

from __future__ import annotations

import heapq
import math
import numbers
import time
from dataclasses import dataclass, field
from fractions import Fraction
from functools import reduce
from typing import Any

import numpy as np
import pandas as pd

from k8smodel._validate import check_choice
from k8smodel.result import Result

__all__ = ["LowerBound", "Packing", "pack", "lower_bound", "METHODS"]

METHODS = ("nf", "ff", "bf", "wf", "nfd", "ffd", "bfd", "wfd", "optimal")
_ALIASES = {
    "next_fit": "nf",
    "first_fit": "ff",
    "best_fit": "bf",
    "worst_fit": "wf",
    "next_fit_decreasing": "nfd",
    "first_fit_decreasing": "ffd",
    "best_fit_decreasing": "bfd",
    "worst_fit_decreasing": "wfd",
}
# Largest capacity (in units of the gcd of the sizes) the arc-flow graph is built for.
MAX_ARCFLOW_CAPACITY = 200_000
# Units per bin when ``unit="auto"`` has to round (sizes lose at most capacity/2000 each).
AUTO_UNITS_PER_BIN = 2000
# Seconds the exact method spends searching for a packing that meets the lower bound before
# it hands the rest of the time limit to the MILP.
SEARCH_BUDGET_S = 3.0
# Items (largest first) whose completions the search compares before it branches: 1, the
# largest; comparing more prunes dead branches earlier but costs more per node.
MRV_CANDIDATES = 1


@dataclass(frozen=True, kw_only=True, eq=False)
class Packing(Result):
    """What :func:`pack` returns.

    ``summary`` has one row: ``method`` (the heuristic, or ``"optimal"``), ``exact``
    (True when ``n_bins`` is that method's exact count: always for a heuristic, and for
    ``"optimal"`` only when optimality is proven), ``n_bins``, ``lower_bound`` (a proven
    lower bound: L2, the item-count bound when a cap applies and, for
    ``method="optimal"``, the MILP's dual bound), ``optimal`` (True when ``n_bins``
    equals ``lower_bound``: proven optimal), ``items``, ``mean_fill``.

    Attributes
    ----------
    assignment : numpy.ndarray of int64
        Bin index of each item, in input order (0-based; bins numbered in the order
        they were opened).
    sizes : numpy.ndarray
        The item sizes, in input order.
    bins : pandas.DataFrame
        One row per bin: ``bin``, ``items``, ``used``, ``free``, ``fill`` (used /
        capacity), ``members`` (tuple of item indices in input order).
    solve_time_s : float
        Wall time spent in :func:`pack` (kept out of ``summary`` so that it stays
        reproducible).
    """

    assignment: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    sizes: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bins: pd.DataFrame = field(default_factory=pd.DataFrame)
    solve_time_s: float = 0.0

    @property
    def n_bins(self) -> int:
        """Bins used (``summary.n_bins``)."""
        return int(self.summary["n_bins"].iloc[0])

    @property
    def lower_bound(self) -> int:
        """The proven lower bound (``summary.lower_bound``)."""
        return int(self.summary["lower_bound"].iloc[0])

    @property
    def optimal(self) -> bool:
        """Whether ``n_bins`` is proven optimal (``summary.optimal``)."""
        return bool(self.summary["optimal"].iloc[0])


def _bins_table(assignment: np.ndarray, sizes: np.ndarray, n_bins: int, capacity) -> pd.DataFrame:
    order = np.argsort(assignment, kind="stable")
    counts = np.bincount(assignment, minlength=n_bins)
    used = np.bincount(assignment, weights=sizes, minlength=n_bins)
    if np.issubdtype(sizes.dtype, np.integer):
        used = np.rint(used).astype(np.int64)
    splits = np.split(order, np.cumsum(counts)[:-1]) if n_bins else []
    return pd.DataFrame(
        {
            "bin": np.arange(n_bins),
            "items": counts,
            "used": used,
            "free": capacity - used,
            "fill": used / capacity,
            "members": [tuple(int(i) for i in s) for s in splits],
        }
    )


def _packing(assign, sizes, capacity, method, lb, t0, params, notes=()) -> Packing:
    n_bins = int(assign.max()) + 1 if assign.size else 0
    proven = n_bins == lb
    total = float(np.sum(sizes))
    summary = pd.DataFrame(
        {
            "method": [method],
            "exact": [proven if method == "optimal" else True],
            "n_bins": [n_bins],
            "lower_bound": [int(lb)],
            "optimal": [proven],
            "items": [int(sizes.size)],
            "mean_fill": [total / (n_bins * float(capacity)) if n_bins else float("nan")],
        }
    )
    if method == "optimal" and not proven:
        notes = (
            *notes,
            f"optimality not proven within the time limit: {n_bins} bins found, "
            f"at least {lb} needed",
        )
    return Packing(
        summary=summary,
        params=params,
        notes=notes,
        assignment=assign,
        sizes=sizes,
        bins=_bins_table(assign, sizes, n_bins, capacity),
        solve_time_s=time.perf_counter() - t0,
    )


@dataclass(frozen=True, kw_only=True, eq=False)
class LowerBound(Result):
    """What :func:`lower_bound` returns.

    ``summary`` has ``lower_bound`` (bins), ``method`` (``"martello_toth_l2"`` or ``"l1"``,
    with ``"+count"`` when the item-count bound applies) and ``exact`` False (a bound, not
    the optimum); :attr:`value` is the bound as an int.
    """

    @property
    def value(self) -> int:
        """The bound (``summary.lower_bound``)."""
        return int(self.summary["lower_bound"].iloc[0])


# ----------------------------------------------------------------------------- validation


def _as_sizes(sizes, capacity) -> tuple[np.ndarray, float | int]:
    arr = np.asarray(sizes)
    if arr.ndim != 1:
        raise ValueError(f"sizes must be one-dimensional; got shape {arr.shape}")
    if arr.dtype == object or arr.dtype.kind not in "iuf":
        raise TypeError(
            f"sizes must be numbers (use storage.to_bytes for strings); got {arr.dtype}"
        )
    if isinstance(capacity, bool) or not isinstance(capacity, (numbers.Real, Fraction)):
        raise TypeError(f"capacity must be a positive number; got {capacity!r}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        i = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"sizes must be finite; sizes[{i}] = {arr[i]}")
    if arr.dtype.kind in "iu":
        arr = arr.astype(np.int64)
    if arr.size and arr.min() < 0:
        i = int(np.argmin(arr))
        raise ValueError(f"sizes must be >= 0; sizes[{i}] = {arr[i]}")
    if isinstance(capacity, Fraction) and capacity.denominator == 1:
        capacity = int(capacity)
    elif isinstance(capacity, (numbers.Integral, np.integer)):
        capacity = int(capacity)
    else:
        capacity = float(capacity)
        if arr.dtype.kind in "iu":
            arr = arr.astype(np.float64)
    if not capacity > 0 or (isinstance(capacity, float) and not math.isfinite(capacity)):
        raise ValueError(f"capacity must be a positive finite number; got {capacity!r}")
    if arr.dtype.kind == "f" and isinstance(capacity, int):
        capacity = float(capacity)
    if arr.size and arr.max() > capacity:
        bad = np.flatnonzero(arr > capacity)
        raise ValueError(
            f"{bad.size} item(s) do not fit in a bin of capacity {capacity}: "
            f"sizes[{int(bad[0])}] = {arr[bad[0]]}"
            + (f" (and {bad.size - 1} more)" if bad.size > 1 else "")
            + "; remove them or raise the capacity"
        )
    return arr, capacity


def _check_cap(max_items_per_bin) -> int | None:
    if max_items_per_bin is None:
        return None
    if isinstance(max_items_per_bin, bool) or not isinstance(
        max_items_per_bin, (numbers.Integral, np.integer)
    ):
        raise TypeError(f"max_items_per_bin must be an int >= 1 or None; got {max_items_per_bin!r}")
    if max_items_per_bin < 1:
        raise ValueError(f"max_items_per_bin must be >= 1; got {max_items_per_bin}")
    return int(max_items_per_bin)


#: Relative slack of a fit test on float sizes: an item fits when size <= free + FLOAT_RTOL * C.
FLOAT_RTOL = 1e-12


def _fit_tol(w: np.ndarray, cap) -> float | int:
    """Absolute slack of the fit tests: 0 for exact input, ``FLOAT_RTOL * cap`` for inexact floats.

    Integer sizes, and float sizes that are whole numbers whose total stays below 2**53 (so
    every sum is exact), compare exactly. Other floats stand for decimals such as 0.66 that
    binary floating point cannot hold: 1.0 - 0.34 is 0.6599999999999999, so an exact test
    would call 0.34 + 0.66 over a capacity of 1.0. A relative slack of 1e-12 absorbs such
    rounding (about 1e-16 per operation) and is far below any real difference in size.
    """
    if not np.issubdtype(w.dtype, np.floating):
        return 0
    whole = bool(np.all(w == np.floor(w))) and float(cap).is_integer()
    if whole and float(np.sum(w)) + float(cap) < 2.0**53:
        return 0
    return FLOAT_RTOL * float(cap)


# ----------------------------------------------------------------------------- lower bounds


def lower_bound(
    sizes: Any, capacity: Any, *, kind: str = "L2", max_items_per_bin: int | None = None
) -> LowerBound:
    """A lower bound on the number of bins any packing needs.

    Parameters
    ----------
    sizes : array_like of numbers
        Item sizes, each in ``[0, capacity]``.
    capacity : number
        Bin capacity.
    kind : {"L1", "L2"}, keyword-only
        ``L1 = ceil(sum / capacity)``; ``L2`` is Martello and Toth's bound,
        which dominates L1.
    max_items_per_bin : int, optional, keyword-only
        If given, the bound is also at least ``ceil(n / max_items_per_bin)``.

    Returns
    -------
    LowerBound
        ``summary`` with ``lower_bound`` (bins), ``method`` and ``exact`` (False);
        ``value`` is the bound as an int.

    Notes
    -----
    For ``0 <= a <= C/2`` let ``J1 = {w > C - a}``, ``J2 = {C - a >= w > C/2}``
    and ``J3 = {C/2 >= w >= a}``. Then
    ``L(a) = |J1| + |J2| + max(0, ceil((sum(J3) - (|J2| C - sum(J2))) / C))``
    and ``L2 = max_a L(a)``; it suffices to try ``a = 0`` and every distinct
    size ``<= C/2`` (Martello & Toth 1990, Theorem 2). Computed here in
    O(n log n) with sorted prefix sums.

    With float sizes that are not exact (see :func:`pack`), the bound is
    computed for the capacity ``C (1 + 2e-12)``, a little more than the
    slack the heuristics allow, so rounding never lifts it above the optimum
    (for example sizes 0.03, 0.70, 0.34, 0.66 in bins of 1.0 give 2, not 3).
    Prefer integer sizes (bytes) where exactness matters.

    References
    ----------
    Martello, S. & Toth, P. (1990). Discrete Appl. Math. 28(1), 59-70.
    doi:10.1016/0166-218X(90)90094-S. Also Martello & Toth, *Knapsack Problems*
    (Wiley 1990), section 8.3.1.
    """
    w, cap = _as_sizes(sizes, capacity)
    cap_items = _check_cap(max_items_per_bin)
    check_choice(kind, "kind", ("L1", "L2"))
    value = _bound_value(w, cap, kind, cap_items)
    method = "martello_toth_l2" if kind == "L2" else "l1"
    if cap_items:
        method += "+count"
    return LowerBound(
        summary=pd.DataFrame({"lower_bound": [value], "method": [method], "exact": [False]}),
        params={"capacity": cap, "kind": kind, "max_items_per_bin": cap_items, "items": w.size},
    )


def _bound_value(w: np.ndarray, cap, kind: str, cap_items: int | None) -> int:
    """The bound of :func:`lower_bound` on validated sizes."""
    n = w.size
    extra = -(-n // cap_items) if cap_items else 0
    if n == 0:
        return 0
    extra = max(extra, 1)  # n > 0 items, even all of size 0, need at least one bin
    if _fit_tol(w, cap):
        cap = float(cap) * (1.0 + 2 * FLOAT_RTOL)  # in the bound's favour: see Notes
    total = _exact_sum(w)
    l1 = _ceil_div(total, cap)
    if kind == "L1":
        return int(max(l1, extra))
    ws = np.sort(w)  # ascending
    # prefix sums and |J2| * C could overflow int64: then compute with Python ints (object arrays)
    big = np.issubdtype(ws.dtype, np.integer) and max(total, n * int(cap)) >= 2**62
    if big:
        prefix = np.concatenate([[0], np.cumsum(np.array(ws.tolist(), dtype=object))])
    else:
        prefix = np.concatenate([[0], np.cumsum(ws, dtype=ws.dtype)])
    # alpha candidates: 0 and distinct sizes <= C/2
    # C/2 exactly: for integers w > C/2 iff w > C // 2 (no float rounding, no 2 * w overflow)
    half = cap // 2 if np.issubdtype(ws.dtype, np.integer) and isinstance(cap, int) else cap / 2
    half_mask = ws <= half
    alphas = np.unique(np.concatenate([[0], ws[half_mask]]))
    # counts via searchsorted on the ascending sizes
    n_gt_half = n - np.searchsorted(ws, half, side="right")  # |J1| + |J2|
    n_gt_c_minus_a = n - np.searchsorted(ws, cap - alphas, side="right")  # |J1|
    j2_count = n_gt_half - n_gt_c_minus_a
    if big:
        j2_count = j2_count.astype(object)
    # sum of J2: sizes in (C/2, C - a]
    idx_half = np.searchsorted(ws, half, side="right")
    idx_c_minus_a = np.searchsorted(ws, cap - alphas, side="right")
    j2_sum = prefix[idx_c_minus_a] - prefix[idx_half]
    # sum of J3: sizes in [a, C/2]
    idx_a = np.searchsorted(ws, alphas, side="left")
    j3_sum = prefix[idx_half] - prefix[idx_a]
    residual = j3_sum - (j2_count * cap - j2_sum)
    if np.issubdtype(ws.dtype, np.integer) and isinstance(cap, int):
        extra_bins = np.where(residual > 0, -(-residual // cap), 0)
    else:
        extra_bins = np.where(residual > 0, np.ceil(residual / cap - 1e-12), 0)
    l2 = int(np.max(n_gt_half + extra_bins))
    return int(max(l2, l1, extra))


def _exact_sum(w: np.ndarray):
    if np.issubdtype(w.dtype, np.integer):
        return sum(w.tolist())  # Python ints: no int64 overflow
    return float(np.sum(w))


def _ceil_div(total, cap) -> int:
    if isinstance(total, int) and isinstance(cap, int):
        return -(-total // cap)
    return int(math.ceil(total / cap - 1e-12))


# ----------------------------------------------------------------------------- heuristics


def _next_fit(w: np.ndarray, order: np.ndarray, cap, k: int | None, tol=0) -> np.ndarray:
    assign = np.empty(w.size, dtype=np.int64)
    sizes = w.tolist()
    b, free, count = -1, -1, 0
    for i in order.tolist():
        s = sizes[i]
        if b < 0 or s - tol > free or (k is not None and count >= k):
            b += 1
            free = cap
            count = 0
        free -= s
        count += 1
        assign[i] = b
    return assign


def _first_fit(w: np.ndarray, order: np.ndarray, cap, k: int | None, tol=0) -> np.ndarray:
    """First fit with a max-segment tree over bins (O(n log n)).

    Leaves hold each bin's free capacity (unopened bins hold ``cap``, so the
    leftmost leaf that fits is always the first fitting bin or the next new
    one); a full bin under the item cap holds -inf. With integer sizes, runs
    of equal sizes are placed several at a time into the same bin
    (``free // s`` of them, exact for integers); float sizes go one by one,
    as sequential first fit subtracts them (``1.0 // 0.1`` is 9.0, yet ten
    sequential subtractions of 0.1 fit).
    """
    batch = np.issubdtype(w.dtype, np.integer)
    n = w.size
    assign = np.empty(n, dtype=np.int64)
    if n == 0:
        return assign
    size = 1 << max(0, (n - 1).bit_length())
    tree = [cap] * (2 * size)
    counts = [0] * size
    sizes = w.tolist()
    idx = order.tolist()
    p = 0
    while p < n:
        s = sizes[idx[p]]
        need = s - tol
        q = p + 1
        if batch:
            while q < n and sizes[idx[q]] == s:
                q += 1
        # place items p..q-1 (all of size s)
        while p < q:
            node = 1
            while node < size:
                node <<= 1
                if tree[node] < need:
                    node += 1
            leaf = node - size
            free = tree[node]
            room = q - p
            if s > 0:
                fit = free // s  # may be huge (or inf for subnormal sizes): compare first
                if fit < room:
                    room = int(fit)
            if k is not None:
                room = min(room, k - counts[leaf])
            room = max(room, 1)
            for j in range(p, p + room):
                assign[idx[j]] = leaf
            p += room
            counts[leaf] += room
            free = free - s * room
            if k is not None and counts[leaf] >= k:
                free = -math.inf
            tree[node] = free
            node >>= 1
            while node:
                left, right = tree[2 * node], tree[2 * node + 1]
                v = left if left >= right else right
                if tree[node] == v:
                    break
                tree[node] = v
                node >>= 1
    return assign


def _best_or_worst_fit(w, order, cap, k, worst: bool, tol=0) -> np.ndarray:
    """Best fit (tightest bin) or worst fit (emptiest bin) in O(n log n).

    Ties go to the bin opened first; a bin that reached the item cap leaves the
    structure. Worst fit only ever needs the emptiest bin, so a heap keyed by
    (-free, bin) serves it; best fit needs the smallest free space >= the size, so
    open bins are kept in a :class:`sortedcontainers.SortedList` of (free, bin)
    (logarithmic insert and delete, where ``bisect.insort`` into a list is linear).
    """
    if worst:
        return _worst_fit(w, order, cap, k, tol)
    from sortedcontainers import SortedList

    assign = np.empty(w.size, dtype=np.int64)
    keys = SortedList()  # (free, bin) ascending
    counts: list[int] = []
    sizes = w.tolist()
    n_bins = 0
    for i in order.tolist():
        s = sizes[i]
        pos = keys.bisect_left((s - tol, -1))
        if pos >= len(keys):
            b, free = n_bins, cap
            n_bins += 1
            counts.append(0)
        else:
            free, b = keys.pop(pos)
        assign[i] = b
        counts[b] += 1
        free -= s
        if k is None or counts[b] < k:
            keys.add((free, b))
    return assign


def _worst_fit(w, order, cap, k, tol=0) -> np.ndarray:
    """Worst fit with a heap of (-free, bin): the emptiest bin, the first opened among ties."""
    assign = np.empty(w.size, dtype=np.int64)
    heap: list[tuple] = []
    counts: list[int] = []
    sizes = w.tolist()
    n_bins = 0
    for i in order.tolist():
        s = sizes[i]
        if heap and -heap[0][0] >= s - tol:
            neg_free, b = heapq.heappop(heap)
            free = -neg_free
        else:
            b, free = n_bins, cap
            n_bins += 1
            counts.append(0)
        assign[i] = b
        counts[b] += 1
        free -= s
        if k is None or counts[b] < k:
            heapq.heappush(heap, (-free, b))
    return assign


def _renumber(assign: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Number bins in the order their first item was placed (keeps bins contiguous)."""
    if assign.size == 0:
        return assign
    first_seen = assign[order]
    _, first_idx = np.unique(first_seen, return_index=True)
    labels = first_seen[np.sort(first_idx)]
    remap = np.empty(int(assign.max()) + 1, dtype=np.int64)
    remap[labels] = np.arange(labels.size)
    return remap[assign]


# ----------------------------------------------------------------------------- exact: arc flow


def _arcflow(w_int: np.ndarray, cap_int: int, k: int | None, time_limit_s: float, warm_bins: int):
    """Solve the arc-flow model; return (assignment or None, dual bound, proven)."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    vals, inv, demand = np.unique(w_int, return_inverse=True, return_counts=True)
    order_types = np.argsort(-vals, kind="stable")  # decreasing size
    # Nodes are (load, count) pairs; without a cap, count is always 0.
    node_id: dict[tuple[int, int], int] = {(0, 0): 0}
    arcs: list[tuple[tuple[int, int], tuple[int, int], int]] = []  # (tail, head, item type)
    reach = {(0, 0)}
    for t in order_types.tolist():
        wt, bt = int(vals[t]), int(demand[t])
        new_nodes: set[tuple[int, int]] = set()
        # allow up to bt consecutive copies of type t after any node reachable so far
        starts = sorted(reach)
        for start in starts:
            load, cnt = start
            prev = start
            for c in range(1, bt + 1):
                nl, nc = load + c * wt, cnt + (c if k is not None else 0)
                if nl > cap_int or (k is not None and nc > k):
                    break
                head = (nl, nc)
                arcs.append((prev, head, t))
                new_nodes.add(head)
                prev = head
        reach |= new_nodes
    for reached in sorted(reach):
        if reached not in node_id:
            node_id[reached] = len(node_id)
    sink = len(node_id)
    # deduplicate item arcs
    arc_set = {(node_id[a], node_id[b], t) for a, b, t in arcs}
    # loss arcs: every non-source node to the sink (a bin may stop at any load)
    loss = [(node_id[nd], sink, -1) for nd in reach if nd != (0, 0)]
    all_arcs = sorted(arc_set) + loss
    n_arcs = len(all_arcs)
    tails = np.array([a[0] for a in all_arcs], dtype=np.int64)
    heads = np.array([a[1] for a in all_arcs], dtype=np.int64)
    types = np.array([a[2] for a in all_arcs], dtype=np.int64)
    n_nodes = sink + 1
    # variables: arcs, then z (bins)
    nv = n_arcs + 1
    # flow conservation at inner nodes: inflow - outflow = 0; source: outflow = z; sink: inflow = z
    rows = np.concatenate([heads, tails])
    cols = np.concatenate([np.arange(n_arcs), np.arange(n_arcs)])
    data = np.concatenate([np.ones(n_arcs), -np.ones(n_arcs)])
    rows = np.concatenate([rows, [0, sink]])
    cols = np.concatenate([cols, [n_arcs, n_arcs]])
    data = np.concatenate([data, [1.0, -1.0]])
    a_flow = coo_matrix((data, (rows, cols)), shape=(n_nodes, nv)).tocsr()
    item_mask = types >= 0
    a_dem = coo_matrix(
        (np.ones(int(item_mask.sum())), (types[item_mask], np.flatnonzero(item_mask))),
        shape=(vals.size, nv),
    ).tocsr()
    constraints = [
        LinearConstraint(a_flow, 0, 0),
        LinearConstraint(a_dem, demand.astype(float), np.inf),
    ]
    cost = np.zeros(nv)
    cost[-1] = 1.0
    upper = np.full(nv, float(warm_bins))
    res = milp(
        cost,
        constraints=constraints,
        integrality=np.ones(nv),
        bounds=Bounds(np.zeros(nv), upper),
        # mip_rel_gap=0: HiGHS's default relative gap (1e-4) would stop up to one bin short of
        # proof on instances with more than 10^4 bins.
        options={"time_limit": max(float(time_limit_s), 0.01), "disp": False, "mip_rel_gap": 0.0},
    )
    dual = getattr(res, "mip_dual_bound", None)
    dual = float(dual) if dual is not None and np.isfinite(dual) else 0.0
    if res.x is None:
        return None, dual, False
    flow = np.rint(res.x[:n_arcs]).astype(np.int64)
    n_bins = int(round(res.x[-1]))
    # decompose the flow into paths, one per bin
    out: dict[int, list[int]] = {}
    for a in np.flatnonzero(flow > 0).tolist():
        out.setdefault(int(tails[a]), []).append(a)
    pools = [list(np.flatnonzero(inv == t)) for t in range(vals.size)]
    assign = np.full(w_int.size, -1, dtype=np.int64)
    for b in range(n_bins):
        node = 0
        while node != sink:
            arcs_here = out.get(node, [])
            while arcs_here and flow[arcs_here[-1]] == 0:
                arcs_here.pop()
            if not arcs_here:
                break
            a = arcs_here[-1]
            flow[a] -= 1
            t = int(types[a])
            if t >= 0 and pools[t]:
                assign[pools[t].pop()] = b
            node = int(heads[a])
    if np.any(assign < 0):  # should not happen for a feasible solution
        return None, dual, False
    proven = res.status == 0
    return assign, dual, proven


class _OutOfTime(Exception):
    pass


def _fill_to_bound(
    w_int: np.ndarray, cap_int: int, lb: int, k: int | None, *, deadline: float
) -> np.ndarray | None:
    """A packing into exactly ``lb`` bins found by depth-first search, or None.

    The total slack ``lb * cap - sum(sizes)`` is a budget: each bin, opened with the
    largest item left, is completed by a subset of the remaining items whose sum leaves
    at most the remaining budget unused (fullest subsets first; subsets with the same
    sizes are tried once). With zero slack this is an exact cover by bin-filling
    subsets, which the arc-flow MILP's heuristics rarely find.
    """
    order = np.argsort(-w_int, kind="stable")
    sizes = w_int[order].tolist()
    n = len(sizes)
    slack0 = lb * cap_int - int(sum(sizes))
    if n == 0 or slack0 < 0:
        return None
    used = [False] * n
    bin_of = [-1] * n
    max_items = k if k is not None else n
    calls = [0]

    def completions(first: int, target: int, slack: int, room: int) -> list[list[int]]:
        """Subsets of unused items after ``first`` with target - slack <= sum <= target."""
        avail = [j for j in range(n) if not used[j] and j != first]
        suffix = [0] * (len(avail) + 1)
        for p in range(len(avail) - 1, -1, -1):
            suffix[p] = suffix[p + 1] + sizes[avail[p]]
        out: list[tuple[int, list[int]]] = []
        chosen: list[int] = []

        def grow(p: int, total: int) -> None:
            calls[0] += 1
            if calls[0] % 4096 == 0 and time.perf_counter() > deadline:
                raise _OutOfTime
            if total >= target - slack:
                out.append((total, list(chosen)))
            if len(chosen) >= room or len(out) > 256:
                return
            last = -1
            for q in range(p, len(avail)):
                wq = sizes[avail[q]]
                if wq == last or total + wq > target:
                    continue
                if total + suffix[q] < target - slack:
                    break  # even every remaining item would not fill the bin enough
                last = wq
                chosen.append(avail[q])
                grow(q + 1, total + wq)
                chosen.pop()

        grow(0, 0)
        out.sort(key=lambda t: -t[0])
        return [c for _, c in out]

    def place(b: int, slack: int) -> bool:
        unused = [i for i in range(n) if not used[i]]
        if not unused:
            return True
        if b >= lb:
            return False
        # Every item must go somewhere: among the largest few, branch on the one with the
        # fewest completions (none: this branch is dead), as exact-cover search does.
        first, options = -1, None
        for i in unused[:MRV_CANDIDATES]:
            used[i] = True
            subsets = completions(i, cap_int - sizes[i], slack, max_items - 1)
            used[i] = False
            if options is None or len(subsets) < len(options):
                first, options = i, subsets
            if not subsets:
                return False
        used[first], bin_of[first] = True, b
        target = cap_int - sizes[first]
        for subset in options or []:
            left = slack - (target - sum(sizes[j] for j in subset))
            for j in subset:
                used[j], bin_of[j] = True, b
            if place(b + 1, left):
                return True
            for j in subset:
                used[j], bin_of[j] = False, -1
        used[first], bin_of[first] = False, -1
        return False

    try:
        ok = place(0, slack0)
    except (_OutOfTime, RecursionError):
        return None
    if not ok:
        return None
    assign = np.empty(n, dtype=np.int64)
    assign[order] = bin_of
    return assign


def _fullest_subset(w: np.ndarray, target: int) -> list[int]:
    """Indices of a subset of ``w`` (positive ints) with the largest sum <= ``target``.

    0/1 subset-sum over sums 0..target with a parent pointer per sum (the item that
    first reached it), so the subset is read back without reusing an item.
    """
    parent = np.full(target + 1, -1, dtype=np.int64)
    reach = np.zeros(target + 1, dtype=bool)
    reach[0] = True
    for i, wi in enumerate(w.tolist()):
        if wi > target:
            continue
        new = np.zeros_like(reach)
        new[wi:] = reach[: target + 1 - wi]
        new &= ~reach
        parent[new] = i
        reach |= new
        if reach[target]:
            break
    total = int(np.flatnonzero(reach)[-1])
    chosen = []
    while total > 0:
        i = int(parent[total])
        chosen.append(i)
        total -= int(w[i])
    return chosen


def _minimum_bin_slack(
    w_int: np.ndarray, cap_int: int, lb: int, *, deadline: float, tries: int = 10_000
) -> np.ndarray | None:
    """Minimum bin slack, bin by bin (MBS', Fleszar & Hindi 2002).

    Open a bin with the largest item left and fill the rest of it with the fullest
    subset of the remaining items; retried with the items in random orders (which
    changes the subset the DP finds) until a packing meets ``lb`` or the deadline
    passes. Returns the best assignment found, or None.

    References
    ----------
    Fleszar, K. & Hindi, K. S. (2002). New heuristics for one-dimensional bin-packing.
    Computers & Operations Research 29(7), 821-839. doi:10.1016/S0305-0548(00)00082-4
    """
    n = w_int.size
    if n == 0 or cap_int > 20_000:  # the DP is O(items x capacity) per bin
        return None
    rng = np.random.default_rng(0)
    best: np.ndarray | None = None
    for attempt in range(tries):
        left = np.argsort(-w_int, kind="stable")
        if attempt:
            left = left[np.lexsort((rng.random(n), -w_int[left]))]
        assign = np.full(n, -1, dtype=np.int64)
        b = 0
        while left.size:
            head, rest = int(left[0]), left[1:]
            if attempt:
                rest = rest[rng.permutation(rest.size)]
            room = cap_int - int(w_int[head])
            picked = rest[_fullest_subset(w_int[rest], room)] if room > 0 else rest[:0]
            assign[head] = b
            assign[picked] = b
            left = left[assign[left] < 0]
            b += 1
            if best is not None and b >= int(best.max()) + 1:
                break
        else:
            if best is None or b < int(best.max()) + 1:
                best = assign
            if b == lb:
                return best
        if time.perf_counter() > deadline:
            break
    return best


def _integer_scale(w: np.ndarray, cap) -> tuple[np.ndarray, int] | None:
    """Express sizes and capacity as integers in units of their gcd, if they are integers."""
    if np.issubdtype(w.dtype, np.floating):
        if not (np.all(w == np.floor(w)) and float(cap).is_integer()):
            return None
        w = w.astype(np.int64)
        cap = int(cap)
    positive = w[w > 0]
    g = reduce(math.gcd, [int(x) for x in np.unique(positive)], int(cap)) if positive.size else 1
    return (w // g).astype(np.int64), int(cap) // g


def _round_to_unit(w: np.ndarray, cap, unit) -> tuple[np.ndarray, int]:
    """Sizes rounded up and the capacity rounded down to whole multiples of ``unit``, exactly.

    Integer input uses integer division (no float rounding, no loss above 2**53). Float
    input is converted to exact rationals (every float is one), so a size is never rounded
    down and the capacity never up: ``w_units * unit >= w`` and ``cap_units * unit <= cap``
    hold exactly, which keeps a packing of the rounded instance feasible for the true one.
    """
    if isinstance(unit, (numbers.Integral, np.integer)) or (
        isinstance(unit, Fraction) and unit.denominator == 1
    ):
        unit = int(unit)
    if np.issubdtype(w.dtype, np.integer) and isinstance(cap, int) and isinstance(unit, int):
        return -(-w // unit), cap // unit
    u = Fraction(unit)
    w_units = np.array([math.ceil(Fraction(x) / u) for x in w.tolist()], dtype=np.int64)
    return w_units, math.floor(Fraction(cap) / u)


# ----------------------------------------------------------------------------- public


def pack(
    sizes,
    capacity,
    *,
    method: str = "ffd",
    max_items_per_bin: int | None = None,
    time_limit_s: float = 30.0,
    unit=None,
) -> Packing:
    """Pack items (volumes) into the fewest bins (nodes or disks) of a given capacity.

    Parameters
    ----------
    sizes : array_like of numbers
        Item sizes (for example bytes from :func:`storage.to_bytes`), each >= 0.
    capacity : number
        Bin capacity, in the same unit.
    method : str, keyword-only
        ``"nf"``, ``"ff"``, ``"bf"``, ``"wf"`` (next, first, best, worst fit in
        input order), ``"nfd"``, ``"ffd"``, ``"bfd"``, ``"wfd"`` (the same on
        sizes sorted in decreasing order, ties in input order) or
        ``"optimal"`` (exact arc-flow MILP). Long names such as
        ``"first_fit_decreasing"`` are accepted too.
    max_items_per_bin : int, optional, keyword-only
        At most this many items per bin (a node's volume attach limit).
    time_limit_s : float, keyword-only
        Time limit for ``method="optimal"``. When it runs out, the best packing
        found (or the best heuristic one if the solver found none better) is
        returned with the proven lower bound, and ``optimal`` tells whether
        they meet.
    unit : number or "auto", optional, keyword-only
        For ``method="optimal"`` only: solve with sizes rounded *up* and the
        capacity rounded *down* to whole multiples of ``unit`` (for example
        ``2**30`` for byte sizes), which keeps the graph small. The packing
        found is then feasible for the true sizes, and the lower bound is
        computed on the true sizes, so ``optimal`` stays truthful (the rounded
        optimum can exceed the true one; then ``optimal`` is False). ``"auto"``
        solves exactly when the sizes' common divisor keeps the graph small enough,
        and otherwise rounds to ``capacity / 2000`` (a note says so).

    Returns
    -------
    Packing
        ``assignment`` (bin of each item), ``n_bins``, ``bins`` (a DataFrame),
        ``lower_bound`` and ``optimal``.

    Raises
    ------
    ValueError
        If an item is larger than the capacity (the message names it), a size
        is negative, the method is unknown, or ``method="optimal"`` is asked
        for sizes that are not whole multiples of a common unit small enough
        for the arc-flow graph (capacity/gcd <= 200 000).
    TypeError
        If sizes or capacity are not numbers.

    Notes
    -----
    Integer sizes (bytes) are compared exactly. Float sizes that are not whole
    numbers usually stand for decimals that binary floats only approximate
    (``1.0 - 0.34`` is ``0.6599999999999999``), so the heuristics let an item
    fit when ``size <= free + 1e-12 * capacity``: a bin's float sum may then
    exceed the capacity by that much, and 0.34 + 0.66 fills a bin of 1.0 as it
    does in decimal. :func:`lower_bound` is computed with a matching margin.

    First fit uses a max-segment tree over bins and places runs of equal
    integer sizes together, so FFD is O(n log n); best fit keeps open bins in a
    sorted list with logarithmic updates and worst fit in a heap, both
    O(n log n). Worst-fit decreasing is what the ``binpacking`` package's
    ``to_constant_volume`` does.

    The exact method is the arc-flow model of Valério de Carvalho (1999): a
    node per reachable bin load (and item count, when capped), an arc per item
    type placed in decreasing size order with at most ``demand`` consecutive
    copies, loss arcs to the sink; minimise the flow leaving the source subject
    to covering each demand. Its LP bound equals the Gilmore-Gomory bound.

    References
    ----------
    See the module docstring (Johnson 1974; Dósa 2007; Martello & Toth 1990;
    Valério de Carvalho 1999; Krause, Shen & Schwetman 1975).
    """
    t0 = time.perf_counter()
    w, cap = _as_sizes(sizes, capacity)
    k = _check_cap(max_items_per_bin)
    m = _ALIASES.get(method, method) if isinstance(method, str) else method
    if m not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    if not isinstance(time_limit_s, numbers.Real) or not time_limit_s > 0:
        raise ValueError(f"time_limit_s must be a positive number; got {time_limit_s!r}")
    lb = _bound_value(w, cap, "L2", k) if w.size else 0
    params = {
        "capacity": cap,
        "method": m,
        "max_items_per_bin": k,
        "time_limit_s": time_limit_s,
        "unit": unit,
    }
    tol = _fit_tol(w, cap)

    def heuristic(name: str) -> np.ndarray:
        if name.endswith("d"):
            order = np.argsort(-w, kind="stable")
            base = name[:-1]
        else:
            order = np.arange(w.size)
            base = name
        if base == "nf":
            a = _next_fit(w, order, cap, k, tol)
        elif base == "ff":
            a = _first_fit(w, order, cap, k, tol)
        else:
            a = _best_or_worst_fit(w, order, cap, k, worst=(base == "wf"), tol=tol)
        return _renumber(a, order)

    if m != "optimal":
        return _packing(heuristic(m), w, cap, m, lb, t0, params)

    notes: tuple[str, ...] = ()
    if isinstance(unit, str):
        check_choice(unit, "unit", ("auto",))
        exact_scale = _integer_scale(w, cap)
        if exact_scale is not None and exact_scale[1] <= MAX_ARCFLOW_CAPACITY:
            unit = None
        else:
            unit = Fraction(cap) / AUTO_UNITS_PER_BIN
            notes = (
                f"the exact solver rounded sizes up to multiples of capacity/{AUTO_UNITS_PER_BIN}"
                " (unit='auto'); optimality is claimed only when the bound is met",
            )
    if unit is not None:
        if (
            isinstance(unit, bool)
            or not isinstance(unit, numbers.Real | Fraction)
            or not unit > 0
            or not math.isfinite(unit)
        ):
            raise ValueError(f"unit must be a positive finite number; got {unit!r}")
        w_units, cap_units = _round_to_unit(w, cap, unit)
        scaled = (w_units, cap_units)
        if w_units.size and w_units.max() > scaled[1]:
            raise ValueError(
                f"unit={unit!r} is too coarse: a rounded-up size exceeds the rounded-down capacity"
            )
        if w_units.size and scaled[1] > 0:
            positive = w_units[w_units > 0]
            g = reduce(math.gcd, np.unique(positive).tolist(), scaled[1]) if positive.size else 1
            scaled = (w_units // g, scaled[1] // g)
    else:
        scaled = _integer_scale(w, cap)
    if scaled is None:
        raise ValueError(
            "method='optimal' needs sizes and capacity that are whole numbers; "
            "pass unit= (for example unit=2**30 for bytes) to round them"
        )
    w_int, cap_int = scaled
    if w_int.size == 0:
        return _packing(w_int, w, cap, "optimal", 0, t0, params)
    if cap_int > MAX_ARCFLOW_CAPACITY:
        raise ValueError(
            f"method='optimal': capacity is {cap_int} units of the sizes' common divisor, "
            f"more than the {MAX_ARCFLOW_CAPACITY} the arc-flow graph is built for; "
            "pass a coarser unit= (for example unit=2**30 for byte sizes)"
        )
    # Warm start: the best heuristic. With a cap on items per bin, plain next fit can beat
    # the decreasing rules (they fill bins' counts with large items first), so try all.
    best = min(
        (heuristic(h) for h in ("ffd", "bfd", "wfd", "ff", "bf", "nf")),
        key=lambda a: int(a.max()) + 1 if a.size else 0,
    )
    best_bins = int(best.max()) + 1 if best.size else 0
    if best_bins > lb:
        # Look for a packing that meets the bound directly: bins filled one by one, largest
        # item first, with the fullest subsets the remaining slack allows (a depth-first
        # search). It proves what the MILP finds hard to reach: perfect packings, where every
        # bin must be filled exactly.
        budget = min(SEARCH_BUDGET_S, time_limit_s / 4)
        found = _fill_to_bound(w_int, cap_int, lb, k, deadline=time.perf_counter() + budget)
        if found is None and k is None:
            found = _minimum_bin_slack(
                w_int, cap_int, lb, deadline=time.perf_counter() + budget / 3
            )
        if found is not None and int(found.max()) + 1 < best_bins:
            best, best_bins = _renumber(found, np.arange(w.size)), int(found.max()) + 1
    if best_bins == lb:
        return _packing(best, w, cap, "optimal", lb, t0, params, notes)
    remaining = time_limit_s - (time.perf_counter() - t0)
    assign, dual, _proven = _arcflow(w_int, cap_int, k, remaining, best_bins)
    # The MILP's bounds are bounds for the instance it solved; with unit= that instance has
    # rounded sizes, whose optimum can exceed the true one, so only exact solves tighten lb.
    exact = unit is None
    if exact:
        lb = max(lb, int(math.ceil(dual - 1e-6)))
    if assign is not None:
        assign = _renumber(assign, np.arange(w.size))
        n_bins = int(assign.max()) + 1
        if n_bins <= best_bins:
            best, best_bins = assign, n_bins
    # Optimality is claimed only from bounds: best_bins == lb, where lb includes ceil(dual bound).
    return _packing(best, w, cap, "optimal", lb, t0, params, notes)

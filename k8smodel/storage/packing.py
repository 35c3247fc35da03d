"""One-dimensional bin packing of volumes, with an optional cap on items per bin.

Heuristics (next-, first-, best- and worst-fit and their decreasing variants) and
:func:`pack`'s exact method (``storage/_exact.py``: a search for a packing that meets
the bound, then an arc-flow model solved with :func:`scipy.optimize.milp`); the
Martello-Toth lower bounds L1 and L2 live in ``storage/bounds.py``. A "bin" is a node
or a disk of fixed capacity; ``max_items_per_bin`` is the node's volume attach limit.

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

import numpy as np
import pandas as pd

from k8smodel._validate import check_choice, check_real
from k8smodel.result import Result
from k8smodel.storage._exact import (
    MAX_ARCFLOW_CAPACITY,
    SEARCH_BUDGET_S,
    _fill_to_bound,
    _integer_scale,
    _minimum_bin_slack,
    _round_to_unit,
    arcflow_within,
)
from k8smodel.storage.bounds import (
    LowerBound,
    _as_sizes,
    _bound_value,
    _check_cap,
    _fit_tol,
    lower_bound,
)

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
# Units per bin when ``unit="auto"`` has to round (sizes lose at most capacity/2000 each).
AUTO_UNITS_PER_BIN = 2000


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
    time_limit_s = check_real(time_limit_s, "time_limit_s", minimum=0, lower_open=True)
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
            or not float(unit) > 0
            or not math.isfinite(unit)
        ):
            raise ValueError(f"unit must be a positive finite number; got {unit!r}")
        w_units, cap_units = _round_to_unit(w, cap, unit)
        if w_units.size and w_units.max() > cap_units:
            raise ValueError(
                f"unit={unit!r} is too coarse: a rounded-up size exceeds the rounded-down capacity"
            )
        g = 1
        if w_units.size and cap_units > 0:
            positive = w_units[w_units > 0]
            g = reduce(math.gcd, np.unique(positive).tolist(), cap_units) if positive.size else 1
        scaled: tuple[np.ndarray, int] | None = (w_units // g, cap_units // g)
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
    assign, dual, _proven = arcflow_within(w_int, cap_int, k, remaining, best_bins)
    if assign is None and dual == 0.0:
        notes = (*notes, f"the exact solver was stopped at time_limit_s={time_limit_s:g}")
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

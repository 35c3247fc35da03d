"""Exact bin packing: the arc-flow MILP and the searches that reach the lower bound first.

Private to :func:`k8smodel.storage.pack` (``method="optimal"``).

References
----------
* Valério de Carvalho, J. M. (1999). Exact solution of bin-packing problems using column
  generation and branch-and-bound. Ann. Oper. Res. 86, 629-659. doi:10.1023/A:1018952112615
* Fleszar, K. & Hindi, K. S. (2002). New heuristics for one-dimensional bin-packing.
  Computers & Operations Research 29(7), 821-839. doi:10.1016/S0305-0548(00)00082-4
"""

from __future__ import annotations

import math
import numbers
import time
from fractions import Fraction
from functools import reduce

import numpy as np

# Largest capacity (in units of the gcd of the sizes) the arc-flow graph is built for.
MAX_ARCFLOW_CAPACITY = 200_000
# Seconds the exact method spends searching for a packing that meets the lower bound before
# it hands the rest of the time limit to the MILP.
SEARCH_BUDGET_S = 3.0
# Items (largest first) whose completions the search compares before it branches: 1, the
# largest; comparing more prunes dead branches earlier but costs more per node.
MRV_CANDIDATES = 1


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


#: Seconds the solver process may overrun its limit while it returns its answer.
HARD_LIMIT_GRACE_S = 0.5


def _arcflow_child(conn, *args) -> None:  # pragma: no cover - runs in the forked child
    try:
        conn.send(_arcflow(*args))
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which re-raises
        conn.send(exc)
    finally:
        conn.close()


def arcflow_within(
    w_int: np.ndarray, cap_int: int, k: int | None, time_limit_s: float, warm_bins: int
):
    """:func:`_arcflow` with a hard time limit: in a forked process, killed at the deadline.

    HiGHS's ``time_limit`` is checked inside the branch and bound only, and building the
    arc-flow graph is not bounded at all, so a 60 s limit could run for minutes. The child
    is killed ``HARD_LIMIT_GRACE_S`` after ``time_limit_s``.

    Returns
    -------
    tuple
        What :func:`_arcflow` returns, or ``(None, 0.0, False)`` when the limit was hit (a
        dual bound of 0 adds nothing to the lower bound).
    """
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return _arcflow(w_int, cap_int, k, time_limit_s, warm_bins)
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(
        target=_arcflow_child,
        args=(send, w_int, cap_int, k, time_limit_s, warm_bins),
        daemon=True,
    )
    child.start()
    send.close()
    result = None
    try:
        if receive.poll(max(time_limit_s, 0.0) + HARD_LIMIT_GRACE_S):
            result = receive.recv()
    except EOFError:  # the child died without an answer
        result = None
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()
    if isinstance(result, BaseException):
        raise result
    return (None, 0.0, False) if result is None else result

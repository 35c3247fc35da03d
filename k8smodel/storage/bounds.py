"""Input checks shared by the packers, and the Martello-Toth lower bounds.

References
----------
Martello, S. & Toth, P. (1990). Lower bounds and reduction procedures for the bin
packing problem. Discrete Appl. Math. 28(1), 59-70. doi:10.1016/0166-218X(90)90094-S
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from k8smodel._validate import check_choice
from k8smodel.result import Result

__all__ = ["FLOAT_RTOL", "LowerBound", "lower_bound"]


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

"""Fairness and distribution summaries that every model shares.

All functions are vectorized along ``axis`` (the last one by default), so a
``(replications, pods)`` array is summarized per replication in one call.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from k8smodel._validate import check_vector, describe

__all__ = ["jain", "cov", "shares", "max_share", "peak_to_mean", "quantile_summary"]


def _as_float_array(
    x, name: str = "x", *, nonnegative: bool = True, allow_inf: bool = False
) -> np.ndarray:
    """``x`` as a float array of at least one dimension, not empty, without NaN.

    Allocations (``nonnegative``) are never negative; infinity only where ``allow_inf``.
    """
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers; got {describe(x)}") from None
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be an array of numbers; got {describe(x)}")
    arr = arr.astype(float)
    if arr.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension; got the scalar {x!r}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty; got {describe(x)}")
    if np.isnan(arr).any() or (not allow_inf and np.isinf(arr).any()):
        raise ValueError(f"{name} must be finite numbers; got {describe(x)}")
    if nonnegative and (arr < 0).any():
        raise ValueError(f"{name} must be non-negative numbers; got {describe(x)}")
    return arr


def _scaled(arr: np.ndarray, axis: int) -> np.ndarray:
    """``arr`` divided by its largest value along ``axis`` (where not 0).

    Every summary here is scale-free, and scaling first keeps squares and sums of values
    near the float limit (``[1e200, 1e200]``) from overflowing to inf and NaN.
    """
    top = arr.max(axis=axis, keepdims=True)
    return arr / np.where(top > 0, top, 1.0)


def _safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Divide, giving NaN where the denominator is 0 (an all-zero allocation has no fairness)."""
    num, den = np.broadcast_arrays(np.asarray(num, float), np.asarray(den, float))
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out[()] if out.ndim == 0 else out


def jain(x, axis: int = -1) -> np.ndarray | float:
    r"""Jain's fairness index of the allocations ``x`` along ``axis``.

    Parameters
    ----------
    x : array_like
        Non-negative allocations (requests, busy time, connections) per pod.
    axis : int, default -1
        The axis that runs over pods.

    Returns
    -------
    float or ndarray
        :math:`J(x) = (\sum x_i)^2 / (n \sum x_i^2)`, in :math:`[1/n, 1]`;
        1 when all pods get the same, :math:`1/n` when one pod gets all.
        NaN where every allocation is zero.

    References
    ----------
    R. Jain, D.-M. Chiu, W. Hawe, "A Quantitative Measure of Fairness and
    Discrimination for Resource Allocation in Shared Computer Systems",
    DEC-TR-301, 1984, eq. (1).
    """
    arr = _scaled(_as_float_array(x), axis)
    n = arr.shape[axis]
    return _safe_divide(arr.sum(axis=axis) ** 2, n * (arr**2).sum(axis=axis))


def cov(x, axis: int = -1) -> np.ndarray | float:
    r"""Coefficient of variation (population standard deviation / mean) along ``axis``.

    Parameters
    ----------
    x : array_like
        Values per pod.
    axis : int, default -1
        The axis that runs over pods.

    Returns
    -------
    float or ndarray
        ``std(x, ddof=0) / mean(x)``; 0 for equal values, NaN where the mean is 0.

    Notes
    -----
    Related to Jain's index by :math:`J = 1 / (1 + \mathrm{CoV}^2)` (Jain et al. 1984).
    """
    arr = _scaled(_as_float_array(x), axis)
    return _safe_divide(arr.std(axis=axis), arr.mean(axis=axis))


def shares(x, axis: int = -1) -> np.ndarray:
    """Each pod's fraction of the total along ``axis`` (NaN where the total is 0)."""
    arr = _scaled(_as_float_array(x), axis)
    return _safe_divide(arr, arr.sum(axis=axis, keepdims=True))


def max_share(x, axis: int = -1) -> np.ndarray | float:
    """The largest pod's fraction of the total along ``axis``, in ``[1/n, 1]``."""
    arr = _scaled(_as_float_array(x), axis)
    return _safe_divide(arr.max(axis=axis), arr.sum(axis=axis))


def peak_to_mean(x, axis: int = -1) -> np.ndarray | float:
    """Largest value over the mean along ``axis`` (``n * max_share``), in ``[1, n]``."""
    arr = _scaled(_as_float_array(x), axis)
    return _safe_divide(arr.max(axis=axis), arr.mean(axis=axis))


def quantile_summary(
    samples, q: Sequence[float] = (0.5, 0.9, 0.95, 0.99), axis: int = -1
) -> pd.DataFrame:
    """Mean, standard deviation and quantiles of ``samples`` along ``axis``.

    Parameters
    ----------
    samples : array_like
        1-D samples, or an array whose ``axis`` runs over samples (for
        example ``(replications, requests)``); ``inf`` is allowed and
        propagates into the mean and upper quantiles.
    q : sequence of float
        Quantile levels in ``[0, 1]``.
    axis : int, default -1
        The sample axis.

    Returns
    -------
    pandas.DataFrame
        Columns ``mean``, ``std``, ``p50``, ``p90`` ... (one per level, named
        by the level in percent), ``n``; one row per remaining index (a single
        row for 1-D input).
    """
    arr = _as_float_array(samples, "samples", nonnegative=False, allow_inf=True)
    levels = check_vector(q, "q", minimum=0, maximum=1)
    arr = np.moveaxis(arr, axis, -1)
    flat = arr.reshape(-1, arr.shape[-1])
    if flat.shape[-1] == 0:
        raise ValueError("samples is empty along the sample axis")
    with np.errstate(invalid="ignore"):
        columns = {
            "mean": flat.mean(axis=-1),
            "std": flat.std(axis=-1, ddof=1) if flat.shape[-1] > 1 else np.full(len(flat), np.nan),
        }
        # an infinite sample makes the spread infinite, not NaN (inf - inf)
        columns["std"] = np.where(np.isinf(flat).any(axis=-1), np.inf, columns["std"])
        # interpolating towards an infinite sample is infinite (numpy gives inf - inf = NaN)
        quantiles = np.quantile(flat, levels, axis=-1)
        quantiles = np.where(np.isnan(quantiles), np.inf, quantiles)
    for level, values in zip(levels, quantiles, strict=True):
        columns[f"p{100 * level:g}"] = values
    columns["n"] = np.full(len(flat), flat.shape[-1])
    return pd.DataFrame(columns)

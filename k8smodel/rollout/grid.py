"""Grid algebra of the rollout theory: two-row laws (total, atomic) on a grid of step ``h``.

A law is an array of shape ``(2, n)``: row 0 the probability of each grid point ``i h`` (the
mass of its cell ``[(i - 1/2) h, (i + 1/2) h)``), row 1 the part of it that is a point mass
exactly at ``i h``. Sums are convolutions (:func:`k8smodel.rollout.timing._law_conv`, FFT
powers here), maxima products of CDFs; the CDF of a law is piecewise linear within cells and
jumps at the atoms.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from k8smodel._validate import check_array, describe
from k8smodel.rollout.timing import fft_size, law_conv, law_point


def knots(
    grid: np.ndarray, pmf: np.ndarray, atoms: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Knots of the CDF: piecewise linear with jumps at the atoms.

    A point's continuous mass is spread over its cell ``[x - h/2, x + h/2)``, its atom is a
    jump at ``x`` (the knots repeat ``x`` there).
    """
    h = grid[1] - grid[0]
    a = np.zeros_like(pmf) if atoms is None else np.minimum(atoms, pmf)
    cont = pmf - a
    before = np.concatenate([[0.0], np.cumsum(pmf)[:-1]])
    x = np.empty(3 * grid.size + 1)
    y = np.empty_like(x)
    x[0:-1:3], y[0:-1:3] = grid - 0.5 * h, before
    x[1:-1:3], y[1:-1:3] = grid, before + 0.5 * cont
    x[2:-1:3], y[2:-1:3] = grid, before + 0.5 * cont + a
    x[-1], y[-1] = grid[-1] + 0.5 * h, before[-1] + pmf[-1]
    return x, np.minimum(y, 1.0)


def law_cdf(
    grid: np.ndarray | None,
    pmf: np.ndarray | None,
    value: float | None,
    t: Any,
    atoms: np.ndarray | None = None,
) -> Any:
    """``P(X <= t)`` of a grid law (``value`` for a point mass), right-continuous."""
    t = check_array(t, "t_s", allow_inf=True)
    if value is not None:
        out = (t >= value).astype(float)
    else:
        assert grid is not None and pmf is not None
        x, y = knots(grid, pmf, atoms)
        j = np.clip(np.searchsorted(x, t, side="right") - 1, 0, x.size - 2)  # last knot <= t
        dx = x[j + 1] - x[j]
        frac = np.where(dx > 0, (t - x[j]) / np.where(dx > 0, dx, 1.0), 0.0)
        out = y[j] + np.clip(frac, 0.0, 1.0) * (y[j + 1] - y[j])
        out = np.where(t < x[0], 0.0, np.where(t >= x[-1], y[-1], out))
    return out[()] if out.ndim == 0 else out


def law_ppf(
    grid: np.ndarray | None,
    pmf: np.ndarray | None,
    value: float | None,
    q: Any,
    atoms: np.ndarray | None = None,
) -> Any:
    """The smallest ``t`` with ``law_cdf(t) >= q`` (linear within cells)."""
    raw = np.asarray(q)
    if raw.dtype.kind not in "iuf":
        raise TypeError(f"q must be probabilities (numbers) in [0, 1]; got {describe(q)}")
    q = raw.astype(float)
    if np.any(np.isnan(q) | (q < 0) | (q > 1)):
        raise ValueError(f"q must be probabilities in [0, 1] (no NaN); got {q!r}")
    if value is not None:
        out = np.full(q.shape, value)
    else:
        assert grid is not None and pmf is not None
        x, y = knots(grid, pmf, atoms)
        i = np.clip(np.searchsorted(y, q, side="left"), 1, y.size - 1)  # first knot with y >= q
        dy = y[i] - y[i - 1]
        frac = np.where(dy > 0, (q - y[i - 1]) / np.where(dy > 0, dy, 1.0), 1.0)
        out = x[i - 1] + np.clip(frac, 0.0, 1.0) * (x[i] - x[i - 1])
        # the first knot sits half a grid step below 0; no operation ends before it starts
        out = np.maximum(out, 0.0)
    return out[()] if out.ndim == 0 else out


def power(law: np.ndarray, k: int, n: int) -> np.ndarray:
    """``k``-fold convolution power of a two-row law by FFT, truncated to ``n`` points."""
    if k == 0:
        return law_point(0.0, 1.0, n)
    if k == 1:
        return law[:, :n].copy()
    size = fft_size(2 * n)
    out = np.fft.irfft(np.fft.rfft(law, size, axis=1) ** k, size, axis=1)[:, :n]
    out = np.clip(out, 0.0, None)
    out[1] = np.minimum(out[1], out[0])
    return out


def _point_cdf(law: np.ndarray) -> np.ndarray:
    """Right-continuous CDF at each grid point: earlier cells, this atom, half this cell."""
    return np.cumsum(law[0]) - 0.5 * (law[0] - law[1])


def max_of(laws_and_counts: list[tuple[np.ndarray, int]], n: int) -> np.ndarray:
    """Law of the maximum of independent variables: ``prod F_i ** c_i``.

    The atom of the maximum at a point ``x`` is ``prod F_i(x)^c_i - prod F_i(x-)^c_i``.
    """
    cdf, at, below = np.ones(n), np.ones(n), np.ones(n)
    for law, c in laws_and_counts:
        cdf = cdf * np.minimum(np.cumsum(law[0]), 1.0) ** c
        point = np.clip(_point_cdf(law), 0.0, 1.0)
        at = at * point**c
        below = below * np.clip(point - law[1], 0.0, 1.0) ** c
    total = np.clip(np.diff(np.concatenate([[0.0], cdf])), 0.0, None)
    return np.stack([total, np.clip(at - below, 0.0, total)])


def shift(law: np.ndarray, x: float, h: float, n: int) -> np.ndarray:
    """The law of ``X + x``."""
    return law_conv(law, law_point(x, h, n), n) if x else law


def moments(law: np.ndarray, h: float) -> tuple[float, float]:
    """Mean and variance of a grid law (normalized by its total mass)."""
    pmf = law[0]
    t = np.arange(pmf.size) * h
    tot = pmf.sum()
    mu = float((t * pmf).sum() / tot)
    return mu, float(((t - mu) ** 2 * pmf).sum() / tot)

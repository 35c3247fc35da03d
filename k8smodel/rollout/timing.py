"""Per-pod time laws: sampling in bulk for the simulation, and discretized laws for the theory.

A pod's life from creation: scheduling, volume provisioning/attach, image pull, container start
(the pod is *running*), application warm-up until the readiness probe would pass, then the first
successful probe on the probe grid (the pod is *ready*), then ``min_ready_seconds`` (it is
*available*). On deletion it terminates after ``min(actual shutdown, termination grace)``.
The pod is described by :class:`k8smodel.rollout.PodTiming`; the kubelet rules used here
(probe grid, back-off) are :func:`k8smodel.rollout.probe_delay` and
:func:`k8smodel.rollout.backoff_delays`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from k8smodel.rollout.semantics import backoff_delays, probe_delay
from k8smodel.rollout.spec import PodTiming

__all__ = [
    "law_conv",
    "law_point",
    "conv",
    "fft_size",
    "startup_law",
    "termination_law",
    "sample_startup",
    "sample_termination",
    "startup_upper_s",
    "startup_pmf",
    "termination_pmf",
    "TAIL",
]

#: Probability mass the theory grids may leave out (upper quantiles, number of crash restarts).
TAIL = 1e-10


def _is_frozen_dist(x) -> bool:
    return hasattr(x, "rvs") and hasattr(x, "cdf") and hasattr(x, "ppf") and hasattr(x, "support")


def _draw(value, size, gen) -> np.ndarray:
    if _is_frozen_dist(value):
        out = np.asarray(value.rvs(size=size, random_state=gen), dtype=float)
        return np.maximum(out, 0.0)
    return np.full(size, float(value))


def sample_startup(
    timing: PodTiming, size, gen: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``(running, ready)`` offsets from pod creation, each of shape ``size``.

    Parameters
    ----------
    timing : PodTiming
        The pod.
    size : int or tuple
        Output shape, e.g. ``(runs, pods)``.
    gen : numpy.random.Generator
        Source of randomness (all variates drawn in bulk).

    Returns
    -------
    tuple of ndarray
        Time until the first container start (phase Running) and until Ready.
    """
    running = _draw(timing.schedule, size, gen)
    for name in ("attach", "pull", "start"):
        v = getattr(timing, name)
        if _is_frozen_dist(v) or v != 0:
            running = running + _draw(v, size, gen)
    start_final = running
    if timing.failure_p > 0:
        fails = gen.geometric(1.0 - timing.failure_p, size=size) - 1
        total = int(fails.sum())
        if total:
            b = backoff_delays(
                int(fails.max()), initial_s=timing.backoff_initial_s, cap_s=timing.backoff_cap_s
            )
            idx = np.repeat(np.arange(fails.size), fails.ravel())
            cycle = _draw(timing.warmup, total, gen) + _draw(timing.start, total, gen)
            extra = np.bincount(idx, weights=cycle, minlength=fails.size).reshape(fails.shape)
            start_final = running + extra + b[fails]
    warm = _draw(timing.warmup, size, gen)
    ready = start_final + probe_delay(
        warm, period_s=timing.probe_period_s, initial_delay_s=timing.probe_initial_delay_s
    )
    return running, ready


def sample_termination(timing: PodTiming, size, gen: np.random.Generator) -> np.ndarray:
    """Draw termination durations ``min(actual, grace)`` in bulk.

    Parameters
    ----------
    timing : PodTiming
        The pod.
    size : int or tuple
        Output shape, e.g. ``(runs, pods)``.
    gen : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    ndarray
        Seconds from deletion until the old pod is gone; the full grace period when
        ``termination`` is ``None``.
    """
    if timing.termination is None:
        return np.full(size, float(timing.termination_grace_s))
    return np.minimum(_draw(timing.termination, size, gen), timing.termination_grace_s)


def _upper(value, tail: float) -> float:
    if _is_frozen_dist(value):
        return float(value.ppf(1.0 - tail))
    return float(value)


def startup_upper_s(timing: PodTiming, tail: float = TAIL) -> float:
    """A time by which all but about ``tail`` of the ready-time mass has arrived.

    Parameters
    ----------
    timing : PodTiming
        The pod.
    tail : float
        Probability left out per random phase (default ``TAIL`` = 1e-10).

    Returns
    -------
    float
        Seconds: the sum of the phases' ``1 - tail`` quantiles, one probe period and the
        initial delay, plus, with ``failure_p > 0``, as many crash cycles and back-offs as
        have probability above ``tail``. Used to size the theory's grids.
    """
    base = sum(_upper(getattr(timing, n), tail) for n in ("schedule", "attach", "pull", "start"))
    base += _upper(timing.warmup, tail) + timing.probe_period_s + timing.probe_initial_delay_s
    if timing.failure_p > 0:
        fmax = _max_failures(timing.failure_p, tail)
        cyc = _upper(timing.warmup, tail) + _upper(timing.start, tail)
        base += (
            fmax * cyc
            + backoff_delays(fmax, initial_s=timing.backoff_initial_s, cap_s=timing.backoff_cap_s)[
                -1
            ]
        )
    return base


def startup_pmf(timing: PodTiming, h: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Discretized laws of the ready time and the available time on a grid of step ``h``.

    Parameters
    ----------
    timing : PodTiming
        The pod.
    h : float
        Grid step in seconds.
    n : int
        Grid length.

    Returns
    -------
    tuple of ndarray
        Probability masses at ``0, h, 2h, ...`` for the time from creation to Ready and to
        Available.

    Notes
    -----
    Continuous phases are discretized by their mass in ``[(i - 1/2) h, (i + 1/2) h)``;
    numbers and probe-grid points are split linearly between the two nearest grid points
    (which keeps the mean exact). Sums are convolutions (FFT); the probe grid maps the
    warm-up law onto the points ``d + kP`` with masses ``F_W(d + kP) - F_W(d + (k-1)P)``.
    A failure adds ``f`` independent (start + warm-up) cycles and the fixed back-off sum
    ``B_f`` with probability ``(1 - p) p**f`` (a geometric mixture), for ``f`` up to the
    count whose probability ``p**f`` falls below ``TAIL`` (1e-10) or whose back-off alone
    ends beyond the grid; the left-out mass is missing from the result (the pmfs sum to
    less than 1 by that much).
    """
    ready, avail = startup_law(timing, h, n)
    return ready[0], avail[0]


def startup_law(timing: PodTiming, h: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`startup_pmf` with the point masses kept apart: arrays of shape ``(2, n)``.

    Parameters
    ----------
    timing : PodTiming
        The pod.
    h : float
        Grid step in seconds.
    n : int
        Grid length.

    Returns
    -------
    tuple of ndarray
        For the ready and the available time: row 0 the probability of each grid point
        (as :func:`startup_pmf`), row 1 the part of it that sits exactly on the point (an
        atom: a number of seconds, a probe instant, a back-off sum on the grid), the rest
        being spread over the point's cell. Sums keep atoms atomic (``atom * atom``), so
        the theory's CDF jumps where the true one does.
    """
    pre = law_point(0.0, h, n)
    for name in ("schedule", "attach", "pull", "start"):
        pre = law_conv(pre, _law_phase(getattr(timing, name), h, n), n)
    if timing.failure_p > 0:
        p = timing.failure_p
        fmax = _max_failures(p, TAIL)
        b = backoff_delays(fmax, initial_s=timing.backoff_initial_s, cap_s=timing.backoff_cap_s)
        cycle = law_conv(_law_phase(timing.warmup, h, n), _law_phase(timing.start, h, n), n)
        mix = np.zeros((2, n))
        acc = law_point(0.0, h, n)
        for f in range(fmax + 1):
            if b[f] >= (n - 1) * h:
                break  # this many crashes end beyond the grid: their mass is tail mass
            mix += (1 - p) * p**f * law_conv(acc, law_point(b[f], h, n), n)
            acc = law_conv(acc, cycle, n)
        pre = law_conv(pre, mix, n)
    probe = _law_probe(timing.warmup, timing.probe_period_s, timing.probe_initial_delay_s, h, n)
    ready = law_conv(pre, probe, n)
    avail = law_conv(ready, law_point(timing.min_ready_seconds, h, n), n)
    return ready, avail


def termination_pmf(timing: PodTiming, h: float, n: int) -> np.ndarray:
    """Discretized law of the termination time ``min(actual, grace)``.

    Parameters
    ----------
    timing : PodTiming
        The pod.
    h : float
        Grid step in seconds.
    n : int
        Grid length.

    Returns
    -------
    ndarray
        Probability masses at ``0, h, 2h, ...``: the mass of each cell
        ``[(i - 1/2) h, (i + 1/2) h)`` below the grace period, and the probability of
        reaching the grace period as a point mass there (split between its two nearest
        grid points).
    """
    return termination_law(timing, h, n)[0]


def termination_law(timing: PodTiming, h: float, n: int) -> np.ndarray:
    """:func:`termination_pmf` with its point masses kept apart, shape ``(2, n)``.

    Parameters
    ----------
    timing : PodTiming
        The pod.
    h : float
        Grid step in seconds.
    n : int
        Grid length.

    Returns
    -------
    ndarray
        Row 0 the probability of each grid point, row 1 its atomic part: the probability
        ``P(actual >= grace)`` of being killed at the grace period (and any numeric
        termination) when it falls on the grid.
    """
    g = float(timing.termination_grace_s)
    if timing.termination is None:
        return law_point(g, h, n)
    if not _is_frozen_dist(timing.termination):
        return law_point(min(float(timing.termination), g), h, n)
    edges = np.clip((np.arange(n + 1) - 0.5) * h, 0.0, g)
    cdf = timing.termination.cdf(edges)
    cdf[0] = 0.0
    pmf = np.clip(np.diff(cdf), 0.0, None)
    return np.stack([pmf, np.zeros(n)]) + float(timing.termination.sf(g)) * law_point(g, h, n)


def _max_failures(p: float, tail: float) -> int:
    if p <= 0:
        return 0
    return int(np.ceil(np.log(tail) / np.log(p)))


def _point(x: float, h: float, n: int) -> np.ndarray:
    """Unit mass at ``x`` split linearly between the neighbouring grid points."""
    out = np.zeros(n)
    pos = x / h
    i = int(np.floor(pos + 1e-9))
    frac = pos - i
    if frac < 1e-9:
        frac = 0.0
    if i >= n - 1:
        raise ValueError(f"grid too short for {x} s (step {h}, length {n})")
    out[i] += 1.0 - frac
    out[i + 1] += frac
    return out


def _phase_pmf(value, h: float, n: int) -> np.ndarray:
    if not _is_frozen_dist(value):
        return _point(float(value), h, n)
    edges = (np.arange(n + 1) - 0.5) * h
    cdf = value.cdf(np.maximum(edges, 0.0))
    cdf[0] = 0.0
    pmf = np.diff(cdf)
    return np.clip(pmf, 0.0, None)


def _probe_pmf(warmup, period: float, delay: float, h: float, n: int) -> np.ndarray:
    if not _is_frozen_dist(warmup):
        r = float(probe_delay(float(warmup), period_s=period, initial_delay_s=delay))
        return _point(r, h, n)
    kmax = max(int(np.ceil((n * h - delay) / period)) - 1, 0)
    pts = delay + period * np.arange(kmax + 1)
    mass = np.diff(np.concatenate([[0.0], warmup.cdf(pts)]))
    out = np.zeros(n)
    pos = pts / h
    i = np.floor(pos + 1e-9).astype(int)
    frac = np.where(pos - i < 1e-9, 0.0, pos - i)
    ok = i < n - 1
    np.add.at(out, i[ok], mass[ok] * (1 - frac[ok]))
    np.add.at(out, i[ok] + 1, mass[ok] * frac[ok])
    return out


def _on_grid(x: float, h: float) -> bool:
    pos = x / h
    return abs(pos - round(pos)) < 1e-9


def law_point(x: float, h: float, n: int) -> np.ndarray:
    """Unit mass at ``x`` as a two-row law: atomic when ``x`` is a grid point."""
    p = _point(x, h, n)
    return np.stack([p, p if _on_grid(x, h) else np.zeros(n)])


def _law_phase(value: Any, h: float, n: int) -> np.ndarray:
    if not _is_frozen_dist(value):
        return law_point(float(value), h, n)
    return np.stack([_phase_pmf(value, h, n), np.zeros(n)])


def _law_probe(warmup: Any, period: float, delay: float, h: float, n: int) -> np.ndarray:
    """The probe instants ``d + kP`` as atoms (those that fall on the grid)."""
    if not _is_frozen_dist(warmup):
        r = float(probe_delay(float(warmup), period_s=period, initial_delay_s=delay))
        return law_point(r, h, n)
    total = _probe_pmf(warmup, period, delay, h, n)
    if _on_grid(period, h) and _on_grid(delay, h):
        return np.stack([total, total])
    return np.stack([total, np.zeros(n)])


def law_conv(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Convolution of two-row laws: totals convolve, and atoms with atoms stay atoms."""
    total = conv(a[0], b[0], n)
    atoms = np.minimum(conv(a[1], b[1], n), total)
    return np.stack([total, atoms])


def conv(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Convolution of two pmfs, truncated to length ``n`` (FFT for long inputs)."""
    ia, ib = np.flatnonzero(a), np.flatnonzero(b)
    if ia.size == 0 or ib.size == 0:
        return np.zeros(n)
    if ia.size == 1:
        out = np.zeros(n)
        k = ia[0]
        out[k:] = a[k] * b[: n - k]
        return out
    if ib.size == 1:
        return conv(b, a, n)
    if ia.size <= 2 or ib.size <= 2:
        small, big = (a, b) if ia.size <= 2 else (b, a)
        out = np.zeros(n)
        for k in np.flatnonzero(small):
            out[k:] += small[k] * big[: n - k]
        return out
    m = fft_size(2 * n)
    out = np.fft.irfft(np.fft.rfft(a, m) * np.fft.rfft(b, m), m)[:n]
    return np.clip(out, 0.0, None)


def fft_size(n: int) -> int:
    """The smallest power of two at least ``n`` (and 2)."""
    return 1 << int(np.ceil(np.log2(max(n, 2))))

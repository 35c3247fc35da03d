"""Completion-time theory: sums by convolution, maxima by products of CDFs, and their composition.

The per-pod laws come from :meth:`PodTiming.startup_pmf` and :meth:`PodTiming.termination_pmf`
on a common time grid. An OrderedReady operation is a sum of independent per-pod times (its law
is a convolution power, computed with the FFT); a Parallel one is a maximum (a product of
CDFs); maxUnavailable batches compose the two. Deterministic timings have exact closed forms
(:func:`deterministic_completion`).

References
----------
W. Feller, *An Introduction to Probability Theory and Its Applications*, Vol. II, 2nd ed.,
Wiley 1971, §V.4 (convolutions) and H. A. David, H. N. Nagaraja, *Order Statistics*, 3rd ed.,
Wiley 2003, §2.1 (the maximum of independent variables has CDF ``prod F_i``). The FFT for
convolution: Cooley & Tukey, Math. Comp. 19 (1965) 297-301, doi:10.1090/S0025-5718-1965-0178586-1.
Greedy list scheduling never starts a job later than a batch-synchronous schedule of the same
jobs (the argument is in :func:`completion_time`, Notes); R. L. Graham, "Bounds on
multiprocessing timing anomalies", SIAM J. Appl. Math. 17 (1969) 416-429,
doi:10.1137/0117039, for list scheduling itself.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from k8smodel.rollout.semantics import Deployment, slow_start_batches
from k8smodel.rollout.simulate import _check_operation, _check_spec, _check_timing, _plan
from k8smodel.rollout.timing import PodTiming, _conv, _fft_size, _point

__all__ = ["CompletionTime", "completion_time", "deterministic_completion"]

_MAX_GRID = 1 << 19


@dataclass(frozen=True)
class CompletionTime:
    """The law of an operation's completion time.

    Attributes
    ----------
    grid_s : ndarray or None
        Grid points (seconds); ``None`` for a point mass.
    pmf : ndarray or None
        Probability of each grid point (the mass of the cell around it).
    value_s : float or None
        The completion time when it is deterministic (a point mass), else ``None``.
    exact : bool
        False when the law is a bound (see ``note``).
    note : str
        How the law was obtained.
    tail_mass : float
        Probability mass beyond the grid (lost by truncation).
    """

    grid_s: np.ndarray | None
    pmf: np.ndarray | None
    value_s: float | None
    exact: bool
    note: str
    tail_mass: float = 0.0
    _mean: float | None = None
    _var: float | None = None

    @property
    def deterministic(self) -> bool:
        """True for a point mass."""
        return self.value_s is not None

    def _cdf_points(self):
        h = self.grid_s[1] - self.grid_s[0]
        x = np.concatenate([[self.grid_s[0] - 0.5 * h], self.grid_s + 0.5 * h])
        y = np.concatenate([[0.0], np.cumsum(self.pmf)])
        return x, np.minimum(y, 1.0)

    def cdf(self, t_s):
        """Probability that the operation is done by ``t_s``.

        Parameters
        ----------
        t_s : float or array_like
            Times in seconds.

        Returns
        -------
        float or ndarray
            ``P(completion <= t)``, the shape of ``t_s`` (piecewise linear between grid cells).
        """
        t = np.asarray(t_s, dtype=float)
        if self.deterministic:
            out = (t >= self.value_s).astype(float)
        else:
            x, y = self._cdf_points()
            out = np.interp(t, x, y, left=0.0, right=y[-1])
        return out[()] if out.ndim == 0 else out

    def sf(self, t_s):
        """Probability of missing a deadline: the survival function.

        Parameters
        ----------
        t_s : float or array_like
            Deadlines in seconds.

        Returns
        -------
        float or ndarray
            ``P(completion > t) = 1 - cdf(t)``, the shape of ``t_s``.
        """
        return 1.0 - self.cdf(t_s)

    def ppf(self, q):
        """Quantile function: the time by which a fraction ``q`` of operations is done.

        Parameters
        ----------
        q : float or array_like
            Probabilities in ``[0, 1]``.

        Returns
        -------
        float or ndarray
            Seconds, the shape of ``q`` (the inverse of the piecewise linear :meth:`cdf`).

        Raises
        ------
        ValueError
            If some ``q`` is outside ``[0, 1]`` or NaN.
        """
        q = np.asarray(q, dtype=float)
        if np.any(np.isnan(q) | (q < 0) | (q > 1)):
            raise ValueError(f"q must be probabilities in [0, 1] (no NaN); got {q!r}")
        if self.deterministic:
            out = np.full(q.shape, self.value_s)
        else:
            x, y = self._cdf_points()
            i = np.clip(np.searchsorted(y, q, side="left"), 1, y.size - 1)
            dy = y[i] - y[i - 1]
            frac = np.where(dy > 0, (q - y[i - 1]) / np.where(dy > 0, dy, 1.0), 1.0)
            out = x[i - 1] + np.clip(frac, 0.0, 1.0) * (x[i] - x[i - 1])
        return out[()] if out.ndim == 0 else out

    def mean(self) -> float:
        """Mean completion time, seconds."""
        if self.deterministic:
            return float(self.value_s)
        if self._mean is not None:
            return self._mean
        return float(np.sum(self.grid_s * self.pmf) / np.sum(self.pmf))

    def var(self) -> float:
        """Variance of the completion time, seconds squared."""
        if self.deterministic:
            return 0.0
        if self._var is not None:
            return self._var
        p = self.pmf / np.sum(self.pmf)
        mu = np.sum(self.grid_s * p)
        return float(np.sum((self.grid_s - mu) ** 2 * p))

    def std(self) -> float:
        """Standard deviation, seconds."""
        return math.sqrt(self.var())


def deterministic_completion(
    spec, operation: str, timing: PodTiming, *, from_replicas=None, to_replicas=None
) -> float:
    """Exact completion time when every phase is a number (closed forms).

    Parameters
    ----------
    spec : StatefulSet or Deployment
    operation : {"scale_up", "scale_down", "rolling_update"}
    timing : PodTiming
        Must be deterministic (numbers only, ``failure_p == 0``).
    from_replicas, to_replicas : int, optional
        As in :func:`k8smodel.rollout.simulate`.

    Returns
    -------
    float
        With ``m`` pods touched, per-pod available time ``A`` (creation to Ready plus
        minReadySeconds), termination ``D`` and ``k`` pods allowed down at once:

        * OrderedReady scale up ``m A``; scale down ``m D``; Parallel (and Deployment) scale
          up ``o + A`` and scale down ``o + D`` with ``o`` the slow-start offset of the last
          batch;
        * rolling update, one at a time (OrderedReady and Parallel alike): ``m (D + A)``;
          OrderedReady with ``k`` batches ``ceil(m/k) D + m A`` (within a batch each
          recreation waits for the previous one, and ``D`` has passed for all after the
          first); Parallel window ``ceil(m/k) (D + A)``;
        * Deployment rolling update ``ceil(m/k) A`` with ``k = surge + unavailable``;
        * ``OnDelete``: ``inf``; nothing to touch: 0.
    """
    _check_spec(spec)
    _check_operation(operation)
    _check_timing(timing)
    t = timing.deterministic_times()
    plan = _plan(spec, operation, from_replicas, to_replicas)
    if len(plan["ordinals"]) == 0:
        return 0.0
    return _closed_form(spec, plan, t["available"], t["termination"])


def _closed_form(spec, plan, a: float, d: float) -> float:
    """Completion time of ``plan`` when every pod takes ``a`` to be available and ``d`` to end.

    The one per-mode table behind :func:`deterministic_completion` (exact values) and the grid
    length of :func:`completion_time` (with per-pod upper quantiles for ``a`` and ``d``, it
    bounds the operation: every formula is nondecreasing in ``a`` and ``d``).
    """
    operation, mode = plan["operation"], plan["mode"]
    m = len(plan["ordinals"])
    if m == 0:
        return 0.0
    api = float(spec.api_call_s)
    last_offset = len(slow_start_batches(m)) * api if api > 0 else 0.0
    if operation == "scale_up":
        return m * a if mode == "ordered" else last_offset + a
    if operation == "scale_down":
        if mode == "ordered":
            return m * d
        return d if isinstance(spec, Deployment) else last_offset + d
    nb = -(-m // min(plan.get("slots", 1), m))
    return {
        "on_delete": math.inf,
        "ordered_serial": m * (d + a),
        "parallel_serial": m * (d + a),
        "ordered_batches": nb * d + m * a,
        "parallel_window": nb * (d + a),
        "deployment": nb * a,
    }[mode]


def _power(pmf: np.ndarray, k: int, n: int) -> np.ndarray:
    """``k``-fold convolution power of a pmf by FFT, truncated to ``n`` points."""
    if k == 0:
        return _point(0.0, 1.0, n)
    if k == 1:
        return pmf[:n].copy()
    size = _fft_size(2 * n)
    out = np.fft.irfft(np.fft.rfft(pmf, size) ** k, size)[:n]
    return np.clip(out, 0.0, None)


def _max_of(pmfs_and_counts, n):
    """Law of the maximum of independent variables: ``prod F_i ** c_i``."""
    cdf = np.ones(n)
    for pmf, c in pmfs_and_counts:
        cdf = cdf * np.minimum(np.cumsum(pmf), 1.0) ** c
    return np.diff(np.concatenate([[0.0], cdf]))


def _shift(pmf, x, h, n):
    return _conv(pmf, _point(x, h, n), n) if x else pmf


def _moments(pmf, h):
    t = np.arange(pmf.size) * h
    tot = pmf.sum()
    mu = float((t * pmf).sum() / tot)
    return mu, float(((t - mu) ** 2 * pmf).sum() / tot)


def completion_time(
    spec,
    operation: str,
    timing: PodTiming,
    *,
    from_replicas: int | None = None,
    to_replicas: int | None = None,
    grid_s: float | None = None,
) -> CompletionTime:
    """The theoretical law of an operation's completion time.

    Parameters
    ----------
    spec : StatefulSet or Deployment
    operation : {"scale_up", "scale_down", "rolling_update"}
    timing : PodTiming
    from_replicas, to_replicas : int, optional
        As in :func:`k8smodel.rollout.simulate`.
    grid_s : float, optional
        Grid step; by default the finest step that keeps the grid at most 2**19 points
        (and not finer than 0.01 s).

    Returns
    -------
    CompletionTime
        With ``cdf``, ``sf``, ``ppf``, ``mean``, ``var``. A point mass with the closed form of
        :func:`deterministic_completion` when the timing is deterministic.

    Notes
    -----
    Same controller rules as :func:`k8smodel.rollout.simulate`. Per pod: ``S`` (creation to
    Ready), ``A = S + minReady``, ``D`` (termination). Laws on the grid:

    * OrderedReady scale up: ``A^{*m}``; scale down ``D^{*m}``; one-at-a-time rolling update
      ``(D * A)^{*m}`` (OrderedReady and Parallel: both wait for each replacement to be
      available); mean and variance are ``m`` times the per-step ones (closed form for sums).
    * Parallel scale up/down: the maximum over pods, ``prod_b F(t - o_b)^{n_b}`` over
      slow-start batches ``b`` of size ``n_b`` issued at ``o_b``.
    * OrderedReady with ``k`` batches: within a batch ``E_1 = D_1 + A_1`` and
      ``E_i = max(E_{i-1}, D_i) + A_i`` (the law of a max of independent variables is the
      product of CDFs); batches add up by convolution. Exact.
    * Parallel window (``k`` unavailable at a time, each job ``D + A``) and Deployment
      (``surge + unavailable`` new pods at a time) are greedy list schedules. Their law is
      exact for ``k = 1`` and ``k >= m``; in between the function returns the law of the
      batch-synchronous schedule (``ceil(m/k)`` batches, each the max of ``k`` jobs), a
      stochastic **upper bound** (``exact=False``): by induction over jobs, a greedy start is
      never later than the end of the previous batch, because by then all earlier batches are
      done and fewer than ``k`` jobs of the current batch run.
    """
    _check_spec(spec)
    _check_operation(operation)
    _check_timing(timing)
    if grid_s is not None and (
        isinstance(grid_s, bool) or not isinstance(grid_s, numbers.Real) or not 0 < grid_s < np.inf
    ):
        raise ValueError(f"grid_s must be a finite number > 0 or None; got {grid_s!r}")
    plan = _plan(spec, operation, from_replicas, to_replicas)
    m, mode = len(plan["ordinals"]), plan["mode"]
    if m == 0 or mode == "on_delete" or timing.deterministic:
        if m == 0:
            v = 0.0
        elif mode == "on_delete":
            v = math.inf
        else:
            v = deterministic_completion(
                spec, operation, timing, from_replicas=from_replicas, to_replicas=to_replicas
            )
        return CompletionTime(None, None, v, True, "closed form (deterministic)")

    mrs = float(timing.min_ready_seconds)
    k = min(plan.get("slots", 1), m)
    nb = -(-m // k)
    api = float(spec.api_call_s)
    sizes = slow_start_batches(m) if api > 0 else [m]
    offsets = (np.arange(len(sizes)) + 1.0) * api if api > 0 else np.zeros(1)
    u_a = timing.startup_upper_s() + mrs
    u_d = float(timing.termination_grace_s)
    upper = _closed_form(spec, plan, u_a, u_d)
    upper = upper * 1.02 + 2.0
    h = float(grid_s) if grid_s is not None else max(upper / (_MAX_GRID - 4), 0.01)
    n = int(np.ceil(upper / h)) + 4
    # per-pod laws need only a per-pod grid; pad them to the operation's grid afterwards
    n_pod = min(n, int(np.ceil((u_a + u_d) * 1.02 / h)) + 8)
    a_pmf = np.pad(timing.startup_pmf(h, n_pod)[1], (0, n - n_pod))
    d_pmf = np.pad(timing.termination_pmf(h, n_pod), (0, n - n_pod))
    exact, note = True, ""
    mean = var = None

    def from_sum(step):
        nonlocal mean, var
        mu, v = _moments(step, h)
        mean, var = m * mu, m * v
        return _power(step, m, n)

    if operation == "scale_up" and mode == "ordered":
        pmf, note = from_sum(a_pmf), "convolution power of the per-pod available time"
    elif operation == "scale_down" and mode == "ordered":
        pmf, note = from_sum(d_pmf), "convolution power of the termination"
    elif operation in ("scale_up", "scale_down"):
        base = a_pmf if operation == "scale_up" else d_pmf
        if isinstance(spec, Deployment) and operation == "scale_down":
            pmf = _max_of([(base, m)], n)
        else:
            pmf = _max_of(
                [(_shift(base, o, h, n), c) for o, c in zip(offsets, sizes, strict=True)], n
            )
        note = "maximum over pods (product of CDFs)"
    elif mode in ("ordered_serial", "parallel_serial"):
        pmf = from_sum(_conv(d_pmf, a_pmf, n))
        note = "convolution power of termination + available time"
    elif mode == "ordered_batches":

        def batch(b):
            # After i recreations the batch has taken at most u_d + i u_a: run the recursion on
            # a grid that grows with i (shorter FFTs), then pad to the operation's grid.
            def length(i):
                return min(n, int(np.ceil((u_d + i * u_a) * 1.02 / h)) + 8)

            L = length(1)
            e = _conv(d_pmf[:L], a_pmf[:L], L)
            for i in range(2, b + 1):
                L_prev, L = L, length(i)
                e = np.pad(e, (0, L - L_prev))
                e = _conv(_max_of([(e, 1), (d_pmf[:L], 1)], L), a_pmf[:L], L)
            return np.pad(e, (0, n - L))

        full, rest = m // k, m % k
        pmf = _power(batch(k), full, n)
        if rest:
            pmf = _conv(pmf, batch(rest), n)
        note = "batches: max-plus recursion within a batch, convolution across batches"
    else:
        job = a_pmf if mode == "deployment" else _conv(d_pmf, a_pmf, n)
        full, rest = m // k, m % k
        pmf = _power(_max_of([(job, k)], n), full, n)
        if rest:
            pmf = _conv(pmf, _max_of([(job, rest)], n), n)
        exact = nb == 1
        note = (
            "maximum of all jobs (exact: one batch)"
            if exact
            else "batch-synchronous schedule: a stochastic upper bound on the greedy window"
        )
    tail = max(0.0, 1.0 - float(pmf.sum()))
    return CompletionTime(np.arange(n) * h, pmf, None, exact, note, tail, mean, var)

"""Completion-time theory: sums by convolution, maxima by products of CDFs, and their composition.

The per-pod laws come from :func:`k8smodel.rollout.timing.startup_law` and
:func:`~k8smodel.rollout.timing.termination_law` on a common time grid, with their point
masses (a kill at the grace period, probe instants, back-off sums) carried as atoms; which pods are
touched, in which order and batches, comes from the public
:func:`~k8smodel.rollout.plan_operation`, the same plan the simulation follows. An
OrderedReady operation is a sum of independent per-pod times (its law is a convolution power,
computed with the FFT); a Parallel one is a maximum (a product of CDFs); maxUnavailable
batches compose the two. Deterministic timings have exact closed forms
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
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from k8smodel._validate import check_choice, check_real
from k8smodel.result import Result
from k8smodel.rollout.grid import law_cdf, law_ppf, max_of, moments, power, shift
from k8smodel.rollout.semantics import OperationPlan, plan_operation, slow_start_batches
from k8smodel.rollout.spec import DaemonSet, Deployment, PodTiming, StatefulSet, check_workload
from k8smodel.rollout.timing import (
    conv,
    law_conv,
    startup_law,
    startup_upper_s,
    termination_law,
)

__all__ = ["CompletionTime", "completion_time", "deterministic_completion"]

_MAX_GRID = 1 << 19
#: Probability mass lost beyond the grid above which a row is flagged.
_TAIL_FLAG = 1e-6


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class CompletionTime(Result):
    """The law of an operation's completion time: a :class:`k8smodel.Result` with cdf/sf/ppf.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row: the workload columns of :func:`k8smodel.rollout.simulate`, ``mean_s``,
        ``std_s``, ``p50_s``, ``p90_s``, ``p99_s``, ``deadline_s``, ``p_miss_deadline``,
        ``tail_mass``, ``method`` (``closed_form``, ``convolution_power``,
        ``max_product_cdf``, ``max_plus_recursion``, ``batch_synchronous_bound`` or
        ``renewal_approximation``), ``exact`` (False for the bound and the approximation)
        and ``flags`` (``upper_bound``, ``approximation``, ``tail_mass``).
    grid_s : ndarray or None
        Grid points (seconds); ``None`` for a point mass.
    pmf : ndarray or None
        Probability of each grid point (the mass of the cell around it).
    atoms : ndarray or None
        The part of ``pmf`` that sits exactly on the grid point (a point mass of the true
        law: a termination at the grace period, a probe instant, a deterministic phase);
        the CDF jumps there. The rest of a point's mass is spread over its cell.
    value_s : float or None
        The completion time when it is deterministic (a point mass), else ``None``.
    tail_mass : float
        Probability mass beyond the grid (lost by truncation).
    """

    grid_s: np.ndarray | None = None
    pmf: np.ndarray | None = None
    atoms: np.ndarray | None = None
    value_s: float | None = None
    tail_mass: float = 0.0

    @property
    def exact(self) -> bool:
        """False when the law is a bound (see ``notes``)."""
        return bool(self.summary["exact"].iloc[0])

    @property
    def deterministic(self) -> bool:
        """True for a point mass."""
        return self.value_s is not None

    def cdf(self, t_s: Any) -> Any:
        """Probability that the operation is done by ``t_s``.

        Parameters
        ----------
        t_s : float or array_like
            Times in seconds.

        Returns
        -------
        float or ndarray
            ``P(completion <= t)``, the shape of ``t_s``: piecewise linear within grid cells,
            with a jump at each point mass (right-continuous).
        """
        return law_cdf(self.grid_s, self.pmf, self.value_s, t_s, self.atoms)

    def sf(self, t_s: Any) -> Any:
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

    def ppf(self, q: Any) -> Any:
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
        return law_ppf(self.grid_s, self.pmf, self.value_s, q, self.atoms)

    def mean(self) -> float:
        """Mean completion time, seconds (the summary's ``mean_s``)."""
        return float(self.summary["mean_s"].iloc[0])

    def var(self) -> float:
        """Variance of the completion time, seconds squared."""
        return float(self.summary["std_s"].iloc[0]) ** 2

    def std(self) -> float:
        """Standard deviation, seconds."""
        return float(self.summary["std_s"].iloc[0])


def deterministic_completion(
    spec: StatefulSet | Deployment,
    operation: str,
    timing: PodTiming,
    *,
    from_replicas: int | None = None,
    to_replicas: int | None = None,
) -> float:
    """Exact completion time when every phase is a number (closed forms).

    Parameters
    ----------
    spec : StatefulSet or Deployment
        The workload.
    operation : {"scale_up", "scale_down", "rolling_update"}
        The operation.
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

    Examples
    --------
    >>> from k8smodel import rollout
    >>> timing = rollout.PodTiming(start=2, warmup=8, probe_period_s=5, termination=5)
    >>> deterministic_completion(rollout.StatefulSet(replicas=3), "rolling_update", timing)
    51.0
    """
    check_workload(spec, timing)
    plan = plan_operation(spec, operation, from_replicas=from_replicas, to_replicas=to_replicas)
    t = timing.deterministic_times()
    return _closed_form(plan, t["available"], t["termination"])


def _closed_form(plan: OperationPlan, a: float, d: float) -> float:
    """Completion time of ``plan`` when every pod takes ``a`` to be available and ``d`` to end.

    The one per-mode table behind :func:`deterministic_completion` (exact values) and the grid
    length of :func:`completion_time` (with per-pod upper quantiles for ``a`` and ``d``, it
    bounds the operation: every formula is nondecreasing in ``a`` and ``d``).
    """
    operation, mode, m = plan.operation, plan.mode, plan.touched
    if m == 0:
        return 0.0
    api = plan.api_call_s
    last_offset = len(slow_start_batches(m)) * api if api > 0 else 0.0
    if operation == "scale_up":
        return m * a if mode == "ordered" else last_offset + a
    if operation == "scale_down":
        if mode == "ordered":
            return m * d
        return d if plan.kind == "Deployment" else last_offset + d
    nb = -(-m // min(plan.slots or 1, m))
    return {
        "on_delete": math.inf,
        "ordered_serial": m * (d + a),
        "parallel_serial": m * (d + a),
        "ordered_batches": nb * d + m * a,
        "parallel_window": nb * (d + a),
        "deployment": nb * a,
        "daemon_unavailable": nb * (d + a),
        "daemon_surge": nb * a,
    }[mode]


@dataclass(frozen=True)
class _Law:
    grid_s: np.ndarray
    pmf: np.ndarray
    method: str
    exact: bool
    note: str
    mean: float | None = None
    var: float | None = None


def _window_renewal(job: np.ndarray, m: int, k: int, h: float, n: int) -> np.ndarray:
    """Approximate law of the makespan of ``m`` iid jobs greedily run on ``k < m`` slots.

    The last job starts at ``T``, the ``(m - k)``-th completion of ``k`` independent renewal
    processes; by the renewal central limit theorem the count ``N(t)`` is about normal with
    mean ``k (t / mu + (s^2 - mu^2) / (2 mu^2))`` and variance ``k t s^2 / mu^3`` (Cox,
    *Renewal Theory*, 1962, §4.5 and §6.3), so ``P(T <= t) = P(N(t) >= m - k)``. At ``T``
    the other ``k - 1`` slots hold jobs with about the equilibrium residual law
    ``F_R(x) = (1/mu) int_0^x (1 - F(u)) du``; the makespan is ``T`` plus the maximum of the
    last job and those residuals, taken independent of ``T``.
    """
    mu, var = moments(job, h)
    cdf = np.minimum(np.cumsum(job[0]), 1.0)
    residual = np.minimum(np.cumsum(1.0 - cdf) * h / mu, 1.0)
    tail_cdf = cdf * residual ** (k - 1)
    tail = np.diff(np.concatenate([[0.0], tail_cdf]))
    t = np.arange(n) * h
    mean_n = k * (t / mu + (var - mu**2) / (2 * mu**2))
    sd_n = np.sqrt(np.maximum(k * t * var / mu**3, 1e-300))
    p_started = special.ndtr((mean_n - (m - k - 0.5)) / sd_n)
    p_started[0] = 0.0
    start = np.diff(np.concatenate([[0.0], np.maximum.accumulate(p_started)]))
    return np.stack([conv(start, tail, n), np.zeros(n)])  # an approximation: no atoms


#: Grid steps that divide a whole second (or ten), so whole-second point masses (probe instants,
#: grace periods, back-off sums) fall on grid points and stay atoms.
_NICE_STEPS = (0.01, 0.02, 0.025, 0.05, 0.1, 0.125, 0.2, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0)


def _nice_step(h: float) -> float:
    """The smallest of :data:`_NICE_STEPS` at least ``h`` (a multiple of 10 s beyond)."""
    for step in _NICE_STEPS:
        if step >= h:
            return step
    return 10.0 * float(np.ceil(h / 10.0))


def _grid_law(
    plan: OperationPlan, timing: PodTiming, grid_s: float | None, window: str = "bound"
) -> _Law:
    """The completion-time law of ``plan`` on a grid (random timing, something to do)."""
    m, mode, operation = plan.touched, plan.mode, plan.operation
    mrs = float(timing.min_ready_seconds)
    k = min(plan.slots or 1, m)
    nb = -(-m // k)
    api = plan.api_call_s
    sizes = slow_start_batches(m) if api > 0 else [m]
    offsets = (np.arange(len(sizes)) + 1.0) * api if api > 0 else np.zeros(1)
    u_a = startup_upper_s(timing) + mrs
    u_d = float(timing.termination_grace_s)
    upper = _closed_form(plan, u_a, u_d) * 1.02 + 2.0
    h = float(grid_s) if grid_s is not None else _nice_step(upper / (_MAX_GRID - 4))
    n = int(np.ceil(upper / h)) + 4
    # per-pod laws need only a per-pod grid; pad them to the operation's grid afterwards
    n_pod = min(n, int(np.ceil((u_a + u_d) * 1.02 / h)) + 8)
    a_pmf = np.pad(startup_law(timing, h, n_pod)[1], ((0, 0), (0, n - n_pod)))
    d_pmf = np.pad(termination_law(timing, h, n_pod), ((0, 0), (0, n - n_pod)))
    grid = np.arange(n) * h

    def from_sum(step: np.ndarray, note: str) -> _Law:
        mu, v = moments(step, h)
        return _Law(grid, power(step, m, n), "convolution_power", True, note, m * mu, m * v)

    if operation == "scale_up" and mode == "ordered":
        return from_sum(a_pmf, "convolution power of the per-pod available time")
    if operation == "scale_down" and mode == "ordered":
        return from_sum(d_pmf, "convolution power of the termination time")
    if operation in ("scale_up", "scale_down"):
        base = a_pmf if operation == "scale_up" else d_pmf
        if plan.kind == "Deployment" and operation == "scale_down":
            pmf = max_of([(base, m)], n)
        else:
            shifted = [(shift(base, o, h, n), c) for o, c in zip(offsets, sizes, strict=True)]
            pmf = max_of(shifted, n)
        return _Law(grid, pmf, "max_product_cdf", True, "maximum over pods (product of CDFs)")
    if mode in ("ordered_serial", "parallel_serial"):
        return from_sum(law_conv(d_pmf, a_pmf, n), "convolution power of termination + available")
    if mode == "ordered_batches":
        pmf = _ordered_batches_law(d_pmf, a_pmf, m, k, u_a, u_d, h, n)
        note = "batches: max-plus recursion within a batch, convolution across batches"
        return _Law(grid, pmf, "max_plus_recursion", True, note)
    job = a_pmf if mode in ("deployment", "daemon_surge") else law_conv(d_pmf, a_pmf, n)
    if k == 1:
        return from_sum(job, "one at a time: convolution power of the per-node job")
    if window == "renewal" and nb > 1:
        note = (
            f"greedy window of {k} over {m} jobs: superposed-renewal normal approximation "
            "of the last start, plus the last job and k - 1 equilibrium residuals"
        )
        return _Law(grid, _window_renewal(job, m, k, h, n), "renewal_approximation", False, note)
    full, rest = m // k, m % k
    pmf = power(max_of([(job, k)], n), full, n)
    if rest:
        pmf = law_conv(pmf, max_of([(job, rest)], n), n)
    if nb == 1:
        return _Law(grid, pmf, "max_product_cdf", True, "maximum of all jobs (one batch)")
    note = (
        "batch-synchronous schedule: a stochastic upper bound on the greedy window "
        f"({nb} batches of {k}); the simulation gives the exact law"
    )
    return _Law(grid, pmf, "batch_synchronous_bound", False, note)


def _ordered_batches_law(d_pmf, a_pmf, m, k, u_a, u_d, h, n) -> np.ndarray:
    """OrderedReady with k > 1: ``E_i = max(E_{i-1}, D_i) + A_i`` in a batch, batches summed."""

    def batch(b: int) -> np.ndarray:
        # After i recreations the batch has taken at most u_d + i u_a: run the recursion on a
        # grid that grows with i (shorter FFTs), then pad to the operation's grid.
        def length(i: int) -> int:
            return min(n, int(np.ceil((u_d + i * u_a) * 1.02 / h)) + 8)

        size = length(1)
        e = law_conv(d_pmf[:, :size], a_pmf[:, :size], size)
        for i in range(2, b + 1):
            previous, size = size, length(i)
            e = np.pad(e, ((0, 0), (0, size - previous)))
            slowest = max_of([(e, 1), (d_pmf[:, :size], 1)], size)
            e = law_conv(slowest, a_pmf[:, :size], size)
        return np.pad(e, ((0, 0), (0, n - size)))

    full, rest = m // k, m % k
    pmf = power(batch(k), full, n)
    return law_conv(pmf, batch(rest), n) if rest else pmf


def completion_time(
    spec: StatefulSet | Deployment | DaemonSet,
    operation: str,
    timing: PodTiming,
    *,
    deadline_s: float | None = None,
    from_replicas: int | None = None,
    to_replicas: int | None = None,
    grid_s: float | None = None,
    window: str | None = None,
) -> CompletionTime:
    """The theoretical law of an operation's completion time.

    Parameters
    ----------
    spec : StatefulSet or Deployment
        The workload.
    operation : {"scale_up", "scale_down", "rolling_update"}
        The operation.
    timing : PodTiming
        Phase timings of every pod (independent across pods).
    deadline_s : float, optional
        Report ``p_miss_deadline = sf(deadline_s)`` in the summary (``inf`` allowed).
    from_replicas, to_replicas : int, optional
        As in :func:`k8smodel.rollout.simulate`.
    grid_s : float, optional
        Grid step; by default the finest step that keeps the grid at most 2**19 points
        (and not finer than 0.01 s).
    window : {"bound", "renewal"}, optional
        How a greedy window of ``k`` slots over ``m > k`` jobs is treated (Parallel with
        maxUnavailable, Deployment, DaemonSet): ``"bound"``, the batch-synchronous upper
        bound, or ``"renewal"``, a renewal-theory approximation (``exact=False`` either way).
        Default: ``"renewal"`` for a DaemonSet (thousands of nodes, where the bound is
        loose), ``"bound"`` otherwise.

    Returns
    -------
    CompletionTime
        A :class:`k8smodel.Result` whose summary has the columns of
        :func:`~k8smodel.rollout.simulate` that theory gives, with ``cdf``, ``sf``, ``ppf``,
        ``mean``, ``var``. A point mass with the closed form of
        :func:`deterministic_completion` when the timing is deterministic.

    Notes
    -----
    Same controller rules as :func:`k8smodel.rollout.simulate` (the shared
    :func:`~k8smodel.rollout.plan_operation`). Per pod: ``S`` (creation to Ready),
    ``A = S + minReady``, ``D`` (termination). Laws on the grid:

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
      never later than the end of the previous batch, because by then all earlier batches
      are done and fewer than ``k`` jobs of the current batch run.

    "Exact" means exact for the model up to the grid: continuous laws are discretized on
    cells of ``grid_s``, so quantiles carry an error of about one grid step.

    Examples
    --------
    >>> from k8smodel import rollout
    >>> law = rollout.completion_time(rollout.StatefulSet(replicas=4), "scale_up",
    ...                               rollout.PodTiming(start=2, warmup=5, probe_period_s=5))
    >>> law.mean(), law.summary.method[0]
    (28.0, 'closed_form')
    """
    check_workload(spec, timing)
    plan = plan_operation(spec, operation, from_replicas=from_replicas, to_replicas=to_replicas)
    if deadline_s is not None:
        deadline_s = check_real(deadline_s, "deadline_s", minimum=0, allow_inf=True)
    if grid_s is not None:
        grid_s = check_real(grid_s, "grid_s", minimum=0, lower_open=True)
    params = {
        "spec": spec,
        "operation": operation,
        "timing": timing,
        "ordinals": plan.ordinals,
        "mode": plan.mode,
        "deadline_s": deadline_s,
        "grid_s": grid_s,
    }
    pod_management = getattr(spec, "pod_management", spec.kind)
    if plan.touched == 0 or plan.mode == "on_delete" or timing.deterministic:
        if plan.touched == 0:
            value = 0.0
        elif plan.mode == "on_delete":
            value = math.inf
        else:
            t = timing.deterministic_times()
            value = _closed_form(plan, t["available"], t["termination"])
        row = plan.columns(pod_management)
        row.update(_point_row(value, deadline_s))
        note = "closed form: every phase is a number (or nothing is touched, or OnDelete)"
        return CompletionTime(
            summary=pd.DataFrame([row]), params=params, notes=(note,), value_s=value
        )
    if window is None:
        window = "renewal" if plan.kind == "DaemonSet" else "bound"
    check_choice(window, "window", ("bound", "renewal"))
    law = _grid_law(plan, timing, grid_s, window)
    total, atoms = law.pmf[0], law.pmf[1]
    tail = max(0.0, 1.0 - float(total.sum()))
    mean, var = law.mean, law.var
    if mean is None or var is None:
        mean, var = moments(law.pmf, law.grid_s[1] - law.grid_s[0])
    q = law_ppf(law.grid_s, total, None, [0.5, 0.9, 0.99], atoms)
    flags = []
    if not law.exact:
        flags.append("upper_bound" if law.method == "batch_synchronous_bound" else "approximation")
    notes = [law.note, f"grid step {law.grid_s[1] - law.grid_s[0]:.4g} s"]
    if tail > _TAIL_FLAG:
        flags.append("tail_mass")
        notes.append(f"{tail:.2g} of the probability lies beyond the grid and is left out")
    row = plan.columns(pod_management)
    row.update(
        {
            "mean_s": mean,
            "std_s": math.sqrt(var),
            "p50_s": float(q[0]),
            "p90_s": float(q[1]),
            "p99_s": float(q[2]),
            "deadline_s": math.nan if deadline_s is None else deadline_s,
            "p_miss_deadline": math.nan
            if deadline_s is None
            else float(1.0 - law_cdf(law.grid_s, total, None, deadline_s, atoms)),
            "tail_mass": tail,
            "method": law.method,
            "exact": law.exact,
            "flags": ";".join(flags),
        }
    )
    return CompletionTime(
        summary=pd.DataFrame([row]),
        params=params,
        notes=tuple(notes),
        grid_s=law.grid_s,
        pmf=total,
        atoms=atoms,
        tail_mass=tail,
    )


def _point_row(value: float, deadline_s: float | None) -> dict[str, Any]:
    return {
        "mean_s": value,
        "std_s": 0.0,
        "p50_s": value,
        "p90_s": value,
        "p99_s": value,
        "deadline_s": math.nan if deadline_s is None else deadline_s,
        "p_miss_deadline": math.nan if deadline_s is None else float(value > deadline_s),
        "tail_mass": 0.0,
        "method": "closed_form",
        "exact": True,
        "flags": "",
    }

"""Per-pod phase timings: sampling in bulk for the simulation, and discretized laws for the theory.

A pod's life from creation: scheduling, volume provisioning/attach, image pull, container start
(the pod is *running*), application warm-up until the readiness probe would pass, then the first
successful probe on the probe grid (the pod is *ready*), then ``min_ready_seconds`` (it is
*available*). On deletion it terminates after ``min(actual shutdown, termination grace)``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, fields

import numpy as np

__all__ = ["PodTiming", "probe_delay", "backoff_delays"]

_PHASES = ("schedule", "attach", "pull", "start", "warmup")
#: Probability mass the theory grids may leave out (upper quantiles, number of crash restarts).
TAIL = 1e-10


def _is_frozen_dist(x) -> bool:
    return hasattr(x, "rvs") and hasattr(x, "cdf") and hasattr(x, "ppf") and hasattr(x, "support")


def _check_time(name: str, value, *, allow_none: bool = False):
    if value is None and allow_none:
        return
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number of seconds or a frozen scipy.stats distribution")
    if isinstance(value, numbers.Real):
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number of seconds >= 0; got {value!r}")
        return
    if _is_frozen_dist(value):
        lo = float(value.support()[0])
        if lo < 0:
            raise ValueError(
                f"{name} has negative support (lower bound {lo}); a duration must be >= 0, "
                "e.g. use st.lognorm, st.gamma or st.uniform(loc>=0)"
            )
        return
    raise TypeError(
        f"{name} must be a number of seconds or a frozen scipy.stats distribution; "
        f"got {type(value).__name__} {value!r}"
    )


def _check_positive(name: str, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a finite number > 0; got {value!r}")
    if not 0 < value < np.inf:
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")


def _check_nonnegative(name: str, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a finite number >= 0; got {value!r}")
    if not 0 <= value < np.inf:
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")


def probe_delay(warmup_s, *, period_s: float, initial_delay_s: float = 0.0):
    """Time from container start until the readiness probe first succeeds.

    Parameters
    ----------
    warmup_s : float or ndarray
        Time from container start until the application would answer the probe.
    period_s : float
        ``readinessProbe.periodSeconds`` (default 10 in Kubernetes).
    initial_delay_s : float
        ``readinessProbe.initialDelaySeconds`` (default 0).

    Returns
    -------
    float or ndarray
        ``d + P * ceil(max(W - d, 0) / P)``: the first probe instant ``d + kP >= W``.

    Notes
    -----
    Model: the first probe when the container starts (or after ``initialDelaySeconds``), then
    every ``periodSeconds``; with ``successThreshold`` 1 the first passing probe marks the
    container Ready. In the kubelet (``pkg/kubelet/prober/worker.go``) a probe worker skips
    probes until ``time since container start >= initialDelaySeconds`` and otherwise runs on a
    ticker of ``periodSeconds``; ``prober_manager.go`` (``UpdatePodStatus``) triggers an
    immediate extra probe when a running container has no successful result yet. So the real
    ticker is phased to the worker's creation, and status syncs can add probes while the
    container is unready: this grid is an approximation whose mean extra delay (about half a
    period) matches a randomly phased ticker. Probe duration (at most ``timeoutSeconds``) and
    status-sync latency are neglected.
    """
    _check_positive("period_s", period_s)
    _check_nonnegative("initial_delay_s", initial_delay_s)
    w = np.asarray(warmup_s, dtype=float)
    if np.any(np.isnan(w) | (w < 0)):
        raise ValueError(f"warmup_s must be >= 0 seconds (no NaN); got {warmup_s!r}")
    k = np.ceil(np.maximum(w - initial_delay_s, 0.0) / period_s - 1e-12)
    out = initial_delay_s + period_s * np.maximum(k, 0.0)
    return out[()] if out.ndim == 0 else out


def backoff_delays(failures: int, *, initial_s: float = 10.0, cap_s: float = 300.0) -> np.ndarray:
    """Cumulative CrashLoopBackOff delay after 0, 1, ..., ``failures`` failed attempts.

    Parameters
    ----------
    failures : int
        Largest number of failures to tabulate.
    initial_s, cap_s : float
        The kubelet back-off starts at 10 s, doubles, and is capped at 300 s.

    Returns
    -------
    ndarray
        ``B[f] = sum_{i=1..f} min(initial * 2**(i-1), cap)``, length ``failures + 1``.

    Notes
    -----
    ``pkg/kubelet/kubelet.go``: ``backOffPeriod = time.Second * 10`` ("the base period for the
    exponential backoff container restarts") and ``MaxContainerBackOff = 300 * time.Second``;
    the Pod lifecycle concept page ("Container restarts") describes the doubling.
    The reset after 10 minutes of running is irrelevant here: the container never runs that long
    before it fails in this model.
    """
    if isinstance(failures, bool) or not isinstance(failures, numbers.Integral):
        raise TypeError(f"failures must be an int >= 0; got {failures!r}")
    if failures < 0:
        raise ValueError(f"failures must be an int >= 0; got {failures!r}")
    _check_positive("initial_s", initial_s)
    _check_positive("cap_s", cap_s)
    i = np.arange(1, failures + 1)
    steps = np.minimum(initial_s * 2.0 ** (i - 1), cap_s)
    return np.concatenate([[0.0], np.cumsum(steps)])


@dataclass(frozen=True)
class PodTiming:
    """Phase timings of one pod; each a number of seconds or a frozen ``scipy.stats`` distribution.

    Parameters
    ----------
    schedule, attach, pull, start, warmup : float or frozen distribution
        Scheduling, volume provisioning/attach, image pull, container start, and application
        warm-up until the readiness probe would pass. All ``>= 0``; a distribution must have
        support in ``[0, inf)``.
    probe_period_s : float
        ``readinessProbe.periodSeconds``, default 10.
    probe_initial_delay_s : float
        ``readinessProbe.initialDelaySeconds``, default 0.
    min_ready_seconds : float
        The workload's ``spec.minReadySeconds``: a ready pod counts as *available* after this.
    termination_grace_s : float
        ``terminationGracePeriodSeconds``, default 30: the kubelet kills the container then.
    termination : float, frozen distribution or None
        How long the application actually takes to exit after SIGTERM. ``None`` (default) means it
        does not exit on its own, so every termination takes the full grace period.
    failure_p : float
        Probability that a start attempt crashes instead of becoming ready (0 by default). A
        crash happens when the warm-up ends; the kubelet restarts the container after the
        CrashLoopBackOff delay (10 s doubling, cap 300 s), and the restart repeats ``start`` and
        ``warmup`` with fresh draws.
    backoff_initial_s, backoff_cap_s : float
        The back-off constants (10 s and 300 s in the kubelet).

    Notes
    -----
    Defaults from the Probe and Pod API references (periodSeconds 10, initialDelaySeconds 0,
    terminationGracePeriodSeconds 30) and ``pkg/kubelet/kuberuntime`` (back-off). The phase
    durations themselves have no official distribution: they are inputs.
    """

    schedule: object = 0.0
    attach: object = 0.0
    pull: object = 0.0
    start: object = 0.0
    warmup: object = 0.0
    probe_period_s: float = 10.0
    probe_initial_delay_s: float = 0.0
    min_ready_seconds: float = 0.0
    termination_grace_s: float = 30.0
    termination: object = None
    failure_p: float = 0.0
    backoff_initial_s: float = 10.0
    backoff_cap_s: float = 300.0

    def __post_init__(self):
        for name in _PHASES:
            _check_time(name, getattr(self, name))
        _check_time("termination", self.termination, allow_none=True)
        for name in ("probe_initial_delay_s", "min_ready_seconds", "termination_grace_s"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not (0 <= v < np.inf):
                raise ValueError(f"{name} must be a finite number >= 0; got {v!r}")
        for name in ("probe_period_s", "backoff_initial_s", "backoff_cap_s"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not (0 < v < np.inf):
                raise ValueError(f"{name} must be a finite number > 0; got {v!r}")
        p = self.failure_p
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not (0 <= p < 1):
            raise ValueError(f"failure_p must be a probability in [0, 1); got {p!r}")

    # ------------------------------------------------------------------ helpers
    @property
    def deterministic(self) -> bool:
        """True when every phase is a number and no start attempt can fail."""
        values = [getattr(self, n) for n in _PHASES] + [self.termination]
        return self.failure_p == 0 and not any(_is_frozen_dist(v) for v in values)

    def replace(self, **changes) -> PodTiming:
        """A copy with some fields changed."""
        kw = {f.name: getattr(self, f.name) for f in fields(self)}
        kw.update(changes)
        return PodTiming(**kw)

    def deterministic_times(self) -> dict:
        """Exact running, ready, available and termination offsets (deterministic timing only).

        Returns
        -------
        dict
            Seconds from creation to running / ready / available, and the termination time.

        Raises
        ------
        ValueError
            If some phase is random or ``failure_p > 0``.
        """
        if not self.deterministic:
            raise ValueError("deterministic_times needs numeric phases and failure_p == 0")
        running = float(self.schedule + self.attach + self.pull + self.start)
        ready = running + float(
            probe_delay(
                self.warmup,
                period_s=self.probe_period_s,
                initial_delay_s=self.probe_initial_delay_s,
            )
        )
        return {
            "running": running,
            "ready": ready,
            "available": ready + self.min_ready_seconds,
            "termination": self._termination_value(),
        }

    def _termination_value(self) -> float:
        if self.termination is None:
            return float(self.termination_grace_s)
        return float(min(self.termination, self.termination_grace_s))

    # ------------------------------------------------------------------ sampling
    @staticmethod
    def _draw(value, size, gen) -> np.ndarray:
        if _is_frozen_dist(value):
            out = np.asarray(value.rvs(size=size, random_state=gen), dtype=float)
            return np.maximum(out, 0.0)
        return np.full(size, float(value))

    def sample_startup(self, size, gen: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``(running, ready)`` offsets from pod creation, each of shape ``size``.

        Parameters
        ----------
        size : int or tuple
            Output shape, e.g. ``(runs, pods)``.
        gen : numpy.random.Generator
            Source of randomness (all variates drawn in bulk).

        Returns
        -------
        tuple of ndarray
            Time until the first container start (phase Running) and until Ready.
        """
        running = self._draw(self.schedule, size, gen)
        for name in ("attach", "pull", "start"):
            v = getattr(self, name)
            if _is_frozen_dist(v) or v != 0:
                running = running + self._draw(v, size, gen)
        start_final = running
        if self.failure_p > 0:
            fails = gen.geometric(1.0 - self.failure_p, size=size) - 1
            total = int(fails.sum())
            if total:
                b = backoff_delays(
                    int(fails.max()), initial_s=self.backoff_initial_s, cap_s=self.backoff_cap_s
                )
                idx = np.repeat(np.arange(fails.size), fails.ravel())
                cycle = self._draw(self.warmup, total, gen) + self._draw(self.start, total, gen)
                extra = np.bincount(idx, weights=cycle, minlength=fails.size).reshape(fails.shape)
                start_final = running + extra + b[fails]
        warm = self._draw(self.warmup, size, gen)
        ready = start_final + probe_delay(
            warm, period_s=self.probe_period_s, initial_delay_s=self.probe_initial_delay_s
        )
        return running, ready

    def sample_termination(self, size, gen: np.random.Generator) -> np.ndarray:
        """Draw termination durations ``min(actual, grace)`` in bulk.

        Parameters
        ----------
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
        if self.termination is None:
            return np.full(size, float(self.termination_grace_s))
        return np.minimum(self._draw(self.termination, size, gen), self.termination_grace_s)

    # ------------------------------------------------------------------ theory grids
    def _upper(self, value, tail: float) -> float:
        if _is_frozen_dist(value):
            return float(value.ppf(1.0 - tail))
        return float(value)

    def startup_upper_s(self, tail: float = TAIL) -> float:
        """A time by which all but about ``tail`` of the ready-time mass has arrived.

        Parameters
        ----------
        tail : float
            Probability left out per random phase (default ``TAIL`` = 1e-10).

        Returns
        -------
        float
            Seconds: the sum of the phases' ``1 - tail`` quantiles, one probe period and the
            initial delay, plus, with ``failure_p > 0``, as many crash cycles and back-offs as
            have probability above ``tail``. Used to size the theory's grids.
        """
        base = sum(
            self._upper(getattr(self, n), tail) for n in ("schedule", "attach", "pull", "start")
        )
        base += self._upper(self.warmup, tail) + self.probe_period_s + self.probe_initial_delay_s
        if self.failure_p > 0:
            fmax = _max_failures(self.failure_p, tail)
            cyc = self._upper(self.warmup, tail) + self._upper(self.start, tail)
            base += (
                fmax * cyc
                + backoff_delays(fmax, initial_s=self.backoff_initial_s, cap_s=self.backoff_cap_s)[
                    -1
                ]
            )
        return base

    def startup_pmf(self, h: float, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Discretized laws of the ready time and the available time on a grid of step ``h``.

        Parameters
        ----------
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
        pre = _point(0.0, h, n)
        for name in ("schedule", "attach", "pull", "start"):
            pre = _conv(pre, _phase_pmf(getattr(self, name), h, n), n)
        if self.failure_p > 0:
            p = self.failure_p
            fmax = _max_failures(p, TAIL)
            b = backoff_delays(fmax, initial_s=self.backoff_initial_s, cap_s=self.backoff_cap_s)
            cycle = _conv(_phase_pmf(self.warmup, h, n), _phase_pmf(self.start, h, n), n)
            mix = np.zeros(n)
            acc = _point(0.0, h, n)
            for f in range(fmax + 1):
                if b[f] >= (n - 1) * h:
                    break  # this many crashes end beyond the grid: their mass is tail mass
                mix += (1 - p) * p**f * _conv(acc, _point(b[f], h, n), n)
                acc = _conv(acc, cycle, n)
            pre = _conv(pre, mix, n)
        probe = _probe_pmf(self.warmup, self.probe_period_s, self.probe_initial_delay_s, h, n)
        ready = _conv(pre, probe, n)
        avail = _conv(ready, _point(self.min_ready_seconds, h, n), n)
        return ready, avail

    def termination_pmf(self, h: float, n: int) -> np.ndarray:
        """Discretized law of the termination time ``min(actual, grace)``.

        Parameters
        ----------
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
        g = float(self.termination_grace_s)
        if self.termination is None:
            return _point(g, h, n)
        if not _is_frozen_dist(self.termination):
            return _point(min(float(self.termination), g), h, n)
        edges = np.clip((np.arange(n + 1) - 0.5) * h, 0.0, g)
        cdf = self.termination.cdf(edges)
        cdf[0] = 0.0
        pmf = np.clip(np.diff(cdf), 0.0, None)
        return pmf + float(self.termination.sf(g)) * _point(g, h, n)


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


def _conv(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
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
        return _conv(b, a, n)
    if ia.size <= 2 or ib.size <= 2:
        small, big = (a, b) if ia.size <= 2 else (b, a)
        out = np.zeros(n)
        for k in np.flatnonzero(small):
            out[k:] += small[k] * big[: n - k]
        return out
    m = _fft_size(2 * n)
    out = np.fft.irfft(np.fft.rfft(a, m) * np.fft.rfft(b, m), m)[:n]
    return np.clip(out, 0.0, None)


def _fft_size(n: int) -> int:
    return 1 << int(np.ceil(np.log2(max(n, 2))))

"""Vectorized Monte Carlo of StatefulSet and Deployment operations.

Each operation is written as a recursion over the pods the controller touches, evaluated with
numpy across all runs at once: the Python loop runs over pods (or batches), never over runs.
All random phase durations are drawn in bulk before the recursion.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from k8smodel._random import RngLike, spawn_seeds
from k8smodel.rollout.semantics import Deployment, StatefulSet, slow_start_batches, update_targets
from k8smodel.rollout.timing import PodTiming, _check_time

__all__ = ["simulate", "RolloutResult", "OPERATIONS", "model"]

OPERATIONS = ("scale_up", "scale_down", "rolling_update")
_ELEMENTS_PER_CHUNK = 2_000_000
_TIE_S = 1e-6  # see _min_ready
_COLUMNS = ("deleted", "terminated", "created", "running", "ready", "available")


def _check_spec(spec):
    if not isinstance(spec, StatefulSet | Deployment):
        raise TypeError(
            f"spec must be a rollout.StatefulSet or rollout.Deployment; got {type(spec).__name__}"
        )


def _check_timing(timing):
    if not isinstance(timing, PodTiming):
        raise TypeError(f"timing must be a rollout.PodTiming; got {type(timing).__name__}")


def _check_operation(operation):
    if operation not in OPERATIONS:
        raise ValueError(f"operation must be one of {OPERATIONS}; got {operation!r}")


def _plan(spec, operation: str, from_replicas, to_replicas) -> dict:
    """Which pods the operation touches, in the controller's order, and how."""
    n = spec.replicas
    plan = {"kind": spec.kind, "operation": operation, "replicas": n}
    if operation == "scale_up":
        r0 = 0 if from_replicas is None else from_replicas
        if not isinstance(r0, numbers.Integral) or isinstance(r0, bool) or not 0 <= r0 <= n:
            raise ValueError(f"from_replicas must be an int in [0, replicas={n}]; got {r0!r}")
        plan.update(ordinals=np.arange(r0, n), baseline=r0, mode=_scale_mode(spec))
    elif operation == "scale_down":
        r1 = 0 if to_replicas is None else to_replicas
        if not isinstance(r1, numbers.Integral) or isinstance(r1, bool) or not 0 <= r1 <= n:
            raise ValueError(f"to_replicas must be an int in [0, replicas={n}]; got {r1!r}")
        plan.update(ordinals=np.arange(n - 1, r1 - 1, -1), baseline=n, mode=_scale_mode(spec))
    else:
        if from_replicas is not None or to_replicas is not None:
            raise ValueError("from_replicas/to_replicas apply to scale_up/scale_down only")
        plan["baseline"] = n
        if isinstance(spec, Deployment):
            surge, unavail = spec.fenceposts
            # ResolveFenceposts never returns (0, 0), so at least one pod is in flight
            plan.update(ordinals=np.arange(n), mode="deployment", slots=surge + unavail)
            plan.update(surge=surge, unavailable=unavail)
        else:
            plan["ordinals"] = np.asarray(update_targets(n, spec.partition), dtype=int)
            k = spec.effective_max_unavailable
            plan["slots"] = k
            if spec.update_strategy == "OnDelete":
                plan["mode"] = "on_delete"
            elif spec.pod_management == "OrderedReady":
                plan["mode"] = "ordered_batches" if k > 1 else "ordered_serial"
            else:
                plan["mode"] = "parallel_window" if k > 1 else "parallel_serial"
    return plan


def _scale_mode(spec) -> str:
    if isinstance(spec, StatefulSet) and spec.pod_management == "OrderedReady":
        return "ordered"
    return "parallel"


def _batch_offsets(m: int, api_call_s: float) -> np.ndarray:
    """Issue time of each call in slow-start batches (batch ``b`` after ``b + 1`` round trips)."""
    if api_call_s == 0 or m == 0:
        return np.zeros(m)
    sizes = slow_start_batches(m)
    return np.repeat((np.arange(len(sizes)) + 1.0) * api_call_s, sizes)


def _shifted_cumsum(x: np.ndarray) -> np.ndarray:
    out = np.zeros_like(x)
    np.cumsum(x[:, :-1], axis=1, out=out[:, 1:])
    return out


def _chunk(spec, plan, timing: PodTiming, runs: int, gen) -> dict:
    """Simulate ``runs`` operations; per-pod times of shape (runs, m) in the controller's order."""
    m = len(plan["ordinals"])
    mode = plan["mode"]
    nan = np.full((runs, m), np.nan)
    out = {c: nan.copy() for c in _COLUMNS}
    op = plan["operation"]
    mrs = float(timing.min_ready_seconds)
    if m == 0:
        out["completion"] = np.zeros(runs)
        return out
    if mode == "on_delete":
        out["completion"] = np.full(runs, np.inf)
        return out
    api = float(getattr(spec, "api_call_s", 0.0))

    if op == "scale_down":
        d = timing.sample_termination((runs, m), gen)
        if mode == "ordered":
            deleted = _shifted_cumsum(d)
        else:
            deleted = np.broadcast_to(_batch_offsets(m, api), (runs, m)).copy()
            if isinstance(spec, Deployment):
                deleted[:] = 0.0  # a ReplicaSet deletes its excess pods concurrently
        out["deleted"], out["terminated"] = deleted, deleted + d
        out["completion"] = out["terminated"].max(axis=1)
        return out

    running, ready = timing.sample_startup((runs, m), gen)
    avail = ready + mrs

    if op == "scale_up":
        if mode == "ordered":
            created = _shifted_cumsum(avail)
        else:
            created = np.broadcast_to(_batch_offsets(m, api), (runs, m)).copy()
        _fill_new(out, created, running, ready, mrs)
        out["completion"] = out["available"].max(axis=1)
        return out

    if mode == "deployment":
        k = min(plan["slots"], m)
        created, _ = _list_schedule(avail, k)
        _fill_new(out, created, running, ready, mrs)
        # old pods: `unavailable` of them go at once, one more each time a new pod is available
        d = timing.sample_termination((runs, m), gen)
        u = plan["unavailable"]
        av_sorted = np.sort(out["available"], axis=1)
        deleted = np.zeros((runs, m))
        if m > u:
            deleted[:, u:] = av_sorted[:, : m - u]
        out["deleted"], out["terminated"] = deleted, deleted + d
        out["completion"] = out["available"].max(axis=1)
        return out

    # StatefulSet rolling update
    d = timing.sample_termination((runs, m), gen)
    if mode in ("ordered_serial", "parallel_serial"):
        # One pod at a time. OrderedReady's sync blocks until the replacement is available
        # (runForAll/processReplica); Parallel's update loop waits on
        # isUnavailable(pod, minReadySeconds), i.e. also until the replacement is available.
        deleted = _shifted_cumsum(d + avail)
        created = deleted + d
    elif mode == "ordered_batches":
        deleted, created = _ordered_batches(d, avail, plan["slots"])
    else:  # parallel_window: a pod's slot is busy from deletion until its replacement is available
        deleted, _ = _list_schedule(d + avail, min(plan["slots"], m))
        created = deleted + d
    out["deleted"] = deleted
    out["terminated"] = deleted + d
    _fill_new(out, created, running, ready, mrs)
    out["completion"] = out["available"].max(axis=1)
    return out


def _fill_new(out, created, running, ready, mrs):
    out["created"] = created
    out["running"] = created + running
    out["ready"] = created + ready
    out["available"] = out["ready"] + mrs


def _list_schedule(durations: np.ndarray, k: int):
    """Greedy list scheduling of jobs (in column order) on ``k`` slots, across runs.

    Returns the start time of every job and the slot free times at the end.
    """
    runs, m = durations.shape
    free = np.zeros((runs, k))
    start = np.empty((runs, m))
    rows = np.arange(runs)
    for j in range(m):
        slot = np.argmin(free, axis=1)
        s = free[rows, slot]
        start[:, j] = s
        free[rows, slot] = s + durations[:, j]
    return start, free


def _ordered_batches(d: np.ndarray, avail: np.ndarray, k: int):
    """OrderedReady with maxUnavailable k: delete k pods at once, recreate them one by one.

    The update step of ``updateStatefulSetAfterInvariantEstablished`` runs only when every
    replica is healthy (the monotonic ``runForAll`` returned), so it deletes the k highest pods
    still on the old revision together; ``processReplica`` then recreates them in ascending
    ordinal order, each after its own old pod has terminated and the previous one is available.
    Columns are in deletion order (descending ordinal), so a batch is recreated right to left.
    """
    runs, m = d.shape
    deleted = np.empty((runs, m))
    created = np.empty((runs, m))
    t0 = np.zeros(runs)
    for b0 in range(0, m, k):
        cols = list(range(b0, min(b0 + k, m)))
        deleted[:, cols] = t0[:, None]
        ready_prev = t0.copy()
        for j in reversed(cols):  # ascending ordinal
            c = np.maximum(ready_prev, t0 + d[:, j])
            created[:, j] = c
            ready_prev = c + avail[:, j]
        t0 = ready_prev
    return deleted, created


@dataclass
class RolloutResult:
    """What :func:`simulate` returns.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row. Columns: ``kind``, ``operation``, ``pod_management``, ``replicas``, ``touched``
        (pods the operation replaces/creates/deletes), ``max_unavailable`` (effective: 1 with
        the gate off; for a Deployment the resolved maxUnavailable), ``max_surge`` (Deployment
        only, resolved; NaN otherwise), ``max_in_flight`` (pods being replaced at once at most:
        ``max_unavailable`` for a StatefulSet, ``max_surge + max_unavailable`` new pods for a
        Deployment; NaN for scale operations), ``runs``, ``mean_s``, ``std_s``, ``p50_s``,
        ``p90_s``, ``p99_s``, ``max_s``, ``deadline_s``, ``p_miss_deadline`` (fraction of runs
        that took longer than the deadline), ``p_miss_se`` (its standard error), ``quorum`` and
        ``p_below_quorum`` (fraction of runs in which fewer than ``quorum`` replicas were Ready
        at some moment; NaN when no quorum was given).
    samples : numpy.ndarray
        Completion time of every run, seconds (``inf`` for ``OnDelete``).
    timeline : pandas.DataFrame
        Per pod of the first ``timeline_runs`` runs: ``run``, ``pod`` (a label), ``ordinal``,
        ``deleted``, ``terminated`` (old pod gone), ``created``, ``running``, ``ready``,
        ``available`` (seconds from the start; NaN where it does not apply). Rows are in the
        controller's order. For a Deployment, row ``j`` holds the ``j``-th new pod (``created``
        to ``available``) and the ``j``-th old pod to go (``deleted``, ``terminated``).
    min_ready : numpy.ndarray or None
        The least number of Ready replicas seen in each run (only when a quorum was given).
    """

    summary: pd.DataFrame
    samples: np.ndarray
    timeline: pd.DataFrame
    min_ready: np.ndarray | None = None
    _events: dict = field(default_factory=dict, repr=False)

    def ready_replicas(self, times_s) -> pd.DataFrame:
        """Ready replicas over time, across the runs kept for availability curves.

        Parameters
        ----------
        times_s : array_like
            Times since the start of the operation, seconds.

        Returns
        -------
        pandas.DataFrame
            Columns ``time_s``, ``mean``, ``p05``, ``p50``, ``p95`` and ``min`` of the number of
            Ready replicas at that time over the kept runs.
        """
        t = np.asarray(times_s, dtype=float)
        if t.ndim != 1:
            raise ValueError("times_s must be one-dimensional")
        ev = self._events
        up, down, base = ev["up"] - _TIE_S, ev["down"], ev["baseline"]
        counts = np.full((up.shape[0], t.size), base, dtype=float)
        for j, tj in enumerate(t):
            counts[:, j] += (up <= tj).sum(axis=1) - (down <= tj).sum(axis=1)
        q = np.quantile(counts, [0.05, 0.5, 0.95], axis=0)
        return pd.DataFrame(
            {
                "time_s": t,
                "mean": counts.mean(axis=0),
                "p05": q[0],
                "p50": q[1],
                "p95": q[2],
                "min": counts.min(axis=0),
            }
        )


def _ready_events(plan, out) -> tuple[np.ndarray, np.ndarray]:
    """Times at which a replica becomes Ready (+1) or stops being Ready (-1), per run."""
    op = plan["operation"]
    runs = out["completion"].shape[0]
    empty = np.full((runs, 0), np.nan)
    if op == "scale_up":
        return out["ready"], empty
    if op == "scale_down":
        return empty, out["deleted"]
    return out["ready"], out["deleted"]


def _min_ready(up, down, baseline, extra_up=None, extra_down=None) -> np.ndarray:
    """Least Ready count over time. Ties: a pod becoming Ready is counted before one leaving."""
    # A deletion triggered by a pod becoming Ready happens at the same instant, computed along
    # another path (the two floats may differ in the last bits): count the Ready pod first by
    # moving every +1 event 1 microsecond earlier.
    up = up - _TIE_S
    extra_up = None if extra_up is None else extra_up - _TIE_S
    ups = [up] + ([extra_up] if extra_up is not None else [])
    downs = [down] + ([extra_down] if extra_down is not None else [])
    times = np.concatenate(ups + downs, axis=1)
    n_up = sum(a.shape[1] for a in ups)
    delta = np.concatenate([np.ones(n_up), -np.ones(times.shape[1] - n_up)])
    times = np.where(np.isnan(times), np.inf, times)
    order = np.argsort(times, axis=1, kind="stable")
    steps = delta[order]
    steps[np.take_along_axis(times, order, axis=1) == np.inf] = 0
    path = baseline + np.cumsum(steps, axis=1)
    if path.shape[1] == 0:
        return np.full(times.shape[0], baseline)
    return np.minimum(path.min(axis=1), baseline)


def _disruptions(plan, out, rate_per_s, duration, gen):
    """Independent pod disruptions during a rolling update (see :func:`simulate`)."""
    n = plan["replicas"]
    runs = out["completion"].shape[0]
    horizon = out["completion"]
    finite = horizon[np.isfinite(horizon)]
    tmax = float(finite.max()) if finite.size else 0.0
    kmax = int(stats.poisson.ppf(1 - 1e-9, rate_per_s * tmax)) + 1
    a = np.full((runs, n), np.inf)  # rollout window of each ordinal
    b = np.full((runs, n), np.inf)
    ords = plan["ordinals"]
    if len(ords):
        a[:, ords] = out["deleted"]
        b[:, ords] = out["ready"]
    gaps = gen.exponential(1.0 / rate_per_s, size=(runs, n, kmax))
    if hasattr(duration, "rvs"):
        durs = np.maximum(np.asarray(duration.rvs(size=(runs, n, kmax), random_state=gen)), 0.0)
    else:
        durs = np.full((runs, n, kmax), float(duration))
    ends = np.cumsum(gaps + durs, axis=2)
    starts = ends - durs
    aa, bb = a[:, :, None], b[:, :, None]
    keep = (starts < horizon[:, None, None]) & ~((starts >= aa) & (starts < bb))
    ends = np.where(starts < aa, np.minimum(ends, aa), ends)
    starts = np.where(keep, starts, np.nan).reshape(runs, -1)
    ends = np.where(keep, ends, np.nan).reshape(runs, -1)
    return ends, starts  # (+1 events, -1 events)


def simulate(
    spec: StatefulSet | Deployment,
    operation: str,
    timing: PodTiming,
    *,
    runs: int = 10_000,
    deadline_s: float | None = None,
    from_replicas: int | None = None,
    to_replicas: int | None = None,
    quorum: int | None = None,
    disruption_rate_per_h: float = 0.0,
    disruption_s=60.0,
    timeline_runs: int = 3,
    availability_runs: int = 1000,
    rng: RngLike = None,
) -> RolloutResult:
    """Simulate a StatefulSet or Deployment operation many times.

    Parameters
    ----------
    spec : StatefulSet or Deployment
        The workload (policy, partition, maxUnavailable, surge...).
    operation : {"scale_up", "scale_down", "rolling_update"}
        ``scale_up`` goes from ``from_replicas`` (default 0) to ``spec.replicas``; ``scale_down``
        from ``spec.replicas`` to ``to_replicas`` (default 0); ``rolling_update`` replaces the
        pods with a new template.
    timing : PodTiming
        Phase timings of every pod (independent across pods and runs).
    runs : int
        Number of simulated operations.
    deadline_s : float, optional
        Report the probability that an operation takes longer than this.
    from_replicas, to_replicas : int, optional
        The other end of a scale operation.
    quorum : int, optional
        Report the probability that fewer than ``quorum`` replicas are Ready at some moment
        (for a majority of 3 use 2, of 5 use 3).
    disruption_rate_per_h : float
        Rolling updates only: besides the rollout, each replica independently becomes unready at
        this rate (per hour, while it is Ready and not being replaced) for ``disruption_s``
        seconds: crashes, node problems, evictions. 0 (default) models the rollout alone.
        StatefulSets only (a ValueError for a Deployment).
    disruption_s : float or frozen distribution
        Duration of one disruption.
    timeline_runs : int
        Runs whose per-pod times go into ``timeline``.
    availability_runs : int
        Runs kept for :meth:`RolloutResult.ready_replicas`.
    rng : int, Generator, SeedSequence or None
        Randomness (see :func:`k8smodel._random.as_generator`).

    Returns
    -------
    RolloutResult
        ``summary`` (one-row DataFrame), ``samples``, ``timeline``, ``min_ready``.

    Notes
    -----
    Controller rules (``pkg/controller/statefulset/stateful_set_control.go``):

    * OrderedReady ``scale_up`` creates ordinal ``i + 1`` only when ``i`` is Running, Ready and
      Available (``processReplica`` returns early in monotonic mode); ``scale_down`` deletes the
      highest ordinal first and waits for it to terminate (``processCondemned``).
    * Parallel creates/deletes all at once, in slow-start batches of API calls 1, 2, 4, ...,
      capped at 500 (``runForAll`` -> ``slowStartBatch``).
    * ``rolling_update`` deletes from the highest ordinal down to the partition. With the
      MaxUnavailableStatefulSet gate off (or maxUnavailable 1) one pod at a time, and both
      policies wait for the replacement to be *available* (Ready for ``minReadySeconds``): the
      update loop of ``updateStatefulSet`` waits on ``isUnavailable(pod, minReadySeconds)``.
      With the gate on and k > 1: OrderedReady deletes k at once and recreates them one by one
      in ascending order; Parallel keeps up to k pods unavailable (``isUnavailable`` again, in
      ``updateStatefulSetAfterInvariantEstablished``): a sliding window, list scheduling on k
      slots where a slot is busy from deletion until the replacement is available. Older
      controllers (before the fix of kubernetes/kubernetes issues #112307 and #119234) waited
      only for ``isHealthy`` (Ready) with Parallel, so minReadySeconds was paid once at the end
      instead of once per step.
    * ``OnDelete`` never deletes pods itself: the completion time is ``inf``.
    * Deployment ``rolling_update``: at most ``surge + unavailable`` new pods start at a time
      (``pkg/controller/deployment/rolling.go``); an old pod is deleted when a new one is
      available, after the first ``unavailable`` ones.

    Controller reaction times (informer and queue latencies, milliseconds) are neglected.
    """
    _check_spec(spec)
    _check_operation(operation)
    _check_timing(timing)
    if not isinstance(runs, numbers.Integral) or isinstance(runs, bool) or runs < 1:
        raise ValueError(f"runs must be an int >= 1; got {runs!r}")
    if deadline_s is not None and (
        isinstance(deadline_s, bool)
        or not isinstance(deadline_s, numbers.Real)
        or not deadline_s >= 0  # also rejects NaN
    ):
        raise ValueError(
            f"deadline_s must be a number >= 0 (inf allowed) or None; got {deadline_s!r}"
        )
    if quorum is not None and (
        not isinstance(quorum, numbers.Integral) or isinstance(quorum, bool) or quorum < 1
    ):
        raise ValueError(f"quorum must be an int >= 1 or None; got {quorum!r}")
    if (
        isinstance(disruption_rate_per_h, bool)
        or not isinstance(disruption_rate_per_h, numbers.Real)
        or not 0 <= disruption_rate_per_h < np.inf
    ):
        raise ValueError(
            f"disruption_rate_per_h must be a finite number >= 0; got {disruption_rate_per_h!r}"
        )
    for name, value, low in (
        ("timeline_runs", timeline_runs, 0),
        ("availability_runs", availability_runs, 1),
    ):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool):
            raise TypeError(f"{name} must be an int >= {low}; got {value!r}")
        if value < low:
            raise ValueError(f"{name} must be an int >= {low}; got {value!r}")
    if disruption_rate_per_h > 0:
        if operation != "rolling_update":
            raise ValueError("disruption_rate_per_h applies to rolling_update only")
        if quorum is None:
            raise ValueError("disruption_rate_per_h needs a quorum to report against")
        if isinstance(spec, Deployment):
            raise ValueError(
                "disruption_rate_per_h is modelled for StatefulSets only: a Deployment's old and "
                "new pods are different pods, with no ordinal whose rollout window a disruption "
                "could be matched to"
            )
        _check_time("disruption_s", disruption_s)
    plan = _plan(spec, operation, from_replicas, to_replicas)
    m = len(plan["ordinals"])
    chunk = max(1, min(runs, _ELEMENTS_PER_CHUNK // max(m, 1)))
    n_chunks = -(-runs // chunk)
    seeds = spawn_seeds(rng, n_chunks)
    samples = np.empty(runs)
    min_ready = np.empty(runs) if quorum is not None else None
    keep_t = min(timeline_runs, runs)
    keep_a = min(availability_runs, runs)
    first = None
    ev_up, ev_down = [], []
    for c in range(n_chunks):
        lo, hi = c * chunk, min(runs, (c + 1) * chunk)
        gen = np.random.Generator(np.random.PCG64(seeds[c]))
        out = _chunk(spec, plan, timing, hi - lo, gen)
        samples[lo:hi] = out["completion"]
        up, down = _ready_events(plan, out)
        if quorum is not None:
            extra_up = extra_down = None
            if disruption_rate_per_h > 0:
                extra_up, extra_down = _disruptions(
                    plan, out, disruption_rate_per_h / 3600.0, disruption_s, gen
                )
            min_ready[lo:hi] = _min_ready(up, down, plan["baseline"], extra_up, extra_down)
        if lo < keep_a:
            take = min(hi, keep_a) - lo
            ev_up.append(up[:take])
            ev_down.append(down[:take])
        if c == 0:
            first = {k: v[:keep_t] for k, v in out.items() if k in _COLUMNS}
    timeline = _timeline(plan, first, keep_t)
    summary = _summary(spec, plan, samples, deadline_s, quorum, min_ready)
    events = {
        "up": np.concatenate(ev_up, axis=0),
        "down": np.concatenate(ev_down, axis=0),
        "baseline": plan["baseline"],
    }
    return RolloutResult(summary, samples, timeline, min_ready, events)


def _timeline(plan, first, keep) -> pd.DataFrame:
    m = len(plan["ordinals"])
    rows = []
    for r in range(keep):
        for j in range(m):
            ordinal = int(plan["ordinals"][j])
            label = f"pod-{ordinal}" if plan["kind"] == "StatefulSet" else f"rs-pod-{j}"
            row = {"run": r, "pod": label, "ordinal": ordinal}
            row.update({c: float(first[c][r, j]) for c in _COLUMNS})
            rows.append(row)
    return pd.DataFrame(rows, columns=["run", "pod", "ordinal", *_COLUMNS])


def _summary(spec, plan, samples, deadline_s, quorum, min_ready) -> pd.DataFrame:
    runs = samples.size
    finite = np.isfinite(samples)
    with np.errstate(invalid="ignore"):
        q = np.quantile(samples, [0.5, 0.9, 0.99]) if finite.all() else [np.inf] * 3
    p_miss = np.nan if deadline_s is None else float(np.mean(samples > deadline_s))
    row = {
        "kind": plan["kind"],
        "operation": plan["operation"],
        "pod_management": getattr(spec, "pod_management", "Deployment"),
        "replicas": spec.replicas,
        "touched": len(plan["ordinals"]),
        "max_unavailable": plan.get("unavailable", plan.get("slots", np.nan)),
        "max_surge": plan.get("surge", np.nan),
        "max_in_flight": plan.get("slots", np.nan),
        "runs": runs,
        "mean_s": float(samples.mean()) if finite.all() else np.inf,
        "std_s": float(samples.std(ddof=1)) if finite.all() and runs > 1 else np.nan,
        "p50_s": float(q[0]),
        "p90_s": float(q[1]),
        "p99_s": float(q[2]),
        "max_s": float(samples.max()),
        "deadline_s": np.nan if deadline_s is None else float(deadline_s),
        "p_miss_deadline": p_miss,
        "p_miss_se": np.nan if deadline_s is None else float(np.sqrt(p_miss * (1 - p_miss) / runs)),
        "quorum": np.nan if quorum is None else quorum,
        "p_below_quorum": np.nan if quorum is None else float(np.mean(min_ready < quorum)),
    }
    return pd.DataFrame([row])


def model(
    *,
    replicas: int,
    operation: str = "rolling_update",
    kind: str = "StatefulSet",
    pod_management: str = "OrderedReady",
    partition: int = 0,
    max_unavailable=None,
    max_unavailable_gate: bool | None = None,
    max_surge="25%",
    startup_mean_s: float = 30.0,
    startup_cv: float = 0.5,
    probe_period_s: float = 10.0,
    min_ready_seconds: float = 0.0,
    termination_s: float = 5.0,
    termination_grace_s: float = 30.0,
    failure_p: float = 0.0,
    deadline_s: float = 1800.0,
    quorum: int | None = None,
    runs: int = 2000,
    rng: RngLike = None,
) -> dict:
    """Scalar summary of one operation, for :func:`k8smodel.sweep`.

    Parameters
    ----------
    replicas, operation, kind, pod_management, partition, max_unavailable, max_unavailable_gate
        The workload (``kind`` is ``"StatefulSet"`` or ``"Deployment"``; for a Deployment
        ``max_unavailable`` defaults to ``"25%"``).
    max_surge : int or str
        Deployment only.
    startup_mean_s, startup_cv : float
        Gamma-distributed warm-up (time until the readiness probe would pass) with this mean and
        coefficient of variation; other phases are 0.
    probe_period_s, min_ready_seconds, termination_s, termination_grace_s, failure_p
        See :class:`PodTiming`.
    deadline_s : float
        Deadline for ``p_miss_deadline``.
    quorum : int, optional
        Quorum for ``p_below_quorum``.
    runs : int
        Simulated operations.
    rng : int, Generator, SeedSequence or None
        Randomness.

    Returns
    -------
    dict
        ``mean_s``, ``p50_s``, ``p90_s``, ``p99_s``, ``p_miss_deadline`` and (with a quorum)
        ``p_below_quorum``.
    """
    if kind == "StatefulSet":
        spec = StatefulSet(
            replicas=replicas,
            pod_management=pod_management,
            partition=partition,
            max_unavailable=max_unavailable,
            max_unavailable_gate=max_unavailable_gate,
        )
    elif kind == "Deployment":
        spec = Deployment(
            replicas=replicas,
            max_surge=max_surge,
            max_unavailable="25%" if max_unavailable is None else max_unavailable,
        )
    else:
        raise ValueError(f"kind must be 'StatefulSet' or 'Deployment'; got {kind!r}")
    for name, value in (("startup_mean_s", startup_mean_s), ("startup_cv", startup_cv)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a finite number > 0; got {value!r}")
        if not 0 < value < np.inf:
            raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
    shape = 1.0 / startup_cv**2
    timing = PodTiming(
        warmup=stats.gamma(shape, scale=startup_mean_s / shape),
        probe_period_s=probe_period_s,
        min_ready_seconds=min_ready_seconds,
        termination=termination_s,
        termination_grace_s=termination_grace_s,
        failure_p=failure_p,
    )
    res = simulate(
        spec, operation, timing, runs=runs, deadline_s=deadline_s, quorum=quorum, rng=rng
    )
    row = res.summary.iloc[0]
    keys = ["mean_s", "p50_s", "p90_s", "p99_s", "p_miss_deadline"]
    if quorum is not None:
        keys.append("p_below_quorum")
    return {k: float(row[k]) for k in keys}

"""Vectorized Monte Carlo of StatefulSet and Deployment operations.

Each operation is a recursion over the pods the controller touches (the public
:func:`~k8smodel.rollout.plan_operation`, shared with the theory), evaluated with numpy across
all replications at once: the Python loop runs over pods (or batches), never over
replications. All random phase durations are drawn in bulk before the recursion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numba import njit
from scipy import stats

from k8smodel._random import RngLike, spawn_seeds
from k8smodel._validate import check_budget, check_distribution, check_int, check_real
from k8smodel.result import Result
from k8smodel.rollout.semantics import OperationPlan, plan_operation, slow_start_offsets
from k8smodel.rollout.spec import DaemonSet, Deployment, PodTiming, StatefulSet, check_workload
from k8smodel.rollout.timing import sample_startup, sample_termination

__all__ = ["simulate", "RolloutResult"]

_ELEMENTS_PER_CHUNK = 2_000_000
_TIE_S = 1e-6  # see _min_ready
_COLUMNS = ("deleted", "terminated", "created", "running", "ready", "available")
#: Fewer replications than this and the tail quantiles are flagged as unreliable.
_FEW_REPLICATIONS = 200


def _shifted_cumsum(x: np.ndarray) -> np.ndarray:
    out = np.zeros_like(x)
    np.cumsum(x[:, :-1], axis=1, out=out[:, 1:])
    return out


def _chunk(
    plan: OperationPlan, timing: PodTiming, runs: int, gen: np.random.Generator
) -> dict[str, np.ndarray]:
    """Simulate ``runs`` operations; per-pod times of shape (runs, m) in the controller's order."""
    m = len(plan.ordinals)
    mode = plan.mode
    slots = plan.slots or 1
    nan = np.full((runs, m), np.nan)
    out: dict[str, np.ndarray] = {c: nan.copy() for c in _COLUMNS}
    op = plan.operation
    mrs = float(timing.min_ready_seconds)
    if m == 0:
        out["completion"] = np.zeros(runs)
        return out
    if mode == "on_delete":
        out["completion"] = np.full(runs, np.inf)
        return out
    api = plan.api_call_s

    if op == "scale_down":
        d = sample_termination(timing, (runs, m), gen)
        if mode == "ordered":
            deleted = _shifted_cumsum(d)
        else:
            deleted = np.broadcast_to(slow_start_offsets(m, api), (runs, m)).copy()
            if plan.kind == "Deployment":
                deleted[:] = 0.0  # a ReplicaSet deletes its excess pods concurrently
        out["deleted"], out["terminated"] = deleted, deleted + d
        out["completion"] = out["terminated"].max(axis=1)
        return out

    running, ready = sample_startup(timing, (runs, m), gen)
    avail = ready + mrs

    if op == "scale_up":
        if mode == "ordered":
            created = _shifted_cumsum(avail)
        else:
            created = np.broadcast_to(slow_start_offsets(m, api), (runs, m)).copy()
        _fill_new(out, created, running, ready, mrs)
        out["completion"] = out["available"].max(axis=1)
        return out

    if mode == "deployment":
        k = min(slots, m)
        created, _ = _list_schedule(avail, k)
        _fill_new(out, created, running, ready, mrs)
        # old pods: `unavailable` of them go at once, one more each time a new pod is available
        d = sample_termination(timing, (runs, m), gen)
        u = plan.unavailable or 0
        av_sorted = np.sort(out["available"], axis=1)
        deleted = np.zeros((runs, m))
        if m > u:
            deleted[:, u:] = av_sorted[:, : m - u]
        out["deleted"], out["terminated"] = deleted, deleted + d
        out["completion"] = out["available"].max(axis=1)
        return out

    if mode == "daemon_surge":
        # update.go: a new pod starts beside the old one on up to maxSurge nodes; the node's
        # old pod is deleted once the new one is available
        created, _ = _list_schedule(avail, min(slots, m))
        _fill_new(out, created, running, ready, mrs)
        d = sample_termination(timing, (runs, m), gen)
        out["deleted"] = out["available"]
        out["terminated"] = out["deleted"] + d
        out["completion"] = out["available"].max(axis=1)
        return out

    # StatefulSet rolling update, and a DaemonSet's without surge (daemon_unavailable: the
    # same window as parallel_window, a node busy from deletion until its new pod is available)
    d = sample_termination(timing, (runs, m), gen)
    if mode in ("ordered_serial", "parallel_serial"):
        # One pod at a time. OrderedReady's sync blocks until the replacement is available
        # (runForAll/processReplica); Parallel's update loop waits on
        # isUnavailable(pod, minReadySeconds), i.e. also until the replacement is available.
        deleted = _shifted_cumsum(d + avail)
        created = deleted + d
    elif mode == "ordered_batches":
        deleted, created = _ordered_batches(d, avail, slots)
    else:  # parallel_window: a pod's slot is busy from deletion until its replacement is available
        deleted, _ = _list_schedule(d + avail, min(slots, m))
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


def _list_schedule(durations: np.ndarray, k: int) -> tuple[np.ndarray, None]:
    """Greedy list scheduling of jobs (in column order) on ``k`` slots, across runs.

    Returns the start time of every job (each job takes the slot that frees first).
    """
    return _list_schedule_kernel(np.ascontiguousarray(durations, dtype=np.float64), int(k)), None


@njit(cache=True)
def _list_schedule_kernel(durations: np.ndarray, k: int) -> np.ndarray:  # pragma: no cover
    """Per run, a binary min-heap of slot free times: O(m log k) instead of O(m k)."""
    runs, m = durations.shape
    start = np.empty((runs, m))
    heap = np.empty(k)
    for r in range(runs):
        heap[:] = 0.0
        for j in range(m):
            t = heap[0]
            start[r, j] = t
            value = t + durations[r, j]
            i = 0  # replace the root and sift it down
            while True:
                left = 2 * i + 1
                if left >= k:
                    break
                child = left
                if left + 1 < k and heap[left + 1] < heap[left]:
                    child = left + 1
                if heap[child] >= value:
                    break
                heap[i] = heap[child]
                i = child
            heap[i] = value
    return start


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


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class RolloutResult(Result):
    """What :func:`simulate` returns: a :class:`k8smodel.Result` with the raw samples.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row. Workload columns ``kind``, ``operation``, ``pod_management``, ``replicas``,
        ``touched`` (pods the operation replaces/creates/deletes), ``max_unavailable``
        (effective: 1 with the gate off; for a Deployment the resolved maxUnavailable),
        ``max_surge`` (Deployment only, resolved; NaN otherwise), ``max_in_flight`` (pods
        being replaced at once at most; NaN for scale operations); then ``replications``,
        ``mean_s`` and ``mean_s_se``, ``std_s``, ``p50_s``, ``p90_s``, ``p99_s``, ``max_s``,
        ``mean_pod_gap_s`` (rolling updates of StatefulSets and DaemonSets: the mean time a
        replaced pod, or a node's daemon, is without a Ready pod, over all replications; 0
        with surge),
        ``deadline_s``, ``p_miss_deadline`` (fraction of replications that took longer than the
        deadline) and ``p_miss_deadline_se``, ``quorum``, ``p_below_quorum`` (fraction of
        replications in which fewer than ``quorum`` replicas were Ready at some moment; NaN
        without a quorum) and ``p_below_quorum_se``, ``method`` (``"simulation"``), ``exact``
        (False) and ``flags``.
    samples : numpy.ndarray
        Completion time of every replication, seconds (``inf`` for ``OnDelete``).
    timeline : pandas.DataFrame
        Per pod of the first ``timeline_replications`` replications: ``run``, ``pod`` (a
        label), ``ordinal``, ``deleted``, ``terminated`` (old pod gone), ``created``,
        ``running``, ``ready``, ``available`` (seconds from the start; NaN where it does not
        apply). Rows are in the controller's order. For a Deployment, row ``j`` holds the
        ``j``-th new pod (``created`` to ``available``) and the ``j``-th old pod to go
        (``deleted``, ``terminated``).
    min_ready : numpy.ndarray or None
        The least number of Ready replicas seen in each replication (only with a quorum).
    ready_events : dict
        Times at which replicas become Ready (``up``) or stop being Ready (``down``) in the
        replications kept for :meth:`ready_replicas`, and the ``baseline`` count.
    """

    samples: np.ndarray
    timeline: pd.DataFrame
    min_ready: np.ndarray | None = None
    ready_events: dict[str, Any] = field(default_factory=dict, repr=False)

    def _ready_counts(self, times_s: Any) -> tuple[np.ndarray, np.ndarray]:
        t = np.asarray(times_s, dtype=float)
        if t.ndim != 1:
            raise ValueError(f"times_s must be one-dimensional; got shape {t.shape}")
        ev = self.ready_events
        up, down, base = ev["up"] - _TIE_S, ev["down"], ev["baseline"]
        counts = np.full((up.shape[0], t.size), base, dtype=float)
        for j, tj in enumerate(t):
            counts[:, j] += (up <= tj).sum(axis=1) - (down <= tj).sum(axis=1)
        return t, counts

    def ready_replicas(self, times_s: Any) -> pd.DataFrame:
        """Ready replicas over time, across the replications kept for availability curves.

        Parameters
        ----------
        times_s : array_like
            Times since the start of the operation, seconds.

        Returns
        -------
        pandas.DataFrame
            Columns ``time_s``, ``mean``, ``p05``, ``p50``, ``p95`` and ``min`` of the number
            of Ready replicas at that time over the kept replications.
        """
        t, counts = self._ready_counts(times_s)
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

    def risk_over_time(self, times_s: Any) -> pd.DataFrame:
        """The fraction of replicas (nodes, for a DaemonSet) without a Ready pod, over time.

        Parameters
        ----------
        times_s : array_like
            Times since the start of the rollout, seconds.

        Returns
        -------
        pandas.DataFrame
            ``time_s``; ``mean_unready_fraction`` and ``p95_unready_fraction`` of the
            replicas without a Ready pod (for a DaemonSet: nodes without a ready daemon, a log
            gap or a node without its agent) over the kept replications; ``p_not_done``, the
            fraction of all replications still running at that time.
        """
        t, counts = self._ready_counts(times_s)
        base = float(self.ready_events["baseline"])
        frac = np.clip(base - counts, 0.0, None) / max(base, 1.0)
        return pd.DataFrame(
            {
                "time_s": t,
                "mean_unready_fraction": frac.mean(axis=0),
                "p95_unready_fraction": np.quantile(frac, 0.95, axis=0),
                "p_not_done": (self.samples[:, None] > t[None, :]).mean(axis=0),
            }
        )


def _check_disruptions(
    plan: OperationPlan, rate_per_h: float, quorum: int | None, duration: Any
) -> None:
    if rate_per_h == 0:
        return
    if plan.operation != "rolling_update":
        raise ValueError("disruption_rate_per_h applies to rolling_update only")
    if quorum is None:
        raise ValueError("disruption_rate_per_h needs a quorum to report against")
    if plan.kind == "Deployment":
        raise ValueError(
            "disruption_rate_per_h is modelled for StatefulSets only: a Deployment's old and "
            "new pods are different pods, with no ordinal whose rollout window a disruption "
            "could be matched to"
        )
    check_distribution(duration, "disruption_s")


def simulate(
    spec: StatefulSet | Deployment | DaemonSet,
    operation: str,
    timing: PodTiming,
    *,
    replications: int = 10_000,
    deadline_s: float | None = None,
    from_replicas: int | None = None,
    to_replicas: int | None = None,
    quorum: int | None = None,
    disruption_rate_per_h: float = 0.0,
    disruption_s: Any = 60.0,
    timeline_replications: int = 3,
    availability_replications: int = 1000,
    rng: RngLike = None,
) -> RolloutResult:
    """Simulate a StatefulSet or Deployment operation many times.

    Parameters
    ----------
    spec : StatefulSet or Deployment
        The workload (policy, partition, maxUnavailable, surge...).
    operation : {"scale_up", "scale_down", "rolling_update"}
        ``scale_up`` goes from ``from_replicas`` (default 0) to ``spec.replicas``;
        ``scale_down`` from ``spec.replicas`` to ``to_replicas`` (default 0);
        ``rolling_update`` replaces the pods with a new template.
    timing : PodTiming
        Phase timings of every pod (independent across pods and replications).
    replications : int
        Number of simulated operations.
    deadline_s : float, optional
        Report the probability that an operation takes longer than this (``inf`` allowed).
    from_replicas, to_replicas : int, optional
        The other end of a scale operation.
    quorum : int, optional
        Report the probability that fewer than ``quorum`` replicas are Ready at some moment
        (for a majority of 3 use 2, of 5 use 3).
    disruption_rate_per_h : float
        Rolling updates of StatefulSets only: besides the rollout, each replica
        independently becomes unready at this rate (per hour, while it is Ready and not being
        replaced) for ``disruption_s`` seconds: crashes, node problems, evictions. 0
        (default) models the rollout alone.
    disruption_s : float or frozen distribution
        Duration of one disruption.
    timeline_replications : int
        Replications whose per-pod times go into ``timeline``.
    availability_replications : int
        Replications kept for :meth:`RolloutResult.ready_replicas`.
    rng : int, Generator, SeedSequence or None
        Randomness (see :func:`k8smodel._random.as_generator`).

    Returns
    -------
    RolloutResult
        ``summary`` (one row, the columns of :func:`~k8smodel.rollout.completion_time` plus
        standard errors), ``samples``, ``timeline``, ``min_ready``.

    Notes
    -----
    Controller rules (``pkg/controller/statefulset/stateful_set_control.go``), through the
    shared :func:`~k8smodel.rollout.plan_operation`:

    * OrderedReady ``scale_up`` creates ordinal ``i + 1`` only when ``i`` is Running, Ready
      and Available (``processReplica`` returns early in monotonic mode); ``scale_down``
      deletes the highest ordinal first and waits for it to terminate (``processCondemned``).
    * Parallel creates/deletes all at once, in slow-start batches of API calls 1, 2, 4, ...,
      capped at 500 (``runForAll`` -> ``slowStartBatch``).
    * ``rolling_update`` deletes from the highest ordinal down to the partition. With the
      MaxUnavailableStatefulSet gate off (or maxUnavailable 1) one pod at a time, and both
      policies wait for the replacement to be *available* (Ready for ``minReadySeconds``):
      the update loop of ``updateStatefulSet`` waits on ``isUnavailable(pod,
      minReadySeconds)``. With the gate on and k > 1: OrderedReady deletes k at once and
      recreates them one by one in ascending order; Parallel keeps up to k pods unavailable
      (``updateStatefulSetAfterInvariantEstablished``): a sliding window, list scheduling on
      k slots where a slot is busy from deletion until the replacement is available. Older
      controllers (before the fix of kubernetes/kubernetes issues #112307 and #119234)
      waited only for ``isHealthy`` (Ready) with Parallel.
    * ``OnDelete`` never deletes pods itself: the completion time is ``inf``.
    * Deployment ``rolling_update``: at most ``surge + unavailable`` new pods start at a time
      (``pkg/controller/deployment/rolling.go``); an old pod is deleted when a new one is
      available, after the first ``unavailable`` ones.

    Controller reaction times (informer and queue latencies, milliseconds) are neglected.

    Examples
    --------
    >>> from k8smodel import rollout
    >>> res = rollout.simulate(rollout.StatefulSet(replicas=3), "scale_up",
    ...                        rollout.PodTiming(start=2, warmup=0), replications=10, rng=1)
    >>> float(res.summary.mean_s[0])  # 3 pods, each Ready 2 s after creation, one by one
    6.0
    """
    check_workload(spec, timing)
    plan = plan_operation(spec, operation, from_replicas=from_replicas, to_replicas=to_replicas)
    replications = check_int(replications, "replications", minimum=1)
    if deadline_s is not None:
        deadline_s = check_real(deadline_s, "deadline_s", minimum=0, allow_inf=True)
    if quorum is not None:
        quorum = check_int(quorum, "quorum", minimum=1)
    rate_h = check_real(disruption_rate_per_h, "disruption_rate_per_h", minimum=0)
    keep_t = min(check_int(timeline_replications, "timeline_replications", minimum=0), replications)
    keep_a = min(
        check_int(availability_replications, "availability_replications", minimum=1), replications
    )
    _check_disruptions(plan, rate_h, quorum, disruption_s)
    m = plan.touched
    check_budget(
        8.0 * (replications * 2 + keep_a * 2 * m + keep_t * m * 8)
        + 8.0 * 16 * min(_ELEMENTS_PER_CHUNK, replications * max(m, 1)),
        f"replications={replications} x touched pods={m}",
        remedy="use fewer replications or fewer availability_replications",
    )
    chunk = max(1, min(replications, _ELEMENTS_PER_CHUNK // max(m, 1)))
    n_chunks = -(-replications // chunk)
    seeds = spawn_seeds(rng, n_chunks)
    samples = np.empty(replications)
    min_ready = np.empty(replications) if quorum is not None else None
    first: dict[str, np.ndarray] = {}
    ev_up, ev_down = [], []
    gaps = np.zeros(2)  # sum of per-pod gaps, number of pods
    for c in range(n_chunks):
        lo, hi = c * chunk, min(replications, (c + 1) * chunk)
        gen = np.random.Generator(np.random.PCG64(seeds[c]))
        out = _chunk(plan, timing, hi - lo, gen)
        samples[lo:hi] = out["completion"]
        gap = out["ready"] - out["deleted"]
        gaps += (np.nansum(np.clip(gap, 0.0, None)), np.isfinite(gap).sum())
        up, down = _ready_events(plan, out)
        if min_ready is not None:
            extra_up = extra_down = None
            if rate_h > 0:
                extra_up, extra_down = _disruptions(plan, out, rate_h / 3600.0, disruption_s, gen)
            min_ready[lo:hi] = _min_ready(up, down, plan.baseline, extra_up, extra_down)
        if lo < keep_a:
            take = min(hi, keep_a) - lo
            ev_up.append(up[:take])
            ev_down.append(down[:take])
        if c == 0:
            first = {k: v[:keep_t] for k, v in out.items() if k in _COLUMNS}
    timeline = _timeline(plan, first, keep_t)
    gap = _mean_gap(plan, gaps)
    summary, notes = _summary(spec, plan, samples, deadline_s, quorum, min_ready, gap)
    return RolloutResult(
        summary=summary,
        params=_params(spec, timing, plan, replications, deadline_s, quorum, rate_h, disruption_s),
        notes=notes,
        samples=samples,
        timeline=timeline,
        min_ready=min_ready,
        ready_events={
            "up": np.concatenate(ev_up, axis=0),
            "down": np.concatenate(ev_down, axis=0),
            "baseline": plan.baseline,
        },
    )


def _params(spec, timing, plan, replications, deadline_s, quorum, rate_h, disruption_s) -> dict:
    return {
        "spec": spec,
        "operation": plan.operation,
        "timing": timing,
        "ordinals": plan.ordinals,
        "mode": plan.mode,
        "replications": replications,
        "deadline_s": deadline_s,
        "quorum": quorum,
        "disruption_rate_per_h": rate_h,
        "disruption_s": disruption_s,
    }


def _timeline(plan: OperationPlan, first: dict[str, np.ndarray], keep: int) -> pd.DataFrame:
    m = plan.touched
    run = np.repeat(np.arange(keep), m)
    ordinal = np.tile(np.asarray(plan.ordinals, dtype=int), keep)
    if plan.kind == "StatefulSet":
        labels = [f"pod-{o}" for o in ordinal]
    elif plan.kind == "DaemonSet":
        labels = [f"node-{o}" for o in ordinal]
    else:
        labels = [f"rs-pod-{j}" for j in np.tile(np.arange(m), keep)]
    table = pd.DataFrame({"run": run, "pod": labels, "ordinal": ordinal})
    for c in _COLUMNS:
        table[c] = first[c][:keep].reshape(-1).astype(float) if keep and m else np.empty(0)
    return table


def _mean_gap(plan: OperationPlan, gaps: np.ndarray) -> float:
    """Mean time a replaced pod (or a node's daemon) is without a Ready pod, over all pods."""
    if plan.operation != "rolling_update" or plan.kind == "Deployment" or gaps[1] == 0:
        return math.nan
    if plan.mode == "daemon_surge":
        return 0.0  # the old pod serves until the new one is available
    return float(gaps[0] / gaps[1])


def _summary(spec, plan, samples, deadline_s, quorum, min_ready, gap):
    n = samples.size
    finite = bool(np.isfinite(samples).all())
    q = np.quantile(samples, [0.5, 0.9, 0.99]) if finite else [math.inf] * 3
    std = float(samples.std(ddof=1)) if finite and n > 1 else math.nan
    p_miss = math.nan if deadline_s is None else float(np.mean(samples > deadline_s))
    p_below = math.nan if quorum is None else float(np.mean(min_ready < quorum))
    flags = []
    notes = [
        "controller reaction times (informer and queue latencies) are neglected",
    ]
    if n < _FEW_REPLICATIONS:
        flags.append("few_replications")
        notes.append(
            f"only {n} replications: the p99 and small probabilities are rough "
            f"(use {_FEW_REPLICATIONS} or more)"
        )
    if plan.mode == "on_delete":
        notes.append("OnDelete: the controller never deletes a pod itself, so it never completes")
    row = plan.columns(getattr(spec, "pod_management", spec.kind))
    row.update(
        {
            "replications": n,
            "mean_s": float(samples.mean()) if finite else math.inf,
            "mean_s_se": std / math.sqrt(n) if n > 1 else math.nan,
            "std_s": std,
            "p50_s": float(q[0]),
            "p90_s": float(q[1]),
            "p99_s": float(q[2]),
            "max_s": float(samples.max()),
            "mean_pod_gap_s": gap,
            "deadline_s": math.nan if deadline_s is None else float(deadline_s),
            "p_miss_deadline": p_miss,
            "p_miss_deadline_se": math.sqrt(p_miss * (1 - p_miss) / n),
            "quorum": math.nan if quorum is None else quorum,
            "p_below_quorum": p_below,
            "p_below_quorum_se": math.sqrt(p_below * (1 - p_below) / n),
            "method": "simulation",
            "exact": False,
            "flags": ";".join(flags),
        }
    )
    return pd.DataFrame([row]), tuple(notes)


def _ready_events(plan, out) -> tuple[np.ndarray, np.ndarray]:
    """Times at which a replica becomes Ready (+1) or stops being Ready (-1), per run."""
    op = plan.operation
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
    n = plan.replicas
    runs = out["completion"].shape[0]
    horizon = out["completion"]
    finite = horizon[np.isfinite(horizon)]
    tmax = float(finite.max()) if finite.size else 0.0
    kmax = int(stats.poisson.ppf(1 - 1e-9, rate_per_s * tmax)) + 1
    a = np.full((runs, n), np.inf)  # rollout window of each ordinal
    b = np.full((runs, n), np.inf)
    ords = np.asarray(plan.ordinals, dtype=int)
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

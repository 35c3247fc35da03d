"""Controller semantics: what the StatefulSet and Deployment controllers do, and in which order.

Every rule here was read off the Kubernetes source (kubernetes/kubernetes, master in 2025-2026):

* ``pkg/controller/statefulset/stateful_set_control.go``: ``updateStatefulSet``, ``processReplica``,
  ``processCondemned``, ``runForAll``, ``slowStartBatch`` (``MaxBatchSize = 500``) and
  ``updateStatefulSetAfterInvariantEstablished`` (the MaxUnavailableStatefulSet path).
* ``pkg/controller/statefulset/stateful_set_utils.go``: ``getStatefulSetMaxUnavailable``,
  ``isHealthy`` (running and ready and not terminating), ``isUnavailable(pod, minReadySeconds)``
  (not healthy, or Ready for less than minReadySeconds), ``allowsBurst`` (Parallel). The
  rolling-update loops wait on ``isUnavailable`` for both policies (read at kubernetes/kubernetes
  commit 0004b149); older releases waited on ``isHealthy`` in the one-at-a-time loop, so a
  Parallel set ignored minReadySeconds between steps (issues #112307, #119234).
* ``staging/src/k8s.io/apimachinery/pkg/util/intstr/intstr.go``: ``GetScaledValueFromIntOrPercent``.
* ``pkg/controller/deployment/util/deployment_util.go``: ``ResolveFenceposts``.
* ``pkg/features/kube_features.go``: the ``MaxUnavailableStatefulSet`` gate.
* ``pkg/kubelet/prober/worker.go`` and ``pkg/kubelet/kubelet.go``: the readiness-probe grid
  (:func:`probe_delay`) and the CrashLoopBackOff delays (:func:`backoff_delays`).

:func:`plan_operation` turns these rules into the public :class:`OperationPlan` (which pods,
in which order, how many in flight) that the theory and the simulation share. The DaemonSet
controller's rules are in :mod:`k8smodel.rollout.semantics_daemonset`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from k8smodel._validate import check_choice, check_int, check_real
from k8smodel.manifests import INT32_MAX

__all__ = [
    "scaled_value",
    "statefulset_max_unavailable",
    "deployment_fenceposts",
    "slow_start_batches",
    "max_unavailable_gate_default",
    "update_targets",
    "percent_value",
    "int_or_percent_value",
    "probe_delay",
    "backoff_delays",
    "slow_start_offsets",
    "OperationPlan",
    "plan_operation",
    "OPERATIONS",
    "MODES",
    "POD_MANAGEMENT_POLICIES",
    "UPDATE_STRATEGIES",
    "MAX_BATCH_SIZE",
]

POD_MANAGEMENT_POLICIES = ("OrderedReady", "Parallel")
UPDATE_STRATEGIES = ("RollingUpdate", "OnDelete")
#: ``MaxBatchSize`` in ``stateful_set_control.go``: cap of one slow-start batch (Parallel policy).
MAX_BATCH_SIZE = 500

_PERCENT = re.compile(r"^\s*(\d+)%\s*$")


def percent_value(value) -> int | None:
    """The number in a ``"<digits>%"`` string (``getPercentValue`` in validation.go), else None."""
    if isinstance(value, str):
        m = _PERCENT.match(value)
        if m is not None:
            return int(m.group(1))
    return None


def int_or_percent_value(value) -> int:
    """``getIntOrPercentValue`` in ``pkg/apis/apps/validation/validation.go``."""
    pct = percent_value(value)
    return int(value) if pct is None else pct


def scaled_value(value: int | str, total: int, *, round_up: bool) -> int:
    """Resolve an int-or-percent field against ``total`` (``GetScaledValueFromIntOrPercent``).

    Parameters
    ----------
    value : int or str
        An absolute number (``3``) or a percentage string (``"25%"``).
    total : int
        The number the percentage refers to (the desired replicas), ``>= 0``.
    round_up : bool
        ``True`` rounds a fractional result up (``math.Ceil``), ``False`` down (``math.Floor``).

    Returns
    -------
    int
        ``value`` for an int; ``ceil`` or ``floor`` of ``pct * total / 100`` for a percentage.

    Raises
    ------
    ValueError
        If ``value`` is neither a non-negative int nor a string ``"<digits>%"``.

    Notes
    -----
    Mirrors ``GetScaledValueFromIntOrPercent`` in
    ``staging/src/k8s.io/apimachinery/pkg/util/intstr/intstr.go``, which computes
    ``math.Ceil(float64(v) * float64(total) / 100)`` (or ``math.Floor``) in floating point; this
    function does the same float computation, so it rounds exactly like the Go code.
    """
    check_int(total, "total", minimum=0)
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"an int-or-percent value must be >= 0; got {value!r}")
        return int(value)
    if isinstance(value, str):
        m = _PERCENT.match(value)
        if m is None:
            raise ValueError(
                f"an int-or-percent value must be an int or a string like '25%'; got {value!r}"
            )
        scaled = float(int(m.group(1))) * float(total) / 100.0
        return int(math.ceil(scaled) if round_up else math.floor(scaled))
    raise TypeError(f"an int-or-percent value must be an int or a string like '25%'; got {value!r}")


def statefulset_max_unavailable(max_unavailable: int | str | None, replicas: int) -> int:
    """The number of pods a StatefulSet rolling update may take down at once.

    Parameters
    ----------
    max_unavailable : int, str or None
        ``spec.updateStrategy.rollingUpdate.maxUnavailable``; ``None`` means unset (default 1).
    replicas : int
        ``spec.replicas``.

    Returns
    -------
    int
        ``floor`` of the percentage (or the int itself), and at least 1.

    Notes
    -----
    ``getStatefulSetMaxUnavailable`` in ``pkg/controller/statefulset/stateful_set_utils.go`` calls
    ``intstr.GetScaledValueFromIntOrPercent(..., replicaCount, false)``: percentages round **down**,
    then a result below 1 is raised to 1. The API reference text of the field says "rounding up";
    the code (and its test ``TestGetStatefulSetMaxUnavailable`` in ``stateful_set_utils_test.go``,
    e.g. 10 % of 25 -> 2, 50 % of 5 -> 2) rounds down. The code is what runs.
    """
    value = 1 if max_unavailable is None else max_unavailable
    return max(1, scaled_value(value, replicas, round_up=False))


def deployment_fenceposts(max_surge: int | str, max_unavailable: int | str, replicas: int):
    """Resolve a Deployment's ``maxSurge`` and ``maxUnavailable`` together.

    Parameters
    ----------
    max_surge, max_unavailable : int or str
        ``spec.strategy.rollingUpdate`` fields (defaults ``"25%"`` each).
    replicas : int
        ``spec.replicas``.

    Returns
    -------
    tuple of int
        ``(surge, unavailable)``: surge rounds up, unavailable rounds down, and if both come out
        0 the unavailable one is set to 1.

    Notes
    -----
    ``ResolveFenceposts`` in ``pkg/controller/deployment/util/deployment_util.go`` (test cases in
    ``TestResolveFenceposts``: 39 %/39 % of 10 -> (4, 3); 0 %/0 % of 0 -> (0, 1)).
    """
    surge = scaled_value(max_surge, replicas, round_up=True)
    unavailable = scaled_value(max_unavailable, replicas, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def slow_start_batches(count: int, *, initial: int = 1, cap: int = MAX_BATCH_SIZE) -> list[int]:
    """Sizes of the slow-start batches in which a Parallel StatefulSet issues ``count`` calls.

    Parameters
    ----------
    count : int
        Number of pods to create (or delete) in one sync.
    initial : int, default 1
        First batch size (``runForAll`` passes 1).
    cap : int, default 500
        ``MaxBatchSize``.

    Returns
    -------
    list of int
        Batch sizes 1, 2, 4, ..., each ``min(2 * previous, remaining, cap)``.

    Notes
    -----
    ``slowStartBatch(initialBatchSize, remaining, fn)`` in ``stateful_set_control.go`` (PR
    kubernetes/kubernetes#117865, 2023): a batch's calls run concurrently and the next batch starts
    when the whole batch has returned. Before that PR a Parallel StatefulSet issued the create calls
    one by one in a loop, without waiting for readiness (issue kubernetes/kubernetes#117071).
    """
    check_int(count, "count", minimum=0, maximum=INT32_MAX)  # a replica count is int32
    check_int(initial, "initial", minimum=1)
    check_int(cap, "cap", minimum=1)
    sizes, remaining = [], count
    batch = min(remaining, initial)
    while batch > 0:
        sizes.append(batch)
        remaining -= batch
        batch = min(2 * batch, remaining, cap)
    return sizes


def max_unavailable_gate_default(version: str) -> bool:
    """Default of the ``MaxUnavailableStatefulSet`` feature gate in a Kubernetes release.

    Parameters
    ----------
    version : str
        ``"1.34"``, ``"1.35.2"``, ``"v1.36.0"``, ... A version without a patch number means the
        latest patch release of that minor version (what a cluster on that minor runs once
        upgraded): ``"1.35"`` is read as 1.35.4 or later.

    Returns
    -------
    bool
        False for 1.24-1.34 (alpha), True for 1.35.0-1.35.3 (beta), False for 1.35.4 and later
        1.35 patches and for 1.36 (turned off again), True from 1.37.

    Raises
    ------
    ValueError
        For a malformed version or one before 1.24, when the field did not exist.

    Notes
    -----
    ``pkg/features/kube_features.go`` (versioned spec: alpha/false at 1.24, beta/true at 1.35,
    kubernetes/kubernetes PR #133153); disabled by default in 1.36 (PR #137904) and, by the
    cherry-pick PR #137926, from 1.35.4, after the regression in issue #137409; on by default
    again in 1.37 (PR #139466). The patch-level boundary 1.35.4 comes from kubernetes/website
    PR #55757 ("disabled by default starting from v1.35.4").
    """
    m = re.match(r"^v?(\d+)\.(\d+)(?:\.(\d+))?$", str(version).strip())
    if m is None:
        raise ValueError(f"version must look like '1.35' or '1.35.2'; got {version!r}")
    major, minor = int(m.group(1)), int(m.group(2))
    patch = math.inf if m.group(3) is None else int(m.group(3))  # no patch: the latest one
    if major != 1 or minor < 24:
        raise ValueError(f"MaxUnavailableStatefulSet exists from 1.24 on; got version {version!r}")
    if minor <= 34:
        return False
    if minor == 35:
        return patch <= 3
    if minor == 36:
        return False
    return True


def update_targets(replicas: int, partition: int) -> list[int]:
    """Ordinals a StatefulSet rolling update replaces, in the order the controller deletes them.

    Parameters
    ----------
    replicas, partition : int
        ``spec.replicas`` and ``rollingUpdate.partition``.

    Returns
    -------
    list of int
        ``replicas - 1, replicas - 2, ..., partition``; empty when ``partition >= replicas``.

    Notes
    -----
    ``for target := len(replicas) - 1; target >= updateMin; target--`` in ``updateStatefulSet``
    (``stateful_set_control.go``), where ``updateMin`` is the partition.
    """
    check_int(replicas, "replicas", minimum=0)
    check_int(partition, "partition", minimum=0)
    return list(range(replicas - 1, partition - 1, -1))


def slow_start_offsets(count: int, api_call_s: float) -> np.ndarray:
    """Issue time of each of ``count`` calls made in slow-start batches.

    Parameters
    ----------
    count : int
        Number of create (or delete) calls in one sync.
    api_call_s : float
        Duration of one API call; 0 issues every call at time 0.

    Returns
    -------
    numpy.ndarray
        ``count`` times: batch ``b`` (sizes from :func:`slow_start_batches`) is issued after
        ``b + 1`` round trips, since ``slowStartBatch`` waits for a whole batch to return.
    """
    check_int(count, "count", minimum=0)
    api = check_real(api_call_s, "api_call_s", minimum=0)
    if api == 0 or count == 0:
        return np.zeros(count)
    sizes = slow_start_batches(count)
    return np.repeat((np.arange(len(sizes)) + 1.0) * api, sizes)


# ---------------------------------------------------------------------------- kubelet rules
def probe_delay(warmup_s: Any, *, period_s: float, initial_delay_s: float = 0.0) -> Any:
    """Time from container start until the readiness probe first succeeds.

    Parameters
    ----------
    warmup_s : float or ndarray
        Time from container start until the application would answer the probe.
    period_s : float
        ``readinessProbe.periodSeconds`` (default 10 in Kubernetes), ``> 0``.
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

    Examples
    --------
    >>> float(probe_delay(10.5, period_s=10))
    20.0
    """
    period = check_real(period_s, "period_s", minimum=0, lower_open=True)
    delay = check_real(initial_delay_s, "initial_delay_s", minimum=0)
    w = np.asarray(warmup_s, dtype=float)
    if np.any(np.isnan(w) | (w < 0)):
        raise ValueError(f"warmup_s must be times >= 0 seconds (no NaN); got {warmup_s!r}")
    k = np.ceil(np.maximum(w - delay, 0.0) / period - 1e-12)
    out = delay + period * np.maximum(k, 0.0)
    return out[()] if out.ndim == 0 else out


def backoff_delays(failures: int, *, initial_s: float = 10.0, cap_s: float = 300.0) -> np.ndarray:
    """Cumulative CrashLoopBackOff delay after 0, 1, ..., ``failures`` failed attempts.

    Parameters
    ----------
    failures : int
        Largest number of failures to tabulate, ``>= 0``.
    initial_s, cap_s : float
        The kubelet back-off starts at 10 s, doubles, and is capped at 300 s.

    Returns
    -------
    numpy.ndarray
        ``B[f] = sum_{i=1..f} min(initial * 2**(i-1), cap)``, length ``failures + 1``.

    Notes
    -----
    ``pkg/kubelet/kubelet.go``: ``backOffPeriod = time.Second * 10`` ("the base period for the
    exponential backoff container restarts") and ``MaxContainerBackOff = 300 * time.Second``;
    the Pod lifecycle concept page ("Container restarts") describes the doubling. The reset
    after 10 minutes of running is irrelevant here: the container never runs that long before
    it fails in this model.

    Examples
    --------
    >>> backoff_delays(3).tolist()
    [0.0, 10.0, 30.0, 70.0]
    """
    check_int(failures, "failures", minimum=0, maximum=MAX_FAILURES)
    initial = check_real(initial_s, "initial_s", minimum=0, lower_open=True)
    cap = check_real(cap_s, "cap_s", minimum=0, lower_open=True)
    i = np.arange(1, failures + 1)
    steps = np.minimum(initial * 2.0 ** (i - 1), cap)
    return np.concatenate([[0.0], np.cumsum(steps)])


#: Most failures :func:`backoff_delays` lists: past the cap every step is ``cap_s``.
MAX_FAILURES = 10_000_000


# ---------------------------------------------------------------------------- the operation plan
OPERATIONS = ("scale_up", "scale_down", "rolling_update")
#: How the touched pods are processed (see :class:`OperationPlan`).
MODES = (
    "ordered",  # scale: one pod at a time (OrderedReady)
    "parallel",  # scale: all at once, in slow-start batches of API calls
    "ordered_serial",  # StatefulSet update, one at a time, OrderedReady
    "parallel_serial",  # StatefulSet update, one at a time, Parallel
    "ordered_batches",  # OrderedReady, maxUnavailable k > 1: k down, recreated ascending
    "parallel_window",  # Parallel, maxUnavailable k > 1: a sliding window of k
    "deployment",  # Deployment: surge + unavailable new pods in flight
    "daemon_unavailable",  # DaemonSet: a window of maxUnavailable nodes, old pod gone first
    "daemon_surge",  # DaemonSet: a window of maxSurge nodes, new pod beside the old one
    "on_delete",  # OnDelete: the controller never deletes a pod itself
)


@dataclass(frozen=True)
class OperationPlan:
    """Which pods an operation touches, in the controller's order, and how.

    Shared by :func:`k8smodel.rollout.simulate` and :func:`k8smodel.rollout.completion_time`.

    Attributes
    ----------
    kind : {"StatefulSet", "Deployment"}
    operation : {"scale_up", "scale_down", "rolling_update"}
    replicas : int
        ``spec.replicas``.
    ordinals : tuple of int
        The pods touched, in the order the controller acts on them (for a Deployment the
        positions 0..m-1 of the new pods).
    baseline : int
        Replicas counted Ready before the operation starts.
    mode : str
        One of :data:`MODES`.
    slots : int or None
        Pods in flight at once in a rolling update (StatefulSet: the effective maxUnavailable;
        Deployment: surge + unavailable); None for scale operations.
    surge, unavailable : int or None
        A Deployment's resolved maxSurge and maxUnavailable (``unavailable`` is the
        StatefulSet's effective maxUnavailable in a rolling update).
    api_call_s : float
        The spec's API call time (slow-start batches of Parallel scale operations).
    """

    kind: str
    operation: str
    replicas: int
    ordinals: tuple[int, ...]
    baseline: int
    mode: str
    slots: int | None = None
    surge: int | None = None
    unavailable: int | None = None
    api_call_s: float = 0.0

    @property
    def touched(self) -> int:
        """Number of pods the operation creates, deletes or replaces."""
        return len(self.ordinals)

    def columns(self, pod_management: str) -> dict[str, Any]:
        """The workload columns every rollout summary starts with."""
        nan = float("nan")
        return {
            "kind": self.kind,
            "operation": self.operation,
            "pod_management": pod_management,
            "replicas": self.replicas,
            "touched": self.touched,
            "max_unavailable": nan if self.unavailable is None else self.unavailable,
            "max_surge": nan if self.surge is None else self.surge,
            "max_in_flight": nan if self.slots is None else self.slots,
        }


def _replica_bound(value: Any, name: str, default: int, replicas: int) -> int:
    chosen = default if value is None else value
    return check_int(chosen, name, minimum=0, maximum=replicas)


def _not_for(value: Any, name: str, why: str) -> None:
    """Refuse a bound the operation does not read (it was silently ignored before)."""
    if value is not None:
        raise ValueError(f"{name} must be None here ({why}); got {value!r}")


def plan_operation(
    spec: Any, operation: str, *, from_replicas: int | None = None, to_replicas: int | None = None
) -> OperationPlan:
    """The pods an operation touches, in the controller's order, and how they are processed.

    Parameters
    ----------
    spec : StatefulSet or Deployment
        The workload.
    operation : {"scale_up", "scale_down", "rolling_update"}
        ``scale_up`` goes from ``from_replicas`` (default 0) to ``spec.replicas``;
        ``scale_down`` from ``spec.replicas`` to ``to_replicas`` (default 0);
        ``rolling_update`` replaces the pods with a new template.
    from_replicas, to_replicas : int, optional
        The other end of a scale operation (in ``[0, replicas]``).

    Returns
    -------
    OperationPlan
        The touched ordinals in order, the processing mode and the in-flight limits.

    Notes
    -----
    ``stateful_set_control.go``: scale up creates ordinals ascending; scale down deletes the
    highest ordinal first (``processCondemned``); OrderedReady does one at a time, Parallel
    all at once in slow-start batches (``runForAll``). A rolling update deletes from the
    highest ordinal down to the partition (:func:`update_targets`), one at a time with the
    MaxUnavailableStatefulSet gate off, ``k`` at a time with it on
    (``updateStatefulSetAfterInvariantEstablished``); ``OnDelete`` never deletes. A
    Deployment's rolling update keeps ``surge + unavailable`` new pods in flight
    (``rolling.go``, :func:`deployment_fenceposts`).

    Examples
    --------
    >>> from k8smodel.rollout import StatefulSet
    >>> plan_operation(StatefulSet(replicas=5, partition=3), "rolling_update").ordinals
    (4, 3)
    """
    kind = getattr(spec, "kind", None)
    if kind not in ("StatefulSet", "Deployment", "DaemonSet"):
        raise TypeError(
            "spec must be a rollout.StatefulSet, rollout.Deployment or rollout.DaemonSet; "
            f"got {type(spec).__name__}"
        )
    check_choice(operation, "operation", OPERATIONS)
    n = spec.replicas
    if kind == "DaemonSet":
        return _daemonset_plan(spec, operation, from_replicas, to_replicas)
    ordered = kind == "StatefulSet" and spec.pod_management == "OrderedReady"
    common = {"kind": kind, "operation": operation, "replicas": n, "api_call_s": spec.api_call_s}
    if operation != "rolling_update":
        mode = "ordered" if ordered else "parallel"
        if operation == "scale_up":
            _not_for(to_replicas, "to_replicas", "scale_up scales to spec.replicas")
            r0 = _replica_bound(from_replicas, "from_replicas", 0, n)
            return OperationPlan(**common, ordinals=tuple(range(r0, n)), baseline=r0, mode=mode)
        _not_for(from_replicas, "from_replicas", "scale_down starts from spec.replicas")
        r1 = _replica_bound(to_replicas, "to_replicas", 0, n)
        return OperationPlan(
            **common, ordinals=tuple(range(n - 1, r1 - 1, -1)), baseline=n, mode=mode
        )
    if from_replicas is not None or to_replicas is not None:
        raise ValueError("from_replicas/to_replicas apply to scale_up/scale_down only")
    if kind == "Deployment":
        surge, unavailable = spec.fenceposts
        # ResolveFenceposts never returns (0, 0), so at least one pod is in flight
        return OperationPlan(
            **common,
            ordinals=tuple(range(n)),
            baseline=n,
            mode="deployment",
            slots=surge + unavailable,
            surge=surge,
            unavailable=unavailable,
        )
    k = spec.effective_max_unavailable
    if spec.update_strategy == "OnDelete":
        mode = "on_delete"
    elif ordered:
        mode = "ordered_batches" if k > 1 else "ordered_serial"
    else:
        mode = "parallel_window" if k > 1 else "parallel_serial"
    return OperationPlan(
        **common,
        ordinals=tuple(update_targets(n, spec.partition)),
        baseline=n,
        mode=mode,
        slots=k,
        unavailable=k,
    )


def _daemonset_plan(
    spec: Any, operation: str, from_replicas: Any, to_replicas: Any
) -> OperationPlan:
    """A DaemonSet's rolling update: ``pkg/controller/daemon/update.go``, ``rollingUpdate``."""
    if operation != "rolling_update":
        raise ValueError(
            "operation must be 'rolling_update' for a DaemonSet (it has one pod per node and "
            f"no scale operations); got {operation!r}"
        )
    if from_replicas is not None or to_replicas is not None:
        raise ValueError("from_replicas/to_replicas apply to scale_up/scale_down only")
    n = spec.nodes
    surge, unavailable = spec.budgets
    if spec.update_strategy == "OnDelete":
        mode, slots = "on_delete", None
    elif surge > 0:
        mode, slots = "daemon_surge", surge
    else:
        mode, slots = "daemon_unavailable", unavailable
    return OperationPlan(
        kind="DaemonSet",
        operation=operation,
        replicas=n,
        ordinals=tuple(range(n)),
        baseline=n,
        mode=mode,
        slots=slots,
        surge=surge,
        unavailable=unavailable,
        api_call_s=spec.api_call_s,
    )

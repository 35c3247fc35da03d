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
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass

__all__ = [
    "StatefulSet",
    "Deployment",
    "scaled_value",
    "statefulset_max_unavailable",
    "deployment_fenceposts",
    "slow_start_batches",
    "max_unavailable_gate_default",
    "update_targets",
    "POD_MANAGEMENT_POLICIES",
    "UPDATE_STRATEGIES",
    "MAX_BATCH_SIZE",
]

POD_MANAGEMENT_POLICIES = ("OrderedReady", "Parallel")
UPDATE_STRATEGIES = ("RollingUpdate", "OnDelete")
#: ``MaxBatchSize`` in ``stateful_set_control.go``: cap of one slow-start batch (Parallel policy).
MAX_BATCH_SIZE = 500

_PERCENT = re.compile(r"^\s*(\d+)%\s*$")


def _is_int(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _check_api_call_s(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"api_call_s must be a number of seconds; got {value!r}")
    if not (0 <= value < math.inf):
        raise ValueError(f"api_call_s must be a finite number >= 0; got {value!r}")


def _percent_value(value) -> int | None:
    """The number in a ``"<digits>%"`` string (``getPercentValue`` in validation.go), else None."""
    if isinstance(value, str):
        m = _PERCENT.match(value)
        if m is not None:
            return int(m.group(1))
    return None


def _int_or_percent_value(value) -> int:
    """``getIntOrPercentValue`` in ``pkg/apis/apps/validation/validation.go``."""
    pct = _percent_value(value)
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
    if _is_int(total) is False or total < 0:
        raise ValueError(f"total must be an int >= 0; got {total!r}")
    if _is_int(value):
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
    raise ValueError(
        f"an int-or-percent value must be an int or a string like '25%'; got {value!r}"
    )


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
    if not _is_int(count) or count < 0:
        raise ValueError(f"count must be an int >= 0; got {count!r}")
    for name, value in (("initial", initial), ("cap", cap)):
        if not _is_int(value) or value < 1:
            raise ValueError(f"{name} must be an int >= 1; got {value!r}")
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


@dataclass(frozen=True)
class StatefulSet:
    """The parts of a StatefulSet spec that decide how long an operation takes.

    Parameters
    ----------
    replicas : int
        ``spec.replicas``, ``>= 0``. For ``scale_up`` it is the target size; for ``scale_down`` the
        starting size.
    pod_management : {"OrderedReady", "Parallel"}
        ``spec.podManagementPolicy``.
    update_strategy : {"RollingUpdate", "OnDelete"}
        ``spec.updateStrategy.type``. With ``OnDelete`` the controller never deletes a pod for an
        update, so a rolling update never completes on its own.
    partition : int
        ``rollingUpdate.partition``: only ordinals ``>= partition`` are updated. A partition larger
        than ``replicas`` is valid and updates nothing.
    max_unavailable : int or str or None
        ``rollingUpdate.maxUnavailable`` (``3`` or ``"20%"``); ``None`` is the default 1. As in
        API validation (``validateRollingUpdateStatefulSet`` in
        ``pkg/apis/apps/validation/validation.go``, read at commit 2dd1588c): an int or a
        ``"<digits>%"`` string whose number is not 0 ("cannot be 0") and, for a percentage, not
        above 100 ("must not be greater than 100%"). A percentage that resolves to 0 pods (5 % of
        10) is valid; the controller raises it to 1.
    max_unavailable_gate : bool, optional
        Whether the ``MaxUnavailableStatefulSet`` feature gate is on. Default: the default of
        ``kubernetes_version``. With the gate off, ``max_unavailable`` is ignored (one at a time).
    kubernetes_version : str
        Used only for the gate default; ``"1.36"`` by default (gate off). A version without a
        patch number means that minor's latest patch (``"1.35"``: off, as from 1.35.4); see
        :func:`max_unavailable_gate_default`.
    api_call_s : float
        Duration of one create/delete API call, used for the slow-start batches of Parallel
        scale operations (batch ``b`` is issued after ``b`` round trips). 0 ignores it.

    Notes
    -----
    Semantics from ``pkg/controller/statefulset/stateful_set_control.go`` (see :mod:`.semantics`).
    """

    replicas: int
    pod_management: str = "OrderedReady"
    update_strategy: str = "RollingUpdate"
    partition: int = 0
    max_unavailable: int | str | None = None
    max_unavailable_gate: bool | None = None
    kubernetes_version: str = "1.36"
    api_call_s: float = 0.0

    def __post_init__(self):
        if not _is_int(self.replicas) or self.replicas < 0:
            raise ValueError(f"replicas must be an int >= 0; got {self.replicas!r}")
        if self.pod_management not in POD_MANAGEMENT_POLICIES:
            raise ValueError(
                f"pod_management must be one of {POD_MANAGEMENT_POLICIES}; "
                f"got {self.pod_management!r}"
            )
        if self.update_strategy not in UPDATE_STRATEGIES:
            raise ValueError(
                f"update_strategy must be one of {UPDATE_STRATEGIES}; got {self.update_strategy!r}"
            )
        if not _is_int(self.partition) or self.partition < 0:
            raise ValueError(f"partition must be an int >= 0; got {self.partition!r}")
        if self.max_unavailable is not None:
            mu = self.max_unavailable
            valid = _is_int(mu) or _percent_value(mu) is not None
            if not valid or _int_or_percent_value(mu) < 1 or (_percent_value(mu) or 0) > 100:
                raise ValueError(
                    "max_unavailable must be an int >= 1 or a percentage from '1%' to '100%' "
                    f"(API validation: cannot be 0, not more than 100%); got {mu!r}"
                )
        gate = self.max_unavailable_gate
        if gate is None:
            gate = max_unavailable_gate_default(self.kubernetes_version)
        elif not isinstance(gate, bool):
            raise TypeError(f"max_unavailable_gate must be a bool or None; got {gate!r}")
        object.__setattr__(self, "max_unavailable_gate", gate)
        _check_api_call_s(self.api_call_s)

    @property
    def effective_max_unavailable(self) -> int:
        """Pods a rolling update may take down at once (1 when the gate is off)."""
        if not self.max_unavailable_gate:
            return 1
        return statefulset_max_unavailable(self.max_unavailable, self.replicas)

    @property
    def kind(self) -> str:
        """``"StatefulSet"``."""
        return "StatefulSet"


@dataclass(frozen=True)
class Deployment:
    """The parts of a Deployment spec that decide how long a rollout takes.

    Parameters
    ----------
    replicas : int
        ``spec.replicas``, ``>= 0``.
    max_surge, max_unavailable : int or str
        ``spec.strategy.rollingUpdate``; defaults ``"25%"`` each, resolved by
        :func:`deployment_fenceposts` (surge up, unavailable down). As in API validation
        (``ValidateRollingUpdateDeployment`` in ``pkg/apis/apps/validation/validation.go``):
        ints ``>= 0`` or ``"<digits>%"``, ``max_unavailable`` not above 100 %, and not both 0
        ("may not be 0 when maxSurge is 0"). ``max_surge`` has no upper limit.
    api_call_s : float
        Duration of one API call in the ReplicaSet's slow-start batches (scale operations).

    Notes
    -----
    The rolling update follows ``pkg/controller/deployment/rolling.go``: the new ReplicaSet may
    grow while the total stays ``<= replicas + surge``, the old one may shrink while the available
    pods stay ``>= replicas - unavailable``. So at most ``surge + unavailable`` new pods are
    starting at any time, and the old pods' termination does not hold the rollout back
    (terminating pods are not counted in ``spec.replicas`` of the ReplicaSets).
    """

    replicas: int
    max_surge: int | str = "25%"
    max_unavailable: int | str = "25%"
    api_call_s: float = 0.0

    def __post_init__(self):
        if not _is_int(self.replicas) or self.replicas < 0:
            raise ValueError(f"replicas must be an int >= 0; got {self.replicas!r}")
        for name in ("max_surge", "max_unavailable"):
            v = getattr(self, name)
            if not ((_is_int(v) and v >= 0) or _percent_value(v) is not None):
                raise ValueError(
                    f"{name} must be an int >= 0 or a percentage string like '25%'; got {v!r}"
                )
        if (_percent_value(self.max_unavailable) or 0) > 100:
            raise ValueError(
                "max_unavailable must not be greater than 100% (API validation); "
                f"got {self.max_unavailable!r}"
            )
        if (
            _int_or_percent_value(self.max_surge)
            == 0
            == _int_or_percent_value(self.max_unavailable)
        ):
            raise ValueError(
                "max_unavailable may not be 0 when max_surge is 0 (API validation); got "
                f"max_surge={self.max_surge!r}, max_unavailable={self.max_unavailable!r}"
            )
        _check_api_call_s(self.api_call_s)

    @property
    def fenceposts(self) -> tuple[int, int]:
        """``(surge, unavailable)`` as resolved by the controller."""
        return deployment_fenceposts(self.max_surge, self.max_unavailable, self.replicas)

    @property
    def kind(self) -> str:
        """``"Deployment"``."""
        return "Deployment"


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
    for name, value in (("replicas", replicas), ("partition", partition)):
        if not _is_int(value) or value < 0:
            raise ValueError(f"{name} must be an int >= 0; got {value!r}")
    return list(range(replicas - 1, partition - 1, -1))

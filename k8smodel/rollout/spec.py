"""What the user describes: a StatefulSet or a Deployment, and the timing of one of its pods.

Frozen dataclasses, validated in ``__post_init__`` through :mod:`k8smodel._validate` (a wrong
type raises :class:`TypeError`, a bad value :class:`ValueError`). They hold no behaviour beyond
derived properties: the controllers' rules are in :mod:`k8smodel.rollout.semantics`, the
sampling and discretization of the per-pod laws in :mod:`k8smodel.rollout.timing`.

``PodTiming`` lives here because it is a spec (what the user says about a pod: phase laws,
probe settings, grace period, crash probability), not a model; what used to be its methods
(``sample_startup``, ``startup_pmf``, ...) are functions of :mod:`k8smodel.rollout.timing`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from k8smodel._validate import (
    check_choice,
    check_distribution,
    check_int,
    check_probability,
    check_real,
    describe,
)
from k8smodel.manifests import INT32_MAX  # spec.replicas is int32 in apps/v1
from k8smodel.rollout.semantics import (
    POD_MANAGEMENT_POLICIES,
    UPDATE_STRATEGIES,
    deployment_fenceposts,
    int_or_percent_value,
    max_unavailable_gate_default,
    percent_value,
    probe_delay,
    statefulset_max_unavailable,
)
from k8smodel.rollout.semantics_daemonset import daemonset_budgets

__all__ = [
    "StatefulSet",
    "Deployment",
    "DaemonSet",
    "PodTiming",
    "PHASES",
    "DAEMONSET_STRATEGIES",
    "check_workload",
]

#: ``spec.updateStrategy.type`` of a DaemonSet.
DAEMONSET_STRATEGIES = ("RollingUpdate", "OnDelete")

#: The start-up phases of a pod, in order.
PHASES = ("schedule", "attach", "pull", "start", "warmup")


def _check_int_or_percent(value: Any, name: str) -> int | str:
    """An int ``>= 0`` or a ``"<digits>%"`` string (an IntOrString field of the API)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(
            f"{name} must be an int >= 0 or a percentage string like '25%'; got "
            f"{type(value).__name__} {describe(value)}"
        )
    if isinstance(value, int):
        return check_int(value, name, minimum=0)
    if percent_value(value) is None:
        raise ValueError(
            f"{name} must be an int >= 0 or a percentage string like '25%'; got {describe(value)}"
        )
    return value


def _is_law(value: Any) -> bool:
    return hasattr(value, "rvs") and hasattr(value, "cdf") and hasattr(value, "support")


@dataclass(frozen=True)
class StatefulSet:
    """The parts of a StatefulSet spec that decide how long an operation takes.

    Parameters
    ----------
    replicas : int
        ``spec.replicas``, ``>= 0``. For ``scale_up`` it is the target size; for ``scale_down``
        the starting size.
    pod_management : {"OrderedReady", "Parallel"}
        ``spec.podManagementPolicy``.
    update_strategy : {"RollingUpdate", "OnDelete"}
        ``spec.updateStrategy.type``. With ``OnDelete`` the controller never deletes a pod for
        an update, so a rolling update never completes on its own.
    partition : int
        ``rollingUpdate.partition``: only ordinals ``>= partition`` are updated. A partition
        larger than ``replicas`` is valid and updates nothing.
    max_unavailable : int or str or None
        ``rollingUpdate.maxUnavailable`` (``3`` or ``"20%"``); ``None`` is the default 1. As in
        API validation (``validateRollingUpdateStatefulSet`` in
        ``pkg/apis/apps/validation/validation.go``, read at commit 2dd1588c): an int or a
        ``"<digits>%"`` string whose number is not 0 ("cannot be 0") and, for a percentage, not
        above 100 ("must not be greater than 100%"). A percentage that resolves to 0 pods (5 %
        of 10) is valid; the controller raises it to 1.
    max_unavailable_gate : bool, optional
        Whether the ``MaxUnavailableStatefulSet`` feature gate is on. Default: the default of
        ``kubernetes_version``. With the gate off, ``max_unavailable`` is ignored.
    kubernetes_version : str
        Used only for the gate default; ``"1.36"`` by default (gate off); see
        :func:`k8smodel.rollout.max_unavailable_gate_default`.
    api_call_s : float
        Duration of one create/delete API call, used for the slow-start batches of Parallel
        scale operations (batch ``b`` is issued after ``b`` round trips). 0 ignores it.
    """

    replicas: int
    pod_management: str = "OrderedReady"
    update_strategy: str = "RollingUpdate"
    partition: int = 0
    max_unavailable: int | str | None = None
    max_unavailable_gate: bool | None = None
    kubernetes_version: str = "1.36"
    api_call_s: float = 0.0

    def __post_init__(self) -> None:
        check_int(self.replicas, "replicas", minimum=0, maximum=INT32_MAX)
        check_choice(self.pod_management, "pod_management", POD_MANAGEMENT_POLICIES)
        check_choice(self.update_strategy, "update_strategy", UPDATE_STRATEGIES)
        check_int(self.partition, "partition", minimum=0)
        if self.max_unavailable is not None:
            mu = _check_int_or_percent(self.max_unavailable, "max_unavailable")
            if int_or_percent_value(mu) < 1 or (percent_value(mu) or 0) > 100:
                raise ValueError(
                    "max_unavailable must be an int >= 1 or a percentage from '1%' to '100%' "
                    f"(API validation: cannot be 0, not more than 100%); got {mu!r}"
                )
        gate = self.max_unavailable_gate
        if gate is None:
            gate = max_unavailable_gate_default(self.kubernetes_version)
        elif not isinstance(gate, bool):
            raise TypeError(f"max_unavailable_gate must be a bool or None; got {describe(gate)}")
        object.__setattr__(self, "max_unavailable_gate", gate)
        object.__setattr__(self, "api_call_s", check_real(self.api_call_s, "api_call_s", minimum=0))

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
        :func:`k8smodel.rollout.deployment_fenceposts` (surge up, unavailable down). As in API
        validation (``ValidateRollingUpdateDeployment`` in
        ``pkg/apis/apps/validation/validation.go``): ints ``>= 0`` or ``"<digits>%"``,
        ``max_unavailable`` not above 100 %, and not both 0 ("may not be 0 when maxSurge is
        0"). ``max_surge`` has no upper limit.
    api_call_s : float
        Duration of one API call in the ReplicaSet's slow-start batches (scale operations).

    Notes
    -----
    The rolling update follows ``pkg/controller/deployment/rolling.go``: the new ReplicaSet may
    grow while the total stays ``<= replicas + surge``, the old one may shrink while the
    available pods stay ``>= replicas - unavailable``. So at most ``surge + unavailable`` new
    pods are starting at any time, and the old pods' termination does not hold the rollout
    back (terminating pods are not counted in ``spec.replicas`` of the ReplicaSets).
    """

    replicas: int
    max_surge: int | str = "25%"
    max_unavailable: int | str = "25%"
    api_call_s: float = 0.0

    def __post_init__(self) -> None:
        check_int(self.replicas, "replicas", minimum=0, maximum=INT32_MAX)
        surge = _check_int_or_percent(self.max_surge, "max_surge")
        unavailable = _check_int_or_percent(self.max_unavailable, "max_unavailable")
        if (percent_value(unavailable) or 0) > 100:
            raise ValueError(
                "max_unavailable must not be greater than 100% (API validation); "
                f"got {unavailable!r}"
            )
        if int_or_percent_value(surge) == 0 == int_or_percent_value(unavailable):
            raise ValueError(
                "max_unavailable may not be 0 when max_surge is 0 (API validation); got "
                f"max_surge={surge!r}, max_unavailable={unavailable!r}"
            )
        object.__setattr__(self, "api_call_s", check_real(self.api_call_s, "api_call_s", minimum=0))

    @property
    def fenceposts(self) -> tuple[int, int]:
        """``(surge, unavailable)`` as resolved by the controller."""
        return deployment_fenceposts(self.max_surge, self.max_unavailable, self.replicas)

    @property
    def kind(self) -> str:
        """``"Deployment"``."""
        return "Deployment"


@dataclass(frozen=True)
class DaemonSet:
    """The parts of a DaemonSet spec that decide how long a rollout takes.

    Parameters
    ----------
    nodes : int
        The desired number scheduled: nodes that should run the daemon (see
        :func:`k8smodel.rollout.desired_number_scheduled` to count them from Node objects).
    max_unavailable, max_surge : int or str
        ``spec.updateStrategy.rollingUpdate`` (defaults 1 and 0). As in API validation
        (``ValidateRollingUpdateDaemonSet``): ints ``>= 0`` or ``"<digits>%"`` not above
        100 %, and exactly one of them non-zero. Percentages of ``nodes`` round **up**
        (:func:`k8smodel.rollout.daemonset_budgets`).
    update_strategy : {"RollingUpdate", "OnDelete"}
        ``spec.updateStrategy.type``; with ``OnDelete`` the controller never replaces a pod.
    api_call_s : float
        Kept for symmetry with the other specs; a DaemonSet's create/delete calls are not
        batched in time here (0).
    """

    nodes: int
    max_unavailable: int | str = 1
    max_surge: int | str = 0
    update_strategy: str = "RollingUpdate"
    api_call_s: float = 0.0

    def __post_init__(self) -> None:
        check_int(self.nodes, "nodes", minimum=0, maximum=INT32_MAX)
        unavailable = _check_int_or_percent(self.max_unavailable, "max_unavailable")
        surge = _check_int_or_percent(self.max_surge, "max_surge")
        check_choice(self.update_strategy, "update_strategy", DAEMONSET_STRATEGIES)
        for name, value in (("max_unavailable", unavailable), ("max_surge", surge)):
            if (percent_value(value) or 0) > 100:
                raise ValueError(
                    f"{name} must not be greater than 100% (API validation); got {value!r}"
                )
        has_unavailable = int_or_percent_value(unavailable) != 0
        has_surge = int_or_percent_value(surge) != 0
        if has_unavailable and has_surge:
            raise ValueError(
                "max_surge may not be set when max_unavailable is non-zero (API validation); "
                f"got max_surge={surge!r}, max_unavailable={unavailable!r}"
            )
        if not has_unavailable and not has_surge:
            raise ValueError(
                "max_unavailable cannot be 0 when max_surge is 0 (API validation); "
                f"got max_surge={surge!r}, max_unavailable={unavailable!r}"
            )
        object.__setattr__(self, "api_call_s", check_real(self.api_call_s, "api_call_s", minimum=0))

    @property
    def budgets(self) -> tuple[int, int]:
        """``(surge, unavailable)`` as resolved by the controller."""
        return daemonset_budgets(self.max_surge, self.max_unavailable, self.nodes)

    @property
    def replicas(self) -> int:
        """The number of daemon pods (one per node that should run it)."""
        return self.nodes

    @property
    def kind(self) -> str:
        """``"DaemonSet"``."""
        return "DaemonSet"


@dataclass(frozen=True)
class PodTiming:
    """Phase timings of one pod; each a number of seconds or a frozen ``scipy.stats`` law.

    Parameters
    ----------
    schedule, attach, pull, start, warmup : float or frozen distribution
        Scheduling, volume provisioning/attach, image pull, container start, and application
        warm-up until the readiness probe would pass. All ``>= 0``; a distribution must have
        support in ``[0, inf)``.
    probe_period_s : float
        ``readinessProbe.periodSeconds``, default 10 (``> 0``).
    probe_initial_delay_s : float
        ``readinessProbe.initialDelaySeconds``, default 0.
    min_ready_seconds : float
        The workload's ``spec.minReadySeconds``: a ready pod counts as *available* after this.
    termination_grace_s : float
        ``terminationGracePeriodSeconds``, default 30: the kubelet kills the container then.
    termination : float, frozen distribution or None
        How long the application actually takes to exit after SIGTERM. ``None`` (default)
        means it does not exit on its own, so every termination takes the full grace period.
    failure_p : float
        Probability in ``[0, 1)`` that a start attempt crashes instead of becoming ready. A
        crash happens when the warm-up ends; the kubelet restarts the container after the
        CrashLoopBackOff delay (10 s doubling, cap 300 s), and the restart repeats ``start``
        and ``warmup`` with fresh draws.
    backoff_initial_s, backoff_cap_s : float
        The back-off constants (10 s and 300 s in the kubelet).

    Notes
    -----
    Defaults from the Probe and Pod API references (periodSeconds 10, initialDelaySeconds 0,
    terminationGracePeriodSeconds 30) and ``pkg/kubelet/kubelet.go`` (back-off). The phase
    durations themselves have no official distribution: they are inputs.
    """

    schedule: Any = 0.0
    attach: Any = 0.0
    pull: Any = 0.0
    start: Any = 0.0
    warmup: Any = 0.0
    probe_period_s: float = 10.0
    probe_initial_delay_s: float = 0.0
    min_ready_seconds: float = 0.0
    termination_grace_s: float = 30.0
    termination: Any = None
    failure_p: float = 0.0
    backoff_initial_s: float = 10.0
    backoff_cap_s: float = 300.0

    def __post_init__(self) -> None:
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        for name in PHASES:
            put(name, check_distribution(getattr(self, name), name))
        if self.termination is not None:
            put("termination", check_distribution(self.termination, "termination"))
        for name in ("probe_initial_delay_s", "min_ready_seconds", "termination_grace_s"):
            put(name, check_real(getattr(self, name), name, minimum=0))
        for name in ("probe_period_s", "backoff_initial_s", "backoff_cap_s"):
            put(name, check_real(getattr(self, name), name, minimum=0, lower_open=True))
        put("failure_p", check_probability(self.failure_p, "failure_p", open_upper=True))

    @property
    def deterministic(self) -> bool:
        """True when every phase is a number and no start attempt can fail."""
        values = [getattr(self, n) for n in PHASES] + [self.termination]
        return self.failure_p == 0 and not any(_is_law(v) for v in values)

    def replace(self, **changes: Any) -> PodTiming:
        """A copy with some fields changed (validated again)."""
        kw = {f.name: getattr(self, f.name) for f in fields(self)}
        kw.update(changes)
        return PodTiming(**kw)

    def deterministic_times(self) -> dict[str, float]:
        """Exact running, ready, available and termination offsets (deterministic timing only).

        Returns
        -------
        dict
            Seconds from creation to ``running`` / ``ready`` / ``available``, and the
            ``termination`` time ``min(termination, grace)``.

        Raises
        ------
        ValueError
            If some phase is random or ``failure_p > 0``.
        """
        if not self.deterministic:
            raise ValueError("deterministic_times needs numeric phases and failure_p == 0")
        running = float(sum(getattr(self, n) for n in ("schedule", "attach", "pull", "start")))
        probe = probe_delay(
            self.warmup, period_s=self.probe_period_s, initial_delay_s=self.probe_initial_delay_s
        )
        ready = running + float(probe)
        return {
            "running": running,
            "ready": ready,
            "available": ready + self.min_ready_seconds,
            "termination": self.termination_s,
        }

    @property
    def termination_s(self) -> float:
        """The termination time of a deterministic timing: ``min(termination, grace)``."""
        if self.termination is None:
            return float(self.termination_grace_s)
        if _is_law(self.termination):
            raise ValueError("termination_s needs a numeric termination")
        return float(min(self.termination, self.termination_grace_s))


def check_workload(spec: Any, timing: Any) -> None:
    """Check that ``spec`` is a workload spec and ``timing`` a :class:`PodTiming`.

    Parameters
    ----------
    spec : StatefulSet, Deployment or DaemonSet
        The workload.
    timing : PodTiming
        The pod timing.

    Raises
    ------
    TypeError
        Naming the parameter and the type it got.
    """
    if not isinstance(spec, StatefulSet | Deployment | DaemonSet):
        raise TypeError(
            "spec must be a rollout.StatefulSet, rollout.Deployment or rollout.DaemonSet; "
            f"got {type(spec).__name__}"
        )
    if not isinstance(timing, PodTiming):
        raise TypeError(f"timing must be a rollout.PodTiming; got {type(timing).__name__}")

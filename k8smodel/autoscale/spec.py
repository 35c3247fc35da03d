"""What the user describes: an HPA, a Knative KPA, and the traffic they face.

Every class is a frozen dataclass validated in ``__post_init__`` through
:mod:`k8smodel._validate`; defaults are the upstream defaults, each cited where it is set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from k8smodel._validate import (
    check_choice,
    check_int,
    check_real,
    check_vector,
    describe,
)

__all__ = [
    "POLICY_TYPES",
    "SELECT_POLICIES",
    "HPA_METRIC_TYPES",
    "KPA_METRICS",
    "ScalingPolicy",
    "ScalingRules",
    "HpaSpec",
    "KpaSpec",
    "Trace",
]

#: ``HPAScalingPolicyType`` values (k8s.io/api/autoscaling/v2 types.go).
POLICY_TYPES = ("Pods", "Percent")
#: ``ScalingPolicySelect`` values (k8s.io/api/autoscaling/v2 types.go).
SELECT_POLICIES = ("Max", "Min", "Disabled")
#: ``MetricSourceType`` values the model understands (k8s.io/api/autoscaling/v2 types.go).
HPA_METRIC_TYPES = ("Resource", "ContainerResource", "Pods", "Object", "External")
#: ``autoscaling.knative.dev/metric`` values for the KPA (pkg/apis/autoscaling/register.go).
KPA_METRICS = ("concurrency", "rps")


@dataclass(frozen=True)
class ScalingPolicy:
    """One ``HPAScalingPolicy``: at most ``value`` pods (or percent) per ``period_s``.

    Validation follows ``pkg/apis/autoscaling/validation/validation.go``
    (``validateScalingPolicy``): value > 0, 0 < periodSeconds <= 1800.
    """

    type: str
    value: int
    period_s: int

    def __post_init__(self) -> None:
        check_choice(self.type, "policy type", POLICY_TYPES)
        check_int(self.value, "policy value", minimum=1)
        check_int(self.period_s, "policy periodSeconds", minimum=1, maximum=1800)


@dataclass(frozen=True)
class ScalingRules:
    """One direction of ``spec.behavior`` (``HPAScalingRules``).

    Parameters
    ----------
    policies : tuple of ScalingPolicy
        The rate limits; ``select_policy`` picks among them.
    select_policy : {"Max", "Min", "Disabled"}
        ``Max`` (default) allows the largest change, ``Min`` the smallest, ``Disabled`` none.
    stabilization_window_s : int
        ``stabilizationWindowSeconds`` in [0, 3600].
    tolerance : float or None
        The per-direction ``tolerance`` (HPAConfigurableTolerance); ``None`` uses the
        controller's ``--horizontal-pod-autoscaler-tolerance``.

    Notes
    -----
    Defaults from ``pkg/apis/autoscaling/v2/defaults.go``: scale-up allows max(+4 pods,
    +100 %) per 15 s with no stabilization; scale-down allows -100 % per 15 s and takes the
    controller's downscale stabilization window (300 s).
    """

    policies: tuple[ScalingPolicy, ...]
    select_policy: str = "Max"
    stabilization_window_s: int = 0
    tolerance: float | None = None

    def __post_init__(self) -> None:
        pols = tuple(self.policies)
        for p in pols:
            if not isinstance(p, ScalingPolicy):
                raise TypeError(f"policies must hold ScalingPolicy objects; got {describe(p)}")
        check_choice(self.select_policy, "selectPolicy", SELECT_POLICIES)
        if not pols and self.select_policy != "Disabled":
            raise ValueError("policies must not be empty unless selectPolicy is Disabled")
        check_int(
            self.stabilization_window_s, "stabilizationWindowSeconds", minimum=0, maximum=3600
        )
        if self.tolerance is not None:
            check_real(self.tolerance, "tolerance", minimum=0.0)
        object.__setattr__(self, "policies", pols)

    @classmethod
    def default_scale_up(cls) -> ScalingRules:
        """``GenerateHPAScaleUpRules(nil)``: Pods 4 / 15 s, Percent 100 / 15 s, Max, window 0."""
        return cls((ScalingPolicy("Pods", 4, 15), ScalingPolicy("Percent", 100, 15)), "Max", 0)

    @classmethod
    def default_scale_down(cls, stabilization_window_s: int = 300) -> ScalingRules:
        """``GenerateHPAScaleDownRules(nil)``: Percent 100 / 15 s, Max, the controller window."""
        return cls((ScalingPolicy("Percent", 100, 15),), "Max", stabilization_window_s)


@dataclass(frozen=True)
class HpaSpec:
    """A HorizontalPodAutoscaler (autoscaling/v2) and the controller flags that shape it.

    Parameters
    ----------
    min_replicas, max_replicas : int
        ``spec.minReplicas`` (default 1) and ``spec.maxReplicas``.
    metric_type : str
        One of :data:`HPA_METRIC_TYPES`. ``Resource``/``ContainerResource`` mean CPU
        utilization (``target`` in percent of the request; a pod busy all the time uses 100 %);
        ``Pods`` means requests per second per pod (``target`` an averageValue); ``Object`` and
        ``External`` mean the service's total request rate (``target`` an averageValue per pod).
    target : float
        The target value (see ``metric_type``).
    scale_up, scale_down : ScalingRules or None
        ``spec.behavior``; ``None`` for both means no behavior, so the controller's legacy
        rule applies (``normalizeDesiredReplicas``: scale-up limit max(2 x current, 4) per
        sync, downscale stabilization ``downscale_stabilization_s``).
    sync_period_s : float
        ``--horizontal-pod-autoscaler-sync-period`` (15 s).
    tolerance : float
        ``--horizontal-pod-autoscaler-tolerance`` (0.1).
    cpu_initialization_period_s, initial_readiness_delay_s : float
        ``--horizontal-pod-autoscaler-cpu-initialization-period`` (300 s) and
        ``--horizontal-pod-autoscaler-initial-readiness-delay`` (30 s).
    downscale_stabilization_s : int
        ``--horizontal-pod-autoscaler-downscale-stabilization`` (300 s).
    metric_resolution_s : float
        metrics-server ``--metric-resolution`` (15 s): how often usage is scraped and the
        window the reported rate averages over.

    Notes
    -----
    Controller defaults: ``pkg/controller/podautoscaler/config/v1alpha1/defaults.go``
    (``RecommendedDefaultHPAControllerConfiguration``). ``minReplicas`` 0 needs the
    HPAScaleToZero feature gate and an Object or External metric.

    In the simulation (``groupPods`` in ``replica_calculator.go``) a pod still starting is
    Pending, so unready; for CPU a pod that turned ready less than one metric window before
    the latest sample is unready too (the CPU initialization period is assumed to cover the
    start-up, and a simulation flags it when it may not); for other metrics such a pod has no
    full sample and counts as missing. Pods never turn unready after they were ready, so the
    initial readiness delay does not come into play.
    """

    max_replicas: int = 10
    min_replicas: int = 1
    metric_type: str = "Resource"
    target: float = 70.0
    scale_up: ScalingRules | None = None
    scale_down: ScalingRules | None = None
    sync_period_s: float = 15.0
    tolerance: float = 0.1
    cpu_initialization_period_s: float = 300.0
    initial_readiness_delay_s: float = 30.0
    downscale_stabilization_s: int = 300
    metric_resolution_s: float = 15.0

    def __post_init__(self) -> None:
        check_int(self.min_replicas, "minReplicas", minimum=0)
        check_int(self.max_replicas, "maxReplicas", minimum=1)
        if self.min_replicas > self.max_replicas:
            raise ValueError(
                f"minReplicas must be <= maxReplicas ({self.max_replicas}); got {self.min_replicas}"
            )
        check_choice(self.metric_type, "metric type", HPA_METRIC_TYPES)
        if self.min_replicas == 0 and self.metric_type not in ("Object", "External"):
            raise ValueError(
                "minReplicas must be >= 1 unless the metric is Object or External "
                f"(HPAScaleToZero); got 0 with {self.metric_type}"
            )
        check_real(self.target, "target", minimum=0.0, lower_open=True)
        for name in ("scale_up", "scale_down"):
            rules = getattr(self, name)
            if rules is not None and not isinstance(rules, ScalingRules):
                raise TypeError(f"{name} must be a ScalingRules or None; got {describe(rules)}")
        check_real(self.sync_period_s, "sync_period_s", minimum=0.0, lower_open=True)
        check_real(self.tolerance, "tolerance", minimum=0.0)
        check_real(self.cpu_initialization_period_s, "cpu_initialization_period_s", minimum=0.0)
        check_real(self.initial_readiness_delay_s, "initial_readiness_delay_s", minimum=0.0)
        check_int(self.downscale_stabilization_s, "downscale_stabilization_s", minimum=0)
        check_real(self.metric_resolution_s, "metric_resolution_s", minimum=0.0, lower_open=True)

    @property
    def has_behavior(self) -> bool:
        """Whether ``spec.behavior`` is set (then both directions are defaulted)."""
        return self.scale_up is not None or self.scale_down is not None

    @property
    def effective_scale_up(self) -> ScalingRules:
        """Scale-up rules after ``SetDefaults_HorizontalPodAutoscalerBehavior``."""
        return self.scale_up or ScalingRules.default_scale_up()

    @property
    def effective_scale_down(self) -> ScalingRules:
        """Scale-down rules after defaulting (window from the controller flag when unset)."""
        return self.scale_down or ScalingRules.default_scale_down(self.downscale_stabilization_s)

    @property
    def is_resource(self) -> bool:
        """CPU utilization (Resource or ContainerResource) rather than a plain value."""
        return self.metric_type in ("Resource", "ContainerResource")


@dataclass(frozen=True)
class KpaSpec:
    """A Knative revision's KPA settings (annotations over ``config-autoscaler``).

    Parameters
    ----------
    target : float
        Per-pod target: concurrency (``container-concurrency-target-default`` 100) or
        requests per second (``requests-per-second-target-default`` 200).
    metric : {"concurrency", "rps"}
        ``autoscaling.knative.dev/metric``.
    target_utilization : float
        ``container-concurrency-target-percentage`` / ``target-utilization-percentage`` as a
        fraction (0.7): the autoscaler aims at ``target x target_utilization`` per pod.
    stable_window_s : float
        ``stable-window`` (60 s), in [6 s, 1 h].
    panic_window_percentage : float
        ``panic-window-percentage`` (10): the panic window is this share of the stable one.
    panic_threshold_percentage : float
        ``panic-threshold-percentage`` (200): panic when the panic-window demand needs this
        share of the ready pods.
    max_scale_up_rate, max_scale_down_rate : float
        ``max-scale-up-rate`` (1000) and ``max-scale-down-rate`` (2), both > 1.
    tick_s : float
        How often the autoscaler decides (``tickInterval`` 2 s in
        pkg/autoscaler/scaling/multiscaler.go).
    min_scale, max_scale : int
        ``min-scale`` (0) and ``max-scale`` (0 = unbounded; the simulation then needs a cap).
    initial_scale : int
        ``initial-scale`` (1).
    enable_scale_to_zero : bool
        ``enable-scale-to-zero`` (true).
    scale_to_zero_grace_period_s : float
        ``scale-to-zero-grace-period`` (30 s, > 0).
    scale_to_zero_retention_s : float
        ``scale-to-zero-pod-retention-period`` (0 s).
    scale_down_delay_s : float
        ``scale-down-delay`` (0 s).
    activation_scale : int
        ``activation-scale`` (1): the least scale when leaving zero.

    Notes
    -----
    Defaults and bounds: ``pkg/autoscaler/config/config.go`` (``defaultConfig``, ``validate``)
    and ``pkg/apis/autoscaling/register.go`` (WindowMin 6 s, WindowMax 1 h, panic window
    percentage in [1, 100]).
    """

    target: float = 100.0
    metric: str = "concurrency"
    target_utilization: float = 0.7
    stable_window_s: float = 60.0
    panic_window_percentage: float = 10.0
    panic_threshold_percentage: float = 200.0
    max_scale_up_rate: float = 1000.0
    max_scale_down_rate: float = 2.0
    tick_s: float = 2.0
    min_scale: int = 0
    max_scale: int = 0
    initial_scale: int = 1
    enable_scale_to_zero: bool = True
    scale_to_zero_grace_period_s: float = 30.0
    scale_to_zero_retention_s: float = 0.0
    scale_down_delay_s: float = 0.0
    activation_scale: int = 1

    def __post_init__(self) -> None:
        check_choice(self.metric, "metric", KPA_METRICS)
        check_real(self.target, "target", minimum=0.01)
        check_real(
            self.target_utilization, "target_utilization", minimum=0.0, maximum=1.0, lower_open=True
        )
        check_real(self.stable_window_s, "stable-window", minimum=6.0, maximum=3600.0)
        check_real(
            self.panic_window_percentage, "panic-window-percentage", minimum=1.0, maximum=100.0
        )
        check_real(
            self.panic_threshold_percentage,
            "panic-threshold-percentage",
            minimum=110.0,
            maximum=1000.0,
        )
        check_real(self.max_scale_up_rate, "max-scale-up-rate", minimum=1.0, lower_open=True)
        check_real(self.max_scale_down_rate, "max-scale-down-rate", minimum=1.0, lower_open=True)
        check_real(self.tick_s, "tick_s", minimum=0.0, lower_open=True)
        check_int(self.min_scale, "min-scale", minimum=0)
        check_int(self.max_scale, "max-scale", minimum=0)
        if self.max_scale and self.min_scale > self.max_scale:
            raise ValueError(
                f"min-scale must be <= max-scale ({self.max_scale}); got {self.min_scale}"
            )
        check_int(self.initial_scale, "initial-scale", minimum=0)
        if not isinstance(self.enable_scale_to_zero, bool):
            raise TypeError(
                f"enable-scale-to-zero must be a bool; got {describe(self.enable_scale_to_zero)}"
            )
        check_real(
            self.scale_to_zero_grace_period_s,
            "scale-to-zero-grace-period",
            minimum=0.0,
            lower_open=True,
        )
        check_real(
            self.scale_to_zero_retention_s, "scale-to-zero-pod-retention-period", minimum=0.0
        )
        check_real(self.scale_down_delay_s, "scale-down-delay", minimum=0.0)
        check_int(self.activation_scale, "activation-scale", minimum=1)

    @property
    def target_value(self) -> float:
        """What one pod should carry: ``target x target_utilization``."""
        return self.target * self.target_utilization

    @property
    def panic_window_s(self) -> float:
        """``stable_window x panic_window_percentage / 100``."""
        return self.stable_window_s * self.panic_window_percentage / 100.0

    @property
    def panic_threshold(self) -> float:
        """The panic threshold as a ratio (2.0 by default)."""
        return self.panic_threshold_percentage / 100.0

    @property
    def scales_to_zero(self) -> bool:
        """Whether the revision can reach zero pods."""
        return self.enable_scale_to_zero and self.min_scale == 0


@dataclass(frozen=True)
class Trace:
    """An arrival-rate trace: ``rates_per_s[k]`` holds over ``[k dt_s, (k+1) dt_s)``.

    Parameters
    ----------
    rates_per_s : array of float
        Mean arrival rates (requests per second), >= 0.
    dt_s : float
        Length of one interval in seconds.
    event_s : float
        When the change of interest happens (a step's time); recovery is measured from it.

    Examples
    --------
    >>> tr = Trace.step(10.0, 30.0, at_s=60, duration_s=300)
    >>> tr.rates_per_s.size, float(tr.rates_per_s[-1]), tr.event_s
    (300, 30.0, 60.0)
    """

    rates_per_s: Any
    dt_s: float = 1.0
    event_s: float = 0.0
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        rates = check_vector(self.rates_per_s, "rates_per_s", minimum=0.0)
        check_real(self.dt_s, "dt_s", minimum=0.0, lower_open=True)
        check_real(self.event_s, "event_s", minimum=0.0)
        rates.setflags(write=False)
        object.__setattr__(self, "rates_per_s", rates)

    @property
    def duration_s(self) -> float:
        """Total length of the trace."""
        return float(self.rates_per_s.size * self.dt_s)

    @property
    def times_s(self) -> np.ndarray:
        """Start time of every interval."""
        return np.arange(self.rates_per_s.size) * self.dt_s

    @classmethod
    def step(
        cls,
        before_per_s: float,
        after_per_s: float,
        *,
        at_s: float,
        duration_s: float,
        dt_s: float = 1.0,
    ) -> Trace:
        """A step from ``before_per_s`` to ``after_per_s`` at ``at_s``."""
        before = check_real(before_per_s, "before_per_s", minimum=0.0)
        after = check_real(after_per_s, "after_per_s", minimum=0.0)
        n = _intervals(duration_s, dt_s)
        at = check_real(at_s, "at_s", minimum=0.0, maximum=float(duration_s))
        rates = np.where(np.arange(n) * dt_s < at, before, after)
        return cls(rates, dt_s, at)

    @classmethod
    def ramp(
        cls,
        from_per_s: float,
        to_per_s: float,
        *,
        start_s: float,
        end_s: float,
        duration_s: float,
        dt_s: float = 1.0,
    ) -> Trace:
        """A linear ramp: ``from_per_s`` until ``start_s``, ``to_per_s`` from ``end_s``."""
        lo = check_real(from_per_s, "from_per_s", minimum=0.0)
        hi = check_real(to_per_s, "to_per_s", minimum=0.0)
        n = _intervals(duration_s, dt_s)
        start = check_real(start_s, "start_s", minimum=0.0)
        end = check_real(end_s, "end_s", minimum=start, lower_open=True)
        t = np.arange(n) * dt_s
        rates = lo + (hi - lo) * np.clip((t - start) / (end - start), 0.0, 1.0)
        return cls(rates, dt_s, start)

    @classmethod
    def from_csv(
        cls,
        path: str | Path,
        *,
        column: str = "rate_per_s",
        dt_s: float = 1.0,
        event_s: float = 0.0,
    ) -> Trace:
        """Rates read from one column of a CSV file (one row per ``dt_s``)."""
        import pandas as pd

        frame = pd.read_csv(path)
        if column not in frame.columns:
            raise ValueError(
                f"column must be one of {list(frame.columns)} in {path}; got {column!r}"
            )
        return cls(frame[column].to_numpy(dtype=float), dt_s, event_s)


def _intervals(duration_s: float, dt_s: float) -> int:
    duration = check_real(duration_s, "duration_s", minimum=0.0, lower_open=True)
    dt = check_real(dt_s, "dt_s", minimum=0.0, lower_open=True)
    return max(1, int(math.ceil(duration / dt - 1e-9)))

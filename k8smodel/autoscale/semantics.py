"""The autoscalers' rules as small pure functions, each cited to its upstream source.

HPA rules are read off kubernetes/kubernetes ``pkg/controller/podautoscaler``
(``replica_calculator.go``, ``horizontal.go``) and ``pkg/apis/autoscaling/v2/defaults.go``;
KPA rules off knative/serving ``pkg/autoscaler/scaling/autoscaler.go`` and
``pkg/reconciler/autoscaling/kpa/scaler.go``; the keep-alive rules off Shahrad et al.,
"Serverless in the Wild", USENIX ATC 2020.

The scalar cores are numba ``njit`` functions so that the simulation kernels call the very
same code as the tests; the public wrappers take Python sequences and validate them.

Why one module of about 700 lines: every rule here is a few lines, but each has a compiled
core and a validated, documented wrapper; keeping the three rule sets together gives the
kernels and the tests a single import of what the systems do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numba import njit

from k8smodel._validate import check_int, check_real
from k8smodel.autoscale.spec import ScalingRules

__all__ = [
    "within_tolerance",
    "resource_utilization_percent",
    "hpa_replica_count",
    "replicas_change_per_period",
    "scale_up_limit",
    "scale_down_limit",
    "stabilize_recommendation",
    "normalize_with_behavior",
    "normalize_legacy",
    "stabilize_legacy",
    "kpa_decide",
    "KpaDecision",
    "kpa_scale_to_zero_delay_s",
    "histogram_windows",
]

_POLICY_CODE = {"Pods": 0, "Percent": 1}
_SELECT_CODE = {"Max": 0, "Min": 1, "Disabled": 2}
_INT32_MAX = 2**31 - 1


# ----------------------------------------------------------------------------- HPA: metrics
@njit(cache=True)
def _within(ratio: float, tol_down: float, tol_up: float) -> bool:
    return (1.0 - tol_down) <= ratio <= (1.0 + tol_up)


def within_tolerance(
    usage_ratio: float, tolerance: float = 0.1, tolerance_up: float | None = None
) -> bool:
    """``Tolerances.isWithin``: no change while ``1 - down <= ratio <= 1 + up``.

    Source: ``pkg/controller/podautoscaler/replica_calculator.go`` (``Tolerances.isWithin``).

    Examples
    --------
    >>> within_tolerance(1.1), within_tolerance(1.11)
    (True, False)
    """
    down = check_real(tolerance, "tolerance", minimum=0.0)
    up = down if tolerance_up is None else check_real(tolerance_up, "tolerance_up", minimum=0.0)
    return bool(_within(check_real(usage_ratio, "usage_ratio", minimum=0.0), down, up))


def resource_utilization_percent(usage: Sequence[float], requests: Sequence[float]) -> int:
    """``GetResourceUtilizationRatio``: ``int(100 x sum(usage) / sum(requests))``, truncated.

    Source: ``pkg/controller/podautoscaler/metrics/utilization.go``.
    """
    total_req = float(np.sum(requests))
    if total_req <= 0:
        raise ValueError("requests must sum to a positive value")
    return int(100.0 * float(np.sum(usage)) / total_req)


@njit(cache=True)
def _replica_count(
    current,
    usage_ratio,
    new_usage_ratio,
    n_metrics,
    n_ready,
    has_unready,
    has_missing,
    tol_down,
    tol_up,
):
    """The decision part shared by ``GetResourceReplicas`` and ``calcPlainMetricReplicas``."""
    scale_up_with_unready = has_unready and usage_ratio > 1.0
    if not scale_up_with_unready and not has_missing:
        if _within(usage_ratio, tol_down, tol_up):
            return current
        return int(math.ceil(usage_ratio * n_ready))
    if (
        _within(new_usage_ratio, tol_down, tol_up)
        or (usage_ratio < 1.0 and new_usage_ratio > 1.0)
        or (usage_ratio > 1.0 and new_usage_ratio < 1.0)
    ):
        return current
    new = int(math.ceil(new_usage_ratio * n_metrics))
    if (new_usage_ratio < 1.0 and new > current) or (new_usage_ratio > 1.0 and new < current):
        return current
    return new


@njit(cache=True)
def uniform_replica_count(
    current, mean_value, n_ready, n_unready, n_missing, target, resource, tol_down, tol_up
):
    """:func:`hpa_replica_count` when every pod with a metric reports ``mean_value``.

    Plain metrics are handled in integer milli-units as the metrics API returns them
    (``GetMetricUsageRatio`` divides the milli-value total by the pod count as int64);
    resource metrics as the truncated integer utilization percent. Returns -1 when no pod has
    a metric (the controller then errors and keeps the scale).
    """
    if n_ready <= 0:
        return -1
    count = n_ready
    if resource:
        usage = math.floor(mean_value) / target
        total = mean_value * n_ready
    else:
        target_milli = float(round(target * 1000.0))
        milli = math.floor(mean_value * 1000.0)
        usage = milli / target_milli
        total = milli * n_ready
    if n_missing > 0:
        if usage < 1.0:
            if resource:
                total += max(100.0, target) * n_missing
            else:
                total += target_milli * n_missing
            count += n_missing
        elif usage > 1.0:
            count += n_missing
    if n_unready > 0 and usage > 1.0:
        count += n_unready
    if resource:
        new_usage = math.floor(total / count) / target
    else:
        new_usage = math.floor(total / count) / target_milli
    return _replica_count(
        current, usage, new_usage, count, n_ready, n_unready > 0, n_missing > 0, tol_down, tol_up
    )


def hpa_replica_count(
    current: int,
    values: Sequence[float],
    target: float,
    *,
    ready: Sequence[bool] | None = None,
    requests: Sequence[float] | None = None,
    resource: bool = False,
    tolerance: float = 0.1,
    tolerance_up: float | None = None,
) -> int:
    """The replica calculator for one metric: desired = ceil(ratio x pods with metrics).

    Parameters
    ----------
    current : int
        The scale's current replicas.
    values : sequence of float
        One entry per pod: its metric (milli-CPU for a resource metric, the value for a
        Pods metric, in the unit of ``target``; it is taken to integer milli-units as the
        metrics API reports it); NaN means the pod has no metric (missing).
    target : float
        Target utilization in percent (resource) or the target average value (Pods).
    ready : sequence of bool, optional
        False for pods counted unready (Pending, or within the CPU initialization period
        without a full metric window); default all ready.
    requests : sequence of float, optional
        Per-pod requests of the resource (milli-CPU), needed when ``resource``.
    resource : bool
        Resource metric (``GetResourceReplicas``) rather than a plain one
        (``calcPlainMetricReplicas``).
    tolerance, tolerance_up : float
        Scale-down and scale-up tolerances (``tolerance_up`` defaults to ``tolerance``).

    Returns
    -------
    int
        The proposed replica count.

    Notes
    -----
    Source: ``pkg/controller/podautoscaler/replica_calculator.go`` (``GetResourceReplicas``,
    ``calcPlainMetricReplicas``, ``groupPods``). Unready pods count only on a scale-up, as
    0 % of their request; missing pods count as 0 on a scale-up and as 100 % (resource, or the
    target if it is above 100 %) or the target (plain) on a scale-down; a fill that flips the
    direction or lands within tolerance keeps the current scale.

    Examples
    --------
    >>> # TestReplicaCalcScaleUp: 3 pods at 300/500/700 milli-CPU of 1000, target 30 %
    >>> hpa_replica_count(3, [300, 500, 700], 30, requests=[1000] * 3, resource=True)
    5
    """
    current = check_int(current, "current", minimum=0)
    vals = np.asarray(values, dtype=float)
    n = vals.size
    rdy = np.ones(n, bool) if ready is None else np.asarray(ready, dtype=bool)
    req = np.ones(n) if requests is None else np.asarray(requests, dtype=float)
    if rdy.size != n or req.size != n:
        raise ValueError("values, ready and requests must have one entry per pod")
    target = check_real(target, "target", minimum=0.0, lower_open=True)
    down = check_real(tolerance, "tolerance", minimum=0.0)
    up = down if tolerance_up is None else check_real(tolerance_up, "tolerance_up", minimum=0.0)
    missing = np.isnan(vals)
    unready = ~rdy & ~missing
    counted = rdy & ~missing
    if not counted.any():
        raise ValueError("did not receive metrics for targeted pods (pods might be unready)")

    target_milli = float(round(target * 1000.0))
    milli = np.floor(np.nan_to_num(vals) * 1000.0)
    if resource:
        usage = resource_utilization_percent(vals[counted], req[counted]) / target
    else:  # GetMetricUsageRatio: int64 milli-values, integer mean
        usage = float(milli[counted].sum() // counted.sum()) / target_milli
    used = counted.copy()
    fill = np.zeros(n)
    if missing.any():
        if usage < 1.0:
            level = max(100.0, target) / 100.0 * req if resource else np.full(n, target_milli)
            fill = np.where(missing, level, fill)
            used |= missing
        elif usage > 1.0:
            used |= missing
    if unready.any() and usage > 1.0:
        used |= unready
    if resource:
        filled = np.where(counted, np.nan_to_num(vals), 0.0) + fill
        new_usage = resource_utilization_percent(filled[used], req[used]) / target
    else:
        filled = np.where(counted, milli, 0.0) + fill
        new_usage = float(filled[used].sum() // used.sum()) / target_milli
    return int(
        _replica_count(
            current,
            usage,
            new_usage,
            int(used.sum()),
            int(counted.sum()),
            bool(unready.any()),
            bool(missing.any()),
            down,
            up,
        )
    )


# ---------------------------------------------------------------------------- HPA: behavior
@njit(cache=True)
def _change_in_period(now, period, ev_t, ev_c, n_ev):
    total = 0
    cutoff = now - period
    for i in range(n_ev):
        if ev_t[i] > cutoff:
            total += ev_c[i]
    return total


@njit(cache=True)
def _up_limit(current, now, up_t, up_c, n_up, dn_t, dn_c, n_dn, ptype, pvalue, pperiod, select):
    if select == 2:
        return current
    result = _INT32_MAX if select == 1 else -_INT32_MAX
    for k in range(ptype.size):
        added = _change_in_period(now, pperiod[k], up_t, up_c, n_up)
        deleted = _change_in_period(now, pperiod[k], dn_t, dn_c, n_dn)
        start = current - added + deleted
        if ptype[k] == 0:
            proposed = start + pvalue[k]
        else:
            proposed = int(math.ceil(start * (1.0 + pvalue[k] / 100.0)))
        result = min(result, proposed) if select == 1 else max(result, proposed)
    return result


@njit(cache=True)
def _down_limit(current, now, up_t, up_c, n_up, dn_t, dn_c, n_dn, ptype, pvalue, pperiod, select):
    if select == 2:
        return current
    result = -_INT32_MAX if select == 1 else _INT32_MAX
    for k in range(ptype.size):
        added = _change_in_period(now, pperiod[k], up_t, up_c, n_up)
        deleted = _change_in_period(now, pperiod[k], dn_t, dn_c, n_dn)
        start = current - added + deleted
        if ptype[k] == 0:
            proposed = start - pvalue[k]
        else:
            proposed = int(start * (1.0 - pvalue[k] / 100.0))
        result = max(result, proposed) if select == 1 else min(result, proposed)
    return result


@njit(cache=True)
def _stabilize(now, current, desired, rec_t, rec_v, n_rec, up_window, down_window):
    up_rec = desired
    down_rec = desired
    for i in range(n_rec):
        if rec_t[i] > now - up_window:
            up_rec = min(rec_v[i], up_rec)
        if rec_t[i] > now - down_window:
            down_rec = max(rec_v[i], down_rec)
    rec = current
    if rec < up_rec:
        rec = up_rec
    if rec > down_rec:
        rec = down_rec
    return rec


@njit(cache=True)
def _convert_with_rate(current, desired, min_r, max_r, up_lim, down_lim):
    """``convertDesiredReplicasWithBehaviorRate``; returns (replicas, condition code).

    Codes: 0 DesiredWithinRange, 1 ScaleUpLimit, 2 TooManyReplicas, 3 ScaleDownLimit,
    4 TooFewReplicas.
    """
    if desired > current:
        if up_lim < current:
            up_lim = current
        allowed = max_r
        code = 2
        if allowed > up_lim:
            allowed = up_lim
            code = 1
        if desired > allowed:
            return allowed, code
    elif desired < current:
        if down_lim > current:
            down_lim = current
        allowed = min_r
        code = 4
        if allowed < down_lim:
            allowed = down_lim
            code = 3
        if desired < allowed:
            return allowed, code
    return desired, 0


_CONDITIONS = (
    "DesiredWithinRange",
    "ScaleUpLimit",
    "TooManyReplicas",
    "ScaleDownLimit",
    "TooFewReplicas",
)


def _events(events: Sequence[tuple[float, int]] | None, name: str):
    ev = [] if events is None else list(events)
    t = np.array([-check_real(a, f"{name} age_s", minimum=0.0) for a, _ in ev], dtype=float)
    c = np.array([check_int(v, f"{name} replicas", minimum=0) for _, v in ev], dtype=np.int64)
    return t, c


def _policy_arrays(rules: ScalingRules):
    ptype = np.array([_POLICY_CODE[p.type] for p in rules.policies], dtype=np.int64)
    pvalue = np.array([p.value for p in rules.policies], dtype=np.int64)
    pperiod = np.array([p.period_s for p in rules.policies], dtype=float)
    return ptype, pvalue, pperiod, _SELECT_CODE[rules.select_policy]


def replicas_change_per_period(period_s: float, events: Sequence[tuple[float, int]]) -> int:
    """``getReplicasChangePerPeriod``: replicas changed by events younger than the period.

    ``events`` holds ``(age_s, replicas)`` pairs. Source: ``horizontal.go``.
    """
    t, c = _events(events, "events")
    return int(_change_in_period(0.0, check_real(period_s, "period_s", minimum=0.0), t, c, t.size))


def scale_up_limit(
    current: int,
    rules: ScalingRules,
    *,
    up_events: Sequence[tuple[float, int]] | None = None,
    down_events: Sequence[tuple[float, int]] | None = None,
) -> int:
    """``calculateScaleUpLimitWithScalingRules``: the most replicas the policies allow now.

    Each policy allows ``period start + value`` (Pods) or ``ceil(period start x (1 +
    value/100))`` (Percent), where the period start undoes the scale events younger than the
    policy's period; ``selectPolicy`` Max takes the largest, Min the smallest, Disabled
    keeps ``current``. Source: ``pkg/controller/podautoscaler/horizontal.go``.

    Examples
    --------
    >>> scale_up_limit(10, ScalingRules.default_scale_up())
    20
    """
    current = check_int(current, "current", minimum=0)
    ut, uc = _events(up_events, "up_events")
    dt, dc = _events(down_events, "down_events")
    ptype, pvalue, pperiod, select = _policy_arrays(rules)
    return int(
        _up_limit(current, 0.0, ut, uc, ut.size, dt, dc, dt.size, ptype, pvalue, pperiod, select)
    )


def scale_down_limit(
    current: int,
    rules: ScalingRules,
    *,
    up_events: Sequence[tuple[float, int]] | None = None,
    down_events: Sequence[tuple[float, int]] | None = None,
) -> int:
    """``calculateScaleDownLimitWithBehaviors``: the fewest replicas the policies allow now.

    Pods: ``period start - value``; Percent: ``int(period start x (1 - value/100))``
    (truncated); Max selects the smallest limit (the largest change). Source: ``horizontal.go``.
    """
    current = check_int(current, "current", minimum=0)
    ut, uc = _events(up_events, "up_events")
    dt, dc = _events(down_events, "down_events")
    ptype, pvalue, pperiod, select = _policy_arrays(rules)
    return int(
        _down_limit(current, 0.0, ut, uc, ut.size, dt, dc, dt.size, ptype, pvalue, pperiod, select)
    )


def stabilize_recommendation(
    current: int,
    desired: int,
    recommendations: Sequence[tuple[float, int]],
    *,
    up_window_s: float,
    down_window_s: float,
) -> int:
    """``stabilizeRecommendationWithBehaviors``: clamp to the recent recommendations.

    The result is ``current`` raised to the smallest recommendation of the scale-up window
    and lowered to the largest of the scale-down window (each window includes ``desired``).
    ``recommendations`` holds ``(age_s, replicas)``. Source: ``horizontal.go``.
    """
    t, v = _events(recommendations, "recommendations")
    return int(
        _stabilize(
            0.0,
            check_int(current, "current", minimum=0),
            check_int(desired, "desired", minimum=0),
            t,
            v,
            t.size,
            check_real(up_window_s, "up_window_s", minimum=0.0),
            check_real(down_window_s, "down_window_s", minimum=0.0),
        )
    )


def normalize_with_behavior(
    current: int,
    desired: int,
    *,
    min_replicas: int,
    max_replicas: int,
    scale_up: ScalingRules | None = None,
    scale_down: ScalingRules | None = None,
    up_events: Sequence[tuple[float, int]] | None = None,
    down_events: Sequence[tuple[float, int]] | None = None,
) -> tuple[int, str]:
    """``convertDesiredReplicasWithBehaviorRate``: apply the rate limits and min/max.

    Returns the replicas and the ``ScalingLimited`` reason (``DesiredWithinRange``,
    ``ScaleUpLimit``, ``TooManyReplicas``, ``ScaleDownLimit``, ``TooFewReplicas``).
    Unset rules get the defaults of ``GenerateHPAScaleUpRules`` / ``GenerateHPAScaleDownRules``.
    Source: ``pkg/controller/podautoscaler/horizontal.go``.

    Examples
    --------
    >>> # horizontal_test.go TestScalingWithRules "scaleUp with default behavior"
    >>> normalize_with_behavior(10, 50, min_replicas=1, max_replicas=1000)
    (20, 'ScaleUpLimit')
    """
    up_rules = scale_up or ScalingRules.default_scale_up()
    down_rules = scale_down or ScalingRules.default_scale_down()
    current = check_int(current, "current", minimum=0)
    desired = check_int(desired, "desired", minimum=0)
    min_r = check_int(min_replicas, "min_replicas", minimum=0)
    max_r = check_int(max_replicas, "max_replicas", minimum=1)
    up_lim = scale_up_limit(current, up_rules, up_events=up_events, down_events=down_events)
    down_lim = scale_down_limit(current, down_rules, up_events=up_events, down_events=down_events)
    replicas, code = _convert_with_rate(current, desired, min_r, max_r, up_lim, down_lim)
    return int(replicas), _CONDITIONS[code]


@njit(cache=True)
def _legacy_stabilize(now, desired, rec_t, rec_v, n_rec, window):
    best = desired
    for i in range(n_rec):
        if rec_t[i] >= now - window and rec_v[i] > best:
            best = rec_v[i]
    return best


def stabilize_legacy(
    desired: int, recommendations: Sequence[tuple[float, int]], *, window_s: float = 300.0
) -> int:
    """``stabilizeRecommendation``: the largest recommendation not older than the window.

    Used when ``spec.behavior`` is unset, with ``--horizontal-pod-autoscaler-downscale-
    stabilization`` (300 s) as the window; ``recommendations`` holds ``(age_s, replicas)``.
    Source: ``pkg/controller/podautoscaler/horizontal.go``.

    Examples
    --------
    >>> stabilize_legacy(3, [(600, 10), (60, 4), (120, 5), (540, 9)])
    5
    """
    t, v = _events(recommendations, "recommendations")
    return int(
        _legacy_stabilize(
            0.0,
            check_int(desired, "desired", minimum=0),
            t,
            v,
            t.size,
            check_real(window_s, "window_s", minimum=0.0),
        )
    )


@njit(cache=True)
def _legacy_convert(current, desired, min_r, max_r):
    up_lim = int(max(2.0 * current, 4.0))  # scaleUpLimitFactor 2, scaleUpLimitMinimum 4
    allowed = max_r if max_r <= up_lim else up_lim
    if desired < min_r:
        return min_r
    if desired > allowed:
        return allowed
    return desired


def normalize_legacy(current: int, desired: int, *, min_replicas: int, max_replicas: int) -> int:
    """``convertDesiredReplicasWithRules``: the rule when ``spec.behavior`` is unset.

    Scale-up is capped at ``max(2 x current, 4)`` per sync, then min/max apply.
    Source: ``pkg/controller/podautoscaler/horizontal.go`` (``calculateScaleUpLimit``).
    """
    return int(
        _legacy_convert(
            check_int(current, "current", minimum=0),
            check_int(desired, "desired", minimum=0),
            check_int(min_replicas, "min_replicas", minimum=0),
            check_int(max_replicas, "max_replicas", minimum=1),
        )
    )


# ------------------------------------------------------------------------------------ KPA
@njit(cache=True)
def _kpa_scale(
    now,
    ready,
    stable,
    panic,
    target_value,
    panic_threshold,
    max_up_rate,
    max_down_rate,
    reachable,
    activation_scale,
    stable_window,
    panic_time,
    max_panic_pods,
):
    """``autoscaler.Scale`` of knative/serving; panic_time < 0 means not panicking.

    Returns (desired, panic_time, max_panic_pods).
    """
    ready_count = max(1.0, float(ready))
    max_up = math.ceil(max_up_rate * ready_count)
    max_down = math.floor(ready_count / max_down_rate) if reachable else 0.0
    dspc = math.ceil(stable / target_value)
    dppc = math.ceil(panic / target_value)
    desired_stable = int(min(max(dspc, max_down), max_up))
    desired_panic = int(min(max(dppc, max_down), max_up))
    if activation_scale > 1:
        if dspc > 0 and activation_scale > desired_stable:
            desired_stable = activation_scale
        if dppc > 0 and activation_scale > desired_panic:
            desired_panic = activation_scale
    over = dppc / ready_count >= panic_threshold
    if panic_time < 0 and over:
        panic_time = now
    elif over:
        panic_time = now
    elif panic_time >= 0 and not over and panic_time + stable_window < now:
        panic_time = -1.0
        max_panic_pods = 0
    desired = desired_stable
    if panic_time >= 0:
        if desired < desired_panic:
            desired = desired_panic
        if desired > max_panic_pods:
            max_panic_pods = desired
        desired = max_panic_pods
    return desired, panic_time, max_panic_pods


class KpaDecision(tuple):
    """``(desired, panicking_since_s, max_panic_pods)`` from :func:`kpa_decide`.

    ``panicking_since_s`` is ``None`` outside panic mode; pass it and ``max_panic_pods`` to
    the next call to carry the autoscaler's state.
    """

    __slots__ = ()

    @property
    def desired(self) -> int:
        """The desired pod count."""
        return int(self[0])

    @property
    def panicking_since_s(self) -> float | None:
        """When the panic window was last extended, or ``None``."""
        return self[1]

    @property
    def max_panic_pods(self) -> int:
        """The largest scale asked for during this panic."""
        return int(self[2])


def kpa_decide(
    ready: int,
    stable: float,
    panic: float,
    *,
    target_value: float,
    panic_threshold: float = 2.0,
    max_scale_up_rate: float = 1000.0,
    max_scale_down_rate: float = 2.0,
    reachable: bool = True,
    activation_scale: int = 1,
    stable_window_s: float = 60.0,
    panicking_since_s: float | None = None,
    max_panic_pods: int = 0,
    now_s: float = 0.0,
) -> KpaDecision:
    """One decision of Knative's KPA (``autoscaler.Scale``).

    Desired pods are ``ceil(observed / target_value)`` for the stable and the panic window,
    kept within ``[floor(ready / max_scale_down_rate), ceil(max_scale_up_rate x ready)]``
    (``ready`` at least 1; no lower bound when unreachable). Panic starts when the panic
    demand over ready pods reaches ``panic_threshold``; while panicking the scale never
    decreases, and panic ends a stable window after the demand last exceeded the threshold.

    Source: knative/serving ``pkg/autoscaler/scaling/autoscaler.go`` (``Scale``).

    Examples
    --------
    >>> # autoscaler_test.go TestAutoscalerRateLimitScaleUp: target 10, 1 ready pod
    >>> kpa_decide(1, 1000, 1001, target_value=10, max_scale_up_rate=10,
    ...            max_scale_down_rate=10).desired
    10
    """
    since = (
        -1.0 if panicking_since_s is None else check_real(panicking_since_s, "panicking_since_s")
    )
    desired, ptime, mpp = _kpa_scale(
        float(now_s),
        check_int(ready, "ready", minimum=0),
        check_real(stable, "stable", minimum=0.0),
        check_real(panic, "panic", minimum=0.0),
        check_real(target_value, "target_value", minimum=0.0, lower_open=True),
        float(panic_threshold),
        float(max_scale_up_rate),
        float(max_scale_down_rate),
        bool(reachable),
        check_int(activation_scale, "activation_scale", minimum=1),
        float(stable_window_s),
        since,
        check_int(max_panic_pods, "max_panic_pods", minimum=0),
    )
    return KpaDecision((int(desired), float(ptime) if ptime >= 0 else None, int(mpp)))


def kpa_scale_to_zero_delay_s(
    *, grace_period_s: float = 30.0, retention_s: float = 0.0, activator_in_path: bool = True
) -> float:
    """How long an inactive revision keeps its last pod (``handleScaleToZero``).

    With the activator already in the path (SKS in proxy mode for at least the grace
    period), the pod goes once the retention period has passed; otherwise the reconciler
    waits ``max(grace period, retention)``. Source: knative/serving
    ``pkg/reconciler/autoscaling/kpa/scaler.go`` (``handleScaleToZero``).
    """
    grace = check_real(grace_period_s, "grace_period_s", minimum=0.0, lower_open=True)
    keep = check_real(retention_s, "retention_s", minimum=0.0)
    return keep if activator_in_path else max(grace, keep)


# ------------------------------------------------------------------------------ keep-alive
@njit(cache=True)
def _histogram_windows(counts, bin_s, head_q, tail_q, margin, cv_threshold, range_s):
    total = counts.sum()
    n = counts.size
    if total <= 0:
        return 0.0, range_s
    mean = total / n
    var = ((counts - mean) ** 2).sum() / n
    if math.sqrt(var) / mean < cv_threshold:
        return 0.0, range_s
    cum = 0.0
    head = -1
    tail = n - 1
    for i in range(n):
        cum += counts[i]
        if head < 0 and cum >= head_q * total:
            head = i
        if cum >= tail_q * total:
            tail = i
            break
    head_s = head * bin_s
    tail_s = (tail + 1) * bin_s
    prewarm = head_s * (1.0 - margin)
    return prewarm, tail_s * (1.0 + margin) - prewarm


def histogram_windows(
    idle_times_s: Sequence[float],
    *,
    bin_s: float = 60.0,
    range_s: float = 14400.0,
    head_percentile: float = 5.0,
    tail_percentile: float = 99.0,
    margin: float = 0.1,
    cv_threshold: float = 2.0,
) -> tuple[float, float]:
    """The hybrid histogram policy's (pre-warm, keep-alive) windows for one application.

    Idle times (between the end of one invocation and the next) go into ``bin_s`` bins up
    to ``range_s``; the pre-warm window is the ``head_percentile`` edge minus a ``margin``
    and the keep-alive window reaches the ``tail_percentile`` edge plus the margin. When the
    histogram is not representative (coefficient of variation of the bin counts below
    ``cv_threshold``, or no idle time in range) the policy falls back to no pre-warming and
    a keep-alive of the whole range.

    References
    ----------
    M. Shahrad et al., "Serverless in the Wild: Characterizing and Optimizing the Serverless
    Workload at a Large Cloud Provider", USENIX ATC 2020, Section 4.2 (1-minute bins, 4-hour
    range, 5th/99th percentiles, 10 % margins). The ARIMA branch for applications whose idle
    times fall mostly out of range is not modelled.
    """
    bin_s = check_real(bin_s, "bin_s", minimum=0.0, lower_open=True)
    range_s = check_real(range_s, "range_s", minimum=bin_s)
    idle = np.asarray(idle_times_s, dtype=float)
    nbins = int(math.ceil(range_s / bin_s))
    counts = np.bincount(
        np.clip((idle[idle < range_s] // bin_s).astype(np.int64), 0, nbins - 1), minlength=nbins
    ).astype(float)
    pre, keep = _histogram_windows(
        counts,
        bin_s,
        head_percentile / 100.0,
        tail_percentile / 100.0,
        float(margin),
        float(cv_threshold),
        range_s,
    )
    return float(pre), float(keep)

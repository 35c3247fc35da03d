"""The HPA and KPA rules against cases transcribed from the upstream tests."""

import math

import pytest

from k8smodel.autoscale.semantics import (
    histogram_windows,
    hpa_replica_count,
    kpa_decide,
    kpa_scale_to_zero_delay_s,
    normalize_legacy,
    normalize_with_behavior,
    replicas_change_per_period,
    scale_down_limit,
    scale_up_limit,
    stabilize_legacy,
    stabilize_recommendation,
    within_tolerance,
)
from k8smodel.autoscale.spec import ScalingPolicy, ScalingRules

# ---------------------------------------------------------------------------------------------
# kubernetes/kubernetes pkg/controller/podautoscaler/replica_calculator_test.go
# (requests of 1.0 CPU = 1000 milli-CPU per pod, levels in milli-CPU)
REQ = [1000, 1000, 1000]


def test_replica_calc_scale_up():  # TestReplicaCalcScaleUp
    assert hpa_replica_count(3, [300, 500, 700], 30, requests=REQ, resource=True) == 5


def test_replica_calc_scale_up_unready_less_scale():  # TestReplicaCalcScaleUpUnreadyLessScale
    got = hpa_replica_count(
        3, [300, 500, 700], 30, requests=REQ, resource=True, ready=[False, True, True]
    )
    assert got == 4


def test_replica_calc_scale_up_unready_no_scale():  # TestReplicaCalcScaleUpUnreadyNoScale
    got = hpa_replica_count(
        3, [400, 500, 700], 30, requests=REQ, resource=True, ready=[True, False, False]
    )
    assert got == 3


def test_tolerance_bounds():  # Tolerances.isWithin: (1 - down) <= r <= (1 + up)
    assert within_tolerance(0.9) and within_tolerance(1.1)
    assert not within_tolerance(0.89) and not within_tolerance(1.11)
    assert within_tolerance(1.04, tolerance=0.5, tolerance_up=0.05)
    assert not within_tolerance(1.06, tolerance=0.5, tolerance_up=0.05)


def test_plain_metric_missing_pods_on_scale_down_count_at_target():
    # calcPlainMetricReplicas: on a scale-down a missing pod counts as exactly the target.
    # Reference computed by hand: ready pods at 5 (target 10) -> ratio 0.5; with the missing
    # pod at 10 the new ratio is (5 + 5 + 10) / 3 / 10 = 0.667 -> ceil(0.667 x 3) = 2.
    assert hpa_replica_count(3, [5, 5, float("nan")], 10) == 2


# ---------------------------------------------------------------------------------------------
# kubernetes/kubernetes pkg/controller/podautoscaler/horizontal_test.go, TestScalingWithRules.
# generateScalingRules(pods, podsPeriod, percent, percentPeriod, window) adds a policy for
# each non-zero value; generateEventsUniformDistribution(events, 120) spreads the events
# over the last 120 s (ages 100, 60, 20 s for three events).
def rules(pods, pods_period, percent, percent_period, window):
    pols = []
    if pods:
        pols.append(ScalingPolicy("Pods", pods, pods_period))
    if percent:
        pols.append(ScalingPolicy("Percent", percent, percent_period))
    return ScalingRules(tuple(pols), "Max", window)


def uniform(events, period=120):
    seg = period / len(events)
    return [(period - seg * (i + 1) + seg / 2, v) for i, v in enumerate(events)]


SCALING_WITH_RULES = [
    # name, current, desired, min, max, up rules, down rules, up events, down events, expected
    ("within range", 5, 7, 3, 8, None, None, None, None, 7, "DesiredWithinRange"),
    ("below min", 3, 1, 2, 8, None, None, None, None, 2, "TooFewReplicas"),
    ("min 0", 1, 0, 0, 10, None, None, None, None, 0, "DesiredWithinRange"),
    ("max below limit", 20, 1000, 1, 10, None, None, None, None, 10, "TooManyReplicas"),
    ("more than max", 100, 1000, 100, 150, None, None, None, None, 150, "TooManyReplicas"),
    (
        "user percent 1",
        3,
        1000,
        1,
        2000,
        rules(0, 0, 1, 60, 0),
        None,
        None,
        None,
        4,
        "ScaleUpLimit",
    ),
    ("default behavior", 10, 50, 1, 1000, None, None, None, None, 20, "ScaleUpLimit"),
    (
        "pods > percent",
        10,
        500,
        1,
        1000,
        rules(100, 60, 100, 60, 0),
        None,
        None,
        None,
        110,
        "ScaleUpLimit",
    ),
    (
        "percent > pods",
        10,
        500,
        1,
        1000,
        rules(2, 60, 100, 60, 0),
        None,
        None,
        None,
        20,
        "ScaleUpLimit",
    ),
    (
        "large pod policy",
        10,
        50,
        1,
        1000,
        rules(100, 60, 0, 0, 0),
        None,
        None,
        None,
        50,
        "DesiredWithinRange",
    ),
    (
        "pod policy limit",
        10,
        50,
        1,
        1000,
        rules(30, 60, 0, 0, 0),
        None,
        None,
        None,
        40,
        "ScaleUpLimit",
    ),
    (
        "percent policy limit",
        10,
        50,
        1,
        1000,
        rules(0, 0, 200, 60, 0),
        None,
        None,
        None,
        30,
        "ScaleUpLimit",
    ),
    (
        "down percent > pods",
        100,
        2,
        1,
        1000,
        None,
        rules(20, 60, 1, 60, 300),
        None,
        None,
        80,
        "ScaleDownLimit",
    ),
    (
        "down pods > percent",
        100,
        2,
        1,
        1000,
        None,
        rules(2, 60, 1, 60, 300),
        None,
        None,
        98,
        "ScaleDownLimit",
    ),
    (
        "down large pods min",
        10,
        0,
        1,
        1000,
        None,
        rules(100, 60, 0, 0, 300),
        None,
        None,
        1,
        "TooFewReplicas",
    ),
    (
        "down large percent min 5",
        10,
        2,
        5,
        1000,
        None,
        rules(0, 0, 100, 60, 300),
        None,
        None,
        5,
        "TooFewReplicas",
    ),
    (
        "down pod limit",
        10,
        2,
        1,
        1000,
        None,
        rules(5, 60, 0, 0, 300),
        None,
        None,
        5,
        "ScaleDownLimit",
    ),
    (
        "down percent limit",
        10,
        5,
        1,
        1000,
        None,
        rules(0, 0, 50, 60, 300),
        None,
        None,
        5,
        "DesiredWithinRange",
    ),
    (
        "up max with events",
        100,
        500,
        1,
        200,
        rules(300, 60, 0, 0, 0),
        None,
        uniform([1, 5, 9]),
        None,
        200,
        "TooManyReplicas",
    ),
    (
        "up events block",
        100,
        500,
        1,
        1000,
        rules(5, 120, 0, 0, 0),
        None,
        uniform([1, 5, 9]),
        None,
        100,
        "ScaleUpLimit",
    ),
    (
        "up pods with events",
        100,
        500,
        1,
        1000,
        rules(150, 120, 0, 0, 0),
        None,
        uniform([1, 5, 9]),
        None,
        235,
        "ScaleUpLimit",
    ),
    (
        "up percent with events",
        100,
        500,
        1,
        1000,
        rules(0, 0, 200, 120, 0),
        None,
        uniform([1, 5, 9]),
        None,
        255,
        "ScaleUpLimit",
    ),
    (
        "down default with events",
        10,
        5,
        1,
        1000,
        None,
        None,
        None,
        uniform([1, 5, 9]),
        5,
        "DesiredWithinRange",
    ),
    (
        "down pods with events",
        100,
        2,
        1,
        1000,
        None,
        rules(5, 120, 0, 0, 300),
        None,
        uniform([1, 5, 9]),
        100,
        "ScaleDownLimit",
    ),
    (
        "down percent with events",
        100,
        0,
        1,
        1000,
        None,
        rules(0, 0, 50, 120, 300),
        None,
        uniform([2, 4, 6]),
        56,
        "ScaleDownLimit",
    ),
    (
        "down events block",
        100,
        0,
        1,
        1000,
        None,
        rules(0, 0, 10, 120, 300),
        None,
        uniform([10, 10, 10]),
        100,
        "ScaleDownLimit",
    ),
    (
        "down events allow",
        10,
        5,
        1,
        1000,
        None,
        rules(0, 0, 1000, 120, 300),
        None,
        uniform([10, 10, 10]),
        5,
        "DesiredWithinRange",
    ),
]


@pytest.mark.parametrize("case", SCALING_WITH_RULES, ids=[c[0] for c in SCALING_WITH_RULES])
def test_scaling_with_rules(case):
    _, cur, want, lo, hi, up, down, up_ev, down_ev, expected, condition = case
    got = normalize_with_behavior(
        cur,
        want,
        min_replicas=lo,
        max_replicas=hi,
        scale_up=up,
        scale_down=down,
        up_events=up_ev,
        down_events=down_ev,
    )
    assert got == (expected, condition)


def test_store_scale_events_change_per_period():
    # TestStoreScaleEvents "two entries, both actual": ages 58 s and 59 s, period 60 -> 13
    assert replicas_change_per_period(60, [(58, 7), (59, 6)]) == 13
    # "one outdated entry": age 61 s falls out of a 60 s period
    assert replicas_change_per_period(60, [(61, 7)]) == 0


def test_limits_directly():
    assert scale_up_limit(10, ScalingRules.default_scale_up()) == 20  # max(10 + 4, 2 x 10)
    assert scale_up_limit(1, ScalingRules.default_scale_up()) == 5  # max(1 + 4, 2)
    disabled = ScalingRules((), "Disabled", 0)
    assert scale_up_limit(7, disabled) == 7 and scale_down_limit(7, disabled) == 7


def test_stabilization_with_behaviors():
    # TestNormalizeDesiredReplicasWithBehavior "simple scale down stabilization"
    got = stabilize_recommendation(100, 3, [(120, 4), (60, 5)], up_window_s=0, down_window_s=180)
    assert got == 5
    # "empty recommendations for scaling down"
    assert stabilize_recommendation(100, 5, [], up_window_s=0, down_window_s=300) == 5


def test_legacy_stabilization():
    # horizontal_test.go, the table test of stabilizeRecommendation (window 5 minutes):
    # "stabilize - old recommendations": 10 (10 min ago) and 9 (9 min ago) are too old
    assert stabilize_legacy(3, [(600, 10), (60, 4), (120, 5), (540, 9)], window_s=300) == 5


def test_legacy_scale_up_limit():
    # calculateScaleUpLimit: max(2 x current, 4)
    assert normalize_legacy(1, 100, min_replicas=1, max_replicas=100) == 4
    assert normalize_legacy(10, 100, min_replicas=1, max_replicas=100) == 20
    assert normalize_legacy(10, 100, min_replicas=1, max_replicas=15) == 15
    assert normalize_legacy(10, 0, min_replicas=2, max_replicas=15) == 2


# ---------------------------------------------------------------------------------------------
# knative/serving pkg/autoscaler/scaling/autoscaler_test.go; newTestAutoscaler sets
# MaxScaleUpRate 10, MaxScaleDownRate 10, PanicThreshold 2, StableWindow 60 s, Reachable.
KN = dict(max_scale_up_rate=10, max_scale_down_rate=10, panic_threshold=2, stable_window_s=60)


def test_kpa_stable_increase():  # TestAutoscalerStableModeIncreaseWithConcurrencyDefault
    assert kpa_decide(1, 50, 10, target_value=10, **KN).desired == 5
    assert kpa_decide(1, 100, 10, target_value=10, **KN).desired == 10


def test_kpa_stable_decrease():  # TestAutoscalerStableModeDecrease
    assert kpa_decide(8, 100, 100, target_value=10, **KN).desired == 10
    assert kpa_decide(8, 50, 50, target_value=10, **KN).desired == 5


def test_kpa_rate_limits():  # TestAutoscalerRateLimitScaleUp / ScaleDown
    assert kpa_decide(1, 1000, 1001, target_value=10, **KN).desired == 10
    assert kpa_decide(10, 1000, 1001, target_value=10, **KN).desired == 100
    assert kpa_decide(100, 1, 1, target_value=10, **KN).desired == 10
    assert kpa_decide(10, 1, 1, target_value=10, **KN).desired == 1


def test_kpa_scale_table():  # TestAutoscalerScale
    small_up = dict(KN, max_scale_up_rate=1.1)
    assert kpa_decide(2, 3, 3.1, target_value=1, **small_up).desired == 3
    small_down = dict(KN, max_scale_down_rate=1.1)
    assert kpa_decide(100, 1, 1, target_value=10, **small_down).desired == 90
    assert kpa_decide(100, 1, 1, target_value=10, reachable=False, **small_down).desired == 1
    assert kpa_decide(1, 50, 100, target_value=10, **KN).desired == 10  # PanicModeDoublePodCount
    # AutoscalerPanicStableLargerThanPanic: in panic since 5 s, max panic pods 5
    assert (
        kpa_decide(5, 50, 30, target_value=1, panicking_since_s=-5, max_panic_pods=5, **KN).desired
        == 50
    )
    assert (
        kpa_decide(5, 20, 30, target_value=1, panicking_since_s=-5, max_panic_pods=5, **KN).desired
        == 30
    )


def test_kpa_panic_then_unpanic():  # TestAutoscalerPanicThenUnPanicScaleDown
    d = kpa_decide(1, 100, 100, target_value=10, **KN)
    assert d.desired == 10
    d = kpa_decide(
        10,
        100,
        1000,
        target_value=10,
        panicking_since_s=d.panicking_since_s,
        max_panic_pods=d.max_panic_pods,
        now_s=0,
        **KN,
    )
    assert d.desired == 100
    d = kpa_decide(
        10,
        1,
        1,
        target_value=10,
        panicking_since_s=d.panicking_since_s,
        max_panic_pods=d.max_panic_pods,
        now_s=30,
        **KN,
    )
    assert d.desired == 100  # still in panic: no scale-down
    d = kpa_decide(
        10,
        1,
        1,
        target_value=10,
        panicking_since_s=d.panicking_since_s,
        max_panic_pods=d.max_panic_pods,
        now_s=61,
        **KN,
    )
    assert d.desired == 1 and d.panicking_since_s is None


def test_kpa_unpanic_after_slow_increase():  # TestAutoscalerUnpanicAfterSlowIncrease
    d = kpa_decide(10, 11, 25, target_value=1, now_s=0, **KN)
    assert d.desired == 25 and d.panicking_since_s == 0
    d = kpa_decide(
        40,
        30,
        41,
        target_value=1,
        now_s=30,
        panicking_since_s=0,
        max_panic_pods=d.max_panic_pods,
        **KN,
    )
    assert d.desired == 41 and d.panicking_since_s == 0
    d = kpa_decide(
        55,
        50,
        56,
        target_value=1,
        now_s=62,
        panicking_since_s=0,
        max_panic_pods=d.max_panic_pods,
        **KN,
    )
    assert d.desired == 50 and d.panicking_since_s is None


def test_kpa_scale_to_zero_and_activation():  # NoTrafficScaleToZero, ActivationScale
    assert kpa_decide(1, 1, 0, target_value=10, **KN).desired == 1
    assert kpa_decide(1, 0, 0, target_value=10, **KN).desired == 0
    assert kpa_decide(1, 0, 0, target_value=10, activation_scale=2, **KN).desired == 0
    assert kpa_decide(1, 1, 0, target_value=10, activation_scale=2, **KN).desired == 2


def test_scale_to_zero_delay():  # handleScaleToZero in pkg/reconciler/autoscaling/kpa/scaler.go
    assert kpa_scale_to_zero_delay_s() == 0.0
    assert kpa_scale_to_zero_delay_s(activator_in_path=False) == 30.0
    assert kpa_scale_to_zero_delay_s(retention_s=90, activator_in_path=False) == 90.0


# ---------------------------------------------------------------------------------------------
def test_histogram_windows_follow_percentiles():
    # Shahrad et al. 2020, Section 4.2, computed by hand: idle times concentrated in the
    # 10-11 minute bin (plus one at 30 min) -> head bin 10 -> pre-warm 600 s x 0.9 = 540 s;
    # tail: 99 % of 100 samples lies in bin 10 too? 99 of 100 -> bin 10 -> tail edge 660 s,
    # keep-alive 660 x 1.1 - 540 = 186 s.
    idle = [630.0] * 99 + [1800.0]
    pre, keep = histogram_windows(idle)
    assert pre == pytest.approx(540.0) and keep == pytest.approx(660 * 1.1 - 540)


def test_histogram_falls_back_when_not_representative():
    pre, keep = histogram_windows([])
    assert (pre, keep) == (0.0, 14400.0)
    flat = [60.0 * i + 1 for i in range(240)]  # one per bin: coefficient of variation 0
    assert histogram_windows(flat) == (0.0, 14400.0)
    assert math.isfinite(keep)

"""Controller rules, with expected values read off the Kubernetes source and its tests."""

import numpy as np
import pytest
import scipy.stats as st

from k8smodel import rollout
from k8smodel.rollout import (
    deployment_fenceposts,
    max_unavailable_gate_default,
    scaled_value,
    slow_start_batches,
    statefulset_max_unavailable,
    update_targets,
)

# Cases of TestGetStatefulSetMaxUnavailable, pkg/controller/statefulset/stateful_set_utils_test.go
STS_MAX_UNAVAILABLE_CASES = [
    (None, 10, 1),
    (3, 10, 3),
    (3, 0, 3),
    (0, 0, 1),
    ("10%", 25, 2),
    ("100%", 5, 5),
    ("50%", 5, 2),
    ("10%", 5, 1),
    ("1%", 0, 1),
    ("0%", 0, 1),
]


@pytest.mark.parametrize(("value", "replicas", "expected"), STS_MAX_UNAVAILABLE_CASES)
def test_statefulset_max_unavailable_matches_kubernetes_test_table(value, replicas, expected):
    assert statefulset_max_unavailable(value, replicas) == expected


# TestResolveFenceposts, pkg/controller/deployment/util/deployment_util_test.go, and the
# worked examples in the ResolveFenceposts doc comment.
@pytest.mark.parametrize(
    ("surge", "unavailable", "desired", "expected"),
    [
        ("0%", "0%", 0, (0, 1)),
        ("39%", "39%", 10, (4, 3)),
        ("0%", "1%", 2, (0, 1)),  # "2 desired, max unavailable 1%, surge 0%"
        (
            "1%",
            "25%",
            1,
            (1, 0),
        ),  # "1 desired, max unavailable 25%, surge 1%" -> scale new +1 first
        ("25%", "25%", 8, (2, 2)),
        ("25%", "25%", 10, (3, 2)),  # Kubernetes defaults: surge rounds up, unavailable down
    ],
)
def test_deployment_fenceposts(surge, unavailable, desired, expected):
    assert deployment_fenceposts(surge, unavailable, desired) == expected


def test_scaled_value_rounding_directions():
    # intstr.GetScaledValueFromIntOrPercent: ceil when roundUp, floor otherwise
    assert scaled_value("33%", 10, round_up=True) == 4
    assert scaled_value("33%", 10, round_up=False) == 3
    assert scaled_value(7, 10, round_up=False) == 7
    with pytest.raises(ValueError, match="int-or-percent"):
        scaled_value("33", 10, round_up=True)


def test_slow_start_batches_follow_the_controller_loop():
    # slowStartBatch(1, remaining, fn) in stateful_set_control.go:
    # batchSize = min(min(2*batchSize, remaining), MaxBatchSize=500)
    assert slow_start_batches(10) == [1, 2, 4, 3]
    assert slow_start_batches(0) == []
    big = slow_start_batches(2000)
    assert big == [1, 2, 4, 8, 16, 32, 64, 128, 256, 500, 500, 489]
    assert sum(big) == 2000


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.24", False),
        ("1.34.9", False),
        ("1.35.0", True),
        ("v1.35.3", True),
        ("1.35.4", False),
        ("1.35.9", False),
        ("1.35", False),  # no patch: the latest 1.35 patch, off since 1.35.4 (PR #137926)
        ("1.36", False),
        ("1.36.2", False),
        ("1.37.0", True),
        ("1.37", True),
    ],
)
def test_max_unavailable_gate_default_by_version(version, expected):
    # kube_features.go (alpha 1.24, beta-on 1.35), PRs #137904/#137926 (off), #139466 (on in 1.37)
    assert max_unavailable_gate_default(version) is expected


def test_default_version_has_the_gate_off():
    # every current release (1.35.4+, 1.36) ships MaxUnavailableStatefulSet off by default
    sts = rollout.StatefulSet(replicas=10, max_unavailable=4)
    assert sts.kubernetes_version == "1.36"
    assert sts.max_unavailable_gate is False
    assert sts.effective_max_unavailable == 1
    assert rollout.StatefulSet(replicas=10, kubernetes_version="1.35").max_unavailable_gate is False
    assert rollout.StatefulSet(replicas=10, kubernetes_version="1.35.1").max_unavailable_gate


def test_gate_off_forces_one_at_a_time():
    sts = rollout.StatefulSet(replicas=10, max_unavailable=4, kubernetes_version="1.34")
    assert sts.max_unavailable_gate is False
    assert sts.effective_max_unavailable == 1
    on = rollout.StatefulSet(replicas=10, max_unavailable="25%", max_unavailable_gate=True)
    assert on.effective_max_unavailable == 2


def test_update_targets_descend_to_partition():
    assert update_targets(5, 0) == [4, 3, 2, 1, 0]
    assert update_targets(5, 3) == [4, 3]
    assert update_targets(5, 7) == []  # partition > replicas is valid: nothing updates


def test_partition_touches_only_high_ordinals():
    timing = rollout.PodTiming(warmup=st.gamma(2, scale=5))
    res = rollout.simulate(
        rollout.StatefulSet(replicas=8, partition=5),
        "rolling_update",
        timing,
        replications=4,
        rng=0,
    )
    assert sorted(set(res.timeline["ordinal"])) == [5, 6, 7]
    first = res.timeline[res.timeline.run == 0]
    assert list(first["ordinal"]) == [7, 6, 5]  # highest ordinal first
    # each replacement is created after the previous one is available (OrderedReady)
    assert np.all(first["deleted"].to_numpy()[1:] >= first["available"].to_numpy()[:-1] - 1e-9)


def test_partition_beyond_replicas_updates_nothing():
    timing = rollout.PodTiming(warmup=5)
    res = rollout.simulate(
        rollout.StatefulSet(replicas=3, partition=10),
        "rolling_update",
        timing,
        replications=3,
        rng=0,
    )
    assert np.all(res.samples == 0)
    assert res.timeline.empty


def test_on_delete_never_completes():
    sts = rollout.StatefulSet(replicas=3, update_strategy="OnDelete")
    timing = rollout.PodTiming(warmup=5)
    res = rollout.simulate(sts, "rolling_update", timing, replications=5, deadline_s=60, rng=0)
    assert np.all(np.isinf(res.samples))
    assert res.summary.p_miss_deadline[0] == 1.0
    assert rollout.completion_time(sts, "rolling_update", timing).mean() == np.inf


def test_ordered_batches_delete_together_and_recreate_ascending():
    sts = rollout.StatefulSet(replicas=6, max_unavailable=3, max_unavailable_gate=True)
    timing = rollout.PodTiming(warmup=st.uniform(1, 20), termination=st.uniform(0, 10))
    tl = rollout.simulate(sts, "rolling_update", timing, replications=1, rng=3).timeline
    b1 = tl[tl.ordinal >= 3].sort_values("ordinal")
    assert b1["deleted"].nunique() == 1  # the batch 5, 4, 3 goes down together
    assert np.all(np.diff(b1["created"].to_numpy()) > 0)  # recreated 3, then 4, then 5
    assert np.all(b1["created"].to_numpy()[1:] >= b1["available"].to_numpy()[:-1])
    b2 = tl[tl.ordinal < 3]
    assert b2["deleted"].min() >= b1["available"].max() - 1e-9


def test_parallel_window_keeps_at_most_k_unavailable():
    sts = rollout.StatefulSet(
        replicas=10, pod_management="Parallel", max_unavailable=3, max_unavailable_gate=True
    )
    timing = rollout.PodTiming(warmup=st.gamma(2, scale=5), termination=st.uniform(0, 5))
    res = rollout.simulate(sts, "rolling_update", timing, replications=500, quorum=7, rng=4)
    assert res.min_ready.min() == 7  # 10 - 3, reached at the start
    assert res.summary.p_below_quorum[0] == 0.0


@pytest.mark.parametrize("policy", ["OrderedReady", "Parallel"])
def test_one_at_a_time_never_has_two_down(policy):
    # the next deletion happens at the very instant the replacement turns Ready (mrs = 0):
    # the Ready pod must be counted first, in every one of many runs
    timing = rollout.PodTiming(
        attach=st.lognorm(0.5, scale=15), warmup=st.gamma(2, scale=5), termination=st.uniform(0, 10)
    )
    sts = rollout.StatefulSet(replicas=20, pod_management=policy)
    res = rollout.simulate(
        sts, "rolling_update", timing, replications=20_000, quorum=19, rng=20261127
    )
    assert res.min_ready.min() == 19


def test_deployment_keeps_replicas_minus_unavailable_ready():
    # rolling.go: available pods stay >= replicas - maxUnavailable (here 20 - floor(25 % of 20))
    timing = rollout.PodTiming(warmup=st.gamma(2, scale=5), termination=st.uniform(0, 10))
    res = rollout.simulate(
        rollout.Deployment(replicas=20),
        "rolling_update",
        timing,
        replications=2000,
        quorum=15,
        rng=1,
    )
    assert res.min_ready.min() == 15


@pytest.mark.parametrize(
    "method",
    [
        rollout.CompletionTime.cdf,
        rollout.CompletionTime.sf,
        rollout.CompletionTime.ppf,
        rollout.timing.sample_startup,
        rollout.timing.sample_termination,
        rollout.timing.startup_upper_s,
        rollout.timing.startup_pmf,
        rollout.timing.termination_pmf,
        rollout.plan_operation,
        rollout.slow_start_offsets,
    ],
    ids=lambda f: f.__qualname__,
)
def test_public_methods_document_parameters_and_returns(method):
    import inspect

    doc = inspect.getdoc(method)
    assert "Parameters\n----------" in doc and "Returns\n-------" in doc

"""DaemonSet rollouts: controller rules from Kubernetes' tests, closed forms, simulation."""

import math

import numpy as np
import pytest
import scipy.stats as st
from scipy import special

from k8smodel import rollout


# TestGetUnavailableNumbers, pkg/controller/daemon/update_test.go (kubernetes/kubernetes):
# (maxSurge, maxUnavailable as set, desired nodes) -> (maxSurge, maxUnavailable) resolved by
# updatedDesiredNodeCounts; newUpdateSurge sets maxUnavailable 0.
@pytest.mark.parametrize(
    ("surge", "unavailable", "desired", "expected"),
    [
        (0, 0, 0, (0, 0)),  # "No nodes"
        (0, 1, 2, (0, 1)),  # "Two nodes with ready pods"
        (0, 0, 2, (0, 1)),  # "Two nodes, one node without pods": both 0 -> unavailable 1
        (0, "50%", 2, (0, 1)),  # "MaxUnavailable in percents"
        ("50%", 0, 2, (1, 0)),  # "MaxUnavailable in percents, surge"
        ("100%", 0, 2, (2, 0)),  # "MaxUnavailable is 100%, surge"
        (0, "50%", 3, (0, 2)),  # "pod terminating": 50 % of 3 rounds UP to 2
    ],
)
def test_budgets_match_kubernetes_test_table(surge, unavailable, desired, expected):
    assert rollout.daemonset_budgets(surge, unavailable, desired) == expected


def _node(name, taints=(), labels=None):
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": {"taints": list(taints)}}


def test_nodes_counted_like_the_rolling_update_with_tolerations_test():
    # TestDaemonSetRollingUpdateWithTolerations, test/integration/daemonset/daemonset_test.go:
    # six nodes tainted zone-y (2), zone-z (2), zone-common (2), all NoSchedule
    keys = ["zone-y", "zone-y", "zone-z", "zone-z", "zone-common", "zone-common"]
    nodes = [_node(f"node-{i}", [{"key": k, "effect": "NoSchedule"}]) for i, k in enumerate(keys)]

    def desired(*tolerated):
        tol = [{"key": k, "operator": "Exists"} for k in tolerated]
        return rollout.desired_number_scheduled(nodes, tolerations=tol)

    assert desired("zone-y", "zone-common") == 4
    assert desired("zone-z", "zone-common") == 4
    assert desired("zone-y", "zone-z", "zone-common") == 6
    assert desired() == 0


def test_unschedulable_and_not_ready_nodes_still_count():
    # TestUnschedulableNodeDaemonDoesLaunchPod (test/integration/daemonset/daemonset_test.go) and
    # the NotReady/unreachable NoExecute tolerations of AddOrUpdateDaemonPodTolerations
    cordoned = _node("a", [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}])
    not_ready = _node("b", [{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}])
    no_network = _node(
        "c", [{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}]
    )
    assert rollout.node_should_run_daemon_pod(cordoned) == (True, True)
    assert rollout.node_should_run_daemon_pod(not_ready) == (True, True)
    # network-unavailable is tolerated only by host-network pods
    assert rollout.node_should_run_daemon_pod(no_network) == (False, True)
    assert rollout.node_should_run_daemon_pod(no_network, host_network=True) == (True, True)
    # an untolerated NoExecute taint evicts a running pod too
    dedicated = _node("d", [{"key": "dedicated", "value": "db", "effect": "NoExecute"}])
    assert rollout.node_should_run_daemon_pod(dedicated) == (False, False)
    tol = [{"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoExecute"}]
    assert rollout.node_should_run_daemon_pod(dedicated, tolerations=tol) == (True, True)


def test_selector_and_affinity():
    ssd = _node("x", labels={"disk": "ssd", "zone": "a"})
    hdd = _node("y", labels={"disk": "hdd", "zone": "b"})
    assert rollout.desired_number_scheduled([ssd, hdd], node_selector={"disk": "ssd"}) == 1
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]},
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["x"]}]},
                ]
            }
        }
    }
    assert rollout.desired_number_scheduled([ssd, hdd], affinity=affinity) == 2  # terms are ORed
    assert rollout.node_should_run_daemon_pod(ssd, node_name="y") == (False, False)


# ---------------------------------------------------------------- deterministic rollouts
DET = rollout.PodTiming(start=2, warmup=8, probe_period_s=5, termination=5, min_ready_seconds=3)
A, D = 2 + 10 + 3, 5.0  # ready at 2 + 10 (probe grid), available 3 s later; old pod exits in 5 s


def test_updates_in_rounds_like_test_daemonset_updates_pods():
    # TestDaemonSetUpdatesPods (pkg/controller/daemon/update_test.go): 5 nodes, maxUnavailable 2
    # -> the controller deletes 2, 2, then 1 old pods, each round after the previous is available
    ds = rollout.DaemonSet(nodes=5, max_unavailable=2)
    res = rollout.simulate(ds, "rolling_update", DET, replications=2, rng=0)
    rounds = np.unique(res.timeline[res.timeline.run == 0].deleted, return_counts=True)
    np.testing.assert_allclose(rounds[0], [0, D + A, 2 * (D + A)])
    assert list(rounds[1]) == [2, 2, 1]
    # each node is without a ready daemon from deletion until its new pod is Ready: D + 12 s
    assert res.summary.mean_pod_gap_s[0] == pytest.approx(D + 12)
    assert rollout.completion_time(ds, "rolling_update", DET).mean() == pytest.approx(3 * (D + A))


def test_surge_rounds_like_test_daemonset_updates_pods_with_max_surge():
    # TestDaemonSetUpdatesPodsWithMaxSurge (update_test.go): 5 nodes, maxSurge 2 -> new pods are
    # created 2, 2, 1 at a time; a node's old pod is deleted when its new pod is available
    ds = rollout.DaemonSet(nodes=5, max_unavailable=0, max_surge=2)
    res = rollout.simulate(ds, "rolling_update", DET, replications=2, rng=0)
    tl = res.timeline[res.timeline.run == 0]
    created, counts = np.unique(tl.created, return_counts=True)
    np.testing.assert_allclose(created, [0, A, 2 * A])
    assert list(counts) == [2, 2, 1]
    np.testing.assert_allclose(tl.deleted, tl.available)
    assert res.summary.mean_pod_gap_s[0] == 0.0  # no node is ever without its daemon
    assert res.summary.mean_s[0] == pytest.approx(3 * A)


def test_hundred_nodes_ten_at_a_time():
    # TestDaemonSetUpdatesAllOldNotReadyPodsAndNewNotReadyPods (update_test.go): 100 nodes,
    # maxUnavailable 10 -> "we need to iterate 10 times ... to reach 100 nodes rollout"
    ds = rollout.DaemonSet(nodes=100, max_unavailable=10)
    law = rollout.completion_time(ds, "rolling_update", DET)
    assert law.summary.method[0] == "closed_form"
    assert law.mean() == pytest.approx(10 * (D + A))


def test_on_delete_never_completes():
    ds = rollout.DaemonSet(nodes=3, update_strategy="OnDelete")
    assert rollout.completion_time(ds, "rolling_update", DET).mean() == math.inf


# ---------------------------------------------------------------- closed forms for iid jobs
# job of a node = termination U(0, 10) + 2 s start (ready on the first probe, period 1 s):
# uniform on [2, 12]
UNI = rollout.PodTiming(start=2, probe_period_s=1, termination=st.uniform(0, 10))


def test_all_at_once_is_the_maximum_of_uniforms():
    m = 40
    ds = rollout.DaemonSet(nodes=m, max_unavailable="100%")
    law = rollout.completion_time(ds, "rolling_update", UNI)
    assert law.exact
    t = np.array([8.0, 10.0, 11.0, 11.8])
    expected = ((t - 2) / 10) ** m  # P(max of m U(2, 12) <= t)
    h = law.grid_s[1] - law.grid_s[0]
    density = m * ((t - 2) / 10) ** (m - 1) / 10
    assert np.all(np.abs(law.cdf(t) - expected) <= density * h + 1e-9)
    runs = 20_000
    sim = rollout.simulate(ds, "rolling_update", UNI, replications=runs, rng=3).samples
    assert abs(sim.mean() - (2 + 10 * m / (m + 1))) < 5 * sim.std() / math.sqrt(runs)


def test_one_at_a_time_is_an_irwin_hall_sum():
    m = 61  # cybozu-go/neco#1910's smaller cluster, one node at a time
    ds = rollout.DaemonSet(nodes=m)
    law = rollout.completion_time(ds, "rolling_update", UNI, deadline_s=7 * m + 30)
    assert law.exact and law.summary.method[0] == "convolution_power"
    # sum of m iid U(2, 12): mean 7 m, variance 100 m / 12
    assert law.mean() == pytest.approx(7 * m, rel=1e-4)
    assert law.var() == pytest.approx(100 * m / 12, rel=1e-3)
    # P(sum > 7m + 30) by the normal limit with an Edgeworth-free check: U sums are near normal
    z = 30 / math.sqrt(100 * m / 12)
    assert law.summary.p_miss_deadline[0] == pytest.approx(special.ndtr(-z), abs=2e-3)


def test_renewal_approximation_tracks_simulation_at_scale():
    # 1000 nodes, 5 % unavailable (50 at a time), realistic per-node times. An approximation
    # (exact=False): measured within 0.3 % of the simulated mean and 1 % of the p99 here; the
    # bounds below are a regression guard, not a theorem.
    timing = rollout.PodTiming(
        pull=st.lognorm(0.6, scale=8),
        start=1,
        warmup=st.gamma(2, scale=5),
        probe_period_s=5,
        termination=st.uniform(0, 10),
    )
    ds = rollout.DaemonSet(nodes=1000, max_unavailable="5%")
    law = rollout.completion_time(ds, "rolling_update", timing, deadline_s=600)
    assert not law.exact and law.summary.method[0] == "renewal_approximation"
    runs = 4000
    res = rollout.simulate(ds, "rolling_update", timing, replications=runs, deadline_s=600, rng=5)
    row = res.summary.iloc[0]
    assert abs(law.mean() - row.mean_s) < 5 * row.mean_s_se + 0.005 * row.mean_s
    assert abs(law.ppf(0.99) - row.p99_s) < 0.02 * row.p99_s
    assert abs(law.summary.p_miss_deadline[0] - row.p_miss_deadline) < (
        5 * row.p_miss_deadline_se + 0.02
    )
    # the batch-synchronous bound is far looser at this scale
    bound = rollout.completion_time(ds, "rolling_update", timing, window="bound")
    assert bound.mean() > 1.1 * row.mean_s


def test_risk_over_time_counts_nodes_without_a_daemon():
    # deterministic, 4 nodes, 2 at a time: nodes 1-2 lack a ready daemon during [0, D + 12),
    # (ready at 12 s after creation at D), nodes 3-4 during [D + A, 2 D + A + 12)
    ds = rollout.DaemonSet(nodes=4, max_unavailable=2)
    res = rollout.simulate(ds, "rolling_update", DET, replications=3, rng=0)
    risk = res.risk_over_time([1.0, D + 12.5, D + A + 1, 2 * (D + A) + 1])
    np.testing.assert_allclose(risk.mean_unready_fraction, [0.5, 0.0, 0.5, 0.0])
    np.testing.assert_allclose(risk.p_not_done, [1, 1, 1, 0])


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"nodes": -1}, ValueError, "nodes"),
        ({"nodes": 3.0}, TypeError, "nodes"),
        ({"nodes": 3, "max_unavailable": 1, "max_surge": 1}, ValueError, "may not be set"),
        ({"nodes": 3, "max_unavailable": 0}, ValueError, "cannot be 0"),
        ({"nodes": 3, "max_unavailable": "150%"}, ValueError, "100%"),
        ({"nodes": 3, "max_unavailable": 1.5}, TypeError, "max_unavailable"),
        ({"nodes": 3, "update_strategy": "Recreate"}, ValueError, "update_strategy"),
    ],
)
def test_bad_daemonsets_rejected_like_the_api(kwargs, error, match):
    with pytest.raises(error, match=match):
        rollout.DaemonSet(**kwargs)


def test_daemonset_has_no_scale_operations():
    with pytest.raises(ValueError, match="rolling_update"):
        rollout.simulate(rollout.DaemonSet(nodes=3), "scale_up", DET)


def test_surge_window_theory_tracks_simulation():
    # maxSurge 10 % of 300 nodes: a window of 30 new pods, each busy until available; the
    # renewal approximation (exact=False) against the simulation, as a regression guard
    timing = rollout.PodTiming(
        pull=st.lognorm(0.5, scale=8), start=1, warmup=st.gamma(2, scale=5), probe_period_s=5
    )
    ds = rollout.DaemonSet(nodes=300, max_unavailable=0, max_surge="10%")
    law = rollout.completion_time(ds, "rolling_update", timing)
    assert law.summary["flags"].iloc[0] == "approximation"
    res = rollout.simulate(ds, "rolling_update", timing, replications=2000, rng=7)
    row = res.summary.iloc[0]
    assert abs(law.mean() - row.mean_s) < 5 * row.mean_s_se + 0.005 * row.mean_s
    assert row.mean_pod_gap_s == 0.0

"""Theory and simulation of the autoscale family: a hand-computed step, scale to zero,
keep-alive in closed form against simulation, and the simulation against its fluid limit."""

import doctest
import math

import numpy as np
import pytest

import k8smodel
from k8smodel.autoscale import (
    HpaSpec,
    KpaSpec,
    ScalingRules,
    Trace,
    fluid,
    keepalive,
    simulate,
    simulate_keepalive,
)


def test_hand_computed_hpa_step():
    """3 pods at 30 req/s (Pods metric, target 10/pod), a step to 90 req/s at t = 60 s.

    By hand, with the sync and the metrics-server scrape every 15 s from t = 0 and each
    sample averaging the 15 s before it:
    * sync 75 s: the sample of [60, 75) reads 30 per pod, ratio 3 -> ceil(3 x 3) = 9, cut by
      the legacy limit max(2 x 3, 4) = 6; the 3 new pods are ready at 95 s;
    * sync 90 s: 3 ready pods still read 30 each, 3 are pending (unready, counted as 0 on a
      scale-up): (90 + 0) / 6 / 10 = 1.5 -> ceil(1.5 x 6) = 9; new pods ready at 110 s.
    Pods: 3 on [0, 75), 6 on [75, 90), 9 after: 3 x 75 + 6 x 15 + 9 x 310 = 3105 pod-s.
    Backlog: 45/s piles up from 60 to 95 s (capacity 45 = 3 x 15), stays while 6 pods serve
    90/s, drains at 45/s from 110 s: 1575 / 45 = 35 s, empty at 145 s, so the last bin whose
    p99 is over 1 s ends at 145 s (85 s after the step; in-pod p99 at utilization 2/3 is
    ln(100) / (15 / 3) = 0.92 s).
    """
    tr = Trace.step(30.0, 90.0, at_s=60, duration_s=400)
    res = fluid(
        HpaSpec(max_replicas=20, metric_type="Pods", target=10.0),
        tr,
        capacity_per_s=15.0,
        initial_replicas=3,
        startup_s=20.0,
        slo_s=1.0,
    )
    pods = res.replicas[0]
    assert (pods[:75] == 3).all() and (pods[75:90] == 6).all() and (pods[90:] == 9).all()
    row = res.summary.iloc[0]
    assert row["pod_seconds"] == 3105
    assert row["recovery_s"] == pytest.approx(85.0, abs=5.0)  # 5 s time bins
    assert row["method"] == "fluid" and not row["exact"]


def test_hand_computed_scale_to_zero_and_cold_start():
    """Zero pods, 2 req/s on [100, 130) s, pod start-up 5 s, KPA defaults (stable window 60 s,
    tick 2 s from t = 0), activator in the path (so no grace period, retention 0).

    The activator's poke creates a pod at 100 s, ready at 105 s: the 10 requests of
    [100, 105) are cold (1/6 of 60) and wait until 105 s (> 1 s SLO). The last request is
    served in tick 129, so the 60 s stable average is zero from 190 s: the pod is removed
    then, 90 pod-seconds in all.
    """
    tr = Trace(np.r_[np.zeros(100), np.full(30, 2.0), np.zeros(200)], event_s=100)
    res = fluid(
        KpaSpec(target=10, max_scale=50),
        tr,
        capacity_per_s=100.0,
        pod_concurrency=10,
        initial_replicas=0,
        slo_s=1.0,
        startup_s=5.0,
    )
    pods = res.replicas[0]
    assert (pods[:100] == 0).all() and (pods[100:190] == 1).all() and (pods[190:] == 0).all()
    row = res.summary.iloc[0]
    assert row["fraction_cold"] == pytest.approx(1 / 6)
    assert row["requests_over_slo"] == pytest.approx(10.0, abs=0.1)
    # without the activator in the path the last pod stays the 30 s grace period longer
    late = fluid(
        KpaSpec(target=10, max_scale=50),
        tr,
        capacity_per_s=100.0,
        pod_concurrency=10,
        initial_replicas=0,
        startup_s=5.0,
        activator_in_path=False,
    )
    assert late.summary["pod_seconds"].iloc[0] == 120


def test_keepalive_closed_form_reduces_to_exponential():
    # no start-up time: the cold fraction is P(idle gap > K) = exp(-lam K)
    r = keepalive(rate_per_s=[0.01, 0.001], keep_alive_s=[60, 600], cold_start_s=0.0)
    assert r.summary["fraction_cold"].tolist() == pytest.approx([math.exp(-0.6)] * 2)
    assert r.summary["exact"].all()


@pytest.mark.parametrize(("rate", "keep", "cold"), [(1 / 300, 600.0, 1.0), (0.02, 60.0, 5.0)])
def test_keepalive_simulation_matches_closed_form(rate, keep, cold):
    sim = simulate_keepalive(
        rate_per_s=rate,
        duration_s=5 * 86400.0,
        keep_alive_s=keep,
        cold_start_s=cold,
        policies=("fixed",),
        replications=16,
        rng=7,
    )
    theory = keepalive(rate_per_s=rate, keep_alive_s=keep, cold_start_s=cold)
    for col in ("fraction_cold", "mean_added_latency_s", "loaded_pod_s_per_request"):
        s, se = sim.summary[col].iloc[0], sim.summary[f"{col}_se"].iloc[0]
        # 4 standard errors, plus the first cold start of each run (one per run) as bias
        assert abs(s - theory.summary[col].iloc[0]) < 4 * se + 2 / (rate * 5 * 86400)


def test_histogram_policy_beats_fixed_on_periodic_invocations():
    # a timer every 10 minutes: the fixed 5-minute keep-alive always misses; the histogram
    # policy learns the period and pre-warms (Shahrad et al. 2020, Figure 15's regime)
    times = np.arange(0, 2 * 86400, 600.0)
    res = simulate_keepalive(arrival_times_s=times, keep_alive_s=300.0, cold_start_s=1.0)
    by = res.summary.set_index("policy")
    assert by.loc["fixed", "fraction_cold"] == 1.0
    assert by.loc["histogram", "fraction_cold"] < 0.05
    assert by.loc["histogram", "loaded_pod_s_per_request"] < 600


def test_simulation_settles_where_the_fluid_limit_does():
    # high rates make the Poisson noise small (sd of a 15 s per-pod sample ~ 1 %, inside the
    # 10 % tolerance), so every replication ends at the fluid limit's replica count
    tr = Trace.step(900.0, 2700.0, at_s=60, duration_s=900)
    spec = HpaSpec(max_replicas=100, metric_type="Pods", target=70.0)
    kw = dict(capacity_per_s=100.0, initial_replicas=13, startup_s=20.0, slo_s=1.0)
    sim = simulate(spec, tr, replications=8, rng=3, **kw)
    th = fluid(spec, tr, **kw)
    assert th.summary["final_replicas"].iloc[0] == math.ceil(2700 / 70)
    assert (sim.replicas[:, -1] == th.replicas[0, -1]).all()
    # pod-seconds differ only through the controller's phase (at most one sync period of
    # the added pods) and start-up: within 15 s x 26 pods of the fluid value
    assert abs(sim.summary["pod_seconds"].iloc[0] - th.summary["pod_seconds"].iloc[0]) < 15 * 26


def test_kpa_simulation_tracks_its_fluid_limit():
    tr = Trace.step(300.0, 900.0, at_s=60, duration_s=400)
    spec = KpaSpec(target=10, max_scale=200)
    kw = dict(
        capacity_per_s=10.0, pod_concurrency=10, initial_replicas=43, startup_s=10.0, slo_s=6.0
    )
    sim = simulate(spec, tr, replications=6, rng=5, **kw)
    th = fluid(spec, tr, **kw)
    # steady state: ceil(concurrency 900 x 1 s / 7) = 129 pods; panic may overshoot on the way
    assert th.summary["final_replicas"].iloc[0] == 129
    assert abs(sim.summary["final_replicas"].iloc[0] - 129) <= 3


def test_results_follow_the_contract():
    tr = Trace.step(5.0, 15.0, at_s=20, duration_s=120)
    res = simulate(
        HpaSpec(max_replicas=10, metric_type="Pods", target=3.5),
        tr,
        capacity_per_s=5.0,
        initial_replicas=2,
        replications=3,
        rng=1,
    )
    s = res.summary
    assert {"method", "exact", "flags", "recovery_s", "recovery_s_se"} <= set(s.columns)
    assert res.timeseries.columns.tolist()[:2] == ["time_s", "rate_per_s"]
    assert res.replicas.shape == (3, 120)
    same = simulate(
        HpaSpec(max_replicas=10, metric_type="Pods", target=3.5),
        tr,
        capacity_per_s=5.0,
        initial_replicas=2,
        replications=3,
        rng=1,
    )
    assert np.array_equal(res.replicas, same.replicas)
    swept = k8smodel.sweep(
        lambda target, rng: simulate(
            HpaSpec(max_replicas=10, metric_type="Pods", target=target),
            tr,
            capacity_per_s=5.0,
            initial_replicas=2,
            replications=2,
            rng=rng,
        ),
        {"target": [3.0, 4.0]},
        rng=1,
        progress=False,
    )
    assert len(swept) == 2


@pytest.mark.parametrize("module", ["spec", "semantics", "theory", "simulate", "manifest"])
def test_docstring_examples_run(module):
    mod = __import__(f"k8smodel.autoscale.{module}", fromlist=["x"])
    failures, _ = doctest.testmod(mod)
    assert failures == 0


def test_hand_computed_scale_down_waits_for_the_stabilization_window():
    """9 pods at 90 req/s (target 10/pod) and a step down to 30 req/s at t = 60 s.

    From the sync at 75 s the recommendation is ceil(0.33 x 9) = 3, but the scale-down
    stabilization keeps the largest recommendation of the last 300 s, and the syncs up to
    60 s recommended 9. With ``behavior`` (stabilizeRecommendationWithBehaviors keeps
    recommendations *after* the cutoff) the 60 s one drops out at 360 s; without it
    (stabilizeRecommendation keeps those *not before* the cutoff) at 375 s.
    """
    tr = Trace.step(90.0, 30.0, at_s=60, duration_s=420)
    kw = dict(capacity_per_s=15.0, initial_replicas=9, startup_s=20.0)
    legacy = fluid(HpaSpec(max_replicas=20, metric_type="Pods", target=10.0), tr, **kw)
    assert (legacy.replicas[0, :375] == 9).all() and (legacy.replicas[0, 375:] == 3).all()
    behavior = HpaSpec(
        max_replicas=20,
        metric_type="Pods",
        target=10.0,
        scale_down=ScalingRules.default_scale_down(),
    )
    with_behavior = fluid(behavior, tr, **kw)
    assert (with_behavior.replicas[0, :360] == 9).all()
    assert (with_behavior.replicas[0, 360:] == 3).all()


def test_theory_is_sweepable():
    tr = Trace.step(30.0, 90.0, at_s=30, duration_s=120)
    table = k8smodel.sweep(
        lambda target, rng: fluid(
            HpaSpec(max_replicas=20, metric_type="Pods", target=target),
            tr,
            capacity_per_s=15.0,
            initial_replicas=3,
            rng=rng,
        ),
        {"target": [10.0, 15.0]},
        rng=1,
        progress=False,
    )
    assert table["final_replicas"].tolist() == [9, 6]
    kt = k8smodel.sweep(
        keepalive, {"rate_per_s": [0.1], "keep_alive_s": [10.0]}, rng=1, progress=False
    )
    assert kt["fraction_cold"].iloc[0] == pytest.approx(1 / (0.1 * 1.0 + math.exp(1.0)))


def test_slow_start_beyond_the_cpu_initialization_period_is_noted():
    import scipy.stats as st

    tr = Trace.step(30.0, 90.0, at_s=30, duration_s=90)
    res = simulate(
        HpaSpec(max_replicas=20),
        tr,
        capacity_per_s=10.0,
        startup_s=st.expon(scale=200),
        initial_replicas=5,
        replications=2,
        rng=1,
    )
    assert any(n.startswith("startup_beyond_cpu_init") for n in res.notes)
    quick = simulate(
        HpaSpec(max_replicas=20),
        tr,
        capacity_per_s=10.0,
        startup_s=20.0,
        initial_replicas=5,
        replications=2,
        rng=1,
    )
    assert not any(n.startswith("startup_beyond_cpu_init") for n in quick.notes)

"""The autoscale x rollout study: pod start-up drawn from a PodTiming."""

import scipy.stats as st

from k8smodel import autoscale, rollout
from k8smodel.studies.autoscale_startup import simulate_with_pod_timing, startup_law


def test_deterministic_timing_is_a_number():
    # schedule 1 s + start 2 s, no warm-up: the probe passes at its first check (delay 0)
    assert startup_law(rollout.PodTiming(schedule=1, start=2, warmup=0), rng=1) == 3.0


def test_random_timing_becomes_a_law_with_the_right_mean():
    timing = rollout.PodTiming(schedule=0.5, attach=st.expon(scale=10), start=2, warmup=0)
    law = startup_law(timing, samples=50_000, rng=2)
    # the mean of schedule + attach + start is 12.5 s; the histogram keeps it to about
    # one bin width over two plus the sampling error (sd 10 / sqrt(50 000) = 0.045 s)
    width = (law.support()[1] - law.support()[0]) / 200
    assert abs(law.mean() - 12.5) < width / 2 + 4 * 0.045


def test_simulation_runs_with_pod_timing():
    tr = autoscale.Trace.step(30.0, 90.0, at_s=30, duration_s=180)
    spec = autoscale.HpaSpec(max_replicas=30, metric_type="Pods", target=14.0)
    res = simulate_with_pod_timing(
        spec,
        tr,
        rollout.PodTiming(schedule=1, start=st.uniform(2, 4), warmup=0),
        capacity_per_s=20.0,
        initial_replicas=3,
        replications=3,
        rng=1,
    )
    assert res.summary["final_replicas"].iloc[0] >= 7

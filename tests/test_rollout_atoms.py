"""Point masses carried exactly by the theory (issue 12, item 2.2), against hand-computed laws."""

import math

import numpy as np
import pytest
import scipy.stats as st

from k8smodel import rollout

# the app exits after U(20, 40) s but is killed at the 30 s grace period: T = min(U, 30) has
# density 1/20 on [20, 30) and an atom of 1/2 at 30
KILLED = rollout.PodTiming(termination=st.uniform(20, 20), termination_grace_s=30)
GRID_ERROR = 1e-3  # a cell of 0.01 s holds at most 0.05/s x 0.01 s of continuous mass


def test_one_pod_killed_at_the_grace_period():
    law = rollout.completion_time(rollout.StatefulSet(replicas=1), "scale_down", KILLED)
    assert law.sf(30.0) < GRID_ERROR  # truth 0 (the smeared grid gave 0.25)
    assert law.cdf(25.0) == pytest.approx(0.25, abs=GRID_ERROR)  # (25 - 20) / 20
    assert law.cdf(30.0) - law.cdf(29.99) == pytest.approx(0.5, abs=GRID_ERROR)  # the atom
    assert law.ppf(0.5) == pytest.approx(30.0, abs=0.01)
    assert law.ppf(0.75) == 30.0


def test_two_pods_one_after_the_other():
    # OrderedReady scale-down of 2: the sum of two such T. P(sum > 60) = 0; P(sum = 60) = 1/4;
    # P(sum <= 50) = P(both < 30) P(U1 + U2 <= 10 | U_i ~ U(0, 10)) = 1/4 x 1/2 = 1/8
    law = rollout.completion_time(
        rollout.StatefulSet(replicas=2), "scale_down", KILLED, deadline_s=60
    )
    assert law.summary.p_miss_deadline[0] < GRID_ERROR  # the smeared grid gave 0.125
    assert law.cdf(50.0) == pytest.approx(0.125, abs=GRID_ERROR)
    assert law.cdf(60.0) - law.cdf(59.99) == pytest.approx(0.25, abs=GRID_ERROR)
    sim = rollout.simulate(
        rollout.StatefulSet(replicas=2), "scale_down", KILLED, replications=40_000, rng=2
    ).samples
    assert (sim > 60).mean() == 0.0
    assert abs((sim <= 50).mean() - 0.125) < 5 * math.sqrt(0.125 * 0.875 / sim.size)


def test_crash_loop_ready_times_sit_on_the_probe_grid():
    # warm-up U(0, 1), probes every 10 s from container start, a start crashes with p = 1/2
    # and is restarted after 10 s of back-off. No crash: Ready exactly at 10 s (prob 1/2).
    # One crash: the restart begins at W1 + 10, Ready at W1 + 20 in (20, 21). So
    # P(Ready <= 9.99) = 0, P(Ready <= 10) = P(Ready <= 20) = 1/2 (the grid gave 0.72 vs 0.84
    # in the audit's case).
    timing = rollout.PodTiming(warmup=st.uniform(0, 1), failure_p=0.5)
    law = rollout.completion_time(rollout.StatefulSet(replicas=1), "scale_up", timing)
    np.testing.assert_allclose(law.cdf([9.99, 10.0, 20.0]), [0.0, 0.5, 0.5], atol=2e-3)
    # (20, 21): the second half of the one-crash case, uniform: 1/2 + 1/4 x 1/2 at 20.5
    assert law.cdf(20.5) == pytest.approx(0.625, abs=2e-3)
    sim = rollout.simulate(
        rollout.StatefulSet(replicas=1), "scale_up", timing, replications=40_000, rng=3
    ).samples
    for t, p in ((10.0, 0.5), (20.5, 0.625)):
        assert abs((sim <= t).mean() - p) < 5 * math.sqrt(p * (1 - p) / sim.size)

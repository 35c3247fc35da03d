import itertools

import numpy as np
import pytest
from scipy.stats import multinomial

from k8smodel import lb


def test_counts_shape_and_total():
    counts = lb.place_random(37, 5, replications=11, rng=1)
    assert counts.shape == (11, 5)
    assert (counts.sum(axis=1) == 37).all()


def test_idle_pods_closed_form_small_case():
    # 2 connections on 2 pods: both on one pod with probability 1/2 -> one idle pod -> E = 0.5
    assert lb.expected_idle_pods(2, 2) == pytest.approx(0.5)
    assert lb.expected_idle_pods(0, 4) == 4


def test_idle_pods_simulation_matches_exact_expectation():
    n, big_n, reps = 8, 8, 40_000
    counts = lb.place_random(big_n, n, replications=reps, rng=3)
    idle = (counts == 0).sum(axis=1)
    se = idle.std(ddof=1) / np.sqrt(reps)
    assert abs(idle.mean() - lb.expected_idle_pods(big_n, n)) < 4 * se


def _exact_expected_jain(connections, pods):
    """E[J] by enumerating every multinomial outcome (independent of the code under test)."""
    outcomes = [
        c for c in itertools.product(range(connections + 1), repeat=pods) if sum(c) == connections
    ]
    pmf = multinomial(connections, [1 / pods] * pods).pmf(outcomes)
    jains = [connections**2 / (pods * sum(x * x for x in c)) for c in outcomes]
    return float(np.dot(pmf, jains))


def test_jain_two_on_two_by_hand():
    # N=2 on n=2: J=1 w.p. 1/2 (1+1), J=1/2 w.p. 1/2 (2+0) -> E[J]=0.75; first order gives 2/3
    assert _exact_expected_jain(2, 2) == pytest.approx(0.75)
    assert lb.approx_expected_jain(2, 2) == pytest.approx(2 / 3)


@pytest.mark.parametrize(("connections", "pods"), [(2, 2), (6, 3), (10, 4)])
def test_simulated_jain_matches_exact_and_approx_is_lower_bound(connections, pods):
    exact = _exact_expected_jain(connections, pods)
    summary = lb.random_connections_summary(connections, pods, replications=40_000, rng=4)
    assert abs(summary["jain_mean"] - exact) < 4 * summary["jain_se"]
    assert lb.approx_expected_jain(connections, pods) <= exact


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"connections": -1, "pods": 2}, "connections"),
        ({"connections": 3, "pods": 0}, "pods"),
        ({"connections": 3, "pods": 2, "replications": 0}, "replications"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        lb.place_random(**kwargs)

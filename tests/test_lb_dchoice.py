import itertools

import numpy as np
import pytest

from k8smodel import lb


def _exact_max_load_d_choice(connections, pods, d):
    """E[max load] by enumerating every sequence of draws (first drawn wins ties)."""
    total = 0.0
    draws = list(itertools.product(range(pods), repeat=d))
    for seq in itertools.product(draws, repeat=connections):
        loads = [0] * pods
        for cand in seq:
            best = cand[0]
            for c in cand[1:]:
                if loads[c] < loads[best]:
                    best = c
            loads[best] += 1
        total += max(loads)
    return total / len(draws) ** connections


def test_d_choice_counts_shape_and_total():
    loads = lb.place_d_choice(50, 7, choices=3, replications=4, rng=1)
    assert loads.shape == (4, 7)
    assert (loads.sum(axis=1) == 50).all()


@pytest.mark.parametrize(("connections", "pods", "d"), [(3, 3, 2), (4, 3, 2), (3, 2, 3)])
def test_d_choice_max_load_matches_enumeration(connections, pods, d):
    exact = _exact_max_load_d_choice(connections, pods, d)
    reps = 40_000
    loads = lb.place_d_choice(connections, pods, choices=d, replications=reps, rng=2)
    mx = loads.max(axis=1)
    se = mx.std(ddof=1) / np.sqrt(reps)
    assert abs(mx.mean() - exact) < 4 * se


def test_two_choices_beat_one():
    one = lb.place_d_choice(2000, 2000, choices=1, replications=10, rng=3).max(axis=1)
    two = lb.place_d_choice(2000, 2000, choices=2, replications=10, rng=3).max(axis=1)
    assert two.max() < one.min()
    # Azar et al.: ln ln n / ln 2 + O(1); the simulated maximum stays within a small constant
    assert abs(two.mean() - lb.max_load_order(2000, 2)) < 2


def test_max_load_order_values():
    n = 1000
    assert lb.max_load_order(n, 1) == pytest.approx(np.log(n) / np.log(np.log(n)))
    assert lb.max_load_order(n, 2) == pytest.approx(np.log(np.log(n)) / np.log(2))
    with pytest.raises(ValueError, match="pods"):
        lb.max_load_order(2)

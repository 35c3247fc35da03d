import itertools
import math

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


# --- 1. power_of_two: a pod forced past its capacity by its own draws --------------------------


def test_one_draw_with_skewed_draw_weights_overloads_a_pod():
    # d = 1 with draw probabilities p: pod i is offered exactly Lambda * p_i. With
    # p_0 = 0.4, 4 unit pods at utilization 0.9: Lambda = 3.6, pod 0 gets 1.44 >= 1.
    kw = {"pods": 4, "choices": 1, "draw_weights": [0.4, 0.2, 0.2, 0.2], "requests": 2_000,
          "replications": 2, "rng": 1}  # fmt: skip
    row = lb.simulate("power_of_two", utilization=0.9, **kw).summary.iloc[0]
    assert not row.stable and math.isinf(row.mean_response_s)
    th = lb.theory("power_of_two", pods=4, choices=1, draw_weights=[0.4, 0.2, 0.2, 0.2],
                   utilization=0.9).summary.iloc[0]  # fmt: skip
    assert not th.stable and math.isinf(th.mean_response_s)
    # at 0.6: Lambda p_0 = 2.4 * 0.4 = 0.96 < 1, stable
    row = lb.simulate("power_of_two", utilization=0.6, **kw).summary.iloc[0]
    assert row.stable and math.isfinite(row.mean_response_s)


def test_two_draws_with_replacement_overload_a_very_slow_pod():
    # speeds [1, 0.05] at 0.9: Lambda = 0.945; pod 1 is drawn twice with probability 1/4,
    # so it gets at least 0.236 > its capacity 0.05, whatever the counts say.
    row = lb.simulate("envoy-least-request", pods=2, speeds=[1, 0.05], utilization=0.9,
                      requests=2_000, replications=2, rng=2).summary.iloc[0]  # fmt: skip
    assert not row.stable and math.isinf(row.mean_response_s)
    th = lb.theory("power_of_two", pods=2, speeds=[1, 0.05], utilization=0.9).summary.iloc[0]
    assert not th.stable
    # distinct draws (nginx random two) never send a request to a pod without comparing
    row = lb.simulate("nginx-random-two", pods=2, speeds=[1, 0.05], utilization=0.9,
                      requests=2_000, replications=2, rng=2).summary.iloc[0]  # fmt: skip
    assert row.stable


def test_theory_has_no_mean_field_for_unequal_weights():
    row = lb.theory("power_of_two", pods=4, weights=[2, 1, 1, 1], utilization=0.5).summary.iloc[0]
    assert math.isnan(row.mean_response_s) and row.stable


# --- 11. draw probabilities apart from the weights (HAProxy random(d) on its ring) --------------


def test_draw_weights_set_who_is_drawn_and_counts_stay_unweighted():
    # At a negligible load every candidate is idle: a tie, so the first draw is served and
    # pod 0's share is its draw probability 3/4 (a Bernoulli mean with SE sqrt(pq/N)).
    n = 20_000
    res = lb.simulate("haproxy-random", pods=2, draw_weights=[3, 1], utilization=1e-7,
                      requests=n, replications=2, warmup=0.0, rng=8)  # fmt: skip
    share0 = res.per_pod[res.per_pod.pod == 0].share.to_numpy()
    se = math.sqrt(0.75 * 0.25 / n)
    assert (np.abs(share0 - 0.75) < 4 * se).all()
    # Under load the comparison of counts is unweighted: pod 1, drawn less often, still gets
    # more than its 1/4 draw share (it wins whenever it is drawn and less busy), and below 1/2.
    res = lb.simulate("haproxy-random", pods=2, draw_weights=[3, 1], utilization=0.7,
                      requests=20_000, replications=2, rng=9)  # fmt: skip
    share1 = res.per_pod[res.per_pod.pod == 1].share.to_numpy()
    assert (share1 > 0.25 + 4 * math.sqrt(0.25 * 0.75 / 18_000)).all() and (share1 < 0.5).all()


def test_theory_knows_nginx_random_two_draws_distinct_pods():
    # two distinct draws always compare two pods, so no pod is forced past its capacity
    row = lb.theory("nginx-random-two", pods=2, speeds=[1, 0.05], utilization=0.9).summary.iloc[0]
    assert row.stable
    df = lb.compare(["haproxy-random"], pods=4, utilization=0.9, requests=2_000, replications=2,
                    choices=1, draw_weights=[0.4, 0.2, 0.2, 0.2], rng=12).summary  # fmt: skip
    assert not df.stable[0] and math.isinf(df.theory_mean_response_s[0])

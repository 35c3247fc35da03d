"""Placement: MILP p-median equals brute force; vectorized scoring equals a plain loop."""

import itertools

import numpy as np
import pandas as pd
import pytest

from k8smodel import federation as fed


def loop_score(d, w, subset):
    # Plain Python, independent of the vectorized code.
    total = 0.0
    for i in range(d.shape[0]):
        total += w[i] * min(d[i][j] for j in subset)
    return total / sum(w)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_milp_equals_brute_force(seed, k):
    rng = np.random.default_rng(seed)
    d = rng.uniform(5, 300, size=(25, 7))
    w = rng.uniform(0, 3, size=25)
    best = min((loop_score(d, w, s), s) for s in itertools.combinations(range(7), k))
    idx, val = fed.p_median_milp(d, w, k)
    assert val == pytest.approx(best[0], rel=1e-9)
    assert loop_score(d, w, idx) == pytest.approx(best[0], rel=1e-9)
    g_idx, g_val = fed.greedy_placement(d, w, k)
    assert g_val >= best[0] - 1e-9


@pytest.mark.parametrize("block_elements", [500, 4_000_000])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_all_placements_equals_loop(block_elements, k):
    rng = np.random.default_rng(5)
    d = rng.uniform(5, 300, size=(40, 9))
    w = rng.integers(1, 10, size=40)
    subsets, vals = fed.all_placements(d, w, k, block_elements=block_elements)
    assert [tuple(s) for s in subsets] == list(itertools.combinations(range(9), k))
    for s, v in zip(subsets, vals, strict=True):
        assert v == pytest.approx(loop_score(d, w, s), rel=1e-12)


def test_place_with_real_regions():
    users = fed.users(top=20)
    cands = [
        "us-east-1",
        "eu-west-1",
        "ap-southeast-1",
        "ap-northeast-1",
        "sa-east-1",
        "ap-south-1",
    ]
    opt = fed.place(k=2, candidates=cands, users=users, method="optimal")
    brute = fed.place(k=2, candidates=cands, users=users, method="brute")
    assert sorted(opt.regions) == sorted(brute.regions)
    assert opt.mean_rtt_ms == pytest.approx(brute.mean_rtt_ms)
    assert opt.summary.method.iloc[0].startswith("p_median") and opt.summary.exact.iloc[0]


def test_k_larger_than_candidates():
    with pytest.raises(ValueError, match="k must be <= the number of candidates"):
        fed.place(k=4, candidates=["us-east-1", "eu-west-1"], users=fed.users(top=3))


def loop_quantile(d, w, subset, level):
    # Plain Python inverted-CDF weighted quantile of each user's nearest RTT (Hyndman-Fan 1).
    pairs = sorted((min(d[i][j] for j in subset), w[i]) for i in range(len(w)) if w[i] > 0)
    total, acc = sum(x for _, x in pairs), 0.0
    for value, weight in pairs:
        acc += weight
        if acc >= level * total * (1 - 1e-12):
            return value
    return pairs[-1][0]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("objective", ["p95", "p99", "max"])
def test_quantile_objectives_equal_brute_force(seed, k, objective):
    rng = np.random.default_rng(seed)
    d = np.round(rng.uniform(5, 300, size=(30, 8)))  # rounded: many exact ties
    w = rng.integers(0, 5, size=30).astype(float)
    w[0] = 1.0
    level = fed.OBJECTIVES[objective]
    best = min(loop_quantile(d, w, s, level) for s in itertools.combinations(range(8), k))
    idx, val = fed.quantile_placement_milp(d, w, k, level=level)
    assert val == best and loop_quantile(d, w, idx, level) == best
    b_idx, b_val = fed.brute_force_placement(d, w, k, objective=objective)
    assert b_val == best


def test_p95_placement_beats_the_mean_placement_for_europe_and_us():
    # Issue 12 item 7: best 3 GCP regions for Europe + US users (the audit counted Turkey's
    # Istanbul and Ankara as Europe): the p95-optimal set reaches 35.0 ms at p95 where the
    # mean-optimal set reaches 40.1 ms. Both are checked against brute force over all
    # C(39, 3) = 9139 subsets.
    users = fed.users(continent="Europe", country=["United States of America", "Turkey"])
    gcp = fed.regions("gcp")
    by_mean = fed.place(k=3, candidates=gcp, users=users)
    by_p95 = fed.place(k=3, candidates=gcp, users=users, objective="p95")
    assert by_mean.summary.p95_rtt_ms.iloc[0] == pytest.approx(40.1, abs=0.05)
    assert by_p95.summary.p95_rtt_ms.iloc[0] == pytest.approx(35.0, abs=0.05)
    assert by_p95.summary.method.iloc[0] == "coverage_bisection_milp"
    d, w = by_p95.latency_ms, users.weight.to_numpy()
    _, brute = fed.brute_force_placement(d, w, 3, objective="p95")
    assert by_p95.summary.p95_rtt_ms.iloc[0] == pytest.approx(brute, abs=1e-9)
    _, brute_max = fed.brute_force_placement(d, w, 3, objective="max")
    by_max = fed.place(k=3, candidates=gcp, users=users, objective="max")
    assert by_max.summary.max_rtt_ms.iloc[0] == pytest.approx(brute_max, abs=1e-9)


def test_users_filter_by_continent_subregion_country():
    # UN M49: Paris is in Western Europe, London in Northern Europe; the union of filters.
    west = fed.users(subregion="Western Europe")
    assert list(west.name) == ["Paris"]
    mix = fed.users(subregion="Western Europe", country="United Kingdom")
    assert sorted(mix.name) == ["London", "Paris"]
    assert set(fed.users(continent="Oceania").country) == {"Australia"}
    with pytest.raises(ValueError, match="continent must be among"):
        fed.users(continent="Atlantis")


def test_greedy_is_mean_only():
    with pytest.raises(ValueError, match="greedy"):
        fed.place(
            k=1, candidates=["us-east-1"], users=fed.users(top=3), objective="p95", method="greedy"
        )


def test_oversized_enumeration_is_refused_before_allocating():
    # C(100, 6) = 1.19e9 subsets x 6 x 8 bytes is about 53 GiB.
    with pytest.raises(ValueError, match="GiB"):
        fed.all_placements(np.ones((2, 100)), [1, 1], 6)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_optimal_placement_equals_brute_force(seed, k):
    # place(method="optimal") proves the mean objective by Lagrangian bounds, falling back to
    # enumeration or the MILP; compared with a plain loop over every subset.
    rng = np.random.default_rng(100 + seed)
    d = rng.uniform(5, 300, size=(60, 10))
    w = rng.uniform(0, 3, size=60)
    users = pd.DataFrame({"lat": np.zeros(60), "lon": np.zeros(60), "weight": w})
    best = min(loop_score(d, w, s) for s in itertools.combinations(range(10), k))
    got = fed.place(k=k, candidates=[f"c{i}" for i in range(10)], users=users, latency_ms=d)
    assert got.mean_rtt_ms == pytest.approx(best, rel=1e-6)
    assert got.summary.method.iloc[0].startswith("p_median_lagrangian")


@pytest.mark.parametrize("seed", range(3))
def test_lagrangian_bounds_bracket_the_optimum(seed):
    rng = np.random.default_rng(seed)
    d = rng.uniform(5, 300, size=(40, 9))
    w = rng.uniform(0.1, 3, size=40)
    best = min(loop_score(d, w, s) for s in itertools.combinations(range(9), 3))
    idx, upper, lower, _ = fed.p_median_lagrangian(d, w, 3)
    assert lower <= best * (1 + 1e-9) and upper == pytest.approx(loop_score(d, w, idx))
    assert upper >= best * (1 - 1e-12)


def test_fallbacks_after_lagrangian_fixing_are_exact(monkeypatch):
    # Instances whose Lagrangian gap stays open go to enumeration, or (forced here) the MILP.
    from k8smodel.federation import solvers

    monkeypatch.setattr(solvers, "_BRUTE_ELEMENTS", 0)
    methods = set()
    for seed in range(8):
        rng = np.random.default_rng(200 + seed)
        d = rng.uniform(5, 300, size=(50, 9))
        w = rng.uniform(0, 3, size=50)
        best = min(loop_score(d, w, s) for s in itertools.combinations(range(9), 3))
        idx, val, how = solvers._p_median_exact(d, w / w.sum(), 3)
        methods.add(how)
        assert val == pytest.approx(best, rel=1e-6)
    assert "p_median_lagrangian+milp" in methods

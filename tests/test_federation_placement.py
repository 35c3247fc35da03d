"""Placement: MILP p-median equals brute force; vectorized scoring equals a plain loop."""

import itertools

import numpy as np
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


@pytest.mark.parametrize("method", ["prefix", "gather"])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_all_placements_equals_loop(method, k):
    rng = np.random.default_rng(5)
    d = rng.uniform(5, 300, size=(40, 9))
    w = rng.integers(1, 10, size=40)
    subsets, vals = fed.all_placements(d, w, k, method=method, chunk_elements=500)
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


def test_k_larger_than_candidates():
    with pytest.raises(ValueError, match="k must be <= the number of candidates"):
        fed.place(k=4, candidates=["us-east-1", "eu-west-1"], users=fed.users(top=3))

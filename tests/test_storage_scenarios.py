"""Scenario helpers: shapes, invariants and sweep compatibility."""

import numpy as np
import pytest

import k8smodel
from k8smodel import storage
from k8smodel.storage import scenarios

GIB = 2**30


def test_claim_sizes_follow_the_mix():
    s = scenarios.claim_sizes(20_000, decimal_fraction=0.0, rng=1)
    gib = s // GIB
    probs = np.array(list(scenarios.CLAIM_MIX_GIB.values()))
    for size, p in scenarios.CLAIM_MIX_GIB.items():
        freq = np.mean(gib == size)
        se = np.sqrt(p * (1 - p) / s.size)
        assert abs(freq - p / probs.sum()) < 5 * se
    dec = scenarios.claim_sizes(1000, decimal_fraction=1.0, rng=1)
    assert np.all(dec % 10**9 == 0)


def test_static_pool_maps_to_smallest_tier():
    req = np.array([1, 10, 11, 100, 600]) * GIB
    pool = scenarios.static_pool(req, (10, 100, 500), overprovision=1.0)
    # 1,10 -> 10 ; 11,100 -> 100 ; 600 -> top tier 500 (counted there)
    assert sorted((pool // GIB).tolist()) == [10, 10, 100, 100, 500]
    assert scenarios.static_pool(req, (10, 100, 500), overprovision=2.0).size == 10


def test_pool_simulation_is_consistent_and_sweepable():
    df = k8smodel.sweep(
        storage.simulate,
        {"n_claims": 120, "pool": ["fine tiers", "one size (100Gi)"], "overprovision": [1.5]},
        replications=2,
        rng=3,
        progress=False,
    )
    assert len(df) == 4
    assert np.allclose(df.bound_fraction + df.pending_fraction, 1.0)
    assert (df.wasted_fraction.between(0, 1)).all()
    # smallest-first binds at least as many claims as arrival order (same pool, same claims)
    assert (df.min_pending_fraction <= df.pending_fraction + 1e-12).all()
    # a single 100Gi size wastes more than fine tiers on the same streams
    m = df.groupby("pool").wasted_fraction.mean()
    assert m["one size (100Gi)"] > m["fine tiers"]
    assert set(df.method) == {"pv_controller_monte_carlo"} and not df.exact.any()
    with pytest.raises(ValueError, match="pool"):
        storage.simulate(n_claims=5, pool="nope")


def test_nodes_needed_orders():
    rng = np.random.default_rng(4)
    units = rng.integers(1, 20, 40)
    r = storage.nodes_needed(
        units, storage.Node(capacity_bytes=50, attach_limit=6), time_limit_s=10
    )
    n = r.summary.set_index("method").n_bins
    assert n["lower_bound"] <= n["optimal"] <= min(n["nf"], n["ffd"], n["bfd"], n["wfd"])
    assert n["count_bound"] == 7 and n["l1"] <= n["lower_bound"]


def test_scenario_bad_input_is_named():
    with pytest.raises(ValueError, match="tiers_gib must be a non-empty"):
        scenarios.static_pool(np.array([2**30]), ())
    with pytest.raises(ValueError, match="n_claims must be a whole number >= 1; got 0"):
        storage.simulate(n_claims=0, rng=1)
    with pytest.raises(TypeError, match="n_claims must be a whole number"):
        storage.simulate(n_claims=1e3, rng=1)
    with pytest.raises(ValueError, match="capacity_bytes must be a whole number >= 1"):
        storage.Node(capacity_bytes=0)
    with pytest.raises(ValueError, match="overprovision must be a finite number >= 0"):
        storage.StaticPool(tiers_bytes=(2**30,), overprovision=-1.0)

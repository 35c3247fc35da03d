"""k-of-n availability (binomial, beta-binomial, shocks), bad changes, failover, headroom."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import k8smodel
from k8smodel import federation as fed


def binomial_at_least(n, k, p):
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))


def beta_binomial_at_least(n, k, p, rho):
    # Written out from the Beta-binomial pmf C(n,i) B(i+a, n-i+b) / B(a, b), with lgamma.
    a, b = p * (1 - rho) / rho, (1 - p) * (1 - rho) / rho

    def log_beta(x, y):
        return math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)

    return sum(
        math.comb(n, i) * math.exp(log_beta(i + a, n - i + b) - log_beta(a, b))
        for i in range(k, n + 1)
    )


@settings(deadline=None)
@given(st.integers(1, 12), st.data(), st.floats(0, 1))
def test_zero_correlation_is_binomial(n, data, p):
    k = data.draw(st.integers(1, n))
    got = fed.availability(clusters=n, needed=k, cluster_availability=p, correlation=0)
    assert got.summary.method.iloc[0] in ("binomial",)
    assert got.value("availability") == pytest.approx(binomial_at_least(n, k, p), abs=1e-12)


@settings(deadline=None)
@given(st.integers(1, 12), st.data(), st.floats(0.5, 0.9999), st.floats(0.001, 0.9))
def test_positive_correlation_is_beta_binomial(n, data, p, rho):
    k = data.draw(st.integers(1, n))
    got = fed.availability(clusters=n, needed=k, cluster_availability=p, correlation=rho)
    ref = beta_binomial_at_least(n, k, p, rho)
    assert got.value("availability") == pytest.approx(ref, rel=1e-6, abs=1e-12)


def test_correlation_caps_the_gain_of_more_clusters():
    def down(n, rho):
        r = fed.availability(clusters=n, cluster_availability=0.99, correlation=rho)
        return r.value("p_all_down")

    # Independent: each doubling squares the outage probability: 1e-4, 1e-8, 1e-16.
    assert down(8, 0) == pytest.approx(1e-16, rel=1e-9)
    # Correlated (rho = 0.05): P(all down) = B(a, n + b) / B(a, b), a = 18.81, b = 0.19.
    a, b = 0.99 * 19, 0.01 * 19
    log_ref = math.lgamma(8 + b) - math.lgamma(a + 8 + b) - math.lgamma(b) + math.lgamma(a + b)
    assert down(8, 0.05) == pytest.approx(math.exp(log_ref), rel=1e-6)
    # Doubling 4 -> 8 clusters divides it by a few hundred, not by 10^8.
    assert down(8, 0.05) / down(4, 0.05) > 1e-3
    # Full correlation: the federation is as available as one cluster.
    full = fed.availability(clusters=5, cluster_availability=0.99, correlation=1)
    assert full.value("availability") == 0.99 and full.value("method") == "common_mode"


def test_beta_binomial_pairwise_correlation_by_simulation():
    rng = np.random.default_rng(7)
    a, b = fed.beta_binomial_parameters(0.9, 0.2)
    p = rng.beta(a, b, 200_000)
    x = rng.random((200_000, 2)) < p[:, None]
    r = np.corrcoef(x[:, 0], x[:, 1])[0, 1]
    assert r == pytest.approx(0.2, abs=4 / np.sqrt(200_000))


def test_simulation_face_agrees_with_exact():
    kw = {"clusters": 4, "needed": 3, "cluster_availability": 0.95, "correlation": 0.1}
    sim = fed.simulate_availability(**kw, replications=200_000, rng=3).summary.iloc[0]
    exact = fed.availability(**kw).value("availability")
    assert abs(sim.availability - exact) < 4 * sim.availability_se
    assert not sim.exact and sim.method == "simulation"


def test_sweep_runs_availability_and_its_simulation():
    grid = {"clusters": [1, 2, 3], "cluster_availability": 0.99, "correlation": [0.0, 0.1]}
    res = k8smodel.sweep(fed.availability, grid, rng=1, progress=False)
    assert len(res) == 6 and (res.availability <= 1).all()
    assert set(res.method) == {"binomial", "beta_binomial"}
    sim = k8smodel.sweep(
        fed.simulate_availability, {**grid, "replications": 1000}, rng=1, progress=False
    )
    assert len(sim) == 6 and (sim.availability_se >= 0).all()


def test_global_shock_closed_form():
    # One shock (probability s) kills everything; otherwise independent clusters.
    a, s, n = 0.99, 0.001, 3
    got = fed.availability(cluster_availability=[a] * n, shocks=[(range(n), s)])
    assert got.value("availability") == pytest.approx((1 - s) * (1 - (1 - a) ** n))
    assert got.value("method") == "shocks"


def test_shocks_exact_vs_monte_carlo():
    avail = [0.98, 0.97, 0.99, 0.95]
    shocks = [([0, 1], 0.02), ([2, 3], 0.03), ([0, 1, 2, 3], 0.005)]
    exact = fed.availability(cluster_availability=avail, needed=2, shocks=shocks)
    sim = fed.simulate_availability(avail, needed=2, shocks=shocks, replications=400_000, rng=11)
    diff = sim.value("availability") - exact.value("availability")
    assert abs(diff) < 4 * sim.value("availability_se")


def test_sre_canary_example():
    # Google SRE: a 5 % canary with a 20 % error rate affects 1 % of traffic.
    share = [0.05] + [0.95 / 19] * 19
    out = fed.bad_change_impact(share, waves=[1, 19], detection_probability=1.0, error_rate=0.2)
    assert out.value("traffic_affected") == pytest.approx(0.01)
    assert out.value("p_all_clusters_hit") == 0.0


def test_pushed_everywhere_hits_everything():
    out = fed.bad_change_impact([0.25] * 4, detection_probability=0.9)
    assert out.value("p_all_clusters_hit") == 1.0 and out.value("traffic_affected") == 1.0


@settings(deadline=None)
@given(st.floats(0, 1), st.integers(1, 6))
def test_staging_never_worse(d, n):
    share = [1 / n] * n
    everywhere = fed.bad_change_impact(share, detection_probability=d)
    staged = fed.bad_change_impact(share, waves=[1] * n, detection_probability=d)
    hit = "traffic_affected"
    assert staged.value(hit) <= everywhere.value(hit) + 1e-12
    assert staged.value("p_all_clusters_hit") == pytest.approx((1 - d) ** (n - 1))


def test_failover_time_defaults_and_presets():
    out = fed.failover_time(probe_interval_s=30, failure_threshold=3, ttl_s=30, client_cache_s=30)
    assert out.value("total_worst_s") == 150 and out.value("total_mean_s") == 105
    tm = fed.FAILOVER_PRESETS["azure-traffic-manager"]
    assert fed.failover_time(**tm, client_cache_s=0).value("total_worst_s") == 30 * 4 + 30
    assert fed.DnsFailover.preset("azure-traffic-manager").failure_threshold == 4


@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_headroom_equal_round_robin(n):
    lat = np.ones((4, n))
    scen = fed.failure_scenarios(n, 1)
    shares = fed.route(lat, routing="round_robin", healthy=scen)
    traffic = shares.mean(axis=1)
    room = fed.headroom(traffic)
    assert room.value("capacity_multiplier") == pytest.approx(n / (n - 1))
    assert np.allclose(room.per_cluster.headroom_fraction, 1 / (n - 1))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"clusters": 3, "needed": 4, "cluster_availability": 0.9}, "needed must be .* <= 3"),
        ({"clusters": 3, "cluster_availability": 1.2}, "cluster_availability must be .* <= 1"),
        (
            {"clusters": 3, "cluster_availability": 0.9, "correlation": -0.1},
            "correlation must be .* >= 0",
        ),
        (
            {"clusters": 3, "cluster_availability": 0.9, "correlation": 1.5},
            "correlation must be .* <= 1",
        ),
        ({"clusters": 0, "cluster_availability": 0.9}, "clusters must be"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fed.availability(**kwargs)


def test_failover_samples_match_the_closed_form():
    kw = {"probe_interval_s": 10.0, "failure_threshold": 3, "ttl_s": 30.0, "client_cache_s": 30.0}
    sim = fed.simulate_failover(**kw, replications=100_000, rng=5)
    x, exact = sim.samples, fed.failover_time(**kw)
    assert abs(sim.value("total_mean_s") - exact.value("total_mean_s")) < 4 * sim.value(
        "total_mean_s_se"
    )
    assert x.max() <= exact.value("total_worst_s") and x.min() >= 20.0


@settings(deadline=None)
@given(st.integers(1, 10), st.data(), st.floats(0.5, 0.999), st.sampled_from([0.0, 0.01, 0.2]))
def test_unavailability_is_the_complement(n, data, p, rho):
    k = data.draw(st.integers(1, n))
    kw = {"clusters": n, "needed": k, "cluster_availability": p, "correlation": rho}
    r = fed.availability(**kw)
    assert r.value("unavailability") == pytest.approx(1 - r.value("availability"), abs=1e-12)


def test_unavailability_keeps_tiny_values():
    r = fed.availability(clusters=8, cluster_availability=0.9995, correlation=0)
    assert r.value("unavailability") == pytest.approx(0.0005**8)


def brute_force_down(avail, needed, shocks):
    # Every joint state of own failures and shocks, by itertools.product: P(fewer than needed up).
    n, total = len(avail), 0.0
    for own in itertools.product((0, 1), repeat=n):
        p_own = math.prod(a if u else 1 - a for a, u in zip(avail, own, strict=True))
        for hits in itertools.product((0, 1), repeat=len(shocks)):
            p = p_own * math.prod(s if h else 1 - s for (_, s), h in zip(shocks, hits, strict=True))
            dead = {i for (members, _), h in zip(shocks, hits, strict=True) if h for i in members}
            if sum(u for i, u in enumerate(own) if i not in dead) < needed:
                total += p
    return total


@pytest.mark.parametrize("needed", [1, 2, 3])
def test_unavailability_with_shocks_brute_force(needed):
    avail = [0.9995, 0.999, 0.9999, 0.998]
    shocks = [([0, 1], 1e-7), ([2, 3], 1e-9), ([0, 1, 2, 3], 1e-12)]
    ref = brute_force_down(avail, needed, shocks)
    res = fed.availability(cluster_availability=avail, needed=needed, shocks=shocks)
    got = res.value("unavailability")
    assert got == pytest.approx(ref, rel=1e-9)
    assert res.value("availability") + got == pytest.approx(1.0, abs=1e-15)


def test_evaluate_unavailability_with_tiny_region_shocks():
    # Review finding: 5 clusters in 5 regions, a = 0.9995, region shock 1e-9 each. Each cluster is
    # then down independently with q = (1 - a) + a * s, so P(all down) = q**5 ~ 3.1e-17 (not the
    # 1.1e-16 that 1 - availability gives).
    a, s = 0.9995, 1e-9
    names = ["us-east-1", "eu-west-1", "ap-southeast-1", "ap-northeast-1", "sa-east-1"]
    ev = fed.evaluate(
        names, users=fed.users(top=5), cluster_availability=a, region_shock_probability=s
    )
    q = (1 - a) + a * s
    assert ev.summary.unavailability.iloc[0] == pytest.approx(q**5, rel=1e-9)
    assert ev.summary.method.iloc[0] == "shocks"


@pytest.mark.parametrize("param", ["region", "provider", "global"])
@pytest.mark.parametrize("value", [-0.1, float("nan"), 1.5])
def test_evaluate_rejects_bad_shock_probabilities(param, value):
    with pytest.raises(ValueError, match=f"{param}_shock_probability must be a"):
        fed.evaluate(["us-east-1"], users=fed.users(top=3), **{f"{param}_shock_probability": value})

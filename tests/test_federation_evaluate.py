"""The evaluate() front door and cost terms."""

import numpy as np
import pandas as pd
import pytest

from k8smodel import federation as fed


def test_evaluate_summary_columns_and_consistency():
    ev = fed.evaluate(
        ["us-east-1", "eu-west-1", "ap-southeast-1"],
        users=fed.users(top=30),
        replication_gb=100,
        correlation=0,
    )
    s = ev.summary.iloc[0]
    assert s.p50_rtt_ms <= s.p95_rtt_ms <= s.p99_rtt_ms
    assert s.p95_rtt_ms_worst_failure >= s.p95_rtt_ms
    assert s.method == "binomial" and s.failure_model == "binomial(rho=0)"
    assert ev.per_cluster.traffic_share.sum() == pytest.approx(1)
    assert s.availability == pytest.approx(1 - 0.001**3)
    assert s.failover_worst_s == 150
    # Replication: each cluster sends its share of 100 GB to 2 others; all three are
    # US/EU-priced at $0.02 except ap-southeast-1 ($0.15 catch-all).
    share = ev.per_cluster.set_index("cluster").traffic_share
    expect = 100 * (share["us-east-1"] * 2 * 0.02 + share["eu-west-1"] * 2 * 0.02)
    expect += 100 * share["ap-southeast-1"] * 2 * 0.15
    assert s.replication_usd == pytest.approx(expect)


def test_transfer_prices():
    assert fed.transfer_price_usd_per_gb("us-east-1", "us-east-2") == 0.01
    assert fed.transfer_price_usd_per_gb("us-east-1", "eu-west-1") == 0.02
    assert fed.transfer_price_usd_per_gb("eu-west-1", "us-east-1") == 0.02
    assert fed.transfer_price_usd_per_gb("us-east-1") == 0.09
    assert fed.transfer_price_usd_per_gb("us-east-1", "us-east-1") == 0.0


def test_single_cluster_has_no_failover_capacity():
    ev = fed.evaluate(["us-east-1"], users=fed.users(top=5))
    assert np.isnan(ev.summary.p95_rtt_ms_worst_failure.iloc[0]) or ev.summary.k.iloc[0] == 1
    assert ev.summary.max_users_affected_per_failure.iloc[0] == 1.0


def test_users_affected_by_hand():
    # Three users by Washington, New York and London with weights 1, 2, 1, nearest routing:
    # us-east-1 carries 3/4 of the traffic, eu-west-1 1/4.
    users = pd.DataFrame(
        {"lat": [38.9, 40.7, 51.5], "lon": [-77.0, -74.0, -0.13], "weight": [1.0, 2.0, 1.0]}
    )
    ev = fed.evaluate(["us-east-1", "eu-west-1"], users=users)
    assert ev.summary.max_users_affected_per_failure.iloc[0] == pytest.approx(0.75)
    assert "users_affected_per_failure" not in ev.summary.columns
    # Losing us-east-1 sends all its users to eu-west-1: that cluster needs 4x its normal share.
    assert ev.per_cluster.required_share.tolist() == pytest.approx([1.0, 1.0])
    assert ev.per_cluster.headroom_fraction.tolist() == pytest.approx([1 / 3, 3.0])
    assert ev.summary.capacity_multiplier.iloc[0] == pytest.approx(2.0)


def test_frontier_marks_pareto_rows():
    table = fed.frontier(
        ks=[1, 2, 3],
        candidates=["us-east-1", "eu-west-1", "ap-southeast-1", "sa-east-1"],
        users=fed.users(top=15),
    )
    assert isinstance(table, fed.FederationResult)
    table = table.summary
    assert list(table.k) == [1, 2, 3]
    assert table.mean_rtt_ms.is_monotonic_decreasing
    assert table.availability.is_monotonic_increasing
    assert table.pareto.all()  # each k trades cost for latency and availability


def test_provider_shocks_closed_form():
    a, p = 0.999, 1e-3
    # Same provider: one shared shock. (1 - p) * (1 - (1 - a)^2).
    same = fed.evaluate(
        ["us-east-1", "eu-west-1"],
        users=fed.users(top=5),
        cluster_availability=a,
        provider_shock_probability=p,
    )
    assert same.summary.availability.iloc[0] == pytest.approx((1 - p) * (1 - (1 - a) ** 2))
    # Two providers: independent shocks fold into each cluster: a' = a (1 - p).
    two = fed.evaluate(
        ["us-east-1", "westeurope"],
        users=fed.users(top=5),
        cluster_availability=a,
        provider_shock_probability=p,
    )
    assert two.summary.availability.iloc[0] == pytest.approx(1 - (1 - a * (1 - p)) ** 2)
    # Region shocks: two clusters in one region share it.
    shocks = fed.shocks_for(["us-east-1", "us-east-1", "eu-west-1"], region_probability=0.01)
    assert sorted(map(sorted, (m for m, _ in shocks))) == [[0, 1], [2]]


def test_default_availability_is_correlated():
    # Issue 12 item 6: three 99.9 % clusters are not 1e-9 unavailable. The default is the
    # beta-binomial with rho = 0.05: P(all 3 down) = B(a, 3 + b) / B(a, b), a = 0.999 * 19,
    # b = 0.001 * 19, written out with lgamma.
    import math

    ev = fed.evaluate(["us-east-1", "eu-west-1", "ap-southeast-1"], users=fed.users(top=5))
    a, b = 0.999 * 19, 0.001 * 19
    log_ref = math.lgamma(3 + b) - math.lgamma(a + 3 + b) - math.lgamma(b) + math.lgamma(a + b)
    s = ev.summary.iloc[0]
    assert s.unavailability == pytest.approx(math.exp(log_ref), rel=1e-9)
    assert s.unavailability > 1000 * 0.001**3
    assert s.method == "beta_binomial" and "rho=0.05" in s.failure_model
    assert any("beta_binomial(rho=0.05)" in n for n in ev.notes)


def test_shocks_and_correlation_are_exclusive():
    with pytest.raises(ValueError, match="either correlation"):
        fed.evaluate(
            ["us-east-1", "eu-west-1"],
            users=fed.users(top=5),
            correlation=0.1,
            provider_shock_probability=1e-3,
        )


def test_specs_equal_loose_arguments_and_are_not_mixed():
    users = fed.users(top=8)
    names = ["us-east-1", "eu-west-1", "ap-southeast-1"]
    loose = fed.evaluate(names, users=users, needed=2, correlation=0.1, ttl_s=60)
    spec = fed.evaluate(
        fed.Federation(clusters=names, needed=2),
        users=users,
        failure=fed.FailureModel(correlation=0.1),
        dns=fed.DnsFailover(ttl_s=60),
    )
    pd.testing.assert_frame_equal(loose.summary, spec.summary)
    with pytest.raises(ValueError, match="pass either failure=FailureModel"):
        fed.evaluate(names, users=users, failure=fed.FailureModel(), correlation=0.2)
    with pytest.raises(ValueError, match="needed must be a whole number >= 1 and <= 3"):
        fed.Federation(clusters=names, needed=4)

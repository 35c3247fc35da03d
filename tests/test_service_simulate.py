"""Simulation against the exact theory, within standard errors, and affinity effects."""

import numpy as np
import pytest

from k8smodel import sweep
from k8smodel.service import Layout, Service, simulate, theory

CASES = [
    (Service(type="LoadBalancer", external_traffic_policy="Local"),
     Layout.uniform(zones=2, nodes_per_zone=2, pods_per_node=[3, 1, 2, 0])),
    (Service(type="LoadBalancer"), Layout.uniform(zones=3, nodes_per_zone=2, pods_per_node=1)),
    (Service(traffic_distribution="PreferClose"),
     Layout.uniform(zones=3, nodes_per_zone=1, pods_per_node=[3, 1, 1])),
    (Service(internal_traffic_policy="Local"),
     Layout.uniform(zones=1, nodes_per_zone=3, pods_per_node=[2, 1, 0])),
]  # fmt: skip


@pytest.mark.parametrize("case", range(len(CASES)))
def test_simulation_matches_theory_within_se(case):
    svc, lay = CASES[case]
    exact = theory(svc, lay)
    sim = simulate(svc, lay, connections=20_000, replications=8, rng=case)
    pod = sim.per_pod
    z = (pod.share_requests - exact.per_pod.share_requests) / np.maximum(
        pod.share_requests_se, 1e-12
    )
    assert (np.abs(z) < 4.5).all(), z.tolist()
    for col in ("fraction_cross_zone", "fraction_extra_hop", "fraction_dropped"):
        got, se = sim.summary[col].iloc[0], sim.summary[f"{col}_se"].iloc[0]
        assert abs(got - exact.summary[col].iloc[0]) <= 4.5 * se + 1e-12, col


def test_one_sticky_client_hits_one_pod():
    # ClientIP with a 3 h timeout and one internal client: every connection in a replication
    # goes through the client's node to the same pod, so the max share is exactly 1.
    svc = Service(session_affinity="ClientIP")
    sim = simulate(svc, Layout.uniform(zones=2), connections=500, replications=4, clients=1, rng=3)
    assert sim.summary.max_share.iloc[0] == pytest.approx(1.0)
    assert sim.summary.max_share_se.iloc[0] == 0


def test_affinity_timeout_shorter_than_gaps_is_no_affinity():
    # One client, 1 s timeout, 0.01 connections/s: gaps average 100 s, so P(gap <= 1 s) is
    # about 1 % and nearly every connection picks afresh; shares match the even split.
    svc = Service(session_affinity="ClientIP", affinity_timeout_s=1)
    lay = Layout.uniform(zones=1, nodes_per_zone=1, pods_per_node=4)
    sim = simulate(svc, lay, connections=10_000, replications=16, clients=1,
                   request_rate_per_s=0.01, rng=5)  # fmt: skip
    z = (sim.per_pod.share_requests - 0.25) / sim.per_pod.share_requests_se
    assert (np.abs(z) < 4.5).all()


def test_few_clients_expected_max_share():
    # K sticky clients (timeout far above the run), each choosing one of P pods uniformly:
    # E[max share] over the multinomial is computed here by enumeration for K=2, P=3
    # (with equal per-client volume in the limit of many connections): both on the same pod
    # with probability 1/3 -> max share 1, else 1/2; E = 1/3 + 2/3 x 1/2 = 2/3.
    svc = Service(session_affinity="ClientIP")
    lay = Layout.uniform(zones=1, nodes_per_zone=1, pods_per_node=3)
    sim = simulate(svc, lay, connections=4000, replications=400, clients=2,
                   request_rate_per_s=1.0, rng=11)  # fmt: skip
    got, se = sim.summary.max_share.iloc[0], sim.summary.max_share_se.iloc[0]
    # per-client volumes are binomial(4000, 1/2): their imbalance adds O(1/sqrt(4000)) ~ 0.01
    assert abs(got - 2 / 3) < 4.5 * se + 0.02


def test_requests_per_connection_spread_shares():
    svc = Service()
    lay = Layout.uniform(zones=1, nodes_per_zone=2)
    sim = simulate(svc, lay, connections=5000, replications=6, requests_per_connection=5.0, rng=2)
    assert sim.per_pod.share_requests.sum() == pytest.approx(1)
    assert (sim.per_pod.share_requests_se > sim.per_pod.share_connections_se).all()


def test_same_seed_same_numbers_and_sweepable():
    svc, lay = CASES[0]
    a = simulate(svc, lay, connections=1000, replications=2, rng=7).summary
    b = simulate(svc, lay, connections=1000, replications=2, rng=7).summary
    assert a.equals(b)
    table = sweep(
        lambda pods, rng: simulate(Service(), Layout.uniform(zones=1, pods_per_node=pods),
                                   connections=500, replications=2, rng=rng),
        {"pods": [1, 2]},
    )  # fmt: skip
    assert len(table) == 2 and "jain_requests" in table.columns


def test_budget_refused_before_allocating():
    with pytest.raises(ValueError, match="over the"):
        simulate(Service(), Layout.uniform(), connections=10**9, replications=100)
    with pytest.raises(TypeError, match="connections must be a whole number"):
        simulate(Service(), Layout.uniform(), connections=1e4)

"""Routing policies and population-weighted latency quantiles."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from k8smodel import federation as fed

LAT = np.array([[10.0, 50.0, 90.0], [70.0, 20.0, 40.0], [30.0, 60.0, 5.0]])


@settings(deadline=None)
@given(
    st.lists(st.integers(0, 1000), min_size=1, max_size=30),
    st.lists(st.integers(0, 6), min_size=30, max_size=30),
    st.sampled_from([0.0, 0.01, 0.25, 0.5, 0.95, 0.99, 1.0]),
)
def test_weighted_quantile_equals_repeated_sample(values, weights, q):
    w = np.array(weights[: len(values)])
    if w.sum() == 0:
        w[0] = 1
    expanded = np.repeat(values, w)
    ref = np.quantile(expanded, q, method="inverted_cdf")
    assert fed.weighted_quantile(values, w, q)[0] == ref


def test_nearest_routes_each_user_to_its_lowest_rtt():
    shares = fed.route(LAT, routing="nearest")
    assert (shares.argmax(axis=1) == LAT.argmin(axis=1)).all()
    down = fed.route(LAT, routing="nearest", healthy=[False, True, True])
    assert down[0].argmax() == 1 and down[:, 0].sum() == 0


def test_round_robin_and_failover():
    rr = fed.route(LAT, routing="round_robin", weights=[1, 1, 2], healthy=[True, False, True])
    assert np.allclose(rr, [[1 / 3, 0, 2 / 3]] * 3)
    fo = fed.route(LAT, routing="failover", order=[2, 0, 1], healthy=[True, True, False])
    assert np.allclose(fo, [[1, 0, 0]] * 3)


def test_scenarios_and_all_down():
    scen = np.array([[True, True, True], [False, False, False]])
    out = fed.route(LAT, routing="nearest", healthy=scen)
    assert out.shape == (2, 3, 3) and out[1].sum() == 0
    summary = fed.latency_summary(LAT, out[1], [1, 1, 1])
    assert summary["unserved_fraction"] == 1.0


def test_latency_summary_by_hand():
    shares = fed.route(LAT, routing="nearest")
    s = fed.latency_summary(LAT, shares, [1, 2, 1])
    # Users see 10, 20, 5 ms with weights 1, 2, 1.
    assert s["mean_rtt_ms"] == pytest.approx((10 + 40 + 5) / 4)
    assert s["p50_rtt_ms"] == 10 and s["p99_rtt_ms"] == 20


def test_failure_scenarios_count():
    scen = fed.failure_scenarios(5, 2)
    assert scen.shape == (1 + 5 + 10, 5) and scen[0].all()


def test_latency_matrix_from_measured():
    users = pd.DataFrame({"name": ["u1", "u2"], "lat": [0, 0], "lon": [0, 0], "weight": [1, 1]})
    measured = pd.DataFrame([[5.0, 9.0], [7.0, 3.0]], index=["u1", "u2"], columns=["r1", "r2"])
    assert np.array_equal(fed.latency_matrix(users, ["r1", "r2"], measured=measured), measured)


def test_bad_routing_name():
    with pytest.raises(ValueError, match="routing must be one of"):
        fed.route(LAT, routing="random")

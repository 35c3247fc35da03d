"""Bad input is refused with an error naming the parameter (review finding 4)."""

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import OptimizeResult

from k8smodel import federation as fed
from k8smodel.federation import solvers

NAN = float("nan")


@pytest.mark.parametrize(
    "p, rho, match",
    [
        (0.9, 1.5, "correlation must be a finite number > 0 and < 1"),
        (0.9, 0.0, "correlation must be a finite number > 0 and < 1"),
        (0.9, 1.0, "correlation must be a finite number > 0 and < 1"),
        (2.0, 0.1, "cluster_availability must be a finite number >= 0.0 and <= 1.0"),
        (NAN, 0.1, "cluster_availability must be a finite number >= 0.0 and <= 1.0"),
    ],
)
def test_beta_binomial_parameters_checks(p, rho, match):
    with pytest.raises(ValueError, match=match):
        fed.beta_binomial_parameters(p, rho)


def test_beta_binomial_parameters_by_hand():
    # p = 0.9, rho = 0.2: (1 - rho) / rho = 4, so alpha = 3.6 and beta = 0.4.
    a, b = fed.beta_binomial_parameters(0.9, 0.2)
    assert a == pytest.approx(3.6) and b == pytest.approx(0.4)


@pytest.mark.parametrize(
    "avail, needed", [(1.5, 1), (NAN, 1), ([0.9, -0.1], 1), ([0.9, 0.9], 3), ([], 1)]
)
def test_simulate_availability_checks(avail, needed):
    with pytest.raises(ValueError, match="cluster_availability|needed"):
        fed.simulate_availability(avail, needed=needed, replications=10, rng=1)


@pytest.mark.parametrize("members", [[0.7], [0, 1.5], ["a"]])
def test_shock_members_must_be_whole_indices(members):
    with pytest.raises(ValueError, match=r"shocks\[0\] members"):
        fed.availability(cluster_availability=[0.9, 0.9], shocks=[(members, 0.1)])


@pytest.mark.parametrize("name", ["bake_s", "rollback_s", "late_detection_s"])
@pytest.mark.parametrize("value", [NAN, float("inf"), -1e9])
def test_bad_change_impact_times(name, value):
    with pytest.raises(ValueError, match=f"{name} must be a finite number >= 0"):
        fed.bad_change_impact([0.5, 0.5], **{name: value})


def test_bad_change_impact_nan_share():
    with pytest.raises(ValueError, match="traffic_share"):
        fed.bad_change_impact([NAN, 1.0])


def test_unknown_regions_are_not_priced():
    with pytest.raises(ValueError, match="unknown region 'nowhere-1'"):
        fed.transfer_price_usd_per_gb("nowhere-1", "us-east-1")
    with pytest.raises(ValueError, match="unknown region 'us-east-9'.*did you mean"):
        fed.transfer_price_usd_per_gb("us-east-1", "us-east-9")
    with pytest.raises(ValueError, match="unknown region"):
        fed.transfer_price_usd_per_gb("nowhere-1")


def test_points_need_catalog_regions_for_prices():
    pts = [(51.5, -0.13), (1.35, 103.8)]
    with pytest.raises(ValueError, match="transfer prices need catalog region names"):
        fed.evaluate(pts, users=fed.users(top=5), replication_gb=1000)
    with pytest.raises(ValueError, match="transfer prices need catalog region names"):
        fed.evaluate(pts, users=fed.users(top=5), egress_gb=10)
    # Without transfer volumes, points cost only their fixed price: 2 x 73 USD.
    ev = fed.evaluate(pts, users=fed.users(top=5))
    assert ev.summary.total_usd.iloc[0] == pytest.approx(146.0)


def test_place_checks_latency_shape_and_user_columns():
    users = fed.users(top=4)
    cands = ["us-east-1", "eu-west-1", "ap-southeast-1"]
    with pytest.raises(ValueError, match=r"latency_ms must have shape .*\(4, 3\)"):
        fed.place(k=1, candidates=cands, users=users, latency_ms=np.ones((4, 2)))
    no_weight = users.drop(columns="weight")
    with pytest.raises(ValueError, match="users must have columns.*missing \\['weight'\\]"):
        fed.place(k=1, candidates=cands, users=no_weight)
    with pytest.raises(ValueError, match="users must have columns.*missing \\['weight'\\]"):
        fed.evaluate(cands, users=no_weight)


@pytest.mark.parametrize("w", [[1.0, NAN, 1.0], [1.0, float("inf"), 1.0], [0.0, 0.0, 0.0]])
def test_nan_weights_refused(w):
    lat = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 3.0]])
    with pytest.raises(ValueError, match="user_weight must be finite"):
        fed.p_median_milp(lat, w, 1)
    with pytest.raises(ValueError, match="user_weight must be finite"):
        fed.latency_summary(lat, fed.route(lat), w)
    with pytest.raises(ValueError, match="weights must be finite"):
        fed.weighted_quantile([1.0, 2.0, 3.0], w, 0.5)
    with pytest.raises(ValueError, match="weights must be finite"):
        fed.route(lat, routing="round_robin", weights=w[:2])
    users = pd.DataFrame({"lat": [0.0, 1.0, 2.0], "lon": [0.0, 1.0, 2.0], "weight": w})
    with pytest.raises(ValueError, match=r"users\['weight'\] must be finite"):
        fed.evaluate(["us-east-1"], users=users)


@pytest.mark.parametrize("q", [NAN, -0.1, 1.1])
def test_weighted_quantile_q(q):
    with pytest.raises(ValueError, match="q must be in"):
        fed.weighted_quantile([1.0, 2.0], [1.0, 1.0], q)


@pytest.mark.parametrize("name", ["probe_interval_s", "ttl_s", "client_cache_s"])
def test_failover_time_type_errors_name_the_parameter(name):
    with pytest.raises(TypeError, match=f"{name} must be a finite number"):
        fed.failover_time(**{name: "30"})
    with pytest.raises(ValueError, match=f"{name} must be a finite number"):
        fed.failover_time(**{name: NAN})


def test_replica_names_checked():
    with pytest.raises(ValueError, match="names must have one entry per cluster"):
        fed.webster(3, [1, 2, 3], names=["a", "b"])
    with pytest.raises(ValueError, match="names must have one entry per cluster"):
        fed.karmada_legacy(3, [1, 2, 3], names=["a"])
    for method in ("karmada-static", "kubefed"):
        with pytest.raises(ValueError, match=r"names must be distinct; \['a'\] repeat"):
            fed.divide_replicas(4, weights=[1, 1], names=["a", "a"], method=method)


@pytest.mark.parametrize(
    "args, match",
    [
        ((3, -1), "failures must be a whole number >= 0"),
        ((0, 1), "n_clusters must be a whole number >= 1"),
    ],
)
def test_failure_scenarios_checks(args, match):
    with pytest.raises(TypeError, match="failures must be a whole number >= 0"):
        fed.failure_scenarios(3, 1.5)
    with pytest.raises(ValueError, match=match):
        fed.failure_scenarios(*args)


def test_milp_not_proven_optimal_is_not_returned(monkeypatch):
    # A solver that stops at its time limit with a feasible point (HiGHS status 1).
    def stopped(c, **kwargs):
        x = np.zeros(c.size)
        x[-2] = 1.0  # opens candidate 0 of 2 (the worse one)
        x[0] = x[2] = 1.0
        return OptimizeResult(x=x, status=1, message="Time limit reached.", success=False)

    monkeypatch.setattr(solvers, "milp", stopped)
    lat = np.array([[5.0, 1.0], [5.0, 1.0]])
    with pytest.raises(RuntimeError, match="before proving optimality"):
        fed.p_median_milp(lat, [1, 1], 1, time_limit_s=0.001)
    idx, val = fed.p_median_milp(lat, [1, 1], 1, time_limit_s=0.001, allow_suboptimal=True)
    assert idx.tolist() == [0] and val == 5.0


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda v: fed.availability(clusters=v, cluster_availability=0.9), "clusters"),
        (lambda v: fed.availability(clusters=3, needed=v, cluster_availability=0.9), "needed"),
        (lambda v: fed.simulate_availability(0.9, clusters=v, replications=10), "clusters"),
        (lambda v: fed.webster(v, [1, 2]), "seats"),
        (lambda v: fed.karmada_legacy(v, [1, 2]), "replicas"),
        (lambda v: fed.greedy_placement(np.ones((2, 3)), [1, 1], v), "k"),
        (lambda v: fed.users(top=v), "top"),
        (lambda v: fed.failover_time(failure_threshold=v), "failure_threshold"),
    ],
)
@pytest.mark.parametrize(
    ("value", "error"), [(1.5, TypeError), (True, TypeError), ("3", TypeError), (-2, ValueError)]
)
def test_one_whole_number_check_everywhere(call, name, value, error):
    # The contract: a wrong kind is a TypeError, a bad value a ValueError, both naming it.
    with pytest.raises(error, match=f"^{name} must be a whole number >= "):
        call(value)


def test_numpy_integers_are_whole_numbers():
    three = np.int64(3)
    got = fed.availability(clusters=three, cluster_availability=0.5, correlation=0)
    assert got.value("availability") == pytest.approx(7 / 8)
    assert fed.webster(three, [1, 1, 1]).tolist() == [1, 1, 1]


def test_k_of_n_functions_share_their_checks():
    bad = {"clusters": 2, "needed": 3, "cluster_availability": 0.9}
    for f in (fed.availability, fed.simulate_availability):
        with pytest.raises(ValueError, match=r"needed must be a whole number >= 1 and <= 2"):
            f(**bad)
        with pytest.raises(ValueError, match="correlation must be a finite number"):
            f(clusters=2, cluster_availability=0.9, correlation=NAN)


def test_nan_latency_and_distance_refused():
    with pytest.raises(ValueError, match="latency_ms must not contain NaN"):
        fed.route(np.array([[NAN, 5.0]]))
    with pytest.raises(ValueError, match="km must be finite numbers >= 0"):
        fed.fibre_rtt_ms(NAN)

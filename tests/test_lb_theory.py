import math

import numpy as np
import pytest
from scipy import integrate, stats

from k8smodel import lb


def test_erlang_c_small_cases_by_hand():
    # M/M/2 with a = 1: C = (a^2/2! * 2/(2-1)) / (1 + a + a^2/2! * 2/(2-1)) = 1/3
    assert lb.erlang_c(2, 1.0) == pytest.approx(1 / 3)
    # M/M/1: C = rho
    assert lb.erlang_c(1, 0.7) == pytest.approx(0.7)
    assert lb.erlang_c(3, 3.0) == 1.0


@pytest.mark.parametrize(("c", "a"), [(5, 3.2), (20, 17.0), (64, 60.0)])
def test_erlang_c_against_factorial_formula(c, a):
    # the textbook sum with factorials (Kleinrock 1975, eq. 3.40), written independently
    top = a**c / math.factorial(c) * c / (c - a)
    expected = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    assert lb.erlang_c(c, a) == pytest.approx(expected, rel=1e-10)


def test_en_m1_sigma_reference_value():
    # REFERENCE.md: n = 2, rho = 0.5 gives sigma = (3 - sqrt 5)/2
    assert lb.en_m1_sigma(2, 0.5) == pytest.approx((3 - math.sqrt(5)) / 2, abs=1e-12)
    # n = 1 is M/M/1: sigma = rho
    assert lb.en_m1_sigma(1, 0.8) == pytest.approx(0.8, abs=1e-10)


def test_en_m1_sigma_is_root_of_its_equation_by_scipy_erlang_transform():
    n, rho = 5, 0.9
    sigma = lb.en_m1_sigma(n, rho)
    lam = n * rho
    # E[exp(-s X)] for X ~ Gamma(n, scale 1/lam), integrated numerically
    s = 1 - sigma
    transform, _ = integrate.quad(
        lambda x: math.exp(-s * x) * stats.gamma.pdf(x, n, scale=1 / lam), 0, np.inf
    )
    assert transform == pytest.approx(sigma, rel=1e-8)


@pytest.mark.parametrize(("lam", "expected"), [(0.9, 2.6141), (0.99, 5.4320)])
def test_supermarket_published_values(lam, expected):
    # Mitzenmacher 2001 (REFERENCE.md check values, d = 2)
    assert lb.supermarket_mean_response(lam, 2) == pytest.approx(expected, abs=6e-5)


def test_supermarket_one_choice_is_mm1():
    assert lb.supermarket_mean_response(0.8, 1) == pytest.approx(5.0, rel=1e-12)


def test_random_theory_is_mm1_with_exact_percentiles():
    row = lb.theory("random", pods=4, utilization=0.75).summary.iloc[0]
    rate = 1 - 0.75  # mu - lambda per pod
    assert row.mean_response_s == pytest.approx(1 / rate)
    for p in (50, 95, 99):
        assert row[f"p{p}_response_s"] == pytest.approx(-math.log(1 - p / 100) / rate, rel=1e-9)
    assert row.stable


def test_round_robin_theory_is_e2_m1():
    row = lb.theory("round_robin", pods=2, utilization=0.5).summary.iloc[0]
    sigma = (3 - math.sqrt(5)) / 2
    assert row.mean_response_s == pytest.approx(1 / (1 - sigma))
    assert row.p_wait == pytest.approx(sigma)
    assert row.p95_response_s == pytest.approx(-math.log(0.05) / (1 - sigma), rel=1e-9)


def test_pooled_is_mm2_by_hand_and_percentile_by_convolution():
    row = lb.theory("pooled", pods=2, utilization=0.5).summary.iloc[0]
    # M/M/2, lambda = 1, mu = 1: C = 1/3, W = C / (2 - 1), T = 1 + 1/3
    assert row.mean_response_s == pytest.approx(4 / 3)
    # P(T > p95) = 0.05 with T = S + W, W = 0 w.p. 2/3 else Exp(1): integrate the density
    t = row.p95_response_s

    def sf_w(x):
        return (1 / 3) * math.exp(-x)

    tail, _ = integrate.quad(lambda s: math.exp(-s) * sf_w(t - s), 0, t)
    assert math.exp(-t) + tail == pytest.approx(0.05, rel=1e-6)


def test_pooled_single_pod_equals_random_single_pod():
    a = lb.theory("pooled", pods=1, utilization=0.6).summary.iloc[0]
    b = lb.theory("random", pods=1, utilization=0.6).summary.iloc[0]
    assert a.mean_response_s == pytest.approx(b.mean_response_s)
    assert a.p99_response_s == pytest.approx(b.p99_response_s)


def test_md1_pollaczek_khinchine():
    rho = 0.6
    row = lb.theory("random", pods=3, utilization=rho, service=1.0).summary.iloc[0]
    # M/D/1: T = 1 + rho / (2 (1 - rho))
    assert row.mean_response_s == pytest.approx(1 + rho / (2 * (1 - rho)))
    assert math.isnan(row.p95_response_s)


def test_order_of_policies_in_theory():
    rows = {
        p: lb.theory(p, pods=8, utilization=0.9).summary.iloc[0].mean_response_s
        for p in ("pooled", "power_of_two", "round_robin", "random")
    }
    assert rows["pooled"] < rows["power_of_two"] < rows["round_robin"] < rows["random"]


def test_slow_pod_is_unstable_with_infinite_latency():
    speeds = [1, 1, 1, 0.2]
    row = lb.theory("random", pods=4, utilization=0.8, speeds=speeds).summary.iloc[0]
    # each pod is offered 0.8 * 3.2 / 4 = 0.64 > 0.2
    assert not row.stable
    assert math.isinf(row.mean_response_s) and math.isinf(row.p99_response_s)
    ok = lb.theory("random", pods=4, utilization=0.1, speeds=speeds).summary.iloc[0]
    assert ok.stable and math.isfinite(ok.mean_response_s)


def test_heterogeneous_random_theory_is_share_weighted_mixture():
    speeds = np.array([1.0, 2.0])
    row = lb.theory("random", pods=2, utilization=0.5, speeds=speeds).summary.iloc[0]
    lam = 0.5 * 3 / 2  # per pod
    expected = 0.5 / (1 - lam) + 0.5 / (2 - lam)
    assert row.mean_response_s == pytest.approx(expected)


def test_connections_columns():
    row = lb.theory("random", pods=8, utilization=0.5, connections=8).summary.iloc[0]
    assert row.idle_pods_expected == pytest.approx(8 * (7 / 8) ** 8)
    assert row.jain_connections_lower_bound == pytest.approx(8 / 15)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"policy": "nope", "pods": 2, "utilization": 0.5}, "policy"),
        ({"policy": "random", "pods": 0, "utilization": 0.5}, "pods"),
        ({"policy": "random", "pods": 2, "utilization": 0.0}, "utilization"),
        ({"policy": "random", "pods": 2, "utilization": 0.5, "speeds": [1]}, "speeds"),
        ({"policy": "random", "pods": 2, "utilization": 0.5, "speeds": [1, -1]}, "speeds"),
        (
            {"policy": "random", "pods": 2, "utilization": 0.5, "service": stats.pareto(0.9)},
            "service",
        ),
    ],
)
def test_theory_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        lb.theory(**kwargs)


def test_jsq_chain_single_pod_is_mm1():
    assert lb.jsq_mean_response(1, 0.7) == pytest.approx(1 / 0.3, rel=1e-7)


def test_jsq_between_pooled_floor_and_round_robin():
    for n, rho in [(2, 0.5), (3, 0.8), (4, 0.7)]:
        jsq = lb.jsq_mean_response(n, rho)
        floor = lb.theory("pooled", pods=n, utilization=rho).summary.mean_response_s[0]
        assert (
            floor
            < jsq
            < lb.theory("round_robin", pods=n, utilization=rho).summary.mean_response_s[0]
        )


def test_large_jsq_falls_back_to_a_labelled_finite_n_value():
    # The small exact chain refuses 16 pods; theory() then gives the matrix-geometric value
    # (issue 12: NaN was the defect), marked inexact and never below the pooled M/M/16 floor.
    assert math.isnan(lb.jsq_mean_response(16, 0.9))
    row = lb.theory("least_connections", pods=16, utilization=0.9).summary.iloc[0]
    offered, servers = 16 * 0.9, 16
    b = 1.0  # Erlang B by recursion, then C: the pooled floor, computed here independently
    for k in range(1, servers + 1):
        b = offered * b / (k + offered * b)
    c = servers * b / (servers - offered * (1 - b))
    floor = 1 + c / (servers * (1 - 0.9))
    assert row.stable and not row.exact
    assert floor <= row.mean_response_s < 1.0 / (1 - 0.9)  # below random's M/M/1 ceiling
    assert "n=16" in row.method


# --- 6-8. closed forms at the edges ----------------------------------------------------------


def test_supermarket_one_choice_near_one_is_mm1():
    assert lb.supermarket_mean_response(0.9999, 1) == pytest.approx(1 / (1 - 0.9999), rel=1e-9)
    tails = lb.supermarket_tails(0.999, 1)
    assert tails[-1] <= 1e-16 and tails[1] == pytest.approx(0.999)


def test_round_robin_with_fewer_requests_than_pods():
    res = lb.simulate("round_robin", pods=5, utilization=0.5, requests=3, replications=2,
                      warmup=0.0, rng=7)  # fmt: skip
    counts = res.per_pod.pivot(index="replication", columns="pod", values="requests")
    assert (counts.sum(axis=1) == 3).all() and (counts.to_numpy() <= 1).all()


def test_random_ceiling_is_infinite_with_an_overloaded_slow_pod():
    # speeds [1, 0.5] at 0.9: Lambda = 1.35, each pod offered 0.675 > 0.5
    row = lb.theory("random", pods=2, speeds=[1, 0.5], utilization=0.9).summary.iloc[0]
    assert math.isinf(row.ceiling_mean_response_s)


def _jsq_two_pods_ctmc(rho, cap=150):
    """Mean time in system of JSQ on two M/M/1 pods: the unsorted chain (q1, q2), truncated."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import spsolve

    lam = 2 * rho
    size = (cap + 1) ** 2
    rows, cols, rates = [], [], []

    def idx(a, b):
        return a * (cap + 1) + b

    for a in range(cap + 1):
        for b in range(cap + 1):
            s = idx(a, b)
            targets = []
            if a < b or (a == b and a < cap):
                targets.append((idx(a + 1, b), lam if a < b else lam / 2))
            if b < a or (a == b and b < cap):
                targets.append((idx(a, b + 1), lam if b < a else lam / 2))
            if a > 0:
                targets.append((idx(a - 1, b), 1.0))
            if b > 0:
                targets.append((idx(a, b - 1), 1.0))
            for t, r in targets:
                rows.append(s)
                cols.append(t)
                rates.append(r)
    q = coo_matrix((rates, (rows, cols)), shape=(size, size)).tocsr()
    q = q - coo_matrix((np.asarray(q.sum(axis=1)).ravel(), (range(size), range(size))))
    # pi Q = 0 with sum(pi) = 1: replace one balance equation by the normalization.
    a_mat = q.T.tolil()
    a_mat[0, :] = 1.0
    rhs = np.zeros(size)
    rhs[0] = 1.0
    pi = spsolve(a_mat.tocsc(), rhs)
    grid = np.add.outer(np.arange(cap + 1), np.arange(cap + 1)).ravel()
    return float(pi @ grid) / lam  # Little's law


@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_jsq_mean_matches_an_unsorted_chain_built_here(rho):
    assert lb.jsq_mean_response(2, rho) == pytest.approx(_jsq_two_pods_ctmc(rho), rel=1e-6)

import heapq
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nginx_reference import nginx_least_conn_loop
from scipy import stats

from k8smodel import lb
from k8smodel.lb import kernels


def _close(result, expected, n_se=4.0, rel_bias=0.0):
    row = result.summary.iloc[0]
    tol = n_se * row.mean_response_s_se + rel_bias * expected
    assert abs(row.mean_response_s - expected) < tol, (row.mean_response_s, expected, tol)


# --- the API a user writes --------------------------------------------------------------------


def test_summary_and_per_pod_columns():
    res = lb.simulate("least_connections", pods=4, utilization=0.8, requests=5_000,
                      replications=3, rng=1)  # fmt: skip
    for col in ("mean_response_s", "p50_response_s", "p95_response_s", "p99_response_s",
                "jain_requests", "max_share", "cov_utilization", "stable"):  # fmt: skip
        assert col in res.summary.columns
    assert len(res.summary) == 1
    assert {"replication", "pod", "share", "utilization"} <= set(res.per_pod.columns)
    assert len(res.per_pod) == 3 * 4


def test_same_seed_same_result():
    a = lb.simulate("power_of_two", pods=3, utilization=0.7, requests=3_000, replications=2, rng=5)
    b = lb.simulate("power_of_two", pods=3, utilization=0.7, requests=3_000, replications=2, rng=5)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.per_pod, b.per_pod)


def test_compare_is_tidy():
    df = lb.compare(["random", "round_robin"], pods=[2, 4], utilization=[0.5, 0.7],
                    requests=2_000, replications=2, rng=1).summary  # fmt: skip
    assert len(df) == 8
    assert set(df.policy) == {"random", "round_robin"}
    assert {"theory_mean_response_s", "floor_mean_response_s"} <= set(df.columns)


def test_simulate_is_sweepable():
    import k8smodel

    df = k8smodel.sweep(
        lb.simulate,
        {
            "policy": ["random"],
            "pods": [2],
            "utilization": [0.5],
            "requests": 2_000,
            "replications": 2,
        },  # fmt: skip
        rng=3,
        progress=False,
    )
    assert len(df) == 1 and np.isfinite(df.mean_response_s[0])


# --- against independent references -----------------------------------------------------------


def test_random_matches_mm1():
    # each pod is M/M/1 with rho = 0.7: E[T] = 1 / (1 - 0.7)
    res = lb.simulate("iptables", pods=4, utilization=0.7, requests=100_000, replications=8, rng=11)
    _close(res, 1 / 0.3)
    # the time in system is exponential: P(T > p95) = 0.05 -> p95 = ln(20) / 0.3. The
    # tolerance comes from the spread of the p95 of independent runs (one replication each).
    p95s = [
        lb.simulate(
            "iptables", pods=4, utilization=0.7, requests=100_000, replications=1, rng=seed
        ).summary.p95_response_s[0]
        for seed in range(110, 118)
    ]
    se = np.std(p95s, ddof=1) / math.sqrt(len(p95s))
    assert abs(np.mean(p95s) - math.log(20) / 0.3) < 4 * se


def test_round_robin_matches_e2_m1():
    sigma = (3 - math.sqrt(5)) / 2  # REFERENCE.md, n = 2, rho = 0.5
    res = lb.simulate("round_robin", pods=2, utilization=0.5, requests=100_000, replications=8,
                      rng=12)  # fmt: skip
    _close(res, 1 / (1 - sigma))


def test_multithreaded_pod_matches_erlang_c():
    # one pod with 3 threads is M/M/3; Erlang C by the factorial formula (Kleinrock eq. 3.40)
    c, a = 3, 2.4
    top = a**c / math.factorial(c) * c / (c - a)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    expected = 1 + p_wait / (c - a)
    res = lb.simulate("random", pods=1, concurrency=3, utilization=0.8, requests=100_000,
                      replications=8, rng=13)  # fmt: skip
    _close(res, expected)


@pytest.mark.parametrize("policy", ["least_connections", "power_of_two", "ewma"])
def test_event_loop_multithreaded_pod_matches_erlang_c(policy):
    # with one pod every policy sends everything to it: M/M/2 at rho = 0.75,
    # E[T] = 1 + C(2, 1.5) / (2 - 1.5) with C(2, a) = a^2 / (2 + a) (two servers, by hand)
    a = 1.5
    expected = 1 + (a**2 / (2 + a)) / (2 - a)
    res = lb.simulate(policy, pods=1, concurrency=2, utilization=0.75, requests=40_000,
                      replications=8, rng=29)  # fmt: skip
    _close(res, expected)


def test_service_law_in_seconds_scales_reported_times():
    # Scaling the exponential law by 0.02 s scales every time of the same sample path.
    kw = dict(pods=3, utilization=0.6, requests=5_000, replications=2, rng=30)
    plain = lb.simulate("random", **kw).summary.iloc[0]
    in_s = lb.simulate("random", service=stats.expon(scale=0.02), **kw).summary.iloc[0]
    for col in ("mean_response_s", "p99_response_s", "mean_wait_s"):
        assert in_s[col] == pytest.approx(0.02 * plain[col])


def test_deterministic_service_matches_md1():
    rho = 0.7
    res = lb.simulate("random", pods=2, utilization=rho, service=1.0, requests=100_000,
                      replications=8, rng=14)  # fmt: skip
    _close(res, 1 + rho / (2 * (1 - rho)))


def test_lognormal_service_matches_pollaczek_khinchine():
    law = stats.lognorm(0.8, scale=1.0)
    m, m2 = law.mean(), law.moment(2)
    lam = 0.6 / m
    expected = m + lam * m2 / (2 * (1 - 0.6))
    res = lb.simulate("random", pods=2, utilization=0.6, service=law, requests=100_000,
                      replications=8, rng=15)  # fmt: skip
    _close(res, expected)


def test_least_connections_matches_exact_jsq_chain():
    # the Markov chain of join-the-shortest-queue, solved numerically (lb.jsq_mean_response)
    expected = lb.jsq_mean_response(3, 0.7)
    res = lb.simulate("least_connections", pods=3, utilization=0.7, requests=60_000,
                      replications=8, rng=28)  # fmt: skip
    _close(res, expected)


@pytest.mark.slow
def test_power_of_two_many_pods_matches_supermarket():
    # Mitzenmacher 2001: T = 2.6141 at lambda = 0.9, d = 2 (n -> inf). With n = 100 the
    # finite-n correction is O(1/n); 3 % is allowed for it on top of 4 standard errors.
    res = lb.simulate("envoy-least-request", pods=100, utilization=0.9, requests=60_000,
                      replications=6, rng=16)  # fmt: skip
    _close(res, 2.6141, rel_bias=0.03)


@pytest.mark.slow
def test_least_connections_many_pods_between_floor_and_two_choices():
    res = lb.simulate("least_connections", pods=100, utilization=0.9, requests=60_000,
                      replications=4, rng=17)  # fmt: skip
    row = res.summary.iloc[0]
    floor = lb.theory("pooled", pods=100, utilization=0.9).summary.mean_response_s[0]
    assert floor - 4 * row.mean_response_s_se < row.mean_response_s < 2.6141


def test_random_shares_are_one_over_n_in_expectation():
    n, reps = 5, 40
    res = lb.simulate("random", pods=n, utilization=0.5, requests=2_000, replications=reps,
                      rng=18)  # fmt: skip
    share = res.per_pod.pivot(index="replication", columns="pod", values="share")
    se = share.std(ddof=1) / np.sqrt(reps)
    assert (np.abs(share.mean() - 1 / n) < 4 * se).all()


def test_round_robin_shares_exactly_equal():
    res = lb.simulate("round_robin", pods=4, utilization=0.9, requests=10_001, replications=3,
                      warmup=0.0, rng=19)  # fmt: skip
    counts = res.per_pod.pivot(index="replication", columns="pod", values="requests")
    assert (counts.max(axis=1) - counts.min(axis=1) <= 1).all()


def test_weighted_round_robin_shares():
    res = lb.simulate("round_robin", pods=3, weights=[5, 1, 1], utilization=0.5, requests=7_000,
                      replications=2, warmup=0.0, rng=20)  # fmt: skip
    counts = res.per_pod.pivot(index="replication", columns="pod", values="requests")
    assert (counts.values == [5000, 1000, 1000]).all()


def test_nginx_smooth_wrr_sequence():
    # nginx changeset "Upstream: smooth weighted round-robin balancing" (2012):
    # weights {5, 1, 1} give a a b a c a a
    assert lb.smooth_wrr_sequence([5, 1, 1]).tolist() == [0, 0, 1, 0, 2, 0, 0]


def test_least_connections_idle_pods_break_ties_round_robin():
    # at a tiny load every request finds all pods idle: nginx then walks the tied peers by
    # (weighted) round robin, so the counts are exactly proportional to the weights
    res = lb.simulate("nginx-least-conn", pods=2, weights=[3, 1], utilization=1e-7, requests=4_000,
                      replications=2, warmup=0.0, rng=21)  # fmt: skip
    counts = res.per_pod.pivot(index="replication", columns="pod", values="requests")
    assert (counts.values == [3000, 1000]).all()


def test_per_worker_least_connections_is_worse_than_shared():
    kw = dict(pods=4, utilization=0.9, requests=40_000, replications=4, dispatchers=8)
    own = lb.simulate("least_connections", shared_state=False, rng=22, **kw).summary.iloc[0]
    shared = lb.simulate("least_connections", shared_state=True, rng=22, **kw).summary.iloc[0]
    assert shared.mean_response_s + 4 * shared.mean_response_s_se < own.mean_response_s


def test_slow_pod_random_is_unstable():
    res = lb.simulate("random", pods=4, speeds=[1, 1, 1, 0.2], utilization=0.8, requests=2_000,
                      replications=2, rng=23)  # fmt: skip
    row = res.summary.iloc[0]
    assert not row.stable and math.isinf(row.mean_response_s)
    slow = res.per_pod[res.per_pod.pod == 3]
    assert np.isinf(slow.mean_response_s).all()
    lc = lb.simulate("least_connections", pods=4, speeds=[1, 1, 1, 0.2], utilization=0.8,
                     requests=20_000, replications=2, rng=23).summary.iloc[0]  # fmt: skip
    assert lc.stable and math.isfinite(lc.mean_response_s)


def test_long_lived_connections_leave_pods_idle():
    # 4 connections that never close on 8 pods: the pods that got none serve nothing
    res = lb.simulate("random", pods=8, utilization=0.05, requests=4_000, replications=400,
                      requests_per_connection=math.inf, connections=4, rng=24)  # fmt: skip
    idle = (res.per_pod.requests == 0).groupby(res.per_pod.replication).sum()
    se = idle.std(ddof=1) / np.sqrt(len(idle))
    assert abs(idle.mean() - lb.expected_idle_pods(4, 8)) < 4 * se


def test_connection_level_least_connections_balances_connections():
    # 8 long-lived connections placed by least connections on 4 pods: exactly 2 each,
    # so request shares are close to even even though each connection sticks to its pod
    res = lb.simulate("least_connections", pods=4, utilization=0.5, requests=20_000,
                      replications=3, requests_per_connection=math.inf, connections=8,
                      rng=25)  # fmt: skip
    assert res.summary.jain_requests[0] > 0.99


# --- kernels against brute force written differently ------------------------------------------


def _lindley_loop(pods, arrival, work, n_pods, c):
    dep = np.empty_like(arrival)
    servers = [[0.0] * c for _ in range(n_pods)]
    for i, (p, a, x) in enumerate(zip(pods, arrival, work, strict=True)):
        free = heapq.heappop(servers[p])
        dep[i] = max(a, free) + x
        heapq.heappush(servers[p], dep[i])
    return dep


@pytest.mark.parametrize("c", [1, 3])
def test_fifo_kernels_match_event_loop(c):
    gen = np.random.default_rng(7)
    reps, n, n_pods = 3, 400, 5
    arrival = np.cumsum(gen.exponential(0.3, (reps, n)), axis=1)
    work = gen.exponential(1.0, (reps, n))
    pods = gen.integers(n_pods, size=(reps, n))
    if c == 1:
        dep = kernels.fifo_single(pods, arrival, work)
    else:
        dep = kernels.fifo_multi(pods, arrival, work, n_pods, c)
    for r in range(reps):
        np.testing.assert_allclose(dep[r], _lindley_loop(pods[r], arrival[r], work[r], n_pods, c))


def _requests(res):
    """Arrival, service time, pod and departure per (replication, request) from keep_requests."""
    reqs = res.requests
    reps = int(reqs.replication.max()) + 1
    return {col: reqs[col].to_numpy().reshape(reps, -1) for col in
            ("arrival_s", "service_s", "pod", "departure_s")}  # fmt: skip


@pytest.mark.parametrize("weights", [[1, 1, 1, 1], [2, 1, 3]])
def test_least_connections_loop_matches_nginx_c_logic(weights):
    res = lb.simulate(
        "least_connections",
        pods=len(weights),
        weights=weights,
        utilization=0.85,
        requests=600,
        replications=3,
        warmup=0.0,
        keep_requests=True,
        rng=8,
    )
    r = _requests(res)
    for rep in range(3):
        ref_pod, ref_dep = nginx_least_conn_loop(r["arrival_s"][rep], r["service_s"][rep], weights)
        np.testing.assert_array_equal(r["pod"][rep], ref_pod)
        np.testing.assert_allclose(r["departure_s"][rep], ref_dep)


def test_distinct_draws_are_uniform_pairs():
    gen = np.random.default_rng(9)
    draws = kernels.distinct_draws(gen, (60_000,), 4, 2)
    assert (draws[:, 0] != draws[:, 1]).all()
    pairs = np.bincount(draws[:, 0] * 4 + draws[:, 1], minlength=16).reshape(4, 4)
    off = pairs[~np.eye(4, dtype=bool)]
    expected = 60_000 / 12
    chi2 = ((off - expected) ** 2 / expected).sum()
    assert chi2 < 40  # chi-square with 11 degrees of freedom: P(> 40) < 1e-4


# --- invariants -------------------------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(
    policy=st.sampled_from(["random", "round_robin", "least_connections", "power_of_two", "ewma"]),
    pods=st.integers(1, 6),
    rho=st.floats(0.05, 0.95),
    dispatchers=st.integers(1, 3),
    concurrency=st.integers(1, 2),
    per_conn=st.sampled_from([1, 5]),
    seed=st.integers(0, 2**32 - 1),
)
def test_invariants(policy, pods, rho, dispatchers, concurrency, per_conn, seed):
    res = lb.simulate(policy, pods=pods, utilization=rho, requests=300, replications=2,
                      dispatchers=dispatchers, concurrency=concurrency,
                      requests_per_connection=per_conn, rng=seed)  # fmt: skip
    row = res.summary.iloc[0]
    assert 1 / pods - 1e-12 <= row.jain_requests <= 1 + 1e-12
    assert 1 / pods - 1e-12 <= row.max_share <= 1 + 1e-12
    sums = res.per_pod.groupby("replication").share.sum()
    np.testing.assert_allclose(sums, 1.0)
    assert row.mean_response_s >= row.mean_wait_s >= 0


# --- bad input --------------------------------------------------------------------------------


def test_unknown_policy_lists_aliases():
    with pytest.raises(ValueError, match="policy") as info:
        lb.simulate("magic", pods=2, utilization=0.5)
    assert "envoy-least-request" in str(info.value) and "round_robin" in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pods": 0, "utilization": 0.5}, "pods"),
        ({"pods": 2, "utilization": 0.0}, "utilization"),
        ({"pods": 2, "utilization": -1}, "utilization"),
        ({"pods": 2, "utilization": 0.5, "speeds": [1, 1, 1]}, "speeds"),
        ({"pods": 2, "utilization": 0.5, "speeds": [1, 0]}, "speeds"),
        ({"pods": 2, "utilization": 0.5, "service": stats.pareto(0.8)}, "service"),
        ({"pods": 2, "utilization": 0.5, "service": -1.0}, "service"),
        ({"pods": 2, "utilization": 0.5, "requests_per_connection": 0}, "requests_per_connection"),
        ({"pods": 2}, "utilization"),
        ({"pods": 2, "utilization": 0.5, "weights": [1, 2]}, "weights"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        lb.simulate("random", **kwargs)


def test_bad_service_type():
    with pytest.raises(TypeError, match="service"):
        lb.simulate("random", pods=2, utilization=0.5, service="fast")


def test_persistent_connections_overload_by_realized_placement():
    # 2 persistent connections on 4 pods at utilization 0.6: each connection carries
    # 0.6 * 4 / 2 = 1.2 requests per service time, more than one pod can serve
    res = lb.simulate("random", pods=4, utilization=0.6, requests=2_000, replications=3,
                      requests_per_connection=math.inf, connections=2, rng=26)  # fmt: skip
    row = res.summary.iloc[0]
    assert not row.stable and row.p_unstable == 1.0 and math.isinf(row.mean_response_s)
    # least connections puts 4 connections on 4 different pods: 0.6 each, stable
    res = lb.simulate("least_connections", pods=4, utilization=0.6, requests=2_000,
                      replications=3, requests_per_connection=math.inf, connections=4,
                      rng=26)  # fmt: skip
    assert res.summary.stable[0] and res.summary.p_unstable[0] == 0.0


def test_nginx_random_two_weighted_ties_go_to_second_draw():
    # ngx_http_upstream_get_random2_peer: two distinct peers drawn by weight; the second is
    # kept unless it has more conns/weight. At a tiny load both are idle (a tie), so with
    # weights [3, 1] pod 0 is served only when drawn second, i.e. when pod 1 was drawn
    # first: probability 1/4.
    res = lb.simulate("nginx-random-two", pods=2, weights=[3, 1], utilization=1e-7,
                      requests=40_000, replications=2, warmup=0.0, rng=27)  # fmt: skip
    share0 = res.per_pod[res.per_pod.pod == 0].share.to_numpy()
    se = math.sqrt(0.25 * 0.75 / 40_000)
    assert (np.abs(share0 - 0.25) < 4 * se).all()


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.floats(0, 1e6), min_size=1, max_size=300))
def test_inplace_quantiles_equal_numpy(values):
    arr = np.array(values)
    expected = np.quantile(arr, [0.5, 0.95, 0.99])
    np.testing.assert_allclose(kernels.quantiles_inplace(arr.copy(), (0.5, 0.95, 0.99)), expected,
                               rtol=1e-12, atol=1e-9)  # fmt: skip


@pytest.mark.parametrize("policy", ["random", "round_robin"])
def test_fast_path_keeps_every_request_in_its_sums(policy):
    # deterministic service 1 at a negligible load: every response is exactly 1, so any
    # request missing from (or doubled in) the per-pod sums would move the means off 1
    res = lb.simulate(policy, pods=3, utilization=1e-9, service=1.0, requests=3_000,
                      replications=2, warmup=0.0, rng=31)  # fmt: skip
    assert res.summary.mean_response_s[0] == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(res.per_pod.mean_response_s, 1.0, atol=1e-12)
    counts = res.per_pod.pivot(index="replication", columns="pod", values="requests")
    assert (counts.sum(axis=1) == 3_000).all()


# --- 2. fast random path with empty pods --------------------------------------------------------


def test_random_with_more_pods_than_requests_per_pod():
    res = lb.simulate("random", pods=64, utilization=0.5, requests=100, replications=4, rng=3)
    row = res.summary.iloc[0]
    assert math.isfinite(row.mean_response_s) and math.isfinite(row.cov_utilization)
    empty = res.per_pod[res.per_pod.requests == 0]
    assert len(empty) > 0 and (empty.utilization == 0.0).all()


@pytest.mark.parametrize("seed", range(20))
def test_fast_random_sums_every_kept_request_with_empty_pods(seed):
    # 40 pods, 30 requests: most pods are empty, and a pod followed only by empty ones is the
    # case the old clamp dropped. Deterministic service 1 at a negligible load: every response
    # is exactly 1, so each pod's response sum must equal its count.
    res = lb.simulate("random", pods=40, utilization=1e-9, service=1.0, requests=30,
                      replications=3, warmup=0.0, rng=seed)  # fmt: skip
    pp = res.per_pod
    busy = pp[pp.requests > 0]
    np.testing.assert_allclose(busy.mean_response_s, 1.0, atol=1e-12)
    assert (pp.groupby("replication").requests.sum() == 30).all()


# --- 3. warm-up by count keeps the kept counts multinomial -------------------------------------


def test_random_kept_counts_are_multinomial_after_warmup():
    n, big_n, reps = 2, 2_000, 4_000
    res = lb.simulate("random", pods=n, utilization=0.5, requests=big_n, replications=reps,
                      rng=4)  # fmt: skip
    kept = big_n - int(0.1 * big_n)
    counts = res.per_pod[res.per_pod.pod == 0].requests.to_numpy()
    assert (res.per_pod.groupby("replication").requests.sum() == kept).all()
    var_expected = kept * 0.5 * 0.5  # Binomial(kept, 1/2)
    # Standard error of a sample variance of near-normal data: sigma^2 sqrt(2 / (R - 1)).
    se = var_expected * math.sqrt(2 / (reps - 1))
    assert abs(counts.var(ddof=1) - var_expected) < 4 * se
    # Jain's index of two counts (k, M - k), its expectation summed over Binomial(M, 1/2).
    k = np.arange(kept + 1)
    jain = kept**2 / (2.0 * (k**2 + (kept - k) ** 2))
    expected_jain = float(np.dot(stats.binom.pmf(k, kept, 0.5), jain))
    sim_jain = kept**2 / (2.0 * (counts**2 + (kept - counts) ** 2))
    se_j = sim_jain.std(ddof=1) / math.sqrt(reps)
    assert abs(res.summary.jain_requests[0] - expected_jain) < 4 * se_j


def test_round_robin_warmup_drops_the_first_requests_of_the_merged_stream():
    # 3 pods, 999 requests (333 rounds), warm-up 0.1: the first 99 of the stream are dropped,
    # 33 per pod, leaving 300 each whatever the cursor's start.
    res = lb.simulate("round_robin", pods=3, utilization=0.5, requests=999, replications=3,
                      rng=5)  # fmt: skip
    assert (res.per_pod.requests == 300).all()


# --- 5. nginx's integer comparison of conns over weight -----------------------------------------


def _float_disagreements(weights):
    """Observer counting pod pairs whose tie differs between integer and float compares."""
    seen = [0]

    def observe(conns):
        n_pods = len(weights)
        for i in range(n_pods):
            for j in range(n_pods):
                exact = conns[i] * weights[j] == conns[j] * weights[i]
                if exact != (conns[i] * (1 / weights[i]) == conns[j] * (1 / weights[j])):
                    seen[0] += 1

    return observe, seen


def test_weighted_least_connections_ties_compare_integers_like_nginx():
    # weights 5 and 15: 3 conns on the first and 9 on the second are a tie for nginx
    # (3 * 15 == 9 * 5) but 3 * (1/5) != 9 * (1/15) in floating point.
    weights = [5, 15]
    res = lb.simulate(
        "least_connections",
        pods=2,
        weights=weights,
        utilization=0.97,
        requests=3_000,
        replications=2,
        warmup=0.0,
        keep_requests=True,
        rng=6,
    )
    r = _requests(res)
    observe, differs = _float_disagreements(weights)
    for rep in range(2):
        ref, _ = nginx_least_conn_loop(r["arrival_s"][rep], r["service_s"][rep], weights, observe)
        np.testing.assert_array_equal(r["pod"][rep], ref)
    assert differs[0] > 0  # the run does reach the states where floats would break the tie


# --- 4, 9. input that used to be accepted silently ----------------------------------------------


def test_simulate_rejects_options_of_the_wrong_type():
    for kwargs in ({"shared_state": "no"}, {"distinct": 1}):
        with pytest.raises(TypeError, match=next(iter(kwargs))):
            lb.simulate("power_of_two", pods=2, utilization=0.5, requests=100, **kwargs)


@pytest.mark.parametrize(
    ("policy", "kwargs", "match"),
    [
        ("random", {"choices": 2}, "choices"),
        ("round_robin", {"distinct": True}, "distinct"),
        ("random", {"shared_state": True}, "shared_state"),
        ("round_robin", {"shared_state": True}, "shared_state"),
        ("random", {"connections": 8}, "connections"),
        ("least_connections", {"draw_weights": [1, 2]}, "draw_weights"),
        ("envoy-least-request", {"weights": [1, 2]}, "weights"),
        ("least_connections", {"weights": [1.5, 1]}, "weights"),
        ("power_of_two", {"weights": [1.5, 1]}, "weights"),
    ],
)
def test_simulate_rejects_unused_or_malformed_options(policy, kwargs, match):
    with pytest.raises(ValueError, match=match):
        lb.simulate(policy, pods=2, utilization=0.5, requests=100, **kwargs)


def test_theory_least_connections_ignores_no_weights():
    row = lb.theory("least_connections", pods=2, weights=[3, 1], utilization=0.5).summary.iloc[0]
    assert math.isnan(row.mean_response_s)
    assert lb.theory("least_connections", pods=2, utilization=0.5).summary.mean_response_s[0] == (
        pytest.approx(lb.jsq_mean_response(2, 0.5))
    )


def test_compare_rejects_no_policies():
    with pytest.raises(ValueError, match="policies"):
        lb.compare([], pods=2, utilization=0.5)


def test_gi_m1_sigma_rejects_bad_rate():
    with pytest.raises(ValueError, match="mu"):
        lb.gi_m1_sigma(lambda s: 1 / (1 + s), -1.0)


# --- 10. independent references for ewma and the JSQ chain -------------------------------------


def _ewma_lua_loop(arrival, work, candidates, tau):
    """ingress-nginx balancer/ewma.lua for one worker, one request at a time.

    decay_ewma: w = exp(-max(now - last, 0) / DECAY_TIME), ewma = ewma w + rtt (1 - w);
    score() reads it with rtt = 0 and no update; after_balance() updates it with the
    response time when the response completes. Of the two picked endpoints the second wins
    only with a strictly lower score.
    """
    n_pods = int(candidates.max()) + 1
    ewma, last, free = [0.0] * n_pods, [0.0] * n_pods, [0.0] * n_pods
    done = []  # heap of (completion time, pod, response time)
    chosen = []
    for t, x, (first, second) in zip(arrival, work, candidates, strict=True):
        while done and done[0][0] <= t:
            t_done, q, rtt = heapq.heappop(done)
            w = math.exp(-max(t_done - last[q], 0.0) / tau)
            ewma[q] = ewma[q] * w + rtt * (1.0 - w)
            last[q] = t_done

        def score(q, now=t):
            return ewma[q] * math.exp(-max(now - last[q], 0.0) / tau)

        p = second if score(second) < score(first) else first
        dep = max(t, free[p]) + x
        free[p] = dep
        heapq.heappush(done, (dep, p, dep - t))
        chosen.append(p)
    return np.array(chosen)


@pytest.mark.parametrize("dispatchers", [1, 3])
def test_ewma_choices_follow_ewma_lua(dispatchers):
    # Requests of 5 s against ewma.lua's 10 s decay (times in seconds). The scores are in
    # ngx.shared dictionaries (ingress-nginx HEAD), so 3 workers read one table: the
    # reference keeps one table whatever the worker.
    n_pods, reps, n, tau = 3, 2, 800, 10.0
    res = lb.simulate("ewma", pods=n_pods, utilization=0.8, service=stats.expon(scale=5.0),
                      dispatchers=dispatchers, requests=n, replications=reps, warmup=0.0,
                      keep_requests=True, rng=11)  # fmt: skip
    r = _requests(res)
    # The candidate pairs: simulate draws the service times, the arrivals, the dispatchers
    # (when several), then the pairs.
    gen = np.random.default_rng(11)
    gen.standard_exponential((reps, n))
    gen.standard_exponential((reps, n))
    if dispatchers > 1:
        gen.integers(dispatchers, size=(reps, n))
    cand = kernels.distinct_draws(gen, (n, reps), n_pods, 2)
    for rep in range(reps):
        ref = _ewma_lua_loop(r["arrival_s"][rep], r["service_s"][rep], cand[:, rep], tau)
        np.testing.assert_array_equal(r["pod"][rep], ref)
    # both outcomes of the comparison occur, so the scores really decide
    second_won = (r["pod"] == cand[:, :, 1].T).mean()
    assert 0.1 < second_won < 0.9


def test_ewma_per_worker_alias_keeps_one_table_per_worker():
    kw = dict(pods=4, utilization=0.8, dispatchers=4, requests=3_000, replications=2, rng=12)
    per_worker = lb.simulate("ingress-nginx-ewma-per-worker", **kw)
    assert per_worker.params["shared_state"] is False
    pd.testing.assert_frame_equal(
        per_worker.summary, lb.simulate("ewma", shared_state=False, **kw).summary
    )
    assert lb.simulate("ingress-nginx-ewma", **kw).params["shared_state"] is True


@pytest.mark.parametrize(
    "spelling", ["envoy-least-request", "Envoy_Least_Request", "ENVOY-LEAST_REQUEST"]
)
def test_envoy_least_request_refuses_weights_under_every_spelling(spelling):
    with pytest.raises(ValueError, match="weights"):
        lb.simulate(spelling, pods=2, weights=[2, 1], utilization=0.5, requests=100)

"""Regression tests for the reviewed defects of k8smodel.lb, each against an independent value."""

import heapq
import math

import numpy as np
import pytest
from nginx_reference import nginx_least_conn_loop
from scipy import stats

from k8smodel import lb
from k8smodel.lb import simulation as sim

# --- 1. power_of_two: a pod forced past its capacity by its own draws --------------------------


def test_one_draw_with_skewed_draw_weights_overloads_a_pod():
    # d = 1 with draw probabilities p: pod i is offered exactly Lambda * p_i. With
    # p_0 = 0.4, 4 unit pods at utilization 0.9: Lambda = 3.6, pod 0 gets 1.44 >= 1.
    kw = {"pods": 4, "choices": 1, "draw_weights": [0.4, 0.2, 0.2, 0.2], "requests": 2_000,
          "replications": 2, "rng": 1}  # fmt: skip
    row = lb.simulate("power_of_two", utilization=0.9, **kw).summary.iloc[0]
    assert not row.stable and math.isinf(row.mean_response)
    th = lb.theory("power_of_two", pods=4, choices=1, draw_weights=[0.4, 0.2, 0.2, 0.2],
                   utilization=0.9).iloc[0]  # fmt: skip
    assert not th.stable and math.isinf(th.mean_response)
    # at 0.6: Lambda p_0 = 2.4 * 0.4 = 0.96 < 1, stable
    row = lb.simulate("power_of_two", utilization=0.6, **kw).summary.iloc[0]
    assert row.stable and math.isfinite(row.mean_response)


def test_two_draws_with_replacement_overload_a_very_slow_pod():
    # speeds [1, 0.05] at 0.9: Lambda = 0.945; pod 1 is drawn twice with probability 1/4,
    # so it gets at least 0.236 > its capacity 0.05, whatever the counts say.
    row = lb.simulate("envoy-least-request", pods=2, speeds=[1, 0.05], utilization=0.9,
                      requests=2_000, replications=2, rng=2).summary.iloc[0]  # fmt: skip
    assert not row.stable and math.isinf(row.mean_response)
    th = lb.theory("power_of_two", pods=2, speeds=[1, 0.05], utilization=0.9).iloc[0]
    assert not th.stable
    # distinct draws (nginx random two) never send a request to a pod without comparing
    row = lb.simulate("nginx-random-two", pods=2, speeds=[1, 0.05], utilization=0.9,
                      requests=2_000, replications=2, rng=2).summary.iloc[0]  # fmt: skip
    assert row.stable


def test_theory_has_no_mean_field_for_unequal_weights():
    row = lb.theory("power_of_two", pods=4, weights=[2, 1, 1, 1], utilization=0.5).iloc[0]
    assert math.isnan(row.mean_response) and row.stable


# --- 2. fast random path with empty pods --------------------------------------------------------


def test_random_with_more_pods_than_requests_per_pod():
    res = lb.simulate("random", pods=64, utilization=0.5, requests=100, replications=4, rng=3)
    row = res.summary.iloc[0]
    assert math.isfinite(row.mean_response) and math.isfinite(row.cov_utilization)
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
    np.testing.assert_allclose(busy.mean_response, 1.0, atol=1e-12)
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
    gen = np.random.default_rng(6)
    reps, n = 2, 3_000
    arrival = np.cumsum(gen.exponential(1 / (0.97 * 2), (reps, n)), axis=1)
    base = gen.exponential(1.0, (reps, n))
    pod, _, _ = sim._dynamic(
        "least_connections", gen, arrival, base, None, n_pods=2, k=1, c=1, spd=np.ones(2),
        w=np.asarray(weights, float), d=2, distinct=False, shared=True, conn=None, tau=1.0,
    )  # fmt: skip
    observe, differs = _float_disagreements(weights)
    for r in range(reps):
        ref, _ = nginx_least_conn_loop(arrival[r], base[r], weights, observe)
        np.testing.assert_array_equal(pod[r], ref)
    assert differs[0] > 0  # the run does reach the states where floats would break the tie


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
    row = lb.theory("random", pods=2, speeds=[1, 0.5], utilization=0.9).iloc[0]
    assert math.isinf(row.ceiling_mean_response)


# --- 4, 9. input that used to be accepted silently ----------------------------------------------


@pytest.mark.parametrize(
    ("policy", "kwargs", "match"),
    [
        ("power_of_two", {"shared_state": "no"}, "shared_state"),
        ("power_of_two", {"distinct": 1}, "distinct"),
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
    row = lb.theory("least_connections", pods=2, weights=[3, 1], utilization=0.5).iloc[0]
    assert math.isnan(row.mean_response)
    assert lb.theory("least_connections", pods=2, utilization=0.5).mean_response[0] == (
        pytest.approx(lb.jsq_mean_response(2, 0.5))
    )


def test_compare_rejects_no_policies():
    with pytest.raises(ValueError, match="policies"):
        lb.compare([], pods=2, utilization=0.5)


def test_gi_m1_sigma_rejects_bad_rate():
    with pytest.raises(ValueError, match="mu"):
        lb.gi_m1_sigma(lambda s: 1 / (1 + s), -1.0)


# --- 11. draw probabilities apart from the weights (HAProxy random(d) on its ring) --------------


def test_draw_weights_set_who_is_drawn_and_counts_stay_unweighted():
    # At a negligible load every candidate is idle: a tie, so the first draw is served and
    # pod 0's share is its draw probability 3/4 (a Bernoulli mean with SE sqrt(pq/N)).
    n = 20_000
    res = lb.simulate("haproxy-random", pods=2, draw_weights=[3, 1], utilization=1e-7,
                      requests=n, replications=2, warmup=0.0, rng=8)  # fmt: skip
    share0 = res.per_pod[res.per_pod.pod == 0].share.to_numpy()
    se = math.sqrt(0.75 * 0.25 / n)
    assert (np.abs(share0 - 0.75) < 4 * se).all()
    # Under load the comparison of counts is unweighted: pod 1, drawn less often, still gets
    # more than its 1/4 draw share (it wins whenever it is drawn and less busy), and below 1/2.
    res = lb.simulate("haproxy-random", pods=2, draw_weights=[3, 1], utilization=0.7,
                      requests=20_000, replications=2, rng=9)  # fmt: skip
    share1 = res.per_pod[res.per_pod.pod == 1].share.to_numpy()
    assert (share1 > 0.25 + 4 * math.sqrt(0.25 * 0.75 / 18_000)).all() and (share1 < 0.5).all()


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


def test_ewma_choices_follow_ewma_lua():
    n_pods, reps, n, tau = 3, 2, 800, 5.0
    gen = np.random.default_rng(10)
    arrival = np.cumsum(gen.exponential(1 / (0.8 * n_pods), (reps, n)), axis=1)
    base = gen.exponential(1.0, (reps, n))
    pod, _, _ = sim._dynamic(
        "ewma", np.random.default_rng(11), arrival, base, None, n_pods=n_pods, k=1, c=1,
        spd=np.ones(n_pods), w=np.ones(n_pods), d=2, distinct=True, shared=False, conn=None,
        tau=tau,
    )  # fmt: skip
    # The candidate pairs: the first draw _dynamic makes for ewma, from the same seed.
    cand = sim._distinct_draws(np.random.default_rng(11), (n, reps), n_pods, 2)
    for r in range(reps):
        np.testing.assert_array_equal(pod[r], _ewma_lua_loop(arrival[r], base[r], cand[:, r], tau))
    # both outcomes of the comparison occur, so the scores really decide
    second_won = (pod == cand[:, :, 1].T).mean()
    assert 0.1 < second_won < 0.9


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


def test_theory_knows_nginx_random_two_draws_distinct_pods():
    # two distinct draws always compare two pods, so no pod is forced past its capacity
    row = lb.theory("nginx-random-two", pods=2, speeds=[1, 0.05], utilization=0.9).iloc[0]
    assert row.stable
    df = lb.compare(["haproxy-random"], pods=4, utilization=0.9, requests=2_000, replications=2,
                    choices=1, draw_weights=[0.4, 0.2, 0.2, 0.2], rng=12)  # fmt: skip
    assert not df.stable[0] and math.isinf(df.theory_mean_response[0])

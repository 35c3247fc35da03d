"""The compiled event loop against plain-Python references and against the numpy loop."""

import heapq
import math

import numpy as np
import pandas as pd
import pytest

from k8smodel import lb
from k8smodel.lb import _compiled, blocks, kernels


def _best_of_d_reference(arrival, work, cand, disp, n_pods, weights, distinct, c, views):
    """Best of d drawn pods by in-flight count over weight, one request at a time.

    Integer cross-multiplication as nginx's ngx_http_upstream_get_random2_peer; with
    distinct draws the later one wins ties (nginx random two), else the first (Envoy).
    """
    counts = [[0] * n_pods for _ in range(views)]
    free = [[0.0] * c for _ in range(n_pods)]
    done = []  # heap of (completion time, view, pod)
    chosen = []
    for j, (t, x) in enumerate(zip(arrival, work, strict=True)):
        while done and done[0][0] <= t:
            _, v_done, q = heapq.heappop(done)
            counts[v_done][q] -= 1
        v = int(disp[j]) if views > 1 else 0
        best = int(cand[j][0])
        for p in cand[j][1:]:
            lhs, rhs = counts[v][p] * weights[best], counts[v][best] * weights[p]
            if lhs < rhs or (distinct and lhs == rhs):
                best = int(p)
        thread = min(range(c), key=lambda k, b=best: (free[b][k], k))
        dep = max(t, free[best][thread]) + x
        free[best][thread] = dep
        counts[v][best] += 1
        heapq.heappush(done, (dep, v, best))
        chosen.append(best)
    return np.array(chosen)


CASES = [
    ("power_of_two", {"pods": 5, "choices": 3}),
    ("nginx-random-two", {"pods": 3, "weights": [3, 1, 2]}),
    ("haproxy-random", {"pods": 4, "draw_weights": lb.haproxy_ring_shares(4).tolist()}),
    ("power_of_two", {"pods": 4, "dispatchers": 3, "shared_state": False, "concurrency": 2}),
    ("envoy-least-request", {"pods": 4, "dispatchers": 3}),
]


@pytest.mark.parametrize(("policy", "kw"), CASES)
def test_best_of_d_follows_the_reference_request_by_request(policy, kw):
    reps, n, seed = 2, 1_500, 40
    res = lb.simulate(policy, utilization=0.85, requests=n, replications=reps, warmup=0.0,
                      keep_requests=True, rng=seed, **kw)  # fmt: skip
    req = res.requests
    arrival = req.arrival_s.to_numpy().reshape(reps, n)
    work = req.service_s.to_numpy().reshape(reps, n)
    pod = req.pod.to_numpy().reshape(reps, n)
    # The draws simulate makes, in its documented order: service times, arrivals,
    # dispatchers (when several), then the candidates.
    gen = np.random.default_rng(seed)
    gen.standard_exponential((reps, n))
    gen.standard_exponential((reps, n))
    k = kw.get("dispatchers", 1)
    disp = gen.integers(k, size=(reps, n)) if k > 1 else np.zeros((reps, n), dtype=int)
    params = res.params
    n_pods, d, distinct = params["pods"], params["choices"], params["distinct"]
    draw_w = np.asarray(params["draw_weights"])
    if not np.all(draw_w == draw_w[0]):
        cand = kernels.weighted_draws(gen, (n, reps), draw_w, d, distinct)
    elif distinct:
        cand = kernels.distinct_draws(gen, (n, reps), n_pods, d)
    else:
        cand = gen.integers(n_pods, size=(n, reps, d))
    views = k if (k > 1 and not params["shared_state"]) else 1
    weights = [int(x) for x in params["weights"]]
    for r in range(reps):
        ref = _best_of_d_reference(arrival[r], work[r], cand[:, r], disp[r], n_pods, weights,
                                   distinct, params["concurrency"], views)  # fmt: skip
        np.testing.assert_array_equal(pod[r], ref)


@pytest.mark.parametrize(
    ("policy", "kw"),
    [
        ("least_connections", {"dispatchers": 3, "weights": [1, 2, 3, 1], "concurrency": 2}),
        ("least_connections", {"dispatchers": 3, "concurrency": 2}),
        ("least_connections", {"pods": 1, "utilization": 0.995, "requests": 20_000}),
        ("haproxy-leastconn", {"dispatchers": 2}),
        ("ewma", {"dispatchers": 2, "requests_per_connection": 4}),
        ("power_of_two", {"requests_per_connection": 4, "weights": [2, 1, 1, 1]}),
    ],
)
def test_compiled_and_numpy_loops_agree(policy, kw, monkeypatch):
    # The numpy loop (each policy's pick hook, across replications) is the path of a policy
    # without a compiled rule; on the same draws both give the same requests. Equal weights
    # take the compiled tournament tree (at 0.995 the queues grow past its first 64 levels).
    run = {"pods": 4, "utilization": 0.8, "requests": 2_000, "replications": 3, "rng": 41, **kw}
    compiled = lb.simulate(policy, **run)
    rule = lb.resolve(policy)[0]
    monkeypatch.setattr(type(rule), "compiled_rule", None)
    plain = lb.simulate(policy, **run)
    pd.testing.assert_frame_equal(compiled.summary, plain.summary)
    pd.testing.assert_frame_equal(compiled.per_pod, plain.per_pod)


@pytest.mark.parametrize(
    ("policy", "kw"),
    [
        ("least_connections", {"dispatchers": 3, "concurrency": 2}),
        ("least_connections", {"weights": [1, 2, 3, 1], "requests_per_connection": 3}),
        ("least_connections", {"pods": 1, "utilization": 0.995, "requests": 6_000}),
        ("haproxy-leastconn", {"dispatchers": 2, "requests_per_connection": math.inf}),
        ("power_of_two", {"choices": 3, "speeds": [1.0, 2.0, 1.0, 0.5]}),
        ("ewma", {"dispatchers": 2, "requests_per_connection": 4}),
        # single-thread pods without connections: the lazy per-key queues cross the blocks
        ("power_of_two", {"dispatchers": 2, "shared_state": False}),
        ("ewma", {"dispatchers": 2}),
        ("least_connections", {"pods": 3, "utilization": 0.97, "weights": [1, 2, 1]}),
    ],
)
def test_streamed_blocks_equal_one_call_over_the_same_draws(policy, kw, monkeypatch):
    # Blocks of 301 requests over 3 replications (100 each, cut through the warm-up and
    # every queue): the streamed run carries the queues, heaps, trees and connections
    # from block to block and sums as it goes; keep_requests runs the same draws in one
    # call and sums the request arrays with numpy. Both must give the same bits.
    monkeypatch.setattr(blocks, "BLOCK_REQUESTS", 301)
    run = {"pods": 4, "utilization": 0.85, "requests": 2_000, "replications": 3, "rng": 7, **kw}
    streamed = lb.simulate(policy, **run)
    whole = lb.simulate(policy, keep_requests=True, **run)
    pd.testing.assert_frame_equal(streamed.summary, whole.summary)
    pd.testing.assert_frame_equal(streamed.per_pod, whole.per_pod)
    # ... and both agree with plain pandas sums over the kept requests (a separate reduction).
    req = whole.requests
    req = req[req.groupby("replication").cumcount() >= int(0.1 * run["requests"])]
    resp = req.departure_s - req.arrival_s
    by_pod = resp.groupby([req.replication, req.pod]).agg(["count", "mean"])
    pods = streamed.per_pod.set_index(["replication", "pod"])
    seen = pods.requests > 0
    np.testing.assert_array_equal(pods.requests[seen], by_pod["count"].reindex(pods.index[seen]))
    np.testing.assert_allclose(
        pods.mean_response_s[seen], by_pod["mean"].reindex(pods.index[seen]), rtol=1e-12
    )
    q = np.quantile(resp, [0.5, 0.95, 0.99])
    row = streamed.summary.iloc[0]
    if row.stable:
        np.testing.assert_allclose(
            [row.p50_response_s, row.p95_response_s, row.p99_response_s], q, rtol=1e-12
        )


def test_one_block_draws_in_the_documented_order():
    # A run that fits in one block draws service times, arrival gaps, then candidates,
    # each for the whole run: the draw_blocks layout reduces to one call.
    gen = np.random.default_rng(3)
    spec = lb.LbSpec(lb.Balancer("power_of_two", distinct=True), pods=5, utilization=0.5)
    (block,) = blocks.draw_blocks(spec.balancer.rule, gen, spec, 2, 50)
    ref = np.random.default_rng(3)
    np.testing.assert_array_equal(block.base, ref.standard_exponential((2, 50)))
    arrival = np.cumsum(ref.standard_exponential((2, 50)), axis=1) / spec.arrival_rate_per_s
    np.testing.assert_array_equal(block.arrival, arrival)
    np.testing.assert_array_equal(block.candidates, kernels.distinct_draws(ref, (50, 2), 5, 2))


def test_sliced_calls_on_kept_draws_equal_one_call(monkeypatch):
    # keep_requests runs the loop over the drawn arrays in slices; slices of 250 requests
    # (83 per replication, so the in-flight heap and tree levels are re-sized between
    # calls) give every request the same pod and departure as one call.
    run = {"pods": 3, "utilization": 0.97, "requests": 3_000, "replications": 3, "rng": 5,
           "keep_requests": True}  # fmt: skip
    whole = lb.simulate("least_connections", **run)
    monkeypatch.setattr(blocks, "SLICE_REQUESTS", 250)
    sliced = lb.simulate("least_connections", **run)
    pd.testing.assert_frame_equal(whole.requests, sliced.requests)
    pd.testing.assert_frame_equal(whole.summary, sliced.summary)


@pytest.mark.parametrize(
    ("policy", "kw"),
    [
        ("power_of_two", {"pods": 64, "choices": 3}),
        ("nginx-random-two", {"pods": 3, "weights": [3, 1, 2]}),
        ("envoy-least-request", {"pods": 4, "dispatchers": 3}),
        ("haproxy-random", {"pods": 6, "draw_weights": lb.haproxy_ring_shares(6).tolist()}),
        ("ewma", {"pods": 50}),
        ("ewma", {"pods": 8, "dispatchers": 2, "speeds": [1, 2, 1, 1, 0.5, 1, 1, 1]}),
        ("least_connections", {"pods": 12}),
        ("least_connections", {"pods": 40, "weights": [1, 2] * 20}),
        ("least_connections", {"pods": 8, "dispatchers": 4, "shared_state": False}),
        ("least_connections", {"pods": 5, "service": 0.5}),
    ],
)
@pytest.mark.parametrize("utilization", [0.6, 0.97])
def test_lazy_queues_and_the_heap_give_the_same_requests(policy, kw, utilization, monkeypatch):
    # Single-thread pods complete their requests in order, so the lazy loop keeps a FIFO
    # queue per key and completes a key's requests only when it looks at that key; the heap
    # loop completes every request in time order. Every request must land on the same pod
    # at the same time. (Service laws here have no atom at zero: two requests of one pod
    # finishing at the same instant would reach EWMA's score in a different order.)
    _lazy = _compiled._lazy
    run = {"utilization": utilization, "requests": 5_000, "replications": 2, "rng": 9,
           "keep_requests": True, **kw}  # fmt: skip
    taken = []
    monkeypatch.setattr(_compiled, "_lazy", lambda *a: taken.append(_lazy(*a)) or taken[-1])
    lazy = lb.simulate(policy, **run)
    assert taken and all(taken)  # this case runs the lazy loop
    monkeypatch.setattr(_compiled, "_lazy", lambda *args: False)
    heap = lb.simulate(policy, **run)
    pd.testing.assert_frame_equal(lazy.requests, heap.requests)
    pd.testing.assert_frame_equal(lazy.summary, heap.summary)


@pytest.mark.parametrize(
    ("policy", "kw"),
    [
        ("least_connections", {"pods": 40, "utilization": 0.9}),
        ("least_connections", {"pods": 20, "utilization": 0.999, "dispatchers": 3}),
        ("least_connections", {"pods": 6, "concurrency": 2, "utilization": 0.95}),
        ("power_of_two", {"pods": 8, "concurrency": 3, "utilization": 0.9}),
        # overload: the queues outgrow the calendar and the replication moves to the heap
        ("least_connections", {"pods": 20, "utilization": 1.5}),
    ],
)
def test_calendar_and_heap_give_the_same_requests(policy, kw, monkeypatch):
    # Completions that only take a count back commute, so the calendar of buckets may
    # complete them in any order before an arrival; the heap completes them in time order.
    # Blocks of 997 requests (332 per replication) make the calendar cross block ends.
    monkeypatch.setattr(blocks, "BLOCK_REQUESTS", 997)
    run = {"requests": 8_000, "replications": 3, "rng": 4, **kw}
    buckets = _compiled._calendar_buckets(kw["pods"], kw.get("concurrency", 1))
    assert 3 * buckets <= _compiled.CALENDAR_MAX_ENTRIES  # these runs have a calendar
    calendar = lb.simulate(policy, **run)
    calendar_kept = lb.simulate(policy, keep_requests=True, **run)
    monkeypatch.setattr(_compiled, "CALENDAR_MAX_ENTRIES", 0)
    heap = lb.simulate(policy, **run)
    heap_kept = lb.simulate(policy, keep_requests=True, **run)
    pd.testing.assert_frame_equal(calendar.summary, heap.summary)
    pd.testing.assert_frame_equal(calendar.per_pod, heap.per_pod)
    pd.testing.assert_frame_equal(calendar_kept.requests, heap_kept.requests)

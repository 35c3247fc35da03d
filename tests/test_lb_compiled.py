"""The compiled event loop against plain-Python references and against the numpy loop."""

import heapq

import numpy as np
import pandas as pd
import pytest

from k8smodel import lb
from k8smodel.lb import kernels


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

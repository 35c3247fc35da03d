"""An independent, request-by-request transcription of nginx least_conn for the tests."""

import heapq

import numpy as np


def nginx_least_conn_loop(arrival, work, weights, observe=None):
    """nginx least_conn written as the C loop reads, one request at a time.

    Transcribed from ngx_http_upstream_least_conn_module.c (ngx_http_upstream_get_least_conn_peer):
    the fewest connections relative to weight by integer cross-multiplication, ties broken by
    smooth weighted round robin. ``observe(conns)`` sees the counts before each choice.
    """
    n_pods = len(weights)
    conns = [0] * n_pods
    current = [0] * n_pods
    departures = []  # heap of (time, pod)
    free = [0.0] * n_pods
    pods, deps = [], []
    for a, x in zip(arrival, work, strict=True):
        while departures and departures[0][0] <= a:
            _, q = heapq.heappop(departures)
            conns[q] -= 1
        if observe is not None:
            observe(conns)
        best, many = None, False
        for i in range(n_pods):
            if best is None or conns[i] * weights[best] < conns[best] * weights[i]:
                best, many = i, False
            elif conns[i] * weights[best] == conns[best] * weights[i]:
                many = True
        total = 0
        if many:
            first = best
            for i in range(first, n_pods):
                if conns[i] * weights[first] != conns[first] * weights[i]:
                    continue
                current[i] += weights[i]
                total += weights[i]
                if current[i] > current[best]:
                    best = i
        current[best] -= total
        conns[best] += 1
        d = max(a, free[best]) + x
        free[best] = d
        heapq.heappush(departures, (d, best))
        pods.append(best)
        deps.append(d)
    return np.array(pods), np.array(deps)

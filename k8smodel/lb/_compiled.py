"""Compiled (numba) event loop for the built-in state-dependent policies.

One replication after another, one request after another: the per-step cost is a
few scalar operations instead of a dozen numpy calls across replications, so one
long replication runs as fast per request as many short ones. All randomness is
drawn by numpy before the call (arrivals, service times, dispatchers, candidates,
connection slots), so a seed gives the same numbers as the numpy loop in
:func:`k8smodel.lb.kernels.run_event_loop`, which remains the path of any policy
without a compiled rule. Requests in flight sit in a binary min-heap of completion
times, so finishing them costs ``log`` of their number. Least connections with equal
weights keeps a tournament tree per dispatcher view whose root is the pod nginx picks
(lowest count, then largest ``current_weight``, then lowest index); the ``+1`` nginx adds
to every tied peer's ``current_weight`` is one increment of a per-count accumulator, so a
change costs ``log n`` instead of a scan of every pod. Unequal weights scan the pods.

The rules are selected by an integer (:data:`LEAST_CONNECTIONS`, :data:`BEST_OF_D`,
:data:`EWMA`) that each policy module names as its ``compiled_rule``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["BEST_OF_D", "EWMA", "LEAST_CONNECTIONS", "event_loop"]

#: nginx least_conn: fewest in flight over weight, smooth weighted round robin among ties.
LEAST_CONNECTIONS = 0
#: The best of d drawn candidates (nginx random two, Envoy least request, HAProxy random(d)).
BEST_OF_D = 1
#: ingress-nginx ewma.lua: two candidates, lower decayed response-time score.
EWMA = 2


@njit(cache=True)
def _heap_push(ht, hk, hr, size, t, k, rtt):  # pragma: no cover - compiled
    i = size
    ht[i], hk[i], hr[i] = t, k, rtt
    while i > 0:
        parent = (i - 1) >> 1
        if ht[parent] <= ht[i]:
            break
        ht[parent], ht[i] = ht[i], ht[parent]
        hk[parent], hk[i] = hk[i], hk[parent]
        hr[parent], hr[i] = hr[i], hr[parent]
        i = parent
    return size + 1


@njit(cache=True)
def _heap_pop(ht, hk, hr, size):  # pragma: no cover - compiled
    size -= 1
    ht[0], hk[0], hr[0] = ht[size], hk[size], hr[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        small = left
        if left + 1 < size and ht[left + 1] < ht[left]:
            small = left + 1
        if ht[i] <= ht[small]:
            break
        ht[small], ht[i] = ht[i], ht[small]
        hk[small], hk[i] = hk[i], hk[small]
        hr[small], hr[i] = hr[i], hr[small]
        i = small
    return size


@njit(cache=True)
def _least_connections(counts, cw, scale, w, off, n_pods, weighted):  # pragma: no cover
    best = counts[off] * scale[0]
    for p in range(1, n_pods):
        s = counts[off + p] * scale[p]
        if s < best:
            best = s
    tied_w = 0.0
    choice = -1
    top = -np.inf
    for p in range(n_pods):
        if counts[off + p] * scale[p] == best:
            add = w[p] if weighted else 1.0
            cw[off + p] += add
            tied_w += add
            if cw[off + p] > top:
                top = cw[off + p]
                choice = p
    cw[off + choice] -= tied_w
    return choice


@njit(cache=True)
def _better(lvl, key, a, b):  # pragma: no cover - compiled
    """Whether tree entry ``a`` beats ``b``: lower count, then larger weight, then lower pod."""
    if lvl[a] != lvl[b]:
        return lvl[a] < lvl[b]
    if key[a] != key[b]:
        return key[a] > key[b]
    return a < b


@njit(cache=True)
def _tree_set(win, lvl, key, leaves, base, p):  # pragma: no cover - compiled
    """Re-decide the winners on the path from pod ``p``'s leaf to the root of one view."""
    node = (leaves + p) >> 1
    while node >= 1:
        a, b = win[base + 2 * node], win[base + 2 * node + 1]
        win[base + node] = a if _better(lvl, key, a, b) else b
        node >>= 1


@njit(cache=True)
def _tree_move(win, lvl, key, acc, nlev, leaves, v, off, p, delta):  # pragma: no cover
    """Pod ``p`` of view ``v`` gains ``delta`` requests; its weight keeps its true value.

    ``current_weight = key + acc[v, count]``: every pod at the lowest count gains 1 at
    once by ``acc[v, count] += 1`` (nginx adds ``effective_weight`` to each tied peer).
    """
    q = off + p
    old = lvl[q]
    cw = key[q] + acc[v, old]
    nlev[v, old] -= 1
    lvl[q] = old + delta
    key[q] = cw - acc[v, old + delta]
    nlev[v, old + delta] += 1
    _tree_set(win, lvl, key, leaves, v * 2 * leaves, p)


@njit(cache=True)
def _grow(a):  # pragma: no cover - compiled
    b = np.zeros((a.shape[0], 2 * a.shape[1]), dtype=a.dtype)
    b[:, : a.shape[1]] = a
    return b


@njit(cache=True)
def _grow_heap(ht, hk, hr):  # pragma: no cover - compiled
    """The heap's arrays at twice their capacity (in-flight requests are few; n is a bound)."""
    m = ht.shape[0]
    ht2, hk2, hr2 = np.empty(2 * m), np.empty(2 * m, dtype=np.int64), np.empty(2 * m)
    ht2[:m], hk2[:m], hr2[:m] = ht, hk, hr
    return ht2, hk2, hr2


@njit(cache=True)
def _best_of_d(counts, scale, cand, off, distinct):  # pragma: no cover - compiled
    d = cand.shape[0]
    choice = cand[0]
    best = counts[off + choice] * scale[choice]
    for i in range(1, d):
        p = cand[i]
        s = counts[off + p] * scale[p]
        if s < best or (distinct and s == best):  # nginx random two: the later draw wins ties
            best = s
            choice = p
    return choice


@njit(cache=True)
def event_loop(
    rule, arrival, base, disp, views, n_pods, c, spd, scale, w, weighted, cand, distinct,
    conn_id, opener, pool, count_requests, learns, tau, first, keep,
):  # fmt: skip  # pragma: no cover - compiled
    """Per-pod sums of the requests after the warm-up, their responses, and optionally each request.

    Returns ``(counts, busy, resp_sum, wait_sum, placed, kept, pod_out, dep_out)``:
    per ``(replication, pod)`` the requests from index ``first`` on, their work, their
    response times and their waits (each summed in request order, as
    :func:`numpy.bincount` sums them), the connections opened on each pod (all
    requests), every kept response time (replication after replication), and with
    ``keep`` the pod and departure of every request ``(replications, requests)``.
    """
    reps, n = arrival.shape
    n_state = views * n_pods
    pod_out = np.empty((reps, n) if keep else (1, 1), dtype=np.int64)
    dep_out = np.empty((reps, n) if keep else (1, 1))
    n_kept = n - first
    cnt_out = np.zeros((reps, n_pods), dtype=np.int64)
    busy_out = np.zeros((reps, n_pods))
    resp_out = np.zeros((reps, n_pods))
    wait_out = np.zeros((reps, n_pods))
    placed = np.zeros((reps, n_pods), dtype=np.int64)
    kept = np.empty(reps * n_kept)
    counts = np.zeros(n_state, dtype=np.int64)
    cw = np.zeros(n_state)
    ewma = np.zeros(n_state)
    last = np.zeros(n_state)
    free = np.zeros((n_pods, c))
    track = count_requests or learns
    cap = min(n, 1024) if track else 1
    ht, hk, hr = np.empty(cap), np.empty(cap, dtype=np.int64), np.empty(cap)
    by_conn = conn_id.shape[0] > 0
    n_ids = 1
    if by_conn:
        for r in range(reps):
            for j in range(n):
                if conn_id[r, j] + 1 > n_ids:
                    n_ids = conn_id[r, j] + 1
    conn_pod = np.zeros(n_ids, dtype=np.int64)
    conn_key = np.zeros(n_ids, dtype=np.int64)
    uniform = True
    for p in range(n_pods):
        if spd[p] != 1.0:
            uniform = False
    # Equal weights: least connections with nginx's tie-break from a tournament tree per view
    # (log n per change) instead of a scan of every pod per request.
    tree = rule == LEAST_CONNECTIONS and not weighted
    leaves = 1
    while leaves < n_pods:
        leaves *= 2
    max_level = 64 if tree else 1  # counts reached so far; doubled when a pod goes past it
    win = np.zeros(views * 2 * leaves if tree else 1, dtype=np.int64)
    acc = np.zeros((views, max_level if tree else 1))
    nlev = np.zeros((views, max_level if tree else 1), dtype=np.int64)
    for r in range(reps):
        counts[:] = 0
        cw[:] = 0.0
        ewma[:] = 0.0
        last[:] = 0.0
        free[:, :] = 0.0
        size = 0
        if tree:
            acc[:, :] = 0.0
            nlev[:, :] = 0
            for v in range(views):
                nlev[v, 0] = n_pods
                b = v * 2 * leaves
                for node in range(leaves, 2 * leaves):  # empty leaves hold pod 0's index
                    win[b + node] = v * n_pods + min(node - leaves, n_pods - 1)
                for node in range(leaves - 1, 0, -1):
                    x, y = win[b + 2 * node], win[b + 2 * node + 1]
                    win[b + node] = x if _better(counts, cw, x, y) else y
        for j in range(n):
            t = arrival[r, j]
            while size > 0 and ht[0] <= t:
                key, td, rtt = hk[0], ht[0], hr[0]
                size = _heap_pop(ht, hk, hr, size)
                if learns:  # ewma.lua after_balance
                    wgt = math.exp(-max(td - last[key], 0.0) / tau)
                    ewma[key] = ewma[key] * wgt + rtt * (1.0 - wgt)
                    last[key] = td
                elif tree:
                    _tree_move(
                        win,
                        counts,
                        cw,
                        acc,
                        nlev,
                        leaves,
                        key // n_pods,
                        key - key % n_pods,
                        key % n_pods,
                        -1,
                    )
                else:
                    counts[key] -= 1
            off = disp[r, j] * n_pods if views > 1 else 0
            opens = True
            if by_conn:
                cid = conn_id[r, j]
                opens = opener[r, j]
                if opens and cid - pool >= 0:
                    key = conn_key[cid - pool]
                    if tree:
                        _tree_move(
                            win,
                            counts,
                            cw,
                            acc,
                            nlev,
                            leaves,
                            key // n_pods,
                            key - key % n_pods,
                            key % n_pods,
                            -1,
                        )
                    else:
                        counts[key] -= 1
            if opens:
                if tree:
                    v = off // n_pods
                    p = win[v * 2 * leaves + 1] - off
                    level = counts[off + p]
                    acc[v, level] += 1.0
                    cw[off + p] -= nlev[v, level]
                elif rule == LEAST_CONNECTIONS:
                    p = _least_connections(counts, cw, scale, w, off, n_pods, weighted)
                elif rule == BEST_OF_D:
                    p = _best_of_d(counts, scale, cand[j, r], off, distinct)
                else:
                    p = cand[j, r, 0]
                    if cand.shape[2] > 1:
                        q = cand[j, r, 1]
                        sa = ewma[off + p] * math.exp(-max(t - last[off + p], 0.0) / tau)
                        sb = ewma[off + q] * math.exp(-max(t - last[off + q], 0.0) / tau)
                        if sb < sa:
                            p = q
                if by_conn:
                    placed[r, p] += 1
                    conn_pod[cid] = p
                    conn_key[cid] = off + p
                    if tree:
                        if counts[off + p] + 2 >= acc.shape[1]:
                            acc, nlev = _grow(acc), _grow(nlev)
                        _tree_move(win, counts, cw, acc, nlev, leaves, off // n_pods, off, p, 1)
                    else:
                        counts[off + p] += 1
            else:
                p = conn_pod[cid]
            x = base[r, j] if uniform else base[r, j] / spd[p]
            i = 0
            for k in range(1, c):
                if free[p, k] < free[p, i]:
                    i = k
            dep = max(t, free[p, i]) + x
            free[p, i] = dep
            if keep:
                pod_out[r, j] = p
                dep_out[r, j] = dep
            if j >= first:
                resp = dep - t
                cnt_out[r, p] += 1
                busy_out[r, p] += x
                resp_out[r, p] += resp
                wait_out[r, p] += max(resp - x, 0.0)
                kept[r * n_kept + j - first] = resp
            if track:
                if count_requests and tree:
                    if counts[off + p] + 2 >= acc.shape[1]:
                        acc, nlev = _grow(acc), _grow(nlev)
                    _tree_move(win, counts, cw, acc, nlev, leaves, off // n_pods, off, p, 1)
                elif count_requests:
                    counts[off + p] += 1
                if size == ht.shape[0]:
                    ht, hk, hr = _grow_heap(ht, hk, hr)
                size = _heap_push(ht, hk, hr, size, dep, off + p, dep - t)
    return cnt_out, busy_out, resp_out, wait_out, placed, kept, pod_out, dep_out

"""Vectorized simulation of a Service's pods behind a dispatch policy.

All randomness is drawn in bulk before any queueing is done:

* ``random`` and ``round_robin`` choose pods without looking at the state, so
  the pod of every request is computed at once, and each pod's FIFO queue is
  solved by a vectorized Lindley recursion: with the requests of one pod in
  time order, arrival times :math:`A_k` and service times :math:`X_k`, the
  departure times are :math:`D_k = C_k + \\max_{j \\le k}(A_j - C_{j-1})`
  where :math:`C_k = \\sum_{j \\le k} X_j` (unrolling
  :math:`D_k = \\max(A_k, D_{k-1}) + X_k`; Lindley, Proc. Camb. Phil. Soc. 48,
  1952, doi:10.1017/S0305004100027638). A cumulative sum and a running maximum
  over all pods at once (offsets keep the pods apart) replace the loop over
  requests. Multi-threaded pods (``concurrency > 1``) use the Kiefer-Wolfowitz
  workload vector, stepping once per request position across all pods and
  replications together.
* ``least_connections``, ``power_of_two`` and ``ewma`` depend on the state,
  so the simulator steps once over the arrivals, with numpy across
  replications and pods at each step.

Times are in the unit of the service-time law (default: exponential with mean
1, so in mean service times) unless ``time_unit_s`` is given.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from k8smodel import metrics
from k8smodel._random import RngLike, as_generator, spawn_seeds
from k8smodel.lb._inputs import (
    check_int,
    check_positive,
    check_service,
    check_vector,
)
from k8smodel.lb.policies import resolve_policy
from k8smodel.lb.theory import theory as _theory

__all__ = ["SimulationResult", "simulate", "simulate_summary", "compare", "smooth_wrr_sequence"]

_STATIC = {"random", "round_robin"}
#: ingress-nginx ``balancer/ewma.lua``: ``DECAY_TIME = 10`` seconds.
EWMA_DECAY_S = 10.0
#: The length of one time unit assumed by ``ewma`` when ``time_unit_s`` is not given.
DEFAULT_TIME_UNIT_S = 0.010


@dataclass(frozen=True)
class SimulationResult:
    """What :func:`simulate` returns.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row: ``policy``, ``pods``, ``utilization``, ``requests``,
        ``replications``, ``mean_response`` (mean time in system, pooled over
        replications after the warm-up), ``mean_response_se`` (standard error
        from the spread of the replication means), ``p50_response``,
        ``p95_response``, ``p99_response`` (pooled quantiles), ``mean_wait``
        (time queued before service), ``jain_requests`` (Jain's index of
        requests per pod, mean over replications), ``max_share`` (largest pod's
        share of requests, mean over replications), ``cov_utilization``
        (coefficient of variation of busy fraction over pods, mean over
        replications), ``max_utilization`` (busiest pod's busy fraction, mean
        over replications), ``stable`` (no pod is offered its capacity or
        more; if False the time columns are ``inf``) and ``time_unit``.
    per_pod : pandas.DataFrame
        One row per (replication, pod): ``replication``, ``pod``, ``speed``,
        ``weight``, ``requests``, ``share``, ``utilization`` (busy fraction of
        the pod's threads), ``mean_response``.
    params : dict
        The resolved parameters (policy, aliases' options, arrival rate, ...).
    """

    summary: pd.DataFrame
    per_pod: pd.DataFrame
    params: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Semantics helpers


def smooth_wrr_sequence(weights) -> np.ndarray:
    """One period of nginx's smooth weighted round robin over integer ``weights``.

    Parameters
    ----------
    weights : sequence of int
        Positive whole weights.

    Returns
    -------
    numpy.ndarray
        Pod indices, length ``sum(weights)``; pod ``i`` appears ``weights[i]`` times.

    Notes
    -----
    nginx ``src/http/ngx_http_upstream_round_robin.c``, ``ngx_http_upstream_get_peer``:
    every pick adds each peer's weight to its ``current_weight``, takes the
    peer with the largest ``current_weight`` (the first on ties) and subtracts
    the total weight from it. With equal weights this is plain round robin
    ``0, 1, ..., n-1``.
    """
    w = np.asarray(weights, dtype=np.int64)
    total = int(w.sum())
    current = np.zeros(len(w), dtype=np.int64)
    seq = np.empty(total, dtype=np.int64)
    for i in range(total):
        current += w
        best = int(np.argmax(current))
        current[best] -= total
        seq[i] = best
    return seq


def _rank_within(keys: np.ndarray, n_keys: int) -> np.ndarray:
    """For each row, the 0-based count of earlier entries with the same key."""
    reps, n = keys.shape
    order = np.argsort(keys, axis=1, kind="stable")
    sorted_keys = np.take_along_axis(keys, order, axis=1).astype(np.int64)
    flat = sorted_keys + n_keys * np.arange(reps)[:, None]
    counts = np.bincount(flat.ravel(), minlength=reps * n_keys)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).reshape(reps, n_keys)
    starts -= (np.arange(reps) * n)[:, None]
    rank_sorted = np.arange(n)[None, :] - np.take_along_axis(starts, sorted_keys, axis=1)
    rank = np.empty_like(rank_sorted)
    np.put_along_axis(rank, order, rank_sorted, axis=1)
    return rank


def _distinct_draws(gen: np.random.Generator, size, pods: int, d: int) -> np.ndarray:
    """``d`` distinct uniform pods per entry of ``size`` (a uniform random d-subset, in order)."""
    out = np.empty((*size, d), dtype=np.int64)
    for i in range(d):
        x = gen.integers(pods - i, size=size)
        # Skip the pods already drawn, smallest first, so x maps onto the unpicked ones.
        prev = np.sort(out[..., :i], axis=-1)
        for j in range(i):
            x = x + (x >= prev[..., j])
        out[..., i] = x
    return out


def _weighted_draws(gen, size, weights: np.ndarray, d: int, distinct: bool) -> np.ndarray:
    """``d`` pods drawn with probability proportional to ``weights`` (distinct: without repeats)."""
    cum = np.cumsum(weights)
    total = cum[-1]
    if not distinct:
        u = gen.random((*size, d)) * total
        return np.searchsorted(cum, u, side="right").clip(max=len(weights) - 1)
    out = np.empty((*size, d), dtype=np.int64)
    taken_w = np.zeros(size)
    for i in range(d):
        # Draw on the weight line with the picked pods removed, then map back.
        v = gen.random(size) * (total - taken_w)
        prev = np.sort(out[..., :i], axis=-1)
        for j in range(i):
            p = prev[..., j]
            start = cum[p] - weights[p]
            v = v + np.where(v >= start, weights[p], 0.0)
        idx = np.searchsorted(cum, v, side="right").clip(max=len(weights) - 1)
        out[..., i] = idx
        taken_w = taken_w + weights[idx]
    return out


# ---------------------------------------------------------------------------------------------
# Queueing kernels


def _fifo_single(pod: np.ndarray, arrival: np.ndarray, work: np.ndarray) -> np.ndarray:
    """Departure times of single-server FIFO pods by the vectorized Lindley recursion.

    ``pod``, ``arrival`` (non-decreasing along axis 1) and ``work`` have shape
    ``(replications, requests)``; returns departures in the same layout.
    """
    key = pod.astype(np.int16) if pod.max(initial=0) < 2**15 else pod
    order = np.argsort(key, axis=1, kind="stable")  # radix sort for small ints
    a = np.take_along_axis(arrival, order, axis=1)
    x = np.take_along_axis(work, order, axis=1)
    p = np.take_along_axis(pod, order, axis=1)
    cs = np.cumsum(x, axis=1)
    v = a - (cs - x)
    # Offsets larger than the range of v keep each pod's running maximum to itself.
    big = 2.0 * (np.abs(a[:, -1:]) + cs[:, -1:]) + 1.0
    off = p * big
    v += off
    np.maximum.accumulate(v, axis=1, out=v)
    v -= off
    v += cs
    dep = np.empty_like(v)
    np.put_along_axis(dep, order, v, axis=1)
    return dep


def _fifo_multi(
    pod: np.ndarray, arrival: np.ndarray, work: np.ndarray, pods: int, c: int
) -> np.ndarray:
    """Departure times of ``c``-thread FIFO pods (Kiefer-Wolfowitz workload vector)."""
    reps, n = pod.shape
    rank = _rank_within(pod, pods)
    group = pod + pods * np.arange(reps)[:, None]
    length = int(rank.max()) + 1
    a_pad = np.full((reps * pods, length), np.inf)
    x_pad = np.zeros((reps * pods, length))
    a_pad[group, rank] = arrival
    x_pad[group, rank] = work
    free = np.zeros((reps * pods, c))
    d_pad = np.empty((reps * pods, length))
    rows = np.arange(reps * pods)
    for j in range(length):
        i = np.argmin(free, axis=1)
        start = np.maximum(a_pad[:, j], free[rows, i])
        dep = start + x_pad[:, j]
        free[rows, i] = dep
        d_pad[:, j] = dep
    return d_pad[group, rank]


# ---------------------------------------------------------------------------------------------
# The simulator


def _connections(gen, reps, n, per_conn, pool):
    """Which connection carries each request: slot in the client pool and generation."""
    slot = gen.integers(pool, size=(reps, n))
    if math.isinf(per_conn):
        gen_idx = np.zeros((reps, n), dtype=np.int64)
        opener = _rank_within(slot, pool) == 0
    else:
        rank = _rank_within(slot, pool)
        gen_idx = rank // int(per_conn)
        opener = rank % int(per_conn) == 0
    conn_id = slot + pool * gen_idx
    return conn_id, opener, pool


def simulate(
    policy: str,
    *,
    pods: int,
    utilization: float | None = None,
    arrival_rate: float | None = None,
    requests: int = 100_000,
    replications: int = 8,
    rng: RngLike = None,
    dispatchers: int = 1,
    speeds=None,
    weights=None,
    service=None,
    concurrency: int = 1,
    requests_per_connection: float = 1,
    connections: int | None = None,
    choices: int | None = None,
    distinct: bool | None = None,
    shared_state: bool | None = None,
    warmup: float = 0.1,
    time_unit_s: float | None = None,
) -> SimulationResult:
    """Simulate Poisson requests dispatched to a Service's pods by ``policy``.

    Parameters
    ----------
    policy : str
        ``random``, ``round_robin``, ``least_connections``, ``power_of_two``,
        ``ewma`` or an alias (``iptables``, ``nftables``, ``ipvs-rr``,
        ``userspace``, ``nginx-least-conn``, ``haproxy-leastconn``,
        ``envoy-least-request``, ``nginx-random-two``, ``haproxy-random``,
        ``ingress-nginx-ewma``); see :mod:`k8smodel.lb.policies` for the
        semantics and their sources.
    pods : int
        Number of pods ``n >= 1``.
    utilization : float, optional
        :math:`\\rho = \\Lambda / \\sum_i c \\mu_i`, the offered load over the
        total capacity; give this or ``arrival_rate``.
    arrival_rate : float, optional
        Total arrival rate :math:`\\Lambda` (per time unit of ``service``).
    requests : int, default 100_000
        Requests per replication (the first ``warmup`` fraction is discarded).
    replications : int, default 8
        Independent replications, simulated side by side.
    rng : int, Generator, SeedSequence or None
        Randomness.
    dispatchers : int, default 1
        Independent dispatchers (kube-proxies, nginx workers). Each request goes
        to one of them uniformly at random (so each sees a Poisson stream with
        a ``1/k`` share); each has its own round-robin cursor with a random
        start, and, unless ``shared_state``, its own counters.
    speeds : sequence of float, optional
        Relative service rates per pod (a pod of speed 2 serves twice as fast).
    weights : sequence of int, optional
        Balancer weights (``round_robin``, ``least_connections``,
        ``power_of_two``), as nginx ``server ... weight=``.
    service : None, float or frozen scipy.stats distribution
        Service requirement per request: ``None`` is exponential with mean 1,
        a number is deterministic, or any frozen ``scipy.stats`` law (e.g.
        ``scipy.stats.lognorm(1.0, scale=...)``). A pod of speed ``s`` takes
        ``S / s``.
    concurrency : int, default 1
        Threads per pod (each pod is a ``c``-server FIFO queue).
    requests_per_connection : float, default 1
        Requests carried by one connection (keep-alive, HTTP/2, gRPC): the
        policy chooses once per connection. ``math.inf`` keeps every connection
        open for the whole run.
    connections : int, optional
        Size of the client's connection pool when ``requests_per_connection >
        1``: each request goes on one of ``connections`` open connections chosen
        uniformly at random, and a connection that has carried
        ``requests_per_connection`` requests is replaced by a new one (a new
        balancing decision). Default ``4 * pods``.
    choices : int, optional
        Pods drawn per decision by ``power_of_two`` (default 2).
    distinct : bool, optional
        ``power_of_two`` draws distinct pods (nginx ``random two``) or with
        replacement (Envoy, the default).
    shared_state : bool, optional
        Whether dispatchers share their counters (an nginx ``zone``, Envoy's
        and HAProxy's threads) or keep their own (nginx workers without a zone,
        the default, and ingress-nginx's per-worker ewma tables).
    warmup : float, default 0.1
        Fraction of each replication's first requests left out of the statistics.
    time_unit_s : float, optional
        Seconds per time unit of ``service``. When given, the reported times are
        in seconds; ``ewma``'s 10 s decay is converted with it (default: a unit
        of 10 ms).

    Returns
    -------
    SimulationResult
        ``.summary`` (one row), ``.per_pod`` (one row per replication and pod)
        and ``.params``.

    Raises
    ------
    ValueError
        Unknown policy (the message lists policies and aliases), ``pods < 1``,
        ``utilization <= 0``, speeds or weights of the wrong length or not
        positive, a service law with an infinite mean, and similar.

    Notes
    -----
    The theory for each policy is :func:`k8smodel.lb.theory`. ``stable`` is
    False when a pod is offered at least its capacity: for ``random`` and
    ``round_robin`` by the expected share of each pod, for the state-dependent
    policies when ``utilization >= 1``.

    Examples
    --------
    >>> from k8smodel import lb
    >>> res = lb.simulate("least_connections", pods=4, utilization=0.8,
    ...                   requests=20_000, replications=4, rng=1)
    >>> res.summary[["policy", "mean_response", "stable"]]  # doctest: +SKIP
    """
    pol = resolve_policy(policy)
    name = pol.name
    n_pods = check_int(pods, "pods", 1)
    n_req = check_int(requests, "requests", 2)
    reps = check_int(replications, "replications", 1)
    k = check_int(dispatchers, "dispatchers", 1)
    c = check_int(concurrency, "concurrency", 1)
    spd = check_vector(speeds, "speeds", n_pods)
    w = check_vector(weights, "weights", n_pods, integer=name == "round_robin")
    svc = check_service(service)
    d = check_int(pol.defaults.get("choices", 2) if choices is None else choices, "choices", 1)
    if distinct is None:
        distinct = pol.defaults.get("distinct", False)
    if shared_state is None:
        shared_state = pol.defaults.get("shared_state", False)
    if name == "power_of_two" and distinct and d > n_pods:
        raise ValueError(f"choices must be <= pods ({n_pods}) when distinct=True; got {d}")
    if not (isinstance(warmup, int | float) and 0 <= warmup < 1):
        raise ValueError(f"warmup must be a fraction in [0, 1); got {warmup!r}")
    if isinstance(requests_per_connection, bool) or not (
        isinstance(requests_per_connection, int | float)
        and (requests_per_connection >= 1)
        and (
            math.isinf(requests_per_connection)
            or requests_per_connection == int(requests_per_connection)
        )
    ):
        raise ValueError(
            "requests_per_connection must be a whole number >= 1 or math.inf; "
            f"got {requests_per_connection!r}"
        )
    per_conn = float(requests_per_connection)
    pool = check_int(4 * n_pods if connections is None else connections, "connections", 1)
    unit_s = None if time_unit_s is None else check_positive(time_unit_s, "time_unit_s")

    capacity = c * spd / svc.mean
    if (utilization is None) == (arrival_rate is None):
        raise ValueError("give exactly one of utilization and arrival_rate")
    if utilization is not None:
        rho = check_positive(utilization, "utilization")
        big_lambda = rho * capacity.sum()
    else:
        big_lambda = check_positive(arrival_rate, "arrival_rate")
        rho = big_lambda / capacity.sum()

    gen = as_generator(rng)
    shape = (reps, n_req)
    arrival = np.cumsum(gen.standard_exponential(shape), axis=1)
    arrival /= big_lambda
    base = svc.draw(gen, shape)
    disp = gen.integers(k, size=shape) if k > 1 else None
    by_conn = per_conn > 1
    if by_conn:
        conn_id, opener, _ = _connections(gen, reps, n_req, per_conn, pool)
        n_ids = int(conn_id.max()) + 1

    if name in _STATIC:
        share = np.full(n_pods, 1.0 / n_pods) if name == "random" else w / w.sum()
        stable = bool(np.all(big_lambda * share < capacity))
        if name == "random":
            if by_conn:
                conn_pod = gen.integers(n_pods, size=(reps, n_ids))
                pod = np.take_along_axis(conn_pod, conn_id, axis=1)
            else:
                pod = gen.integers(n_pods, size=shape)
        else:
            seq = smooth_wrr_sequence(w.astype(np.int64))
            start = gen.integers(len(seq), size=(reps, k))
            who = disp if disp is not None else np.zeros(shape, dtype=np.int64)
            if by_conn:
                # Cursor positions count connection openings per dispatcher, in time order.
                key = np.where(opener, who, k)
                pos = _rank_within(key, k + 1)
                rr_pod = seq[(np.take_along_axis(start, np.minimum(who, k - 1), axis=1) + pos)
                             % len(seq)]  # fmt: skip
                conn_pod = np.zeros((reps, n_ids), dtype=np.int64)
                rows = np.broadcast_to(np.arange(reps)[:, None], shape)
                conn_pod[rows[opener], conn_id[opener]] = rr_pod[opener]
                pod = np.take_along_axis(conn_pod, conn_id, axis=1)
            else:
                pos = _rank_within(who, k) if k > 1 else np.arange(n_req)[None, :]
                pod = seq[(np.take_along_axis(start, who, axis=1) + pos) % len(seq)]
        work = base / spd[pod]
        if c == 1:
            dep = _fifo_single(pod, arrival, work)
        else:
            dep = _fifo_multi(pod, arrival, work, n_pods, c)
    else:
        stable = rho < 1
        pod, dep, work = _dynamic(
            name,
            gen,
            arrival,
            base,
            disp,
            n_pods=n_pods,
            k=k,
            c=c,
            spd=spd,
            w=w,
            d=d,
            distinct=bool(distinct),
            shared=bool(shared_state),
            conn=(conn_id, opener, n_ids, pool) if by_conn else None,
            tau=EWMA_DECAY_S / (unit_s or DEFAULT_TIME_UNIT_S),
        )

    params = {
        "policy": name,
        "alias": pol.alias,
        "pods": n_pods,
        "utilization": rho,
        "arrival_rate": big_lambda,
        "requests": n_req,
        "replications": reps,
        "dispatchers": k,
        "concurrency": c,
        "speeds": spd.tolist(),
        "weights": w.tolist(),
        "service_mean": svc.mean,
        "service_scv": svc.scv,
        "requests_per_connection": per_conn,
        "connections": pool if by_conn else None,
        "choices": d if name == "power_of_two" else None,
        "distinct": bool(distinct) if name == "power_of_two" else None,
        "shared_state": bool(shared_state),
        "warmup": warmup,
        "time_unit_s": unit_s,
    }
    return _summarize(params, pod, arrival, dep, work, capacity, c, stable, warmup, unit_s)


def _dynamic(name, gen, arrival, base, disp, *, n_pods, k, c, spd, w, d, distinct, shared, conn,
             tau):  # fmt: skip
    """Step once over arrivals for the state-dependent policies (numpy across replications)."""
    reps, n = arrival.shape
    rr = np.arange(reps)
    views = k if (k > 1 and not shared) else 1
    view_of = disp if views > 1 else None
    weighted = not np.all(w == w[0])
    inv_w = 1.0 / w

    # Candidates drawn in bulk.
    if name == "power_of_two":
        if weighted:
            cand = _weighted_draws(gen, (reps, n), w, d, distinct)
        elif distinct:
            cand = _distinct_draws(gen, (reps, n), n_pods, d)
        else:
            cand = gen.integers(n_pods, size=(reps, n, d))
    elif name == "ewma":
        cand = _distinct_draws(gen, (reps, n), n_pods, min(2, n_pods))

    pod_out = np.empty((reps, n), dtype=np.int64)
    dep_out = np.empty((reps, n))
    work_out = np.empty((reps, n))
    free = np.zeros((reps, n_pods)) if c == 1 else np.zeros((reps, n_pods, c))
    cw = np.zeros((reps, views, n_pods))
    by_conn = conn is not None
    count_requests = name in {"least_connections", "power_of_two"} and not by_conn
    if count_requests:
        cap = 16
        buf = np.full((reps, views, n_pods, cap), -np.inf)
    if by_conn:
        conn_id, opener, n_ids, pool = conn
        conn_pod = np.zeros((reps, n_ids), dtype=np.int64)
        conn_view = np.zeros((reps, n_ids), dtype=np.int64)
        conn_count = np.zeros((reps, views, n_pods))
    if name == "ewma":
        ewma = np.zeros((reps, views, n_pods))
        last = np.zeros((reps, views, n_pods))
        pcap = 8
        pend_t = np.full((reps, views, n_pods, pcap), np.inf)
        pend_rtt = np.zeros((reps, views, n_pods, pcap))

    for j in range(n):
        t = arrival[:, j]
        view = view_of[:, j] if view_of is not None else np.zeros(reps, dtype=np.int64)

        if name == "ewma":
            # Apply completed responses (ewma.lua after_balance) in time order.
            due = pend_t <= t[:, None, None, None]
            while due.any():
                masked = np.where(due, pend_t, np.inf)
                idx = np.argmin(masked, axis=-1)[..., None]
                has = due.any(axis=-1)
                td = np.take_along_axis(masked, idx, axis=-1)[..., 0]
                rtt = np.take_along_axis(pend_rtt, idx, axis=-1)[..., 0]
                wgt = np.exp(-np.maximum(td - last, 0.0) / tau)
                ewma = np.where(has, ewma * wgt + rtt * (1.0 - wgt), ewma)
                last = np.where(has, td, last)
                np.put_along_axis(pend_t, idx, np.where(has[..., None], np.inf,
                                  np.take_along_axis(pend_t, idx, axis=-1)), axis=-1)  # fmt: skip
                due = pend_t <= t[:, None, None, None]

        if by_conn:
            cid = conn_id[:, j]
            op = opener[:, j]
            old = cid - pool
            close = op & (old >= 0)
            if close.any():
                r_c = rr[close]
                o_c = old[close]
                conn_count[r_c, conn_view[r_c, o_c], conn_pod[r_c, o_c]] -= 1

        # The policy's choice.
        if name == "least_connections" or name == "power_of_two":
            if count_requests:
                counts = (buf[rr, view] > t[:, None, None]).sum(axis=-1).astype(float)
            else:
                counts = conn_count[rr, view]
            score = counts * inv_w if weighted else counts
            if name == "least_connections":
                low = score.min(axis=1, keepdims=True)
                tied = score == low
                cwv = cw[rr, view] + np.where(tied, w, 0.0)
                choice = np.argmax(np.where(tied, cwv, -np.inf), axis=1)
                cwv[rr, choice] -= np.where(tied, w, 0.0).sum(axis=1)
                cw[rr, view] = cwv
            else:
                cj = cand[:, j, :]
                cs = np.take_along_axis(score, cj, axis=1)
                choice = cj[rr, np.argmin(cs, axis=1)]
        else:  # ewma
            cj = cand[:, j, :]
            sc = ewma[rr, view] * np.exp(-np.maximum(t[:, None] - last[rr, view], 0.0) / tau)
            s = np.take_along_axis(sc, cj, axis=1)
            choice = cj[:, 0] if cj.shape[1] == 1 else np.where(s[:, 1] < s[:, 0], cj[:, 1],
                                                                  cj[:, 0])  # fmt: skip

        if by_conn:
            p = np.where(op, choice, conn_pod[rr, cid])
            if op.any():
                r_o = rr[op]
                conn_pod[r_o, cid[op]] = p[op]
                conn_view[r_o, cid[op]] = view[op]
                conn_count[r_o, view[op], p[op]] += 1
        else:
            p = choice

        x = base[:, j] / spd[p]
        if c == 1:
            start = np.maximum(t, free[rr, p])
            dep = start + x
            free[rr, p] = dep
        else:
            fr = free[rr, p]
            i = np.argmin(fr, axis=1)
            start = np.maximum(t, fr[rr, i])
            dep = start + x
            free[rr, p, i] = dep
        pod_out[:, j] = p
        dep_out[:, j] = dep
        work_out[:, j] = x

        if count_requests:
            slots = buf[rr, view, p]
            s_i = np.argmin(slots, axis=1)
            full = slots[rr, s_i] > t
            if full.any():  # every slot holds a request in flight: grow the buffer
                buf = np.concatenate([buf, np.full_like(buf, -np.inf)], axis=-1)
                s_i = np.where(full, cap, s_i)
                cap *= 2
            buf[rr, view, p, s_i] = dep
        if name == "ewma":
            slots = pend_t[rr, view, p]
            s_i = np.argmax(slots, axis=1)
            full = np.isfinite(slots[rr, s_i])
            if full.any():
                pend_t = np.concatenate([pend_t, np.full_like(pend_t, np.inf)], axis=-1)
                pend_rtt = np.concatenate([pend_rtt, np.zeros_like(pend_rtt)], axis=-1)
                s_i = np.where(full, pcap, s_i)
                pcap *= 2
            pend_t[rr, view, p, s_i] = dep
            pend_rtt[rr, view, p, s_i] = dep - t
    return pod_out, dep_out, work_out


def _summarize(params, pod, arrival, dep, work, capacity, c, stable, warmup, unit_s):
    reps, n = pod.shape
    n_pods = len(capacity)
    first = int(warmup * n)
    scale = 1.0 if unit_s is None else unit_s
    resp = (dep[:, first:] - arrival[:, first:]) * scale
    wait = resp - work[:, first:] * scale
    p = pod[:, first:]
    flat = p + n_pods * np.arange(reps)[:, None]
    counts = np.bincount(flat.ravel(), minlength=reps * n_pods).reshape(reps, n_pods)
    busy = np.bincount(flat.ravel(), weights=work[:, first:].ravel(), minlength=reps * n_pods)
    horizon = arrival[:, -1] - arrival[:, first]
    util = busy.reshape(reps, n_pods) / (c * horizon[:, None])
    resp_sum = np.bincount(flat.ravel(), weights=resp.ravel(), minlength=reps * n_pods)
    with np.errstate(invalid="ignore", divide="ignore"):
        pod_mean = resp_sum.reshape(reps, n_pods) / counts

    rep_means = resp.mean(axis=1)
    q50, q95, q99 = np.quantile(resp, [0.5, 0.95, 0.99])
    mean = float(rep_means.mean())
    se = float(rep_means.std(ddof=1) / math.sqrt(reps)) if reps > 1 else math.nan
    mean_wait = float(wait.mean())
    offered = params["arrival_rate"] * np.asarray(
        [1.0 / n_pods] * n_pods
        if params["policy"] == "random"
        else np.asarray(params["weights"]) / np.sum(params["weights"])
    )
    if not stable:
        mean = q50 = q95 = q99 = mean_wait = math.inf
        se = math.nan
        if params["policy"] in _STATIC:
            pod_mean = np.where(offered >= capacity, math.inf, pod_mean)
        else:
            pod_mean = np.full_like(pod_mean, math.inf)
    summary = pd.DataFrame(
        [
            {
                "policy": params["policy"],
                "pods": params["pods"],
                "utilization": params["utilization"],
                "requests": params["requests"],
                "replications": reps,
                "mean_response": mean,
                "mean_response_se": se,
                "p50_response": float(q50),
                "p95_response": float(q95),
                "p99_response": float(q99),
                "mean_wait": mean_wait,
                "jain_requests": float(np.mean(metrics.jain(counts))),
                "max_share": float(np.mean(metrics.max_share(counts))),
                "cov_utilization": float(np.mean(metrics.cov(util))),
                "max_utilization": float(np.mean(util.max(axis=1))),
                "stable": bool(stable),
                "time_unit": "s" if unit_s is not None else "service time unit",
            }
        ]
    )
    per_pod = pd.DataFrame(
        {
            "replication": np.repeat(np.arange(reps), n_pods),
            "pod": np.tile(np.arange(n_pods), reps),
            "speed": np.tile(params["speeds"], reps),
            "weight": np.tile(params["weights"], reps),
            "requests": counts.ravel(),
            "share": (counts / counts.sum(axis=1, keepdims=True)).ravel(),
            "utilization": util.ravel(),
            "mean_response": pod_mean.ravel(),
        }
    )
    return SimulationResult(summary=summary, per_pod=per_pod, params=params)


# ---------------------------------------------------------------------------------------------
# Sweepable wrapper and comparison


def simulate_summary(policy: str, *, rng: RngLike = None, **options) -> dict:
    """:func:`simulate` reduced to a dict of scalars, for :func:`k8smodel.sweep`.

    Parameters
    ----------
    policy : str
        As in :func:`simulate`.
    rng : int, Generator, SeedSequence or None
        Randomness (the sweep passes a SeedSequence).
    **options
        Any keyword of :func:`simulate`.

    Returns
    -------
    dict
        The summary row of :func:`simulate` without the echoed parameters
        (``policy``, ``pods``, ``utilization``, ``requests``, ``replications``).
    """
    row = simulate(policy, rng=rng, **options).summary.iloc[0].to_dict()
    for key in ("policy", "pods", "utilization", "requests", "replications"):
        row.pop(key)
    return row


def compare(
    policies,
    *,
    pods,
    utilization,
    requests: int = 20_000,
    replications: int = 4,
    rng: RngLike = None,
    theory: bool = True,
    **options,
) -> pd.DataFrame:
    """Simulate several policies over a grid of pod counts and utilizations.

    Parameters
    ----------
    policies : sequence of str
        Policy names or aliases.
    pods : int or sequence of int
        Pod counts.
    utilization : float or sequence of float
        Utilizations.
    requests, replications : int
        Per point, as in :func:`simulate`.
    rng : int, Generator, SeedSequence or None
        Root seed; each (policy, pods, utilization) point gets its own child
        stream (:func:`k8smodel._random.spawn_seeds`), so a point's numbers do
        not depend on the others in the grid.
    theory : bool, default True
        Add ``theory_mean_response``, ``floor_mean_response`` (pooled M/M/n)
        and ``ceiling_mean_response`` (random) from :func:`k8smodel.lb.theory`.
    **options
        Other keywords of :func:`simulate` (``speeds``, ``dispatchers``, ...).

    Returns
    -------
    pandas.DataFrame
        Tidy: one row per (policy, pods, utilization) with the columns of
        :attr:`SimulationResult.summary` (plus the theory columns).
    """
    if isinstance(policies, str):
        policies = [policies]
    pods_list = [pods] if np.ndim(pods) == 0 else list(pods)
    util_list = [utilization] if np.ndim(utilization) == 0 else list(utilization)
    points = list(itertools.product(policies, pods_list, util_list))
    seeds = spawn_seeds(rng, len(points))
    rows = []
    for (pol, n, u), seed in zip(points, seeds, strict=True):
        res = simulate(
            pol,
            pods=n,
            utilization=u,
            requests=requests,
            replications=replications,
            rng=seed,
            **options,
        )
        row = res.summary.iloc[0].to_dict()
        if theory:
            th_opts = {
                key: options[key]
                for key in ("speeds", "weights", "service", "concurrency", "dispatchers", "choices")
                if key in options
            }
            th = _theory(pol, pods=n, utilization=u, **th_opts).iloc[0]
            row["theory_mean_response"] = th["mean_response"]
            row["floor_mean_response"] = th["floor_mean_response"]
            row["ceiling_mean_response"] = th["ceiling_mean_response"]
        rows.append(row)
    return pd.DataFrame(rows)

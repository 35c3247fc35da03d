r"""Vectorized simulation of a Service's pods behind a dispatch policy.

All randomness is drawn in bulk before any queueing is done:

* ``random`` and ``round_robin`` choose pods without looking at the state, so
  the pod of every request is computed at once, and each pod's FIFO queue is
  solved by a vectorized Lindley recursion: with the requests of one pod in
  time order, arrival times :math:`A_k` and service times :math:`X_k`, the
  departure times are :math:`D_k = C_k + \max_{j \le k}(A_j - C_{j-1})`
  where :math:`C_k = \sum_{j \le k} X_j` (unrolling
  :math:`D_k = \max(A_k, D_{k-1}) + X_k`; Lindley, Proc. Camb. Phil. Soc. 48,
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
        more; if False the time columns are ``inf``), ``p_unstable``
        (fraction of replications in which some pod is offered its capacity
        or more) and ``time_unit``.
    per_pod : pandas.DataFrame
        One row per (replication, pod): ``replication``, ``pod``, ``speed``,
        ``weight``, ``requests``, ``share``, ``utilization`` (work brought per
        unit time over the pod's threads: its busy fraction, above 1 when the
        pod is overloaded), ``mean_response``.
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


@dataclass
class _Agg:
    """Per-replication and per-pod sums from which the result tables are built."""

    counts: np.ndarray  # (reps, pods) requests kept
    busy: np.ndarray  # (reps, pods) work done
    resp_sum: np.ndarray  # (reps, pods) sum of response times
    horizon: np.ndarray  # (reps, pods) observed time window
    wait_sum: float
    kept_responses: np.ndarray  # every kept response time, for pooled quantiles


def _aggregate(pod, resp, work, horizon, n_pods) -> _Agg:
    """Sums over requests given in (replication, request) arrays, all kept."""
    reps = pod.shape[0]
    size = reps * n_pods
    flat = (pod + n_pods * np.arange(reps)[:, None]).ravel()
    return _Agg(
        counts=np.bincount(flat, minlength=size).reshape(reps, n_pods),
        busy=np.bincount(flat, weights=work.ravel(), minlength=size).reshape(reps, n_pods),
        resp_sum=np.bincount(flat, weights=resp.ravel(), minlength=size).reshape(reps, n_pods),
        horizon=np.broadcast_to(np.asarray(horizon, float)[:, None], (reps, n_pods)),
        wait_sum=float(np.maximum(resp - work, 0.0).sum()),
        kept_responses=resp.ravel(),
    )


def _static_fast(name, gen, svc, big_lambda, n_pods, n_req, reps, spd, warmup) -> _Agg:
    """Random split, or round robin with one cursor, for single-thread pods: no sort, no loop.

    ``random``: by Poisson splitting each pod receives an independent Poisson
    stream of rate ``Lambda / n``; the numbers of requests per pod are
    multinomial. ``round_robin``: pod ``(start + i) mod n`` receives arrivals
    ``i, i + n, i + 2n, ...`` of the common stream, read off by a reshape.
    Each replication's requests are laid out pod after pod; shifting pod ``i``'s
    times by ``i`` spans longer than any busy period makes the row one queue
    that empties between pods, so one cumulative sum and one running maximum
    (the unrolled Lindley recursion) give every departure. Replications are
    processed in chunks that stay in cache.

    The warm-up is counted in requests, as in the event loop: the first
    ``W = floor(warmup * N)`` requests of the merged stream are left out. For
    ``random`` their labels are uniform and independent of the later ones, so
    the warm-up counts per pod are ``Multinomial(W, 1/n)`` and the kept counts
    an independent ``Multinomial(N - W, 1/n)``; each pod drops its first
    ``warm_i`` requests. For ``round_robin`` the segment of stream position
    ``i`` drops ``ceil((W - i) / n)`` of them. Per-pod sums are differences of
    row-wise prefix sums. The busy fraction divides by a window common to all
    pods: the realized span of the kept merged arrivals for ``round_robin``,
    and its expectation ``(N - W) / Lambda`` for ``random`` (whose pods run on
    separate clocks), which keeps it unbiased.
    """
    uniform = bool(np.all(spd == 1.0))
    counts_all = np.zeros((reps, n_pods), dtype=np.int64)
    busy_all = np.zeros((reps, n_pods))
    resp_all = np.zeros((reps, n_pods))
    horizon_all = np.zeros((reps, n_pods))
    kept = np.empty(reps * n_req)  # every kept response, filled chunk by chunk
    n_kept_total, wait_sum = 0, 0.0
    chunk = max(1, (1 << 18) // n_req)
    labels = np.arange(n_pods)
    bufs = {}  # work arrays reused across chunks (no fresh pages for every chunk)

    def buf(key, shape):
        arr = bufs.get(key)
        if arr is None or arr.shape != shape:
            arr = bufs[key] = np.empty(shape)
        return arr

    for r0 in range(0, reps, chunk):
        rc = min(chunk, reps - r0)
        if name == "random":
            length = n_req
            n_warm = int(warmup * length)
            p_uniform = np.full(n_pods, 1.0 / n_pods)
            warm = gen.multinomial(n_warm, p_uniform, size=rc)
            counts = warm + gen.multinomial(length - n_warm, p_uniform, size=rc)
            a = gen.standard_exponential(out=buf("a", (rc, length)))
            np.cumsum(a, axis=1, out=a)
            a *= n_pods / big_lambda
            ends = np.cumsum(counts, axis=1)
            starts = ends - counts
            before = np.where(starts > 0, np.take_along_axis(a, np.maximum(starts - 1, 0), axis=1),
                              0.0)  # fmt: skip
            pod_of_seg = np.broadcast_to(labels, (rc, n_pods))
            window = np.full(rc, (length - n_warm) / big_lambda)
        else:
            m = n_req // n_pods
            length = m * n_pods
            n_warm = int(warmup * length)
            common = gen.standard_exponential(out=buf("common", (rc, length)))
            np.cumsum(common, axis=1, out=common)
            common /= big_lambda
            a = buf("a", (rc, length))
            a.reshape(rc, n_pods, m)[...] = common.reshape(rc, m, n_pods).transpose(0, 2, 1)
            counts = np.full((rc, n_pods), m)
            # Stream positions i, i + n, ... below n_warm: ceil((n_warm - i) / n) of them.
            warm = np.broadcast_to(np.maximum(-((labels - n_warm) // n_pods), 0), (rc, n_pods))
            ends = np.cumsum(counts, axis=1)
            starts = ends - counts
            before = np.zeros((rc, n_pods))
            pod_of_seg = (labels + gen.integers(n_pods, size=(rc, 1))) % n_pods
            window = common[:, -1] - common[:, min(n_warm, length - 1)]
        if svc.kind == "exponential":
            work = gen.standard_exponential(out=buf("work", (rc, length)))
            if svc.mean != 1.0:
                work *= svc.mean
        else:
            work = svc.draw(gen, (rc, length))
        if not uniform:
            work /= np.repeat(spd[pod_of_seg].ravel(), counts.ravel()).reshape(rc, length)
        last = np.where(counts > 0, np.take_along_axis(a, np.maximum(ends - 1, 0), axis=1), 0.0)
        last -= before  # each pod's own clock starts at 0 (random: the stream up to it is removed)
        span = 2.0 * (last.max(axis=1) + work.sum(axis=1)) + 1.0
        shift = labels * span[:, None]  # (rc, pods)
        a += np.repeat((shift - before).ravel(), counts.ravel()).reshape(rc, length)
        cw = np.cumsum(work, axis=1, out=buf("cw", (rc, length)))
        v = np.subtract(a, cw, out=buf("v", (rc, length)))
        v += work
        np.maximum.accumulate(v, axis=1, out=v)
        v += cw
        v -= a  # v is now the response time of every request
        # Kept part of each pod's segment: [first, end). Its sums are differences of row-wise
        # prefix sums (cw already holds the one of the work).
        first = starts + warm
        cv = np.cumsum(v, axis=1, out=buf("cv", (rc, length)))

        def upto(c, idx):  # sum of the first idx entries of each row
            return np.where(idx > 0, np.take_along_axis(c, np.maximum(idx - 1, 0), axis=1), 0.0)

        csum = upto(cv, ends) - upto(cv, first)
        wsum = upto(cw, ends) - upto(cw, first)
        # One boolean mask over the chunk drops each segment's first warm_i entries.
        n_drop = int(warm.sum())
        if n_drop:
            flat_start = (starts + length * np.arange(rc)[:, None]).ravel()
            w_flat = warm.ravel()
            offs = np.cumsum(w_flat) - w_flat
            drop = np.repeat(flat_start - offs, w_flat) + np.arange(n_drop)
            keep = np.ones(rc * length, dtype=bool)
            keep[drop] = False
            kept_v = v.reshape(-1)[keep]
        else:
            kept_v = v.reshape(-1)
        kept[n_kept_total : n_kept_total + kept_v.size] = kept_v
        n_kept_total += kept_v.size
        out_rows = r0 + np.arange(rc)[:, None]
        counts_all[out_rows, pod_of_seg] = counts - warm
        resp_all[out_rows, pod_of_seg] = csum
        busy_all[out_rows, pod_of_seg] = wsum
        horizon_all[r0 : r0 + rc] = window[:, None]
        wait_sum += float(csum.sum() - wsum.sum())
    return _Agg(
        counts=counts_all,
        busy=busy_all,
        resp_sum=resp_all,
        horizon=horizon_all,
        wait_sum=max(wait_sum, 0.0),
        kept_responses=kept[:n_kept_total],
    )


# ---------------------------------------------------------------------------------------------
# The simulator


def _connections(gen, reps, n, per_conn, pool):
    """Which connection carries each request, and whether it opens that connection.

    Returns ``(conn_id, opener)``: ``conn_id = slot + pool * generation`` (the slot in the
    client's pool and how many connections that slot has used before), and ``opener`` True
    for a connection's first request (where the policy decides).
    """
    slot = gen.integers(pool, size=(reps, n))
    if math.isinf(per_conn):
        gen_idx = np.zeros((reps, n), dtype=np.int64)
        opener = _rank_within(slot, pool) == 0
    else:
        rank = _rank_within(slot, pool)
        gen_idx = rank // int(per_conn)
        opener = rank % int(per_conn) == 0
    conn_id = slot + pool * gen_idx
    return conn_id, opener


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
    draw_weights=None,
    warmup: float = 0.1,
    time_unit_s: float | None = None,
) -> SimulationResult:
    r"""Simulate Poisson requests dispatched to a Service's pods by ``policy``.

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
        :math:`\rho = \Lambda / \sum_i c \mu_i`, the offered load over the
        total capacity; give this or ``arrival_rate``.
    arrival_rate : float, optional
        Total arrival rate :math:`\Lambda` (per time unit of ``service``).
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
        ``power_of_two``), whole numbers as nginx ``server ... weight=``. For
        ``least_connections`` and ``power_of_two`` a pod's in-flight count is
        compared over its weight, as nginx does with integers
        (``conns * best->weight < best->conns * weight``); ``power_of_two``
        also draws pods with probability proportional to them unless
        ``draw_weights`` is given. Not supported for ``envoy-least-request``
        (Envoy scores ``weight / (active + 1)^bias``, another rule).
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
        the default, and ingress-nginx's per-worker ewma tables). Only for
        ``least_connections``, ``power_of_two`` and ``ewma``; ``round_robin``
        accepts ``False`` (its cursors are always per dispatcher).
    draw_weights : sequence of float, optional
        ``power_of_two`` only: relative probabilities of drawing each pod,
        separate from the ``weights`` that divide the counts. HAProxy
        ``random(<draws>)`` draws from its consistent-hash ring, so a pod is
        drawn with its share of the ring
        (:func:`k8smodel.lab.haproxy_ring_shares`), and then compares
        ``served`` over ``cur_eweight`` (``src/backend.c``,
        ``get_server_rnd``). Default: ``weights``.
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
    policies when ``utilization >= 1``, for ``power_of_two`` drawing with
    replacement (or ``choices=1``) also when :math:`\Lambda p_i^d \ge c\mu_i`
    for some pod (whatever the state, pod ``i`` gets every request whose
    ``d`` draws all fall on it, :math:`p_i` its draw probability; the
    condition is exact for ``d = 1``), and with persistent connections
    (``requests_per_connection=math.inf``) by the connections each pod actually
    received, each carrying ``1/connections`` of the traffic.

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
    if weights is not None and name in {"random", "ewma"}:
        raise ValueError(
            f"weights: the {name} policy has no weights (kube-proxy's iptables and nftables "
            "rules and ingress-nginx's ewma pick endpoints uniformly); got weights="
            f"{weights!r}; use round_robin, least_connections or power_of_two"
        )
    integer_weights = name in {"round_robin", "least_connections", "power_of_two"}
    w = check_vector(weights, "weights", n_pods, integer=integer_weights)
    svc = check_service(service)
    unused = {
        "choices": (choices, {"power_of_two"}),
        "distinct": (distinct, {"power_of_two"}),
        "draw_weights": (draw_weights, {"power_of_two"}),
        "shared_state": (shared_state, {"least_connections", "power_of_two", "ewma"}),
    }
    if name == "round_robin" and shared_state is False:
        unused.pop("shared_state")  # what it models: each dispatcher has its own cursor
    for key, (value, users) in unused.items():
        if value is not None and name not in users:
            raise ValueError(
                f"{key}: the {name} policy does not use it (only {', '.join(sorted(users))}); "
                f"got {key}={value!r}"
            )
    for key, value in (("distinct", distinct), ("shared_state", shared_state)):
        if value is not None and not isinstance(value, bool | np.bool_):
            raise ValueError(f"{key} must be True, False or None; got {value!r}")
    if pol.alias == "envoy-least-request" and not bool(np.all(w == w[0])):
        raise ValueError(
            "weights: envoy-least-request with unequal weights is not modelled (Envoy picks by "
            "weight / (active_requests + 1)^active_request_bias, not by nginx's count over "
            f"weight); got weights={weights!r}"
        )
    d = check_int(pol.defaults.get("choices", 2) if choices is None else choices, "choices", 1)
    if distinct is None:
        distinct = pol.defaults.get("distinct", False)
    if shared_state is None:
        shared_state = pol.defaults.get("shared_state", False)
    draw_w = w if draw_weights is None else check_vector(draw_weights, "draw_weights", n_pods)
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
    if connections is not None and per_conn == 1:
        raise ValueError(
            "connections: the client's pool only matters with requests_per_connection > 1; "
            f"got connections={connections!r} with requests_per_connection=1"
        )
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
    by_conn = per_conn > 1
    # Random split and single-cursor round robin of FIFO pods need no sort (see _static_fast).
    fast = (
        name in _STATIC
        and c == 1
        and not by_conn
        and (name == "random" or (k == 1 and bool(np.all(w == w[0])) and n_req >= n_pods))
    )
    if not fast:
        base = svc.draw(gen, shape)
        arrival = np.cumsum(gen.standard_exponential(shape), axis=1)
        arrival /= big_lambda
        disp = gen.integers(k, size=shape) if k > 1 else None
    if by_conn:
        conn_id, opener = _connections(gen, reps, n_req, per_conn, pool)
        n_ids = int(conn_id.max()) + 1

    if name in _STATIC:
        share = np.full(n_pods, 1.0 / n_pods) if name == "random" else w / w.sum()
    if fast:
        agg = _static_fast(name, gen, svc, big_lambda, n_pods, n_req, reps, spd, warmup)
    elif name in _STATIC:
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
    if name not in _STATIC:
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
            draw_w=draw_w,
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
        "draw_weights": draw_w.tolist() if name == "power_of_two" else None,
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
    # Which pods are offered at least their capacity, per replication.
    if name in _STATIC:
        overloaded = np.broadcast_to(big_lambda * share >= capacity, (reps, n_pods))
    else:
        over = np.full(n_pods, rho >= 1)
        if name == "power_of_two" and (not distinct or d == 1):
            # Pod i gets at least every request whose d draws all land on it.
            p_draw = draw_w / draw_w.sum()
            over |= big_lambda * p_draw**d >= capacity
        overloaded = np.broadcast_to(over, (reps, n_pods))
    if by_conn and math.isinf(per_conn):
        # Persistent connections: each carries 1/connections of the traffic for the whole
        # run, so the realized placement (not its expectation) decides the load of a pod.
        rows, cols = np.nonzero(opener)
        placed = np.zeros((reps, n_pods))
        np.add.at(placed, (rows, pod[rows, cols]), 1.0)
        overloaded = big_lambda * placed / pool >= capacity
    if not fast:
        first = int(warmup * n_req)
        agg = _aggregate(
            pod[:, first:],
            dep[:, first:] - arrival[:, first:],
            work[:, first:],
            arrival[:, -1] - arrival[:, first],
            n_pods,
        )
    return _summarize(params, agg, capacity, c, overloaded, unit_s)


def _dynamic(name, gen, arrival, base, disp, *, n_pods, k, c, spd, w, d, distinct, shared, conn,
             tau, draw_w=None):  # fmt: skip
    """Step once over arrivals for the state-dependent policies (numpy across replications).

    State lives in flat arrays indexed by ``(view, pod, replication)`` (replications
    fastest, so reductions over pods run along contiguous rows) and each step is a
    handful of 1-D gathers and scatters. Returns the pod, departure time
    and work (service time on that pod) of every request, shape ``(reps, n)``.
    """
    reps, n = arrival.shape
    rr = np.arange(reps)
    views = k if (k > 1 and not shared) else 1
    draw_w = w if draw_w is None else draw_w
    weighted = not np.all(w == w[0])
    if weighted:
        # nginx compares peer->conns * best->weight < best->conns * peer->weight in integers
        # (ngx_http_upstream_least_conn_module.c, ngx_http_upstream_get_least_conn_peer; the
        # same cross-multiplication in ngx_http_upstream_random_module.c's random2 peer); with
        # L = lcm(weights), count * (L / weight) orders the pods exactly the same way.
        lcm = math.lcm(*(int(x) for x in w))
        if lcm * (n + 1) >= 2**62:
            raise ValueError(
                f"weights: their least common multiple ({lcm}) is too large for exact "
                f"integer comparison over {n} requests; got weights={w.tolist()!r}"
            )
        scale_w = np.array([lcm // int(x) for x in w], dtype=np.int64)
    uniform_speed = bool(np.all(spd == 1.0))
    by_conn = conn is not None
    count_requests = name in {"least_connections", "power_of_two"} and not by_conn
    track = count_requests or name == "ewma"
    n_state = reps * views * n_pods

    # Everything random is drawn before the loop; per-step columns are contiguous.
    arr_t = np.ascontiguousarray(arrival.T)
    base_t = np.ascontiguousarray(base.T)
    # Flat offset of each request's state: key(v, p, r) = (v * pods + p) * reps + r.
    if views > 1:
        vbase_t = np.ascontiguousarray(disp.T) * (n_pods * reps) + rr
    else:
        vbase_const = rr
    cand_t = None
    if name == "power_of_two":
        if not np.all(draw_w == draw_w[0]):
            cand_t = _weighted_draws(gen, (n, reps), draw_w, d, distinct)
        elif distinct:
            cand_t = _distinct_draws(gen, (n, reps), n_pods, d)
        else:
            cand_t = gen.integers(n_pods, size=(n, reps, d))
    elif name == "ewma":
        cand_t = _distinct_draws(gen, (n, reps), n_pods, min(2, n_pods))

    pod_t = np.empty((n, reps), dtype=np.int64)
    dep_t = np.empty((n, reps))
    free = np.zeros(reps * n_pods) if c == 1 else np.zeros((reps * n_pods, c))
    cw = np.zeros(n_state)  # nginx current_weight per (replication, view, pod)
    counts = np.zeros(n_state, dtype=np.int64)  # in-flight requests or open connections
    counts_pr = counts.reshape(views * n_pods, reps)[:n_pods]  # (pods, reps) for view 0
    cw_pr = cw.reshape(views * n_pods, reps)[:n_pods]
    pod_off = (np.arange(n_pods) * reps)[:, None]
    w_col = w[:, None]
    scale_col = scale_w[:, None] if weighted else None
    if by_conn:
        conn_id, opener, n_ids, pool = conn
        conn_id_t = np.ascontiguousarray(conn_id.T)
        opener_t = np.ascontiguousarray(opener.T)
        conn_pod = np.zeros((reps, n_ids), dtype=np.int64)
        conn_key = np.zeros((reps, n_ids), dtype=np.int64)  # flat state index of the connection
    if name == "ewma":
        ewma = np.zeros(n_state)
        last = np.zeros(n_state)
    if track:
        pcap = 8
        # Requests in flight: completion time (inf marks a free slot), state index, rtt.
        pend_t = np.full((reps, pcap), np.inf)
        pend_key = np.zeros((reps, pcap), dtype=np.int64)
        pend_rtt = np.zeros((reps, pcap))

    for j in range(n):
        t = arr_t[j]
        vb = vbase_t[j] if views > 1 else vbase_const

        if track:
            due = pend_t <= t[:, None]
            if due.any():
                if name == "ewma":
                    # ewma.lua after_balance: fold each finished response into its worker's
                    # score, in order of completion.
                    r_d, i_d = np.nonzero(due)
                    key_d = pend_key[r_d, i_d]
                    t_d = pend_t[r_d, i_d]
                    rtt_d = pend_rtt[r_d, i_d]
                    pend_t[r_d, i_d] = np.inf
                    order = np.lexsort((t_d, key_d))
                    key_d, t_d, rtt_d = key_d[order], t_d[order], rtt_d[order]
                    # Position of each completion among those of the same score, in time order.
                    run_start = np.r_[True, key_d[1:] != key_d[:-1]]
                    first = np.maximum.accumulate(np.where(run_start, np.arange(len(key_d)), 0))
                    level = np.arange(len(key_d)) - first
                    for m in range(int(level.max()) + 1):
                        sel = level == m
                        key, td = key_d[sel], t_d[sel]
                        wgt = np.exp(-np.maximum(td - last[key], 0.0) / tau)
                        ewma[key] = ewma[key] * wgt + rtt_d[sel] * (1.0 - wgt)
                        last[key] = td
                else:
                    gone = np.flatnonzero(due)
                    counts -= np.bincount(pend_key.reshape(-1)[gone], minlength=n_state)
                    pend_t.reshape(-1)[gone] = np.inf

        if by_conn:
            cid = conn_id_t[j]
            op = opener_t[j]
            old = cid - pool
            close = op & (old >= 0)
            if close.any():
                counts[conn_key[rr[close], old[close]]] -= 1

        # The policy's choice, on the state block of this request's dispatcher.
        if name == "least_connections" or name == "power_of_two":
            if views == 1:
                block = counts_pr
            else:
                cidx = vb + pod_off  # (pods, reps)
                block = counts[cidx]
            score = block * scale_col if weighted else block
            if name == "least_connections":
                tied = score == score.min(axis=0)
                tw = tied * w_col if weighted else tied
                if views == 1:  # update nginx's current_weight in place
                    cw_pr += tw
                    choice = np.where(tied, cw_pr, -np.inf).argmax(axis=0)
                    cw_pr[choice, rr] -= tw.sum(axis=0)
                else:
                    cwv = cw[cidx] + tw
                    choice = np.where(tied, cwv, -np.inf).argmax(axis=0)
                    cwv[choice, rr] -= tw.sum(axis=0)
                    cw[cidx] = cwv
            else:
                cj = cand_t[j]
                cs = score[cj, rr[:, None]]
                if distinct:  # nginx random two: the later draw wins ties
                    choice = cj[rr, d - 1 - cs[:, ::-1].argmin(axis=1)]
                else:
                    # Envoy keeps the first drawn on ties; HAProxy's get_server_rnd keeps the
                    # later one (it reverts only when the new draw's served * weight is strictly
                    # greater). Independent draws are exchangeable, so both give the same law.
                    choice = cj[rr, cs.argmin(axis=1)]
        else:  # ewma: two distinct candidates, strictly lower decayed score wins, else the first
            cj = cand_t[j]
            if cj.shape[1] == 1:
                choice = cj[:, 0]
            else:
                key = vb[:, None] + cj * reps
                sc = ewma[key] * np.exp(-np.maximum(t[:, None] - last[key], 0.0) / tau)
                choice = np.where(sc[:, 1] < sc[:, 0], cj[:, 1], cj[:, 0])

        if by_conn:
            p = np.where(op, choice, conn_pod[rr, cid])
            if op.any():
                r_o, c_o, p_o = rr[op], cid[op], p[op]
                conn_pod[r_o, c_o] = p_o
                conn_key[r_o, c_o] = vb[op] + p_o * reps
                counts[vb[op] + p_o * reps] += 1
        else:
            p = choice

        x = base_t[j] if uniform_speed else base_t[j] / spd[p]
        fi = p * reps + rr
        if c == 1:
            dep = np.maximum(t, free[fi]) + x
            free[fi] = dep
        else:
            fr = free[fi]
            i = np.argmin(fr, axis=1)
            dep = np.maximum(t, fr[rr, i]) + x
            free[fi, i] = dep
        pod_t[j] = p
        dep_t[j] = dep

        if track:
            key = vb + p * reps
            if count_requests:
                counts[key] += 1
            slot = pend_t.argmax(axis=1) + rr * pcap  # flat index of a free slot (inf)
            full = pend_t.reshape(-1)[slot] < np.inf
            if full.any():  # every slot holds a request in flight: grow the buffer
                pend_t = np.concatenate([pend_t, np.full_like(pend_t, np.inf)], axis=1)
                pend_key = np.concatenate([pend_key, np.zeros_like(pend_key)], axis=1)
                pend_rtt = np.concatenate([pend_rtt, np.zeros_like(pend_rtt)], axis=1)
                slot = np.where(full, pcap, slot - rr * pcap) + rr * 2 * pcap
                pcap *= 2
            pend_t.reshape(-1)[slot] = dep
            pend_key.reshape(-1)[slot] = key
            if name == "ewma":
                pend_rtt.reshape(-1)[slot] = dep - t

    pod = pod_t.T
    work = base / spd[pod]
    return pod, np.ascontiguousarray(dep_t.T), work


def _quantiles_inplace(values: np.ndarray, levels) -> np.ndarray:
    """Quantiles as ``numpy.quantile``'s default (linear) method, partitioning ``values`` in place.

    One partition around the needed order statistics, without the copy that
    ``numpy.quantile`` makes; ``values`` is reordered.
    """
    n = values.size
    pos = (n - 1) * np.asarray(levels, dtype=float)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    values.partition(np.unique(np.concatenate([lo, hi])))
    frac = pos - lo
    return values[lo] + frac * (values[hi] - values[lo])


def _summarize(params, agg: _Agg, capacity, c, overloaded, unit_s):
    """Summary and per-pod tables from the sums of :class:`_Agg`."""
    reps, n_pods = agg.counts.shape
    scale = 1.0 if unit_s is None else unit_s
    counts = agg.counts
    with np.errstate(invalid="ignore", divide="ignore"):
        # A pod with no time window (too few requests kept) did no work in it: 0, not 0/0.
        util = np.where(agg.horizon > 0, agg.busy / (c * agg.horizon), 0.0)
        pod_mean = agg.resp_sum / counts * scale
    kept = counts.sum(axis=1)
    rep_means = agg.resp_sum.sum(axis=1) / kept * scale
    q50, q95, q99 = _quantiles_inplace(agg.kept_responses, (0.5, 0.95, 0.99)) * scale
    mean = float(rep_means.mean())
    se = float(rep_means.std(ddof=1) / math.sqrt(reps)) if reps > 1 else math.nan
    mean_wait = float(agg.wait_sum / kept.sum() * scale)
    bad_rep = overloaded.any(axis=1)
    stable = not bad_rep.any()
    if not stable:
        mean = q50 = q95 = q99 = mean_wait = math.inf
        se = math.nan
        pod_mean = np.where(overloaded, math.inf, pod_mean)
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
                "p_unstable": float(bad_rep.mean()),
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
        Add ``theory_model`` and ``theory_mean_response`` (the policy's own
        closed form, NaN where there is none; note that ``power_of_two`` is
        compared with its ``n -> infinity`` mean field), ``floor_mean_response``
        (pooled M/M/n) and ``ceiling_mean_response`` (random) from
        :func:`k8smodel.lb.theory`.
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
    policies = list(policies)
    if not policies:
        raise ValueError("policies must name at least one policy; got an empty sequence")
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
            th_keys = ("speeds", "weights", "service", "concurrency", "dispatchers", "choices")
            th_keys += ("draw_weights",)
            th_opts = {key: options[key] for key in th_keys if key in options}
            th = _theory(pol, pods=n, utilization=u, **th_opts).iloc[0]
            row["theory_model"] = th["model"]
            row["theory_mean_response"] = th["mean_response"]
            row["floor_mean_response"] = th["floor_mean_response"]
            row["ceiling_mean_response"] = th["ceiling_mean_response"]
        rows.append(row)
    return pd.DataFrame(rows)

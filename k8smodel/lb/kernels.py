r"""Queueing kernels of the lb simulator: FIFO pods, the sort-free static path, the event loop.

Nothing here knows a policy by name: the static path asks the policy for its
segments (:meth:`~k8smodel.lb.policies.Policy.fast_segments`), the event loop asks
it for its candidates, its pick and what to do with finished requests.

* Single-thread FIFO pods: the vectorized Lindley recursion. With the requests
  of one pod in time order, arrival times :math:`A_k` and service times
  :math:`X_k`, the departure times are
  :math:`D_k = C_k + \max_{j \le k}(A_j - C_{j-1})` where
  :math:`C_k = \sum_{j \le k} X_j` (unrolling :math:`D_k = \max(A_k, D_{k-1}) + X_k`;
  Lindley, Proc. Camb. Phil. Soc. 48, 1952, doi:10.1017/S0305004100027638).
  A cumulative sum and a running maximum over all pods at once (offsets keep
  the pods apart) replace the loop over requests.
* Multi-threaded pods: the Kiefer-Wolfowitz workload vector, stepping once per
  request position across all pods and replications together.
* State-dependent policies: one step per arrival, numpy across replications
  and pods at each step, or the compiled loop (:mod:`k8smodel.lb._compiled`, run in
  blocks by :mod:`k8smodel.lb.blocks`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from k8smodel.lb import _compiled

if TYPE_CHECKING:
    from k8smodel.lb.policies import Policy
    from k8smodel.lb.spec import LbSpec

__all__ = [
    "Agg",
    "FastSegments",
    "LoopOut",
    "LoopState",
    "aggregate",
    "connection_slots",
    "distinct_draws",
    "fifo_multi",
    "fifo_single",
    "materialized",
    "quantiles_inplace",
    "rank_within",
    "run_event_loop",
    "static_fast",
    "weighted_draws",
]


def rank_within(keys: np.ndarray, n_keys: int) -> np.ndarray:
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


def distinct_draws(gen: np.random.Generator, size: tuple, pods: int, d: int) -> np.ndarray:
    """``d`` distinct uniform pods per entry of ``size`` (a uniform random d-subset, in order)."""
    out = np.empty((*size, d), dtype=np.int64)
    for i in range(d):
        out[..., i] = gen.integers(pods - i, size=size)
    _compiled.skip_drawn(out.reshape(-1, d))
    return out


def weighted_draws(
    gen: np.random.Generator, size: tuple, weights: np.ndarray, d: int, distinct: bool
) -> np.ndarray:
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


def fifo_single(pod: np.ndarray, arrival: np.ndarray, work: np.ndarray) -> np.ndarray:
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


def fifo_multi(
    pod: np.ndarray, arrival: np.ndarray, work: np.ndarray, pods: int, c: int
) -> np.ndarray:
    """Departure times of ``c``-thread FIFO pods (Kiefer-Wolfowitz workload vector)."""
    reps, n = pod.shape
    rank = rank_within(pod, pods)
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
class Agg:
    """Per-replication and per-pod sums from which the result tables are built."""

    counts: np.ndarray  # (reps, pods) requests kept
    busy: np.ndarray  # (reps, pods) work done
    resp_sum: np.ndarray  # (reps, pods) sum of response times
    horizon: np.ndarray  # (reps, pods) observed time window
    wait_sum: float
    kept_responses: np.ndarray  # every kept response time, for pooled quantiles


def aggregate(pod, resp, work, horizon, n_pods: int) -> Agg:
    """Sums over requests given in (replication, request) arrays, all kept.

    Each sum runs in request order per ``(replication, pod)`` (:func:`numpy.bincount`),
    the order in which the compiled loop accumulates them, so both give the same bits.
    """
    reps = pod.shape[0]
    size = reps * n_pods
    flat = (pod + n_pods * np.arange(reps)[:, None]).ravel()
    wait = np.bincount(flat, weights=np.maximum(resp - work, 0.0).ravel(), minlength=size)
    return Agg(
        counts=np.bincount(flat, minlength=size).reshape(reps, n_pods),
        busy=np.bincount(flat, weights=work.ravel(), minlength=size).reshape(reps, n_pods),
        resp_sum=np.bincount(flat, weights=resp.ravel(), minlength=size).reshape(reps, n_pods),
        horizon=np.broadcast_to(np.asarray(horizon, float)[:, None], (reps, n_pods)),
        wait_sum=float(wait.sum()),
        kept_responses=resp.ravel(),
    )


@dataclass
class FastSegments:
    """One chunk of replications laid out pod after pod (see :func:`static_fast`).

    ``a`` holds each pod's arrivals, segment after segment; ``counts`` and ``warm``
    the requests and warm-up requests per segment; ``before`` the arrival time
    preceding each segment (its clock starts after it); ``pod_of_seg`` which pod
    each segment is; ``window`` the observation window per replication.
    """

    length: int
    counts: np.ndarray
    warm: np.ndarray
    a: np.ndarray
    before: np.ndarray
    pod_of_seg: np.ndarray
    window: np.ndarray


def static_fast(policy: Policy, gen, spec: LbSpec, n_req: int, reps: int, warmup: float) -> Agg:
    """A static policy on single-thread pods with one decision per request: no sort.

    The policy lays out each replication's requests pod after pod
    (:meth:`~k8smodel.lb.policies.Policy.fast_segments`); one compiled pass over each
    row runs the Lindley recursion segment by segment on each pod's own clock
    (:func:`k8smodel.lb._compiled.lindley_segments`), drops each segment's warm-up
    requests, sums the rest per pod and keeps their response times. Replications
    are processed in chunks that stay in cache.
    """
    n_pods, svc, spd = spec.pods, spec.service, spec.speeds
    uniform = bool(np.all(spd == 1.0))
    counts_all = np.zeros((reps, n_pods), dtype=np.int64)
    busy_all = np.zeros((reps, n_pods))
    resp_all = np.zeros((reps, n_pods))
    horizon_all = np.zeros((reps, n_pods))
    kept = np.empty(reps * n_req)  # every kept response, filled chunk by chunk
    n_kept_total, wait_sum = 0, 0.0
    chunk = max(1, (1 << 18) // n_req)
    bufs: dict[str, np.ndarray] = {}  # work arrays reused across chunks

    def buf(key: str, shape: tuple[int, int]) -> np.ndarray:
        arr = bufs.get(key)
        if arr is None or arr.shape != shape:
            arr = bufs[key] = np.empty(shape)
        return arr

    for r0 in range(0, reps, chunk):
        rc = min(chunk, reps - r0)
        seg = policy.fast_segments(gen, spec, rc, n_req, warmup, buf)
        length, counts, warm, a, before = seg.length, seg.counts, seg.warm, seg.a, seg.before
        if svc.kind == "exponential":
            work = gen.standard_exponential(out=buf("work", (rc, length)))
            if svc.mean_s != 1.0:
                work *= svc.mean_s
        else:
            work = svc.draw(gen, (rc, length))
        if not uniform:
            work /= np.repeat(spd[seg.pod_of_seg].ravel(), counts.ravel()).reshape(rc, length)
        csum, wsum, n_kept_total = _compiled.lindley_segments(
            a, work, before, counts, warm, kept, n_kept_total
        )
        out_rows = r0 + np.arange(rc)[:, None]
        counts_all[out_rows, seg.pod_of_seg] = counts - warm
        resp_all[out_rows, seg.pod_of_seg] = csum
        busy_all[out_rows, seg.pod_of_seg] = wsum
        horizon_all[r0 : r0 + rc] = seg.window[:, None]
        wait_sum += float(csum.sum() - wsum.sum())
    return Agg(
        counts=counts_all,
        busy=busy_all,
        resp_sum=resp_all,
        horizon=horizon_all,
        wait_sum=max(wait_sum, 0.0),
        kept_responses=kept[:n_kept_total],
    )


def connection_slots(
    gen: np.random.Generator,
    reps: int,
    n: int,
    per_conn: float,
    pool: int,
    seen: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Which connection carries each request, and whether it opens that connection.

    Returns ``(conn_id, opener)``: ``conn_id = slot + pool * generation`` (the slot in the
    client's pool and how many connections that slot has used before), and ``opener`` True
    for a connection's first request (where the policy decides). ``seen`` counts the
    requests each slot carried in earlier blocks of the run, and is updated.
    """
    slot = gen.integers(pool, size=(reps, n))
    rank = rank_within(slot, pool)
    if seen is not None:  # requests on each slot in earlier blocks (updated in place)
        rank += np.take_along_axis(seen, slot, axis=1)
        seen += np.bincount((slot + pool * np.arange(reps)[:, None]).ravel(),
                            minlength=reps * pool).reshape(reps, pool)  # fmt: skip
    if math.isinf(per_conn):
        gen_idx = np.zeros((reps, n), dtype=np.int64)
        opener = rank == 0
    else:
        gen_idx = rank // int(per_conn)
        opener = rank % int(per_conn) == 0
    return slot + pool * gen_idx, opener


@dataclass
class LoopState:
    """The event loop's state, in flat arrays indexed by ``(view, pod, replication)``.

    Replications vary fastest, so reductions over pods run along contiguous rows.
    A *view* is one dispatcher's private counters (one view when they are shared).
    ``counts`` holds in-flight requests (or open connections), ``cw`` nginx's
    ``current_weight``; ``pend_*`` the requests in flight (completion time, ``inf``
    for a free slot; state index; response time); ``extra`` policy-specific arrays.
    """

    reps: int
    pods: int
    views: int
    rr: np.ndarray
    counts: np.ndarray
    cw: np.ndarray
    weighted: bool
    scale_w: np.ndarray | None
    w: np.ndarray
    candidates: np.ndarray | None
    choices: int
    distinct: bool
    pend_t: np.ndarray
    pend_key: np.ndarray
    pend_rtt: np.ndarray
    extra: dict[str, Any]

    def view_block(self, arr: np.ndarray, view: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """``arr`` for this step's dispatcher as ``(pods, reps)``, and its flat indices."""
        if self.views == 1:
            return arr.reshape(self.views * self.pods, self.reps)[: self.pods], None
        idx = view + (np.arange(self.pods) * self.reps)[:, None]
        return arr[idx], idx

    def scores(self, view: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """In-flight counts over weight as nginx orders them (integers), ``(pods, reps)``."""
        block, idx = self.view_block(self.counts, view)
        if self.weighted:
            assert self.scale_w is not None
            return block * self.scale_w[:, None], idx
        return block, idx


def _integer_weight_scale(w: np.ndarray, n: int) -> np.ndarray | None:
    """``L / weight`` with ``L = lcm(weights)``: count * scale orders pods as nginx does.

    nginx compares ``peer->conns * best->weight < best->conns * peer->weight`` in integers
    (``ngx_http_upstream_least_conn_module.c``, ``ngx_http_upstream_get_least_conn_peer``;
    the same cross-multiplication in ``ngx_http_upstream_random_module.c``'s random2 peer).
    """
    if np.all(w == w[0]):
        return None
    lcm = math.lcm(*(int(x) for x in w))
    if lcm * (n + 1) >= 2**62:
        raise ValueError(
            f"weights must have a least common multiple small enough for exact integer "
            f"comparison over {n} requests; got weights={w.tolist()!r} (lcm {lcm})"
        )
    return np.array([lcm // int(x) for x in w], dtype=np.int64)


def run_event_loop(
    policy: Policy,
    candidates: np.ndarray | None,
    spec: LbSpec,
    arrival: np.ndarray,
    base: np.ndarray,
    disp: np.ndarray | None,
    conn: tuple[np.ndarray, np.ndarray, int] | None,
    first: int = 0,
    keep: bool = True,
) -> LoopOut:
    """Step once over arrivals for a state-dependent policy.

    Requests from index ``first`` on are summed (:class:`Agg`; the observation
    window is left to the caller); with ``keep`` the pod, departure time and work
    of every request are returned too. A policy with a compiled rule runs in
    :mod:`k8smodel.lb._compiled`, which sums as it goes and holds no per-request
    array unless ``keep``; any other steps with numpy across replications.
    """
    reps, n = arrival.shape
    n_pods, c, spd = spec.pods, spec.concurrency, spec.speeds
    k = spec.balancer.dispatchers
    rr = np.arange(reps)
    views = k if (k > 1 and not spec.balancer.shared_state) else 1
    by_conn = conn is not None
    count_requests = policy.counts_in_flight and not by_conn
    track = count_requests or policy.learns_responses
    n_state = reps * views * n_pods
    uniform_speed = bool(np.all(spd == 1.0))
    scale_w = _integer_weight_scale(spec.weights, n)

    if policy.compiled_rule is not None:
        from k8smodel.lb.blocks import compiled_loop

        return compiled_loop(
            policy, spec, arrival, base, disp, conn, candidates, views, scale_w, first, keep
        )

    arr_t = np.ascontiguousarray(arrival.T)
    base_t = np.ascontiguousarray(base.T)
    # Flat offset of each request's state: key(v, p, r) = (v * pods + p) * reps + r.
    vbase_t = None
    if views > 1 and disp is not None:
        vbase_t = np.ascontiguousarray(disp.T) * (n_pods * reps) + rr
    pcap = 8
    state = LoopState(
        reps=reps,
        pods=n_pods,
        views=views,
        rr=rr,
        counts=np.zeros(n_state, dtype=np.int64),
        cw=np.zeros(n_state),
        weighted=scale_w is not None,
        scale_w=scale_w,
        w=spec.weights,
        candidates=candidates,
        choices=spec.balancer.choices or 1,
        distinct=bool(spec.balancer.distinct),
        pend_t=np.full((reps, pcap), np.inf),
        pend_key=np.zeros((reps, pcap), dtype=np.int64),
        pend_rtt=np.zeros((reps, pcap)),
        extra={},
    )
    policy.init_state(state)

    pod_t = np.empty((n, reps), dtype=np.int64)
    dep_t = np.empty((n, reps))
    free = np.zeros(reps * n_pods) if c == 1 else np.zeros((reps * n_pods, c))
    if conn is not None:
        conn_id, opener, pool = conn
        conn_id_t = np.ascontiguousarray(conn_id.T)
        opener_t = np.ascontiguousarray(opener.T)
        n_ids = int(conn_id.max()) + 1
        conn_pod = np.zeros((reps, n_ids), dtype=np.int64)
        conn_key = np.zeros((reps, n_ids), dtype=np.int64)  # flat state index of the connection

    for j in range(n):
        t = arr_t[j]
        vb = vbase_t[j] if vbase_t is not None else rr
        if track:
            due = state.pend_t <= t[:, None]
            if due.any():
                policy.on_complete(state, due)
        if conn is not None:
            cid, op = conn_id_t[j], opener_t[j]
            old = cid - pool
            close = op & (old >= 0)
            if close.any():
                state.counts[conn_key[rr[close], old[close]]] -= 1

        choice = policy.pick(state, j, t, vb)

        if conn is not None:
            p = np.where(op, choice, conn_pod[rr, cid])
            if op.any():
                r_o, c_o, p_o = rr[op], cid[op], p[op]
                conn_pod[r_o, c_o] = p_o
                conn_key[r_o, c_o] = vb[op] + p_o * reps
                state.counts[vb[op] + p_o * reps] += 1
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
            _add_pending(state, vb + p * reps, dep, dep - t, count_requests)

    pod = pod_t.T
    dep = np.ascontiguousarray(dep_t.T)
    return materialized(pod, arrival, dep, base / spd[pod], n_pods, conn, first, keep)


@dataclass
class LoopOut:
    """What a run of the queues gives: sums, connections placed, optionally every request.

    ``agg.horizon`` is left at zero for the caller; ``placed`` counts the connections
    opened on each pod ``(reps, pods)`` (None without connections); ``requests`` is
    ``(pod, departure, work)`` of every request, or None.
    """

    agg: Agg
    placed: np.ndarray | None
    requests: tuple[np.ndarray, np.ndarray, np.ndarray] | None


def materialized(pod, arrival, dep, work, n_pods: int, conn, first: int, keep: bool) -> LoopOut:
    """:class:`LoopOut` from per-request arrays (the paths that build them)."""
    reps = pod.shape[0]
    placed = None
    if conn is not None:
        rows, cols = np.nonzero(conn[1])
        placed = np.zeros((reps, n_pods), dtype=np.int64)
        np.add.at(placed, (rows, pod[rows, cols]), 1)
    resp = dep[:, first:] - arrival[:, first:]
    agg = aggregate(pod[:, first:], resp, work[:, first:], np.zeros(reps), n_pods)
    return LoopOut(agg=agg, placed=placed, requests=(pod, dep, work) if keep else None)


def _add_pending(
    state: LoopState, key: np.ndarray, dep: np.ndarray, rtt: np.ndarray, count: bool
) -> None:
    """Record one request per replication as in flight (growing the buffer when full)."""
    rr = state.rr
    if count:
        state.counts[key] += 1
    pcap = state.pend_t.shape[1]
    slot = state.pend_t.argmax(axis=1) + rr * pcap  # flat index of a free slot (inf)
    full = state.pend_t.reshape(-1)[slot] < np.inf
    if full.any():  # every slot holds a request in flight: grow the buffer
        state.pend_t = np.concatenate([state.pend_t, np.full_like(state.pend_t, np.inf)], axis=1)
        state.pend_key = np.concatenate([state.pend_key, np.zeros_like(state.pend_key)], axis=1)
        state.pend_rtt = np.concatenate([state.pend_rtt, np.zeros_like(state.pend_rtt)], axis=1)
        slot = np.where(full, pcap, slot - rr * pcap) + rr * 2 * pcap
    state.pend_t.reshape(-1)[slot] = dep
    state.pend_key.reshape(-1)[slot] = key
    state.pend_rtt.reshape(-1)[slot] = rtt


def quantiles_inplace(values: np.ndarray, levels: Any) -> np.ndarray:
    """Quantiles by ``numpy.quantile``'s default (linear) method, partitioning ``values`` in place.

    The interpolation is ``lo + frac * (hi - lo)``; numpy's differs by one unit in the last
    place in some cases (it interpolates from ``hi`` when ``frac >= 0.5``).

    Partitions around the needed order statistics, without the copy that
    ``numpy.quantile`` makes; ``values`` is reordered. One single-index partition per
    order statistic, each on the part above the previous one: numpy's partition with
    several indices at once was measured 3-4x slower (slower than a full sort).
    """
    n = values.size
    pos = (n - 1) * np.asarray(levels, dtype=float)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    start = 0
    for k in np.unique(np.concatenate([lo, hi])).tolist():
        values[start:].partition(k - start)
        start = k + 1
    frac = pos - lo
    return np.asarray(values[lo] + frac * (values[hi] - values[lo]))


BufferFn = Callable[[str, tuple[int, int]], np.ndarray]

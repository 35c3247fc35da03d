"""Runs of the compiled policies in blocks of requests: draws, resumable loop, sums.

A state-dependent run draws its randomness block after block (:func:`draw_blocks`);
a compiled policy (:mod:`k8smodel.lb._compiled`) carries its queues from one block to
the next and sums as it goes (:func:`stream_compiled`), so memory holds one block of
draws and the kept response times, whatever the run's length. The same blocks,
concatenated, feed the paths that keep every request, with the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from k8smodel.lb.kernels import Agg, LoopOut, _integer_weight_scale, connection_slots

if TYPE_CHECKING:
    from k8smodel.lb.policies import Policy
    from k8smodel.lb.spec import LbSpec

#: Requests (over all replications) per call of the compiled loop on materialized draws.
SLICE_REQUESTS = 1 << 18

__all__ = [
    "BLOCK_REQUESTS",
    "SLICE_REQUESTS",
    "Block",
    "block_length",
    "compiled_loop",
    "concatenate_blocks",
    "draw_blocks",
    "stream_compiled",
]


def compiled_loop(
    policy: Policy,
    spec: LbSpec,
    arrival: np.ndarray,
    base: np.ndarray,
    disp: np.ndarray | None,
    conn: tuple[np.ndarray, np.ndarray, int] | None,
    candidates: np.ndarray | None,
    views: int,
    scale_w: np.ndarray | None,
    first: int,
    keep: bool,
) -> LoopOut:
    """The compiled event loop over draws already made, every request at once.

    The loop is called on slices of ``SLICE_REQUESTS`` requests (over all
    replications), independent of :data:`BLOCK_REQUESTS`, so the heap and the tree's
    levels it sizes before each call stay bounded by a slice.
    """
    reps, n = arrival.shape
    b = max(1, min(n, SLICE_REQUESTS // reps))
    pod = np.empty((reps, n), dtype=np.int64) if keep else None
    dep = np.empty((reps, n)) if keep else None
    state = None
    for j0 in range(0, n, b):
        cut = slice(j0, j0 + b)
        block = Block(
            base=base[:, cut],
            arrival=arrival[:, cut],
            disp=disp[:, cut] if disp is not None else None,
            conn=(conn[0][:, cut], conn[1][:, cut], conn[2]) if conn is not None else None,
            candidates=candidates[cut] if candidates is not None else None,
        )
        state, pod_b, dep_b = _compiled_block(policy, spec, block, views, scale_w, first, keep,
                                              state, j0, n)  # fmt: skip
        if pod is not None and dep is not None:
            pod[:, cut], dep[:, cut] = pod_b, dep_b
    assert state is not None  # n >= 1 request
    agg = _state_agg(state)
    per_request = None
    if pod is not None and dep is not None:
        per_request = (pod, dep, base / spec.speeds[pod])
    return LoopOut(agg=agg, placed=state.placed if conn is not None else None,
                   requests=per_request)  # fmt: skip


def _state_agg(state) -> Agg:
    """:class:`Agg` from the compiled loop's sums (the window is the caller's)."""
    return Agg(counts=state.cnt, busy=state.busy, resp_sum=state.resp,
               horizon=np.zeros(state.cnt.shape), wait_sum=float(state.wait.ravel().sum()),
               kept_responses=state.kept)  # fmt: skip


def _compiled_block(policy, spec, block, views, scale_w, first, keep, state, j0, n_total):
    """One block of requests through :func:`k8smodel.lb._compiled.event_loop`."""
    from k8smodel.lb import _compiled
    from k8smodel.lb.policies.ewma import EWMA_DECAY_S

    n_pods = spec.pods
    no_int2 = np.zeros((0, 0), dtype=np.int64)
    conn = block.conn
    conn_id, opener, pool = conn if conn is not None else (no_int2, no_int2.astype(bool), 1)
    disp, candidates = block.disp, block.candidates
    return _compiled.event_loop(
        policy.compiled_rule,
        np.ascontiguousarray(block.arrival),
        np.ascontiguousarray(block.base),
        np.ascontiguousarray(disp) if disp is not None else np.zeros((1, 1), dtype=np.int64),
        views,
        n_pods,
        spec.concurrency,
        np.asarray(spec.speeds, dtype=float),
        scale_w if scale_w is not None else np.ones(n_pods, dtype=np.int64),
        np.asarray(spec.weights, dtype=float),
        scale_w is not None,
        candidates if candidates is not None else np.zeros((1, 1, 1), dtype=np.int64),
        bool(spec.balancer.distinct),
        np.ascontiguousarray(conn_id, dtype=np.int64),
        np.ascontiguousarray(opener, dtype=np.bool_),
        int(pool),
        policy.counts_in_flight and conn is None,
        policy.learns_responses,
        EWMA_DECAY_S,
        int(first),
        bool(keep),
        state,
        j0,
        n_total,
    )


#: Requests (over all replications) drawn and queued at once by :func:`draw_blocks`.
BLOCK_REQUESTS = 1 << 17


@dataclass
class Block:
    """The draws of requests ``j0 .. j0 + b`` of every replication (see :func:`draw_blocks`)."""

    base: np.ndarray  # (reps, b) service times on a speed-1 pod
    arrival: np.ndarray  # (reps, b) arrival times
    disp: np.ndarray | None  # (reps, b) dispatcher, when several
    conn: tuple[np.ndarray, np.ndarray, int] | None  # connection ids, openers, pool
    candidates: np.ndarray | None  # (b, reps, d) the policy's draws


def block_length(reps: int, n: int, block_requests: int | None = None) -> int:
    """Requests per replication in one block: ``BLOCK_REQUESTS // reps``, at least 1."""
    total = BLOCK_REQUESTS if block_requests is None else block_requests
    return max(1, min(n, total // reps))


def draw_blocks(policy, gen, spec, reps: int, n: int, block_requests: int | None = None):
    """The draws of a state-dependent run, block after block of requests.

    Each block of ``b`` requests per replication (:func:`block_length`) draws, in this
    order: service times ``(reps, b)``, interarrival times ``(reps, b)``, dispatchers
    ``(reps, b)`` (when several), connection slots ``(reps, b)`` (when requests share
    connections) and the policy's candidates ``(b, reps, d)``. A run of at most one
    block therefore draws exactly as one call over the whole run. Arrival times
    continue the running sum of the gaps before the division by the rate, and
    connection ranks continue each slot's count, so a block's values do not depend on
    how the run was cut. Yields :class:`Block`.
    """
    b = block_length(reps, n, block_requests)
    rate, pool = spec.arrival_rate_per_s, spec.connections
    k = spec.balancer.dispatchers
    carry = np.zeros(reps)
    seen = np.zeros((reps, pool), dtype=np.int64) if spec.by_connection else None
    for j0 in range(0, n, b):
        m = min(b, n - j0)
        shape = (reps, m)
        base = spec.service.draw(gen, shape)
        arrival = gen.standard_exponential(shape)
        arrival[:, 0] += carry
        np.cumsum(arrival, axis=1, out=arrival)
        carry = arrival[:, -1].copy()
        arrival /= rate
        disp = gen.integers(k, size=shape) if k > 1 else None
        conn = None
        if seen is not None:
            conn_id, opener = connection_slots(gen, reps, m, spec.requests_per_connection,
                                               pool, seen)  # fmt: skip
            conn = (conn_id, opener, pool)
        yield Block(base=base, arrival=arrival, disp=disp, conn=conn,
                    candidates=policy.draw_candidates(gen, spec, m, reps))  # fmt: skip


def concatenate_blocks(blocks) -> Block:
    """One :class:`Block` holding every request of ``blocks``."""
    blocks = list(blocks)
    if len(blocks) == 1:
        return blocks[0]
    first = blocks[0]

    def cat(name: str, axis: int = 1):
        parts = [getattr(bl, name) for bl in blocks]
        return None if parts[0] is None else np.concatenate(parts, axis=axis)

    conn = None
    if first.conn is not None:
        conn = (np.concatenate([bl.conn[0] for bl in blocks], axis=1),
                np.concatenate([bl.conn[1] for bl in blocks], axis=1), first.conn[2])  # fmt: skip
    return Block(base=cat("base"), arrival=cat("arrival"), disp=cat("disp"), conn=conn,
                 candidates=cat("candidates", axis=0))  # fmt: skip


def stream_compiled(
    policy, gen, spec, reps: int, n: int, first: int, block_requests: int | None = None
) -> tuple[Agg, np.ndarray | None]:
    """A compiled policy's run block by block: memory bounded by a block and the kept responses.

    Returns the sums (window filled in: the time between request ``first`` and the
    last arrival) and the connections placed per pod (None without connections).
    The same bits as one call over the concatenated blocks.
    """
    k = spec.balancer.dispatchers
    views = k if (k > 1 and not spec.balancer.shared_state) else 1
    scale_w = _integer_weight_scale(spec.weights, n)
    state, j0 = None, 0
    t_first = np.zeros(reps)
    for block in draw_blocks(policy, gen, spec, reps, n, block_requests):
        m = block.arrival.shape[1]
        if j0 <= first < j0 + m:
            t_first = block.arrival[:, first - j0].copy()
        state, _, _ = _compiled_block(policy, spec, block, views, scale_w, first, False, state,
                                      j0, n)  # fmt: skip
        t_last = block.arrival[:, -1]
        j0 += m
    assert state is not None  # n >= 1 request: at least one block
    agg = _state_agg(state)
    agg.horizon = np.broadcast_to((t_last - t_first)[:, None], agg.counts.shape)
    return agg, state.placed if spec.by_connection else None

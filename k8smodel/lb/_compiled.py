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

__all__ = ["BEST_OF_D", "EWMA", "LEAST_CONNECTIONS", "LoopState", "event_loop", "lindley_segments"]

#: nginx least_conn: fewest in flight over weight, smooth weighted round robin among ties.
LEAST_CONNECTIONS = 0
#: The best of d drawn candidates (nginx random two, Envoy least request, HAProxy random(d)).
BEST_OF_D = 1
#: ingress-nginx ewma.lua: two candidates, lower decayed response-time score.
EWMA = 2


@njit(cache=True)
def _heap_push(ht, hk, hr, size, t, k, rtt):  # pragma: no cover - compiled
    """Insert ``(t, k, rtt)``: parents later than ``t`` move down into the hole (no swaps)."""
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if ht[parent] <= t:
            break
        ht[i], hk[i], hr[i] = ht[parent], hk[parent], hr[parent]
        i = parent
    ht[i], hk[i], hr[i] = t, k, rtt
    return size + 1


@njit(cache=True)
def _heap_pop(ht, hk, hr, size):  # pragma: no cover - compiled
    """Remove the root: the last entry sinks from the root, smaller children moving up."""
    size -= 1
    t, k, rtt = ht[size], hk[size], hr[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        # branch-free choice of the smaller child (ht has a slot past ``size``: see event_loop)
        small = left + ((left + 1 < size) & (ht[left + 1] < ht[left]))
        if t <= ht[small]:
            break
        ht[i], hk[i], hr[i] = ht[small], hk[small], hr[small]
        i = small
    ht[i], hk[i], hr[i] = t, k, rtt
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
    """Whether tree entry ``a`` beats ``b``: lower count, then larger weight, then lower pod.

    Written without branches (the outcome is a coin toss to the branch predictor).
    """
    la, lb, ka, kb = lvl[a], lvl[b], key[a], key[b]
    return (la < lb) | ((la == lb) & ((ka > kb) | ((ka == kb) & (a < b))))


@njit(cache=True)
def _tree_set(win, lvl, key, leaves, base, p, q):  # pragma: no cover - compiled
    """Re-decide the winners on the path from pod ``p``'s leaf (entry ``q``) to the root.

    A node whose winner stays the same entry, other than ``q``, keeps its value, so
    nothing above it changes: the walk stops there.
    """
    node = (leaves + p) >> 1
    while node >= 1:
        a, b = win[base + 2 * node], win[base + 2 * node + 1]
        new = a if _better(lvl, key, a, b) else b
        if new == win[base + node] and new != q:
            return
        win[base + node] = new
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
    _tree_set(win, lvl, key, leaves, v * 2 * leaves, p, q)


@njit(cache=True, inline="always")
def _count_back(key, tree, win, counts, cw, acc, nlev, leaves, n_pods):  # pragma: no cover
    """A request (or connection) of state index ``key`` is done: one in flight less."""
    if tree:
        _tree_move(win, counts, cw, acc, nlev, leaves, key // n_pods, key - key % n_pods,
                   key % n_pods, -1)  # fmt: skip
    else:
        counts[key] -= 1


@njit(cache=True, inline="always")
def _take_slot(qfree, nfree, high):  # pragma: no cover - compiled
    """A free slot of the queue pool: the last freed, else a new one. ``(slot, nfree, high)``."""
    if nfree > 0:
        return qfree[nfree - 1], nfree - 1, high
    return high, nfree, high + 1


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


#: Most calendar buckets (over all replications) a run may hold; beyond it the heap.
CALENDAR_MAX_ENTRIES = 1 << 23


def _calendar_buckets(n_pods: int, c: int) -> int:
    """Buckets of the completion calendar: a power of two, 16 per pod thread.

    The bucket width is the mean time between arrivals, so the calendar spans about
    ``16 / utilization`` mean service times: later completions wait for a later round.
    """
    want = max(1024, 16 * n_pods * c)
    return 1 << (want - 1).bit_length()


class LoopState:
    """The compiled loop's state between blocks of requests, one row per replication.

    ``counts`` (in flight per view and pod), ``cw`` (nginx ``current_weight``), ``ewma`` and
    ``last`` (ewma.lua's score and its time), ``free`` (each pod thread's next free time),
    the heap of requests in flight (``ht`` completion, ``hk`` state index, ``hr`` response,
    ``hsize``), the tournament trees (``win``, with ``acc`` and ``nlev`` per count level),
    each connection slot's pod and state index, and the sums that the summary reads.
    """

    def __init__(self, reps, views, n_pods, c, pool, tree, track, n_kept):
        n_state = views * n_pods
        leaves = 1
        while leaves < n_pods:
            leaves *= 2
        self.leaves = leaves
        self.counts = np.zeros((reps, n_state), dtype=np.int64)
        self.cw = np.zeros((reps, n_state))
        self.ewma = np.zeros((reps, n_state))
        self.last = np.zeros((reps, n_state))
        self.free = np.zeros((reps, n_pods, c))
        cap = 1024 if track else 1
        self.ht, self.hr = np.empty((reps, cap)), np.empty((reps, cap))
        self.hk = np.empty((reps, cap), dtype=np.int64)
        self.hsize = np.zeros(reps, dtype=np.int64)
        levels = 64 if tree else 1  # count levels so far; doubled when a pod goes past them
        self.win = np.zeros((reps, views * 2 * leaves if tree else 1), dtype=np.int64)
        self.acc = np.zeros((reps, views, levels))
        self.nlev = np.zeros((reps, views, levels), dtype=np.int64)
        if tree:
            _init_trees(self.win, self.counts, self.cw, self.nlev, views, n_pods, leaves)
        self.conn_pod = np.zeros((reps, pool), dtype=np.int64)
        self.conn_key = np.zeros((reps, pool), dtype=np.int64)
        self.cnt = np.zeros((reps, n_pods), dtype=np.int64)
        self.busy = np.zeros((reps, n_pods))
        self.resp = np.zeros((reps, n_pods))
        self.wait = np.zeros((reps, n_pods))
        self.placed = np.zeros((reps, n_pods), dtype=np.int64)
        self.kept = np.empty(reps * n_kept)
        # per-key FIFO queues of the requests in flight (the lazy loop): a linked list per
        # key through a pool of slots; slots freed go on a stack, and ``qhigh`` slots have
        # ever been used (so the pool needs no initialisation)
        self.qhead = np.full((reps, n_state), -1, dtype=np.int64)
        self.qtail = np.full((reps, n_state), -1, dtype=np.int64)
        self.qnext = np.empty((reps, 0), dtype=np.int64)
        self.qdep, self.qrtt = np.empty((reps, 0)), np.empty((reps, 0))
        self.qfree = np.empty((reps, 0), dtype=np.int64)
        self.qnfree = np.zeros(reps, dtype=np.int64)
        self.qhigh = np.zeros(reps, dtype=np.int64)
        self.qkey = np.empty((reps, 0), dtype=np.int64)
        # the calendar of completions (see _event_block): bucket heads (allocated by the
        # first block that uses them), a cursor per replication, the bucket width in seconds
        self.bhead = np.full((reps, 1), -1, dtype=np.int64)
        self.bcursor = np.zeros(reps, dtype=np.int64)
        self.bwidth = 0.0
        self.boff = np.zeros(reps, dtype=np.bool_)  # replications moved to the heap

    def reserve_slots(self, n: int) -> None:
        """Room in the queue pool for ``n`` more requests in flight in every replication.

        At most ``qhigh`` slots are in use before the block (fewer when some are free), so
        ``qhigh + n`` slots suffice; a little more than a block is reserved at first, so a
        run of steady queues allocates once.
        """
        cap = self.qdep.shape[1]
        need = int(self.qhigh.max()) + n
        if cap >= need:
            return
        new_cap = max(need + 1024, 2 * cap)
        reps = self.qdep.shape[0]
        for name, dtype in (("qnext", np.int64), ("qdep", float), ("qrtt", float),
                            ("qfree", np.int64), ("qkey", np.int64)):  # fmt: skip
            grown = np.empty((reps, new_cap), dtype=dtype)
            grown[:, :cap] = getattr(self, name)
            setattr(self, name, grown)


@njit(cache=True)
def _init_trees(win, counts, cw, nlev, views, n_pods, leaves):  # pragma: no cover - compiled
    for r in range(win.shape[0]):
        for v in range(views):
            nlev[r, v, 0] = n_pods
            b = v * 2 * leaves
            for node in range(leaves, 2 * leaves):  # empty leaves hold pod 0's index
                win[r, b + node] = v * n_pods + min(node - leaves, n_pods - 1)
            for node in range(leaves - 1, 0, -1):
                x, y = win[r, b + 2 * node], win[r, b + 2 * node + 1]
                win[r, b + node] = x if _better(counts[r], cw[r], x, y) else y


def _grow_rows(a: np.ndarray, need: int) -> np.ndarray:
    """``a`` with its last axis ``2 * need`` long (at least doubled), zero-filled past the old.

    Twice the need: the next block of the same size then fits without another copy.
    """
    b = np.zeros((*a.shape[:-1], max(2 * need, 2 * a.shape[-1])), dtype=a.dtype)
    b[..., : a.shape[-1]] = a
    return b


def event_loop(rule, arrival, base, disp, views, n_pods, c, spd, scale, w, weighted, cand,
               distinct, conn_id, opener, pool, count_requests, learns, tau, first, keep,
               state=None, j0=0, n_total=None):  # fmt: skip
    """Run one block of requests (all of them by default) through the loop.

    ``arrival``, ``base`` (and ``disp``, ``conn_id``, ``opener``) hold requests
    ``j0 .. j0 + block`` of every replication ``(replications, block)``, ``cand``
    their candidates ``(block, replications, d)``. ``state`` (a :class:`LoopState`,
    created when None) carries the queues from one block to the next, so a run
    cut in blocks gives the same bits as one call. Requests from global index
    ``first`` on are summed into ``state`` (per ``(replication, pod)``: count, work,
    response, wait, each in request order as :func:`numpy.bincount` sums them) and
    their responses kept in ``state.kept``; ``state.placed`` counts the connections
    opened on each pod. Returns ``(state, pod, departure)``, the last two
    ``(replications, block)`` with ``keep``, else ``(1, 1)`` placeholders.
    """
    reps, n = arrival.shape
    n_total = n if n_total is None else n_total
    tree = rule == LEAST_CONNECTIONS and not weighted
    track = count_requests or learns
    if state is None:
        state = LoopState(reps, views, n_pods, c, pool, tree, track, n_total - first)
    st = state
    pod_out = np.empty((reps, n) if keep else (1, 1), dtype=np.int64)
    dep_out = np.empty((reps, n) if keep else (1, 1))
    if _lazy(rule, n_pods, c, weighted, conn_id, track):
        st.reserve_slots(n)
        _lazy_block(
            rule, arrival, base, disp, views, n_pods, spd, scale, w, weighted, cand, distinct,
            count_requests, learns, tau, first, keep, j0, n_total - first, st.counts, st.cw,
            st.ewma, st.last, st.free, st.qhead, st.qtail, st.qnext, st.qdep, st.qrtt,
            st.qfree, st.qnfree, st.qhigh, st.cnt, st.busy, st.resp, st.wait, st.kept, pod_out,
            dep_out,
        )  # fmt: skip
        return state, pod_out, dep_out
    # A completion that only takes a count back (no ewma score) commutes with the others,
    # so a calendar of buckets replaces the heap: O(1) per request instead of O(log in
    # flight). A replication whose queues outgrow it (overload) moves to the heap for good.
    buckets = _calendar_buckets(n_pods, c)
    calendar = track and not learns and reps * buckets <= CALENDAR_MAX_ENTRIES
    if calendar and st.bwidth == 0.0:  # the first block: the calendar starts empty
        st.bhead = np.full((reps, buckets), -1, dtype=np.int64)
    in_flight = int((st.qhigh - st.qnfree).max()) if calendar else 0
    # Room for the block before it starts, so the loop never reallocates (a reallocation
    # inside it would make every array a loop-carried variable, measured about 1.5x slower):
    # at most n more requests in flight, and no count grows by more than n.
    need = int(st.hsize.max()) + in_flight + n + 1  # + 1: _heap_pop reads one slot past
    if st.ht.shape[1] < need:
        st.ht, st.hk, st.hr = (
            _grow_rows(st.ht, need),
            _grow_rows(st.hk, need),
            _grow_rows(st.hr, need),
        )
    need = int(st.counts.max()) + n + 3
    if tree and st.acc.shape[2] < need:
        st.acc, st.nlev = _grow_rows(st.acc, need), _grow_rows(st.nlev, need)
    if calendar:
        st.reserve_slots(n)
        if st.bwidth == 0.0:  # any width gives the same results; this one keeps buckets short
            span = float(np.mean(arrival[:, -1] - arrival[:, 0]))
            st.bwidth = span / (n - 1) if n > 1 and span > 0 else 1.0
    _event_block(
        rule, arrival, base, disp, views, n_pods, spd, scale, w, weighted, cand, distinct,
        conn_id, opener, pool, count_requests, learns, tau, first, keep, j0, n_total - first,
        tree, st.leaves, st.counts, st.cw, st.ewma, st.last, st.free, st.ht, st.hk, st.hr,
        st.hsize, st.win, st.acc, st.nlev, st.conn_pod, st.conn_key, st.cnt, st.busy,
        st.resp, st.wait, st.placed, st.kept, pod_out, dep_out, calendar, st.qnext, st.qdep,
        st.qkey, st.qfree, st.qnfree, st.qhigh, st.bhead, st.bcursor, st.bwidth, st.boff,
    )  # fmt: skip
    return state, pod_out, dep_out


@njit(cache=True)
def _calendar_to_heap(qnext, qdep, qkey, bhead, ht, hk, hr, size):  # pragma: no cover
    """Move one replication's calendar into its heap (count-only completions); new size."""
    for b in range(bhead.shape[0]):
        s = bhead[b]
        while s >= 0:
            size = _heap_push(ht, hk, hr, size, qdep[s], qkey[s], 0.0)
            s = qnext[s]
        bhead[b] = -1
    return size


@njit(cache=True)
def _record(r, p, x, resp, slot, cnt_out, busy_out, resp_out, wait_out, kept):  # pragma: no cover
    """Sum a kept request into pod ``p``'s totals of replication ``r`` and keep its response."""
    cnt_out[r, p] += 1
    busy_out[r, p] += x
    resp_out[r, p] += resp
    wait_out[r, p] += max(resp - x, 0.0)
    kept[slot] = resp


@njit(cache=True)
def _event_block(
    rule, arrival, base, disp, views, n_pods, spd, scale, w, weighted, cand, distinct,
    conn_id, opener, pool, count_requests, learns, tau, first, keep, j0, n_kept,
    tree, leaves, counts_all, cw_all, ewma_all, last_all, free_all, ht_all, hk_all, hr_all,
    hsize, win_all, acc_all, nlev_all, conn_pod_all, conn_key_all, cnt_out, busy_out,
    resp_out, wait_out, placed, kept, pod_out, dep_out, calendar, qnext_all, qdep_all,
    qkey_all, qfree_all, qnfree, qhigh, bhead_all, bcursor, bwidth, boff,
):  # fmt: skip  # pragma: no cover - compiled
    reps, n = arrival.shape
    c = free_all.shape[2]
    mask = bhead_all.shape[1] - 1
    track = count_requests or learns
    by_conn = conn_id.shape[0] > 0
    uniform = True
    for p in range(n_pods):
        if spd[p] != 1.0:
            uniform = False
    for r in range(reps):
        counts, cw, ewma, last = counts_all[r], cw_all[r], ewma_all[r], last_all[r]
        free, win = free_all[r], win_all[r]
        ht, hk, hr = ht_all[r], hk_all[r], hr_all[r]
        acc, nlev = acc_all[r], nlev_all[r]
        conn_pod, conn_key = conn_pod_all[r], conn_key_all[r]
        size = hsize[r]
        qnext, qdep, qkey, qfree = qnext_all[r], qdep_all[r], qkey_all[r], qfree_all[r]
        bhead = bhead_all[r]
        nfree, high, cursor = qnfree[r], qhigh[r], bcursor[r]
        cal = calendar and not boff[r]
        for j in range(n):
            t = arrival[r, j]
            if cal:
                # Complete every request in the buckets from the cursor to t's bucket that has
                # finished by t (a bucket also holds completions a whole round later).
                target = np.int64(t / bwidth)
                for i in range(min(target - cursor + 1, mask + 1)):
                    b = (cursor + i) & mask
                    prev, s = -1, bhead[b]
                    while s >= 0:
                        nxt = qnext[s]
                        if qdep[s] <= t:
                            _count_back(qkey[s], tree, win, counts, cw, acc, nlev, leaves, n_pods)
                            qfree[nfree] = s
                            nfree += 1
                            if prev < 0:
                                bhead[b] = nxt
                            else:
                                qnext[prev] = nxt
                        else:
                            prev = s
                        s = nxt
                cursor = target
            while size > 0 and ht[0] <= t:
                key, td, rtt = hk[0], ht[0], hr[0]
                size = _heap_pop(ht, hk, hr, size)
                if learns:  # ewma.lua after_balance
                    wgt = math.exp(-max(td - last[key], 0.0) / tau)
                    ewma[key] = ewma[key] * wgt + rtt * (1.0 - wgt)
                    last[key] = td
                else:
                    _count_back(key, tree, win, counts, cw, acc, nlev, leaves, n_pods)
            off = disp[r, j] * n_pods if views > 1 else 0
            opens = True
            slot = 0
            if by_conn:
                cid = conn_id[r, j]
                slot = cid % pool  # connection cid - pool used the same slot before
                opens = opener[r, j]
                if opens and cid - pool >= 0:
                    _count_back(conn_key[slot], tree, win, counts, cw, acc, nlev, leaves, n_pods)
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
                    conn_pod[slot] = p
                    conn_key[slot] = off + p
                    if tree:
                        _tree_move(win, counts, cw, acc, nlev, leaves, off // n_pods, off, p, 1)
                    else:
                        counts[off + p] += 1
            else:
                p = conn_pod[slot]
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
            if j0 + j >= first:
                _record(r, p, x, dep - t, r * n_kept + j0 + j - first, cnt_out, busy_out,
                        resp_out, wait_out, kept)  # fmt: skip
            if track:
                if count_requests and tree:
                    _tree_move(win, counts, cw, acc, nlev, leaves, off // n_pods, off, p, 1)
                elif count_requests:
                    counts[off + p] += 1
                if cal and high - nfree > 2 * (mask + 1):  # overload: queues outgrow it
                    size = _calendar_to_heap(qnext, qdep, qkey, bhead, ht, hk, hr, size)
                    nfree, high, cal, boff[r] = 0, 0, False, True
                if cal:
                    s, nfree, high = _take_slot(qfree, nfree, high)
                    b = np.int64(dep / bwidth) & mask
                    qdep[s], qkey[s], qnext[s] = dep, off + p, bhead[b]
                    bhead[b] = s
                else:
                    size = _heap_push(ht, hk, hr, size, dep, off + p, dep - t)
        hsize[r] = size
        qnfree[r], qhigh[r], bcursor[r] = nfree, high, cursor


@njit(cache=True)
def skip_drawn(draws):  # pragma: no cover - compiled
    """Map each row's draws onto the pods not drawn before it, in place.

    Draw ``i`` of a row is uniform over ``pods - i`` values; stepping it past every earlier
    pick that is at most it, smallest first, makes it uniform over the pods not yet picked
    (a uniform random d-subset, in order).
    """
    rows, d = draws.shape
    if d == 2:  # the common case, branch-free
        for r in range(rows):
            draws[r, 1] += draws[r, 1] >= draws[r, 0]
        return
    prev = np.empty(d, dtype=np.int64)
    for r in range(rows):
        for i in range(d):
            x = draws[r, i]
            for j in range(i):  # prev[:i] holds the earlier picks in increasing order
                if x >= prev[j]:
                    x += 1
            draws[r, i] = x
            k = i  # insert x into the sorted picks
            while k > 0 and prev[k - 1] > x:
                prev[k] = prev[k - 1]
                k -= 1
            prev[k] = x


#: Least connections scans the pods of a view per request up to this many pods (faster
#: than the tournament tree and the heap there: measured even at 16); beyond it the tree.
LC_SCAN_PODS = 12


def _lazy(rule, n_pods, c, weighted, conn_id, track) -> bool:
    """Whether the lazy loop runs this case (see :func:`_lazy_block`)."""
    small_lc = rule == LEAST_CONNECTIONS and (weighted or n_pods <= LC_SCAN_PODS)
    return (
        (rule != LEAST_CONNECTIONS or small_lc) and c == 1 and conn_id.shape[0] == 0 and bool(track)
    )


@njit(cache=True)
def _lazy_block(
    rule, arrival, base, disp, views, n_pods, spd, scale, w, weighted, cand, distinct,
    count_requests, learns, tau, first, keep, j0, n_kept, counts_all, cw_all, ewma_all,
    last_all, free_all, qhead_all, qtail_all, qnext_all, qdep_all, qrtt_all, qfree_all,
    qnfree, qhigh, cnt_out, busy_out, resp_out, wait_out, kept, pod_out, dep_out,
):  # fmt: skip  # pragma: no cover - compiled
    """The event loop for single-thread pods without connections, completing lazily.

    A single-thread FIFO pod finishes its requests in arrival order, so each (view, pod)
    key keeps its requests in flight in a FIFO queue (a linked list through a pool of
    slots), and a key's finished requests are completed only when a request looks at that
    key: the d candidates of best of d and EWMA (amortized O(1) per request, no heap),
    every pod of the view for least connections on few pods. Same choices, bit for bit,
    as :func:`_event_block`, except where two requests of one pod finish at the same instant
    (a service law with an atom at zero): EWMA's score then keeps the first response here
    (arrival order, as a FIFO pod sends them) and whichever the heap pops first there.
    """
    reps, n = arrival.shape
    uniform = True
    for p in range(n_pods):
        if spd[p] != 1.0:
            uniform = False
    d = cand.shape[2]
    for r in range(reps):
        counts, cw, ewma, last = counts_all[r], cw_all[r], ewma_all[r], last_all[r]
        free = free_all[r]
        qhead, qtail, qnext = qhead_all[r], qtail_all[r], qnext_all[r]
        qdep, qrtt, qfree = qdep_all[r], qrtt_all[r], qfree_all[r]
        nfree, high = qnfree[r], qhigh[r]
        for j in range(n):
            t = arrival[r, j]
            off = disp[r, j] * n_pods if views > 1 else 0
            # Complete the looked-at keys' requests finished by t, oldest first. Their effect
            # (a count less, or ewma.lua's after_balance) involves that key alone, so doing it
            # when the key is next looked at leaves the same state as doing every completion
            # in time order. (Inlined by hand: a call passing the arrays costs reference counts.)
            for i in range(n_pods if rule == LEAST_CONNECTIONS else d):
                key = off + (i if rule == LEAST_CONNECTIONS else cand[j, r, i])
                s = qhead[key]
                while s >= 0 and qdep[s] <= t:
                    if learns:
                        wgt = math.exp(-max(qdep[s] - last[key], 0.0) / tau)
                        ewma[key] = ewma[key] * wgt + qrtt[s] * (1.0 - wgt)
                        last[key] = qdep[s]
                    else:
                        counts[key] -= 1
                    qfree[nfree] = s
                    nfree += 1
                    s = qnext[s]
                qhead[key] = s
                if s < 0:
                    qtail[key] = -1
            if rule == LEAST_CONNECTIONS:
                p = _least_connections(counts, cw, scale, w, off, n_pods, weighted)
            else:
                p = cand[j, r, 0]
                if rule == BEST_OF_D:  # _best_of_d, inlined
                    best = counts[off + p] * scale[p]
                    for i in range(1, d):
                        q = cand[j, r, i]
                        sq = counts[off + q] * scale[q]
                        if sq < best or (distinct and sq == best):
                            best, p = sq, q
                elif d > 1:  # ewma.lua: the lower decayed score of two
                    q = cand[j, r, 1]
                    sa = ewma[off + p] * math.exp(-max(t - last[off + p], 0.0) / tau)
                    sb = ewma[off + q] * math.exp(-max(t - last[off + q], 0.0) / tau)
                    if sb < sa:
                        p = q
            x = base[r, j] if uniform else base[r, j] / spd[p]
            dep = max(t, free[p, 0]) + x
            free[p, 0] = dep
            if keep:
                pod_out[r, j] = p
                dep_out[r, j] = dep
            resp = dep - t
            if j0 + j >= first:
                _record(r, p, x, resp, r * n_kept + j0 + j - first, cnt_out, busy_out,
                        resp_out, wait_out, kept)  # fmt: skip
            if count_requests:
                counts[off + p] += 1
            key = off + p
            s, nfree, high = _take_slot(qfree, nfree, high)
            qdep[s], qrtt[s], qnext[s] = dep, resp, -1
            if qtail[key] < 0:
                qhead[key] = s
            else:
                qnext[qtail[key]] = s
            qtail[key] = s
        qnfree[r], qhigh[r] = nfree, high


@njit(cache=True)
def lindley_segments(a, work, before, counts, warm, kept, k):  # pragma: no cover - compiled
    """Single-thread FIFO pods laid out segment after segment along each row.

    Segment ``s`` of row ``r`` holds ``counts[r, s]`` requests of one pod, arrival times
    ``a`` on a clock that starts at ``before[r, s]``; ``D_i = max(A_i, D_{i-1}) + X_i``
    (Lindley 1952). The first ``warm[r, s]`` of each segment are dropped; the others'
    responses go to ``kept`` from index ``k`` on. Returns the per-segment sums of the
    kept responses and works, and the next free index of ``kept``.
    """
    rows, n_seg = counts.shape
    csum = np.zeros((rows, n_seg))
    wsum = np.zeros((rows, n_seg))
    for r in range(rows):
        pos = 0
        for s in range(n_seg):
            start = before[r, s]
            dep = 0.0
            for i in range(counts[r, s]):
                t = a[r, pos] - start
                x = work[r, pos]
                dep = max(t, dep) + x
                pos += 1
                if i >= warm[r, s]:
                    csum[r, s] += dep - t
                    wsum[r, s] += x
                    kept[k] = dep - t
                    k += 1
    return csum, wsum, k

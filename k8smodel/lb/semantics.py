"""Balancer rules shared by several policies: nginx's smooth weighted round robin, HAProxy's ring.

Each function is a small pure transcription of the cited upstream function; the
policies in :mod:`k8smodel.lb.policies` build on them.
"""

from __future__ import annotations

import numpy as np

from k8smodel._validate import check_budget, check_int, check_vector

__all__ = ["haproxy_full_hash", "haproxy_ring_shares", "smooth_wrr_sequence"]

_MASK = np.uint64(0xFFFFFFFF)

#: Points per unit of weight on the ring (``BE_WEIGHT_SCALE`` in HAProxy's ``backend.h``).
BE_WEIGHT_SCALE = 16
#: ``SRV_EWGHT_RANGE`` = ``SRV_UWGHT_RANGE`` (256) x ``BE_WEIGHT_SCALE`` (``server-t.h``).
SRV_EWGHT_RANGE = 256 * BE_WEIGHT_SCALE


def haproxy_full_hash(a, *, spread: bool = True) -> np.ndarray:
    """HAProxy's ``full_hash`` of 32-bit integers, vectorized.

    Bob Jenkins' 32-bit full-avalanche integer hash
    (http://burtleburtle.net/bob/hash/integer.html), as HAProxy's ``__full_hash`` in
    ``include/haproxy/tools.h`` applies it; with ``spread=True`` the result is then
    multiplied by the prime 3221225473 modulo 2**32, as recent HAProxy versions do "to
    better spread values all around the tree".

    Parameters
    ----------
    a : array_like of int
        Inputs, taken modulo 2**32.
    spread : bool, default True
        Apply the final multiplication.

    Returns
    -------
    numpy.ndarray of uint64
        Hashes in ``[0, 2**32)``.
    """
    x = np.asarray(a, dtype=np.uint64) & _MASK

    def m(v):
        return v & _MASK

    x = m(m(x + np.uint64(0x7ED55D16)) + m(x << np.uint64(12)))
    x = m((x ^ np.uint64(0xC761C23C)) ^ (x >> np.uint64(19)))
    x = m(m(x + np.uint64(0x165667B1)) + m(x << np.uint64(5)))
    x = m(m(x + np.uint64(0xD3A2646C)) ^ m(x << np.uint64(9)))
    x = m(m(x + np.uint64(0xFD7046C5)) + m(x << np.uint64(3)))
    x = m((x ^ np.uint64(0xB55A4F09)) ^ (x >> np.uint64(16)))
    if spread:
        x = m(x * np.uint64(3221225473))
    return x


def haproxy_ring_shares(servers: int, *, weights=None, spread: bool = True) -> np.ndarray:
    """Probability that one uniform draw on HAProxy's consistent-hash ring picks each server.

    Server ``i`` (``id`` ``i + 1``, HAProxy's default numbering in file order) with weight
    ``w`` owns ``16 w`` points at keys ``full_hash(id * 4096 + k)``, ``k = 0..16 w - 1``
    (``chash_init_server_tree`` in ``src/lb_chash.c``). A draw ``h`` uniform in
    ``[0, 2**32)`` goes to the nearer of the two points around it, the lower one on a tie
    (``chash_get_server_hash``). So a point owns half of the gap to each neighbour, and a
    server's share is the sum over its points divided by ``2**32``. ``balance random(1)``
    sends each request to one such draw (``get_server_rnd`` in ``src/backend.c``), hence
    these are its long-run shares; ``random(d)`` draws ``d`` times from them.

    Parameters
    ----------
    servers : int
        Number of servers (>= 1).
    weights : sequence of int, optional
        Server weights (HAProxy's ``weight``, default 1 each).
    spread : bool, default True
        Whether ``full_hash`` ends with the spreading multiplication (see
        :func:`haproxy_full_hash`).

    Returns
    -------
    numpy.ndarray
        Shares, summing to 1.

    References
    ----------
    HAProxy sources: ``src/lb_chash.c`` (``chash_init_server_tree``,
    ``chash_get_server_hash``), ``src/backend.c`` (``get_server_rnd``),
    ``include/haproxy/tools.h`` (``full_hash``); D. Karger et al., "Consistent
    Hashing and Random Trees", STOC 1997, doi:10.1145/258533.258660.
    """
    servers = check_int(servers, "servers", minimum=1)
    if weights is None:
        check_budget(48.0 * BE_WEIGHT_SCALE * servers, f"servers={servers}",
                     remedy="use fewer servers")  # fmt: skip
        w = np.ones(servers, dtype=np.int64)
    else:
        w = check_vector(weights, "weights", size=servers, minimum=1, integer=True)
        w = w.astype(np.int64)
        check_budget(48.0 * BE_WEIGHT_SCALE * float(w.sum()), f"servers={servers} with weights",
                     remedy="use smaller weights or fewer servers")  # fmt: skip
    points = (w * BE_WEIGHT_SCALE).astype(int)
    owner = np.repeat(np.arange(servers), points)
    node = np.concatenate([np.arange(p) for p in points])
    keys = haproxy_full_hash((owner + 1) * SRV_EWGHT_RANGE + node, spread=spread).astype(float)
    order = np.argsort(keys, kind="stable")
    keys, owner = keys[order], owner[order]
    gap_after = np.diff(np.append(keys, keys[0] + 2.0**32))
    gap_before = np.roll(gap_after, 1)
    owned = (gap_after + gap_before) / 2.0
    return np.bincount(owner, weights=owned, minlength=servers) / 2.0**32


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

    Examples
    --------
    >>> smooth_wrr_sequence([5, 1, 1]).tolist()
    [0, 0, 1, 0, 2, 0, 0]
    """
    w = check_vector(weights, "weights", minimum=1, integer=True, nonempty=True)
    check_budget(
        8.0 * float(w.sum()),
        f"weights summing to {w.sum():.0f} (one period)",
        remedy="divide the weights by their common factor or use smaller ones",
    )
    w = w.astype(np.int64)
    total = int(w.sum())
    current = np.zeros(len(w), dtype=np.int64)
    seq = np.empty(total, dtype=np.int64)
    for i in range(total):  # one period of at most sum(weights) picks, not a loop over requests
        current += w
        best = int(np.argmax(current))
        current[best] -= total
        seq[i] = best
    return seq

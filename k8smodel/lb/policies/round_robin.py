"""``round_robin`` (aliases ``ipvs-rr``, ``userspace``): one cursor per dispatcher.

The cursor walks the pods in order, starting at a random pod (ingress-nginx
``rootfs/etc/nginx/lua/balancer/round_robin.lua`` keeps one cursor per nginx worker;
IPVS ``rr`` one per node). With weights the cursor follows nginx's smooth weighted
round robin (``src/http/ngx_http_upstream_round_robin.c``,
``ngx_http_upstream_get_peer``; :func:`k8smodel.lb.semantics.smooth_wrr_sequence`).
Cursors are always per dispatcher, so ``shared_state=False`` is accepted (it is
what is modelled) and ``True`` refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from k8smodel.lb.kernels import FastSegments, rank_within
from k8smodel.lb.policies._base import Policy
from k8smodel.lb.queueing import TheoryContext, gi_m1_sigma, theory_row
from k8smodel.lb.semantics import smooth_wrr_sequence

__all__ = ["RoundRobinPolicy", "choose"]


def choose(current_weight: list[float], weights: Sequence[int]) -> int:
    """One pick of nginx ``ngx_http_upstream_get_peer``: smooth weighted round robin, in place.

    Adds each weight to its ``current_weight``, takes the largest (the first on
    ties) and subtracts the total from it.
    """
    for i, w in enumerate(weights):
        current_weight[i] += w
    best = max(range(len(weights)), key=lambda i: (current_weight[i], -i))
    current_weight[best] -= sum(weights)
    return best


class RoundRobinPolicy(Policy):
    """Round robin (smooth weighted with weights), one cursor per dispatcher."""

    name = "round_robin"
    aliases = {"ipvs-rr": {}, "userspace": {}}
    options = frozenset({"shared_state"})
    weighted = True

    def uses(self, key: str, value: Any) -> bool:
        """Whether the caller may set option ``key`` to ``value``."""
        return key == "shared_state" and value is False

    def expected_share(self, spec):
        """Long-run share of requests per pod."""
        return spec.weights / spec.weights.sum()

    def fast_ok(self, spec, requests: int) -> bool:
        """Whether the sort-free static path applies."""
        w = spec.weights
        return (
            spec.concurrency == 1
            and not spec.by_connection
            and spec.balancer.dispatchers == 1
            and bool(np.all(w == w[0]))
            and requests >= spec.pods
        )

    def fast_segments(self, gen, spec, rows, requests, warmup, buf) -> FastSegments:
        """Pod ``(start + i) mod n`` receives arrivals ``i, i + n, ...``: a reshape.

        The warm-up drops the first ``W`` requests of the merged stream: stream
        position ``i`` loses ``ceil((W - i) / n)`` of them. The busy fraction divides
        by the realized span of the kept merged arrivals.
        """
        n_pods, labels = spec.pods, np.arange(spec.pods)
        m = requests // n_pods
        length = m * n_pods
        n_warm = int(warmup * length)
        common = gen.standard_exponential(out=buf("common", (rows, length)))
        np.cumsum(common, axis=1, out=common)
        common /= spec.arrival_rate_per_s
        a = buf("a", (rows, length))
        a.reshape(rows, n_pods, m)[...] = common.reshape(rows, m, n_pods).transpose(0, 2, 1)
        return FastSegments(
            length=length,
            counts=np.full((rows, n_pods), m),
            warm=np.broadcast_to(np.maximum(-((labels - n_warm) // n_pods), 0), (rows, n_pods)),
            a=a,
            before=np.zeros((rows, n_pods)),
            pod_of_seg=(labels + gen.integers(n_pods, size=(rows, 1))) % n_pods,
            window=common[:, -1] - common[:, min(n_warm, length - 1)],
        )

    def assign(self, gen, spec, shape, dispatcher, conn) -> np.ndarray:
        """The pod of every request."""
        reps, n_req = shape
        k = spec.balancer.dispatchers
        seq = smooth_wrr_sequence(spec.weights.astype(np.int64))
        start = gen.integers(len(seq), size=(reps, k))
        who = dispatcher if dispatcher is not None else np.zeros(shape, dtype=np.int64)
        if conn is None:
            pos = rank_within(who, k) if k > 1 else np.arange(n_req)[None, :]
            return seq[(np.take_along_axis(start, who, axis=1) + pos) % len(seq)]
        conn_id, opener, _ = conn
        # Cursor positions count connection openings per dispatcher, in time order.
        pos = rank_within(np.where(opener, who, k), k + 1)
        rr_pod = seq[(np.take_along_axis(start, np.minimum(who, k - 1), axis=1) + pos) % len(seq)]
        conn_pod = np.zeros((reps, int(conn_id.max()) + 1), dtype=np.int64)
        rows = np.broadcast_to(np.arange(reps)[:, None], shape)
        conn_pod[rows[opener], conn_id[opener]] = rr_pod[opener]
        return np.take_along_axis(conn_pod, conn_id, axis=1)

    def theory_row(self, ctx: TheoryContext) -> dict[str, Any]:
        """E_n/M/1 per pod for one cursor, equal weights, exponential service and ``c = 1``.

        Pod ``i`` gets every ``n``-th arrival of a Poisson stream: Erlang-``n``
        interarrivals, time in system exponential with rate ``mu (1 - sigma)``
        (Kleinrock 1975, §6.4). Several independent cursors superpose non-renewal
        streams: no closed form.
        """
        n, w = ctx.pods, ctx.weights
        share = w / w.sum()
        big_lambda = ctx.arrival_rate
        stable = bool(np.all(big_lambda * share < ctx.capacity))
        equal = bool(np.all(w == w[0]))
        if not (ctx.dispatchers == 1 and equal and ctx.service.exponential
                and ctx.concurrency == 1):  # fmt: skip
            why = (
                f"{ctx.dispatchers} independent cursors"
                if ctx.dispatchers > 1
                else ("unequal weights" if not equal else "non-exponential or c > 1")
            )
            return theory_row(f"none ({why})", False, stable)
        method = f"E_{n}/M/1 per pod"
        if not stable:
            return theory_row(method, True, False)
        parts = []
        for mi in ctx.mu:
            sigma = gi_m1_sigma(lambda s: (big_lambda / (big_lambda + s)) ** n, mi)
            rate = mi * (1.0 - sigma)
            parts.append((1.0 / rate, lambda t, r=rate: np.exp(-r * t), sigma, sigma / rate))
        return theory_row(method, True, True, **ctx.mixture(share, parts))

"""``least_connections`` (aliases ``nginx-least-conn``, ``haproxy-leastconn``).

The pod with the fewest in-flight requests relative to its weight; ties broken by
smooth weighted round robin among the tied pods, as nginx does
(``src/http/modules/ngx_http_upstream_least_conn_module.c``,
``ngx_http_upstream_get_least_conn_peer``: it compares
``conns * best->weight < best->conns * weight`` and, when several peers tie, adds
``effective_weight`` to their ``current_weight``, takes the largest and subtracts the
tied total). Without a ``zone`` directive the counters live in each worker's memory:
the ``zone`` directive "defines the name and size of the shared memory zone that
keeps the group's configuration and run-time state that are shared between worker
processes" (nginx ``ngx_http_upstream_module`` documentation), so each of
``dispatchers`` workers sees only its own requests (``shared_state=False``).
HAProxy's ``leastconn`` ("the server with the lowest number of connections receives
the connection; round-robin is performed within groups of servers of the same load",
``doc/configuration.txt``) runs in one process whose threads share the counters, so
its alias sets ``shared_state=True``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from k8smodel.lb import _compiled
from k8smodel.lb.finite_n import cached_finite_n_mean_response, finite_n_method
from k8smodel.lb.policies._base import Policy
from k8smodel.lb.queueing import TheoryContext, jsq_mean_response, theory_row

__all__ = ["LeastConnectionsPolicy", "choose"]


def choose(conns: Sequence[int], weights: Sequence[int], current_weight: list[float]) -> int:
    """One pick of nginx ``ngx_http_upstream_get_least_conn_peer`` (``current_weight`` in place).

    The best peer minimizes ``conns / weight`` by integer cross-multiplication; among
    the tied ones the largest ``current_weight + weight`` wins (the first on ties),
    and the tied total is subtracted from it.
    """
    n = len(conns)
    best = 0
    for i in range(1, n):
        if conns[i] * weights[best] < conns[best] * weights[i]:
            best = i
    tied = [i for i in range(n) if conns[i] * weights[best] == conns[best] * weights[i]]
    if len(tied) == 1:
        return tied[0]
    for i in tied:
        current_weight[i] += weights[i]
    pick = max(tied, key=lambda i: (current_weight[i], -i))
    current_weight[pick] -= sum(weights[i] for i in tied)
    return pick


class LeastConnectionsPolicy(Policy):
    """Least in-flight requests over weight, nginx's round-robin tie-break."""

    name = "least_connections"
    aliases = {
        "nginx-least-conn": {"shared_state": False},
        "haproxy-leastconn": {"shared_state": True},
    }
    defaults = {"shared_state": False}
    options = frozenset({"shared_state"})
    weighted = True
    state_dependent = True
    compiled_rule = _compiled.LEAST_CONNECTIONS
    counts_in_flight = True

    def pick(self, state, j, t, view):
        """The pod chosen at step ``j`` in every replication."""
        score, idx = state.scores(view)
        rr = state.rr
        tied = score == score.min(axis=0)
        tw = tied * state.w[:, None] if state.weighted else tied
        if idx is None:  # update nginx's current_weight in place
            cw, _ = state.view_block(state.cw, view)
            cw += tw
            choice = np.where(tied, cw, -np.inf).argmax(axis=0)
            cw[choice, rr] -= tw.sum(axis=0)
        else:
            cw = state.cw[idx] + tw
            choice = np.where(tied, cw, -np.inf).argmax(axis=0)
            cw[choice, rr] -= tw.sum(axis=0)
            state.cw[idx] = cw
        return choice

    def theory_row(self, ctx: TheoryContext) -> dict[str, Any]:
        """Join the shortest queue at finite ``n`` (mean only).

        The exact sorted-state chain where it is small
        (:func:`k8smodel.lb.queueing.jsq_mean_response`), else the matrix-geometric chain
        of :mod:`k8smodel.lb.finite_n` (exact when its truncation converged), else the
        pooled M/M/n floor labelled as a lower bound. Needs one dispatcher, identical
        exponential single-thread pods and equal weights; else none.
        """
        n, svc = ctx.pods, ctx.service
        if not (svc.exponential and ctx.equal_speeds and ctx.equal_weights
                and ctx.concurrency == 1 and ctx.dispatchers == 1):  # fmt: skip
            why = (
                "unequal weights"
                if not ctx.equal_weights
                else ("needs one dispatcher and identical exponential single-thread pods")
            )
            return theory_row(f"none (JSQ: {why})", False, ctx.utilization < 1)
        if ctx.utilization >= 1:
            return theory_row("unstable (utilization >= 1)", True, False)
        unit = svc.mean_s / ctx.speeds[0]
        mean = jsq_mean_response(n, ctx.utilization)
        if np.isfinite(mean):
            return theory_row(f"JSQ Markov chain, n={n} (exact)", True, True,
                              mean=mean * unit, wait=(mean - 1) * unit)  # fmt: skip
        answer = cached_finite_n_mean_response(n, ctx.utilization, None, True)
        return theory_row(finite_n_method(answer, n, unit), answer.exact, True,
                          mean=answer.mean_response * unit,
                          wait=(answer.mean_response - 1) * unit)  # fmt: skip

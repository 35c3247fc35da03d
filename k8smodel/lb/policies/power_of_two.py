"""``power_of_two``: the best of d draws.

Aliases ``envoy-least-request``, ``nginx-random-two`` and ``haproxy-random``.

Draw ``choices`` pods and send to the one with the fewest in-flight requests (over
weight).

* Envoy ``LEAST_REQUEST`` with equal weights draws ``choice_count`` (default 2) hosts
  *with replacement* (``random() % n``) and keeps the first drawn on ties (strict
  ``<``; ``source/extensions/load_balancing_policies/least_request/least_request_lb.cc``,
  ``unweightedHostPickNChoices``); its counters are shared by all worker threads.
  With unequal weights Envoy scores ``weight / (active + 1)^bias``, another rule:
  refused.
* nginx ``random two least_conn`` draws two *distinct* peers by weight and keeps the
  second unless it has more connections over weight
  (``src/http/modules/ngx_http_upstream_random_module.c``,
  ``ngx_http_upstream_get_random2_peer``); counters per worker without a ``zone``.
* HAProxy ``random(<draws>)`` uses a random number as the key of its consistent-hash
  ring and keeps "the least loaded of these servers" (``doc/configuration.txt``);
  draws are independent and a later draw replaces the best so far unless its
  ``served * prev->cur_eweight`` is strictly greater (``src/backend.c``,
  ``get_server_rnd``). Pass the ring's shares
  (:func:`k8smodel.lb.semantics.haproxy_ring_shares`) as ``draw_weights``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import special

from k8smodel.lb import _compiled
from k8smodel.lb.finite_n import cached_finite_n_mean_response, finite_n_method
from k8smodel.lb.kernels import distinct_draws, weighted_draws
from k8smodel.lb.policies._base import Policy
from k8smodel.lb.queueing import TheoryContext, supermarket_tails, theory_row

__all__ = ["PowerOfTwoPolicy", "choose"]

#: Aliases that are Envoy's least request (weights there follow another rule).
_ENVOY = frozenset({"envoy-least-request"})


def choose(
    drawn: Sequence[int], conns: Sequence[int], weights: Sequence[int], *, later_wins_ties: bool
) -> int:
    """Keep the drawn pod with the fewest connections over weight.

    ``later_wins_ties`` is nginx ``random two`` (``get_random2_peer`` keeps the
    second draw unless it has strictly more); Envoy keeps the first on ties.
    """
    best = drawn[0]
    for p in drawn[1:]:
        lower = conns[p] * weights[best] < conns[best] * weights[p]
        equal = conns[p] * weights[best] == conns[best] * weights[p]
        if lower or (later_wins_ties and equal):
            best = p
    return best


class PowerOfTwoPolicy(Policy):
    """The best of ``choices`` draws (distinct or not) by in-flight count over weight."""

    name = "power_of_two"
    aliases = {
        "envoy-least-request": {"distinct": False, "shared_state": True, "choices": 2},
        "nginx-random-two": {"distinct": True, "shared_state": False, "choices": 2},
        "haproxy-random": {"distinct": False, "shared_state": True},
    }
    defaults = {"choices": 2, "distinct": False, "shared_state": False}
    options = frozenset({"choices", "distinct", "draw_weights", "shared_state"})
    weighted = True
    state_dependent = True
    compiled_rule = _compiled.BEST_OF_D
    counts_in_flight = True

    def check_spec(self, spec) -> None:
        """Refuse combinations not modelled."""
        b = spec.balancer
        if b.alias in _ENVOY and not bool(np.all(spec.weights == spec.weights[0])):
            raise ValueError(
                "weights must be equal for envoy-least-request (Envoy picks by weight / "
                "(active_requests + 1)^active_request_bias, not by nginx's count over weight); "
                f"got weights={spec.weights.tolist()!r}"
            )
        if b.distinct and b.choices > spec.pods:
            raise ValueError(f"choices must be <= pods ({spec.pods}) when distinct=True; "
                             f"got {b.choices}")  # fmt: skip

    def forced_overload(self, spec) -> np.ndarray:
        """With replacement, pod ``i`` gets every request whose ``d`` draws all land on it."""
        over = np.full(spec.pods, spec.utilization >= 1)
        d = spec.balancer.choices
        if not spec.balancer.distinct or d == 1:
            p_draw = spec.draw_weights / spec.draw_weights.sum()
            over |= spec.arrival_rate_per_s * p_draw**d >= spec.capacity_per_s
        return over

    def draw_candidates(self, gen, spec, n, reps):
        """Candidates for every step, drawn in bulk before the loop."""
        d, distinct, dw = spec.balancer.choices, bool(spec.balancer.distinct), spec.draw_weights
        if not np.all(dw == dw[0]):
            return weighted_draws(gen, (n, reps), dw, d, distinct)
        if distinct:
            return distinct_draws(gen, (n, reps), spec.pods, d)
        return gen.integers(spec.pods, size=(n, reps, d))

    def pick(self, state, j, t, view):
        """The pod chosen at step ``j`` in every replication."""
        score, _ = state.scores(view)
        rr, d = state.rr, state.choices
        cj = state.candidates[j]
        cs = score[cj, rr[:, None]]
        if state.distinct:  # nginx random two: the later draw wins ties
            return cj[rr, d - 1 - cs[:, ::-1].argmin(axis=1)]
        # Envoy keeps the first drawn on ties; HAProxy's get_server_rnd keeps the later one.
        # Independent draws are exchangeable, so both give the same law.
        return cj[rr, cs.argmin(axis=1)]

    def theory_row(self, ctx: TheoryContext) -> dict[str, Any]:
        r"""Best of d at finite ``n`` (:mod:`k8smodel.lb.finite_n`), never below the pooled floor.

        The mean comes from the exact chain or the corrected mean field; the supermarket
        mean field (``n -> infinity``; Mitzenmacher 2001) gives the percentiles where it
        agrees, and the whole row when several dispatchers sample independently.

        An arrival that finds ``k`` requests spends an Erlang(k+1) time, which gives
        the percentiles. With replacement, pod ``i`` receives at least
        :math:`\Lambda p_i^d` whatever the state: if that reaches its capacity the
        row is unstable. Needs equal exponential single-thread pods and weights.
        """
        d, dw, mu = ctx.choices, ctx.draw_weights, ctx.mu
        forced = ctx.arrival_rate * (dw / dw.sum()) ** d >= ctx.capacity
        if ctx.distinct and d >= 2:
            forced[:] = False
        if forced.any():
            return theory_row(f"overloaded: pod {int(np.argmax(forced))} gets >= Lambda p_i^{d}",
                              True, False)  # fmt: skip
        rho = ctx.utilization
        if not (ctx.service.exponential and ctx.equal_speeds and ctx.equal_weights
                and ctx.concurrency == 1 and rho < 1):  # fmt: skip
            return theory_row("none (mean field needs equal exponential pods and weights)",
                              False, rho < 1)  # fmt: skip
        join = supermarket_tails(rho, d) ** d  # P(arrival finds >= k), k = 0, 1, ...
        p_k = join - np.append(join[1:], 0.0)
        ks = np.arange(len(p_k))
        field_mean = float(join.sum()) / mu[0]

        def sf(t: float) -> float:  # P(Erlang(k+1, mu) > t) = P(Poisson(mu t) <= k)
            return float(np.dot(p_k, special.pdtr(ks, mu[0] * t)))

        from k8smodel.lb.queueing import quantiles

        if ctx.dispatchers > 1 or (d > ctx.pods and ctx.distinct):
            return theory_row(f"supermarket mean field (d={d}, n->inf)", False, True,
                              mean=field_mean, q=quantiles(sf, field_mean),
                              p_wait=float(join[1]), wait=field_mean - 1.0 / mu[0])  # fmt: skip
        # Finite n: the mean from the chain or the corrected mean field; the mean field's
        # percentiles are kept only where its mean agrees with the finite-n one within 2 %.
        answer = cached_finite_n_mean_response(ctx.pods, rho, d, ctx.distinct)
        unit = 1.0 / mu[0]
        mean = answer.mean_response * unit
        close = abs(mean - field_mean) <= 0.02 * mean
        return theory_row(finite_n_method(answer, ctx.pods, unit), answer.exact, True,
                          mean=mean, q=quantiles(sf, field_mean) if close else None,
                          p_wait=float(join[1]) if close else float("nan"),
                          wait=mean - unit)  # fmt: skip

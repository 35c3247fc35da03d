"""``ewma`` (alias ``ingress-nginx-ewma``): ingress-nginx's peak-EWMA balancer.

``rootfs/etc/nginx/lua/balancer/ewma.lua``: pick two distinct random endpoints
(partial Fisher-Yates shuffle, ``PICK_SET_SIZE = 2``) and keep the one with the
strictly lower score, else the first. The score is a decaying average of
``upstream_connect_time + upstream_response_time`` updated when a response completes:
``ewma = ewma * w + rtt * (1 - w)`` with ``w = exp(-td / DECAY_TIME)``,
``DECAY_TIME = 10`` s; reading a score decays it towards 0 by the time since its
last update (``score`` calls the same function with ``rtt = 0``), so an endpoint that
has not answered for a while looks ever better. In-flight requests are not counted.
Scores start at 0. Times are in seconds, so the 10 s decay is compared with the
service law as given.

Where the scores live: in the current file (kubernetes/ingress-nginx HEAD dbb11b9,
2026-03-20) they are in the shared dictionaries ``ngx.shared.balancer_ewma`` and
``ngx.shared.balancer_ewma_last_touched_at``, read and written under a
``resty.lock`` (``get_or_update_ewma``, ``store_stats``), so every nginx worker reads
and updates the same scores: ``shared_state=True``, the default. Between commits
3cbfd6399 ("Refactor EWMA to not use shared dictionaries", 2018-07-30) and 30b64df10
("ewma improvements", 2019-08-15) the scores were plain Lua tables of the balancer
object (``self.ewma``), one per worker's Lua VM: ``shared_state=False``, or the alias
``ingress-nginx-ewma-per-worker``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from k8smodel.lb import _compiled
from k8smodel.lb.kernels import distinct_draws
from k8smodel.lb.policies._base import Policy
from k8smodel.lb.queueing import TheoryContext, theory_row

__all__ = ["EWMA_DECAY_S", "EwmaPolicy", "choose", "decay"]

#: ingress-nginx ``balancer/ewma.lua``: ``DECAY_TIME = 10`` seconds.
EWMA_DECAY_S = 10.0


def decay(ewma: float, last: float, now: float, rtt: float, tau_s: float = EWMA_DECAY_S) -> float:
    """``decay_ewma`` of ``ewma.lua``: ``ewma w + rtt (1 - w)``, ``w = exp(-td / DECAY_TIME)``."""
    w = math.exp(-max(now - last, 0.0) / tau_s)
    return ewma * w + rtt * (1.0 - w)


def choose(pair: tuple[int, int], ewma: list[float], last: list[float], now: float) -> int:
    """``ewma.lua`` ``pick_and_score`` of two: the strictly lower score wins, else the first."""
    a, b = pair
    score_a = decay(ewma[a], last[a], now, 0.0)
    score_b = decay(ewma[b], last[b], now, 0.0)
    return b if score_b < score_a else a


class EwmaPolicy(Policy):
    """Two distinct draws, lower decayed response-time average wins."""

    name = "ewma"
    aliases = {
        "ingress-nginx-ewma": {"shared_state": True},
        "ingress-nginx-ewma-per-worker": {"shared_state": False},
    }
    defaults = {"shared_state": True}
    options = frozenset({"shared_state"})
    why_no_weights = "ingress-nginx's ewma picks endpoints uniformly"
    state_dependent = True
    compiled_rule = _compiled.EWMA
    learns_responses = True

    def draw_candidates(self, gen, spec, n, reps):
        """Candidates for every step, drawn in bulk before the loop."""
        return distinct_draws(gen, (n, reps), spec.pods, min(2, spec.pods))

    def init_state(self, state) -> None:
        """Allocate the score tables (one per view)."""
        size = state.counts.size
        state.extra.update(ewma=np.zeros(size), last=np.zeros(size), tau=EWMA_DECAY_S)

    def on_complete(self, state, due) -> None:
        """``after_balance``: fold each finished response into its score, in completion order."""
        ewma, last, tau = state.extra["ewma"], state.extra["last"], state.extra["tau"]
        r_d, i_d = np.nonzero(due)
        key_d, t_d = state.pend_key[r_d, i_d], state.pend_t[r_d, i_d]
        rtt_d = state.pend_rtt[r_d, i_d]
        state.pend_t[r_d, i_d] = np.inf
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

    def pick(self, state, j, t, view):
        """The pod chosen at step ``j`` in every replication."""
        cj = state.candidates[j]
        if cj.shape[1] == 1:
            return cj[:, 0]
        ewma, last, tau = state.extra["ewma"], state.extra["last"], state.extra["tau"]
        key = view[:, None] + cj * state.reps
        sc = ewma[key] * np.exp(-np.maximum(t[:, None] - last[key], 0.0) / tau)
        return np.where(sc[:, 1] < sc[:, 0], cj[:, 1], cj[:, 0])

    def theory_row(self, ctx: TheoryContext) -> dict[str, Any]:
        """No closed form is known for ewma's herding dynamics."""
        return theory_row("none", False, ctx.utilization < 1)

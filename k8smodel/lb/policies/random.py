"""``random`` (aliases ``iptables``, ``nftables``): each connection or request to a uniform pod.

kube-proxy's iptables mode writes a chain of rules
``-m statistic --mode random --probability 1/(n-i)`` for ``i = 0..n-2`` followed by
an unconditional jump, so every endpoint gets exactly ``1/n``
(kubernetes/kubernetes ``pkg/proxy/iptables/proxier.go``,
``writeServiceToEndpointRules`` and ``computeProbability``, which formats ``1/n``
with ten decimals). The nftables mode uses ``numgen random mod n``
(``pkg/proxy/nftables/proxier.go``). No weights: endpoints are equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from k8smodel.lb.kernels import FastSegments
from k8smodel.lb.policies._base import Policy
from k8smodel.lb.queueing import TheoryContext, mmc, theory_row

if TYPE_CHECKING:
    from k8smodel.lb.spec import LbSpec

__all__ = ["RandomPolicy", "choose", "iptables_probabilities"]


def iptables_probabilities(endpoints: int) -> list[float]:
    """The ``--probability`` of each rule of kube-proxy's iptables chain, as it writes them.

    ``computeProbability(n)`` is ``fmt.Sprintf("%0.10f", 1.0/float64(n))`` for the
    ``n - i`` endpoints still left (``pkg/proxy/iptables/proxier.go``); the last rule
    has no probability (an unconditional jump, written here as 1).

    Examples
    --------
    >>> iptables_probabilities(3)
    [0.3333333333, 0.5, 1.0]
    """
    return [round(1.0 / (endpoints - i), 10) for i in range(endpoints - 1)] + [1.0]


def choose(endpoints: int, uniforms: Sequence[float]) -> int:
    """Walk kube-proxy's iptables chain: the first rule whose draw falls below its probability.

    ``uniforms`` holds one uniform number per rule (the kernel's ``statistic`` match
    draws one per rule it reaches).
    """
    for i, p in enumerate(iptables_probabilities(endpoints)):
        if uniforms[i] < p:
            return i
    return endpoints - 1


class RandomPolicy(Policy):
    """Uniform random choice, per request or per new connection."""

    name = "random"
    aliases = {"iptables": {}, "nftables": {}}
    why_no_weights = "kube-proxy's iptables and nftables rules pick endpoints uniformly"

    def expected_share(self, spec: LbSpec) -> np.ndarray:
        """Long-run share of requests per pod."""
        return np.full(spec.pods, 1.0 / spec.pods)

    def fast_ok(self, spec: LbSpec, requests: int) -> bool:
        """Whether the sort-free static path applies."""
        return spec.concurrency == 1 and not spec.by_connection

    def fast_segments(self, gen, spec, rows, requests, warmup, buf) -> FastSegments:
        """By Poisson splitting each pod receives an independent stream of rate ``Lambda/n``.

        The warm-up is counted in requests of the merged stream: the first
        ``W = floor(warmup * N)`` labels are uniform and independent of the later
        ones, so the warm-up counts per pod are ``Multinomial(W, 1/n)`` and the kept
        counts an independent ``Multinomial(N - W, 1/n)``. The pods run on separate
        clocks, so the busy fraction divides by the expected window ``(N - W) / Lambda``
        (unbiased).
        """
        n_pods, big_lambda = spec.pods, spec.arrival_rate_per_s
        n_warm = int(warmup * requests)
        p_uniform = np.full(n_pods, 1.0 / n_pods)
        warm = gen.multinomial(n_warm, p_uniform, size=rows)
        counts = warm + gen.multinomial(requests - n_warm, p_uniform, size=rows)
        a = gen.standard_exponential(out=buf("a", (rows, requests)))
        np.cumsum(a, axis=1, out=a)
        a *= n_pods / big_lambda
        starts = np.cumsum(counts, axis=1) - counts
        before = np.where(starts > 0, np.take_along_axis(a, np.maximum(starts - 1, 0), axis=1),
                          0.0)  # fmt: skip
        return FastSegments(
            length=requests,
            counts=counts,
            warm=warm,
            a=a,
            before=before,
            pod_of_seg=np.broadcast_to(np.arange(n_pods), (rows, n_pods)),
            window=np.full(rows, (requests - n_warm) / big_lambda),
        )

    def assign(self, gen, spec, shape, dispatcher, conn) -> np.ndarray:
        """The pod of every request."""
        if conn is not None:
            conn_id = conn[0]
            conn_pod = gen.integers(spec.pods, size=(shape[0], int(conn_id.max()) + 1))
            return np.take_along_axis(conn_pod, conn_id, axis=1)
        return gen.integers(spec.pods, size=shape)

    def theory_row(self, ctx: TheoryContext) -> dict[str, Any]:
        """M/M/1 (M/M/c) per pod, exact percentiles of the mixture; M/G/1 mean (P-K) otherwise.

        Pod ``i`` receives a Poisson stream of rate ``Lambda / n`` (Kleinrock 1975,
        §3.2, §3.5); other laws with ``c = 1``: the Pollaczek-Khinchine mean
        ``E[T] = E[S] + lambda E[S^2] / (2 (1 - rho))`` (Kleinrock 1975, §5.6).
        """
        n, c, svc = ctx.pods, ctx.concurrency, ctx.service
        share = np.full(n, 1.0 / n)
        lam = ctx.arrival_rate * share
        stable = bool(np.all(lam < ctx.capacity))
        if svc.exponential:
            method = "M/M/c per pod" if c > 1 else "M/M/1 per pod"
            if not stable:
                return theory_row(method, True, False)
            parts = [mmc(li, mi, c) for li, mi in zip(lam, ctx.mu, strict=True)]
            return theory_row(method, True, True, **ctx.mixture(share, parts))
        if c == 1:
            method = "M/G/1 per pod (Pollaczek-Khinchine)"
            if not stable:
                return theory_row(method, True, False)
            s1 = svc.mean_s / ctx.speeds
            waits = lam * svc.second_moment_s2 / ctx.speeds**2 / (2 * (1 - lam * s1))
            return theory_row(method, True, True, mean=float(np.dot(share, waits + s1)),
                              p_wait=float(np.dot(share, lam * s1)),
                              wait=float(np.dot(share, waits)))  # fmt: skip
        return theory_row("none (M/G/c)", False, stable)

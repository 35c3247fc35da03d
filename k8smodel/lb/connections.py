"""Long-lived connections balanced once, at connect time: balls into bins.

HTTP/2, gRPC and keep-alive clients open a connection once and send every
request on it, so kube-proxy's per-connection choice (uniform in iptables and
nftables mode, REFERENCE.md §1) places whole connections, not requests. With
``N`` connections on ``n`` pods this is the classic balls-into-bins process.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from k8smodel._random import RngLike, as_generator
from k8smodel._validate import check_budget, check_int

__all__ = [
    "place_random",
    "expected_idle_pods",
    "approx_expected_jain",
    "random_connections_summary",
    "place_d_choice",
    "max_load_order",
]


def place_random(
    connections: int, pods: int, *, replications: int = 1, rng: RngLike = None
) -> np.ndarray:
    """Place ``connections`` uniformly at random on ``pods``, independently per replication.

    Parameters
    ----------
    connections : int
        Number of long-lived connections ``N >= 0``.
    pods : int
        Number of pods ``n >= 1``.
    replications : int, default 1
        Independent placements.
    rng : int, Generator, SeedSequence or None
        Randomness (see :func:`k8smodel._random.as_generator`).

    Returns
    -------
    numpy.ndarray
        Integer array of shape ``(replications, pods)``: connections per pod.

    Notes
    -----
    Each connection picks a pod with probability exactly ``1/n``, as kube-proxy's
    iptables rules do (``-m statistic --mode random --probability 1/(n-i)``,
    kubernetes/kubernetes ``pkg/proxy/iptables/proxier.go``). The counts are then
    multinomial, which is drawn directly.
    """
    n_conn = check_int(connections, "connections", minimum=0)
    n_pods = check_int(pods, "pods", minimum=1)
    reps = check_int(replications, "replications", minimum=1)
    check_budget(
        16.0 * n_pods * reps,
        f"pods={n_pods} x replications={reps}",
        remedy="use fewer pods or replications",
    )
    gen = as_generator(rng)
    return gen.multinomial(n_conn, np.full(n_pods, 1.0 / n_pods), size=reps)


def expected_idle_pods(connections: int, pods: int) -> float:
    """Expected number of pods that receive no connection: ``n (1 - 1/n)^N``.

    Parameters
    ----------
    connections : int
        Number of connections ``N >= 0``.
    pods : int
        Number of pods ``n >= 1``.

    Returns
    -------
    float
        Exact expectation (linearity over pods; each pod is missed by every
        connection with probability ``1 - 1/n``).

    References
    ----------
    M. Mitzenmacher, E. Upfal, *Probability and Computing*, 2nd ed., Cambridge
    University Press, 2017, §5.2 (balls into bins).
    """
    n_conn = check_int(connections, "connections", minimum=0)
    n_pods = check_int(pods, "pods", minimum=1)
    return n_pods * (1.0 - 1.0 / n_pods) ** n_conn


def approx_expected_jain(connections: int, pods: int) -> float:
    r"""Jain's index of ``N`` random connections on ``n`` pods, to first order: ``N / (N + n - 1)``.

    Parameters
    ----------
    connections : int
        Number of connections ``N >= 1``.
    pods : int
        Number of pods ``n >= 1``.

    Returns
    -------
    float
        :math:`1 / (1 + (n-1)/N)`.

    Notes
    -----
    With :math:`\sum x_i = N` fixed, :math:`J = N^2 / (n \sum x_i^2)` and, for
    multinomial counts, :math:`E[\sum x_i^2] = N + N(N-1)/n`. Putting that
    expectation into the denominator gives the value returned. Because
    :math:`1/x` is convex, Jensen's inequality makes it a lower bound on the
    exact :math:`E[J]`; the gap shrinks like :math:`1/N`.

    References
    ----------
    R. Jain, D.-M. Chiu, W. Hawe, "A Quantitative Measure of Fairness and
    Discrimination for Resource Allocation in Shared Computer Systems", DEC
    TR-301, 1984, arXiv:cs/9809099 (the index). The multinomial second moment:
    N. L. Johnson, S. Kotz, N. Balakrishnan, *Discrete Multivariate
    Distributions*, Wiley, 1997, ch. 35.
    """
    n_conn = check_int(connections, "connections", minimum=1)
    n_pods = check_int(pods, "pods", minimum=1)
    return n_conn / (n_conn + n_pods - 1)


def random_connections_summary(
    connections: int, pods: int, *, replications: int = 1000, rng: RngLike = None
) -> dict[str, float]:
    """Simulate random connection placement and summarize it beside the theory.

    A sweepable model: returns a dict of scalars (see :func:`k8smodel.sweep`).

    Parameters
    ----------
    connections, pods, replications, rng
        As in :func:`place_random`; ``connections >= 1``.

    Returns
    -------
    dict
        ``jain_mean`` and ``jain_se`` (mean and standard error of Jain's index
        over replications), ``jain_approx`` (:func:`approx_expected_jain`),
        ``idle_mean`` and ``idle_se`` (pods with no connection),
        ``idle_expected`` (:func:`expected_idle_pods`), ``max_share_mean``.
    """
    from k8smodel import metrics

    counts = place_random(connections, pods, replications=replications, rng=rng)
    jain = metrics.jain(counts)
    idle = (counts == 0).sum(axis=1)
    reps = counts.shape[0]
    return {
        "jain_mean": float(np.mean(jain)),
        "jain_se": float(np.std(jain, ddof=1) / np.sqrt(reps)) if reps > 1 else float("nan"),
        "jain_approx": approx_expected_jain(connections, pods),
        "idle_mean": float(idle.mean()),
        "idle_se": float(idle.std(ddof=1) / np.sqrt(reps)) if reps > 1 else float("nan"),
        "idle_expected": expected_idle_pods(connections, pods),
        "max_share_mean": float(np.mean(metrics.max_share(counts))),
    }


def place_d_choice(
    connections: int,
    pods: int,
    *,
    choices: int = 2,
    replications: int = 1,
    rng: RngLike = None,
) -> np.ndarray:
    """Place connections one by one, each on the least loaded of ``choices`` random pods.

    Parameters
    ----------
    connections : int
        Number of connections ``N >= 0``, placed in sequence.
    pods : int
        Number of pods ``n >= 1``.
    choices : int, default 2
        ``d``: pods drawn uniformly *with replacement* per connection (as
        Envoy's least-request draws, ``least_request_lb.cc``); the connection
        goes to the one holding the fewest connections, the first drawn on ties.
        ``d = 1`` is :func:`place_random`.
    replications : int, default 1
        Independent placements (simulated side by side).
    rng : int, Generator, SeedSequence or None
        Randomness.

    Returns
    -------
    numpy.ndarray
        Integer array ``(replications, pods)``: connections per pod.

    Notes
    -----
    This is the greedy d-choice process of Azar, Broder, Karlin and Upfal,
    whose maximum load with ``N = n`` is ``ln ln n / ln d + O(1)`` with high
    probability, against about ``ln n / ln ln n`` for one choice (see
    :func:`max_load_order`). It models long-lived connections balanced by a
    least-connections or power-of-two balancer that never sees them close.

    References
    ----------
    Y. Azar, A. Z. Broder, A. R. Karlin, E. Upfal, "Balanced Allocations",
    SIAM J. Comput. 29(1), 1999, doi:10.1137/S0097539795288490, Theorem 1.1.
    """
    n_conn = check_int(connections, "connections", minimum=0)
    n_pods = check_int(pods, "pods", minimum=1)
    d = check_int(choices, "choices", minimum=1)
    reps = check_int(replications, "replications", minimum=1)
    gen = as_generator(rng)
    if d == 1:
        return place_random(n_conn, n_pods, replications=reps, rng=gen)
    check_budget(
        8.0 * reps * (n_conn * d + n_pods),
        f"connections={n_conn} x replications={reps} x choices={d} (pods={n_pods})",
        remedy="use fewer connections, replications, choices or pods",
    )
    draws = gen.integers(n_pods, size=(n_conn, reps, d))
    return _greedy_d_choice(draws, n_pods)


@njit(cache=True)
def _greedy_d_choice(draws: np.ndarray, n_pods: int) -> np.ndarray:  # pragma: no cover
    """Sequential placement on the drawn candidates: the least loaded, the first on ties."""
    n_conn, reps, d = draws.shape
    loads = np.zeros((reps, n_pods), dtype=np.int64)
    for r in range(reps):
        for j in range(n_conn):
            best = draws[j, r, 0]
            for i in range(1, d):
                p = draws[j, r, i]
                if loads[r, p] < loads[r, best]:
                    best = p
            loads[r, best] += 1
    return loads


def max_load_order(pods: int, choices: int = 1) -> float:
    r"""Leading-order maximum load of ``n`` connections on ``n`` pods.

    Parameters
    ----------
    pods : int
        ``n >= 3`` (the logarithms need ``ln ln n > 0``).
    choices : int, default 1
        ``d``.

    Returns
    -------
    float
        :math:`\ln n / \ln \ln n` for ``d = 1`` and :math:`\ln \ln n / \ln d`
        for ``d >= 2``. These are leading terms: the actual maximum differs by
        lower-order terms (one choice) or an additive :math:`O(1)` (``d``
        choices), so use them for the shape of the growth, not as a prediction.

    References
    ----------
    G. H. Gonnet, "Expected Length of the Longest Probe Sequence in Hash Code
    Searching", J. ACM 28(2), 1981, doi:10.1145/322248.322254 (one choice);
    Azar, Broder, Karlin, Upfal, SIAM J. Comput. 29(1), 1999,
    doi:10.1137/S0097539795288490 (``d`` choices).
    """
    n = check_int(pods, "pods", minimum=3)
    d = check_int(choices, "choices", minimum=1)
    if d == 1:
        return float(np.log(n) / np.log(np.log(n)))
    return float(np.log(np.log(n)) / np.log(d))

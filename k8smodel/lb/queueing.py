"""Closed forms and numerical solutions of the queues behind the balancing policies.

Times are in seconds with rates per second; with the default service law (exponential,
mean 1 s) a time is also a number of mean service times, as the papers tabulate.
:func:`k8smodel.lb.theory` picks the formula for a policy through the policy's theory
hook; the hooks build their rows with :class:`TheoryContext`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize
from scipy.stats import poisson

from k8smodel._validate import check_int, check_real

__all__ = [
    "TheoryContext",
    "en_m1_sigma",
    "erlang_c",
    "gi_m1_sigma",
    "jsq_mean_response",
    "mmc",
    "supermarket_mean_response",
    "supermarket_tails",
]

QUANTILES = (0.5, 0.95, 0.99)
#: Above this many servers Erlang B comes from the Poisson law in one step, not the recursion.
_ERLANG_RECURSION_MAX = 10_000


def erlang_c(servers: int, offered_load: float) -> float:
    r"""Erlang's C formula: probability that an arrival waits in an M/M/c queue.

    Parameters
    ----------
    servers : int
        Number of servers ``c >= 1``.
    offered_load : float
        ``a = lambda / mu`` in Erlangs, ``0 <= a``.

    Returns
    -------
    float
        :math:`C(c, a) = \frac{a^c}{c!}\frac{c}{c-a} / \left(\sum_{k<c}\frac{a^k}{k!}
        + \frac{a^c}{c!}\frac{c}{c-a}\right)`; 1 when ``a >= c`` (unstable).

    Notes
    -----
    Computed through the Erlang B recursion
    :math:`B_k = a B_{k-1} / (k + a B_{k-1})`, :math:`C = c B_c / (c - a(1 - B_c))`,
    which is stable for thousands of servers; above 10,000 servers from the identity
    :math:`B(c, a) = P(N = c) / P(N \le c)` with :math:`N \sim \mathrm{Poisson}(a)`
    (logs of the pmf and cdf), so ``servers=10**18`` answers at once rather than looping.

    References
    ----------
    L. Kleinrock, *Queueing Systems, Vol. 1: Theory*, Wiley, 1975, §3.5, eq. (3.40).
    """
    c = check_int(servers, "servers", minimum=1)
    a = check_real(offered_load, "offered_load", minimum=0)
    if a >= c:
        return 1.0
    if c <= _ERLANG_RECURSION_MAX:
        b = 1.0
        for k in range(1, c + 1):
            b = a * b / (k + a * b)
    else:  # B(c, a) = P(N = c) / P(N <= c) for N ~ Poisson(a): O(1) for any c
        b = float(np.exp(poisson.logpmf(c, a) - poisson.logcdf(c, a)))
    return c * b / (c - a * (1.0 - b))


def gi_m1_sigma(interarrival_laplace, service_rate: float) -> float:
    r"""The root :math:`\sigma \in (0, 1)` of :math:`\sigma = A^*(\mu(1 - \sigma))` for GI/M/1.

    Parameters
    ----------
    interarrival_laplace : callable
        Laplace-Stieltjes transform :math:`A^*(s)` of the interarrival time.
    service_rate : float
        :math:`\mu`.

    Returns
    -------
    float
        :math:`\sigma`: the probability that an arrival finds the server busy;
        the time in system is exponential with rate :math:`\mu(1-\sigma)`.

    References
    ----------
    L. Kleinrock, *Queueing Systems, Vol. 1*, Wiley, 1975, §6.4, eqs. (6.21), (6.30).
    """
    if not callable(interarrival_laplace):
        raise TypeError(
            "interarrival_laplace must be a callable A*(s); "
            f"got {type(interarrival_laplace).__name__}"
        )
    mu = check_real(service_rate, "service_rate", minimum=0, lower_open=True)

    def f(s):
        return interarrival_laplace(mu * (1.0 - s)) - s

    hi = 1.0 - 1e-12
    if f(hi) >= 0:  # utilization >= 1 (or numerically indistinguishable): no root below 1
        return 1.0
    return float(optimize.brentq(f, 0.0, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps))


def en_m1_sigma(phases: int, utilization: float) -> float:
    r""":math:`\sigma` of the E_n/M/1 queue that one round-robin pod out of ``n`` sees.

    Parameters
    ----------
    phases : int
        ``n``: the pod receives every ``n``-th arrival of a Poisson stream, so its
        interarrival time is Erlang with ``n`` phases.
    utilization : float
        ``rho = lambda_pod / mu`` in ``(0, 1)``.

    Returns
    -------
    float
        Root of :math:`\sigma = (\Lambda / (\Lambda + \mu(1-\sigma)))^n` with
        :math:`\Lambda = n \rho \mu`; e.g. ``n = 2, rho = 0.5`` gives
        :math:`(3 - \sqrt5)/2` (REFERENCE.md §1).

    References
    ----------
    L. Kleinrock, *Queueing Systems, Vol. 1*, Wiley, 1975, §6.4 (GI/M/1) with the
    Erlang transform of §4.3.
    """
    n = check_int(phases, "phases", minimum=1)
    rho = check_real(utilization, "utilization", minimum=0, lower_open=True)
    big_lambda = n * rho  # mu = 1
    return gi_m1_sigma(lambda s: (big_lambda / (big_lambda + s)) ** n, 1.0)


def supermarket_tails(utilization: float, choices: int = 2, *, tol: float = 1e-16) -> np.ndarray:
    r"""Mean-field fraction of pods with at least ``i`` requests, ``i = 0, 1, ...``.

    Parameters
    ----------
    utilization : float
        ``lambda`` in ``(0, 1)`` (arrival rate per pod over service rate).
    choices : int, default 2
        ``d``: pods sampled per arrival (with replacement); ``d = 1`` is random.
    tol : float
        Stop when the tail falls below this.

    Returns
    -------
    numpy.ndarray
        :math:`s_i = \lambda^{(d^i - 1)/(d - 1)}` (for ``d = 1``: :math:`\lambda^i`),
        starting at :math:`s_0 = 1`.

    References
    ----------
    M. Mitzenmacher, "The Power of Two Choices in Randomized Load Balancing",
    IEEE TPDS 12(10), 2001, doi:10.1109/71.963420, Theorem 3.
    """
    lam = check_real(utilization, "utilization", minimum=0, lower_open=True)
    d = check_int(choices, "choices", minimum=1)
    if lam >= 1:
        raise ValueError(f"utilization must be < 1 for the mean field; got {utilization!r}")
    if d == 1:
        # Geometric tails: enough terms to reach tol (at least one past s_0).
        n_terms = max(1, math.ceil(math.log(tol) / math.log(lam))) if lam > 0 else 1
        if n_terms > 10_000_000:
            raise ValueError(
                f"utilization {utilization!r} is too close to 1 for the d=1 tails to reach "
                f"tol={tol!r}; use supermarket_mean_response (closed form 1/(1-lambda))"
            )
        return lam ** np.arange(n_terms + 1, dtype=float)
    tails = [1.0]
    i = 1
    while tails[-1] > tol:
        if i >= 10_000:
            raise ValueError(
                f"supermarket_tails did not fall below tol={tol!r} within 10,000 terms "
                f"(utilization={utilization!r}, choices={choices!r})"
            )
        tails.append(lam ** ((d**i - 1) / (d - 1)))
        i += 1
    return np.asarray(tails)


def supermarket_mean_response(utilization: float, choices: int = 2) -> float:
    r"""Mean time in system in the supermarket model (service rate 1).

    :math:`T_d(\lambda) = \sum_{i \ge 1} \lambda^{(d^i - d)/(d - 1)}`; for
    ``d = 1`` it is :math:`1/(1-\lambda)`. Check values (REFERENCE.md §1):
    ``d = 2``: 2.6141 at 0.9, 5.4320 at 0.99.

    Parameters
    ----------
    utilization : float
        ``lambda`` in ``(0, 1)``.
    choices : int, default 2
        ``d``.

    Returns
    -------
    float
        Expected time in system in mean service times.

    References
    ----------
    M. Mitzenmacher, IEEE TPDS 12(10), 2001, doi:10.1109/71.963420, Corollary 3.8.
    """
    lam = check_real(utilization, "utilization", minimum=0, lower_open=True)
    d = check_int(choices, "choices", minimum=1)
    if d == 1:
        if lam >= 1:
            raise ValueError(f"utilization must be < 1 for the mean field; got {utilization!r}")
        return 1.0 / (1.0 - lam)  # M/M/1
    tails = supermarket_tails(utilization, choices)
    # An arrival joins a queue with >= k requests with probability s_k^d.
    return float(np.sum(tails**d))


def jsq_mean_response(
    pods: int, utilization: float, *, tail: float = 1e-9, max_states: int = 25_000
) -> float:
    r"""Exact mean time in system of join-the-shortest-queue on ``n`` M/M/1 pods (small ``n``).

    Parameters
    ----------
    pods : int
        Number of identical pods ``n >= 1`` (service rate 1).
    utilization : float
        :math:`\rho = \Lambda / n` in ``(0, 1)``.
    tail : float, default 1e-9
        The chain is truncated at a longest queue ``L`` with :math:`\rho^{nL}`
        below this (an arrival that finds every queue at ``L`` is dropped).
    max_states : int, default 25_000
        Refuse (return NaN) when the truncated chain would be larger.

    Returns
    -------
    float
        :math:`E[T] = E[N] / \Lambda` (Little's law) from the stationary
        distribution of the continuous-time Markov chain whose state is the
        sorted vector of requests per pod; NaN if the chain is too large.

    Notes
    -----
    Least connections with identical exponential pods is join-the-shortest-queue;
    how ties are broken does not change the sorted-state chain, so nginx's
    round-robin tie-breaking gives the same mean. There is no closed form for
    ``n > 1`` (the generating-function solution for ``n = 2`` is in
    Kingman 1961), hence the numerical solution.

    References
    ----------
    J. F. C. Kingman, "Two similar queues in parallel", Ann. Math. Statist.
    32(4), 1961, doi:10.1214/aoms/1177704862; W. J. Stewart, *Probability,
    Markov Chains, Queues, and Simulation*, Princeton, 2009, §10 (solving
    :math:`\pi Q = 0`).
    """
    import itertools

    from scipy import sparse
    from scipy.sparse import linalg

    n = check_int(pods, "pods", minimum=1)
    rho = check_real(utilization, "utilization", minimum=0, lower_open=True)
    if rho >= 1:
        return math.inf
    cap = max(4, math.ceil(math.log(tail) / (n * math.log(rho))) + 2)
    if math.comb(cap + n, n) > max_states:
        return math.nan
    states = list(itertools.combinations_with_replacement(range(cap + 1), n))
    index = {st: i for i, st in enumerate(states)}
    lam = n * rho
    rows, cols, rates = [], [], []
    for i, st in enumerate(states):
        if st[0] < cap:  # an arrival joins a shortest queue (the last of the shortest group)
            k = 0
            while k + 1 < n and st[k + 1] == st[0]:
                k += 1
            new = list(st)
            new[k] += 1
            rows.append(i)
            cols.append(index[tuple(new)])
            rates.append(lam)
        for k in range(n):  # a departure from each busy pod (the first of its equal group)
            if st[k] > 0 and (k == 0 or st[k - 1] != st[k]):
                mult = sum(1 for v in st if v == st[k])
                new = list(st)
                new[k] -= 1
                rows.append(i)
                cols.append(index[tuple(new)])
                rates.append(float(mult))
    size = len(states)
    q = sparse.csr_matrix((rates, (rows, cols)), shape=(size, size))
    q = q - sparse.diags(np.asarray(q.sum(axis=1)).ravel())
    # Solve pi Q = 0: fix pi[0] = 1, drop its balance equation (keeps the matrix sparse),
    # then normalize.
    qt = q.T.tocsc()
    rest = linalg.spsolve(qt[1:, 1:], -qt[1:, 0].toarray().ravel())
    pi = np.concatenate(([1.0], rest))
    pi /= pi.sum()
    total = np.array([sum(st) for st in states], dtype=float)
    blocked = pi[[index[st] for st in states if st[0] == cap]].sum()
    return float(pi @ total / (lam * (1.0 - blocked)))


# --------------------------------------------------------------------------------------------
# Distributions of the response time (survival functions) and their quantiles


def quantiles(survival: Callable[[float], float], mean: float) -> list[float]:
    """Quantiles of a response time from its survival function (bracketing root search)."""
    out = []
    for p in QUANTILES:
        target = 1.0 - p
        hi = max(mean, 1e-9)
        while survival(hi) > target:
            hi *= 2.0
        out.append(float(optimize.brentq(lambda t, tg=target: survival(t) - tg, 0.0, hi)))
    return out


def _hypoexp_sf(t: Any, a: float, b: float) -> Any:
    """P(X + Y > t) for independent X ~ Exp(a), Y ~ Exp(b)."""
    if abs(a - b) < 1e-9 * max(a, b):
        return np.exp(-a * t) * (1.0 + a * t)
    return (b * np.exp(-a * t) - a * np.exp(-b * t)) / (b - a)


def mmc(lam: float, mu: float, c: int) -> tuple[float, Callable, float, float]:
    """Mean, survival function, P(wait) and mean wait of an M/M/c queue."""
    pw = erlang_c(c, lam / mu)
    theta = c * mu - lam
    mean_wait = pw / theta
    mean = mean_wait + 1.0 / mu

    def sf(t):
        return (1.0 - pw) * np.exp(-mu * t) + pw * _hypoexp_sf(t, mu, theta)

    return mean, sf, pw, mean_wait


@dataclass(frozen=True)
class TheoryContext:
    r"""The resolved inputs a policy's theory hook reads (rates per second, times in seconds).

    Attributes
    ----------
    pods, concurrency, dispatchers, choices : int
        ``n``, ``c``, ``k`` and ``d``.
    distinct : bool
        Whether ``power_of_two`` draws distinct pods.
    utilization : float
        :math:`\rho`.
    speeds, weights, draw_weights : numpy.ndarray
        Per pod.
    service : ServiceLaw
        The service-time law.
    """

    pods: int
    utilization: float
    concurrency: int
    dispatchers: int
    choices: int
    distinct: bool
    speeds: np.ndarray
    weights: np.ndarray
    draw_weights: np.ndarray
    service: Any

    @property
    def mu(self) -> np.ndarray:
        """Service rate per thread of each pod (per second)."""
        return self.speeds / self.service.mean_s

    @property
    def capacity(self) -> np.ndarray:
        """Requests per second each pod completes when busy."""
        return self.concurrency * self.mu

    @property
    def arrival_rate(self) -> float:
        r"""Total arrival rate :math:`\Lambda` (per second)."""
        return float(self.utilization * self.capacity.sum())

    @property
    def equal_speeds(self) -> bool:
        """Whether every pod has the same speed."""
        return bool(np.all(self.speeds == self.speeds[0]))

    @property
    def equal_weights(self) -> bool:
        """Whether weights and draw weights are all equal."""
        w, dw = self.weights, self.draw_weights
        return bool(np.all(w == w[0])) and bool(np.all(dw == dw[0]))

    def mixture(self, share: np.ndarray, parts: Sequence[tuple]) -> dict[str, Any]:
        """Mean, quantiles, P(wait) and mean wait of a mixture of per-pod queues.

        ``parts`` holds ``(mean, survival function, P(wait), mean wait)`` per pod; an
        arrival joins pod ``i`` with probability ``share[i]``.
        """
        mean = float(np.dot(share, [p[0] for p in parts]))
        sfs = [p[1] for p in parts]
        q = quantiles(lambda t: sum(s * f(t) for s, f in zip(share, sfs, strict=True)), mean)
        return {
            "mean": mean,
            "q": q,
            "p_wait": float(np.dot(share, [p[2] for p in parts])),
            "wait": float(np.dot(share, [p[3] for p in parts])),
        }


def theory_row(
    method: str,
    exact: bool,
    stable: bool,
    *,
    mean: float = math.nan,
    q: Sequence[float] | None = None,
    p_wait: float = math.nan,
    wait: float = math.nan,
) -> dict[str, Any]:
    """One theory row: ``inf`` times and ``p_wait = 1`` when unstable."""
    qs = list(q) if q is not None else [math.nan] * len(QUANTILES)
    if not stable:
        mean, qs, wait, p_wait = math.inf, [math.inf] * len(QUANTILES), math.inf, 1.0
    row: dict[str, Any] = {"method": method, "exact": bool(exact), "mean_response_s": mean}
    row.update({f"p{round(100 * p)}_response_s": v for p, v in zip(QUANTILES, qs, strict=True)})
    row.update({"mean_wait_s": wait, "p_wait": p_wait, "stable": bool(stable)})
    return row

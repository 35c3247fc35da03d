"""Closed forms for load distribution: the ceiling, the floor and what lies between.

Time is measured in the unit of the service-time law (with the default
exponential law of mean 1: in mean service times). Pods are ``n`` servers
(each with ``concurrency`` threads) of relative speeds ``speeds``; the total
arrival rate is ``utilization * sum(capacity)``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import optimize, special

from k8smodel.lb._inputs import check_int, check_positive, check_service, check_vector
from k8smodel.lb.connections import approx_expected_jain, expected_idle_pods
from k8smodel.lb.policies import resolve_policy

__all__ = [
    "erlang_c",
    "en_m1_sigma",
    "jsq_mean_response",
    "gi_m1_sigma",
    "supermarket_tails",
    "supermarket_mean_response",
    "theory",
]

_QUANTILES = (0.5, 0.95, 0.99)


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
    which is stable for thousands of servers.

    References
    ----------
    L. Kleinrock, *Queueing Systems, Vol. 1: Theory*, Wiley, 1975, §3.5, eq. (3.40).
    """
    c = check_int(servers, "servers", 1)
    a = float(offered_load)
    if a < 0 or not math.isfinite(a):
        raise ValueError(f"offered_load must be a finite number >= 0; got {offered_load!r}")
    if a >= c:
        return 1.0
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
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
    mu = check_positive(service_rate, "service_rate (mu)")

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
    n = check_int(phases, "phases", 1)
    rho = check_positive(utilization, "utilization")
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
    lam = check_positive(utilization, "utilization")
    d = check_int(choices, "choices", 1)
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
    lam = check_positive(utilization, "utilization")
    d = check_int(choices, "choices", 1)
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

    n = check_int(pods, "pods", 1)
    rho = check_positive(utilization, "utilization")
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


def _quantiles(survival, mean: float) -> list[float]:
    """Quantiles of a response time from its survival function (bracketing root search)."""
    out = []
    for p in _QUANTILES:
        target = 1.0 - p
        hi = max(mean, 1e-9)
        while survival(hi) > target:
            hi *= 2.0
        out.append(float(optimize.brentq(lambda t, tg=target: survival(t) - tg, 0.0, hi)))
    return out


def _hypoexp_sf(t, a: float, b: float):
    """P(X + Y > t) for independent X ~ Exp(a), Y ~ Exp(b)."""
    if abs(a - b) < 1e-9 * max(a, b):
        return np.exp(-a * t) * (1.0 + a * t)
    return (b * np.exp(-a * t) - a * np.exp(-b * t)) / (b - a)


def _mmc(lam: float, mu: float, c: int):
    """Mean, survival function, P(wait) and mean wait of an M/M/c queue."""
    pw = erlang_c(c, lam / mu)
    theta = c * mu - lam
    mean_wait = pw / theta
    mean = mean_wait + 1.0 / mu

    def sf(t):
        return (1.0 - pw) * np.exp(-mu * t) + pw * _hypoexp_sf(t, mu, theta)

    return mean, sf, pw, mean_wait


def _row(policy, model, pods, utilization, stable, mean=np.nan, q=None, pw=np.nan, wait=np.nan):
    q = q if q is not None else [np.nan] * len(_QUANTILES)
    if not stable:
        mean, q, wait, pw = math.inf, [math.inf] * len(_QUANTILES), math.inf, 1.0
    row = {
        "policy": policy,
        "model": model,
        "pods": pods,
        "utilization": utilization,
        "mean_response": mean,
    }
    row.update({f"p{round(100 * p)}_response": v for p, v in zip(_QUANTILES, q, strict=True)})
    row.update({"mean_wait": wait, "prob_wait": pw, "stable": bool(stable)})
    return row


def theory(
    policy: str,
    *,
    pods: int,
    utilization: float,
    speeds=None,
    weights=None,
    service=None,
    concurrency: int = 1,
    dispatchers: int = 1,
    choices: int | None = None,
    connections: int | None = None,
    draw_weights=None,
) -> pd.DataFrame:
    r"""Closed-form response times for a policy, or NaN where no closed form applies.

    Parameters
    ----------
    policy : str
        A policy or alias (see :mod:`k8smodel.lb.policies`), or ``"pooled"``: one
        central FIFO queue feeding every pod, the floor no dispatcher beats.
    pods : int
        Number of pods ``n >= 1``.
    utilization : float
        :math:`\rho = \Lambda / \sum_i c\,\mu_i > 0` (``>= 1`` gives ``stable=False``).
    speeds : sequence of float, optional
        Relative service rates per pod (default all 1).
    weights : sequence of float, optional
        Balancer weights (``round_robin`` shares are proportional to them).
    service : None, float or frozen scipy.stats distribution
        Service-time law (default exponential, mean 1).
    concurrency : int, default 1
        Threads per pod ``c`` (each pod is then a c-server FIFO queue).
    dispatchers : int, default 1
        Independent round-robin cursors.
    choices : int, optional
        ``d`` for ``power_of_two`` (default 2).
    connections : int, optional
        Long-lived connections ``N``: adds ``idle_pods_expected`` and
        ``jain_connections_lower_bound`` (balls into bins).
    draw_weights : sequence of float, optional
        ``power_of_two``: relative draw probabilities (default ``weights``), as
        in :func:`k8smodel.lb.simulate`.

    Returns
    -------
    pandas.DataFrame
        One row: ``policy``, ``model`` (the queue used), ``pods``,
        ``utilization``, ``mean_response``, ``p50_response``, ``p95_response``,
        ``p99_response``, ``mean_wait``, ``prob_wait``, ``stable``, and
        ``floor_mean_response`` (pooled M/M/n, NaN where it does not apply) and
        ``ceiling_mean_response`` (random split). With ``stable=False``
        (some pod offered at least its capacity) the times are ``inf``.

    Notes
    -----
    * ``random``: pod ``i`` receives a Poisson stream of rate
      :math:`\Lambda / n`. With exponential service it is M/M/1 (M/M/c), whose
      time in system is exponential (a hypoexponential mixture for ``c > 1``),
      so the percentiles of the mixture over pods are exact (Kleinrock 1975,
      §3.2, §3.5). Other laws with ``c = 1``: the Pollaczek-Khinchine mean
      :math:`E[T] = E[S] + \lambda E[S^2] / (2(1-\rho))` (Kleinrock 1975, §5.6);
      percentiles NaN.
    * ``round_robin`` with one dispatcher, equal weights and exponential
      service, ``c = 1``: E_n/M/1 per pod (:func:`en_m1_sigma`); the time in
      system is exponential with rate :math:`\mu(1 - \sigma)` (Kleinrock 1975,
      §6.4). Several independent cursors superpose non-renewal streams: no
      closed form (NaN; it lies between E_n/M/1 and M/M/1).
    * ``power_of_two``: the supermarket mean field for ``n -> infinity``
      (:func:`supermarket_mean_response`); an arrival that finds ``k``
      requests spends an Erlang(k+1) time, which gives the percentiles. The
      draws are taken with replacement, so pod ``i`` receives at least
      :math:`\Lambda p_i^d` (:math:`p_i` its draw probability) whatever the
      state: if that reaches its capacity the row says ``stable=False`` (not
      for ``nginx-random-two``, whose two draws are distinct). The
      mean field needs equal weights and draw probabilities (else NaN).
    * ``least_connections`` with unequal weights: no closed form (NaN).
    * ``least_connections`` (join the shortest queue) with one dispatcher and
      identical exponential pods: the exact Markov chain for small ``n``
      (:func:`jsq_mean_response`, mean only). Its mean field as
      ``n -> infinity`` has no queueing at all, which says nothing useful for a
      finite Service, so larger ``n`` gives NaN (bracketed by the pooled floor
      and the ``power_of_two`` mean field).
    * ``pooled``: M/M/(n c), Erlang C (:func:`erlang_c`).
    * ``ewma``: no closed form (NaN).
    """
    distinct = False
    if isinstance(policy, str) and policy.strip().lower() == "pooled":
        name = "pooled"
    else:
        pol = resolve_policy(policy)
        name = pol.name
        distinct = bool(pol.defaults.get("distinct", False))
    n = check_int(pods, "pods", 1)
    rho = check_positive(utilization, "utilization")
    c = check_int(concurrency, "concurrency", 1)
    k = check_int(dispatchers, "dispatchers", 1)
    d = check_int(2 if choices is None else choices, "choices", 1)
    spd = check_vector(speeds, "speeds", n)
    if weights is not None and name in {"random", "ewma", "pooled"}:
        raise ValueError(f"weights: the {name} policy has no weights; got weights={weights!r}")
    w = check_vector(weights, "weights", n)
    if draw_weights is not None and name != "power_of_two":
        raise ValueError(
            f"draw_weights: only power_of_two uses them; got draw_weights={draw_weights!r}"
        )
    draw_w = w if draw_weights is None else check_vector(draw_weights, "draw_weights", n)
    equal_weights = bool(np.all(w == w[0])) and bool(np.all(draw_w == draw_w[0]))
    svc = check_service(service)
    equal_speeds = bool(np.all(spd == spd[0]))
    exponential = svc.kind == "exponential"

    mu = spd / svc.mean  # per thread
    capacity = c * mu
    big_lambda = rho * capacity.sum()
    share = np.full(n, 1.0 / n) if name in {"random", "pooled"} else w / w.sum()
    lam = big_lambda * share
    static_stable = bool(np.all(lam < capacity))

    def mixture(means, sfs, pws, waits, stable):
        if not stable:
            return math.inf, [math.inf] * 3, 1.0, math.inf
        mean = float(np.dot(share, means))
        q = _quantiles(lambda t: sum(s * f(t) for s, f in zip(share, sfs, strict=True)), mean)
        return mean, q, float(np.dot(share, pws)), float(np.dot(share, waits))

    # The ceiling (random split) and the floor (pooled) accompany every row.
    ceiling = np.nan
    rand_lam = big_lambda / n
    if np.all(rand_lam < capacity):
        if exponential:
            ceiling = float(np.mean([_mmc(rand_lam, m, c)[0] for m in mu]))
        elif c == 1:
            s1 = svc.mean / spd
            r = rand_lam * s1
            pk = s1 + rand_lam * svc.second_moment / spd**2 / (2 * (1 - r))
            ceiling = float(np.mean(pk))
    else:
        ceiling = math.inf
    floor = np.nan
    if exponential and equal_speeds:
        floor = _mmc(big_lambda, mu[0], n * c)[0] if rho < 1 else math.inf

    if name == "random":
        if exponential:
            parts = (
                [_mmc(li, mi, c) for li, mi in zip(lam, mu, strict=True)] if static_stable else []
            )
            mean, q, pw, wait = mixture(
                [p[0] for p in parts],
                [p[1] for p in parts],
                [p[2] for p in parts],
                [p[3] for p in parts],
                static_stable,
            )
            row = _row(name, "M/M/c per pod" if c > 1 else "M/M/1 per pod", n, rho,
                       static_stable, mean, q, pw, wait)  # fmt: skip
        elif c == 1:
            s1 = svc.mean / spd
            r = lam * s1
            if static_stable:
                waits = lam * svc.second_moment / spd**2 / (2 * (1 - r))
                mean = float(np.dot(share, waits + s1))
                pw, wait = float(np.dot(share, r)), float(np.dot(share, waits))
                row = _row(name, "M/G/1 per pod (Pollaczek-Khinchine)", n, rho, True, mean,
                           pw=pw, wait=wait)  # fmt: skip
            else:
                row = _row(name, "M/G/1 per pod (Pollaczek-Khinchine)", n, rho, False)
        else:
            row = _row(name, "none (M/G/c)", n, rho, static_stable)
    elif name == "round_robin":
        equal_weights = bool(np.all(w == w[0]))
        if k == 1 and equal_weights and exponential and c == 1:
            parts = []
            if static_stable:
                for mi in mu:
                    sigma = gi_m1_sigma(lambda s: (big_lambda / (big_lambda + s)) ** n, mi)
                    rate = mi * (1.0 - sigma)
                    parts.append((1.0 / rate, lambda t, r=rate: np.exp(-r * t), sigma,
                                  sigma / rate))  # fmt: skip
            mean, q, pw, wait = mixture(
                [p[0] for p in parts],
                [p[1] for p in parts],
                [p[2] for p in parts],
                [p[3] for p in parts],
                static_stable,
            )
            row = _row(name, f"E_{n}/M/1 per pod", n, rho, static_stable, mean, q, pw, wait)
        else:
            why = (
                f"{k} independent cursors"
                if k > 1
                else ("unequal weights" if not equal_weights else "non-exponential or c > 1")
            )
            row = _row(name, f"none ({why})", n, rho, static_stable)
    elif name == "pooled":
        if exponential and equal_speeds:
            stable = rho < 1
            if stable:
                mean, sf, pw, wait = _mmc(big_lambda, mu[0], n * c)
                row = _row(name, f"M/M/{n * c} (Erlang C)", n, rho, True, mean,
                           _quantiles(sf, mean), pw, wait)  # fmt: skip
            else:
                row = _row(name, f"M/M/{n * c} (Erlang C)", n, rho, False)
        else:
            row = _row(name, "none (heterogeneous or non-exponential)", n, rho, rho < 1)
    elif name == "power_of_two":
        # With replacement, pod i gets every request whose d draws all land on it.
        # (Distinct draws with d >= 2 always compare two pods: no forced share.)
        forced = big_lambda * (draw_w / draw_w.sum()) ** d >= capacity
        if distinct and d >= 2:
            forced[:] = False
        if forced.any():
            row = _row(name, f"overloaded: pod {int(np.argmax(forced))} gets >= Lambda p_i^{d}",
                       n, rho, False)  # fmt: skip
        elif exponential and equal_speeds and equal_weights and c == 1 and rho < 1:
            tails = supermarket_tails(rho, d)
            join = tails**d  # P(arrival finds >= k), k = 0, 1, ...
            p_k = join - np.append(join[1:], 0.0)
            ks = np.arange(len(p_k))
            mean = float(join.sum()) / mu[0]

            def sf(t):
                # P(Erlang(k+1, mu) > t) = P(Poisson(mu t) <= k)
                return float(np.dot(p_k, special.pdtr(ks, mu[0] * t)))

            row = _row(name, f"supermarket mean field (d={d}, n->inf)", n, rho, True, mean,
                       _quantiles(sf, mean), float(join[1]), mean - 1.0 / mu[0])  # fmt: skip
        else:
            row = _row(name, "none (mean field needs equal exponential pods and weights)", n,
                       rho, rho < 1)  # fmt: skip
    elif name == "least_connections":
        mean = math.nan
        if exponential and equal_speeds and equal_weights and c == 1 and k == 1 and rho < 1:
            mean = jsq_mean_response(n, rho) * svc.mean / spd[0]
        if math.isfinite(mean):
            row = _row(name, f"JSQ Markov chain, n={n} (exact)", n, rho, True, mean,
                       wait=mean - svc.mean / spd[0])  # fmt: skip
        else:
            why = "unequal weights" if not equal_weights else "too many pods for the exact chain"
            row = _row(name, f"none (JSQ: {why})", n, rho, rho < 1)
    else:  # ewma
        row = _row(name, "none", n, rho, rho < 1)

    row["floor_mean_response"] = floor
    row["ceiling_mean_response"] = ceiling
    if connections is not None:
        row["connections"] = connections
        row["idle_pods_expected"] = expected_idle_pods(connections, n)
        row["jain_connections_lower_bound"] = approx_expected_jain(connections, n)
    return pd.DataFrame([row])

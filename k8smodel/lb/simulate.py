"""Monte Carlo of a Service's pods behind a balancing policy: :func:`simulate` and :func:`compare`.

Randomness is drawn in bulk with numpy before any queueing is done; static policies
(``random``, ``round_robin``) are solved by the vectorized Lindley recursion,
state-dependent ones step once over the arrivals (:mod:`k8smodel.lb.kernels`); the
compiled ones (least connections, power of d, ewma) draw and queue block after block
of requests and sum as they go (:mod:`k8smodel.lb.blocks`), so a long run holds one
block of draws and its kept response times (8 bytes a request) rather than every
request.
Times are in seconds (the service law's unit; the default exponential law has
mean 1 s, so a time in seconds is also a time in mean service times).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from k8smodel import metrics
from k8smodel._random import RngLike, as_generator, spawn_seeds
from k8smodel._validate import DEFAULT_MEMORY_BYTES, check_budget
from k8smodel.lb import blocks, kernels
from k8smodel.lb.spec import Balancer, LbSpec, check_run
from k8smodel.lb.theory import theory as _theory
from k8smodel.result import Result

__all__ = ["LbResult", "compare", "simulate", "simulate_spec"]

#: Bytes per simulated request held at once when every request is materialized (arrival, work,
#: pod, departure, draws, the transposed copies): the budget estimate of those paths.
_BYTES_PER_REQUEST = 96


@dataclass(frozen=True, kw_only=True, eq=False)
class LbResult(Result):
    """What :func:`simulate` returns: a :class:`k8smodel.Result` with a per-pod table.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row: ``policy``, ``pods``, ``utilization``, ``requests``,
        ``replications``, ``method`` (``"simulation"``), ``exact`` (False),
        ``mean_response_s`` (mean time in system, pooled over replications after
        the warm-up) and ``mean_response_s_se`` (standard error from the spread of
        the replication means), ``p50_response_s``, ``p95_response_s``,
        ``p99_response_s`` (pooled quantiles), ``mean_wait_s`` (time queued before
        service), ``jain_requests`` (Jain's index of requests per pod, mean over
        replications) and its ``_se``, ``max_share`` (largest pod's share of
        requests), ``cov_utilization`` (coefficient of variation of busy fraction
        over pods), ``max_utilization`` (busiest pod's busy fraction), ``stable``
        (no pod is offered its capacity or more; if False the times are ``inf``),
        ``p_unstable`` (fraction of replications in which some pod is) and
        ``flags``: ``;``-separated among ``unstable``, ``one_replication``,
        ``few_requests`` (under :data:`MIN_REQUESTS_PER_POD` kept per pod),
        ``near_capacity`` (a pod busy at least :data:`NEAR_CAPACITY` of the time) and
        ``wide_spread`` (standard error over :data:`MAX_RELATIVE_SE` of the mean), each
        explained by a sentence in ``notes``.
    per_pod : pandas.DataFrame
        One row per (replication, pod): ``replication``, ``pod``, ``speed``,
        ``weight``, ``requests``, ``share``, ``utilization`` (work brought per unit
        time over the pod's threads, above 1 when overloaded), ``mean_response_s``.
    """

    per_pod: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: With ``keep_requests=True``: one row per request (``replication``, ``arrival_s``,
    #: ``pod``, ``service_s``, ``departure_s``), warm-up included; else None.
    requests: pd.DataFrame | None = None


def simulate(
    policy: str,
    *,
    pods: int,
    utilization: float | None = None,
    arrival_rate_per_s: float | None = None,
    requests: int = 100_000,
    replications: int = 8,
    rng: RngLike = None,
    dispatchers: int = 1,
    speeds: Any = None,
    weights: Any = None,
    service: Any = None,
    concurrency: int = 1,
    requests_per_connection: float = 1,
    connections: int | None = None,
    choices: int | None = None,
    distinct: bool | None = None,
    shared_state: bool | None = None,
    draw_weights: Any = None,
    warmup: float = 0.1,
    keep_requests: bool = False,
) -> LbResult:
    r"""Simulate Poisson requests dispatched to a Service's pods by ``policy``.

    The keywords build an :class:`~k8smodel.lb.spec.LbSpec` (validated there) and
    run :func:`simulate_spec`.

    Parameters
    ----------
    policy : str
        ``random``, ``round_robin``, ``least_connections``, ``power_of_two``,
        ``ewma`` or an alias (``iptables``, ``nftables``, ``ipvs-rr``,
        ``userspace``, ``nginx-least-conn``, ``haproxy-leastconn``,
        ``envoy-least-request``, ``nginx-random-two``, ``haproxy-random``,
        ``ingress-nginx-ewma``, ``ingress-nginx-ewma-per-worker``); see
        :mod:`k8smodel.lb.policies`.
    pods : int
        Number of pods ``n >= 1``.
    utilization : float, optional
        :math:`\rho = \Lambda / \sum_i c \mu_i`, the offered load over the total
        capacity; give this or ``arrival_rate_per_s``.
    arrival_rate_per_s : float, optional
        Total arrival rate :math:`\Lambda` in requests per second.
    requests : int, default 100_000
        Requests per replication (the first ``warmup`` fraction is discarded).
    replications : int, default 8
        Independent replications, simulated side by side.
    rng : int, Generator, SeedSequence or None
        Randomness.
    dispatchers : int, default 1
        Independent dispatchers (kube-proxies, nginx workers); each request goes
        to one uniformly at random; each has its own round-robin cursor with a
        random start and, unless ``shared_state``, its own counters.
    speeds : sequence of float, optional
        Relative service rates per pod (a pod of speed 2 serves twice as fast).
    weights : sequence of int, optional
        Balancer weights (``round_robin``, ``least_connections``,
        ``power_of_two``), whole numbers as nginx ``server ... weight=``; counts are
        compared over weight as nginx does in integers. Refused for
        ``envoy-least-request`` (Envoy scores ``weight / (active + 1)^bias``).
    service : None, float or frozen scipy.stats distribution
        Service time per request in **seconds**: ``None`` is exponential with
        mean 1 s, a number is deterministic, or any frozen ``scipy.stats`` law. A
        pod of speed ``s`` takes ``S / s``.
    concurrency : int, default 1
        Threads per pod (each pod is a ``c``-server FIFO queue).
    requests_per_connection : float, default 1
        Requests carried by one connection (keep-alive, HTTP/2, gRPC): the policy
        chooses once per connection. ``math.inf`` keeps connections open.
    connections : int, optional
        Size of the client's pool when ``requests_per_connection > 1`` (each
        request goes on one of them uniformly at random; a connection that has
        carried its requests is replaced). Default ``4 * pods``.
    choices, distinct, draw_weights : optional
        ``power_of_two``: pods drawn per decision (default 2), distinct or with
        replacement, relative draw probabilities (HAProxy's ring shares,
        :func:`k8smodel.lb.semantics.haproxy_ring_shares`; default ``weights``).
    shared_state : bool, optional
        Whether dispatchers share their counters or scores (an nginx ``zone``,
        Envoy's and HAProxy's threads, ingress-nginx's ``ngx.shared`` ewma
        dictionaries) or keep their own (nginx workers without a ``zone``). Default:
        the alias's, else per dispatcher for ``least_connections`` and
        ``power_of_two`` and shared for ``ewma``.
    warmup : float, default 0.1
        Fraction of each replication's first requests left out of the statistics.
    keep_requests : bool, default False
        Also return every request (:attr:`LbResult.requests`). Static policies
        then take the general path rather than the sort-free one, which draws
        its randomness in another order (other numbers for the same seed);
        state-dependent ones give the same numbers either way.

    Returns
    -------
    LbResult
        ``summary`` (one row, see :class:`LbResult`), ``per_pod``, ``params``, ``notes``.

    Notes
    -----
    ``stable`` is False when a pod is offered at least its capacity: for static
    policies by each pod's expected share, for state-dependent ones when
    ``utilization >= 1``, for ``power_of_two`` drawing with replacement also when
    :math:`\Lambda p_i^d \ge c\mu_i` (pod ``i`` gets every request whose ``d``
    draws all fall on it), and with persistent connections by the connections
    each pod actually received.

    Examples
    --------
    >>> from k8smodel import lb
    >>> res = lb.simulate("least_connections", pods=4, utilization=0.5,
    ...                   requests=2_000, replications=2, rng=1)
    >>> row = res.summary.iloc[0]
    >>> row.method, bool(row.exact), bool(row.stable), bool(1.0 < row.mean_response_s < 2.0)
    ('simulation', False, True, True)
    """
    balancer = Balancer(policy, dispatchers=dispatchers, choices=choices, distinct=distinct,
                        shared_state=shared_state, draw_weights=draw_weights)  # fmt: skip
    spec = LbSpec(
        balancer,
        pods=pods,
        utilization=utilization,
        arrival_rate_per_s=arrival_rate_per_s,
        speeds=speeds,
        weights=weights,
        service=service,
        concurrency=concurrency,
        requests_per_connection=requests_per_connection,
        connections=connections,
    )
    return simulate_spec(spec, requests=requests, replications=replications, rng=rng,
                         warmup=warmup, keep_requests=keep_requests)  # fmt: skip


def simulate_spec(
    spec: LbSpec,
    *,
    requests: int = 100_000,
    replications: int = 8,
    rng: RngLike = None,
    warmup: float = 0.1,
    keep_requests: bool = False,
) -> LbResult:
    """Simulate a validated :class:`~k8smodel.lb.spec.LbSpec` (see :func:`simulate`)."""
    n_req, reps, warmup = check_run(requests, replications, warmup)
    if not isinstance(keep_requests, bool):
        raise TypeError(f"keep_requests must be True or False; got {keep_requests!r}")
    rule = spec.balancer.rule
    streamed = rule.state_dependent and rule.compiled_rule is not None and not keep_requests
    # Streamed runs hold one block of draws and the kept responses (8 bytes a request).
    per_request = 8 if streamed else _BYTES_PER_REQUEST + 8 * spec.concurrency
    fit = int((DEFAULT_MEMORY_BYTES - (64 << 20)) // (per_request * reps))
    check_budget(
        float(n_req) * reps * per_request + (64 << 20),
        f"requests={n_req} x replications={reps} (pods={spec.pods}, "
        f"concurrency={spec.concurrency})",
        remedy=f"at most about {fit:,} requests fit with replications={reps}; use fewer "
        "requests or replications per call (sweep over seeds instead)",
    )
    rate, pool = spec.arrival_rate_per_s, spec.connections
    assert rate is not None and pool is not None  # resolved by LbSpec
    gen = as_generator(rng)
    shape = (reps, n_req)
    fast = not rule.state_dependent and rule.fast_ok(spec, n_req) and not keep_requests
    kept_requests, placed = None, None
    first = int(warmup * n_req)
    if fast:
        agg = kernels.static_fast(rule, gen, spec, n_req, reps, warmup)
    elif streamed:
        agg, placed = blocks.stream_compiled(rule, gen, spec, reps, n_req, first)
    else:
        if rule.state_dependent:
            blk = blocks.concatenate_blocks(blocks.draw_blocks(rule, gen, spec, reps, n_req))
            base, arrival, conn = blk.base, blk.arrival, blk.conn
            out = kernels.run_event_loop(rule, blk.candidates, spec, arrival, base, blk.disp,
                                         conn, first=first, keep=keep_requests)  # fmt: skip
        else:
            base, arrival, conn, out = _static_general(rule, gen, spec, shape, first,
                                                       keep_requests)  # fmt: skip
        agg, placed = out.agg, out.placed
        window = arrival[:, -1] - arrival[:, first]
        agg.horizon = np.broadcast_to(window[:, None], agg.counts.shape)
        if out.requests is not None:
            pod, dep, work = out.requests
            kept_requests = pd.DataFrame({
                "replication": np.repeat(np.arange(reps), n_req), "arrival_s": arrival.ravel(),
                "pod": pod.ravel(), "service_s": work.ravel(), "departure_s": dep.ravel(),
            })  # fmt: skip
    overloaded = _overloaded(spec, reps, placed)
    res = _summarize(spec, n_req, warmup, agg, overloaded)
    if kept_requests is None:
        return res
    return LbResult(summary=res.summary, params=res.params, notes=res.notes,
                    per_pod=res.per_pod, requests=kept_requests)  # fmt: skip


def _static_general(rule, gen, spec: LbSpec, shape, first: int, keep: bool):
    """A static policy on the general path: draws, pods, FIFO departures, sums."""
    k, rate, pool = spec.balancer.dispatchers, spec.arrival_rate_per_s, spec.connections
    assert rate is not None and pool is not None  # resolved by LbSpec
    base = spec.service.draw(gen, shape)
    arrival = gen.standard_exponential(shape)
    np.cumsum(arrival, axis=1, out=arrival)
    arrival /= rate
    disp = gen.integers(k, size=shape) if k > 1 else None
    conn = None
    if spec.by_connection:
        reps, n = shape
        conn_id, opener = kernels.connection_slots(gen, reps, n, spec.requests_per_connection, pool)
        conn = (conn_id, opener, pool)
    pod = rule.assign(gen, spec, shape, disp, conn)
    work = base / spec.speeds[pod]
    if spec.concurrency == 1:
        dep = kernels.fifo_single(pod, arrival, work)
    else:
        dep = kernels.fifo_multi(pod, arrival, work, spec.pods, spec.concurrency)
    return base, arrival, conn, kernels.materialized(pod, arrival, dep, work, spec.pods, conn,
                                                     first, keep)  # fmt: skip


def _overloaded(spec: LbSpec, reps: int, placed) -> np.ndarray:
    """Which pods are offered at least their capacity, per replication ``(reps, pods)``.

    ``placed`` counts the connections opened on each pod ``(reps, pods)``, None without
    connections.
    """
    rule = spec.balancer.rule
    if rule.state_dependent:
        over = rule.forced_overload(spec)
    else:
        over = spec.arrival_rate_per_s * rule.expected_share(spec) >= spec.capacity_per_s
    result = np.broadcast_to(over, (reps, spec.pods))
    if placed is not None and math.isinf(spec.requests_per_connection):
        # Persistent connections: each carries 1/connections of the traffic for the whole
        # run, so the realized placement (not its expectation) decides the load of a pod.
        rate, pool = spec.arrival_rate_per_s, spec.connections
        assert rate is not None and pool is not None  # resolved by LbSpec
        result = rate * placed / pool >= spec.capacity_per_s
    return result


def _params(spec: LbSpec, n_req: int, reps: int, warmup: float) -> dict[str, Any]:
    b = spec.balancer
    return {
        "policy": b.rule.name,
        "alias": b.alias,
        "pods": spec.pods,
        "utilization": spec.utilization,
        "arrival_rate_per_s": spec.arrival_rate_per_s,
        "requests": n_req,
        "replications": reps,
        "dispatchers": b.dispatchers,
        "concurrency": spec.concurrency,
        "speeds": spec.speeds.tolist(),
        "weights": spec.weights.tolist(),
        "draw_weights": spec.draw_weights.tolist() if "draw_weights" in b.rule.options else None,
        "service_mean_s": spec.service.mean_s,
        "service_scv": spec.service.scv,
        "requests_per_connection": spec.requests_per_connection,
        "connections": spec.connections if spec.by_connection else None,
        "choices": b.choices,
        "distinct": b.distinct,
        "shared_state": bool(b.shared_state),
        "warmup": warmup,
    }


#: Fewer requests kept per pod than this is flagged ``few_requests``: too few for steady state.
MIN_REQUESTS_PER_POD = 1_000
#: A pod busier than this is flagged ``near_capacity``: its queue settles slowly, if at all.
NEAR_CAPACITY = 0.9
#: A standard error above this fraction of the mean is flagged ``wide_spread``.
MAX_RELATIVE_SE = 0.05


def _reliability(
    counts: np.ndarray, util: np.ndarray, mean: float, se: float
) -> list[tuple[str, str]]:
    """Flags (and the sentence for each) for answers a planner should not take at face value."""
    out = []
    per_pod = float(counts.mean())
    if per_pod < MIN_REQUESTS_PER_POD:
        out.append(("few_requests", f"only {per_pod:.0f} requests per pod were kept after the "
                    "warm-up: too few for steady state; raise requests"))  # fmt: skip
    busiest = np.minimum(util.mean(axis=0), 1.0)
    if not out and busiest.max() >= NEAR_CAPACITY:
        pod = int(np.argmax(busiest))
        out.append(("near_capacity", f"pod {pod} is busy {busiest[pod]:.0%} of the time: its "
                    "queue settles slowly and tail latencies vary between runs"))  # fmt: skip
    if math.isfinite(se) and se > MAX_RELATIVE_SE * mean:
        out.append(("wide_spread", f"the replications disagree: the standard error is "
                    f"{se / mean:.0%} of the mean; raise requests or replications"))  # fmt: skip
    return out


def _summarize(
    spec: LbSpec, n_req: int, warmup: float, agg: kernels.Agg, overloaded: np.ndarray
) -> LbResult:
    """Summary and per-pod tables from the sums of :class:`~k8smodel.lb.kernels.Agg`."""
    reps, n_pods = agg.counts.shape
    counts = agg.counts
    with np.errstate(invalid="ignore", divide="ignore"):
        # A pod with no time window (too few requests kept) did no work in it: 0, not 0/0.
        util = np.where(agg.horizon > 0, agg.busy / (spec.concurrency * agg.horizon), 0.0)
        pod_mean = agg.resp_sum / counts
    kept = counts.sum(axis=1)
    rep_means = agg.resp_sum.sum(axis=1) / kept
    q50, q95, q99 = kernels.quantiles_inplace(agg.kept_responses, (0.5, 0.95, 0.99))
    mean = float(rep_means.mean())
    se = float(rep_means.std(ddof=1) / math.sqrt(reps)) if reps > 1 else math.nan
    jain = metrics.jain(counts)
    jain_se = float(np.std(jain, ddof=1) / math.sqrt(reps)) if reps > 1 else math.nan
    mean_wait = float(agg.wait_sum / kept.sum())
    bad_rep = overloaded.any(axis=1)
    stable = not bad_rep.any()
    flags, notes = (
        [],
        [
            f"{spec.service.describe()}; {n_req} requests per replication, the first "
            f"{int(warmup * n_req)} ({warmup:.0%}) left out as warm-up; times in seconds"
        ],
    )
    if not stable:
        mean = q50 = q95 = q99 = mean_wait = math.inf
        se = math.nan
        pod_mean = np.where(overloaded, math.inf, pod_mean)
        flags.append("unstable")
        notes.append(f"some pod is offered at least its capacity in {bad_rep.mean():.0%} of "
                     "replications: its queue grows without bound, response times are "
                     "infinite")  # fmt: skip
    if reps < 2:
        flags.append("one_replication")
        notes.append("one replication: no standard error")
    reliability = _reliability(counts, util, mean, se) if stable else []
    flags += [flag for flag, _ in reliability]
    notes += [note for _, note in reliability]
    summary = pd.DataFrame(
        [
            {
                "policy": spec.balancer.rule.name,
                "pods": spec.pods,
                "utilization": spec.utilization,
                "requests": n_req,
                "replications": reps,
                "method": "simulation",
                "exact": False,
                "mean_response_s": mean,
                "mean_response_s_se": se,
                "p50_response_s": float(q50),
                "p95_response_s": float(q95),
                "p99_response_s": float(q99),
                "mean_wait_s": mean_wait,
                "jain_requests": float(np.mean(jain)),
                "jain_requests_se": jain_se,
                "max_share": float(np.mean(metrics.max_share(counts))),
                "cov_utilization": float(np.mean(metrics.cov(util))),
                "max_utilization": float(np.mean(util.max(axis=1))),
                "stable": bool(stable),
                "p_unstable": float(bad_rep.mean()),
                "flags": ";".join(flags),
            }
        ]
    )
    per_pod = pd.DataFrame(
        {
            "replication": np.repeat(np.arange(reps), n_pods),
            "pod": np.tile(np.arange(n_pods), reps),
            "speed": np.tile(spec.speeds, reps),
            "weight": np.tile(spec.weights, reps),
            "requests": counts.ravel(),
            "share": (counts / counts.sum(axis=1, keepdims=True)).ravel(),
            "utilization": util.ravel(),
            "mean_response_s": pod_mean.ravel(),
        }
    )
    return LbResult(
        summary=summary,
        params=_params(spec, n_req, reps, warmup),
        notes=tuple(notes),
        per_pod=per_pod,
    )


def compare(
    policies: Any,
    *,
    pods: Any,
    utilization: Any,
    requests: int = 20_000,
    replications: int = 4,
    rng: RngLike = None,
    theory: bool = True,
    **options: Any,
) -> Result:
    """Simulate several policies over a grid of pod counts and utilizations.

    Parameters
    ----------
    policies : str or sequence of str
        Policy names or aliases.
    pods : int or sequence of int
        Pod counts.
    utilization : float or sequence of float
        Utilizations.
    requests, replications : int
        Per point, as in :func:`simulate`.
    rng : int, Generator, SeedSequence or None
        Root seed; each (policy, pods, utilization) point gets its own child
        stream, so a point's numbers do not depend on the others in the grid.
    theory : bool, default True
        Add ``theory_method``, ``theory_exact`` and ``theory_mean_response_s`` (the
        policy's own closed form, NaN where there is none; ``power_of_two`` is
        compared with its ``n -> infinity`` mean field), ``floor_mean_response_s``
        (pooled M/M/n) and ``ceiling_mean_response_s`` (random) from
        :func:`k8smodel.lb.theory`.
    **options
        Other keywords of :func:`simulate` (``speeds``, ``dispatchers``, ...).

    Returns
    -------
    Result
        ``summary``: one row per (policy, pods, utilization) with the columns of
        :func:`simulate` (plus the theory columns).

    Examples
    --------
    >>> from k8smodel import lb
    >>> res = lb.compare(["random", "round_robin"], pods=2, utilization=0.5,
    ...                  requests=2_000, replications=2, rng=1)
    >>> res.summary.policy.tolist()
    ['random', 'round_robin']
    """
    if isinstance(policies, str):
        policies = [policies]
    policies = list(policies)
    if not policies:
        raise ValueError("policies must name at least one policy; got an empty sequence")
    pods_list = [pods] if np.ndim(pods) == 0 else list(pods)
    util_list = [utilization] if np.ndim(utilization) == 0 else list(utilization)
    points = list(itertools.product(policies, pods_list, util_list))
    seeds = spawn_seeds(rng, len(points))
    rows, notes = [], []
    th_keys = ("speeds", "weights", "service", "concurrency", "dispatchers", "choices",
               "draw_weights")  # fmt: skip
    th_opts = {key: options[key] for key in th_keys if key in options}
    for (pol, n, u), seed in zip(points, seeds, strict=True):
        res = simulate(pol, pods=n, utilization=u, requests=requests,
                       replications=replications, rng=seed, **options)  # fmt: skip
        row = res.summary.iloc[0].to_dict()
        if theory:
            th = _theory(pol, pods=n, utilization=u, **th_opts).summary.iloc[0]
            row["theory_method"] = th["method"]
            row["theory_exact"] = bool(th["exact"])
            row["theory_mean_response_s"] = th["mean_response_s"]
            row["floor_mean_response_s"] = th["floor_mean_response_s"]
            row["ceiling_mean_response_s"] = th["ceiling_mean_response_s"]
        rows.append(row)
        notes += [n_ for n_ in res.notes if n_ not in notes]
    params = {"policies": policies, "pods": pods_list, "utilization": util_list,
              "requests": requests, "replications": replications, **options}  # fmt: skip
    return Result(summary=pd.DataFrame(rows), params=params, notes=tuple(notes))

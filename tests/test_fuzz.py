"""Bad values into the public entry points of every family, metrics and sweep.

A table-driven harness (issue 19): each entry has a small valid call and, per parameter, the kind
of value it takes; the harness replaces one parameter at a time by values of that kind's bad list
(NaN, +-inf, 0, negatives, 1e18, wrong types, bools, empty or mismatched arrays) and classifies
the outcome:

* ``clear``: ``ValueError``/``TypeError`` whose message names the parameter;
* ``generic``: ``ValueError``/``TypeError`` that does not name it;
* ``other``: any other exception type;
* ``silent``: a result with NaN or a negative number in it (counts, times, shares, costs and
  latencies are never negative here), or an answer although the value is never valid (NaN, bool,
  a string where a number goes);
* ``slow``: the call took longer than ``SECONDS`` (a hang or a blow-up in the making);
* ``ok``: a sane result for a value that is legitimately allowed (e.g. ``0`` where zero is).

The test asserts every call is ``clear`` or ``ok``. Run ``python tests/test_fuzz.py`` for the
outcome table the issue asks for.
"""

from __future__ import annotations

import math
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest

SECONDS = 5.0
NAN, INF = float("nan"), float("inf")

#: Bad values per kind of parameter; ``NEVER`` values are refused for every kind.
NEVER = [NAN, True, "abc", None]
BAD: dict[str, list[Any]] = {
    "count": [0, -1, 10**18, 1e18, 2.5, INF, -INF],  # a whole number >= 1
    "count0": [-1, 10**18, 1e18, 2.5, INF],  # a whole number >= 0
    "real+": [0.0, -1.0, 1e18, INF, -INF],  # a positive real
    "real0": [-1.0, 1e18, INF, -INF],  # a non-negative real
    "time": [-1.0, -INF],  # a time where 0 and inf both mean something (a deadline)
    "prob": [-0.1, 1.5, INF],  # a probability
    "util": [0.0, -0.5, 1.0, 1.5, INF],  # a utilization in (0, 1)
    "vec+": [[], [1.0, -1.0], [1.0, NAN], [1.0, INF], [[1.0, 2.0]], ["a", "b"], [1e200, 1e200]],
    "vec+e": [[1.0, -1.0], [1.0, NAN], [1.0, INF], [[1.0, 2.0]], ["a", "b"]],  # [] is legit
    "vec0": [[], [1.0, -1.0], [1.0, NAN], [1.0, INF], ["a", "b"], [1e200, 1e200]],
    "samples": [[], [1.0, NAN], ["a", "b"]],  # samples may be negative or +inf
    "str": [1, 2.5, "no-such-choice"],
    "mem": [0.0, -1.0, -INF],  # a memory limit in bytes (inf: no limit)
}


@dataclass
class Case:
    """One entry point: a valid call and the kinds of the parameters to spoil."""

    label: str
    fn: Callable[..., Any]
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    extra: list[tuple[str, Any]] = field(default_factory=list)  # (param, value) beyond BAD
    never: bool = True  # also try the NEVER values

    def calls(self):
        for name, kind in self.kinds.items():
            for value in BAD[kind] + (NEVER if self.never else []):
                yield name, value
        yield from self.extra


def _cases() -> list[Case]:
    import k8smodel
    from k8smodel import autoscale, lb, metrics, netpol, rollout, service, storage
    from k8smodel import federation as fed
    from k8smodel.netpol.examples import synthetic_cluster

    sts = rollout.StatefulSet(replicas=3)
    dep = rollout.Deployment(replicas=4)
    timing = rollout.PodTiming(start=1.0)
    ct = rollout.completion_time(sts, "rolling_update", timing)
    users = fed.users(top=20)

    def sweep_model(x, rng):
        return {"y": float(x)}

    step = autoscale.Trace.step(300.0, 900.0, at_s=60, duration_s=300)
    hpa = autoscale.HpaSpec(max_replicas=100, min_replicas=2, metric_type="Pods", target=14.0)
    layout = service.Layout.uniform(zones=1, nodes_per_zone=2, pods_per_node=[2, 1])
    local = service.Service(type="LoadBalancer", external_traffic_policy="Local")
    small_cluster = synthetic_cluster(2, 12, 2, rng=1)
    return [
        # ---- autoscale, service, netpol (built with the contract; their specs are checked too)
        Case(
            "autoscale.simulate",
            autoscale.simulate,
            (hpa, step),
            {
                "capacity_per_s": 20.0,
                "startup_s": 30.0,
                "slo_s": 1.0,
                "initial_replicas": 22,
                "replications": 2,
                "rng": 1,
            },  # fmt: skip
            {
                "capacity_per_s": "real+",
                "slo_s": "real+",
                "initial_replicas": "count",
                "replications": "count",
            },  # fmt: skip
        ),
        Case(
            "service.theory",
            service.theory,
            (local, layout),
            {"request_rate_per_s": 60.0, "mean_service_s": 0.02},
            {
                "request_rate_per_s": "real0",
                "mean_service_s": "real+",
                "pod_concurrency": "count",
                "bytes_per_request": "real0",
                "usd_per_gb": "real0",
            },  # fmt: skip
        ),
        Case(
            "service.simulate",
            service.simulate,
            (local, layout),
            {"connections": 500, "replications": 2, "rng": 1},
            {"connections": "count", "replications": "count", "mean_service_s": "real+"},
        ),
        Case(
            "autoscale.keepalive",
            autoscale.keepalive,
            (),
            {"rate_per_s": 1 / 60, "keep_alive_s": 60.0, "cold_start_s": 2.0},
            {"rate_per_s": "real+", "keep_alive_s": "real0", "cold_start_s": "real0"},
        ),
        Case(
            "service.Layout.uniform",
            service.Layout.uniform,
            (),
            {"zones": 1, "nodes_per_zone": 2, "pods_per_node": 1},
            {"zones": "count", "nodes_per_zone": "count", "pods_per_node": "count0"},
        ),
        Case(
            "netpol.synthetic_cluster",
            synthetic_cluster,
            (),
            {"namespaces": 2, "pods": 12, "policies": 2, "rng": 1},
            {"namespaces": "count", "pods": "count", "policies": "count0"},
        ),
        Case(
            "netpol.analyze",
            netpol.analyze,
            (small_cluster,),
            {},
            # 0 pairs listed is a legitimate "summaries only"; no memory limit (inf) is allowed
            {"max_listed_pairs": "count0", "max_memory_bytes": "mem"},
        ),
        # ---- metrics
        *[
            Case(f"metrics.{n}", getattr(metrics, n), kwargs={"x": [1.0, 2.0]}, kinds={"x": "vec0"})
            for n in ("jain", "cov", "shares", "max_share", "peak_to_mean")
        ],
        Case(
            "metrics.quantile_summary",
            metrics.quantile_summary,
            kwargs={"samples": [1.0, 2.0, 3.0]},
            kinds={"samples": "samples"},
            extra=[("q", [1.5]), ("q", [NAN])],
        ),
        # ---- lb
        Case(
            "lb.simulate",
            lb.simulate,
            ("round_robin",),
            {"pods": 3, "utilization": 0.5, "requests": 2000, "replications": 2, "rng": 1},
            {
                "pods": "count",
                "utilization": "util",
                "requests": "count",
                "replications": "count",
                "dispatchers": "count",
                "concurrency": "count",
            },
            extra=[("speeds", [1.0, -1.0, 1.0]), ("speeds", [1.0, 2.0]), ("weights", [0, 0, 0])],
        ),
        Case(
            "lb.theory",
            lb.theory,
            ("round_robin",),
            {"pods": 3, "utilization": 0.5},
            {"pods": "count", "utilization": "util", "concurrency": "count"},
        ),
        Case(
            "lb.erlang_c",
            lb.erlang_c,
            kwargs={"servers": 2, "offered_load": 1.0},
            kinds={"servers": "count", "offered_load": "real0"},
        ),
        Case(
            "lb.smooth_wrr_sequence",
            lb.smooth_wrr_sequence,
            kwargs={"weights": [1, 2]},
            kinds={"weights": "vec0"},
            extra=[("weights", [-1, 1, 1]), ("weights", [0, 0])],
        ),
        Case(
            "lb.place_random",
            lb.place_random,
            kwargs={"connections": 10, "pods": 3, "rng": 1},
            kinds={"connections": "count0", "pods": "count", "replications": "count"},
        ),
        Case(
            "lb.place_d_choice",
            lb.place_d_choice,
            kwargs={"connections": 10, "pods": 3, "rng": 1},
            kinds={"connections": "count0", "pods": "count", "choices": "count"},
        ),
        Case(
            "lb.max_load_order",
            lb.max_load_order,
            kwargs={"pods": 10},
            kinds={"pods": "count", "choices": "count"},
        ),
        Case(
            "lb.supermarket_mean_response",
            lb.supermarket_mean_response,
            kwargs={"utilization": 0.5},
            kinds={"utilization": "util", "choices": "count"},
        ),
        Case(
            "lb.haproxy_ring_shares",
            lb.haproxy_ring_shares,
            kwargs={"servers": 3},
            kinds={"servers": "count"},
        ),
        # ---- rollout
        Case(
            "rollout.StatefulSet",
            rollout.StatefulSet,
            kwargs={"replicas": 3},
            kinds={"replicas": "count0", "partition": "count0"},
        ),
        Case(
            "rollout.Deployment",
            rollout.Deployment,
            kwargs={"replicas": 3},
            kinds={"replicas": "count0", "api_call_s": "real0"},
        ),
        Case(
            "rollout.PodTiming",
            rollout.PodTiming,
            kinds={"start": "real0", "probe_period_s": "real+", "min_ready_seconds": "real0"},
        ),
        Case(
            "rollout.simulate",
            rollout.simulate,
            (sts, "rolling_update", timing),
            {"replications": 50, "rng": 1},
            {"replications": "count", "deadline_s": "time"},
        ),
        Case(
            "rollout.simulate scale_down",
            rollout.simulate,
            (dep, "scale_down", timing),
            {"replications": 50, "rng": 1, "to_replicas": 2},
            {"to_replicas": "count0"},
            extra=[("from_replicas", 1)],
        ),
        Case(
            "rollout.simulate scale_up",
            rollout.simulate,
            (dep, "scale_up", timing),
            {"replications": 50, "rng": 1},
            extra=[("to_replicas", "abc"), ("to_replicas", 6), ("to_replicas", True)],
            never=False,
        ),
        Case(
            "rollout.completion_time",
            rollout.completion_time,
            (sts, "rolling_update", timing),
            kinds={"deadline_s": "time", "grid_s": "real+"},
        ),
        Case(
            "rollout.completion_time scale_down",
            rollout.completion_time,
            (dep, "scale_down", timing),
            {"to_replicas": 2},
            {"to_replicas": "count0"},
        ),
        Case(
            "rollout.completion_time scale_up",
            rollout.completion_time,
            (dep, "scale_up", timing),
            extra=[("to_replicas", "abc"), ("to_replicas", 2)],
        ),
        Case("CompletionTime.ppf", ct.ppf, kwargs={"q": 0.5}, kinds={"q": "prob"}),
        Case(
            "CompletionTime.cdf", ct.cdf, kwargs={"t_s": 1.0}, extra=[("t_s", NAN), ("t_s", "abc")]
        ),
        Case(
            "rollout.backoff_delays",
            rollout.backoff_delays,
            kwargs={"failures": 3},
            kinds={"failures": "count0", "initial_s": "real+", "cap_s": "real+"},
        ),
        Case(
            "rollout.slow_start_batches",
            rollout.slow_start_batches,
            kwargs={"count": 10},
            kinds={"count": "count0", "initial": "count", "cap": "count"},
        ),
        # ---- storage
        Case(
            "storage.pack",
            storage.pack,
            ([1.0, 2.0, 3.0], 4.0),
            {"method": "ffd"},
            {"time_limit_s": "real+", "method": "str", "max_items_per_bin": "count"},
            extra=[("sizes", [1.0, -1.0]), ("capacity", 0.0), ("capacity", NAN)],
        ),
        Case(
            "storage.lower_bound",
            storage.lower_bound,
            ([1.0, 2.0, 3.0], 4.0),
            kinds={"max_items_per_bin": "count"},
        ),
        Case(
            "storage.simulate",
            storage.simulate,
            kwargs={"n_claims": 20, "rng": 1},
            kinds={"n_claims": "count", "overprovision": "real0", "decimal_fraction": "prob"},
        ),
        Case(
            "storage.Node",
            storage.Node,
            kwargs={"capacity_bytes": 10**9},
            kinds={"capacity_bytes": "count", "attach_limit": "count"},
        ),
        Case(
            "storage.make_claims",
            storage.make_claims,
            kwargs={"request_bytes": [10**9]},
            kinds={"request_bytes": "vec+e"},
        ),
        Case(
            "storage.make_volumes",
            storage.make_volumes,
            kwargs={"capacity_bytes": [10**9]},
            kinds={"capacity_bytes": "vec+e"},
        ),
        # ---- federation
        Case(
            "federation.karmada_legacy",
            fed.karmada_legacy,
            kwargs={"replicas": 5, "weights": [1, 2]},
            kinds={"replicas": "count0", "weights": "vec0"},
        ),
        Case(
            "federation.webster",
            fed.webster,
            kwargs={"seats": 5, "votes": [1, 2]},
            kinds={"seats": "count0", "votes": "vec0"},
        ),
        Case(
            "federation.divide_replicas",
            fed.divide_replicas,
            kwargs={"replicas": 5, "weights": [1, 2]},
            kinds={"replicas": "count0", "weights": "vec0"},
        ),
        Case(
            "federation.kubefed_plan",
            fed.kubefed_plan,
            kwargs={
                "total_replicas": 5,
                "clusters": ["a", "b"],
                "preferences": {"a": {"weight": 1}, "b": {"weight": 1}},
            },
            kinds={"total_replicas": "count0"},
            extra=[("clusters", ["a", "a"]), ("clusters", [])],
        ),
        Case(
            "federation.haversine_km",
            fed.haversine_km,
            (0.0, 0.0, 10.0, 10.0),
            extra=[
                ("lat1", NAN),
                ("lat1", 1e18),
                ("lat1", 91.0),
                ("lon1", INF),
                ("lat2", True),
                ("lon2", "abc"),
            ],
        ),
        Case(
            "federation.monthly_cost",
            fed.monthly_cost,
            (["us-east-1", "eu-west-1"],),
            {"traffic_share": [0.5, 0.5]},
            {
                "capacity_multiplier": "real+",
                "fixed_usd_per_cluster": "real0",
                "capacity_usd": "real0",
                "egress_gb": "real0",
                "traffic_share": "vec0",
            },
            extra=[("traffic_share", [0.5, 0.3, 0.2])],
        ),
        Case(
            "federation.evaluate",
            fed.evaluate,
            (["us-east-1", "eu-west-1"],),
            {"users": users, "rng": 1},
            {"cluster_availability": "prob", "needed": "count", "ttl_s": "real0"},
            extra=[("clusters", ["us-east-1", "us-east-1"]), ("clusters", [])],
        ),
        Case(
            "federation.availability",
            fed.availability,
            kwargs={"clusters": 3},
            kinds={"clusters": "count", "needed": "count", "cluster_availability": "prob"},
        ),
        Case(
            "federation.simulate_availability",
            fed.simulate_availability,
            kwargs={"clusters": 3, "replications": 100, "rng": 1},
            kinds={"replications": "count", "clusters": "count"},
        ),
        Case(
            "federation.failover_time",
            fed.failover_time,
            kinds={"probe_interval_s": "real+", "failure_threshold": "count", "ttl_s": "real0"},
        ),
        Case(
            "federation.failure_scenarios",
            fed.failure_scenarios,
            kwargs={"n_clusters": 4},
            kinds={"n_clusters": "count", "failures": "count0"},
        ),
        Case(
            "federation.fibre_rtt_ms",
            fed.fibre_rtt_ms,
            kwargs={"km": 100.0},
            kinds={"km": "real0"},
        ),
        Case(
            "federation.headroom",
            fed.headroom,
            kwargs={"shares": [[0.5, 0.5], [1.0, 0.0]]},
            kinds={"shares": "vec0"},
        ),
        Case(
            "federation.brute_force_placement",
            fed.brute_force_placement,
            (np.ones((3, 4)), np.ones(3), 2),
            extra=[("k", 0), ("k", 5), ("k", True), ("user_weight", np.ones(2))],
            never=False,
        ),
        Case(
            "federation.greedy_placement",
            fed.greedy_placement,
            (np.ones((3, 4)), np.ones(3), 2),
            extra=[("k", 0), ("k", 5), ("k", 2.5), ("user_weight", [1.0, NAN, 1.0])],
            never=False,
        ),
        # ---- sweep
        Case(
            "sweep",
            k8smodel.sweep,
            (sweep_model, {"x": [1, 2]}),
            {"progress": False},
            {"replications": "count", "batch_size": "count"},
            extra=[("grid", {}), ("grid", {"x": []}), ("model", "abc")],
        ),
    ]


_POSITIONAL = {
    "federation.haversine_km": ("lat1", "lon1", "lat2", "lon2"),
    "storage.pack": ("sizes", "capacity"),
    "storage.lower_bound": ("sizes", "capacity"),
    "federation.monthly_cost": ("clusters",),
    "federation.evaluate": ("clusters",),
    "federation.brute_force_placement": ("latency_ms", "user_weight", "k"),
    "federation.greedy_placement": ("latency_ms", "user_weight", "k"),
    "sweep": ("model", "grid"),
}


class _Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise _Timeout


def _numbers(result: Any) -> list[np.ndarray]:
    """The numeric arrays inside a result (Result summaries, frames, arrays, dicts, scalars)."""
    if result is None or isinstance(result, str | bool):
        return []
    if isinstance(result, int | float | np.number):
        return [np.asarray([result], dtype=float)]
    if isinstance(result, np.ndarray):
        return [result.astype(float)] if result.dtype.kind in "iuf" else []
    if isinstance(result, pd.Series):
        return _numbers(result.to_numpy())
    if isinstance(result, pd.DataFrame):
        out = []
        for name, col in result.items():
            if col.dtype.kind in "iuf" and not str(name).startswith(("lat", "lon", "delta")):
                out.append(col.to_numpy(dtype=float))
        return out
    if isinstance(result, dict):
        return [a for v in result.values() for a in _numbers(v)]
    if isinstance(result, tuple | list):
        return [a for v in result for a in _numbers(v)]
    if hasattr(result, "summary"):
        return _numbers(result.summary)
    return []


def _insane(result: Any, baseline: Any = None) -> str:
    """NaN or a negative number, beyond the NaN the valid call itself gives ("not asked for")."""
    allowed = sum(int(np.isnan(a).sum()) for a in _numbers(baseline))
    arrays = _numbers(result)
    if sum(int(np.isnan(a).sum()) for a in arrays) > allowed:
        return "NaN in the result"
    if any((a < 0).any() for a in arrays):
        return "a negative number in the result"
    return ""


def _may_accept(value: Any) -> bool:
    """Only huge-but-finite values may be answered (quickly and sanely); the rest are bad."""
    if isinstance(value, bool) or value is None:
        return value is None  # None means "the default" for optional parameters
    if isinstance(value, int | float):
        return math.isfinite(value) and abs(value) >= 1e18
    return isinstance(value, list) and value == [1e200, 1e200]


def _flagged(result: Any) -> bool:
    """A result that says it is unreliable (``flags``) may carry NaN/inf in what it flags."""
    summary = getattr(result, "summary", None)
    return (
        isinstance(summary, pd.DataFrame)
        and "flags" in summary
        and summary["flags"].astype(str).str.len().gt(0).all()
    )


def call(case: Case, name: str, value: Any) -> tuple[str, str]:
    """Run one spoiled call: (outcome, detail)."""
    args = list(case.args)
    kwargs = dict(case.kwargs)
    positional = _POSITIONAL.get(case.label, ())
    if name in positional and positional.index(name) < len(args):
        args[positional.index(name)] = value
    else:
        kwargs[name] = value
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, SECONDS)
    start = time.perf_counter()
    try:
        result = case.fn(*args, **kwargs)
    except _Timeout:
        return "slow", f"over {SECONDS} s"
    except (ValueError, TypeError) as err:
        text = str(err)
        return ("clear" if name in text else "generic"), f"{type(err).__name__}: {text[:160]}"
    except Exception as err:  # noqa: BLE001 - the harness classifies every failure
        return "other", f"{type(err).__name__}: {str(err)[:160]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    if time.perf_counter() - start > SECONDS:
        return "slow", f"{time.perf_counter() - start:.1f} s"
    if _flagged(result):
        return "ok", "flagged"
    if not _may_accept(value):
        return "silent", f"accepted a bad value, returned {str(result)[:60]!r}"
    problem = _insane(result, case.fn(*case.args, **case.kwargs))
    return ("silent", problem) if problem else ("ok", "")


def _all_calls() -> list[tuple[Case, str, Any]]:
    return [(case, name, value) for case in _cases() for name, value in case.calls()]


def _ids() -> list[str]:
    return [f"{c.label}:{n}={v!r}"[:90] for c, n, v in _all_calls()]


@pytest.fixture(scope="module")
def calls():
    return _all_calls()


def test_valid_base_calls_are_sane():
    # the unspoiled calls answer without negatives (their NaN mean "not asked", e.g. no deadline)
    for case in _cases():
        assert "negative" not in _insane(case.fn(*case.args, **case.kwargs)), case.label


@pytest.mark.parametrize("index", range(len(_ids())), ids=_ids())
def test_bad_value_refused_clearly(calls, index):
    case, name, value = calls[index]
    outcome, detail = call(case, name, value)
    assert outcome in ("clear", "ok"), f"{case.label}({name}={value!r}): {outcome}: {detail}"


def table() -> Counter:
    """Outcome counts over every spoiled call, printing the calls that are not clear/ok."""
    counts: Counter = Counter()
    for case, name, value in _all_calls():
        outcome, detail = call(case, name, value)
        counts[outcome] += 1
        if outcome not in ("clear", "ok"):
            print(f"{outcome:8} {case.label}({name}={value!r}): {detail}")
    return counts


if __name__ == "__main__":
    counts = table()
    total = sum(counts.values())
    print("\n| outcome | calls |\n|---|---|")
    for outcome in ("clear", "ok", "generic", "other", "silent", "slow"):
        print(f"| {outcome} | {counts[outcome]} ({100 * counts[outcome] / total:.1f} %) |")
    print(f"| total | {total} |")
    sys.exit(0)


# ---------------------------------------------------------------- the issue's examples, one by one


def _erlang_c_reference(c: int, a: float) -> float:
    """Erlang C from the textbook sum, in logs (a separate reference, not the code under test)."""
    from scipy.special import logsumexp

    k = np.arange(c)
    log_terms = k * np.log(a) - np.array([math.lgamma(i + 1) for i in k])
    log_last = c * np.log(a) - math.lgamma(c + 1) + np.log(c / (c - a))
    return float(np.exp(log_last - logsumexp(np.append(log_terms, log_last))))


def test_erlang_c_for_many_servers_is_immediate_and_right():
    from k8smodel import lb

    # the one-step Poisson identity (above 10,000 servers) against the textbook sum
    assert lb.erlang_c(20_000, 19_800.0) == pytest.approx(_erlang_c_reference(20_000, 19_800.0))
    assert lb.erlang_c(10**18, 1.0) == 0.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda f: f.federation.karmada_legacy(10**18, [1, 2]), "replicas must be"),
        (lambda f: f.federation.webster(10**18, [1, 2]), "seats must be"),
        (
            lambda f: f.federation.monthly_cost(
                ["us-east-1"], traffic_share=[1.0], capacity_multiplier=0
            ),
            "capacity_multiplier must be",
        ),
        (lambda f: f.metrics.shares([1.0, -1.0]), "x must be non-negative"),
        (lambda f: f.federation.haversine_km(NAN, 0, 0, 0), "lat1 must be"),
        (lambda f: f.federation.haversine_km(1e18, 0, 0, 0), "lat1 must be"),
        (lambda f: f.federation.evaluate(["us-east-1", "us-east-1"]), "clusters must be distinct"),
        (
            lambda f: f.federation.kubefed_plan(5, ["a", "a"], {"*": {"weight": 1}}),
            "clusters must be distinct",
        ),
        (lambda f: f.lb.smooth_wrr_sequence([-1, 1, 1]), "weights must be"),
        (lambda f: f.lb.erlang_c(True, 0.5), "servers must be"),
        (
            lambda f: f.rollout.simulate(
                f.rollout.Deployment(replicas=3),
                "scale_up",
                f.rollout.PodTiming(),
                to_replicas="abc",
            ),
            "to_replicas must be None",
        ),
        (
            lambda f: f.rollout.simulate(
                f.rollout.StatefulSet(replicas=3),
                "rolling_update",
                f.rollout.PodTiming(),
                replications=10**18,
            ),
            "replications",
        ),
    ],
)
def test_issue_examples_are_refused(call, message):
    import k8smodel as k

    with pytest.raises((ValueError, TypeError), match=message):
        call(k)


def test_issue_examples_with_right_answers():
    from k8smodel import federation, metrics, rollout

    assert metrics.jain([1e200, 1e200]) == 1.0
    ct = rollout.completion_time(
        rollout.StatefulSet(replicas=3), "rolling_update", rollout.PodTiming(start=1.0)
    )
    assert ct.ppf(0.0) >= 0.0  # was -0.005 s: half a grid step below zero
    # 10**7 seats divide at once (issue: a hang); Webster's divisor 1:2 is exact here
    assert federation.webster(10**7 - 1, [1, 2]).tolist() == [3_333_333, 6_666_666]


def test_oversized_brute_force_refused_before_it_starts():
    from k8smodel import federation

    # C(100, 10) = 17,310,309,456,440 subsets (math.comb); the issue's 47 s and 5.2 GB run
    with pytest.raises(ValueError, match=r"C\(100, 10\) = 17,310,309,456,440 subsets.*k <= \d"):
        federation.brute_force_placement(np.ones((20, 100)), np.ones(20), 10)


def test_oversized_lb_run_refused_with_what_fits():
    from k8smodel import lb

    with pytest.raises(ValueError, match=r"requests=100000000 x replications=8.*at most about"):
        lb.simulate("round_robin", pods=4, utilization=0.5, requests=10**8)

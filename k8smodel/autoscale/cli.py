"""``k8smodel autoscale``: a traffic step against an HPA or a KPA, and keep-alive costs."""

from __future__ import annotations

import argparse
import math

import pandas as pd

from k8smodel._output import add_format_option, emit
from k8smodel.result import Result


def _spec(args):
    from k8smodel.autoscale import HpaSpec, KpaSpec, from_manifest

    if args.manifest:
        return from_manifest(args.manifest)
    if args.controller == "hpa":
        return HpaSpec(
            max_replicas=args.max_replicas,
            min_replicas=args.min_replicas,
            metric_type=args.metric,
            target=args.target,
        )
    return KpaSpec(target=args.target, max_scale=args.max_replicas, min_scale=args.min_replicas)


def _step(args) -> int:
    from k8smodel.autoscale import HpaSpec, Trace, fluid, simulate

    spec = _spec(args)
    if args.trace:
        trace = Trace.from_csv(args.trace, column=args.column, dt_s=args.dt_s, event_s=args.at_s)
    else:
        trace = Trace.step(
            args.before, args.after, at_s=args.at_s, duration_s=args.duration_s, dt_s=args.dt_s
        )
    initial = args.initial
    if initial is None:  # the pods the traffic before the step needs at 70 % utilization
        initial = max(args.min_replicas, math.ceil(trace.rates_per_s[0] / (0.7 * args.capacity)))
    common = dict(
        capacity_per_s=args.capacity,
        startup_s=args.startup_s,
        slo_s=args.slo_s,
        initial_replicas=initial,
        pod_concurrency=args.pod_concurrency,
        max_pods=args.max_replicas,
    )
    sim = simulate(spec, trace, replications=args.replications, rng=args.seed, **common)
    theory = fluid(spec, trace, **common)
    table = pd.concat([sim.summary, theory.summary], ignore_index=True)
    cols = [
        "controller",
        "method",
        "exact",
        "recovery_s",
        "recovery_s_se",
        "requests_over_slo",
        "requests_over_slo_se",
        "pod_seconds",
        "pod_seconds_se",
        "peak_replicas",
        "final_replicas",
        "fraction_cold",
        "flags",
    ]
    kind = "HPA" if isinstance(spec, HpaSpec) else "KPA"
    title = (
        f"{kind} facing {trace.rates_per_s[0]:g} -> {trace.rates_per_s[-1]:g} req/s "
        f"(event at {trace.event_s:g} s); pods serve {args.capacity:g} req/s, start in "
        f"{args.startup_s:g} s; SLO p99 <= {args.slo_s:g} s"
    )
    assumed = [
        f"assumed spec: {spec!r}",
        f"assumed initial replicas {sim.params['initial_replicas']}, "
        f"{args.replications} replications, seed {args.seed}",
    ]
    emit(
        Result(summary=table[cols], params=sim.params, notes=sim.notes),
        fmt=args.format,
        title=title,
        notes=assumed,
    )
    return 0


def _keepalive(args) -> int:
    from k8smodel.autoscale import keepalive, simulate_keepalive

    sim = simulate_keepalive(
        rate_per_s=args.rate,
        duration_s=args.duration_s,
        keep_alive_s=args.keep_alive_s,
        cold_start_s=args.cold_start_s,
        replications=args.replications,
        rng=args.seed,
    )
    theory = keepalive(
        rate_per_s=args.rate, keep_alive_s=args.keep_alive_s, cold_start_s=args.cold_start_s
    )
    table = pd.concat([sim.summary, theory.summary], ignore_index=True)
    cols = [
        "policy",
        "method",
        "exact",
        "fraction_cold",
        "fraction_cold_se",
        "mean_added_latency_s",
        "mean_added_latency_s_se",
        "loaded_pod_s_per_request",
        "loaded_pod_s_per_request_se",
        "flags",
    ]
    title = (
        f"one function at {args.rate:g} invocations/s; fixed keep-alive "
        f"{args.keep_alive_s:g} s vs histogram policy; cold start {args.cold_start_s:g} s"
    )
    emit(
        Result(
            summary=table.reindex(columns=cols), params=sim.params, notes=sim.notes + theory.notes
        ),
        fmt=args.format,
        title=title,
        notes=[
            f"assumed {args.duration_s:g} s of Poisson invocations, "
            f"{args.replications} replications, seed {args.seed}"
        ],
    )
    return 0


def add_commands(commands) -> None:
    """Register ``k8smodel autoscale step|keepalive``."""
    top = commands.add_parser(
        "autoscale", help="how fast HPA/KPA catch a traffic step; what scale to zero costs"
    )
    sub = top.add_subparsers(dest="autoscale_command", metavar="WHAT", required=True)
    step = sub.add_parser(
        "step",
        help="a traffic step (or a CSV of rates) against a controller",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    step.add_argument("--controller", choices=["hpa", "kpa"], default="hpa")
    step.add_argument(
        "--manifest", help="an HPA or Knative Service YAML (overrides the spec options)"
    )
    step.add_argument(
        "--metric",
        default="Pods",
        help="HPA metric type: Resource (cpu %%), Pods (req/s per pod), External",
    )
    step.add_argument(
        "--target",
        type=float,
        default=7.0,
        help="HPA target value or KPA per-pod target (concurrency)",
    )
    step.add_argument("--min-replicas", type=int, default=1)
    step.add_argument("--max-replicas", type=int, default=50)
    step.add_argument("--before", type=float, default=30.0, help="req/s before the step")
    step.add_argument("--after", type=float, default=90.0, help="req/s after the step")
    step.add_argument("--at-s", type=float, default=60.0, help="when the step happens")
    step.add_argument("--duration-s", type=float, default=600.0)
    step.add_argument("--dt-s", type=float, default=1.0)
    step.add_argument("--trace", help="CSV of rates (one row per --dt-s) instead of a step")
    step.add_argument("--column", default="rate_per_s", help="the CSV's rate column")
    step.add_argument("--capacity", type=float, default=10.0, help="req/s one pod serves")
    step.add_argument(
        "--pod-concurrency", type=int, default=1, help="requests a pod works on at once"
    )
    step.add_argument("--startup-s", type=float, default=30.0, help="pod creation to ready")
    step.add_argument("--slo-s", type=float, default=2.0, help="p99 response objective")
    step.add_argument(
        "--initial",
        type=int,
        default=None,
        help="pods at time 0 (default: what the first rate needs at 70 %% utilization)",
    )
    step.add_argument("--replications", type=int, default=16)
    step.add_argument("--seed", type=int, default=1)
    add_format_option(step)
    step.set_defaults(handler=_step)
    ka = sub.add_parser(
        "keepalive",
        help="cold starts vs idle pod-seconds: fixed keep-alive and the histogram policy",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ka.add_argument("--rate", type=float, default=1 / 600, help="invocations per second")
    ka.add_argument(
        "--keep-alive-s",
        type=float,
        default=90.0,
        help="fixed idle timeout (Knative: stable window + scale-to-zero delay)",
    )
    ka.add_argument("--cold-start-s", type=float, default=2.0)
    ka.add_argument("--duration-s", type=float, default=7 * 86400.0)
    ka.add_argument("--replications", type=int, default=8)
    ka.add_argument("--seed", type=int, default=1)
    add_format_option(ka)
    ka.set_defaults(handler=_keepalive)

"""Quick what-if answers from the command line, one subcommand per model family.

Each subcommand is a thin layer over the public functions (``lb.compare``,
``rollout.simulate`` and ``rollout.completion_time``) and prints a small table; the
other families' subcommands live in their own ``cli`` modules.
"""

from __future__ import annotations

import pandas as pd


def _show(table: pd.DataFrame) -> None:
    with pd.option_context("display.width", 120, "display.max_columns", 20, "display.precision", 4):
        print(table.to_string(index=False))


def _lb(args) -> None:
    from k8smodel import lb

    table = lb.compare(
        args.policies,
        pods=[args.pods],
        utilization=[args.utilization],
        requests=args.requests,
        replications=args.replications,
        dispatchers=args.dispatchers,
        rng=args.seed,
    )
    print(f"{args.pods} pods at utilization {args.utilization}; times in mean service times")
    _show(
        table[
            ["policy", "mean_response", "p99_response", "jain_requests", "max_share", "stable"]
            + ["theory_model", "theory_mean_response", "floor_mean_response"]
        ]
    )


def _int_or_percent(text: str | None) -> int | str | None:
    """``"2"`` -> 2 and ``"25%"`` stays a percentage, as the Kubernetes API field takes either."""
    return int(text) if text is not None and text.strip().isdigit() else text


def _rollout(args) -> None:
    import scipy.stats as st

    from k8smodel import rollout

    spec = rollout.StatefulSet(
        replicas=args.replicas,
        pod_management=args.pod_management,
        partition=args.partition,
        max_unavailable=_int_or_percent(args.max_unavailable),
        max_unavailable_gate=args.max_unavailable_gate,
        kubernetes_version=args.kubernetes_version,
    )
    if args.max_unavailable is not None and not spec.max_unavailable_gate:
        print(
            "note: the MaxUnavailableStatefulSet gate is off in Kubernetes "
            f"{args.kubernetes_version}, so maxUnavailable has no effect; "
            "pass --max-unavailable-gate to turn it on"
        )
    # Warm-up varies from pod to pod: gamma with shape 2 around the given mean.
    warmup = st.gamma(2, scale=args.warmup_s / 2) if args.warmup_s > 0 else 0.0
    timing = rollout.PodTiming(
        start=args.start_s, warmup=warmup, probe_period_s=args.probe_period_s
    )
    sim = rollout.simulate(
        spec, args.operation, timing, runs=args.runs, deadline_s=args.deadline_s, rng=args.seed
    )
    theory = rollout.completion_time(spec, args.operation, timing)
    row = sim.summary.iloc[0]
    _show(
        pd.DataFrame(
            {
                "source": ["simulation", "theory" if theory.exact else "theory (upper bound)"],
                "mean_s": [row["mean_s"], theory.mean()],
                "p50_s": [row["p50_s"], theory.ppf(0.5)],
                "p99_s": [row["p99_s"], theory.ppf(0.99)],
                "p_miss_deadline": [row["p_miss_deadline"], theory.sf(args.deadline_s)],
            }
        )
    )




def add_commands(commands) -> None:
    """Register the what-if subcommands on an argparse subparsers object."""
    lb = commands.add_parser("lb", help="compare balancing policies on one Service")
    lb.add_argument(
        "policies",
        nargs="*",
        default=["random", "round_robin", "power_of_two", "least_connections"],
        help="policies or mechanism aliases (default: the four main ones)",
    )
    lb.add_argument("--pods", type=int, default=4)
    lb.add_argument("--utilization", type=float, default=0.8)
    lb.add_argument("--dispatchers", type=int, default=1, help="independent balancer instances")
    lb.add_argument("--requests", type=int, default=50_000, help="requests per replication")
    lb.add_argument("--replications", type=int, default=4)
    lb.add_argument("--seed", type=int, default=1)
    lb.set_defaults(handler=_lb)

    ro = commands.add_parser("rollout", help="how long a StatefulSet operation takes")
    ro.add_argument("--replicas", type=int, default=10)
    ro.add_argument(
        "--operation",
        default="rolling_update",
        choices=["rolling_update", "scale_up", "scale_down"],
    )
    ro.add_argument(
        "--pod-management", default="OrderedReady", choices=["OrderedReady", "Parallel"]
    )
    ro.add_argument("--partition", type=int, default=0)
    ro.add_argument("--max-unavailable", default=None, help="an integer or a percentage like 25%%")
    ro.add_argument(
        "--max-unavailable-gate",
        action="store_true",
        default=None,
        help="turn the MaxUnavailableStatefulSet feature gate on (default: as the version ships)",
    )
    ro.add_argument("--kubernetes-version", default="1.36", help="decides the gate's default")
    ro.add_argument("--start-s", type=float, default=2.0, help="container start, seconds")
    ro.add_argument(
        "--warmup-s", type=float, default=10.0, help="mean warm-up to readiness, seconds"
    )
    ro.add_argument("--probe-period-s", type=float, default=10.0)
    ro.add_argument("--deadline-s", type=float, default=1800.0)
    ro.add_argument("--runs", type=int, default=20_000)
    ro.add_argument("--seed", type=int, default=1)
    ro.set_defaults(handler=_rollout)


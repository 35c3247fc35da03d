"""``k8smodel lb``: compare balancing policies on one Service from the command line."""

from __future__ import annotations

import argparse
from typing import Any

from k8smodel._output import add_format_option, emit

__all__ = ["add_commands"]

_DEFAULT_POLICIES = ["random", "round_robin", "power_of_two", "least_connections"]
_COLUMNS = [
    "policy", "mean_response_s", "mean_response_s_se", "p99_response_s", "jain_requests",
    "max_share", "stable", "theory_method", "theory_mean_response_s", "floor_mean_response_s",
]  # fmt: skip


def _run(args: argparse.Namespace) -> int:
    from k8smodel import lb

    res = lb.compare(
        args.policies or _DEFAULT_POLICIES,
        pods=[args.pods],
        utilization=[args.utilization],
        requests=args.requests,
        replications=args.replications,
        dispatchers=args.dispatchers,
        service=args.service_mean_s,
        rng=args.seed,
    )
    notes = [
        f"assumed: Poisson arrivals, seed {args.seed}, {args.replications} replications; "
        "_se columns are standard errors over replications"
    ]
    emit(
        res.summary[_COLUMNS] if args.format == "table" else res.summary,
        fmt=args.format,
        title=f"{args.pods} pods at utilization {args.utilization}, {args.dispatchers} "
        "dispatcher(s); times in seconds",
        notes=notes + list(res.notes),
    )
    return 0


def _service(text: str) -> Any:
    """``--service-mean-s``: a mean in seconds for an exponential law (scipy.stats.expon)."""
    from scipy import stats

    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds; got {text}")
    return stats.expon(scale=value)


def add_commands(commands: Any) -> None:
    """Register ``lb`` on an argparse subparsers object."""
    p = commands.add_parser("lb", help="compare balancing policies on one Service")
    p.add_argument(
        "policies",
        nargs="*",
        help=f"policies or mechanism aliases (default: {' '.join(_DEFAULT_POLICIES)})",
    )
    p.add_argument("--pods", type=int, default=4)
    p.add_argument("--utilization", type=float, default=0.8)
    p.add_argument("--dispatchers", type=int, default=1, help="independent balancer instances")
    p.add_argument("--service-mean-s", type=_service, default=None,
                   help="mean service time in seconds, exponential (default 1)")  # fmt: skip
    p.add_argument("--requests", type=int, default=50_000, help="requests per replication")
    p.add_argument("--replications", type=int, default=4)
    p.add_argument("--seed", type=int, default=1)
    add_format_option(p)
    p.set_defaults(handler=_run)

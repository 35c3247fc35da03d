"""Quick what-if answers from the command line, one subcommand per model family.

The ``lb`` subcommand is a thin layer over ``lb.compare`` and prints a small table; the other
families' subcommands live in their own ``cli`` modules.
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


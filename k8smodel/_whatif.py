"""Quick what-if answers from the command line, one subcommand per model family.

Each subcommand is a thin layer over the public functions (``lb.compare``,
``storage.pack``,
``federation.evaluate`` and ``federation.place``) and prints a small table.
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


def _storage(args) -> None:
    from k8smodel import storage

    sizes = storage.to_bytes(args.sizes)
    capacity = int(storage.parse_quantity(args.capacity))
    packing = storage.pack(sizes, capacity, method=args.method, max_items_per_bin=args.max_per_node)
    bound = storage.lower_bound(sizes, capacity, kind="L2", max_items_per_bin=args.max_per_node)
    used = sum(sizes)
    print(
        f"{len(sizes)} volumes, {storage.format_quantity(used)} in all, nodes of {args.capacity}: "
        f"{packing.n_bins} nodes by {args.method} (lower bound {bound}), "
        f"{100 * used / (packing.n_bins * capacity):.1f} % of the capacity used"
    )
    for node in range(packing.n_bins):
        members = [q for q, b in zip(args.sizes, packing.assignment, strict=True) if b == node]
        print(f"  node {node}: {', '.join(members)}")


def _federation(args) -> None:
    from k8smodel import federation as fed

    users = fed.users()
    clusters = args.regions
    if args.place:
        candidates = fed.regions(provider=args.provider)
        placement = fed.place(k=args.place, candidates=candidates, users=users, method="optimal")
        print(
            f"best {args.place} {args.provider} regions for the default user population: "
            f"{', '.join(placement.regions)} (mean RTT {placement.mean_rtt_ms:.1f} ms)"
        )
        clusters = placement.regions
    if not clusters:
        raise ValueError("give region names, or --place K to choose K regions")
    ev = fed.evaluate(
        clusters, users=users, routing=args.routing, cluster_availability=args.cluster_availability
    )
    _show(
        ev.summary[
            ["k", "routing", "mean_ms", "p50_ms", "p95_ms", "p99_ms", "unavailability"]
            + ["failover_worst_s", "capacity_multiplier"]
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

    sto = commands.add_parser("storage", help="how many nodes a set of volumes needs")
    sto.add_argument("sizes", nargs="+", help="volume sizes as Kubernetes quantities, e.g. 100Gi")
    sto.add_argument("--capacity", required=True, help="per-node capacity, e.g. 1Ti")
    sto.add_argument("--method", default="ffd", help="ffd, bfd, wfd, ff, bf, nf, optimal, ...")
    sto.add_argument("--max-per-node", type=int, default=None, help="attach limit per node")
    sto.set_defaults(handler=_storage)

    fed = commands.add_parser("federation", help="latency and availability of a set of regions")
    fed.add_argument("regions", nargs="*", help="region names, e.g. us-east-1 eu-west-1")
    fed.add_argument("--place", type=int, metavar="K", help="choose the best K regions instead")
    fed.add_argument("--provider", default="aws", choices=["aws", "gcp", "azure"])
    fed.add_argument("--routing", default="nearest")
    fed.add_argument("--cluster-availability", type=float, default=0.999)
    fed.set_defaults(handler=_federation)

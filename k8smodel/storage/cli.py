"""``k8smodel storage``: how many nodes a set of volumes needs.

A thin layer over :func:`~k8smodel.storage.pack` and :func:`~k8smodel.storage.lower_bound`:
it packs the sizes with the chosen method, prints the bound beside it, and states what it
assumed (the attach limit, the exact solver's rounding) as notes.
"""

from __future__ import annotations

import argparse
from typing import Any

import pandas as pd

from k8smodel._output import add_format_option, emit

__all__ = ["add_commands"]


def _node_type(text: str) -> tuple[str, str]:
    provider, sep, instance = text.partition(":")
    if not sep or not provider or not instance:
        raise argparse.ArgumentTypeError(
            f"--node-type must be PROVIDER:TYPE, e.g. aws:m5.large; got {text!r}"
        )
    return provider, instance


def _run(args: argparse.Namespace) -> int:
    from k8smodel import storage

    sizes = storage.to_bytes(args.sizes)
    capacity = int(storage.parse_quantity(args.capacity))
    notes = []
    limit = args.max_per_node
    if args.node_type is not None:
        if limit is not None:
            raise ValueError("give --max-per-node or --node-type, not both")
        limit = storage.attach_limit(*args.node_type)
        notes.append(
            f"attach limit {limit} volumes per node: the CSI driver's count for "
            f"{args.node_type[0]} {args.node_type[1]} (AWS: minus the root volume and one ENI)"
        )
    elif limit is None:
        notes.append("no attach limit assumed (pass --max-per-node or --node-type)")
    unit: Any = "auto" if args.unit == "auto" else int(storage.parse_quantity(args.unit))
    packing = storage.pack(
        sizes,
        capacity,
        method=args.method,
        max_items_per_bin=limit,
        time_limit_s=args.time_limit_s,
        unit=unit if args.method == "optimal" else None,
    )
    row = packing.summary.iloc[0]
    total = int(sizes.sum())
    table = pd.DataFrame(
        {
            "method": [row.method],
            "nodes": [packing.n_bins],
            "lower_bound": [packing.lower_bound],
            "proven_optimal": [packing.optimal],
            "exact": [bool(row.exact)],
            "volumes": [len(sizes)],
            "total": [storage.readable_bytes(total)],
            "node_capacity": [storage.readable_bytes(capacity)],
            "attach_limit": [limit if limit is not None else "none"],
            "mean_fill": [round(float(row.mean_fill), 4)],
        }
    )
    if args.format != "table":  # programs get exact bytes too
        table.insert(7, "total_bytes", total)
        table.insert(9, "node_capacity_bytes", capacity)
    title = (
        f"{len(sizes)} volumes, {storage.readable_bytes(total)} in all, on nodes of "
        f"{storage.readable_bytes(capacity)}"
    )
    emit(table, fmt=args.format, title=title, notes=[*notes, *packing.notes])
    return 0


def add_commands(commands: Any) -> None:
    """Register ``k8smodel storage`` on the top-level subparsers."""
    sto = commands.add_parser(
        "storage",
        help="how many nodes a set of volumes needs",
        description="Pack volumes onto nodes with a capacity and an attach limit; print the "
        "nodes needed beside the Martello-Toth lower bound.",
    )
    sto.add_argument("sizes", nargs="+", help="volume sizes as Kubernetes quantities, e.g. 100Gi")
    sto.add_argument("--capacity", required=True, help="per-node capacity, e.g. 1Ti")
    sto.add_argument(
        "--method", default="ffd", help="ffd (default), bfd, wfd, ff, bf, nf, ..., or optimal"
    )
    sto.add_argument("--max-per-node", type=int, default=None, help="attach limit per node")
    sto.add_argument(
        "--node-type",
        type=_node_type,
        default=None,
        metavar="PROVIDER:TYPE",
        help="take the attach limit from the CSI driver's table, e.g. aws:m5.large",
    )
    sto.add_argument(
        "--unit",
        default="auto",
        help="optimal only: round sizes up to this quantity for the exact solver "
        "(default auto: exact when small enough, else capacity/2000)",
    )
    sto.add_argument(
        "--time-limit-s", type=float, default=30.0, help="optimal only: solver time limit"
    )
    add_format_option(sto)
    sto.set_defaults(handler=_run)

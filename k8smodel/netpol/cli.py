"""``k8smodel netpol PATH... [--format connlist|table|csv|json] [--from NS/NAME] [--diff OTHER]``.

By default it prints the allowed connections in netpol-analyzer's text format
(``src => dst : protocol ports``, workloads as ``ns/name[Kind]``, external peers as IP ranges),
so its output can be compared line for line with ``netpol-analyzer list --dirpath PATH``. The
objects it could not use and the model's assumptions go to stderr as ``note:`` lines (and into
the notes of the csv/json/table formats). ``--diff OTHER`` compares the policies and workloads in
``PATH...`` (before) with ``OTHER`` (after): what opens and what closes.
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from k8smodel._output import emit

FORMATS = ("connlist", "table", "csv", "json")


def add_commands(commands) -> None:
    """Register ``netpol`` on the ``k8smodel`` subcommand parser."""
    cmd = commands.add_parser(
        "netpol",
        help="allowed connections between workloads under NetworkPolicies (from manifests)",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    cmd.add_argument("paths", nargs="+", metavar="PATH", help="manifest files or folders")
    cmd.add_argument(
        "--format",
        choices=FORMATS,
        default="connlist",
        help="connlist (default: netpol-analyzer's text), table, csv or json",
    )
    cmd.add_argument(
        "--from",
        dest="source",
        metavar="NS/NAME",
        help="only connections from or to this workload (name, ns/name or ns/name[Kind])",
    )
    cmd.add_argument("--diff", metavar="OTHER_PATH", help="compare with these manifests (after)")
    cmd.set_defaults(handler=run)


def _notes(cluster) -> list[str]:
    """One note per (kind, reason) of the objects not used, naming up to three of them."""
    groups: dict[tuple[str, str], list[str]] = {}
    for kind, ref, why in cluster.ignored:
        groups.setdefault((kind, why), []).append(ref)
    out = []
    for (kind, why), refs in groups.items():
        shown = ", ".join(refs[:3]) + (f" and {len(refs) - 3} more" if len(refs) > 3 else "")
        out.append(f"ignored {len(refs)} {kind} ({shown}): {why}")
    return out


def run(args: argparse.Namespace) -> int:
    """Handle ``k8smodel netpol``."""
    from k8smodel import netpol
    from k8smodel.netpol.analysis import _focus

    cluster = netpol.from_manifest(*args.paths)
    if args.diff:
        return _run_diff(args, cluster)
    result = netpol.analyze(cluster)
    notes = _notes(cluster) + list(result.notes)
    if args.format == "connlist":
        text = netpol.connlist(result, source=args.source)
        if text:
            print(text)
        _stderr_notes(notes)
        return 0
    _check_source(args.source, cluster)
    table = _focus(result.connections, args.source)
    emit(
        table[["src", "dst", "connection"]],
        fmt=args.format,
        title="allowed connections",
        notes=notes + _summary_notes(result.summary),
    )
    return 0


def _run_diff(args: argparse.Namespace, cluster) -> int:
    from k8smodel import netpol
    from k8smodel.netpol.analysis import _focus

    other = netpol.from_manifest(args.diff)
    _check_source(args.source, cluster, other)
    result = netpol.diff(cluster, other)
    table = result.changes
    if args.source:
        table = _focus(table, args.source)
    notes = _notes(cluster) + _notes(other) + list(result.notes)
    if args.format == "connlist":
        _print_diff(table)
        _stderr_notes(notes)
    else:
        emit(table, fmt=args.format, title="connectivity diff (before -> after)", notes=notes)
    return 0


def _check_source(source: str | None, *clusters) -> None:
    """``--from`` must name a workload of the manifests (else an empty answer would hide it)."""
    from k8smodel.netpol.analysis import _names_match

    if source is None:
        return
    refs = pd.Series([w.ref for c in clusters for w in c.workloads], dtype=object)
    if not _names_match(refs, source).any():
        raise ValueError(
            f"source must name a workload as name, ns/name or ns/name[Kind]; got {source!r}"
        )


def _summary_notes(summary: pd.DataFrame) -> list[str]:
    row = summary.iloc[0]
    return [
        f"{row['pods']} pods in {row['workloads']} workloads; "
        f"{row['fraction_pairs_allowed']:.1%} of ordered pod pairs may connect; "
        f"{row['pods_ingress_isolated']} pods isolated for ingress, "
        f"{row['pods_egress_isolated']} for egress"
    ]


def _stderr_notes(notes: list[str]) -> None:
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


def _print_diff(table: pd.DataFrame) -> None:
    """netpol-analyzer's diff text: changed, then added, then removed lines."""
    print("Connectivity diff:")
    for kind in ("changed", "added", "removed"):
        part = table[table["change"] == kind]
        for row in part.itertuples(index=False):
            print(
                f"diff-type: {kind}, source: {row.src}, destination: {row.dst}, "
                f"before: {row.before}, after: {row.after}"
            )

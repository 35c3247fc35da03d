"""``k8smodel study DUMP --out DIR``: every model family on a cluster dump, as one report.

DUMP is what ``kubectl get nodes,pods,svc,endpointslices,ingress,deploy,rs,sts,ds,hpa,pvc,pv,
sc,csinodes,netpol,ns -A -o json`` printed (one file, several, or a folder). The report
(``DIR/report.html``, or ``DIR/study.json`` with ``--format json``) holds per workload the
Service traffic and latency at today's and 2x load, NetworkPolicy exposure, storage, rollout,
autoscaling, balancing and multi-region sections, every assumed value, and each number's method.
The sections' status table is printed.
"""

from __future__ import annotations

import argparse
import sys

from k8smodel._output import emit

__all__ = ["add_commands"]


def add_commands(commands) -> None:
    """Register ``study`` on an argparse subparsers object."""
    p = commands.add_parser(
        "study",
        help="one report of every model on your cluster dump",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "dump", nargs="+", metavar="DUMP", help="kubectl JSON/YAML dump file(s) or folder"
    )
    p.add_argument(
        "--out", required=True, metavar="DIR", help="folder for report.html or study.json"
    )
    p.add_argument("--format", choices=("html", "json"), default="html")
    p.add_argument(
        "--utilization",
        type=float,
        default=0.4,
        help="mean busy fraction of a serving pod today (default 0.4)",
    )
    p.add_argument(
        "--mean-service-s", type=float, default=0.02, help="mean request service time (s)"
    )
    p.add_argument("--window-s", type=float, default=3600.0, help="maintenance window (s)")
    p.add_argument("--replications", type=int, default=64, help="replications of simulations")
    p.add_argument("--max-workloads", type=int, default=20, help="largest workloads studied")
    p.add_argument("--seed", type=int, default=20261130)
    p.add_argument("--max-bytes", type=int, default=None, help="largest dump file read (bytes)")
    p.set_defaults(handler=_run)


def _run(args) -> int:
    from k8smodel.cluster import read_dump
    from k8smodel.manifests import DEFAULT_MAX_BYTES
    from k8smodel.studies.cluster_report import write_html, write_json
    from k8smodel.studies.cluster_study import cluster_study

    try:
        inv = read_dump(*args.dump, max_bytes=args.max_bytes or DEFAULT_MAX_BYTES)
        study = cluster_study(
            inv,
            max_workloads=args.max_workloads,
            utilization_today=args.utilization,
            mean_service_s=args.mean_service_s,
            window_s=args.window_s,
            replications=args.replications,
            seed=args.seed,
        )
    except (TypeError, ValueError) as err:
        print(f"k8smodel study: {err}", file=sys.stderr)
        return 2
    path = write_json(study, args.out) if args.format == "json" else write_html(study, args.out)
    emit(study.summary.drop(columns=["message"]), title=f"wrote {path}", fmt="table")
    return 0

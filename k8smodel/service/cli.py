"""``k8smodel service``: how a Service's settings spread its traffic.

Describe the Service with options (or read it with ``--from FILE`` from Service,
EndpointSlice and Node objects), pick the layout (zones x nodes x pods per node), and get
the exact shares (default) or a simulation (``--simulate``). ``--show`` picks the table:
the summary row, or the per-pod, per-node or per-zone table.
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from k8smodel._output import add_format_option, emit
from k8smodel.result import Result
from k8smodel.service.spec import (
    AFFINITIES,
    DEFAULT_AFFINITY_TIMEOUT_S,
    LB_MODES,
    SERVICE_TYPES,
    TRAFFIC_DISTRIBUTIONS,
    TRAFFIC_POLICIES,
    Layout,
    Service,
)

__all__ = ["add_commands"]

_TABLES = ("summary", "pods", "nodes", "zones")


def _counts(text: str) -> int | list[int]:
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"pods-per-node must be a count or comma-separated counts; got {text!r}"
        ) from None
    return values[0] if len(values) == 1 else values


def add_commands(commands) -> None:
    """Register ``service`` on an argparse subparsers object."""
    p = commands.add_parser(
        "service",
        help="per-pod shares, cross-zone traffic and extra hops of a Service's settings",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--from", dest="manifest", metavar="FILE", help="Service/EndpointSlice/Node YAML or JSON"
    )
    p.add_argument("--service", metavar="NAME", help="which Service in FILE")
    p.add_argument("--type", choices=SERVICE_TYPES, default="ClusterIP")
    p.add_argument(
        "--etp", choices=TRAFFIC_POLICIES, default="Cluster", help="externalTrafficPolicy"
    )
    p.add_argument(
        "--itp", choices=TRAFFIC_POLICIES, default="Cluster", help="internalTrafficPolicy"
    )
    p.add_argument("--affinity", choices=AFFINITIES, default="None", help="sessionAffinity")
    p.add_argument("--affinity-timeout-s", type=float, default=DEFAULT_AFFINITY_TIMEOUT_S)
    p.add_argument("--traffic-distribution", choices=TRAFFIC_DISTRIBUTIONS, default=None)
    p.add_argument("--topology-mode", default=None, help="the topology-mode annotation, e.g. Auto")
    p.add_argument("--lb-mode", choices=LB_MODES, default="nodes", help="LB targets nodes or pods")
    p.add_argument("--zones", type=int, default=3)
    p.add_argument("--nodes-per-zone", type=int, default=2)
    p.add_argument("--pods-per-node", type=_counts, default=1, help="a count, or counts like 2,1,0")
    p.add_argument("--cpu", type=float, default=4.0, help="allocatable cores per node")
    p.add_argument("--source", choices=("external", "internal"), default=None)
    p.add_argument("--fail-zone", action="append", default=[], metavar="ZONE")
    p.add_argument("--fail-node", action="append", default=[], metavar="NODE")
    p.add_argument("--rate", type=float, default=100.0, help="requests per second")
    p.add_argument("--mean-service-s", type=float, default=0.02)
    p.add_argument("--concurrency", type=int, default=1, help="requests a pod serves at once")
    p.add_argument("--bytes-per-request", type=float, default=10_000.0)
    p.add_argument("--usd-per-gb", type=float, default=0.01, help="inter-zone price per GB")
    p.add_argument("--simulate", action="store_true", help="simulate instead of the exact shares")
    p.add_argument("--connections", type=int, default=20_000)
    p.add_argument("--clients", type=int, default=None, help="distinct client IPs (affinity)")
    p.add_argument("--requests-per-connection", type=float, default=1.0)
    p.add_argument("--replications", type=int, default=8)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--show", choices=_TABLES, default="summary")
    add_format_option(p)
    p.set_defaults(handler=_run)


def _spec(args) -> tuple[Service, Layout, list[str]]:
    if args.manifest:
        from k8smodel.service.manifest import from_manifest

        read = from_manifest(args.manifest, service=args.service)
        return read.service, read.layout, [f"skipped: {s}" for s in read.skipped]
    service = Service(
        type=args.type,
        external_traffic_policy=args.etp,
        internal_traffic_policy=args.itp,
        session_affinity=args.affinity,
        affinity_timeout_s=args.affinity_timeout_s,
        traffic_distribution=args.traffic_distribution,
        topology_mode=args.topology_mode,
        lb_mode=args.lb_mode,
    )
    layout = Layout.uniform(
        zones=args.zones,
        nodes_per_zone=args.nodes_per_zone,
        pods_per_node=args.pods_per_node,
        cpu=args.cpu,
    )
    return service, layout, []


def _run(args) -> int:
    from k8smodel.service.simulate import simulate
    from k8smodel.service.theory import theory

    service, layout, notes = _spec(args)
    common = dict(
        source=args.source,
        failed_zones=args.fail_zone,
        failed_nodes=args.fail_node,
        request_rate_per_s=args.rate,
        mean_service_s=args.mean_service_s,
        pod_concurrency=args.concurrency,
        bytes_per_request=args.bytes_per_request,
        usd_per_gb=args.usd_per_gb,
    )
    if args.simulate:
        answer = simulate(
            service,
            layout,
            connections=args.connections,
            replications=args.replications,
            clients=args.clients,
            requests_per_connection=args.requests_per_connection,
            rng=args.seed,
            **common,
        )
    else:
        answer = theory(service, layout, **common)
    notes.append(
        f"assumed: {args.rate:g} req/s, {args.mean_service_s:g} s per request, "
        f"{args.bytes_per_request:g} bytes per request, ${args.usd_per_gb:g}/GB across zones"
    )
    title = f"{service.label}: {len(layout.nodes)} nodes, {len(layout.pods)} pods"
    tables: dict[str, Result | pd.DataFrame] = {
        "summary": answer,
        "pods": answer.per_pod,
        "nodes": answer.per_node,
        "zones": answer.per_zone,
    }
    shown = tables[args.show]
    extra = [] if shown is answer else list(answer.notes)
    emit(shown, fmt=args.format, title=title, notes=notes + extra, out=sys.stdout)
    return 0

"""``k8smodel service``: how a Service's settings spread its traffic.

Describe the Service with options (or read it with ``--from FILE`` from Service,
EndpointSlice and Node objects), pick the layout (zones x nodes x pods per node), and get
the exact shares (default) or a simulation (``--simulate``). ``--show`` picks the table:
the summary row, or the per-pod, per-node or per-zone table.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import Any

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
    # Service and layout options default to None so that, with --from, an option the user
    # gave overrides the manifest (Service settings) or is refused (layout), never ignored.
    p.add_argument("--type", choices=SERVICE_TYPES, default=None, help="default ClusterIP")
    p.add_argument(
        "--etp", choices=TRAFFIC_POLICIES, default=None, help="externalTrafficPolicy (Cluster)"
    )
    p.add_argument(
        "--itp", choices=TRAFFIC_POLICIES, default=None, help="internalTrafficPolicy (Cluster)"
    )
    p.add_argument("--affinity", choices=AFFINITIES, default=None, help="sessionAffinity (None)")
    p.add_argument(
        "--affinity-timeout-s", type=float, default=None, help=f"{DEFAULT_AFFINITY_TIMEOUT_S:g}"
    )
    p.add_argument("--traffic-distribution", choices=TRAFFIC_DISTRIBUTIONS, default=None)
    p.add_argument("--topology-mode", default=None, help="the topology-mode annotation, e.g. Auto")
    p.add_argument("--lb-mode", choices=LB_MODES, default=None, help="LB targets nodes or pods")
    p.add_argument("--zones", type=int, default=None, help="default 3")
    p.add_argument("--nodes-per-zone", type=int, default=None, help="default 2")
    p.add_argument(
        "--pods-per-node", type=_counts, default=None, help="a count, or counts like 2,1,0 (1)"
    )
    p.add_argument("--cpu", type=float, default=None, help="allocatable cores per node (4)")
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


#: CLI option -> Service field; ``None`` means the option was not given.
_SERVICE_OPTIONS = {
    "type": "type",
    "etp": "external_traffic_policy",
    "itp": "internal_traffic_policy",
    "affinity": "session_affinity",
    "affinity_timeout_s": "affinity_timeout_s",
    "traffic_distribution": "traffic_distribution",
    "topology_mode": "topology_mode",
    "lb_mode": "lb_mode",
}
#: Layout options and their defaults; they describe a synthetic layout, not a manifest's.
_LAYOUT_OPTIONS: dict[str, Any] = {"zones": 3, "nodes_per_zone": 2, "pods_per_node": 1, "cpu": 4.0}


def _spec(args) -> tuple[Service, Layout, list[str]]:
    given = {
        field: getattr(args, opt)
        for opt, field in _SERVICE_OPTIONS.items()
        if getattr(args, opt) is not None
    }
    if args.manifest:
        from k8smodel.service.manifest import from_manifest

        layout_given = [o for o in _LAYOUT_OPTIONS if getattr(args, o) is not None]
        if layout_given:
            names = ", ".join("--" + o.replace("_", "-") for o in layout_given)
            raise ValueError(
                f"{names} must be absent with --from (the layout comes from the file); "
                f"got --from {args.manifest}"
            )
        read = from_manifest(args.manifest, service=args.service)
        notes = [f"skipped: {s}" for s in read.skipped]
        if given:
            notes.append("options override the manifest: " + ", ".join(sorted(given)))
        return replace(read.service, **given), read.layout, notes
    service = Service(**given)
    sizes: dict[str, Any] = {
        o: d if getattr(args, o) is None else getattr(args, o) for o, d in _LAYOUT_OPTIONS.items()
    }
    return service, Layout.uniform(**sizes), []


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

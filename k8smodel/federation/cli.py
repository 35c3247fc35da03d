"""``k8smodel federation``: latency, availability and cost of a set of regions, or the best k.

A thin layer over :func:`k8smodel.federation.place` and :func:`k8smodel.federation.evaluate`;
it states every value it assumed (the user population, the provider, the failure model,
the DNS failover settings) beside the numbers.
"""

from __future__ import annotations

import argparse
from typing import Any

from k8smodel._output import add_format_option, emit

_COLUMNS = [
    "clusters",
    "routing",
    "mean_rtt_ms",
    "p50_rtt_ms",
    "p95_rtt_ms",
    "p99_rtt_ms",
    "availability",
    "unavailability",
    "method",
    "failover_worst_s",
    "capacity_multiplier",
]


def _population(args: argparse.Namespace) -> tuple[Any, str]:
    """The user table the options select, and a sentence describing it."""
    from k8smodel import federation as fed

    users = fed.users(
        top=args.top, continent=args.continent, subregion=args.subregion, country=args.country
    )
    picked = [
        f"{label} {', '.join(values)}"
        for label, values in (
            ("continent", args.continent),
            ("sub-region", args.subregion),
            ("country", args.country),
        )
        if values
    ]
    where = " in " + "; ".join(picked) if picked else ""
    top = f", the {args.top} largest" if args.top else ""
    text = (
        f"users: {len(users)} urban agglomerations of >= 4 million people{where}{top} "
        "(UN WUP 2018), weighted by population"
    )
    return users, text


def _percent(availability: float, unavailability: float) -> str:
    """Availability in per cent with enough digits to show its first non-nine."""
    digits = 2
    while unavailability > 0 and 100 * unavailability < 10**-digits and digits < 12:
        digits += 1
    return f"{100 * availability:.{digits + 1}f} %"


def _check_provider(regions: list[str], provider: str) -> None:
    from k8smodel import federation as fed

    catalog = fed.regions(provider=provider)
    known = {n.lower() for n in catalog.region} | {n.lower() for n in catalog.display_name}
    foreign = [r for r in regions if r.lower() not in known]
    if foreign:
        for name in foreign:
            fed.locate(name)  # an unknown name gets the did-you-mean message
        raise ValueError(f"regions {foreign} are not {provider} regions (--provider {provider})")


def _federation(args: argparse.Namespace) -> int:
    from k8smodel import federation as fed

    users, population = _population(args)
    notes = [population]
    clusters = list(args.regions)
    if args.place and clusters:
        raise ValueError("give region names or --place K, not both")
    if args.place:
        provider = args.provider or "aws"
        chosen = fed.place(
            k=args.place,
            candidates=fed.regions(provider=provider),
            users=users,
            objective=args.objective,
            method="optimal",
        )
        clusters = list(chosen.regions or [])
        row = chosen.summary.iloc[0]
        notes.append(
            f"placement: the {args.place} {provider} regions minimising {args.objective} RTT "
            f"({row.method}, proven optimal), chosen from {len(fed.regions(provider))} "
            f"(provider {provider}{'' if args.provider else ', the default'})"
        )
    elif not clusters:
        raise ValueError("give region names, or --place K to choose K regions")
    elif args.provider:
        _check_provider(clusters, args.provider)
    ev = fed.evaluate(
        clusters,
        users=users,
        routing=args.routing,
        cluster_availability=args.cluster_availability,
        correlation=args.correlation,
        needed=args.needed,
        probe_interval_s=args.probe_interval_s,
        failure_threshold=args.failure_threshold,
        ttl_s=args.ttl_s,
        client_cache_s=args.client_cache_s,
    )
    notes.append("RTT: distance model fitted to Azure's P50 inter-region matrix, no access network")
    table = ev.summary[_COLUMNS].assign(availability_model=ev.summary.failure_model)
    if args.format == "table":  # for eyes: 99.99951 %, 4.9e-06, 1.76
        table["availability"] = [
            _percent(a, u) for a, u in zip(table.availability, table.unavailability, strict=True)
        ]
        table["unavailability"] = table.unavailability.map("{:.2g}".format)
        table = table.round(2)
    emit(
        table,
        fmt=args.format,
        title=f"{len(clusters)} cluster(s), {args.routing} routing",
        notes=notes + list(ev.notes),
    )
    return 0


def add_commands(commands: Any) -> None:
    """Register ``federation`` on an argparse subparsers object."""
    from k8smodel.federation.placement import OBJECTIVES
    from k8smodel.federation.spec import DEFAULT_CORRELATION, ROUTING_POLICIES

    fed = commands.add_parser(
        "federation",
        help="latency and availability of a set of regions, or the best K regions",
        description="Score named regions, or choose the best K of a provider's regions.",
    )
    fed.add_argument("regions", nargs="*", help="region names, e.g. us-east-1 eu-west-1")
    fed.add_argument("--place", type=int, metavar="K", help="choose the best K regions instead")
    fed.add_argument(
        "--provider",
        choices=["aws", "gcp", "azure"],
        help="where --place chooses (default aws); with named regions, they must be its own",
    )
    fed.add_argument(
        "--objective", default="mean", choices=list(OBJECTIVES), help="what --place minimises"
    )
    fed.add_argument("--routing", default="nearest", choices=list(ROUTING_POLICIES))
    users = fed.add_argument_group("user population (default: all 113 large agglomerations)")
    users.add_argument("--continent", action="append", help="e.g. Europe (repeatable)")
    users.add_argument("--subregion", action="append", help="UN M49, e.g. 'Western Europe'")
    users.add_argument(
        "--country", action="append", help="as the UN spells it, e.g. 'United States of America'"
    )
    users.add_argument("--top", type=int, help="keep the N most populous")
    fail = fed.add_argument_group("failure model")
    fail.add_argument("--cluster-availability", type=float, default=0.999)
    fail.add_argument(
        "--correlation",
        type=float,
        default=DEFAULT_CORRELATION,
        help=f"pairwise correlation of cluster failures (default {DEFAULT_CORRELATION}; "
        "0 = independent, an optimistic bound)",
    )
    fail.add_argument("--needed", type=int, default=1, help="clusters that must be up")
    dns = fed.add_argument_group("DNS failover")
    dns.add_argument("--probe-interval-s", type=float, default=30.0)
    dns.add_argument("--failure-threshold", type=int, default=3)
    dns.add_argument("--ttl-s", type=float, default=30.0)
    dns.add_argument("--client-cache-s", type=float, default=30.0)
    add_format_option(fed)
    fed.set_defaults(handler=_federation)

"""One study of a user's cluster: every model family applied to the workloads of one dump.

:func:`cluster_study` takes an :class:`~k8smodel.cluster.Inventory` (or the dump's paths) and,
per workload, builds each family's specs from the inventory's objects through the family's
public API, then runs it:

* Service traffic (:func:`k8smodel.service.from_manifest`, :func:`k8smodel.service.theory`)
  and latency (:func:`k8smodel.studies.service_latency.service_latency`) at each load factor;
* reachability exposure (:func:`k8smodel.netpol.from_manifest`, :func:`~k8smodel.netpol.analyze`,
  :func:`~k8smodel.netpol.blast_radius`, default-deny coverage);
* storage, rollout, autoscaling, balancing per pod and multi-region sections from
  :mod:`k8smodel.studies.cluster_sections` (families whose API is changing land there one by one).

Every section is a :class:`Section` holding the family's :class:`k8smodel.Result` unchanged, so
its numbers are exactly what the family returns for the same specs. A section whose family is
missing, or which fails, is kept with its status and message: the study never crashes on one
family. Every assumed value (the dump holds no traffic, timings or prices) is in
:attr:`ClusterStudy.assumptions`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from k8smodel._validate import check_int, check_real
from k8smodel.cluster import Inventory, read_dump
from k8smodel.cluster.inventory import rows
from k8smodel.result import Result

__all__ = [
    "Assumptions",
    "ClusterStudy",
    "NotApplicable",
    "Section",
    "StackedResult",
    "cluster_study",
    "run_section",
]

STATUSES = ("ok", "family missing", "failed", "not applicable")


@dataclass(frozen=True)
class Assumptions:
    """Values the dump does not hold, used by the sections (each one listed in the report).

    Parameters
    ----------
    utilization_today : float
        Mean busy fraction of a serving pod today; sets each Service's request rate as
        ``utilization_today * ready endpoints * pod_concurrency / mean_service_s``.
    load_factors : tuple of float
        Multiples of today's load studied (today and 2x).
    mean_service_s, pod_concurrency, bytes_per_request, usd_per_gb
        Per request: mean service time (exponential), requests a pod serves at once, bytes
        that cross a zone with the request, price of inter-zone transfer (AWS: $0.01/GB).
    window_s : float
        The maintenance window a rollout must fit in (1 h).
    pod_start_s : float
        Mean time for a pod to become ready after creation (image pull + start + probe).
    step_factor : float
        Size of the load step the autoscaling section applies (3x).
    slo_s : float
        Response-time objective of the autoscaling section (p99 back under it = recovered).
    regions : tuple of str
        Regions compared in the multi-region section (first: where the cluster runs).
    node_usd_per_month : float
        Price of one worker node per month (AWS m5.xlarge on demand in us-east-1,
        $0.192/h x 730 h); sets what serving today's load costs in the multi-region section.
    replications : int
        Replications of the simulated sections.
    seed : int
        Seed of every random stream.
    """

    utilization_today: float = 0.4
    load_factors: tuple[float, ...] = (1.0, 2.0)
    mean_service_s: float = 0.02
    pod_concurrency: int = 1
    bytes_per_request: float = 10_000.0
    usd_per_gb: float = 0.01
    window_s: float = 3600.0
    pod_start_s: float = 30.0
    step_factor: float = 3.0
    slo_s: float = 0.25
    regions: tuple[str, ...] = ("us-east-1", "eu-west-1", "ap-southeast-1")
    node_usd_per_month: float = 140.16
    replications: int = 64
    seed: int = 20261130

    def __post_init__(self) -> None:
        check_real(self.utilization_today, "utilization_today", minimum=0, lower_open=True)
        for f in self.load_factors:
            check_real(f, "load_factors", minimum=0, lower_open=True)
        check_real(self.mean_service_s, "mean_service_s", minimum=0, lower_open=True)
        check_int(self.pod_concurrency, "pod_concurrency", minimum=1)
        check_real(self.bytes_per_request, "bytes_per_request", minimum=0)
        check_real(self.usd_per_gb, "usd_per_gb", minimum=0)
        check_real(self.window_s, "window_s", minimum=0, lower_open=True)
        check_real(self.pod_start_s, "pod_start_s", minimum=0)
        check_real(self.step_factor, "step_factor", minimum=1)
        check_real(self.slo_s, "slo_s", minimum=0, lower_open=True)
        check_real(self.node_usd_per_month, "node_usd_per_month", minimum=0)
        check_int(self.replications, "replications", minimum=2)
        check_int(self.seed, "seed", minimum=0)

    def table(self) -> pd.DataFrame:
        """One row per assumed value: ``name, value, meaning``."""
        meaning = {
            "utilization_today": "mean busy fraction of a serving pod today (sets request rates)",
            "load_factors": "multiples of today's load studied",
            "mean_service_s": "mean service time of a request, exponential (s)",
            "pod_concurrency": "requests a pod serves at once",
            "bytes_per_request": "request + response bytes crossing a zone with the request",
            "usd_per_gb": "inter-zone transfer price (USD per GB)",
            "window_s": "maintenance window a rollout must fit in (s)",
            "pod_start_s": "mean time from pod creation to ready (s)",
            "step_factor": "load step applied to autoscaled workloads",
            "slo_s": "response-time objective after the step (s)",
            "regions": "regions of the multi-region comparison (first = today's)",
            "node_usd_per_month": "price of one worker node per month (USD)",
            "replications": "replications of simulated sections",
            "seed": "seed of every random stream",
        }
        return pd.DataFrame(
            [{"name": k, "value": str(getattr(self, k)), "meaning": v} for k, v in meaning.items()]
        )


@dataclass(frozen=True)
class Section:
    """One family's answer for one workload (or ``cluster``)."""

    topic: str
    workload: str
    status: str
    result: Result | None = None
    message: str = ""
    family: str = ""


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class ClusterStudy(Result):
    """The study: ``summary`` has one row per section; the sections hold the families' Results.

    Attributes
    ----------
    sections : tuple of Section
    assumptions : DataFrame
        ``name, value, meaning`` of every assumed value.
    workloads : DataFrame
        The inventory's workloads with their Services, HPA and Ingresses.
    inventory : Inventory
    """

    sections: tuple[Section, ...] = ()
    assumptions: pd.DataFrame = field(default_factory=pd.DataFrame)
    workloads: pd.DataFrame = field(default_factory=pd.DataFrame)
    inventory: Inventory | None = None

    def section(self, topic: str, workload: str) -> Section:
        """The section of ``topic`` for ``workload`` (``ns/name`` or ``cluster``)."""
        for s in self.sections:
            if s.topic == topic and s.workload == workload:
                return s
        raise KeyError(f"no section {topic!r} for {workload!r}")


# --------------------------------------------------------------------------------------------
# Running one section safely


def run_section(
    topic: str, workload: str, family: str, build: Callable[[Any], Result | None]
) -> Section:
    """Import ``family`` and call ``build(module)``; a missing family or a failure is a status.

    ``build`` returns None when the section does not apply to the workload, or raises
    :class:`NotApplicable` with the reason.
    """
    try:
        module = importlib.import_module(f"k8smodel.{family}")
    except ImportError as err:
        return Section(
            topic, workload, "family missing", message=f"k8smodel.{family}: {err}", family=family
        )
    try:
        result = build(module)
    except NotApplicable as why:
        return Section(topic, workload, "not applicable", message=str(why), family=family)
    except AttributeError as err:  # an API that is not (yet) on this version of the family
        return Section(
            topic, workload, "family missing", message=f"{type(err).__name__}: {err}", family=family
        )
    except Exception as err:  # noqa: BLE001 - one family's failure must not stop the study
        return Section(
            topic, workload, "failed", message=f"{type(err).__name__}: {err}", family=family
        )
    if result is None:
        return Section(topic, workload, "not applicable", family=family)
    return Section(topic, workload, "ok", result=result, family=family)


class NotApplicable(Exception):  # noqa: N818 - a status, not an error
    """The section does not apply to this workload (the message says why)."""


# --------------------------------------------------------------------------------------------
# Service traffic and latency


def service_objects(inv: Inventory, namespace: str, service: str) -> list[dict]:
    """Nodes, the Service and its namespace's EndpointSlices, for ``service.from_manifest``."""

    def in_ns(o: Mapping) -> bool:
        return (o.get("metadata") or {}).get("namespace", "default") == namespace

    svc = [o for o in inv.objects_of("Service") if in_ns(o) and o["metadata"]["name"] == service]
    slices = [
        o
        for o in inv.objects_of("EndpointSlice")
        if in_ns(o)
        and (o["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == service
    ]
    return inv.objects_of("Node") + svc + slices


def service_rate_per_s(spec: Any, a: Assumptions) -> float:
    """Today's request rate of a Service: ``utilization_today`` on each ready endpoint."""
    ready = sum(1 for p in spec.layout.pods if p.ready)
    return a.utilization_today * ready * a.pod_concurrency / a.mean_service_s


def service_load_kwargs(a: Assumptions, rate: float) -> dict[str, Any]:
    return {
        "request_rate_per_s": rate,
        "mean_service_s": a.mean_service_s,
        "pod_concurrency": a.pod_concurrency,
        "bytes_per_request": a.bytes_per_request,
        "usd_per_gb": a.usd_per_gb,
    }


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class StackedResult(Result):
    """Several answers of one family (one per load factor) with their summaries stacked.

    ``parts`` are the family's Results unchanged (their per-pod tables, samples, ...).
    """

    parts: tuple[Result, ...] = ()


def _stack(
    results: Sequence[Result], factors: tuple[float, ...], extra: dict | None = None
) -> Result:
    """The families' summaries one below the other with a ``load_factor`` column."""
    summary = pd.concat(
        [r.summary.assign(load_factor=f) for r, f in zip(results, factors, strict=True)],
        ignore_index=True,
    )
    notes = tuple(dict.fromkeys(n for r in results for n in r.notes))
    return StackedResult(
        summary=summary,
        params={"load_factors": factors, **(extra or {})},
        notes=notes,
        parts=tuple(results),
    )


def _traffic_and_latency(inv: Inventory, wl: Any, a: Assumptions, name: str) -> list[Section]:
    """The Service's exact shares at each load factor, then the latency they give."""
    ref = f"{wl.namespace}/{wl.name}"
    answers: list[Result] = []

    def traffic(service: Any) -> Result:
        spec = service.from_manifest(service_objects(inv, wl.namespace, name), service=name)
        rate = service_rate_per_s(spec, a)
        for f in a.load_factors:
            answers.append(
                service.theory(spec.service, spec.layout, **service_load_kwargs(a, rate * f))
            )
        extra = {"service": name, "request_rate_per_s_today": rate}
        return _stack(answers, a.load_factors, extra)

    def latency(studies: Any) -> Result:
        if not answers:
            raise NotApplicable("no traffic answer to build on")
        from k8smodel.studies.service_latency import service_latency

        parts = [service_latency(t) for t in answers]
        return _stack(parts, a.load_factors, {"service": name})

    return [
        run_section(f"service traffic ({name})", ref, "service", traffic),
        run_section(f"latency ({name})", ref, "studies", latency),
    ]


def service_sections(inv: Inventory, wl: Any, a: Assumptions) -> list[Section]:
    """Traffic and latency of each non-headless Service selecting the workload."""
    out = []
    ref = f"{wl.namespace}/{wl.name}"
    for name in wl.services:
        svc = inv.services[(inv.services.namespace == wl.namespace) & (inv.services.name == name)]
        headless = any(
            (o["metadata"]["name"] == name and (o.get("spec") or {}).get("clusterIP") == "None")
            for o in inv.objects_of("Service")
            if (o.get("metadata") or {}).get("namespace") == wl.namespace
        )
        if headless or svc.empty:
            out.append(
                Section(
                    "service traffic",
                    ref,
                    "not applicable",
                    message=f"Service {name} is headless: clients reach pods directly",
                    family="service",
                )
            )
            continue
        out += _traffic_and_latency(inv, wl, a, name)
    return out


# --------------------------------------------------------------------------------------------
# NetworkPolicy exposure


def netpol_objects(inv: Inventory) -> list[dict]:
    """Namespaces, NetworkPolicies, the controllers and the pods no controller owns."""
    owned = {(p.namespace, p.name) for p in rows(inv.pods) if p.workload_kind}
    bare = [
        o
        for o in inv.objects_of("Pod")
        if ((o["metadata"].get("namespace") or "default"), o["metadata"]["name"]) not in owned
    ]
    return (
        inv.objects_of("Namespace", "NetworkPolicy", "Deployment", "StatefulSet", "DaemonSet")
        + bare
    )


def netpol_cluster_section(inv: Inventory, workloads: pd.DataFrame) -> tuple[Section, Any]:
    """The cluster's reachability (``analyze``) and the blast radii of ``workloads``."""
    holder: dict[str, Any] = {}

    def build(netpol: Any) -> Result:
        cluster = netpol.from_manifest(netpol_objects(inv))
        holder["analysis"] = analysis = netpol.analyze(cluster)
        known = set(analysis.isolation["workload"])
        refs = [f"{w.namespace}/{w.name}[{w.kind}]" for w in rows(workloads)]
        holder["blast"] = netpol.blast_radius(analysis, [r for r in refs if r in known])
        return analysis

    return run_section("reachability", "cluster", "netpol", build), holder


def netpol_workload_section(wl: Any, holder: Mapping[str, Any]) -> Section:
    """The workload's blast radius and isolation, read off the cluster's answer."""
    ref = f"{wl.namespace}/{wl.name}"

    def build(netpol: Any) -> Result:
        if "blast" not in holder:
            raise NotApplicable("the cluster's reachability could not be computed")
        wref = f"{wl.namespace}/{wl.name}[{wl.kind}]"
        blast, iso = holder["blast"], holder["analysis"].isolation
        row = blast.summary[blast.summary["source"] == wref].reset_index(drop=True)
        mine = iso[iso["workload"] == wref].reset_index(drop=True)
        if row.empty:
            raise NotApplicable(f"{wref} is not a workload of the NetworkPolicy model")
        for col in ("ingress_isolated", "egress_isolated"):
            row[col] = bool(mine[col].iloc[0]) if len(mine) else False
        return Result(summary=row, params={"workload": wref}, notes=blast.notes)

    return run_section("exposure", ref, "netpol", build)


# --------------------------------------------------------------------------------------------
# The study


def _sections_for(inv: Inventory, wl: Any, a: Assumptions, holder: Mapping) -> list[Section]:
    from k8smodel.studies import cluster_sections as more

    out = service_sections(inv, wl, a)
    out.append(netpol_workload_section(wl, holder))
    for builder in more.SECTION_BUILDERS:
        out += builder(inv, wl, a)
    return out


def _headline(section: Section) -> tuple[str, Any]:
    if section.result is None:
        return "", None
    s = section.result.summary
    return str(s["method"].iloc[0]) if len(s) else "", bool(s["exact"].all()) if len(s) else None


def cluster_study(
    dump: Inventory | Any,
    *,
    assumptions: Assumptions | None = None,
    max_workloads: int = 20,
    **overrides: Any,
) -> ClusterStudy:
    """Run every model family on the workloads of a cluster dump.

    Parameters
    ----------
    dump : Inventory, path or list of paths
        An inventory from :func:`k8smodel.cluster.read_dump`, or what it reads.
    assumptions : Assumptions, optional
        The assumed values; ``overrides`` (e.g. ``utilization_today=0.7``) replace fields.
    max_workloads : int, default 20
        Study at most this many workloads, the largest by pods first (the rest are named in
        the notes); the cluster-wide sections always cover everything.

    Returns
    -------
    ClusterStudy
        ``summary``: ``topic, workload, family, status, method, exact, message``, one row
        per section; ``sections`` hold the families' Results.

    Examples
    --------
    >>> from k8smodel.cluster.example import example_dump
    >>> st = cluster_study(read_dump(example_dump()), max_workloads=2, replications=20)
    >>> st.section("exposure", "shop/web").status
    'ok'
    """
    inv = (
        dump
        if isinstance(dump, Inventory)
        else read_dump(*(dump if isinstance(dump, list | tuple) else [dump]))
    )
    a = replace(assumptions or Assumptions(), **overrides)
    max_workloads = check_int(max_workloads, "max_workloads", minimum=1)
    workloads = inv.workloads()
    ranked = workloads.sort_values(
        ["pods", "namespace", "name"], ascending=[False, True, True], kind="stable"
    )
    chosen = ranked.head(max_workloads)
    from k8smodel.studies import cluster_sections as more

    netpol_section, holder = netpol_cluster_section(inv, chosen)
    sections = [netpol_section] + more.cluster_sections(inv, a)
    for wl in rows(chosen):
        sections += _sections_for(inv, wl, a, holder)
    table = []
    for s in sections:
        method, exact = _headline(s)
        table.append(
            {
                "topic": s.topic,
                "workload": s.workload,
                "family": s.family,
                "status": s.status,
                "method": method,
                "exact": exact,
                "message": s.message,
            }
        )
    notes = [f"{len(inv.skipped)} object(s) of the dump were not used; see inventory.skipped"]
    left = len(workloads) - len(chosen)
    if left:
        notes.append(
            f"{left} smaller workload(s) not studied (max_workloads={max_workloads}): "
            + ", ".join(
                f"{r.namespace}/{r.name}"
                for r in ranked.iloc[max_workloads : max_workloads + 10].itertuples()
            )
            + (" ..." if left > 10 else "")
        )
    for s in sections:
        if s.status in ("family missing", "failed"):
            notes.append(f"{s.topic} / {s.workload}: {s.status}: {s.message}")
    return ClusterStudy(
        summary=pd.DataFrame(
            table, columns=["topic", "workload", "family", "status", "method", "exact", "message"]
        ),
        params={
            "assumptions": a.table().set_index("name")["value"].to_dict(),
            "max_workloads": max_workloads,
            "sources": list(inv.sources),
        },
        notes=tuple(notes),
        sections=tuple(sections),
        assumptions=a.table(),
        workloads=workloads,
        inventory=inv,
    )

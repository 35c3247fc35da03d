"""The study's sections for storage, rollout, autoscaling, balancing and multi-region.

Each builder is one small function calling one family's public API (the API on ``main``
when it was written); it goes through :func:`~k8smodel.studies.cluster_study.run_section`, so a
family that is missing, has changed or fails shows as such in the report instead of stopping
the study.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from k8smodel.cluster import Inventory
from k8smodel.cluster.inventory import rows
from k8smodel.plotting import use_style

__all__ = ["FIGURES", "SECTION_BUILDERS", "cluster_sections", "autoscale_section"]


def _ns_objects(inv: Inventory, kind: str, namespace: str, name: str | None = None) -> list[dict]:
    return [
        o
        for o in inv.objects_of(kind)
        if (o["metadata"].get("namespace") or "default") == namespace
        and (name is None or o["metadata"]["name"] == name)
    ]


def today_rate_per_s(inv: Inventory, wl: Any, a: Any) -> float:
    """Today's requests per second of a workload: ``utilization_today`` on each ready pod.

    The same rule as the Service section (ready pods, not endpoints, when no Service).
    """
    pods = inv.pods
    ready = (
        int(
            (
                (pods.namespace == wl.namespace)
                & (pods.workload == wl.name)
                & (pods.workload_kind == wl.kind)
                & pods.ready
            ).sum()
        )
        if len(pods)
        else 0
    )
    return a.utilization_today * max(ready, 1) * a.pod_concurrency / a.mean_service_s


# --------------------------------------------------------------------------------------------
# Autoscaling


def autoscale_section(inv: Inventory, wl: Any, a: Any) -> list:
    """The HPA's reaction to a ``step_factor`` step of today's load (``autoscale.simulate``)."""
    from k8smodel.studies.cluster_study import NotApplicable, run_section

    if not wl.hpa:
        return []
    ref = f"{wl.namespace}/{wl.name}"

    def build(autoscale: Any):
        hpa = _ns_objects(inv, "HorizontalPodAutoscaler", wl.namespace, wl.hpa)
        spec = autoscale.from_manifest(hpa, name=wl.hpa)
        if wl.pods < 1:
            raise NotApplicable("the workload has no pods in the dump")
        rate = today_rate_per_s(inv, wl, a)
        trace = autoscale.Trace.step(rate, rate * a.step_factor, at_s=60.0, duration_s=960.0)
        return autoscale.simulate(
            spec,
            trace,
            capacity_per_s=a.pod_concurrency / a.mean_service_s,
            pod_concurrency=a.pod_concurrency,
            startup_s=a.pod_start_s,
            slo_s=a.slo_s,
            initial_replicas=int(min(max(wl.pods, spec.min_replicas), spec.max_replicas)),
            replications=a.replications,
            rng=a.seed,
        )

    return [
        run_section(f"autoscaling ({wl.hpa}, {a.step_factor:g}x step)", ref, "autoscale", build)
    ]


def autoscale_figure(study: Any):
    """Replicas and p99 after a step of load, per autoscaled workload."""
    sections = [s for s in study.sections if s.status == "ok" and s.topic.startswith("autoscaling")]
    if not sections:
        return None
    use_style()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 5), sharex=True)
    for s in sections:
        ts = s.result.timeseries
        top.plot(ts["time_s"], ts["replicas"], label=s.workload)
        bottom.plot(ts["time_s"], np.asarray(ts["p99_response_s"]) * 1e3, label=s.workload)
    top.set_ylabel("replicas (mean)")
    bottom.set_ylabel("p99 response (ms)")
    bottom.set_yscale("log")
    bottom.set_xlabel("time (s); the step comes at 60 s")
    top.set_title("Autoscaling reaction to a step of load")
    top.legend()
    return fig


# --------------------------------------------------------------------------------------------
# Rollout


def _controller_object(inv: Inventory, wl: Any) -> dict:
    return _ns_objects(inv, wl.kind, wl.namespace, wl.name)[0]


def rollout_workload(rollout: Any, inv: Inventory, wl: Any, a: Any) -> Any:
    """``rollout.from_manifest`` of the workload's object.

    Start-up: 1 s to schedule and 2 s to start (the family's defaults) plus a gamma warm-up
    making the mean ``pod_start_s``; a DaemonSet's nodes are the dump's Node objects.
    """
    nodes = inv.objects_of("Node") if wl.kind == "DaemonSet" else None
    return rollout.from_manifest(
        _controller_object(inv, wl), nodes=nodes, warmup_mean_s=max(a.pod_start_s - 3.0, 0.0)
    )


def rollout_section(inv: Inventory, wl: Any, a: Any) -> list:
    """Rolling-update time distribution and P(miss the window) (``rollout.simulate``)."""
    from k8smodel.studies.cluster_study import run_section

    ref = f"{wl.namespace}/{wl.name}"

    def build(rollout: Any):
        w = rollout_workload(rollout, inv, wl, a)
        quorum = int(wl.replicas) // 2 + 1 if wl.kind == "StatefulSet" else None
        res = rollout.simulate(
            w.spec,
            "rolling_update",
            w.timing,
            deadline_s=a.window_s,
            quorum=quorum,
            replications=a.replications,
            rng=a.seed,
        )
        return replace(res, notes=(*res.notes, *w.assumed))

    return [run_section("rollout", ref, "rollout", build)]


def rollout_figure(study: Any):
    """Distribution of rolling-update times per workload, against the window."""
    sections = [s for s in study.sections if s.status == "ok" and s.topic == "rollout"]
    if not sections:
        return None
    use_style()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for s in sections:
        samples = getattr(s.result, "samples", None)
        if samples is None:
            continue
        x = np.sort(np.asarray(samples, dtype=float)) / 60
        ax.plot(x, 1 - np.arange(len(x)) / len(x), label=s.workload)
    window = study.assumptions.set_index("name").loc["window_s", "value"]
    ax.axvline(float(window) / 60, color="0.3", ls="--", label="window")
    ax.set_xlabel("rolling update time (min)")
    ax.set_ylabel("P(longer)")
    ax.set_title("How long a rolling update takes")
    ax.legend(fontsize=7)
    return fig


# --------------------------------------------------------------------------------------------
# Balancing by ingress-nginx

#: ingress-nginx ``load-balance`` values -> k8smodel.lb policy names.
INGRESS_POLICIES = {"round_robin": "round_robin", "ewma": "ingress-nginx-ewma"}


def lb_section(inv: Inventory, wl: Any, a: Any) -> list:
    """Per-pod balance behind each Ingress with its method, per load factor (``lb.simulate``)."""
    from k8smodel.studies.cluster_study import NotApplicable, StackedResult, run_section

    out = []
    ref = f"{wl.namespace}/{wl.name}"
    for ingress in wl.ingresses:
        ing = inv.ingresses[
            (inv.ingresses.namespace == wl.namespace) & (inv.ingresses.name == ingress)
        ].iloc[0]

        def build(lb: Any, ing: Any = ing):
            if ing.load_balance not in INGRESS_POLICIES:
                raise NotApplicable(f"load-balance {ing.load_balance!r} is not modelled")
            if wl.pods < 1:
                raise NotApplicable("the workload has no pods in the dump")
            # The controller's pods: each nginx keeps its own balancer state.
            controllers = inv.pods[inv.pods.workload.str.contains("ingress-nginx")]
            factors = tuple(f for f in a.load_factors if a.utilization_today * f < 1)
            parts = [
                lb.simulate(
                    INGRESS_POLICIES[ing.load_balance],
                    pods=int(wl.pods),
                    utilization=a.utilization_today * f,
                    dispatchers=max(len(controllers), 1),
                    service=stats.expon(scale=a.mean_service_s),
                    replications=min(a.replications, 16),
                    requests=50_000,
                    rng=a.seed,
                )
                for f in factors
            ]
            if not parts:
                raise NotApplicable("every load factor offers the pods their capacity or more")
            summary = pd.concat(
                [p.summary.assign(load_factor=f) for p, f in zip(parts, factors, strict=True)],
                ignore_index=True,
            )
            skipped = [f for f in a.load_factors if f not in factors]
            extra = (
                (f"load factors {skipped} offer the pods their capacity or more: not simulated",)
                if skipped
                else ()
            )
            return StackedResult(
                summary=summary,
                params={
                    "ingress": ing["name"],
                    "load_balance": ing.load_balance,
                    "load_balance_source": ing.load_balance_source,
                    "dispatchers": max(len(controllers), 1),
                },
                notes=(
                    f"ingress-nginx load-balance={ing.load_balance} "
                    f"(from the {ing.load_balance_source}); one dispatcher per "
                    "controller pod, each with its own state",
                    *extra,
                ),
                parts=tuple(parts),
            )

        out.append(run_section(f"balancing ({ingress})", ref, "lb", build))
    return out


# --------------------------------------------------------------------------------------------
# Storage


def storage_claims(storage: Any, inv: Inventory) -> Any:
    """The dump's PVs, claims and classes as ``storage.from_manifest`` reads them.

    A StatefulSet's template claim that already exists as a PersistentVolumeClaim is counted
    once: ``from_manifest`` follows the controller, which creates only missing claims.
    """
    m = storage.from_manifest(
        inv.objects_of("PersistentVolume", "PersistentVolumeClaim", "StorageClass", "StatefulSet")
    )
    return m, m.claims


def storage_binding_section(inv: Inventory, a: Any) -> list:
    """Which claims bind and which stay Pending, and why (``storage.bind``)."""
    from k8smodel.studies.cluster_study import NotApplicable, run_section

    def build(storage: Any):
        m, claims = storage_claims(storage, inv)
        if claims.empty:
            raise NotApplicable("the dump holds no PersistentVolumeClaim or claim template")
        return storage.bind(claims, m.volumes, storage_classes=m.storage_classes, rng=a.seed)

    return [run_section("storage: pending claims", "cluster", "storage", build)]


def attach_limit_of(storage: Any, inv: Inventory) -> tuple[int, str]:
    """The smallest CSINode ``allocatable.count`` of the workers, else the driver's table."""
    counts = [c for row in inv.csinodes.get("allocatable_counts", []) for c in row if c == c]
    if counts:
        return int(min(counts)), "CSINode allocatable.count (smallest)"
    types = [t for t in inv.nodes.get("instance_type", []) if t]
    if not types:
        raise ValueError(
            "no CSINode and no node.kubernetes.io/instance-type label: attach limit unknown"
        )
    return int(storage.attach_limit("aws", types[0])), f"storage.attach_limit('aws', {types[0]!r})"


def attach_packing_section(inv: Inventory, a: Any) -> list:
    """Nodes needed by the pods that mount volumes (``storage.pack``).

    Bins are node CPU, capped at the attach limit in volumes.
    """
    from k8smodel.studies.cluster_study import NotApplicable, run_section

    def build(storage: Any):
        pods = inv.pods
        with_claims = pods[pods.claims.map(len) > 0] if len(pods) else pods
        if with_claims.empty:
            raise NotApplicable("no pod mounts a PersistentVolumeClaim")
        workers = inv.nodes[~inv.nodes.control_plane & inv.nodes.cpu_allocatable.notna()]
        if workers.empty:
            raise NotApplicable("no worker node with allocatable CPU")
        # Whole millicores: the unit Kubernetes keeps CPU in, and what the exact solver needs.
        cpu_m = int(round(float(workers.cpu_allocatable.min()) * 1000))
        limit, source = attach_limit_of(storage, inv)
        # One item per mounted claim: a pod's CPU request rides with its first claim.
        sizes = np.concatenate(
            [[round(r.cpu_request * 1000)] + [0] * (len(r.claims) - 1) for r in rows(with_claims)]
        ).astype(np.int64)
        res = storage.pack(sizes, cpu_m, method="optimal", max_items_per_bin=limit)
        notes = (
            *res.notes,
            f"items: pods' CPU requests in millicores, one per mounted claim; "
            f"capacity {cpu_m}m (smallest worker); attach limit {limit} from {source}",
        )
        return type(res)(
            summary=res.summary,
            params={**res.params, "attach_limit_source": source},
            notes=notes,
            assignment=res.assignment,
            sizes=res.sizes,
            bins=res.bins,
            solve_time_s=res.solve_time_s,
        )

    return [run_section("storage: nodes under attach limits", "cluster", "storage", build)]


# --------------------------------------------------------------------------------------------
# Multi-region


def region_sets(inv: Inventory, a: Any) -> list[list[str]]:
    """Today's region (the nodes' region label, else the first assumed), then 2 and 3 regions."""
    labels = [r for r in inv.nodes.get("region", []) if r]
    home = max(set(labels), key=labels.count) if labels else a.regions[0]
    others = [r for r in a.regions if r != home]
    regions = [home, *others]
    return [regions[:k] for k in range(1, min(3, len(regions)) + 1)]


def federation_section(inv: Inventory, a: Any) -> list:
    """What 2-3 regions buy in latency and availability, at what cost (``federation.evaluate``)."""
    from k8smodel.studies.cluster_study import StackedResult, run_section

    def build(federation: Any):
        workers = int((~inv.nodes.control_plane).sum()) if len(inv.nodes) else 0
        capacity_usd = workers * a.node_usd_per_month
        parts = [
            federation.evaluate(regions, capacity_usd=capacity_usd)
            for regions in region_sets(inv, a)
        ]
        summary = pd.concat([p.summary for p in parts], ignore_index=True)
        notes = tuple(dict.fromkeys(n for p in parts for n in p.notes))
        return StackedResult(
            summary=summary,
            params={
                "capacity_usd": capacity_usd,
                "worker_nodes": workers,
                "node_usd_per_month": a.node_usd_per_month,
            },
            notes=(
                *notes,
                f"capacity: {workers} worker nodes x ${a.node_usd_per_month:g}/month serve "
                "the whole load today; users: the project's default world population",
            ),
            parts=tuple(parts),
        )

    return [run_section("multi-region", "cluster", "federation", build)]


def federation_figure(study: Any):
    """Latency, availability and monthly cost of 1, 2 and 3 regions."""
    sections = [s for s in study.sections if s.status == "ok" and s.topic == "multi-region"]
    if not sections:
        return None
    summ = sections[0].result.summary
    use_style()
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
    x = summ["k"].to_numpy()
    axes[0].plot(x, summ["p95_rtt_ms"], "o-", label="p95")
    axes[0].plot(x, summ["p50_rtt_ms"], "s-", label="p50")
    axes[0].set_ylabel("user RTT (ms)")
    axes[0].legend()
    axes[1].semilogy(x, summ["unavailability"], "o-")
    axes[1].set_ylabel("unavailability")
    axes[2].bar(x, summ["total_usd"])
    axes[2].set_ylabel("USD per month")
    for ax in axes:
        ax.set_xlabel("regions")
        ax.set_xticks(x)
    fig.suptitle("What more regions buy, and cost")
    return fig


def cluster_sections(inv: Inventory, a: Any) -> list:
    """Sections about the whole cluster (storage, multi-region)."""
    return (
        storage_binding_section(inv, a)
        + attach_packing_section(inv, a)
        + federation_section(inv, a)
    )


#: Builders called per workload: ``builder(inventory, workload_row, assumptions) -> [Section]``.
SECTION_BUILDERS: list = [rollout_section, autoscale_section, lb_section]

#: Figures of these sections: name -> function(study) -> Figure or None.
FIGURES: dict = {
    "rollout": rollout_figure,
    "autoscale": autoscale_figure,
    "federation": federation_figure,
}

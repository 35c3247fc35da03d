"""Write a cluster study as one self-contained HTML page, or as JSON.

A :class:`~k8smodel.studies.cluster_study.ClusterStudy` becomes one HTML page
(tables, figures embedded as base64 PNG, every assumed value, each number's method) or as JSON.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from k8smodel import __version__
from k8smodel.cluster.inventory import rows
from k8smodel.result import _jsonable

__all__ = ["METHODS", "conclusions", "study_dict", "write_html", "write_json"]

#: What each ``method`` value means (shown beside the numbers it produced).
METHODS = {
    "layered_dispatch": "k8smodel.service.theory: exact flow from entry nodes through kube-proxy's "
    "endpoint selection (traffic policies, topology hints) to pods",
    "mmc_per_pod": "k8smodel.studies.service_latency: each pod an M/M/c queue fed by its Poisson "
    "share "
    "of requests; quantiles of the mixture found by root finding",
    "label_class_boolean_algebra": "k8smodel.netpol.analyze: NetworkPolicy semantics evaluated "
    "exactly "
    "over label-equivalence classes",
    "bfs_over_signatures": "k8smodel.netpol.blast_radius: breadth-first search over allowed "
    "connections",
    "pv_controller": "k8smodel.storage.bind: the PV controller's and scheduler's binding rules",
    "optimal": "k8smodel.storage.pack: exact arc-flow bin packing (optimal when the bound "
    "meets it)",
    "beta_binomial": "k8smodel.federation.evaluate: user RTT from the fitted distance model, "
    "availability with correlated (beta-binomial) cluster failures, list-price costs",
    "simulation": "Monte Carlo simulation (replications in the section's params; _se columns are "
    "standard errors)",
}

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #326ce5}h2{color:#326ce5;margin-top:2em}h3{margin-bottom:.3em}
table{border-collapse:collapse;font-size:.82em;margin:.5em 0 1em}
th,td{border:1px solid #ccd;padding:.2em .5em;text-align:right}th{background:#eef2fb}
td:first-child,th:first-child{text-align:left}.status-ok{color:#1a7f37}
.status-failed,.status-family{color:#b3261e}.note{color:#555;font-size:.85em}
figure{margin:1em 0}img{max-width:100%}code{background:#f4f4f8;padding:0 .2em}
"""


def _table(df: pd.DataFrame, max_rows: int = 60) -> str:
    shown = df.head(max_rows).copy()
    for col in shown.columns:
        if shown[col].map(lambda v: isinstance(v, dict | tuple | list)).any():
            shown[col] = shown[col].map(str)
    text = shown.to_html(index=False, border=0, float_format=lambda x: f"{x:.4g}", na_rep="")
    if len(df) > max_rows:
        text += (
            f"<p class='note'>{len(df) - max_rows} more row(s) not shown (see the JSON output).</p>"
        )
    return text


def _figure_tag(fig: Any, caption: str) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f"<figure><img alt='{html.escape(caption)}' src='data:image/png;base64,{data}'>"
        f"<figcaption class='note'>{html.escape(caption)}</figcaption></figure>"
    )


def _fmt_ms(seconds: float) -> str:
    return "unbounded (overloaded)" if not math.isfinite(seconds) else f"{seconds * 1e3:.1f} ms"


def conclusions(study: Any) -> list[str]:
    """Sentences with the study's main numbers, computed from its sections."""
    out = []
    for s in study.sections:
        if s.status != "ok":
            continue
        summ = s.result.summary
        if s.topic.startswith("latency"):
            parts = [
                f"{_fmt_ms(float(r.p99_response_s))} at {r.load_factor:g}x" for r in rows(summ)
            ]
            out.append(
                f"{s.workload} ({s.result.params['service']}): p99 " + ", ".join(parts) + "."
            )
        elif s.topic.startswith("service traffic"):
            r = summ.iloc[0]
            out.append(
                f"{s.workload} ({s.result.params['service']}): busiest pod gets "
                f"{r.max_share:.0%} of "
                f"requests, {r.fraction_cross_zone:.0%} cross zones "
                f"(${r.cross_zone_usd_per_day:.2f}/day at today's load)."
            )
        elif s.topic == "reachability":
            r = summ.iloc[0]
            out.append(
                f"NetworkPolicies allow {r.fraction_pairs_allowed:.0%} of ordered pod pairs; "
                f"{int(r.pods_ingress_isolated)} of {int(r.pods)} pods are ingress-isolated."
            )
        elif s.topic.startswith("autoscaling"):
            r = summ.iloc[0]
            out.append(
                f"{s.workload}: after a {s.topic.split(', ')[-1].rstrip(')')}, p99 is back under "
                f"{s.result.params['slo_s'] * 1e3:.0f} ms after {r.recovery_s:.0f} s "
                f"(± {r.recovery_s_se:.0f}); peak {r.peak_replicas:.1f} replicas."
            )
        elif s.topic == "rollout":
            r = summ.iloc[0]
            out.append(
                f"{s.workload}: a rolling update takes {r.p50_s / 60:.1f} min (median), "
                f"{r.p99_s / 60:.1f} min at p99; P(miss the {r.deadline_s / 60:.0f}-min window) = "
                f"{r.p_miss_deadline:.3g}."
            )
        elif s.topic.startswith("balancing"):
            p = s.result.params
            parts = (
                [
                    f"max share {r.max_share:.0%}, p99 {_fmt_ms(float(r.p99_response_s))} "
                    f"at {r.load_factor:g}x"
                    for r in rows(summ)
                ]
                if "p99_response_s" in summ
                else []
            )
            out.append(
                f"{s.workload} behind Ingress {p['ingress']} ({p['load_balance']}, from the "
                f"{p['load_balance_source']}): " + "; ".join(parts) + "."
            )
        elif s.topic == "storage: pending claims":
            r = summ.iloc[0]
            reasons = ", ".join(
                f"{c} ({why})"
                for c, why in zip(
                    s.result.pending["claim"], s.result.pending["reason"], strict=True
                )
            )
            out.append(
                f"Storage: {int(r.bound)} claim(s) bound, {int(r.pending)} pending"
                + (f": {reasons}." if reasons else ".")
            )
        elif s.topic == "storage: nodes under attach limits":
            r = summ.iloc[0]
            out.append(
                f"The {int(r['items'])} mounted volume(s) and their pods need "
                f"{int(r.n_bins)} node(s) "
                f"(lower bound {int(r.lower_bound)}) under the attach limit "
                f"{s.result.params['max_items_per_bin']}."
            )
        elif s.topic == "multi-region":
            records = summ.to_dict("records")
            out.append(
                "Regions: "
                + "; ".join(
                    f"{r['clusters']}: p95 RTT {r['p95_rtt_ms']:.0f} ms, "
                    f"unavailability {r['unavailability']:.1e}, "
                    f"${r['total_usd']:,.0f}/month"
                    for r in records
                )
                + "."
            )
        elif "headline" in s.result.params:
            out.append(f"{s.workload}: {s.result.params['headline']}")
    return out


def study_dict(study: Any) -> dict:
    """A JSON-ready view: status table, sections with their Results, inventory, assumptions."""
    inv = study.inventory
    return {
        "k8smodel_version": __version__,
        "summary": _jsonable(study.summary.to_dict(orient="records")),
        "notes": list(study.notes),
        "assumptions": _jsonable(study.assumptions.to_dict(orient="records")),
        "conclusions": conclusions(study),
        "sections": [
            {
                "topic": s.topic,
                "workload": s.workload,
                "family": s.family,
                "status": s.status,
                "message": s.message,
                "result": s.result.to_dict() if s.result is not None else None,
            }
            for s in study.sections
        ],
        "inventory": {
            "sources": list(inv.sources),
            "counts": _jsonable(inv.counts().to_dict(orient="records")),
            "skipped": _jsonable(inv.skipped.to_dict(orient="records")),
        },
        "methods": {m: METHODS.get(m, "") for m in sorted(set(study.summary["method"]) - {""})},
    }


def write_json(study: Any, out_dir: str | Path) -> Path:
    """Write ``study.json`` in ``out_dir``; return its path."""
    path = Path(out_dir) / "study.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(study_dict(study), indent=1, allow_nan=False) + "\n")
    return path


def _section_html(s: Any) -> str:
    head = f"<h3>{html.escape(s.topic)} <small>({html.escape(s.family)})</small></h3>"
    if s.result is None:
        cls = "status-" + s.status.split()[0]
        return head + f"<p class='{cls}'>{html.escape(s.status)}: {html.escape(s.message)}</p>"
    methods = sorted(set(s.result.summary["method"]))
    how = "; ".join(
        f"<code>{html.escape(m)}</code>: {html.escape(METHODS.get(m, 'see the family docs'))}"
        for m in methods
    )
    exact = "exact" if bool(s.result.summary["exact"].all()) else "estimate"
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in s.result.notes)
    return (
        head
        + f"<p class='note'>method: {how} ({exact})</p>"
        + _table(s.result.summary)
        + (f"<ul class='note'>{notes}</ul>" if notes else "")
    )


def write_html(study: Any, out_dir: str | Path, *, figures: dict | None = None) -> Path:
    """Write ``report.html`` in ``out_dir`` (self-contained); return its path."""
    from k8smodel.studies import cluster_figures, cluster_sections

    figures = figures or {**cluster_figures.FIGURES, **cluster_sections.FIGURES}
    inv = study.inventory
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>Cluster study</title>"
        f"<style>{_CSS}</style></head><body><h1>Cluster study</h1>",
        f"<p class='note'>k8smodel {html.escape(__version__)}; dump: "
        f"{html.escape(', '.join(inv.sources))}</p>",
    ]
    parts.append(
        "<h2>Conclusions</h2><ul>"
        + "".join(f"<li>{html.escape(c)}</li>" for c in conclusions(study))
        + "</ul>"
    )
    if study.notes:
        parts.append(
            "<ul class='note'>"
            + "".join(f"<li>{html.escape(n)}</li>" for n in study.notes)
            + "</ul>"
        )
    parts.append("<h2>Figures</h2>")
    for name, make in figures.items():
        fig = make(study)
        if fig is not None:
            parts.append(_figure_tag(fig, (make.__doc__ or name).strip().splitlines()[0]))
    parts.append(
        "<h2>Assumed values</h2><p>The dump holds no traffic, timings or prices; "
        "these values stand in for them (change them with the command's options).</p>"
    )
    parts.append(_table(study.assumptions))
    parts.append("<h2>Sections</h2>" + _table(study.summary.drop(columns=["message"])))
    by_workload: dict[str, list] = {}
    for s in study.sections:
        by_workload.setdefault(s.workload, []).append(s)
    for workload, sections in by_workload.items():
        parts.append(
            f"<h2>{html.escape(workload)}</h2>" + "".join(_section_html(s) for s in sections)
        )
    parts.append(
        "<h2>Inventory</h2>"
        + _table(inv.counts())
        + _table(study.workloads.drop(columns=["template_labels"]))
    )
    parts.append(
        "<h3>Objects not used</h3>" + (_table(inv.skipped) if len(inv.skipped) else "<p>none</p>")
    )
    parts.append(
        "<h2>Methods</h2><ul>"
        + "".join(
            f"<li><code>{html.escape(m)}</code>: "
            f"{html.escape(METHODS.get(m, 'see the family docs'))}</li>"
            for m in sorted(set(study.summary["method"]) - {""})
        )
        + "</ul></body></html>"
    )
    path = Path(out_dir) / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts))
    return path

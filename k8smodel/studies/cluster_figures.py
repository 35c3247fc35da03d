"""Figures of a :class:`~k8smodel.studies.cluster_study.ClusterStudy`, in the house style.

Each function returns a matplotlib Figure (or None when the study has nothing to draw); the
notebook shows them inline and :mod:`k8smodel.studies.cluster_report` embeds them in the HTML.
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from k8smodel.plotting import use_style

__all__ = ["FIGURES", "exposure_figure", "latency_figure", "shares_figure"]


def _ok(study: Any, prefix: str) -> list:
    return [s for s in study.sections if s.status == "ok" and s.topic.startswith(prefix)]


def shares_figure(study: Any, max_panels: int = 4):
    """Per-pod share of requests of each Service at today's load, coloured by zone."""
    sections = _ok(study, "service traffic")[:max_panels]
    if not sections:
        return None
    use_style()
    fig, axes = plt.subplots(1, len(sections), figsize=(3.2 * len(sections), 3.6), squeeze=False)
    zones = sorted({z for s in sections for z in s.result.parts[0].per_pod["zone"]})
    colors = {z: f"C{i}" for i, z in enumerate(zones)}  # one colour per zone in every panel
    for ax, s in zip(axes[0], sections, strict=True):
        pods = s.result.parts[0].per_pod
        shares = pods["share_requests"].to_numpy()
        ax.bar(np.arange(len(pods)), shares, color=[colors[z] for z in pods["zone"]])
        ax.axhline(1 / max(len(pods), 1), color="0.3", lw=1, ls="--")
        ax.set_ylim(0, 1.15 * max(float(shares.max(initial=0)), 1 / max(len(pods), 1)))
        ax.set_title(f"{s.workload}\n{s.result.params['service']}", fontsize=9)
        ax.set_xlabel("pod")
        ax.set_xticks([])
    handles: list[Any] = [plt.Rectangle((0, 0), 1, 1, color=colors[z]) for z in zones]
    handles.append(plt.Line2D([], [], color="0.3", lw=1, ls="--"))
    fig.legend(
        handles,
        [*zones, "equal share"],
        loc="lower center",
        ncol=len(zones) + 1,
        bbox_to_anchor=(0.5, -0.08),
    )
    axes[0][0].set_ylabel("share of requests")
    fig.suptitle("Where each Service's requests go (today's load)")
    return fig


def latency_figure(study: Any):
    """p99 response time per Service at each load factor (overloaded pods drawn at the top)."""
    sections = _ok(study, "latency")
    if not sections:
        return None
    use_style()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    factors = sorted({f for s in sections for f in s.result.summary["load_factor"]})
    width = 0.8 / len(factors)
    finite = [v for s in sections for v in s.result.summary["p99_response_s"] if math.isfinite(v)]
    top = 2 * max(finite) * 1e3 if finite else 1.0
    for k, f in enumerate(factors):
        values = []
        for s in sections:
            row = s.result.summary[s.result.summary["load_factor"] == f]
            v = float(row["p99_response_s"].iloc[0]) * 1e3 if len(row) else float("nan")
            values.append(v)
        x = np.arange(len(sections)) + k * width
        shown = [min(v, top) for v in values]
        bars = ax.bar(x, shown, width, label=f"{f:g}x load")
        for bar, v in zip(bars, values, strict=True):
            if not math.isfinite(v):
                bar.set_hatch("//")
                ax.annotate(
                    "overloaded",
                    (bar.get_x() + bar.get_width() / 2, top),
                    ha="center",
                    va="bottom",
                    fontsize=7,
                    rotation=90,
                )
    ax.set_xticks(np.arange(len(sections)) + width * (len(factors) - 1) / 2)
    # The workload's name without its namespace, and the Service below it: long names overlap.
    ax.set_xticklabels(
        [f"{s.workload.split('/')[-1]}\n({s.result.params['service']})" for s in sections],
        fontsize=7,
        rotation=20,
        ha="right",
    )
    ax.set_ylabel("p99 response (ms)")
    ax.set_title("p99 response time, M/M/c per pod")
    overloaded = any(
        not math.isfinite(v) for s in sections for v in s.result.summary["p99_response_s"]
    )
    ax.set_ylim(0, top * 1.1 if overloaded else top * 0.65)  # room for the legend above the bars
    ax.legend(loc="upper left", ncols=len(factors), frameon=False)
    return fig


def exposure_figure(study: Any):
    """Fraction of the other pods a compromised pod of each workload can reach."""
    sections = _ok(study, "exposure")
    if not sections:
        return None
    use_style()
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(sections) + 1.2))
    values = [float(s.result.summary["fraction_reachable"].iloc[0]) for s in sections]
    isolated = [bool(s.result.summary["ingress_isolated"].iloc[0]) for s in sections]
    y = np.arange(len(sections))
    ax.barh(y, values, color=["C2" if i else "C1" for i in isolated])
    ax.set_yticks(y)
    ax.set_yticklabels([s.workload for s in sections], fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("fraction of other pods reachable, transitively")
    ax.set_title("Blast radius (green: ingress isolated by a NetworkPolicy)")
    return fig


#: name -> figure function, in report order (cluster_sections adds its own).
FIGURES = {
    "shares": shares_figure,
    "latency": latency_figure,
    "exposure": exposure_figure,
}

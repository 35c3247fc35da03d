"""``k8smodel validate``: measure nginx and HAProxy, compare with ``k8smodel.lb``, write a CSV."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from k8smodel.lab.balancers import BalancerUnavailable, find_binary
from k8smodel.lab.compare import COMPARISON_COLUMNS, compare_with_model, plot_comparison
from k8smodel.lab.harness import run_validation

__all__ = [
    "validate",
    "validate_ewma",
    "validation_record",
    "measured_part",
    "QUICK",
    "FULL",
    "EWMA_QUICK",
    "EWMA_FULL",
]

#: Settings of a quick run (about a minute) and of the full run behind data/lab_validation.csv.
QUICK: dict[str, Any] = {"utilizations": (0.7,), "requests": 400, "calibration_requests": 100}
FULL: dict[str, Any] = {"utilizations": (0.5, 0.8), "requests": 3000, "calibration_requests": 300}


def validation_record(measured: pd.DataFrame, comparison: pd.DataFrame | None) -> pd.DataFrame:
    """One table of a validation run: the comparison, then the measured columns it lacks.

    Without a comparison (``k8smodel.lb`` unavailable) the measured rows alone.

    Parameters
    ----------
    measured : pandas.DataFrame
        Rows of :func:`k8smodel.lab.run_validation`.
    comparison : pandas.DataFrame or None
        Rows of :func:`k8smodel.lab.compare_with_model` for the same cases, in order.

    Returns
    -------
    pandas.DataFrame
        One row per (case, utilization), as stored in ``data/lab_validation.csv``.
    """
    if comparison is None:
        return measured
    keep = [c for c in measured.columns if c not in comparison.columns]
    return pd.concat(
        [comparison.reset_index(drop=True), measured[keep].reset_index(drop=True)], axis=1
    )


def measured_part(record: pd.DataFrame) -> pd.DataFrame:
    """The measured columns of a stored validation record (the inverse of ``validation_record``).

    Use it to redo the comparison of a stored run without new traffic, for example after the
    model changed: ``compare_with_model(measured_part(pd.read_csv(path)))``.

    Parameters
    ----------
    record : pandas.DataFrame
        A stored record (:func:`validation_record`, e.g. ``data/lab_validation.csv``).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`k8smodel.lab.run_validation`: the comparison's derived
        columns (predictions, errors, verdicts) removed.
    """
    keep = {"case", "balancer", "policy", "workers", "zone", "pods", "utilization"}
    keep |= {"utilization_realized", "overhead_mean_ms"}
    derived = (set(COMPARISON_COLUMNS) - keep) | {
        c for c in record.columns if c.startswith("predicted_")
    }
    return record[[c for c in record.columns if c not in derived]]


#: Settings of the EWMA runs (ingress-nginx's real balancer/ewma.lua), quick and full.
EWMA_QUICK: dict[str, Any] = {"utilizations": (0.8,), "workers": (1,), "requests": 600}
EWMA_FULL: dict[str, Any] = {"utilizations": (0.5, 0.8), "workers": (1, 4), "requests": 3000}


def validate_ewma(ingress_nginx: Path, *, quick: bool = False, out: Path | None = None,
                  seed: int = 20261127, commit: str | None = None) -> int:  # fmt: skip
    """Run ingress-nginx's real ewma balancer, compare with the model, write a CSV.

    0: done; 2: nginx's Lua module missing or ``ingress_nginx`` holds no ewma.lua;
    1: the run failed.
    """
    from k8smodel.lab.balancers import BalancerUnavailable
    from k8smodel.lab.ewma import ingress_nginx_lua_dir, lua_module_path
    from k8smodel.lab.ewma_validation import compare_ewma, run_ewma_validation

    try:
        ingress_nginx_lua_dir(ingress_nginx)
        lua_module_path()
    except (BalancerUnavailable, ValueError) as exc:
        print(f"k8smodel validate: EWMA cases skipped: {exc}", file=sys.stderr)
        return 2
    if out is None:
        out = Path(
            "build/lab_validation_ewma_quick.csv" if quick else "data/lab_validation_ewma.csv"
        )
    try:
        measured = run_ewma_validation(
            ingress_nginx,
            commit=commit,
            rng=seed,
            progress=print,
            **(EWMA_QUICK if quick else EWMA_FULL),
        )
    except (RuntimeError, OSError) as exc:
        print(f"k8smodel validate: {exc}", file=sys.stderr)
        return 1
    record = compare_ewma(measured, rng=seed + 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    record.to_csv(out, index=False, float_format="%.6g")
    print(f"wrote {out}")
    for _, r in record.iterrows():
        print(
            f"{r['case']:<22} rho={r['utilization']:.2f}  mean {r['measured_mean_ms']:.0f} ms "
            f"measured vs {r['predicted_mean_ms']:.0f} ms predicted "
            f"(95 % run range {r['predicted_mean_lo_ms']:.0f}..{r['predicted_mean_hi_ms']:.0f})"
        )
    return 0


def validate(
    *,
    quick: bool = False,
    out: Path | None = None,
    seed: int = 20261127,
    ingress_nginx: Path | None = None,
    ewma_only: bool = False,
    ingress_nginx_commit: str | None = None,
) -> int:
    """Run the validation and report; return the exit status.

    0: done (verdicts printed); 2: nginx or HAProxy missing (nothing was started), or
    ``ewma_only`` without ``ingress_nginx``; 1: the run failed. With ``ingress_nginx`` (a
    kubernetes/ingress-nginx checkout) the EWMA cases run too (:func:`validate_ewma`);
    without it they are skipped with a message; with ``ewma_only`` only they run, and ``out``
    names their CSV. ``ingress_nginx_commit`` is recorded with
    the EWMA rows (default: ``git rev-parse HEAD`` in the checkout).
    """
    skipped = (
        "EWMA cases skipped: pass --ingress-nginx PATH (make validate INGRESS_NGINX=PATH), a "
        "kubernetes/ingress-nginx checkout, to run its real balancer/ewma.lua"
    )
    if ewma_only:
        if ingress_nginx is None:
            print(f"k8smodel validate: {skipped}", file=sys.stderr)
            return 2
        return validate_ewma(
            ingress_nginx, quick=quick, out=out, seed=seed, commit=ingress_nginx_commit
        )
    status = _validate_standard(quick=quick, out=out, seed=seed)
    if ingress_nginx is None:
        print(f"k8smodel validate: {skipped}")
        return status
    ewma = validate_ewma(ingress_nginx, quick=quick, seed=seed, commit=ingress_nginx_commit)
    return max(status, ewma)


def _validate_standard(*, quick: bool, out: Path | None, seed: int) -> int:
    missing = []
    for kind in ("nginx", "haproxy"):
        try:
            find_binary(kind)
        except BalancerUnavailable as exc:
            missing.append(str(exc))
    if missing:
        print("k8smodel validate: " + "\n".join(missing), file=sys.stderr)
        return 2
    settings = QUICK if quick else FULL
    if out is None:
        out = Path("build/lab_validation_quick.csv" if quick else "data/lab_validation.csv")
    try:
        measured = run_validation(rng=seed, progress=print, **settings)
    except (RuntimeError, OSError) as exc:
        print(f"k8smodel validate: {exc}", file=sys.stderr)
        return 1
    comparison = None
    try:
        comparison = compare_with_model(measured, rng=seed + 1)
    except (ImportError, AttributeError) as exc:
        print(f"k8smodel validate: k8smodel.lb is not available ({exc}); measured only")
    record = validation_record(measured, comparison)
    out.parent.mkdir(parents=True, exist_ok=True)
    record.to_csv(out, index=False, float_format="%.6g")
    print(f"wrote {out}")
    if comparison is not None:
        from k8smodel import plotting

        # Figures go where `make reproduce` puts them unless the caller chose a folder.
        os.environ.setdefault(plotting.FIGURES_ENV, "build/figures/lab")
        plotting.use_style()
        fig = plot_comparison(comparison)
        plotting.savefig(fig, "lab_validation")
        print(f"wrote {plotting.figures_dir() / 'lab_validation'}.svg and .png")
        for _, row in comparison.iterrows():
            print(f"{row['case']:<28} rho={row['utilization']:.2f}  {row['verdict']}")
    return 0

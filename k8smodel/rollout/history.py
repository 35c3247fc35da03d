"""Pod timing fitted from the cluster's own history: a ``kubectl get pods -o json`` dump.

:func:`fit_timing` reads, for every pod, ``metadata.creationTimestamp`` and the
``lastTransitionTime`` of the ``PodScheduled``, ``Initialized``, ``ContainersReady`` and
``Ready`` conditions, and the containers' ``restartCount``, and turns them into laws for
:class:`~k8smodel.rollout.PodTiming`:

* ``schedule`` = PodScheduled - creation (scheduler latency);
* ``attach`` = Initialized - PodScheduled (volume attach and mount, init containers);
* ``warmup`` = ContainersReady - Initialized: image pull, container start, warm-up and the
  wait for a passing readiness probe, which a dump cannot tell apart. The timing therefore
  uses a 1 s probe grid (the timestamps' resolution) instead of the real probe period, so the
  probe wait is not counted twice.
* ``failure_p`` from restarts: if a start crashes with probability ``p``, the number of
  crashes is geometric with mean ``p / (1 - p)``, so ``p = r / (1 + r)`` with ``r`` the mean
  restart count (the maximum-likelihood estimate). Pods that restarted are left out of the
  ``warmup`` fit (their time includes back-off, which the model adds itself).

Timestamps have a resolution of one second, so a recorded duration ``k`` stands for a true
one in ``(k - 1, k + 1)`` with mean ``k``: laws are fitted to the recorded values (a recorded 0
as 0.5 s) and judged against the recorded data through :func:`observed_cdf`. The termination
time cannot be seen in a dump (deleted pods are gone) and keeps its default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import scipy.stats as st

from k8smodel._validate import check_choice, check_real
from k8smodel.result import Result
from k8smodel.rollout.manifest import load_objects
from k8smodel.rollout.spec import PodTiming

__all__ = ["FitResult", "fit_timing", "pod_phase_durations", "observed_cdf", "FAMILIES"]

#: Parametric families tried (support on [0, inf), location fixed at 0).
FAMILIES = ("lognorm", "gamma", "weibull_min")
_CONDITIONS = ("PodScheduled", "Initialized", "ContainersReady", "Ready")


def _time(text: Any, where: str) -> float:
    if not isinstance(text, str):
        raise ValueError(
            f"{where} must be an RFC 3339 time like '2026-11-30T12:00:00Z'; got {text!r}"
        )
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def pod_phase_durations(pods: Any) -> pd.DataFrame:
    """Per-pod phase durations (seconds) from a ``kubectl get pods -o json`` dump.

    Parameters
    ----------
    pods : mapping, str or pathlib.Path
        The dump (a ``List`` of Pods), a path to it, or its text.

    Returns
    -------
    pandas.DataFrame
        One row per pod that reached Ready: ``pod``, ``schedule_s``, ``attach_s``,
        ``warmup_s``, ``gates_s`` (Ready - ContainersReady, readiness gates) and
        ``restarts``. Pods without those conditions (still pending) are left out.
    """
    rows = []
    for obj in load_objects(pods):
        if obj.get("kind", "Pod") != "Pod":
            continue
        meta = obj.get("metadata") or {}
        name = f"Pod {meta.get('namespace', 'default')}/{meta.get('name', '<unnamed>')}"
        times = {}
        for cond in (obj.get("status") or {}).get("conditions") or []:
            if cond.get("type") in _CONDITIONS and cond.get("status") == "True":
                times[cond["type"]] = _time(
                    cond.get("lastTransitionTime"),
                    f"{name}: status.conditions[{cond['type']}].lastTransitionTime",
                )
        if len(times) < len(_CONDITIONS):
            continue
        created = _time(meta.get("creationTimestamp"), f"{name}: metadata.creationTimestamp")
        statuses = (obj.get("status") or {}).get("containerStatuses") or []
        rows.append(
            {
                "pod": name,
                "schedule_s": times["PodScheduled"] - created,
                "attach_s": times["Initialized"] - times["PodScheduled"],
                "warmup_s": times["ContainersReady"] - times["Initialized"],
                "gates_s": times["Ready"] - times["ContainersReady"],
                "restarts": int(sum(int(s.get("restartCount") or 0) for s in statuses)),
            }
        )
    columns = ["pod", "schedule_s", "attach_s", "warmup_s", "gates_s", "restarts"]
    table = pd.DataFrame(rows, columns=columns)
    bad = table[(table[columns[1:5]] < 0).any(axis=1)]
    if not bad.empty:
        raise ValueError(f"{bad.pod.iloc[0]}: its conditions are out of order (a negative phase)")
    return table


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class FitResult(Result):
    """What :func:`fit_timing` returns.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per phase: ``phase``, ``pods``, ``mean_s``, ``p50_s``, ``p90_s`` (observed),
        ``law`` (the chosen law), ``ks_statistic`` and ``ks_pvalue`` (Kolmogorov-Smirnov
        distance between the recorded durations' distribution function and the law's, both
        at whole seconds through :func:`observed_cdf`; the p-value is optimistic because the
        parameters were fitted to the same data, and approximate for whole-second data),
        ``method`` and ``exact`` (False).
    timing : PodTiming
        The fitted timing, ready for :func:`k8smodel.rollout.simulate`.
    durations : pandas.DataFrame
        The per-pod phase durations (:func:`pod_phase_durations`).
    candidates : pandas.DataFrame
        Every family tried per phase, with its parameters and KS statistic.
    """

    timing: PodTiming
    durations: pd.DataFrame
    candidates: pd.DataFrame


def observed_cdf(cdf: Any, k: Any) -> Any:
    """P(an observed duration <= k) when the true one has CDF ``cdf``.

    Parameters
    ----------
    cdf : callable
        CDF of the true duration.
    k : array_like
        Whole seconds.

    Returns
    -------
    ndarray
        ``int_k^(k+1) F(s) ds``: a duration ``X`` starting at a uniformly placed instant
        within its second is recorded as ``floor(u + X)`` by two second-resolution
        timestamps, so ``P(obs <= k) = P(u + X < k + 1) = int_0^1 F(k + 1 - u) du``
        (midpoint rule with 32 points).
    """
    u = (np.arange(32) + 0.5) / 32
    k = np.asarray(k, dtype=float)
    return np.mean(cdf(k[..., None] + u), axis=-1)


def _discrete_ks(x: np.ndarray, cdf: Any) -> float:
    k = np.arange(0, int(x.max()) + 1)
    ecdf = np.searchsorted(np.sort(x), k, side="right") / x.size
    return float(np.max(np.abs(ecdf - observed_cdf(cdf, k))))


def _fit_phase(x: np.ndarray, family: str) -> tuple[Any, list[dict[str, Any]]]:
    """The chosen law for one phase and the table of candidates."""
    if np.ptp(x) == 0:
        return float(x[0]), [{"family": "constant", "params": (float(x[0]),), "ks_statistic": 0.0}]
    if family == "empirical":
        # the recorded whole second k stands for a true duration in (k - 1, k + 1), mean k:
        # spread each observation over [k - 1/2, k + 1/2) (clipped at 0)
        edges = np.concatenate([[0.0], np.arange(0.5, float(x.max()) + 1.0)])
        law = st.rv_histogram(np.histogram(x, bins=edges), density=False)()
        ks = _discrete_ks(x, law.cdf)
        return law, [{"family": "empirical", "params": (), "ks_statistic": ks}]
    y = np.where(x > 0, x, 0.5)  # a recorded 0 is a duration under a second
    tried: list[dict[str, Any]] = []
    for name in FAMILIES if family == "best" else (family,):
        dist = getattr(st, name)
        params = tuple(float(p) for p in dist.fit(y, floc=0))
        ks = _discrete_ks(x, dist(*params).cdf)
        tried.append({"family": name, "params": params, "ks_statistic": ks})
    best = min(tried, key=lambda row: row["ks_statistic"])
    return getattr(st, best["family"])(*best["params"]), tried


def fit_timing(
    pods: Any,
    *,
    family: str = "best",
    probe_period_s: float = 1.0,
    min_ready_seconds: float = 0.0,
    termination_grace_s: float = 30.0,
    termination: Any = None,
) -> FitResult:
    """Fit :class:`~k8smodel.rollout.PodTiming` laws to a ``kubectl get pods -o json`` dump.

    Parameters
    ----------
    pods : mapping, str or pathlib.Path
        The dump, a path to it, or its text.
    family : {"best", "empirical", "lognorm", "gamma", "weibull_min"}
        ``"best"`` fits every family in :data:`FAMILIES` by maximum likelihood (location 0)
        and keeps the one with the smallest Kolmogorov-Smirnov statistic; ``"empirical"``
        uses the observed histogram on one-second bins.
    probe_period_s : float
        Probe grid of the fitted timing. The default 1 s matches the timestamps'
        resolution: the observed ``warmup`` already contains the real probe wait.
    min_ready_seconds, termination_grace_s, termination
        Not visible in a pods dump; passed to :class:`~k8smodel.rollout.PodTiming`.

    Returns
    -------
    FitResult
        ``summary`` (one row per phase with the goodness of fit), ``timing``,
        ``durations``, ``candidates``.

    Examples
    --------
    >>> from k8smodel import data_dir, rollout
    >>> fit = rollout.fit_timing(data_dir() / "example_pods.json")
    >>> list(fit.summary.phase)
    ['schedule', 'attach', 'warmup']
    """
    check_choice(family, "family", ("best", "empirical", *FAMILIES))
    check_real(probe_period_s, "probe_period_s", minimum=0, lower_open=True)
    table = pod_phase_durations(pods)
    if len(table) < 2:
        raise ValueError(f"pods must hold at least 2 pods that became Ready; got {len(table)}")
    laws, rows, cands = {}, [], []
    for phase in ("schedule", "attach", "warmup"):
        x = table[f"{phase}_s"].to_numpy(dtype=float)
        if phase == "warmup" and (table.restarts == 0).sum() >= 2:
            x = x[table.restarts.to_numpy() == 0]
        law, tried = _fit_phase(x, family)
        laws[phase] = law
        chosen = min(tried, key=lambda row: row["ks_statistic"])
        p_value = (
            1.0
            if chosen["family"] == "constant"
            else float(st.kstwo.sf(chosen["ks_statistic"], x.size))
        )
        rows.append(
            {
                "phase": phase,
                "pods": int(x.size),
                "mean_s": float(x.mean()),
                "p50_s": float(np.quantile(x, 0.5)),
                "p90_s": float(np.quantile(x, 0.9)),
                "law": chosen["family"],
                "ks_statistic": chosen["ks_statistic"],
                "ks_pvalue": p_value,
                "method": "mle_ks" if family != "empirical" else "empirical",
                "exact": False,
            }
        )
        cands += [{"phase": phase, **row} for row in tried]
    mean_restarts = float(table.restarts.mean())
    failure_p = mean_restarts / (1.0 + mean_restarts)
    timing = PodTiming(
        schedule=laws["schedule"],
        attach=laws["attach"],
        warmup=laws["warmup"],
        probe_period_s=probe_period_s,
        min_ready_seconds=min_ready_seconds,
        termination_grace_s=termination_grace_s,
        termination=termination,
        failure_p=min(failure_p, 0.99),
    )
    notes = (
        f"{len(table)} pods that became Ready; mean restarts {mean_restarts:.3g} -> crash "
        f"probability per start {failure_p:.3g} (geometric maximum likelihood)",
        "warmup holds image pull, container start, warm-up and the readiness-probe wait "
        f"(a dump cannot tell them apart); the timing uses a {probe_period_s:g} s probe grid",
        "termination is not visible in a pods dump: "
        + ("the full grace period is assumed" if termination is None else "as given"),
        "KS p-values are optimistic: the parameters were fitted to the same observations",
    )
    return FitResult(
        summary=pd.DataFrame(rows),
        params={"family": family, "probe_period_s": probe_period_s, "pods": len(table)},
        notes=notes,
        timing=timing,
        durations=table,
        candidates=pd.DataFrame(cands),
    )

"""Measure ingress-nginx's real ewma balancer; compare with ``lb``'s ``ingress-nginx-ewma``.

The ewma score decays over ``DECAY_TIME = 10`` s of wall-clock time, so unlike the other
lab cases the prediction cannot be rescaled from a unit-mean simulation: it simulates the
lab's own service law in seconds (exponential with the pods' measured mean) and a run of
the same length as the measured one (the same number of requests, the same warm-up), since
scores start at 0 and a run of a few thousand requests lasts about as long as the decay.
"""

from __future__ import annotations

import datetime as _dt
import numbers
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from k8smodel._random import RngLike, spawn_seeds
from k8smodel.lab.backends import start_backends
from k8smodel.lab.client import run_client
from k8smodel.lab.ewma import ingress_nginx_lua_dir, lua_module_path, start_ewma_balancer
from k8smodel.lab.harness import calibrate_overhead, machine_description, summarize_requests

__all__ = [
    "EWMA_COLUMNS",
    "compare_ewma",
    "ingress_nginx_commit",
    "lua_versions",
    "predict_ewma",
    "run_ewma_validation",
]

#: Columns of :func:`compare_ewma` (then ``share_i`` and ``predicted_share_i`` per pod).
EWMA_COLUMNS = (
    "case", "workers", "pods", "utilization", "utilization_realized", "requests", "ok", "shed",
    "mean_service_ms", "overhead_mean_ms",
    "measured_mean_ms", "measured_mean_se_ms", "predicted_mean_ms", "predicted_mean_lo_ms",
    "predicted_mean_hi_ms", "mean_error",
    "measured_p95_ms", "predicted_p95_ms", "predicted_p95_lo_ms", "predicted_p95_hi_ms",
    "p95_error",
    "measured_max_share", "predicted_max_share", "predicted_max_share_lo",
    "predicted_max_share_hi",
    "mean_in_range", "p95_in_range", "max_share_in_range",
)  # fmt: skip


def ingress_nginx_commit(path: str | os.PathLike) -> str:
    """The commit of an ingress-nginx checkout (``git rev-parse HEAD``), else ``"unknown"``."""
    try:
        out = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 else "unknown"


def lua_versions() -> str:
    """Debian versions of the nginx Lua module, resty.core and LuaJIT (``dpkg-query``)."""
    names = ["libnginx-mod-http-lua", "lua-resty-core", "lua-resty-lrucache", "libluajit2-5.1-2"]
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Package} ${Version}\\n", *names],
            capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return "; ".join(out.stdout.strip().splitlines()) or "unknown"


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} {five:.2f}"


def _check_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}; got {value!r}")


def run_ewma_validation(
    ingress_nginx: str | os.PathLike,
    *,
    pods: int = 4,
    utilizations=(0.5, 0.8),
    workers=(1, 4),
    requests: int = 3000,
    mean_service_s: float = 0.02,
    calibration_requests: int = 200,
    warmup: float = 0.1,
    commit: str | None = None,
    rng: RngLike = None,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Measure the real ewma balancer at every (workers, utilization); one row each.

    Parameters
    ----------
    ingress_nginx : path
        A kubernetes/ingress-nginx checkout or its ``rootfs/etc/nginx/lua``.
    pods : int, default 4
    utilizations : sequence of float, default (0.5, 0.8)
        Offered load per pod, in (0, 1).
    workers : sequence of int, default (1, 4)
        nginx worker processes.
    requests : int, default 3000
        Requests per run (each run starts a fresh nginx, so scores start at 0).
    mean_service_s : float, default 0.02
        Mean exponential service time of the pods.
    calibration_requests : int, default 200
        Requests of the low-load overhead calibration (plain nginx round robin).
    warmup : float, default 0.1
        Fraction of each run left out of the latency figures.
    commit : str, optional
        ingress-nginx commit to record (default: ``git rev-parse HEAD`` in the checkout).
    rng : int, Generator, SeedSequence or None
    progress : callable, optional
        Called with a line of text after each run.

    Returns
    -------
    pandas.DataFrame
        The figures of :func:`k8smodel.lab.summarize_requests` (``shares`` expanded into
        ``share_i``) with ``case``, ``workers``, ``pods``, ``utilization``, ``rate_per_s``,
        ``utilization_realized``, the overhead calibration, and provenance:
        ``load_before``/``load_after`` (1- and 5-minute load averages), ``date_utc``,
        ``machine``, ``ingress_nginx_commit``, ``lua_versions``.
    """
    lua_dir = ingress_nginx_lua_dir(ingress_nginx)
    lua_module_path()
    _check_int("pods", pods, 1)
    _check_int("requests", requests, 1)
    workers = tuple(workers)
    for w in workers:
        _check_int("workers", w, 1)
    for u in utilizations:
        if isinstance(u, bool) or not isinstance(u, numbers.Real) or not 0 < float(u) < 1:
            raise ValueError(f"utilizations must lie in (0, 1); got {u!r}")
    say = progress or (lambda _line: None)
    seeds = spawn_seeds(rng, 2 + len(workers) * len(utilizations))
    rows = []
    with start_backends(
        pods, mean_service_s=mean_service_s, size=max(2000, 2 * requests), rng=seeds[0]
    ) as be:
        calib = calibrate_overhead("nginx", be, requests=calibration_requests, rng=seeds[1])
        say(f"nginx: overhead {calib['overhead_mean_ms']:.2f} ms at low load")
        k = 2
        for w in workers:
            for u in utilizations:
                rate = u * pods / mean_service_s
                before = _load()
                with start_ewma_balancer(be.ports, ingress_nginx=lua_dir, workers=w) as lb:
                    data = run_client(lb.port, rate_per_s=rate, requests=requests, rng=seeds[k])
                k += 1
                row = summarize_requests(data, pods=pods, warmup=warmup)
                shares = row.pop("shares")
                label = "ingress-nginx ewma" + (f" x{w}" if w > 1 else "")
                rows.append({
                    "case": label, "workers": w, "pods": pods, "utilization": float(u),
                    "rate_per_s": rate,
                    "utilization_realized": rate * row["mean_service_ms"] / 1e3 / pods,
                    **row, **{f"share_{i}": s for i, s in enumerate(shares)}, **calib,
                    "load_before": before, "load_after": _load(),
                })  # fmt: skip
                say(
                    f"{label:<22} rho={u:.2f}  mean {row['mean_ms']:7.1f} ms  "
                    f"p95 {row['p95_ms']:7.1f} ms  max share {row['max_share']:.3f}  "
                    f"ok {row['ok']}/{row['requests']}  load {before}"
                )
    frame = pd.DataFrame(rows)
    frame["mean_service_nominal_ms"] = mean_service_s * 1e3
    frame["warmup"] = warmup
    frame["date_utc"] = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%MZ")
    frame["machine"] = machine_description()
    frame["ingress_nginx_commit"] = commit or ingress_nginx_commit(Path(ingress_nginx))
    frame["lua_versions"] = lua_versions()
    return frame


def predict_ewma(
    *,
    pods: int,
    utilization: float,
    mean_service_s: float,
    requests: int,
    workers: int = 1,
    warmup: float = 0.1,
    replications: int = 40,
    rng: RngLike = None,
) -> dict:
    """``lb.simulate("ingress-nginx-ewma")`` for one lab run, with its run-to-run spread.

    Simulates ``replications`` runs exactly as long as the measured one (``requests``,
    ``warmup``), with exponential service of mean ``mean_service_s`` seconds, so the 10 s
    decay meets the same time scale as in the lab.

    Parameters
    ----------
    pods, utilization, workers
        The lab run (``workers`` nginx workers share the scores: ``dispatchers=workers``
        with the alias's shared state).
    mean_service_s : float
        The pods' measured mean service time, seconds.
    requests : int
        Requests of the measured run.
    warmup : float, default 0.1
    replications : int, default 40
    rng : int, Generator, SeedSequence or None

    Returns
    -------
    dict
        ``mean_s``, ``p95_s``, ``max_share`` (means over replications) and their 2.5 % and
        97.5 % quantiles across replications (``*_lo``, ``*_hi``): the range one measured run
        of this length should fall in; ``shares`` (mean share per pod).
    """
    from scipy import stats

    from k8smodel import lb

    res = lb.simulate(
        "ingress-nginx-ewma", pods=pods, utilization=utilization, requests=requests,
        replications=replications, dispatchers=workers, warmup=warmup,
        service=stats.expon(scale=mean_service_s), keep_requests=True, rng=rng,
    )  # fmt: skip
    req = res.requests
    assert req is not None  # keep_requests=True
    # Shares count every request, as the lab's do; latencies leave out the warm-up.
    counts = np.zeros((replications, pods))
    np.add.at(counts, (req.replication.to_numpy(), req.pod.to_numpy()), 1.0)
    share = counts / counts.sum(axis=1, keepdims=True)
    req = req[req.groupby("replication").cumcount() >= int(warmup * requests)]
    resp = req.departure_s - req.arrival_s
    by = resp.groupby(req.replication)
    means, p95s = by.mean().to_numpy(), by.quantile(0.95).to_numpy()
    top = share.max(axis=1)
    out = {"shares": share.mean(axis=0)}
    for name, v in (("mean_s", means), ("p95_s", p95s), ("max_share", top)):
        out[name] = float(v.mean())
        out[name + "_lo"], out[name + "_hi"] = (float(q) for q in np.quantile(v, [0.025, 0.975]))
    return out


def compare_ewma(measured: pd.DataFrame, *, replications: int = 40, rng: RngLike = None):
    """Put :func:`predict_ewma` next to every row of :func:`run_ewma_validation`.

    Parameters
    ----------
    measured : pandas.DataFrame
        Rows of :func:`run_ewma_validation` (or the stored CSV).
    replications : int, default 40
        Simulated runs per row.
    rng : int, Generator, SeedSequence or None

    Returns
    -------
    pandas.DataFrame
        :data:`EWMA_COLUMNS`, then measured and predicted shares and the provenance columns.
        Predicted times include the calibrated overhead (``overhead_mean_ms``);
        ``*_error`` is measured / predicted - 1; ``*_in_range`` says whether the measured
        figure lies in the model's 95 % run-to-run range (plus the overhead).
    """
    if measured.empty:
        raise ValueError("measured has no rows")
    seeds = spawn_seeds(rng, len(measured))
    rows = []
    for (_, m), seed in zip(measured.iterrows(), seeds, strict=True):
        pods = int(m["pods"])
        p = predict_ewma(
            pods=pods, utilization=float(m["utilization_realized"]),
            mean_service_s=float(m["mean_service_ms"]) / 1e3, requests=int(m["requests"]),
            workers=int(m["workers"]), warmup=float(m.get("warmup", 0.1)),
            replications=replications, rng=seed,
        )  # fmt: skip
        over = float(m["overhead_mean_ms"])
        row = {k: m[k] for k in EWMA_COLUMNS[:10]}
        row.update(
            measured_mean_ms=m["mean_ms"], measured_mean_se_ms=m["mean_se_ms"],
            predicted_mean_ms=1e3 * p["mean_s"] + over,
            predicted_mean_lo_ms=1e3 * p["mean_s_lo"] + over,
            predicted_mean_hi_ms=1e3 * p["mean_s_hi"] + over,
            measured_p95_ms=m["p95_ms"], predicted_p95_ms=1e3 * p["p95_s"] + over,
            predicted_p95_lo_ms=1e3 * p["p95_s_lo"] + over,
            predicted_p95_hi_ms=1e3 * p["p95_s_hi"] + over,
            measured_max_share=m["max_share"], predicted_max_share=p["max_share"],
            predicted_max_share_lo=p["max_share_lo"], predicted_max_share_hi=p["max_share_hi"],
        )  # fmt: skip
        row["mean_error"] = row["measured_mean_ms"] / row["predicted_mean_ms"] - 1
        row["p95_error"] = row["measured_p95_ms"] / row["predicted_p95_ms"] - 1
        for q in ("mean", "p95"):
            lo, hi = row[f"predicted_{q}_lo_ms"], row[f"predicted_{q}_hi_ms"]
            row[f"{q}_in_range"] = bool(lo <= row[f"measured_{q}_ms"] <= hi)
        lo, hi = row["predicted_max_share_lo"], row["predicted_max_share_hi"]
        row["max_share_in_range"] = bool(lo <= row["measured_max_share"] <= hi)
        for i in range(pods):
            row[f"share_{i}"] = m.get(f"share_{i}", np.nan)
            row[f"predicted_share_{i}"] = p["shares"][i]
        rows.append(row)
    frame = pd.DataFrame(rows)
    provenance = ["load_before", "load_after", "date_utc", "machine", "ingress_nginx_commit",
                  "lua_versions", "mean_service_nominal_ms", "warmup", "rate_per_s"]  # fmt: skip
    for c in provenance:
        if c in measured.columns:
            frame[c] = measured[c].to_numpy()
    return frame

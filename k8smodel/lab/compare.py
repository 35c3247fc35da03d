"""Predictions of ``k8smodel.lb`` for measured cases, the comparison table, verdicts and figure."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from k8smodel._random import RngLike, spawn_seeds
from k8smodel.lb.semantics import haproxy_ring_shares

__all__ = [
    "COMPARISON_COLUMNS",
    "compare_with_model",
    "exact_theory",
    "model_spec",
    "plot_comparison",
    "predict",
    "verdict",
]

#: Relative allowance added to the statistical tolerance: the machine the lab runs on is
#: shared (timer overshoot of ``asyncio.sleep``, client scheduling lag); see ``verdict``.
SYSTEMATIC_ALLOWANCE = 0.10

#: Columns of :func:`compare_with_model`'s result.
COMPARISON_COLUMNS = (
    "case",
    "balancer",
    "policy",
    "workers",
    "zone",
    "pods",
    "utilization",
    "utilization_realized",
    "model",
    "measured_mean_ms",
    "measured_mean_se_ms",
    "measured_p95_ms",
    "measured_pod_mean_ms",
    "overhead_mean_ms",
    "predicted_mean_ms",
    "predicted_mean_se_ms",
    "predicted_mean_overhead_ms",
    "predicted_p95_ms",
    "predicted_p95_overhead_ms",
    "theory_model",
    "theory_mean_ms",
    "theory_p95_ms",
    "mean_error",
    "mean_error_no_overhead",
    "pod_mean_error",
    "p95_error",
    "measured_jain",
    "predicted_jain",
    "predicted_jain_lo",
    "predicted_jain_hi",
    "measured_max_share",
    "predicted_max_share",
    "predicted_max_pod_utilization",
    "agrees",
    "verdict",
)


def _lb():
    # The load-distribution model (issue 3). Imported here so k8smodel.lab's harness works
    # even where k8smodel.lb is not available.
    from k8smodel import lb

    return lb


def model_spec(balancer: str, policy: str, *, pods: int, workers: int = 1, zone: bool = False):
    """The ``k8smodel.lb`` policy and options that stand for a real balancer configuration.

    Parameters
    ----------
    balancer : {"nginx", "haproxy"}
    policy : str
        nginx: ``round_robin``, ``least_conn``, ``random``, ``random_two_least_conn``;
        HAProxy: ``roundrobin``, ``leastconn``, ``random(1)``, ``random(2)``.
    pods : int
    workers : int, default 1
        nginx worker processes.
    zone : bool, default False
        nginx ``zone`` (state shared by the workers).

    Returns
    -------
    tuple
        ``(lb_policy, options, description)`` for :func:`k8smodel.lb.simulate`.

    Notes
    -----
    nginx without ``zone`` keeps the round-robin weights and connection counts in each
    worker (see :func:`k8smodel.lab.nginx_config`), so ``workers`` of them are independent
    dispatchers; with ``zone`` or one worker there is one. HAProxy ``random(d)`` draws ``d``
    times with replacement from its consistent-hash ring and keeps the draw with the fewest
    ``served`` over ``cur_eweight`` (``src/backend.c``, ``get_server_rnd``; ``lb_chash.c``),
    so the draw probabilities are the ring's shares
    (:func:`k8smodel.lab.haproxy_ring_shares`, ``draw_weights``) while the equal server
    weights leave the comparison of counts unweighted.
    """
    if isinstance(pods, bool) or not isinstance(pods, numbers.Integral) or pods < 1:
        raise ValueError(f"pods must be a whole number >= 1; got {pods!r}")
    shared = zone or workers == 1
    k = 1 if shared else int(workers)
    if balancer == "nginx":
        table = {
            "round_robin": ("round_robin", {"dispatchers": k}),
            "least_conn": ("least_connections", {"dispatchers": k, "shared_state": shared}),
            "random": ("random", {}),
            "random_two_least_conn": (
                "power_of_two",
                {"choices": 2, "distinct": True, "dispatchers": k, "shared_state": shared},
            ),
        }
    elif balancer == "haproxy":
        table = {
            "roundrobin": ("round_robin", {}),
            "leastconn": ("least_connections", {"shared_state": True}),
            "random(1)": (
                "power_of_two",
                {"choices": 1, "distinct": False, "draw_weights": haproxy_ring_shares(pods)},
            ),
            "random(2)": (
                "power_of_two",
                {"choices": 2, "distinct": False, "draw_weights": haproxy_ring_shares(pods)},
            ),
        }
    else:
        raise ValueError(f"balancer must be 'nginx' or 'haproxy'; got {balancer!r}")
    if policy not in table:
        raise ValueError(f"policy for {balancer} must be one of {sorted(table)}; got {policy!r}")
    name, options = table[policy]
    shown = {
        key: ("ring" if key == "draw_weights" else value)
        for key, value in options.items()
        if not (key == "dispatchers" and value == 1)
    }
    description = name + ("(" + ", ".join(f"{a}={b}" for a, b in shown.items()) + ")")
    return name, options, description.replace("()", "")


def predict(
    balancer: str,
    policy: str,
    *,
    pods: int,
    utilization: float,
    workers: int = 1,
    zone: bool = False,
    requests: int = 40_000,
    replications: int = 4,
    share_requests: int = 2000,
    share_replications: int = 200,
    rng: RngLike = None,
) -> dict:
    """``k8smodel.lb``'s prediction for one balancer configuration, in mean service times.

    Two simulations: a long one (``requests`` x ``replications``) for the response times,
    and many short ones of ``share_requests`` requests each (as many as a measured run
    has) for the shares, so the predicted spread of Jain's index is that of a run of the
    measured length rather than of a very long one.

    Parameters
    ----------
    balancer, policy, workers, zone
        The real configuration (see :func:`model_spec`).
    pods : int
        Number of pods.
    utilization : float
        Offered load per pod, in (0, 1): use the realized one of a measurement.
    requests, replications : int
        Size of the long simulation (response times).
    share_requests, share_replications : int
        Size of the short simulations (spread of the shares).
    rng : int, Generator, SeedSequence or None

    Returns
    -------
    dict
        ``model`` (description), ``mean_response``, ``mean_response_se``, ``p95_response``
        (multiples of the mean service time: the simulation's default law has
        mean 1 s), ``jain`` (mean over the short runs),
        ``jain_lo``, ``jain_hi`` (their 2.5 % and 97.5 % quantiles), ``max_share`` (mean),
        ``shares`` (mean share per pod).
    """
    from k8smodel import metrics

    lb = _lb()
    name, options, description = model_spec(balancer, policy, pods=pods, workers=workers, zone=zone)
    long_seed, short_seed = spawn_seeds(rng, 2)
    common = {"pods": pods, "utilization": utilization, **options}
    res = lb.simulate(name, requests=requests, replications=replications, rng=long_seed, **common)
    short = lb.simulate(
        name,
        requests=int(share_requests),
        replications=share_replications,
        rng=short_seed,
        warmup=0.0,
        **common,
    )
    row = res.summary.iloc[0]
    table = short.per_pod.pivot(index="replication", columns="pod", values="share").to_numpy()
    jains = metrics.jain(table)
    return {
        "model": description,
        "mean_response": float(row["mean_response_s"]),
        "mean_response_se": float(row["mean_response_s_se"]),
        "p95_response": float(row["p95_response_s"]),
        "jain": float(np.mean(jains)),
        "jain_lo": float(np.quantile(jains, 0.025)),
        "jain_hi": float(np.quantile(jains, 0.975)),
        "max_share": float(np.mean(metrics.max_share(table))),
        "shares": table.mean(axis=0),
    }


def exact_theory(balancer: str, policy: str, *, pods: int, utilization: float, workers: int = 1,
                 zone: bool = False) -> tuple[str, float, float]:  # fmt: skip
    """The closed form of ``k8smodel.lb.theory`` where it is exact for this finite case.

    Random dispatch splits a Poisson stream into ``pods`` Poisson streams, so each pod is
    exactly M/M/1; one round-robin cursor gives each pod Erlang-``pods`` interarrivals, so
    each is exactly E_n/M/1. Other policies (least connections, two choices, several
    dispatchers, HAProxy's ring) have no exact closed form for 4 pods here.

    Parameters
    ----------
    balancer, policy : str
        The real configuration, as in :func:`model_spec`.
    pods : int
        Number of pods.
    utilization : float
        Offered load per pod, in (0, 1).
    workers : int, default 1
        nginx worker processes.
    zone : bool, default False
        nginx ``zone``.

    Returns
    -------
    tuple
        ``(model, mean_response, p95_response)`` in mean service times, or ``("", nan, nan)``.
    """
    name, options, _ = model_spec(balancer, policy, pods=pods, workers=workers, zone=zone)
    if name not in ("random", "round_robin") or options.get("dispatchers", 1) != 1:
        return "", np.nan, np.nan
    row = _lb().theory(name, pods=pods, utilization=utilization).summary.iloc[0]
    return str(row["method"]), float(row["mean_response_s"]), float(row["p95_response_s"])


def verdict(row) -> tuple[bool, str]:
    """Plain-language verdict for one row of the comparison.

    The mean agrees when ``|measured - predicted_with_overhead|`` is within three combined
    standard errors (measured: batch means; predicted: the simulation's) plus
    :data:`SYSTEMATIC_ALLOWANCE` of the prediction. Shares: round robin with one dispatcher
    must be exactly equal (every pod's count within one request of the others); otherwise
    the measured Jain index must fall in the model's 95 % range for a run of that length
    (``predicted_jain_lo`` .. ``predicted_jain_hi``, widened by 0.002). A case whose busiest
    pod is offered 90 % of its capacity or more is marked unreliable (not agreeing): a run
    of a few thousand requests cannot reach the steady state the model describes.

    Parameters
    ----------
    row : pandas.Series
        One row of :func:`compare_with_model` (with the measured ``share_i`` and ``ok``).

    Returns
    -------
    tuple of (bool, str)
        Whether the case agrees, and the sentence that says why.
    """
    pred = row["predicted_mean_overhead_ms"]
    meas = row["measured_mean_ms"]
    se = np.hypot(row["measured_mean_se_ms"], row.get("predicted_mean_se_ms", 0.0))
    tol = 3 * se + SYSTEMATIC_ALLOWANCE * pred
    err = meas - pred
    ok_mean = bool(abs(err) <= tol)
    text = (
        f"mean {meas:.1f} ms measured vs {pred:.1f} ms predicted "
        f"({100 * err / pred:+.0f} %, tolerance ±{100 * tol / pred:.0f} %)"
    )
    if ok_mean:
        text = "agrees: " + text
    elif err > 0:
        text = "slower than the model: " + text
    else:
        text = "faster than the model: " + text
    busiest = row.get("predicted_max_pod_utilization", 0.0)
    if busiest >= 0.9:
        # Not a verdict on the model: the run cannot reach the steady state it predicts.
        ok_mean = False
        text = (
            f"unreliable (a pod is offered {busiest:.0%} of its capacity; its queue needs far "
            "more requests than this run to settle): " + text.split(": ", 1)[1]
        )
    shares = [c for c in row.index if c.startswith("share_")]
    exact_rr = row["policy"] in ("round_robin", "roundrobin") and (
        row["balancer"] == "haproxy" or row["workers"] == 1 or row["zone"]
    )
    if exact_rr and shares:
        counts = np.asarray(row[shares], dtype=float) * row["ok"]
        equal = bool(np.ptp(np.round(counts)) <= 1)
        text += "; shares exactly equal" if equal else "; shares NOT equal (round robin)"
        ok_shares = equal
    else:
        lo = row.get("predicted_jain_lo", row["predicted_jain"]) - 0.002
        hi = row.get("predicted_jain_hi", row["predicted_jain"]) + 0.002
        ok_shares = bool(lo <= row["measured_jain"] <= hi)
        text += (
            f"; Jain {row['measured_jain']:.4f} vs {row['predicted_jain']:.4f} predicted"
            f" (95 % range {lo + 0.002:.4f}..{hi - 0.002:.4f}"
            + ("" if ok_shares else ", OUTSIDE")
            + ")"
        )
    return ok_mean and ok_shares, text


def compare_with_model(
    measured: pd.DataFrame,
    *,
    requests: int = 40_000,
    replications: int = 4,
    rng: RngLike = None,
) -> pd.DataFrame:
    """Put ``k8smodel.lb``'s predictions next to measured rows and judge each.

    Each prediction is made at the *realized* utilization (arrival rate times the pods'
    measured mean service time) and scaled by the measured mean service time; the
    "with overhead" prediction adds the balancer's low-load overhead
    (:func:`k8smodel.lab.calibrate_overhead`).

    Parameters
    ----------
    measured : pandas.DataFrame
        Rows of :func:`k8smodel.lab.run_validation` (or the stored CSV).
    requests, replications : int
        Size of each model simulation.
    rng : int, Generator, SeedSequence or None

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COMPARISON_COLUMNS`, then ``share_i`` (measured) and
        ``predicted_share_i`` per pod. ``measured_*`` come from the run (client latency;
        ``measured_pod_mean_ms`` is the time inside the pods); ``predicted_*`` from
        :func:`predict` (``*_overhead_ms`` with the calibrated overhead added); ``theory_*``
        from :func:`exact_theory` where an exact closed form exists (else NaN). Errors are
        relative, measured / predicted - 1: ``mean_error`` against the prediction with
        overhead, ``mean_error_no_overhead`` without, ``pod_mean_error`` the time inside the
        pods against the model without overhead, ``p95_error`` for the 95th percentile.
        ``predicted_max_pod_utilization`` is the load offered to the busiest pod;
        ``agrees`` and ``verdict`` come from :func:`verdict`. Times in milliseconds.
    """
    if measured.empty:
        raise ValueError("measured has no rows")
    seeds = spawn_seeds(rng, len(measured))
    rows = []
    for (_, m), seed in zip(measured.iterrows(), seeds, strict=True):
        p = predict(
            m["balancer"],
            m["policy"],
            pods=int(m["pods"]),
            utilization=float(m["utilization_realized"]),
            workers=int(m["workers"]),
            zone=bool(m["zone"]),
            requests=requests,
            replications=replications,
            share_requests=max(int(m["ok"]), 1),
            rng=seed,
        )
        scale = float(m["mean_service_ms"])
        theory_model, theory_mean, theory_p95 = exact_theory(
            m["balancer"],
            m["policy"],
            pods=int(m["pods"]),
            utilization=float(m["utilization_realized"]),
            workers=int(m["workers"]),
            zone=bool(m["zone"]),
        )
        row = {
            **{k: m[k] for k in ("case", "balancer", "policy", "workers", "zone", "pods")},
            "utilization": m["utilization"],
            "utilization_realized": m["utilization_realized"],
            "model": p["model"],
            "measured_mean_ms": m["mean_ms"],
            "measured_mean_se_ms": m["mean_se_ms"],
            "measured_p95_ms": m["p95_ms"],
            "measured_pod_mean_ms": m["pod_mean_ms"],
            "overhead_mean_ms": m["overhead_mean_ms"],
            "predicted_mean_ms": p["mean_response"] * scale,
            "predicted_mean_se_ms": p["mean_response_se"] * scale,
            "predicted_mean_overhead_ms": p["mean_response"] * scale + m["overhead_mean_ms"],
            "predicted_p95_ms": p["p95_response"] * scale,
            "theory_model": theory_model,
            "theory_mean_ms": theory_mean * scale,
            "theory_p95_ms": theory_p95 * scale,
            "predicted_p95_overhead_ms": p["p95_response"] * scale + m["overhead_p50_ms"],
            "measured_jain": m["jain"],
            "predicted_jain": p["jain"],
            "predicted_jain_lo": p["jain_lo"],
            "predicted_jain_hi": p["jain_hi"],
            "measured_max_share": m["max_share"],
            "predicted_max_share": p["max_share"],
            "predicted_max_pod_utilization": float(
                m["utilization_realized"] * int(m["pods"]) * np.max(p["shares"])
            ),
            "ok": m["ok"],
        }
        pods = int(m["pods"])
        for i in range(pods):
            row[f"share_{i}"] = m.get(f"share_{i}", np.nan)
        for i in range(pods):
            row[f"predicted_share_{i}"] = p["shares"][i] if i < len(p["shares"]) else np.nan
        row["mean_error"] = row["measured_mean_ms"] / row["predicted_mean_overhead_ms"] - 1.0
        row["mean_error_no_overhead"] = row["measured_mean_ms"] / row["predicted_mean_ms"] - 1.0
        row["pod_mean_error"] = row["measured_pod_mean_ms"] / row["predicted_mean_ms"] - 1.0
        row["p95_error"] = row["measured_p95_ms"] / row["predicted_p95_overhead_ms"] - 1.0
        rows.append(row)
    frame = pd.DataFrame(rows)
    judged = [verdict(r) for _, r in frame.iterrows()]
    frame["agrees"] = [a for a, _ in judged]
    frame["verdict"] = [t for _, t in judged]
    extra = [c for c in frame.columns if c not in COMPARISON_COLUMNS and c != "ok"]
    return frame[[*COMPARISON_COLUMNS, *extra]]


def plot_comparison(comparison: pd.DataFrame, *, ax=None):
    """Measured against predicted mean response (with overhead) and Jain index, per case.

    Parameters
    ----------
    comparison : pandas.DataFrame
        The result of :func:`compare_with_model`.
    ax : sequence of two matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(1, 2, figsize=(11, 4.8))
    else:
        fig = ax[0].figure
    from matplotlib import colormaps, ticker

    markers = {"nginx": "o", "haproxy": "s"}
    cases = list(dict.fromkeys(comparison["case"]))
    palette = colormaps["tab20"](np.linspace(0, 1, 20))
    for i, case in enumerate(cases):
        g = comparison[comparison["case"] == case]
        color = palette[(2 * i) % 20 if i < 10 else (2 * i + 1) % 20]
        style = {"marker": markers.get(g["balancer"].iloc[0], "o"), "ls": "none", "ms": 6}
        ax[0].errorbar(
            g["predicted_mean_overhead_ms"],
            g["measured_mean_ms"],
            yerr=2 * g["measured_mean_se_ms"],
            color=color,
            label=case,
            **style,
        )
        ax[1].plot(g["predicted_jain"], g["measured_jain"], color=color, alpha=0.85, **style)
    both = np.r_[comparison["predicted_mean_overhead_ms"], comparison["measured_mean_ms"]]
    lim = [0.8 * np.nanmin(both), 1.25 * np.nanmax(both)]
    ax[0].set_xscale("log")
    ax[0].set_yscale("log")
    ax[0].plot(lim, lim, color="0.5", lw=1, zorder=0)
    ax[0].fill_between(lim, np.multiply(lim, 0.9), np.multiply(lim, 1.1), color="0.9", zorder=-1)
    for axis in (ax[0].xaxis, ax[0].yaxis):
        axis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        axis.set_minor_formatter(ticker.NullFormatter())
    ax[0].set_xlabel("predicted mean response + overhead (ms)")
    ax[0].set_ylabel("measured mean response (ms)")
    ax[0].set_title("Mean response: measured vs k8smodel.lb")
    lo = min(comparison["predicted_jain"].min(), comparison["measured_jain"].min()) - 0.01
    ax[1].plot([lo, 1.0], [lo, 1.0], color="0.5", lw=1, zorder=0)
    ax[1].set_xlabel("predicted Jain index of request shares")
    ax[1].set_ylabel("measured Jain index")
    ax[1].set_title("Fairness of the shares")
    ax[0].legend(fontsize=7, ncol=1, loc="upper left")
    return fig

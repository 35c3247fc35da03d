"""``k8smodel rollout``: how long a StatefulSet, Deployment or DaemonSet operation takes.

A thin layer over :func:`k8smodel.rollout.completion_time` and :func:`k8smodel.rollout.simulate`:
it builds the spec and the pod timing from options, prints the theory and the simulation side
by side through :func:`k8smodel._output.emit`, and states every value it assumed (each has an
option to change it).
"""

from __future__ import annotations

import argparse
from typing import Any

import pandas as pd
import scipy.stats as st

from k8smodel._output import add_format_option, emit

#: Columns printed for both rows (the simulation adds standard errors).
_SHOWN = (
    "method",
    "exact",
    "mean_s",
    "mean_s_se",
    "p50_s",
    "p90_s",
    "p99_s",
    "deadline_s",
    "p_miss_deadline",
    "p_miss_deadline_se",
    "mean_pod_gap_s",
    "flags",
)


def _int_or_percent(text: str | None) -> int | str | None:
    """``"2"`` -> 2 and ``"25%"`` stays a percentage, as the Kubernetes API field takes either."""
    return int(text) if text is not None and text.strip().isdigit() else text


def _spec(args: argparse.Namespace) -> Any:
    from k8smodel import rollout

    if args.kind == "DaemonSet":
        surge = _int_or_percent(args.max_surge if args.max_surge is not None else "0")
        unavailable = _int_or_percent(args.max_unavailable or ("0" if surge else "1"))
        return rollout.DaemonSet(
            nodes=args.nodes if args.nodes is not None else args.replicas,
            max_unavailable=unavailable or 0,
            max_surge=surge or 0,
            update_strategy=args.update_strategy,
        )
    if args.kind == "Deployment":
        return rollout.Deployment(
            replicas=args.replicas,
            max_surge=_int_or_percent(args.max_surge or "25%") or 0,
            max_unavailable=_int_or_percent(args.max_unavailable or "25%") or 0,
        )
    return rollout.StatefulSet(
        replicas=args.replicas,
        pod_management=args.pod_management,
        update_strategy=args.update_strategy,
        partition=args.partition,
        max_unavailable=_int_or_percent(args.max_unavailable),
        max_unavailable_gate=args.max_unavailable_gate,
        kubernetes_version=args.kubernetes_version,
    )


def _timing(args: argparse.Namespace) -> Any:
    from k8smodel import rollout

    warmup: Any = 0.0
    if args.warmup_s > 0:
        shape = args.warmup_shape
        warmup = st.gamma(shape, scale=args.warmup_s / shape)
    return rollout.PodTiming(
        schedule=args.schedule_s,
        attach=args.attach_s or 0.0,
        pull=args.pull_s,
        start=args.start_s,
        warmup=warmup,
        probe_period_s=args.probe_period_s,
        probe_initial_delay_s=args.probe_initial_delay_s,
        min_ready_seconds=args.min_ready_seconds,
        termination=args.termination_s,
        termination_grace_s=args.termination_grace_s,
        failure_p=args.failure_p,
    )


def _assumptions(args: argparse.Namespace, spec: Any) -> list[str]:
    """Sentences naming every value the command assumed, and the option that changes it."""
    notes = []
    if args.kind == "StatefulSet":
        gate = "on" if spec.max_unavailable_gate else "off"
        notes.append(
            f"StatefulSet {args.pod_management}, {args.update_strategy}, partition "
            f"{args.partition}; MaxUnavailableStatefulSet gate {gate} (Kubernetes "
            f"{args.kubernetes_version}; --max-unavailable-gate, --kubernetes-version)"
        )
        if args.max_unavailable is not None and not spec.max_unavailable_gate:
            notes.append(
                "the gate is off, so --max-unavailable has no effect; pass "
                "--max-unavailable-gate to turn it on"
            )
    elif args.kind == "DaemonSet":
        surge, unavailable = spec.budgets
        notes.append(
            f"DaemonSet on {spec.nodes} nodes, {spec.update_strategy}: maxSurge "
            f"{spec.max_surge} -> {surge}, maxUnavailable {spec.max_unavailable} -> "
            f"{unavailable} (percentages of the nodes, rounded up; --nodes, --max-surge, "
            "--max-unavailable)"
        )
    else:
        surge, unavailable = spec.fenceposts
        notes.append(
            f"Deployment maxSurge {spec.max_surge} -> {surge} pods, maxUnavailable "
            f"{spec.max_unavailable} -> {unavailable} pods (--max-surge, --max-unavailable)"
        )
    warm = (
        f"gamma with shape {args.warmup_shape:g} and mean {args.warmup_s:g} s"
        if args.warmup_s > 0
        else "0 s"
    )
    notes.append(
        f"per pod: schedule {args.schedule_s:g} s, volume attach {args.attach_s or 0:g} s, "
        f"image pull {args.pull_s:g} s, container start {args.start_s:g} s, warm-up {warm} "
        "(--schedule-s, --attach-s, --pull-s, --start-s, --warmup-s, --warmup-shape)"
    )
    notes.append(
        f"readiness probe every {args.probe_period_s:g} s after an initial delay of "
        f"{args.probe_initial_delay_s:g} s; minReadySeconds {args.min_ready_seconds:g} "
        "(--probe-period-s, --probe-initial-delay-s, --min-ready-seconds)"
    )
    if args.termination_s is None:
        notes.append(
            "termination: the application is assumed not to exit on SIGTERM, so every pod takes "
            f"the full grace period of {args.termination_grace_s:g} s "
            "(--termination-s, --termination-grace-s)"
        )
    else:
        notes.append(
            f"termination: the application exits {args.termination_s:g} s after SIGTERM (grace "
            f"period {args.termination_grace_s:g} s; --termination-s, --termination-grace-s)"
        )
    notes.append(
        f"start attempts crash with probability {args.failure_p:g} (--failure-p); "
        f"{args.replications} simulated replications, seed {args.seed}"
    )
    return notes


def _from_files(args: argparse.Namespace) -> tuple[Any, Any, list[str]]:
    """Spec, timing and sentences from ``--from`` (a manifest) and ``--pods`` (a pods dump)."""
    from k8smodel import rollout

    notes: list[str] = []
    if args.from_file is not None:
        warm = args.warmup_s
        workload = rollout.from_manifest(
            args.from_file,
            nodes=args.nodes,
            schedule_s=args.schedule_s,
            attach_s=args.attach_s,
            pull_s=args.pull_s,
            start_s=args.start_s,
            warmup_mean_s=warm,
            warmup_shape=args.warmup_shape,
            termination_s=args.termination_s,
            failure_p=args.failure_p,
        )
        spec, timing = workload.spec, workload.timing
        read = ", ".join(f"{k}={v}" for k, v in workload.read.items())
        notes.append(f"read from {workload.kind} {workload.namespace}/{workload.name}: {read}")
        notes += list(workload.assumed)
    else:
        spec, timing = _spec(args), _timing(args)
        notes += _assumptions(args, spec)
    if args.pods is not None:
        fit = rollout.fit_timing(
            args.pods,
            min_ready_seconds=timing.min_ready_seconds,
            termination_grace_s=timing.termination_grace_s,
            termination=timing.termination,
        )
        timing = fit.timing
        notes = [n for n in notes if not n.startswith("not in the manifest")]
        laws = "; ".join(
            f"{r.phase} {r.law} (mean {r.mean_s:.3g} s, KS {r.ks_statistic:.2f})"
            for r in fit.summary.itertuples()
        )
        notes.append(f"pod timing fitted to {args.pods}: {laws}")
        notes += list(fit.notes)
    return spec, timing, notes


def _run(args: argparse.Namespace) -> int:
    from k8smodel import rollout

    spec, timing, notes = _from_files(args)
    ends = {"from_replicas": args.from_replicas, "to_replicas": args.to_replicas}
    theory = rollout.completion_time(
        spec, args.operation, timing, deadline_s=args.deadline_s, **ends
    )
    sim = rollout.simulate(
        spec,
        args.operation,
        timing,
        replications=args.replications,
        deadline_s=args.deadline_s,
        rng=args.seed,
        **ends,
    )
    table = pd.concat([theory.summary, sim.summary], ignore_index=True)
    table = table[[c for c in _SHOWN if c in table.columns]]
    notes += list(theory.notes) + list(sim.notes)
    title = (
        f"{spec.kind} {args.operation} of {spec.replicas} "
        f"{'nodes' if spec.kind == 'DaemonSet' else 'replicas'}: completion time in seconds "
        "(theory, then simulation)"
    )
    emit(table, fmt=args.format, title=title, notes=notes)
    return 0


def add_commands(commands: Any) -> None:
    """Register ``k8smodel rollout`` on an argparse subparsers object."""
    ro = commands.add_parser(
        "rollout",
        help="how long a StatefulSet, Deployment or DaemonSet operation takes",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    ro.add_argument(
        "--kind", default="StatefulSet", choices=["StatefulSet", "Deployment", "DaemonSet"]
    )
    ro.add_argument(
        "--from",
        dest="from_file",
        metavar="FILE",
        help="a StatefulSet, Deployment or DaemonSet as `kubectl get -o yaml|json` prints it",
    )
    ro.add_argument(
        "--pods",
        metavar="PODS.json",
        help="fit the pod timing to a `kubectl get pods -o json` dump",
    )
    ro.add_argument("--nodes", type=int, default=None, help="DaemonSet: nodes that should run it")
    ro.add_argument("--replicas", type=int, default=10)
    ro.add_argument(
        "--operation",
        default="rolling_update",
        choices=["rolling_update", "scale_up", "scale_down"],
    )
    ro.add_argument("--from-replicas", type=int, default=None, help="scale_up start (default 0)")
    ro.add_argument("--to-replicas", type=int, default=None, help="scale_down end (default 0)")
    ro.add_argument(
        "--pod-management", default="OrderedReady", choices=["OrderedReady", "Parallel"]
    )
    ro.add_argument(
        "--update-strategy", default="RollingUpdate", choices=["RollingUpdate", "OnDelete"]
    )
    ro.add_argument("--partition", type=int, default=0)
    ro.add_argument(
        "--max-unavailable",
        default=None,
        help="an integer or a percentage like 25%% (StatefulSet and DaemonSet default 1, "
        "Deployment 25%%)",
    )
    ro.add_argument(
        "--max-surge",
        default=None,
        help="Deployment (default 25%%) or DaemonSet (default 0)",
    )
    ro.add_argument(
        "--max-unavailable-gate",
        action="store_true",
        default=None,
        help="turn the MaxUnavailableStatefulSet feature gate on (default: as the version ships)",
    )
    ro.add_argument("--kubernetes-version", default="1.36", help="decides the gate's default")
    ro.add_argument("--schedule-s", type=float, default=0.0, help="scheduling, seconds")
    ro.add_argument(
        "--attach-s",
        type=float,
        default=None,
        help="volume attach, seconds (default 0; with --from, 15 s median when it has claims)",
    )
    ro.add_argument("--pull-s", type=float, default=0.0, help="image pull, seconds")
    ro.add_argument("--start-s", type=float, default=2.0, help="container start, seconds")
    ro.add_argument(
        "--warmup-s", type=float, default=10.0, help="mean warm-up to readiness, seconds"
    )
    ro.add_argument(
        "--warmup-shape", type=float, default=2.0, help="gamma shape of the warm-up (default 2)"
    )
    ro.add_argument("--probe-period-s", type=float, default=10.0)
    ro.add_argument("--probe-initial-delay-s", type=float, default=0.0)
    ro.add_argument("--min-ready-seconds", type=float, default=0.0)
    ro.add_argument(
        "--termination-s",
        type=float,
        default=None,
        help="seconds the app takes to exit after SIGTERM (default: never, the full grace period)",
    )
    ro.add_argument("--termination-grace-s", type=float, default=30.0)
    ro.add_argument("--failure-p", type=float, default=0.0, help="crash probability per start")
    ro.add_argument("--deadline-s", type=float, default=1800.0)
    ro.add_argument("--replications", type=int, default=20_000)
    ro.add_argument("--seed", type=int, default=1)
    add_format_option(ro)
    ro.set_defaults(handler=_run)

"""Read a StatefulSet, Deployment or DaemonSet as ``kubectl get -o yaml|json`` prints it.

:func:`from_manifest` builds the spec (:class:`StatefulSet`, :class:`Deployment` or
:class:`DaemonSet`) and the pod timing (:class:`PodTiming`) from the object's fields. What an
object cannot tell (how long the image pull, the volume attach and the application's warm-up
take, whether the application exits on SIGTERM) is a named parameter with a documented
default; the :class:`Workload` lists every value that was assumed, and its ``simulate`` and
``completion_time`` put those sentences into the result's ``notes``.

Errors name the object (``kind namespace/name``) and the field path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import scipy.stats as st

from k8smodel._validate import check_int, check_real, describe
from k8smodel.manifests import read_documents
from k8smodel.rollout.semantics_daemonset import desired_number_scheduled
from k8smodel.rollout.spec import DaemonSet, Deployment, PodTiming, StatefulSet

__all__ = ["Workload", "from_manifest", "load_objects"]

_KINDS = ("StatefulSet", "Deployment", "DaemonSet")


@dataclass(frozen=True)
class Workload:
    """A workload read from a manifest: its spec, its pod timing and what was assumed.

    Attributes
    ----------
    kind, namespace, name : str
        The object.
    spec : StatefulSet, Deployment or DaemonSet
        The controller's parameters read from the object.
    timing : PodTiming
        Probe, grace period and minReadySeconds from the object; phase times from the
        parameters of :func:`from_manifest`.
    read : dict
        The fields read from the object (path -> value), defaults of the API included.
    assumed : tuple of str
        One sentence per value the object could not tell.
    """

    kind: str
    namespace: str
    name: str
    spec: Any
    timing: PodTiming
    read: Mapping[str, Any]
    assumed: tuple[str, ...]

    def simulate(self, operation: str = "rolling_update", **kwargs: Any) -> Any:
        """:func:`k8smodel.rollout.simulate` of this workload, the assumptions in ``notes``."""
        from k8smodel.rollout.simulate import simulate

        res = simulate(self.spec, operation, self.timing, **kwargs)
        return dataclasses.replace(res, notes=self.assumed + res.notes)

    def completion_time(self, operation: str = "rolling_update", **kwargs: Any) -> Any:
        """:func:`k8smodel.rollout.completion_time` of this workload, with the assumptions."""
        from k8smodel.rollout.theory import completion_time

        res = completion_time(self.spec, operation, self.timing, **kwargs)
        return dataclasses.replace(res, notes=self.assumed + res.notes)


def load_objects(source: Any) -> list[dict[str, Any]]:
    """Kubernetes objects from a mapping, a path to a YAML/JSON file, or YAML/JSON text.

    Parameters
    ----------
    source : mapping, str or pathlib.Path
        One object, a ``kind: List`` (as ``kubectl get -o yaml`` prints several), a file or
        text holding either (several YAML documents allowed).

    Returns
    -------
    list of dict
        The objects, ``List`` items unwrapped.
    """
    if isinstance(source, Mapping):
        docs: list[Any] = [source]
    elif isinstance(source, str | Path):
        path = Path(source)
        text = path.read_text(encoding="utf-8") if _is_file(path) else str(source)
        if "\n" not in text and not text.lstrip().startswith(("{", "apiVersion", "kind")):
            raise ValueError(f"manifest file {str(source)!r} does not exist")
        # The project's hardened reader: size, alias and depth limits, duplicate keys refused.
        docs = read_documents(path if _is_file(path) else str(source))
    else:
        raise TypeError(
            "manifest must be a mapping, a path or YAML/JSON text; got "
            f"{type(source).__name__} {describe(source)}"
        )
    objects: list[dict[str, Any]] = []
    for doc in docs:
        if not isinstance(doc, Mapping):
            raise ValueError(f"a manifest document must be a mapping; got {describe(doc)}")
        if doc.get("kind") == "List":
            objects.extend(dict(item) for item in doc.get("items") or [])
        else:
            objects.append(dict(doc))
    return objects


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a long YAML text is not a valid path
        return False


class _Reader:
    """Field access that names the object and the path in every error."""

    def __init__(self, obj: Mapping[str, Any]) -> None:
        meta = obj.get("metadata") or {}
        self.kind = str(obj.get("kind"))
        self.namespace = str(meta.get("namespace") or "default")
        self.name = str(meta.get("name") or "<unnamed>")
        self.obj = obj
        self.read: dict[str, Any] = {}

    @property
    def where(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    def get(self, path: str, default: Any = None, *, root: Any = None) -> Any:
        node: Any = self.obj if root is None else root
        for part in path.split("."):
            if not isinstance(node, Mapping):
                raise TypeError(
                    f"{self.where}: {path} must be inside a mapping; got {describe(node)}"
                )
            node = node.get(part)
            if node is None:
                return default
        return node

    def integer(
        self, path: str, default: int, minimum: int, *, root: Any = None, label: str = ""
    ) -> int:
        value = self.get(path, default, root=root)
        out = check_int(value, f"{self.where}: {label or path}", minimum=minimum)
        self.read[label or path] = out
        return out

    def int_or_percent(self, path: str, default: int | str) -> int | str:
        value = self.get(path, default)
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise TypeError(
                f"{self.where}: {path} must be an int or a percentage like '25%'; got "
                f"{describe(value)}"
            )
        self.read[path] = value
        return value

    def choice(self, path: str, default: str, allowed: Sequence[str]) -> str:
        value = self.get(path, default)
        if value not in allowed:
            raise ValueError(
                f"{self.where}: {path} must be one of {list(allowed)}; got {describe(value)}"
            )
        self.read[path] = value
        return str(value)


def _probe_settings(r: _Reader) -> tuple[float, float, float, list[str]]:
    """(period, initial delay, extra seconds for successThreshold, notes) from the containers."""
    containers = r.get("spec.template.spec.containers")
    if not isinstance(containers, list) or not containers:
        raise ValueError(f"{r.where}: spec.template.spec.containers must be a non-empty list")
    period, delay, extra, notes = 10.0, 0.0, 0.0, []
    probed = False
    for i, container in enumerate(containers):
        for probe_kind in ("startupProbe", "readinessProbe"):
            probe = container.get(probe_kind) if isinstance(container, Mapping) else None
            if probe is None:
                continue
            at = f"spec.template.spec.containers[{i}].{probe_kind}"
            p = r.integer("periodSeconds", 10, 1, root=probe, label=f"{at}.periodSeconds")
            d = r.integer(
                "initialDelaySeconds", 0, 0, root=probe, label=f"{at}.initialDelaySeconds"
            )
            s = r.integer("successThreshold", 1, 1, root=probe, label=f"{at}.successThreshold")
            r.integer("failureThreshold", 3, 1, root=probe, label=f"{at}.failureThreshold")
            if probe_kind == "startupProbe" or not probed:
                period, delay = float(p), float(d)
            else:  # the slowest container decides when the pod is Ready
                period, delay = max(period, p), max(delay, d)
            extra = max(extra, (s - 1) * p)
            probed = True
            if probe_kind == "startupProbe":
                notes.append(
                    f"{at}: readiness is taken on the startup probe's grid (every {p} s after "
                    f"{d} s); the readiness probe's next tick after it is neglected"
                )
                break
    if not probed:
        period, delay = 1.0, 0.0
        notes.append(
            "no readiness or startup probe: a container is Ready when it runs (modelled as a "
            "1 s probe grid)"
        )
    return period, delay, float(extra), notes


def _spec(r: _Reader, nodes: Any, gate: Any) -> Any:
    if r.kind == "StatefulSet":
        strategy = r.choice(
            "spec.updateStrategy.type", "RollingUpdate", ("RollingUpdate", "OnDelete")
        )
        mu = r.get("spec.updateStrategy.rollingUpdate.maxUnavailable")
        if mu is not None:
            mu = r.int_or_percent("spec.updateStrategy.rollingUpdate.maxUnavailable", 1)
        return StatefulSet(
            replicas=r.integer("spec.replicas", 1, 0),
            pod_management=r.choice(
                "spec.podManagementPolicy", "OrderedReady", ("OrderedReady", "Parallel")
            ),
            update_strategy=strategy,
            partition=r.integer("spec.updateStrategy.rollingUpdate.partition", 0, 0),
            max_unavailable=mu,
            kubernetes_version=gate[0],
            max_unavailable_gate=gate[1],
        )
    if r.kind == "Deployment":
        r.choice("spec.strategy.type", "RollingUpdate", ("RollingUpdate",))
        return Deployment(
            replicas=r.integer("spec.replicas", 1, 0),
            max_surge=r.int_or_percent("spec.strategy.rollingUpdate.maxSurge", "25%"),
            max_unavailable=r.int_or_percent("spec.strategy.rollingUpdate.maxUnavailable", "25%"),
        )
    return DaemonSet(
        nodes=_daemon_nodes(r, nodes),
        max_unavailable=r.int_or_percent("spec.updateStrategy.rollingUpdate.maxUnavailable", 1),
        max_surge=r.int_or_percent("spec.updateStrategy.rollingUpdate.maxSurge", 0),
        update_strategy=r.choice(
            "spec.updateStrategy.type", "RollingUpdate", ("RollingUpdate", "OnDelete")
        ),
    )


def _daemon_nodes(r: _Reader, nodes: Any) -> int:
    if nodes is None:
        if r.get("status.desiredNumberScheduled") is None:
            raise ValueError(
                f"{r.where}: status.desiredNumberScheduled is missing; pass nodes= (a count or "
                "the Node objects of `kubectl get nodes -o json`)"
            )
        return r.integer("status.desiredNumberScheduled", 0, 0)
    if isinstance(nodes, int) and not isinstance(nodes, bool):
        return check_int(nodes, "nodes", minimum=0)
    if isinstance(nodes, Mapping) or isinstance(nodes, str | Path):
        nodes = load_objects(nodes)
    template = r.get("spec.template.spec") or {}
    count = desired_number_scheduled(
        nodes,
        node_selector=template.get("nodeSelector"),
        affinity=template.get("affinity"),
        tolerations=template.get("tolerations") or (),
        host_network=bool(template.get("hostNetwork")),
        node_name=template.get("nodeName") or "",
    )
    r.read["desired nodes (from the Node objects)"] = count
    return count


def from_manifest(
    obj_or_path: Any,
    *,
    nodes: Any = None,
    schedule_s: Any = 1.0,
    attach_s: Any = None,
    pull_s: Any = 0.0,
    start_s: Any = 2.0,
    warmup_mean_s: float = 10.0,
    warmup_shape: float = 2.0,
    termination_s: Any = None,
    failure_p: float = 0.0,
    kubernetes_version: str = "1.36",
    max_unavailable_gate: bool | None = None,
) -> Workload:
    """Build a rollout workload from a StatefulSet, Deployment or DaemonSet object.

    Parameters
    ----------
    obj_or_path : mapping, str or pathlib.Path
        The object (or a file or YAML/JSON text holding exactly one such object, possibly in a
        ``kind: List``).
    nodes : int, sequence of Node objects or path, optional
        DaemonSet only: the nodes that should run it. Default: the object's
        ``status.desiredNumberScheduled``. Node objects are filtered with the template's node
        selector, required node affinity, tolerations and hostNetwork
        (:func:`k8smodel.rollout.desired_number_scheduled`).
    schedule_s, pull_s, start_s : float or frozen distribution
        Not in a manifest. Defaults: 1 s to schedule, 0 s to pull (image cached on the
        node), 2 s to start the container.
    attach_s : float or frozen distribution, optional
        Volume provisioning/attach. Default: lognormal with median 15 s (sigma 0.5) when the
        object has ``volumeClaimTemplates``, else 0.
    warmup_mean_s, warmup_shape : float
        The application's warm-up until the probe would pass: gamma with this mean (10 s) and
        shape (2); a mean of 0 means none.
    termination_s : float or frozen distribution, optional
        How long the application takes to exit after SIGTERM. Default None: it does not
        exit, so every termination takes the full grace period.
    failure_p : float
        Probability that a start attempt crashes (0).
    kubernetes_version : str
        StatefulSet only: decides the MaxUnavailableStatefulSet gate's default ("1.36": off).
    max_unavailable_gate : bool, optional
        StatefulSet only: the gate, overriding the version's default.

    Returns
    -------
    Workload
        ``spec``, ``timing``, the fields ``read`` and the ``assumed`` sentences.

    Notes
    -----
    Read from the object: ``spec.replicas`` (API default 1), ``spec.podManagementPolicy``,
    ``spec.updateStrategy`` (StatefulSet, DaemonSet: type, partition, maxUnavailable,
    maxSurge) or ``spec.strategy`` (Deployment; only RollingUpdate is modelled),
    ``spec.minReadySeconds``, ``spec.template.spec.terminationGracePeriodSeconds`` (30), the
    containers' ``readinessProbe`` and ``startupProbe`` (``periodSeconds`` >= 1, default
    10; ``initialDelaySeconds``; ``successThreshold`` > 1 adds that many periods minus one;
    ``failureThreshold``, validated) and ``spec.volumeClaimTemplates``. With several
    containers the largest period and initial delay are used (the slowest container decides
    when the pod is Ready).

    Examples
    --------
    >>> w = from_manifest({"apiVersion": "apps/v1", "kind": "StatefulSet",
    ...     "metadata": {"name": "db", "namespace": "prod"},
    ...     "spec": {"replicas": 3, "template": {"spec": {"containers": [
    ...         {"name": "db", "readinessProbe": {"periodSeconds": 5}}]}}}})
    >>> w.spec.replicas, w.timing.probe_period_s
    (3, 5.0)
    """
    objects = load_objects(obj_or_path)
    if len(objects) != 1:
        raise ValueError(f"manifest must hold exactly one object; got {len(objects)}")
    obj = objects[0]
    r = _Reader(obj)
    if r.kind not in _KINDS:
        raise ValueError(
            f"{r.where}: kind must be one of {list(_KINDS)}; got {describe(obj.get('kind'))}"
        )
    if not isinstance(r.get("spec"), Mapping):
        raise ValueError(f"{r.where}: spec is missing")
    try:
        spec = _spec(r, nodes, (kubernetes_version, max_unavailable_gate))
    except (TypeError, ValueError) as exc:
        if r.where in str(exc):
            raise
        raise type(exc)(f"{r.where}: {exc}") from None
    period, delay, extra, probe_notes = _probe_settings(r)
    grace = r.integer("spec.template.spec.terminationGracePeriodSeconds", 30, 0)
    min_ready = r.integer("spec.minReadySeconds", 0, 0)
    claims = r.get("spec.volumeClaimTemplates") or []
    assumed = list(probe_notes)
    if r.kind == "StatefulSet" and spec.max_unavailable is not None:
        state = "on" if spec.max_unavailable_gate else "off, so maxUnavailable has no effect"
        assumed.append(
            f"MaxUnavailableStatefulSet gate {state} (Kubernetes {kubernetes_version}; "
            "kubernetes_version=, max_unavailable_gate=)"
        )
    if attach_s is None:
        attach_s = st.lognorm(0.5, scale=15.0) if claims else 0.0
        if claims:
            assumed.append(
                f"volume attach: lognormal with median 15 s (sigma 0.5) for {len(claims)} "
                "volumeClaimTemplates (attach_s=)"
            )
    warmup_mean_s = check_real(warmup_mean_s, "warmup_mean_s", minimum=0)
    warmup_shape = check_real(warmup_shape, "warmup_shape", minimum=0, lower_open=True)
    warmup: Any = (
        st.gamma(warmup_shape, scale=warmup_mean_s / warmup_shape) if warmup_mean_s > 0 else 0.0
    )
    start = start_s + extra if isinstance(start_s, int | float) else start_s
    if extra and not isinstance(start_s, int | float):
        raise ValueError("a successThreshold above 1 needs a numeric start_s")
    timing = PodTiming(
        schedule=schedule_s,
        attach=attach_s,
        pull=pull_s,
        start=start,
        warmup=warmup,
        probe_period_s=period,
        probe_initial_delay_s=delay,
        min_ready_seconds=min_ready,
        termination_grace_s=grace,
        termination=termination_s,
        failure_p=failure_p,
    )
    assumed += [
        f"not in the manifest: schedule {_show(schedule_s)}, image pull {_show(pull_s)}, container "
        f"start {_show(start_s)}, warm-up gamma(shape {warmup_shape:g}) with mean "
        f"{warmup_mean_s:g} s (schedule_s=, pull_s=, start_s=, warmup_mean_s=, warmup_shape=)",
        (
            f"termination: the application is assumed not to exit on SIGTERM, so each pod takes "
            f"the full grace period of {grace} s (termination_s=)"
            if termination_s is None
            else f"termination: the application exits after {_show(termination_s)} (termination_s=)"
        ),
        f"start attempts crash with probability {failure_p:g} (failure_p=)",
    ]
    if extra:
        assumed.append(f"successThreshold above 1 adds {extra:g} s to every start")
    return Workload(
        kind=r.kind,
        namespace=r.namespace,
        name=r.name,
        spec=spec,
        timing=timing,
        read=dict(r.read),
        assumed=tuple(assumed),
    )


def _show(value: Any) -> str:
    if hasattr(value, "dist"):
        args = ", ".join(f"{a:g}" for a in value.args)
        kwds = ", ".join(f"{k}={v:g}" for k, v in value.kwds.items())
        return f"{value.dist.name}({', '.join(x for x in (args, kwds) if x)})"
    return f"{value:g} s"

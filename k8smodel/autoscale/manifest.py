"""``from_manifest``: an HPA (autoscaling/v2) or a Knative Service read into a spec.

HPA fields follow ``k8s.io/api/autoscaling/v2`` (``spec.minReplicas``, ``maxReplicas``,
``metrics``, ``behavior``) with the defaulting of ``pkg/apis/autoscaling/v2/defaults.go``.
Knative settings come from the revision template's ``autoscaling.knative.dev/*``
annotations over a ``config-autoscaler`` ConfigMap in the same stream (keys of
knative/serving ``pkg/autoscaler/config/config.go``; annotation names of
``pkg/apis/autoscaling/register.go``). Every error names the object and the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from k8smodel.autoscale.spec import HpaSpec, KpaSpec, ScalingPolicy, ScalingRules
from k8smodel.manifests import read_documents

__all__ = ["from_manifest", "load_documents"]

_PREFIX = "autoscaling.knative.dev/"
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|ns)")
_UNIT_S = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
_QUANTITY = re.compile(r"^([+-]?\d+(?:\.\d+)?)(m|k|M|G|Ki|Mi|Gi)?$")
_QUANTITY_SCALE = {
    None: 1.0,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "Ki": 1024.0,
    "Mi": 1024.0**2,
    "Gi": 1024.0**3,
}


class ManifestError(ValueError):
    """A manifest field that cannot be read (the message names object and field)."""


def load_documents(source: Any) -> list[dict]:
    """The mappings in ``source``: a dict, a list of dicts, YAML text or a path to a file."""
    if isinstance(source, Mapping):
        return [dict(source)]
    if isinstance(source, list):
        return [dict(d) for d in source if isinstance(d, Mapping)]
    if isinstance(source, Path) or (
        isinstance(source, str) and "\n" not in source and Path(source).is_file()
    ):
        source = Path(source)
    elif not isinstance(source, str):
        raise TypeError(
            f"source must be a mapping, YAML text or a path; got {type(source).__name__}"
        )
    docs: list[dict] = []
    # The project's hardened reader: size, alias and depth limits, duplicate keys refused.
    for doc in read_documents(source):
        if isinstance(doc, Mapping) and doc.get("kind") == "List":
            docs.extend(dict(d) for d in doc.get("items") or [] if isinstance(d, Mapping))
        elif isinstance(doc, Mapping):
            docs.append(dict(doc))
    return docs


def _ident(doc: Mapping) -> str:
    meta = doc.get("metadata") or {}
    return f"{doc.get('kind', '?')} {meta.get('namespace', 'default')}/{meta.get('name', '?')}"


def _fail(doc: Mapping, field: str, message: str) -> ManifestError:
    return ManifestError(f"{_ident(doc)}: {field} {message}")


def _int(doc, field, value, minimum=0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(doc, field, f"must be a whole number >= {minimum}; got {value!r}")
    return value


def _quantity(doc, field, value) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    m = _QUANTITY.match(str(value).strip())
    if not m:
        raise _fail(
            doc, field, f"must be a Kubernetes quantity such as '10' or '500m'; got {value!r}"
        )
    return float(m.group(1)) * _QUANTITY_SCALE[m.group(2)]


def duration_s(doc: Mapping, field: str, value: Any) -> float:
    """A Go duration (``"60s"``, ``"1m30s"``, ``"500ms"``) or a bare number of seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = _DURATION.findall(text)
    if not parts or "".join(a + b for a, b in parts) != text:
        raise _fail(doc, field, f"must be a duration such as '60s' or '1m30s'; got {value!r}")
    return sum(float(a) * _UNIT_S[b] for a, b in parts)


# ------------------------------------------------------------------------------------ HPA
def _rules(doc, path, raw, default: ScalingRules) -> ScalingRules:
    """``copyHPAScalingRules``: the given fields over the defaults."""
    if raw is None:
        return default
    if not isinstance(raw, Mapping):
        raise _fail(doc, path, f"must be a mapping; got {raw!r}")
    policies = default.policies
    if raw.get("policies") is not None:
        try:
            policies = tuple(
                ScalingPolicy(p.get("type"), p.get("value"), p.get("periodSeconds"))
                for p in raw["policies"]
            )
        except (TypeError, ValueError, AttributeError) as exc:
            raise _fail(doc, f"{path}.policies", str(exc)) from None
    select = raw.get("selectPolicy", default.select_policy)
    window = raw.get("stabilizationWindowSeconds", default.stabilization_window_s)
    tol = raw.get("tolerance")
    tolerance = default.tolerance if tol is None else _quantity(doc, f"{path}.tolerance", tol)
    try:
        return ScalingRules(policies, select, window, tolerance)
    except (TypeError, ValueError) as exc:
        raise _fail(doc, path, str(exc)) from None


def _metric(doc, metrics) -> tuple[str, float]:
    if not metrics:
        return "Resource", 80.0  # SetDefaults_HorizontalPodAutoscaler: CPU at 80 %
    if len(metrics) != 1:
        raise _fail(doc, "spec.metrics", f"must hold one metric for this model; got {len(metrics)}")
    m = metrics[0]
    kind = m.get("type")
    if kind not in ("Resource", "ContainerResource", "Pods", "Object", "External"):
        raise _fail(
            doc,
            "spec.metrics[0].type",
            "must be one of ['Resource', "
            f"'ContainerResource', 'Pods', 'Object', 'External']; got {kind!r}",
        )
    key = {
        "Resource": "resource",
        "ContainerResource": "containerResource",
        "Pods": "pods",
        "Object": "object",
        "External": "external",
    }[kind]
    body = m.get(key) or {}
    target = body.get("target") or {}
    field = f"spec.metrics[0].{key}.target"
    if kind in ("Resource", "ContainerResource"):
        if body.get("name") != "cpu":
            raise _fail(
                doc,
                f"spec.metrics[0].{key}.name",
                f"must be 'cpu' for this model; got {body.get('name')!r}",
            )
        if target.get("type") != "Utilization":
            raise _fail(
                doc,
                f"{field}.type",
                f"must be 'Utilization' for this model; got {target.get('type')!r}",
            )
        return kind, float(
            _int(doc, f"{field}.averageUtilization", target.get("averageUtilization"), minimum=1)
        )
    if target.get("type") != "AverageValue":
        raise _fail(
            doc,
            f"{field}.type",
            f"must be 'AverageValue' for this model; got {target.get('type')!r}",
        )
    return kind, _quantity(doc, f"{field}.averageValue", target.get("averageValue"))


def _hpa(doc: Mapping, flags: Mapping[str, Any]) -> HpaSpec:
    spec = doc.get("spec") or {}
    if "maxReplicas" not in spec:
        raise _fail(doc, "spec.maxReplicas", "is required")
    max_r = _int(doc, "spec.maxReplicas", spec["maxReplicas"], minimum=1)
    min_r = _int(doc, "spec.minReplicas", spec.get("minReplicas", 1))
    kind, target = _metric(doc, spec.get("metrics"))
    window = int(flags.get("downscale_stabilization_s", 300))
    behavior = spec.get("behavior")
    up = down = None
    if behavior is not None:
        if not isinstance(behavior, Mapping):
            raise _fail(doc, "spec.behavior", f"must be a mapping; got {behavior!r}")
        up = _rules(
            doc, "spec.behavior.scaleUp", behavior.get("scaleUp"), ScalingRules.default_scale_up()
        )
        down = _rules(
            doc,
            "spec.behavior.scaleDown",
            behavior.get("scaleDown"),
            ScalingRules.default_scale_down(window),
        )
    try:
        return HpaSpec(
            max_replicas=max_r,
            min_replicas=min_r,
            metric_type=kind,
            target=target,
            scale_up=up,
            scale_down=down,
            **dict(flags),
        )
    except (TypeError, ValueError) as exc:
        raise _fail(doc, "spec", str(exc)) from None


# -------------------------------------------------------------------------------- Knative
_CONFIG_KEYS = {  # config-autoscaler key -> (KpaSpec field, kind)
    "stable-window": ("stable_window_s", "duration"),
    "panic-window-percentage": ("panic_window_percentage", "float"),
    "panic-threshold-percentage": ("panic_threshold_percentage", "float"),
    "max-scale-up-rate": ("max_scale_up_rate", "float"),
    "max-scale-down-rate": ("max_scale_down_rate", "float"),
    "container-concurrency-target-default": ("target", "float"),
    "container-concurrency-target-percentage": ("target_utilization", "percent"),
    "min-scale": ("min_scale", "int"),
    "max-scale": ("max_scale", "int"),
    "initial-scale": ("initial_scale", "int"),
    "enable-scale-to-zero": ("enable_scale_to_zero", "bool"),
    "scale-to-zero-grace-period": ("scale_to_zero_grace_period_s", "duration"),
    "scale-to-zero-pod-retention-period": ("scale_to_zero_retention_s", "duration"),
    "scale-down-delay": ("scale_down_delay_s", "duration"),
}
_ANNOTATIONS = {  # annotation suffix -> (KpaSpec field, kind)
    "metric": ("metric", "str"),
    "target": ("target", "float"),
    "target-utilization-percentage": ("target_utilization", "percent"),
    "window": ("stable_window_s", "duration"),
    "panic-window-percentage": ("panic_window_percentage", "float"),
    "panic-threshold-percentage": ("panic_threshold_percentage", "float"),
    "min-scale": ("min_scale", "int"),
    "max-scale": ("max_scale", "int"),
    "initial-scale": ("initial_scale", "int"),
    "scale-down-delay": ("scale_down_delay_s", "duration"),
    "scale-to-zero-pod-retention-period": ("scale_to_zero_retention_s", "duration"),
    "activation-scale": ("activation_scale", "int"),
}


def _convert(doc, field, kind, raw):
    text = str(raw).strip()
    try:
        if kind == "duration":
            return duration_s(doc, field, text)
        if kind == "float":
            return float(text)
        if kind == "percent":
            value = float(text)
            return value / 100.0 if value > 1.0 else value  # config.go: > 1 means percent
        if kind == "int":
            return int(text)
        if kind == "bool":
            if text.lower() not in ("true", "false"):
                raise ValueError(text)
            return text.lower() == "true"
        return text
    except ValueError:
        raise _fail(doc, field, f"must be a {kind}; got {raw!r}") from None


def _config_values(cm: Mapping | None) -> dict[str, Any]:
    if cm is None:
        return {}
    data = cm.get("data") or {}
    out: dict[str, Any] = {}
    rps_default = None
    for key, raw in data.items():
        if key == "requests-per-second-target-default":
            rps_default = _convert(cm, f"data.{key}", "float", raw)
        elif key in _CONFIG_KEYS:
            name, kind = _CONFIG_KEYS[key]
            out[name] = _convert(cm, f"data.{key}", kind, raw)
    if rps_default is not None:
        out["_rps_default"] = rps_default
    return out


def _kpa(doc: Mapping, config: Mapping | None) -> KpaSpec:
    values = _config_values(config)
    rps_default = values.pop("_rps_default", 200.0)
    template = (doc.get("spec") or {}).get("template") or {}
    annotations = (template.get("metadata") or {}).get("annotations") or {}
    cls = annotations.get(_PREFIX + "class", "kpa.autoscaling.knative.dev")
    if cls != "kpa.autoscaling.knative.dev":
        raise _fail(
            doc,
            "spec.template.metadata.annotations." + _PREFIX + "class",
            f"must be 'kpa.autoscaling.knative.dev' for the KPA model (use an "
            f"HPA object for the HPA class); got {cls!r}",
        )
    explicit_target = False
    for key, raw in annotations.items():
        if not key.startswith(_PREFIX) or key[len(_PREFIX) :] not in _ANNOTATIONS:
            continue
        name, kind = _ANNOTATIONS[key[len(_PREFIX) :]]
        values[name] = _convert(doc, f"spec.template.metadata.annotations.{key}", kind, raw)
        explicit_target |= name == "target"
    if values.get("metric") == "rps" and not explicit_target:
        values["target"] = rps_default
    cc = (template.get("spec") or {}).get("containerConcurrency")
    if cc and values.get("metric", "concurrency") == "concurrency":
        values["target"] = min(float(values.get("target", 100.0)), float(cc))
    try:
        return KpaSpec(**values)
    except (TypeError, ValueError) as exc:
        raise _fail(doc, "spec.template.metadata.annotations", str(exc)) from None


def from_manifest(
    source: Any, *, name: str | None = None, controller_flags: Mapping[str, Any] | None = None
) -> HpaSpec | KpaSpec:
    """Build the spec of the one HPA or Knative Service in ``source``.

    Parameters
    ----------
    source : mapping, list, str or path
        One object, a list of objects, YAML text (several documents or a ``List``) or a file.
        A ``ConfigMap`` named ``config-autoscaler`` in the same stream supplies Knative
        defaults.
    name : str, optional
        Which object to read when the stream holds several autoscaled objects.
    controller_flags : mapping, optional
        HpaSpec fields for kube-controller-manager flags (e.g. ``{"sync_period_s": 30}``).

    Returns
    -------
    HpaSpec or KpaSpec

    Raises
    ------
    ValueError
        Naming ``kind namespace/name`` and the field for a value the model cannot take.

    Examples
    --------
    >>> hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
    ...        "metadata": {"name": "web"}, "spec": {"minReplicas": 2, "maxReplicas": 10,
    ...        "metrics": [{"type": "Resource", "resource": {"name": "cpu",
    ...        "target": {"type": "Utilization", "averageUtilization": 60}}}]}}
    >>> s = from_manifest(hpa)
    >>> (s.min_replicas, s.max_replicas, s.metric_type, s.target)
    (2, 10, 'Resource', 60.0)
    """
    docs = load_documents(source)
    config = next(
        (
            d
            for d in docs
            if d.get("kind") == "ConfigMap"
            and (d.get("metadata") or {}).get("name") == "config-autoscaler"
        ),
        None,
    )
    targets = [
        d
        for d in docs
        if d.get("kind") in ("HorizontalPodAutoscaler", "Service")
        and (
            d.get("kind") == "HorizontalPodAutoscaler"
            or str(d.get("apiVersion", "")).startswith("serving.knative.dev")
        )
    ]
    if name is not None:
        targets = [d for d in targets if (d.get("metadata") or {}).get("name") == name]
    if len(targets) != 1:
        found = [_ident(d) for d in targets]
        raise ValueError(
            f"source must hold exactly one HorizontalPodAutoscaler or Knative "
            f"Service{f' named {name!r}' if name else ''}; got {found}"
        )
    doc = targets[0]
    if doc["kind"] == "HorizontalPodAutoscaler":
        api = str(doc.get("apiVersion", ""))
        if api not in ("autoscaling/v2", "autoscaling/v2beta2"):
            raise _fail(doc, "apiVersion", f"must be autoscaling/v2; got {api!r}")
        return _hpa(doc, controller_flags or {})
    return _kpa(doc, config)

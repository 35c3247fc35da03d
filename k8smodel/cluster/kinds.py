"""One row per object: what the inventory keeps of each kind (and the checks on it).

Each ``_row_<kind>`` reads the fields the model families use, with the defaults the API server
applies when a field is absent (cited beside each one), and raises :class:`Skip` naming the
field when a field has the wrong shape, so the object is listed in ``Inventory.skipped``
rather than crashing the read or vanishing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from k8smodel.cluster.quantity import parse_bytes, parse_cpu

__all__ = ["CLUSTER_SCOPED", "ROWS", "Skip", "ZONE_LABELS", "INGRESS_NGINX_DEFAULT_BALANCE"]

#: Zone labels, the GA one first (``k8s.io/api/core/v1/well_known_labels.go``).
ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")
REGION_LABELS = ("topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region")
#: ingress-nginx's balancing when neither the annotation nor the ConfigMap sets ``load-balance``:
#: the Lua balancer's ``DEFAULT_LB_ALG`` (``rootfs/etc/nginx/lua/balancer.lua``,
#: ``get_implementation``: ``backend["load-balance"] or DEFAULT_LB_ALG``); the controller's
#: ``NewDefault`` (``internal/ingress/controller/config/config.go``) leaves the key empty.
INGRESS_NGINX_DEFAULT_BALANCE = "round_robin"
LB_ANNOTATION = "nginx.ingress.kubernetes.io/load-balance"
CLUSTER_SCOPED = {"Node", "PersistentVolume", "StorageClass", "CSINode", "Namespace"}


class Skip(Exception):  # noqa: N818 - a signal, not an error: the object is listed, not raised
    """An object the inventory cannot use; the message is the reason listed."""


def get(obj: Mapping, path: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
    """``obj[path]`` (dotted) when present and of ``kind``; ``default`` when absent."""
    node: Any = obj
    for part in path.split("."):
        if not isinstance(node, Mapping) or node.get(part) is None:
            return default
        node = node[part]
    if not isinstance(node, kind) or isinstance(node, bool) and bool not in _as_tuple(kind):
        names = " or ".join(k.__name__ for k in _as_tuple(kind))
        raise Skip(f"{path} must be {names}; got {_short(node)}")
    return node


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _quantity(parse: Callable[[Any, str], float], value: Any, path: str) -> float:
    if value is None:
        return float("nan")
    try:
        return parse(value, path)
    except ValueError as err:
        raise Skip(str(err)) from None


def _labels(obj: Mapping, path: str = "metadata.labels") -> dict[str, str]:
    labels = get(obj, path, dict, {})
    return {str(k): str(v) for k, v in labels.items()}


def _first_label(labels: Mapping[str, str], keys: tuple[str, ...]) -> str:
    return next((labels[k] for k in keys if k in labels), "")


def _int_or_percent(obj: Mapping, path: str, default: int | str) -> int | str:
    """``maxSurge``/``maxUnavailable``: an int or a percent string (IntOrString)."""
    value = get(obj, path, (int, str), default)
    if isinstance(value, str) and not (value.endswith("%") and value[:-1].isdigit()):
        raise Skip(f"{path} must be an integer or a percentage such as '25%'; got {value!r}")
    return value


def _replicas(obj: Mapping, path: str = "spec.replicas") -> int:
    value = get(obj, path, int, 1)  # apps/v1 defaults replicas to 1 (pkg/apis/apps/v1/defaults.go)
    if value < 0:
        raise Skip(f"{path} must be >= 0; got {value}")
    return int(value)


def _condition(obj: Mapping, kind: str) -> bool:
    conditions = get(obj, "status.conditions", list, [])
    return any(
        isinstance(c, Mapping) and c.get("type") == kind and c.get("status") == "True"
        for c in conditions
    )


def _pod_cpu(template: Mapping, where: str) -> float:
    """Sum of the containers' CPU requests (cores) of a pod spec."""
    containers = get(template, "containers", list, [])
    total = 0.0
    for i, c in enumerate(containers):
        if not isinstance(c, Mapping):
            raise Skip(f"{where}.containers[{i}] must be an object")
        value = get(c, "resources.requests.cpu", (str, int, float), None)
        if value is not None:
            total += _quantity(parse_cpu, value, f"{where}.containers[{i}].resources.requests.cpu")
    return total


def _template(obj: Mapping) -> tuple[dict[str, str], float]:
    labels = _labels(obj, "spec.template.metadata.labels")
    spec = get(obj, "spec.template.spec", dict, {})
    return labels, _pod_cpu(spec, "spec.template.spec")


# --------------------------------------------------------------------------------------------
# Rows


def row_node(obj: Mapping) -> dict:
    labels = _labels(obj)
    taints = []
    for i, t in enumerate(get(obj, "spec.taints", list, [])):
        if not isinstance(t, Mapping) or not isinstance(t.get("key"), str):
            raise Skip(f"spec.taints[{i}] must be an object with a key")
        value = f"={t['value']}" if t.get("value") else ""
        taints.append(f"{t['key']}{value}:{t.get('effect', '')}")
    return {
        "zone": _first_label(labels, ZONE_LABELS),
        "region": _first_label(labels, REGION_LABELS),
        "instance_type": labels.get("node.kubernetes.io/instance-type", ""),
        "cpu_allocatable": _quantity(
            parse_cpu,
            get(obj, "status.allocatable.cpu", (str, int, float)),
            "status.allocatable.cpu",
        ),
        "memory_allocatable_bytes": _quantity(
            parse_bytes,
            get(obj, "status.allocatable.memory", (str, int, float)),
            "status.allocatable.memory",
        ),
        "taints": ";".join(taints),
        "ready": _condition(obj, "Ready"),
        "unschedulable": bool(get(obj, "spec.unschedulable", bool, False)),
        "control_plane": "node-role.kubernetes.io/control-plane" in labels,
    }


def row_pod(obj: Mapping) -> dict:
    owners = get(obj, "metadata.ownerReferences", list, [])
    owner = next((o for o in owners if isinstance(o, Mapping) and o.get("controller")), {})
    claims = []
    for i, v in enumerate(get(obj, "spec.volumes", list, [])):
        if not isinstance(v, Mapping):
            raise Skip(f"spec.volumes[{i}] must be an object")
        claim = get(v, "persistentVolumeClaim.claimName", str, None)
        if claim:
            claims.append(claim)
    return {
        "node": get(obj, "spec.nodeName", str, ""),
        "phase": get(obj, "status.phase", str, ""),
        "ready": _condition(obj, "Ready"),
        "owner_kind": str(owner.get("kind", "")),
        "owner_name": str(owner.get("name", "")),
        "cpu_request": _pod_cpu(get(obj, "spec", dict, {}), "spec"),
        "labels": _labels(obj),
        "claims": tuple(claims),
    }


def row_service(obj: Mapping) -> dict:
    selector = get(obj, "spec.selector", dict, {})
    return {
        "type": get(obj, "spec.type", str, "ClusterIP"),
        "selector": {str(k): str(v) for k, v in selector.items()},
        "external_traffic_policy": get(obj, "spec.externalTrafficPolicy", str, "Cluster"),
        "internal_traffic_policy": get(obj, "spec.internalTrafficPolicy", str, "Cluster"),
        "session_affinity": get(obj, "spec.sessionAffinity", str, "None"),
        "traffic_distribution": get(obj, "spec.trafficDistribution", str, ""),
        "ports": len(get(obj, "spec.ports", list, [])),
    }


def row_endpointslice(obj: Mapping) -> dict:
    endpoints = get(obj, "endpoints", list, [])
    ready = 0
    for i, ep in enumerate(endpoints):
        if not isinstance(ep, Mapping):
            raise Skip(f"endpoints[{i}] must be an object")
        # An unset ready condition means ready (discovery/v1 EndpointConditions).
        ready += get(ep, "conditions.ready", bool, True) is not False
    return {
        "service": _labels(obj).get("kubernetes.io/service-name", ""),
        "address_type": get(obj, "addressType", str, ""),
        "endpoints": len(endpoints),
        "ready_endpoints": ready,
    }


def _backend_service(backend: Any) -> str:
    if not isinstance(backend, Mapping):
        return ""
    return str(get(backend, "service.name", str, "") or backend.get("serviceName") or "")


def row_ingress(obj: Mapping) -> dict:
    annotations = get(obj, "metadata.annotations", dict, {})
    backends = [_backend_service(get(obj, "spec.defaultBackend", dict, None))]
    for i, rule in enumerate(get(obj, "spec.rules", list, [])):
        if not isinstance(rule, Mapping):
            raise Skip(f"spec.rules[{i}] must be an object")
        for path in get(rule, "http.paths", list, []):
            backends.append(
                _backend_service(path.get("backend") if isinstance(path, Mapping) else None)
            )
    ingress_class = get(obj, "spec.ingressClassName", str, "") or str(
        annotations.get("kubernetes.io/ingress.class", "")
    )
    return {
        "ingress_class": ingress_class,
        "backends": tuple(sorted({b for b in backends if b})),
        "load_balance_annotation": str(annotations.get(LB_ANNOTATION, "")),
    }


def row_configmap(obj: Mapping) -> dict:
    """Only ingress-nginx's controller ConfigMap is read (its ``load-balance`` key)."""
    name = str(get(obj, "metadata.name", str, ""))
    labels = _labels(obj)
    data = get(obj, "data", dict, {})
    is_nginx = labels.get("app.kubernetes.io/name") == "ingress-nginx" or name in (
        "ingress-nginx-controller",
        "nginx-configuration",
    )
    if not is_nginx:
        raise Skip("ConfigMap not used: only the ingress-nginx controller's ConfigMap is read")
    value = data.get("load-balance", "")
    if not isinstance(value, str):
        raise Skip(f"data.load-balance must be a string; got {_short(value)}")
    return {"load_balance": value}


def row_deployment(obj: Mapping) -> dict:
    labels, cpu = _template(obj)
    # RollingUpdate with 25% / 25% is the default (pkg/apis/apps/v1/defaults.go).
    return {
        "replicas": _replicas(obj),
        "strategy": get(obj, "spec.strategy.type", str, "RollingUpdate"),
        "max_surge": _int_or_percent(obj, "spec.strategy.rollingUpdate.maxSurge", "25%"),
        "max_unavailable": _int_or_percent(
            obj, "spec.strategy.rollingUpdate.maxUnavailable", "25%"
        ),
        "min_ready_s": float(get(obj, "spec.minReadySeconds", int, 0)),
        "progress_deadline_s": float(get(obj, "spec.progressDeadlineSeconds", int, 600)),
        "template_labels": labels,
        "cpu_request": cpu,
        "ready_replicas": int(get(obj, "status.readyReplicas", int, 0)),
    }


def _claim_templates(obj: Mapping) -> list[dict]:
    out = []
    for i, t in enumerate(get(obj, "spec.volumeClaimTemplates", list, [])):
        if not isinstance(t, Mapping):
            raise Skip(f"spec.volumeClaimTemplates[{i}] must be an object")
        where = f"spec.volumeClaimTemplates[{i}]"
        size = get(t, "spec.resources.requests.storage", (str, int, float), None)
        if size is None:
            raise Skip(f"{where}.spec.resources.requests.storage is missing")
        out.append(
            {
                "name": str(get(t, "metadata.name", str, "")),
                "storage_class": get(t, "spec.storageClassName", str, None),
                "request_bytes": _quantity(
                    parse_bytes, size, f"{where}.spec.resources.requests.storage"
                ),
            }
        )
    return out


def row_statefulset(obj: Mapping) -> dict:
    labels, cpu = _template(obj)
    templates = _claim_templates(obj)
    return {
        "replicas": _replicas(obj),
        # OrderedReady and RollingUpdate(partition 0) are the defaults (apps/v1 defaults.go).
        "pod_management_policy": get(obj, "spec.podManagementPolicy", str, "OrderedReady"),
        "update_strategy": get(obj, "spec.updateStrategy.type", str, "RollingUpdate"),
        "partition": int(get(obj, "spec.updateStrategy.rollingUpdate.partition", int, 0)),
        "max_unavailable": _int_or_percent(
            obj, "spec.updateStrategy.rollingUpdate.maxUnavailable", 1
        ),
        "min_ready_s": float(get(obj, "spec.minReadySeconds", int, 0)),
        "claim_templates": tuple(t["name"] for t in templates),
        "claim_storage_classes": tuple(t["storage_class"] or "" for t in templates),
        "claim_request_bytes": tuple(t["request_bytes"] for t in templates),
        "template_labels": labels,
        "cpu_request": cpu,
        "ready_replicas": int(get(obj, "status.readyReplicas", int, 0)),
    }


def row_daemonset(obj: Mapping) -> dict:
    labels, cpu = _template(obj)
    return {
        "max_unavailable": _int_or_percent(
            obj, "spec.updateStrategy.rollingUpdate.maxUnavailable", 1
        ),
        "max_surge": _int_or_percent(obj, "spec.updateStrategy.rollingUpdate.maxSurge", 0),
        "desired": int(get(obj, "status.desiredNumberScheduled", int, 0)),
        "min_ready_s": float(get(obj, "spec.minReadySeconds", int, 0)),
        "template_labels": labels,
        "cpu_request": cpu,
    }


def _hpa_cpu_target(obj: Mapping) -> float:
    v1 = get(obj, "spec.targetCPUUtilizationPercentage", int, None)
    if v1 is not None:
        return float(v1)
    for i, m in enumerate(get(obj, "spec.metrics", list, [])):
        if isinstance(m, Mapping) and m.get("type") == "Resource":
            if get(m, "resource.name", str, "") == "cpu":
                value = get(m, "resource.target.averageUtilization", int, None)
                if value is None:
                    raise Skip(
                        f"spec.metrics[{i}]: only a CPU averageUtilization target is modelled"
                    )
                return float(value)
    return float("nan")


def row_hpa(obj: Mapping) -> dict:
    target = get(obj, "spec.scaleTargetRef", dict, None)
    if target is None:
        raise Skip("spec.scaleTargetRef is missing")
    max_replicas = get(obj, "spec.maxReplicas", int, None)
    if max_replicas is None:
        raise Skip("spec.maxReplicas is missing")
    min_replicas = int(get(obj, "spec.minReplicas", int, 1))  # default 1 (autoscaling/v2)
    if not 1 <= min_replicas <= max_replicas:
        raise Skip(
            f"spec.minReplicas must be in [1, maxReplicas={max_replicas}]; got {min_replicas}"
        )
    return {
        "target_kind": str(target.get("kind", "")),
        "target_name": str(target.get("name", "")),
        "min_replicas": min_replicas,
        "max_replicas": int(max_replicas),
        "target_cpu_utilization": _hpa_cpu_target(obj),
        # Stabilization defaults: 0 s up, 300 s down (pkg/apis/autoscaling/v2/defaults.go).
        "scale_up_stabilization_s": float(
            get(obj, "spec.behavior.scaleUp.stabilizationWindowSeconds", int, 0)
        ),
        "scale_down_stabilization_s": float(
            get(obj, "spec.behavior.scaleDown.stabilizationWindowSeconds", int, 300)
        ),
        "current_replicas": int(get(obj, "status.currentReplicas", int, 0)),
    }


def row_pvc(obj: Mapping) -> dict:
    size = get(obj, "spec.resources.requests.storage", (str, int, float), None)
    if size is None:
        raise Skip("spec.resources.requests.storage is missing")
    return {
        "storage_class": get(obj, "spec.storageClassName", str, None),
        "request_bytes": _quantity(parse_bytes, size, "spec.resources.requests.storage"),
        "access_modes": tuple(get(obj, "spec.accessModes", list, [])),
        "volume_name": get(obj, "spec.volumeName", str, ""),
        "phase": get(obj, "status.phase", str, "Pending"),
    }


def _pv_zones(obj: Mapping) -> tuple[str, ...]:
    zones: list[str] = []
    terms = get(obj, "spec.nodeAffinity.required.nodeSelectorTerms", list, [])
    for term in terms:
        for expr in (term or {}).get("matchExpressions") or []:
            if isinstance(expr, Mapping) and expr.get("key") in ZONE_LABELS:
                zones += [str(v) for v in expr.get("values") or []]
    return tuple(zones)


def row_pv(obj: Mapping) -> dict:
    size = get(obj, "spec.capacity.storage", (str, int, float), None)
    if size is None:
        raise Skip("spec.capacity.storage is missing")
    claim = get(obj, "spec.claimRef", dict, {})
    return {
        "capacity_bytes": _quantity(parse_bytes, size, "spec.capacity.storage"),
        "storage_class": get(obj, "spec.storageClassName", str, ""),
        "access_modes": tuple(get(obj, "spec.accessModes", list, [])),
        "claim": f"{claim.get('namespace', '')}/{claim.get('name', '')}" if claim else "",
        "phase": get(obj, "status.phase", str, ""),
        "csi_driver": get(obj, "spec.csi.driver", str, ""),
        "zones": _pv_zones(obj),
    }


def row_storageclass(obj: Mapping) -> dict:
    annotations = get(obj, "metadata.annotations", dict, {})
    zones: list[str] = []
    for term in get(obj, "allowedTopologies", list, []):
        for expr in (term or {}).get("matchLabelExpressions") or []:
            if isinstance(expr, Mapping) and expr.get("key") in ZONE_LABELS:
                zones += [str(v) for v in expr.get("values") or []]
    provisioner = get(obj, "provisioner", str, None)
    if provisioner is None:
        raise Skip("provisioner is missing")
    return {
        "provisioner": provisioner,
        "volume_binding_mode": get(obj, "volumeBindingMode", str, "Immediate"),
        "reclaim_policy": get(obj, "reclaimPolicy", str, "Delete"),
        "default": annotations.get("storageclass.kubernetes.io/is-default-class") == "true",
        "allowed_zones": tuple(zones),
    }


def row_csinode(obj: Mapping) -> dict:
    """One row per node: its drivers and their ``allocatable.count`` (volume attach limit)."""
    drivers, counts = [], []
    for i, d in enumerate(get(obj, "spec.drivers", list, [])):
        if not isinstance(d, Mapping) or not isinstance(d.get("name"), str):
            raise Skip(f"spec.drivers[{i}] must be an object with a name")
        drivers.append(d["name"])
        count = get(d, "allocatable.count", int, None)
        counts.append(float("nan") if count is None else float(count))
    return {"drivers": tuple(drivers), "allocatable_counts": tuple(counts)}


def row_networkpolicy(obj: Mapping) -> dict:
    selector = get(obj, "spec.podSelector", dict, None)
    if selector is None:
        raise Skip("spec.podSelector is missing (an empty {} selects every pod)")
    return {
        "pod_selector": ",".join(
            f"{k}={v}" for k, v in (selector.get("matchLabels") or {}).items()
        ),
        "policy_types": tuple(get(obj, "spec.policyTypes", list, [])),
        "ingress_rules": len(get(obj, "spec.ingress", list, [])),
        "egress_rules": len(get(obj, "spec.egress", list, [])),
    }


def row_namespace(obj: Mapping) -> dict:
    return {"labels": _labels(obj)}


def row_replicaset(obj: Mapping) -> dict:
    owners = get(obj, "metadata.ownerReferences", list, [])
    owner = next((o for o in owners if isinstance(o, Mapping) and o.get("controller")), {})
    return {"deployment": str(owner.get("name", "")) if owner.get("kind") == "Deployment" else ""}


#: kind -> (table name, row reader)
ROWS: dict[str, tuple[str, Callable[[Mapping], dict]]] = {
    "Node": ("nodes", row_node),
    "Pod": ("pods", row_pod),
    "Service": ("services", row_service),
    "EndpointSlice": ("endpointslices", row_endpointslice),
    "Ingress": ("ingresses", row_ingress),
    "ConfigMap": ("ingress_nginx_configmaps", row_configmap),
    "Deployment": ("deployments", row_deployment),
    "ReplicaSet": ("replicasets", row_replicaset),
    "StatefulSet": ("statefulsets", row_statefulset),
    "DaemonSet": ("daemonsets", row_daemonset),
    "HorizontalPodAutoscaler": ("hpas", row_hpa),
    "PersistentVolumeClaim": ("pvcs", row_pvc),
    "PersistentVolume": ("pvs", row_pv),
    "StorageClass": ("storageclasses", row_storageclass),
    "CSINode": ("csinodes", row_csinode),
    "NetworkPolicy": ("networkpolicies", row_networkpolicy),
    "Namespace": ("namespaces", row_namespace),
}

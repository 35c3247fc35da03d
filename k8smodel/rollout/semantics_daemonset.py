"""DaemonSet controller rules: which nodes count, how many pods may be replaced at once.

Read off kubernetes/kubernetes (through the project's source search; file versions as stored
there, functions named so they can be found in any current checkout):

* ``pkg/controller/daemon/update.go``: ``rollingUpdate`` and ``updatedDesiredNodeCounts``.
  Without surge, the controller deletes just enough old *available* pods to keep the number of
  unavailable nodes (no pod, a terminating pod, or a new pod not yet available for
  ``minReadySeconds``) at ``maxUnavailable``; the manage loop then creates the new pod on that
  node. With surge, it creates a new pod beside the old one on up to ``maxSurge`` nodes and
  deletes a node's old pod once the new one is available. Nodes are taken in the iteration
  order of a Go map (``for nodeName, pods := range nodeToDaemonPods``), which Go randomizes:
  no node order can be relied on. If both budgets resolve to 0 on a non-empty set, the
  controller takes ``maxUnavailable = 1``.
* ``pkg/controller/daemon/util/daemonset_util.go``: ``UnavailableCount`` and ``SurgeCount``
  resolve percentages of the *desired number scheduled* with
  ``GetScaledValueFromIntOrPercent(..., true)``: both round **up** (a Deployment rounds
  maxUnavailable down). ``AddOrUpdateDaemonPodTolerations`` gives every daemon pod tolerations
  for ``node.kubernetes.io/not-ready`` and ``unreachable`` (NoExecute), ``disk-pressure``,
  ``memory-pressure``, ``pid-pressure`` and ``unschedulable`` (NoSchedule), and
  ``network-unavailable`` (NoSchedule) for host-network pods: NotReady and cordoned nodes still
  count.
* ``pkg/controller/daemon/daemon_controller.go``: ``NodeShouldRunDaemonPod`` (a node counts when
  ``spec.template.spec.nodeName`` is empty or names it, the node selector and required node
  affinity match, and every NoSchedule/NoExecute taint is tolerated; a pod already running may
  stay while only NoSchedule taints are untolerated) and ``podsShouldBeOnNode`` (a node whose
  pod is terminating gets no new pod until that pod is gone).
* ``pkg/apis/apps/validation/validation.go``: ``ValidateRollingUpdateDaemonSet``: both fields
  at most 100 %, exactly one of them non-zero ("may not be set when maxUnavailable is
  non-zero", "cannot be 0 when maxSurge is 0").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from k8smodel._validate import check_int
from k8smodel.rollout.semantics import scaled_value

__all__ = [
    "DAEMON_TOLERATIONS",
    "daemonset_budgets",
    "toleration_tolerates",
    "node_should_run_daemon_pod",
    "desired_number_scheduled",
]

#: Tolerations ``AddOrUpdateDaemonPodTolerations`` adds to every daemon pod (the last one only
#: with ``hostNetwork``).
DAEMON_TOLERATIONS: tuple[dict[str, str], ...] = (
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
)
_HOST_NETWORK_TOLERATION = {
    "key": "node.kubernetes.io/network-unavailable",
    "operator": "Exists",
    "effect": "NoSchedule",
}


def daemonset_budgets(
    max_surge: int | str, max_unavailable: int | str, desired: int
) -> tuple[int, int]:
    """``(surge, unavailable)`` pods a DaemonSet rolling update may use at once.

    Parameters
    ----------
    max_surge, max_unavailable : int or str
        ``spec.updateStrategy.rollingUpdate`` (an int or ``"<digits>%"``).
    desired : int
        The desired number scheduled (nodes that should run the daemon).

    Returns
    -------
    tuple of int
        Both resolved with percentages rounded **up** (``SurgeCount``, ``UnavailableCount``);
        ``(0, 1)`` when both come out 0 on a non-empty set (``updatedDesiredNodeCounts``).

    Examples
    --------
    >>> daemonset_budgets(0, "50%", 3)
    (0, 2)
    """
    check_int(desired, "desired", minimum=0)
    surge = scaled_value(max_surge, desired, round_up=True)
    unavailable = scaled_value(max_unavailable, desired, round_up=True)
    if desired > 0 and surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def toleration_tolerates(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    """Whether a toleration matches a taint (``ToleratesTaint`` in ``core/v1/toleration.go``).

    Parameters
    ----------
    toleration : mapping
        ``key``, ``operator`` (``Equal``, the default, or ``Exists``), ``value``, ``effect``.
    taint : mapping
        ``key``, ``value``, ``effect``.

    Returns
    -------
    bool
        An empty effect matches every effect; an empty key with ``Exists`` matches every key;
        ``Equal`` compares values.
    """
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    if not key:
        return False  # an empty key is valid only with Exists
    return (toleration.get("value") or "") == (taint.get("value") or "")


def _match_expression(labels: Mapping[str, str], expr: Mapping[str, Any]) -> bool:
    key, op = str(expr.get("key", "")), expr.get("operator")
    values = list(expr.get("values") or [])
    present = key in labels
    if op == "In":
        return present and labels[key] in values
    if op == "NotIn":
        return not present or labels[key] not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt") and present and len(values) == 1:
        try:
            mine, theirs = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return mine > theirs if op == "Gt" else mine < theirs
    return False


def _affinity_matches(node: Mapping[str, Any], affinity: Mapping[str, Any] | None) -> bool:
    required = ((affinity or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms")
    if not terms:
        return True
    labels = (node.get("metadata") or {}).get("labels") or {}
    fields = {"metadata.name": (node.get("metadata") or {}).get("name", "")}
    for term in terms:  # terms are ORed, expressions within a term ANDed
        exprs = term.get("matchExpressions") or []
        field_exprs = term.get("matchFields") or []
        if not exprs and not field_exprs:
            continue
        if all(_match_expression(labels, e) for e in exprs) and all(
            _match_expression(fields, e) for e in field_exprs
        ):
            return True
    return False


def node_should_run_daemon_pod(
    node: Mapping[str, Any],
    *,
    node_selector: Mapping[str, str] | None = None,
    affinity: Mapping[str, Any] | None = None,
    tolerations: Sequence[Mapping[str, Any]] = (),
    host_network: bool = False,
    node_name: str = "",
) -> tuple[bool, bool]:
    """``(should_run, should_continue_running)`` of a daemon pod on ``node``.

    Parameters
    ----------
    node : mapping
        A Node object as ``kubectl get node -o json`` prints it (``metadata.name``,
        ``metadata.labels``, ``spec.taints``).
    node_selector, affinity, tolerations, host_network, node_name
        The pod template's ``nodeSelector``, ``affinity``, ``tolerations``, ``hostNetwork``
        and ``nodeName``.

    Returns
    -------
    tuple of bool
        As ``NodeShouldRunDaemonPod`` in ``pkg/controller/daemon/daemon_controller.go``: both
        False when the name, selector or required affinity do not match; ``(False, True)``
        when only NoSchedule taints are untolerated (a running pod stays); ``(True, True)``
        otherwise. The daemon tolerations of :data:`DAEMON_TOLERATIONS` are added, so
        NotReady, unreachable and cordoned nodes count.

    Examples
    --------
    >>> cordoned = {"metadata": {"name": "n1"}, "spec": {"taints": [
    ...     {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]}}
    >>> node_should_run_daemon_pod(cordoned)
    (True, True)
    """
    meta = node.get("metadata") or {}
    if node_name and node_name != meta.get("name"):
        return False, False
    labels = meta.get("labels") or {}
    if any(labels.get(k) != v for k, v in (node_selector or {}).items()):
        return False, False
    if not _affinity_matches(node, affinity):
        return False, False
    all_tolerations = list(tolerations) + list(DAEMON_TOLERATIONS)
    if host_network:
        all_tolerations.append(_HOST_NETWORK_TOLERATION)
    untolerated = [
        t
        for t in (node.get("spec") or {}).get("taints") or []
        if t.get("effect") in ("NoSchedule", "NoExecute")
        and not any(toleration_tolerates(tol, t) for tol in all_tolerations)
    ]
    if not untolerated:
        return True, True
    return False, not any(t.get("effect") == "NoExecute" for t in untolerated)


def desired_number_scheduled(nodes: Iterable[Mapping[str, Any]], **template: Any) -> int:
    """How many of ``nodes`` should run the daemon (the status field ``desiredNumberScheduled``).

    Parameters
    ----------
    nodes : iterable of mapping
        Node objects.
    **template
        Passed to :func:`node_should_run_daemon_pod`.

    Returns
    -------
    int
        The nodes whose ``should_run`` is True (``updatedDesiredNodeCounts``).
    """
    return sum(node_should_run_daemon_pod(n, **template)[0] for n in nodes)

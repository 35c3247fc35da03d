"""A user's cluster dump read into one validated inventory.

:func:`read_dump` takes what users make with ``kubectl get nodes,pods,svc,... -A -o json`` (or
``-o yaml``): one ``List``, several files, a folder of them, or objects already parsed. Every
file goes through :func:`k8smodel.manifests.load_objects` (size, alias, depth limits, duplicate
keys refused). The :class:`Inventory` holds one tidy table per kind (Nodes, Pods, Services,
EndpointSlices, Ingresses, Deployments, StatefulSets, DaemonSets, HPAs, PVCs, PVs,
StorageClasses, CSINodes, NetworkPolicies, Namespaces, the ingress-nginx ConfigMap), the raw
objects each family's ``from_manifest`` reads, and ``skipped``: every object it could not use,
with the reason. Nothing is dropped silently.

This package is not a model family: it imports no family, and families do not import it; the
compositions that feed its objects to the families live in :mod:`k8smodel.studies`.
"""

from k8smodel.cluster.inventory import KINDS, Inventory, read_dump
from k8smodel.cluster.quantity import parse_bytes, parse_cpu

__all__ = ["KINDS", "Inventory", "read_dump", "parse_bytes", "parse_cpu"]

"""NetworkPolicy: who can reach whom, computed from manifests.

The family answers, for a set of Pods, workloads and NetworkPolicies: which connections
(source x destination x protocol/port) are allowed; which pods are isolated per direction; the
fraction of pod pairs that can talk; the blast radius of a compromised pod (pods reachable
transitively, in hops); default-deny coverage per namespace; and what a policy change opens
and closes. The relation is computed with vectorized boolean algebra over label-equivalence
classes (:mod:`k8smodel.netpol.reach`) and checked against netpol-analyzer's expected
connection lists (``tests/test_netpol_analyzer.py``).

Public names
------------
Spec: :class:`Cluster`, :class:`Workload`, :class:`Namespace`, :class:`NetworkPolicy`,
:class:`Rule`, :class:`Peer`, :class:`PolicyPort`, :class:`IPBlock`, :class:`LabelSelector`,
:class:`Requirement`, :class:`ContainerPort`.
Verbs: :func:`from_manifest`, :func:`analyze` (-> :class:`NetpolResult`), :func:`connlist`,
:func:`blast_radius` (-> :class:`BlastResult`), :func:`diff` (-> :class:`DiffResult`).
Rules: :mod:`k8smodel.netpol.semantics`.

This family has no ``theory.py``/``simulate.py``: the relation is computed exactly, there is
nothing random to simulate and no closed form beyond the rules themselves.
"""

from k8smodel.netpol.analysis import (
    BlastResult,
    DiffResult,
    NetpolResult,
    analyze,
    blast_radius,
    connlist,
    diff,
)
from k8smodel.netpol.manifest import from_manifest
from k8smodel.netpol.spec import (
    Cluster,
    ContainerPort,
    IPBlock,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    Peer,
    PolicyPort,
    Requirement,
    Rule,
    Workload,
)

__all__ = [
    "BlastResult",
    "Cluster",
    "ContainerPort",
    "DiffResult",
    "IPBlock",
    "LabelSelector",
    "Namespace",
    "NetpolResult",
    "NetworkPolicy",
    "Peer",
    "PolicyPort",
    "Requirement",
    "Rule",
    "Workload",
    "analyze",
    "blast_radius",
    "connlist",
    "diff",
    "from_manifest",
]

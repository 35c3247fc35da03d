"""Storage: quantities, PV/PVC binding, bin packing with attach limits, manifest loading.

What it answers: which PersistentVolume each claim binds (and why others stay Pending),
what static pools waste against dynamic provisioning, and how many nodes or disks a set
of volumes needs under a capacity budget and the CSI attach limits.

* :mod:`~k8smodel.storage.semantics`: the PV controller's and scheduler's rules as
  small cited functions (FindMatchingVolume, findByClaim's access-mode sets,
  byPVCSize, checkVolumeSatisfyClaim, IsDelayBindingMode, ...).
* :mod:`~k8smodel.storage.spec`: the claim and volume table schema
  (:func:`make_claims`, :func:`make_volumes`), :class:`StaticPool`, :class:`Node`.
* :func:`bind`: the controller's and scheduler's binding, with waste and pending
  reasons (:class:`BindingResult`).
* :func:`pack`, :func:`lower_bound`: bin-packing heuristics, the exact arc-flow
  optimum and the Martello-Toth bounds, optionally with a cap on volumes per bin
  (:class:`Packing`, :class:`LowerBound`); :func:`nodes_needed` puts them side by side.
* :func:`simulate`: a claim stream meeting a static pool (waste, Pending claims).
* :func:`attach_limit`: per-node volume limits of the AWS, GCE and Azure CSI drivers.
* :func:`parse_quantity`, :func:`format_quantity`, :func:`to_bytes`: Kubernetes
  quantities exactly as apimachinery parses and prints them.
* :func:`from_manifest`: PVs, PVCs, StorageClasses and StatefulSets from YAML/JSON.
"""

from k8smodel.storage import semantics
from k8smodel.storage.attach import PROVIDERS, attach_limit, attach_limits
from k8smodel.storage.binding import BINDING_MODES, BindingResult, bind
from k8smodel.storage.manifest import Manifests, from_manifest
from k8smodel.storage.packing import METHODS, LowerBound, Packing, lower_bound, pack
from k8smodel.storage.quantity import (
    Quantity,
    format_quantity,
    parse_quantity,
    readable_bytes,
    to_bytes,
)
from k8smodel.storage.semantics import (
    ACCESS_MODES,
    NO_PROVISIONER,
    PROVISION_UNIT_BYTES,
    VOLUME_MODES,
)
from k8smodel.storage.simulate import simulate
from k8smodel.storage.spec import Node, StaticPool, make_claims, make_volumes
from k8smodel.storage.theory import nodes_needed

__all__ = [
    "ACCESS_MODES",
    "BINDING_MODES",
    "METHODS",
    "NO_PROVISIONER",
    "PROVIDERS",
    "PROVISION_UNIT_BYTES",
    "VOLUME_MODES",
    "BindingResult",
    "LowerBound",
    "Manifests",
    "Node",
    "Packing",
    "Quantity",
    "StaticPool",
    "attach_limit",
    "attach_limits",
    "bind",
    "format_quantity",
    "from_manifest",
    "lower_bound",
    "make_claims",
    "make_volumes",
    "nodes_needed",
    "pack",
    "parse_quantity",
    "readable_bytes",
    "semantics",
    "simulate",
    "to_bytes",
]

"""Storage: quantities, PV/PVC binding, bin packing with attach limits, manifest loading.

* :func:`parse_quantity`, :func:`format_quantity`, :func:`to_bytes`: Kubernetes
  quantities exactly as apimachinery parses and prints them.
* :func:`load_manifests`: PVs, PVCs, StorageClasses and StatefulSets from YAML/JSON.
* :func:`bind`: the PV controller's and scheduler's binding, with waste and pending reasons.
* :func:`pack`, :func:`lower_bound`: bin packing heuristics, the exact arc-flow
  optimum and the Martello-Toth bounds, optionally with a cap on volumes per bin.
* :func:`attach_limit`: per-node volume limits of the AWS, GCE and Azure CSI drivers.
"""

from k8smodel.storage.attach import PROVIDERS, attach_limit, attach_limits
from k8smodel.storage.binding import (
    NO_PROVISIONER,
    PROVISION_UNIT_BYTES,
    BindingResult,
    bind,
    make_claims,
    make_volumes,
)
from k8smodel.storage.manifests import ACCESS_MODES, Manifests, load_manifests
from k8smodel.storage.packing import METHODS, Packing, lower_bound, pack
from k8smodel.storage.quantity import Quantity, format_quantity, parse_quantity, to_bytes

__all__ = [
    "ACCESS_MODES",
    "METHODS",
    "NO_PROVISIONER",
    "PROVIDERS",
    "PROVISION_UNIT_BYTES",
    "BindingResult",
    "Manifests",
    "Packing",
    "Quantity",
    "attach_limit",
    "attach_limits",
    "bind",
    "format_quantity",
    "load_manifests",
    "lower_bound",
    "make_claims",
    "make_volumes",
    "pack",
    "parse_quantity",
    "to_bytes",
]

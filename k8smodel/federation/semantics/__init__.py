"""The real systems' rules, each cited to its source file and tested on its own.

* :mod:`~k8smodel.federation.semantics.replicas` - Karmada's and KubeFed's replica division
  (``pkg/util/helper/webstermethod.go``, ``binding.go``; ``planner.go``);
* :mod:`~k8smodel.federation.semantics.routing` - the global balancer's routing rules
  (k8gb's ``geoip``, ``roundRobin``, ``failover``).

The contract's ``semantics.py`` is this package: the two schedulers' replica rules alone pass
560 lines, so replicas and routing are modules of their own; import from here.
"""

from k8smodel.federation.semantics.replicas import (
    divide_replicas,
    fnv32,
    fnv32a,
    karmada_legacy,
    karmada_tie_order,
    kubefed_plan,
    webster,
)
from k8smodel.federation.semantics.routing import ROUTING_POLICIES, _weights, route

__all__ = [
    "ROUTING_POLICIES",
    "_weights",
    "divide_replicas",
    "fnv32",
    "fnv32a",
    "karmada_legacy",
    "karmada_tie_order",
    "kubefed_plan",
    "route",
    "webster",
]

"""Load distribution over a Service's pods: dispatch policies, simulation and queueing theory."""

from k8smodel.lb.connections import (
    approx_expected_jain,
    expected_idle_pods,
    place_random,
    random_connections_summary,
)

__all__ = [
    "approx_expected_jain",
    "expected_idle_pods",
    "place_random",
    "random_connections_summary",
]

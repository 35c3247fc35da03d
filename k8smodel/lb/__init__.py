"""Load distribution over a Service's pods: policies, vectorized simulator, queueing theory.

* :func:`simulate` / :func:`compare`: Poisson requests through a named policy
  (``random``, ``round_robin``, ``least_connections``, ``power_of_two``,
  ``ewma`` and the aliases of the real mechanisms, see :mod:`k8smodel.lb.policies`).
* :func:`theory`: closed forms (M/M/1, Pollaczek-Khinchine, E_n/M/1, the
  supermarket mean field, Erlang C for the pooled floor).
* :mod:`k8smodel.lb.connections`: long-lived connections as balls into bins.
"""

from k8smodel.lb import connections, policies
from k8smodel.lb.connections import (
    approx_expected_jain,
    expected_idle_pods,
    max_load_order,
    place_d_choice,
    place_random,
    random_connections_summary,
)
from k8smodel.lb.policies import ALIASES, POLICIES, resolve_policy
from k8smodel.lb.simulation import (
    SimulationResult,
    compare,
    simulate,
    simulate_summary,
    smooth_wrr_sequence,
)
from k8smodel.lb.theory import (
    en_m1_sigma,
    erlang_c,
    gi_m1_sigma,
    jsq_mean_response,
    supermarket_mean_response,
    supermarket_tails,
    theory,
)

__all__ = [
    "ALIASES",
    "POLICIES",
    "SimulationResult",
    "approx_expected_jain",
    "compare",
    "connections",
    "en_m1_sigma",
    "erlang_c",
    "expected_idle_pods",
    "gi_m1_sigma",
    "jsq_mean_response",
    "max_load_order",
    "place_d_choice",
    "place_random",
    "policies",
    "random_connections_summary",
    "resolve_policy",
    "simulate",
    "simulate_summary",
    "smooth_wrr_sequence",
    "supermarket_mean_response",
    "supermarket_tails",
    "theory",
]

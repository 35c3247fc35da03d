"""Load distribution over a Service's pods: policies, simulation and queueing theory.

* :func:`simulate` / :func:`compare`: Poisson requests through a named policy
  (``random``, ``round_robin``, ``least_connections``, ``power_of_two``, ``ewma``
  and the aliases of the real mechanisms, see :mod:`k8smodel.lb.policies`); both
  return a :class:`k8smodel.Result` (:class:`LbResult` adds ``per_pod``).
* :func:`theory`: closed forms (M/M/1, Pollaczek-Khinchine, E_n/M/1, the
  supermarket mean field, the JSQ chain, Erlang C for the pooled floor).
* :mod:`k8smodel.lb.connections`: long-lived connections as balls into bins.
* :mod:`k8smodel.lb.semantics`: rules shared by policies (nginx's smooth weighted
  round robin, HAProxy's consistent-hash ring).

Times are in seconds: the service law is given in seconds and defaults to an
exponential with mean 1 s, so with the default a time in seconds is also a time in
mean service times.
"""

from k8smodel.lb import connections, policies, semantics
from k8smodel.lb.connections import (
    approx_expected_jain,
    expected_idle_pods,
    max_load_order,
    place_d_choice,
    place_random,
    random_connections_summary,
)
from k8smodel.lb.policies import ALIASES, POLICIES, resolve
from k8smodel.lb.semantics import haproxy_full_hash, haproxy_ring_shares, smooth_wrr_sequence
from k8smodel.lb.simulate import LbResult, compare, simulate, simulate_spec
from k8smodel.lb.spec import Balancer, LbSpec, ServiceLaw, service_law
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
    "Balancer",
    "LbResult",
    "LbSpec",
    "ServiceLaw",
    "approx_expected_jain",
    "compare",
    "connections",
    "en_m1_sigma",
    "erlang_c",
    "expected_idle_pods",
    "gi_m1_sigma",
    "haproxy_full_hash",
    "haproxy_ring_shares",
    "jsq_mean_response",
    "max_load_order",
    "place_d_choice",
    "place_random",
    "policies",
    "random_connections_summary",
    "resolve",
    "semantics",
    "service_law",
    "simulate",
    "simulate_spec",
    "smooth_wrr_sequence",
    "supermarket_mean_response",
    "supermarket_tails",
    "theory",
]

"""Federation: what spreading a service over clusters in many regions buys, and costs.

The family follows the house contract (``docs/architecture.md``):

* :mod:`~k8smodel.federation.spec` - :class:`Federation`, :class:`FailureModel`,
  :class:`DnsFailover`: what the user describes (validated, frozen);
* :mod:`~k8smodel.federation.semantics` - Karmada's and KubeFed's replica division
  and the global balancer's routing rules, each cited to its source file;
* :mod:`~k8smodel.federation.theory` - k-of-n availability (binomial, beta-binomial,
  shocks), DNS failover bounds, headroom, bad changes in waves;
* :mod:`~k8smodel.federation.simulate` - Monte Carlo availability and failover.

Four more modules hold what has no place in that split without cutting it apart:
:mod:`~k8smodel.federation.geo` (the region catalog and the user population, data),
:mod:`~k8smodel.federation.latency` (the RTT model fitted to measurements),
:mod:`~k8smodel.federation.routing` (latency bookkeeping over a population),
:mod:`~k8smodel.federation.placement` (exact placement for mean, p95, p99, max RTT) and
:mod:`~k8smodel.federation.cost`; :func:`evaluate` scores a set of clusters on all of
them. Every verb returns a :class:`FederationResult` (a :class:`k8smodel.Result`).

Examples
--------
>>> from k8smodel import federation as fed
>>> ev = fed.evaluate(["us-east-1", "eu-west-1", "ap-southeast-1"])
>>> ev.summary[["p50_rtt_ms", "p95_rtt_ms", "availability", "method"]]  # doctest: +SKIP
"""

from k8smodel.federation.cost import monthly_cost, transfer_price_usd_per_gb, transfer_prices
from k8smodel.federation.evaluate import evaluate, frontier
from k8smodel.federation.geo import (
    EARTH_RADIUS_KM,
    distance_km,
    haversine_km,
    locate,
    regions,
    users,
)
from k8smodel.federation.latency import (
    FIBRE_KM_PER_MS,
    RttModel,
    default_rtt_model,
    fibre_rtt_ms,
    fit_rtt_model,
    load_azure_p50,
    rtt_ms,
)
from k8smodel.federation.placement import (
    OBJECTIVES,
    all_placements,
    brute_force_placement,
    greedy_placement,
    p_median_lagrangian,
    p_median_milp,
    place,
    quantile_placement_milp,
)
from k8smodel.federation.results import FederationResult
from k8smodel.federation.routing import (
    failure_scenarios,
    latency_matrix,
    latency_summary,
    weighted_quantile,
)
from k8smodel.federation.semantics import (
    divide_replicas,
    karmada_legacy,
    karmada_tie_order,
    kubefed_plan,
    route,
    webster,
)
from k8smodel.federation.simulate import simulate_availability, simulate_failover
from k8smodel.federation.spec import (
    DEFAULT_CORRELATION,
    FAILOVER_PRESETS,
    DnsFailover,
    FailureModel,
    Federation,
)
from k8smodel.federation.theory import (
    availability,
    bad_change_impact,
    beta_binomial_parameters,
    failover_time,
    headroom,
    shocks_for,
)

__all__ = [
    "DEFAULT_CORRELATION",
    "EARTH_RADIUS_KM",
    "FAILOVER_PRESETS",
    "FIBRE_KM_PER_MS",
    "OBJECTIVES",
    "DnsFailover",
    "FailureModel",
    "Federation",
    "FederationResult",
    "RttModel",
    "all_placements",
    "availability",
    "bad_change_impact",
    "beta_binomial_parameters",
    "brute_force_placement",
    "default_rtt_model",
    "distance_km",
    "divide_replicas",
    "evaluate",
    "failover_time",
    "failure_scenarios",
    "fibre_rtt_ms",
    "fit_rtt_model",
    "frontier",
    "greedy_placement",
    "haversine_km",
    "headroom",
    "karmada_legacy",
    "karmada_tie_order",
    "kubefed_plan",
    "latency_matrix",
    "latency_summary",
    "load_azure_p50",
    "locate",
    "monthly_cost",
    "p_median_lagrangian",
    "p_median_milp",
    "place",
    "quantile_placement_milp",
    "regions",
    "route",
    "rtt_ms",
    "shocks_for",
    "simulate_availability",
    "simulate_failover",
    "transfer_price_usd_per_gb",
    "transfer_prices",
    "users",
    "weighted_quantile",
    "webster",
]

"""Federation: what spreading a service over clusters in many regions buys, and costs.

Geography and latency (:mod:`~k8smodel.federation.geo`,
:mod:`~k8smodel.federation.latency`), routing (:mod:`~k8smodel.federation.routing`),
failure isolation (:mod:`~k8smodel.federation.availability`), cost
(:mod:`~k8smodel.federation.cost`), placement (:mod:`~k8smodel.federation.placement`),
replica division as Karmada and KubeFed do it (:mod:`~k8smodel.federation.replicas`),
and :func:`evaluate`, which scores a set of clusters on all of them.

Examples
--------
>>> from k8smodel import federation as fed
>>> ev = fed.evaluate(["us-east-1", "eu-west-1", "ap-southeast-1"])
>>> ev.summary[["p50_ms", "p95_ms", "availability"]]  # doctest: +SKIP
"""

from k8smodel.federation.availability import (
    FAILOVER_PRESETS,
    availability,
    availability_model,
    availability_with_shocks,
    bad_change_impact,
    beta_binomial_parameters,
    failover_samples,
    failover_time,
    headroom,
    shocks_for,
    simulate_availability,
    unavailability,
    unavailability_with_shocks,
)
from k8smodel.federation.cost import monthly_cost, transfer_price_usd_per_gb, transfer_prices
from k8smodel.federation.evaluate import Evaluation, evaluate, frontier
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
    Placement,
    all_placements,
    brute_force_placement,
    greedy_placement,
    p_median_milp,
    place,
)
from k8smodel.federation.replicas import divide_replicas, karmada_legacy, kubefed_plan, webster
from k8smodel.federation.routing import (
    failure_scenarios,
    latency_matrix,
    latency_summary,
    route,
    weighted_quantile,
)

__all__ = [
    "EARTH_RADIUS_KM",
    "FAILOVER_PRESETS",
    "FIBRE_KM_PER_MS",
    "Evaluation",
    "Placement",
    "RttModel",
    "all_placements",
    "availability",
    "availability_model",
    "availability_with_shocks",
    "bad_change_impact",
    "beta_binomial_parameters",
    "brute_force_placement",
    "default_rtt_model",
    "distance_km",
    "divide_replicas",
    "evaluate",
    "failover_samples",
    "failover_time",
    "failure_scenarios",
    "frontier",
    "fibre_rtt_ms",
    "fit_rtt_model",
    "greedy_placement",
    "haversine_km",
    "headroom",
    "karmada_legacy",
    "kubefed_plan",
    "latency_matrix",
    "latency_summary",
    "load_azure_p50",
    "locate",
    "monthly_cost",
    "p_median_milp",
    "place",
    "regions",
    "route",
    "rtt_ms",
    "shocks_for",
    "simulate_availability",
    "transfer_price_usd_per_gb",
    "transfer_prices",
    "unavailability",
    "unavailability_with_shocks",
    "users",
    "weighted_quantile",
    "webster",
]

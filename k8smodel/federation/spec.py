"""What a user describes: a federation (clusters, routing), its failure model and its DNS failover.

Frozen dataclasses validated in ``__post_init__`` through :mod:`k8smodel._validate`. The
user population is a table (:func:`k8smodel.federation.users`, filterable by continent,
sub-region and country), not a dataclass: it is data, often thousands of rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from k8smodel._validate import check_choice, check_int, check_probability, check_real

__all__ = [
    "DEFAULT_CORRELATION",
    "FAILOVER_PRESETS",
    "ROUTING_POLICIES",
    "DnsFailover",
    "FailureModel",
    "Federation",
]

ROUTING_POLICIES = ("nearest", "round_robin", "failover")

#: Pairwise correlation of cluster failures assumed unless told otherwise: the middle of the
#: range notebook 02 explores (0.01-0.1). Independent failures (0) promise 1e-9 for three
#: 99.9 % clusters, which shared causes (one provider, one change pipeline, one DNS) never allow.
DEFAULT_CORRELATION = 0.05

_SHOCKS = ("region_shock_probability", "provider_shock_probability", "global_shock_probability")


@dataclass(frozen=True)
class FailureModel:
    """How clusters fail: a per-cluster availability and what makes failures move together.

    Parameters
    ----------
    cluster_availability : float, default 0.999
        Probability that one cluster is up (in [0, 1]).
    correlation : float or None, default None
        Pairwise correlation of cluster up/down states (beta-binomial), in [0, 1]. ``None``
        resolves to :data:`DEFAULT_CORRELATION` without shocks and to 0 with shocks.
        0 means independent failures; 1 means all clusters fail together.
    region_shock_probability, provider_shock_probability, global_shock_probability : float
        Common-cause shocks (Marshall-Olkin) taking down every cluster of a region, of a
        provider, or all clusters at once; they replace the beta-binomial (``correlation``
        must then be 0 or None).

    Examples
    --------
    >>> FailureModel().method
    'beta_binomial'
    >>> FailureModel(correlation=0).method
    'binomial'
    """

    cluster_availability: float = 0.999
    correlation: float | None = None
    region_shock_probability: float = 0.0
    provider_shock_probability: float = 0.0
    global_shock_probability: float = 0.0

    def __post_init__(self) -> None:
        check_probability(self.cluster_availability, "cluster_availability")
        shocks = [check_probability(getattr(self, name), name) for name in _SHOCKS]
        if self.correlation is None:
            rho = 0.0 if any(shocks) else DEFAULT_CORRELATION
        else:
            rho = check_probability(self.correlation, "correlation")
            if rho > 0 and any(shocks):
                raise ValueError(
                    "use either correlation (beta-binomial) or shock probabilities, not both; "
                    f"got correlation={self.correlation!r} with shocks"
                )
        object.__setattr__(self, "correlation", rho)

    @property
    def has_shocks(self) -> bool:
        """Whether any common-cause shock has a positive probability."""
        return any(getattr(self, name) > 0 for name in _SHOCKS)

    @property
    def method(self) -> str:
        """The law of the number of clusters up.

        ``binomial``, ``beta_binomial``, ``common_mode`` (correlation 1) or ``shocks``
        (Poisson-binomial under enumerated shocks).
        """
        if self.has_shocks:
            return "shocks"
        rho = float(self.correlation or 0.0)
        return "binomial" if rho == 0 else "common_mode" if rho == 1 else "beta_binomial"

    @property
    def label(self) -> str:
        """A readable description, e.g. ``"beta_binomial(rho=0.05)"``."""
        if self.has_shocks:
            parts = [f"{n.split('_')[0]}={getattr(self, n):g}" for n in _SHOCKS]
            return "shocks(" + ", ".join(parts) + ")"
        return f"{self.method}(rho={self.correlation:g})"


#: Failover settings documented by DNS providers and resolvers (REFERENCE.md §4).
FAILOVER_PRESETS: dict[str, dict[str, Any]] = {
    "azure-traffic-manager": {"probe_interval_s": 30.0, "failure_threshold": 4, "ttl_s": 30.0},
    "route53": {"probe_interval_s": 30.0, "failure_threshold": 3},
    "k8gb": {"ttl_s": 30.0},
    "coredns-cache": {"client_cache_s": 30.0},
    "jvm": {"client_cache_s": 30.0},
}


@dataclass(frozen=True)
class DnsFailover:
    """DNS failover settings: health-check probing, record TTL and client caching.

    Parameters
    ----------
    probe_interval_s : float, default 30
        Health-check interval (Route 53 and Azure Traffic Manager default 30 s).
    failure_threshold : int, default 3
        Consecutive failed probes before an endpoint is marked down (Route 53 3,
        Traffic Manager 4).
    ttl_s : float, default 30
        DNS record TTL (k8gb and Traffic Manager default 30 s).
    client_cache_s : float, default 30
        Caching after the resolver (CoreDNS ``cache 30``, the JVM's 30 s).
    """

    probe_interval_s: float = 30.0
    failure_threshold: int = 3
    ttl_s: float = 30.0
    client_cache_s: float = 30.0

    def __post_init__(self) -> None:
        for name in ("probe_interval_s", "ttl_s", "client_cache_s"):
            # a probe needs a period > 0; a TTL or cache of 0 means "not cached"
            strict = name == "probe_interval_s"
            value = check_real(getattr(self, name), name, minimum=0.0, lower_open=strict)
            object.__setattr__(self, name, value)
        check_int(self.failure_threshold, "failure_threshold", minimum=1)

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> DnsFailover:
        """Settings of a documented setup (:data:`FAILOVER_PRESETS`) with ``overrides``.

        Examples
        --------
        >>> DnsFailover.preset("azure-traffic-manager", client_cache_s=0).failure_threshold
        4
        """
        check_choice(name, "preset", FAILOVER_PRESETS)
        return cls(**{**FAILOVER_PRESETS[name], **overrides})


@dataclass(frozen=True)
class Federation:
    """A set of clusters and how users are routed to them.

    Parameters
    ----------
    clusters : sequence of region names or (lat, lon) points
        Where the clusters run (region names from :func:`k8smodel.federation.regions`).
    routing : {"nearest", "round_robin", "failover"}, default "nearest"
        The global balancer's policy (:func:`k8smodel.federation.semantics.route`).
    weights : sequence of float, optional
        Round-robin weights, one per cluster.
    order : sequence of int, optional
        Failover priority (cluster indices, most preferred first).
    needed : int, default 1
        Clusters that must be up for the service to be up.
    failures : int, default 1
        Simultaneous cluster failures the headroom must absorb.
    """

    clusters: Sequence[Any]
    routing: str = "nearest"
    weights: Sequence[float] | None = None
    order: Sequence[int] | None = None
    needed: int = 1
    failures: int = 1
    names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        if isinstance(self.clusters, str):
            raise TypeError(
                f"clusters must be a sequence of region names or points; got {self.clusters!r}"
            )
        clusters = tuple(c if isinstance(c, str) else tuple(c) for c in self.clusters)
        if not clusters:
            raise ValueError("clusters must name at least one region; got none")
        repeated = sorted({str(c) for c in clusters if clusters.count(c) > 1})
        if repeated:
            raise ValueError(f"clusters must be distinct; {repeated} repeat")
        object.__setattr__(self, "clusters", clusters)
        object.__setattr__(self, "names", tuple(str(c) for c in clusters))
        check_choice(self.routing, "routing", ROUTING_POLICIES)
        check_int(self.needed, "needed", minimum=1, maximum=len(clusters))
        check_int(self.failures, "failures", minimum=0)

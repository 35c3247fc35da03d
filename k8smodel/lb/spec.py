"""What a user describes: a service-time law and a Service's pods behind a balancer.

Frozen dataclasses validated in ``__post_init__`` through :mod:`k8smodel._validate`;
they hold no behaviour beyond derived properties. Times are in **seconds**: the
service law is given in seconds and defaults to an exponential with mean 1 s, so
with the default a time in seconds is also a time in mean service times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from k8smodel._validate import (
    check_distribution,
    check_int,
    check_probability,
    check_real,
    check_vector,
    describe,
)
from k8smodel.lb.policies import Policy, option_users, resolve

__all__ = ["Balancer", "LbSpec", "ServiceLaw", "check_run", "service_law"]


@dataclass(frozen=True)
class ServiceLaw:
    """A service-time law in seconds (exponential, deterministic or a scipy.stats law).

    Attributes
    ----------
    kind : str
        Which family the draws come from.
    mean_s : float
        Mean service time in seconds.
    second_moment_s2 : float
        :math:`E[S^2]` in square seconds.
    dist : object
        The frozen ``scipy.stats`` law for ``kind == "scipy"``.
    """

    kind: str
    mean_s: float
    second_moment_s2: float
    dist: Any = None

    @property
    def scv(self) -> float:
        """Squared coefficient of variation ``Var[S] / E[S]^2``."""
        return self.second_moment_s2 / self.mean_s**2 - 1.0

    @property
    def exponential(self) -> bool:
        """Whether the law is exponential (the closed forms need it)."""
        return self.kind == "exponential"

    def describe(self) -> str:
        """The law in words, for notes and the command line."""
        if self.kind == "exponential":
            return f"exponential service times, mean {self.mean_s:g} s"
        if self.kind == "deterministic":
            return f"deterministic service time {self.mean_s:g} s"
        name = getattr(getattr(self.dist, "dist", None), "name", "scipy")
        return f"{name} service times, mean {self.mean_s:g} s, SCV {self.scv:.3g}"

    def draw(self, gen: np.random.Generator, size) -> np.ndarray:
        """Draw service requirements (seconds) of shape ``size`` in bulk."""
        if self.kind == "exponential":
            draws = gen.standard_exponential(size)
            if self.mean_s != 1.0:
                draws *= self.mean_s
            return draws
        if self.kind == "deterministic":
            return np.full(size, self.mean_s)
        return np.asarray(self.dist.rvs(size=size, random_state=gen), dtype=float)


def service_law(service: Any) -> ServiceLaw:
    """Turn ``service`` (None, seconds, or a frozen scipy.stats law in seconds) into a ServiceLaw.

    Examples
    --------
    >>> service_law(None).mean_s, service_law(0.25).kind
    (1.0, 'deterministic')
    """
    if service is None:
        return ServiceLaw("exponential", 1.0, 2.0)
    value = check_distribution(service, "service")
    if isinstance(value, float):
        if not 0 < value < math.inf:
            raise ValueError(f"service must be a positive finite number of seconds; got {value!r}")
        return ServiceLaw("deterministic", value, value * value)
    mean = float(value.mean())
    if not math.isfinite(mean) or mean <= 0:
        raise ValueError(f"service must have a finite positive mean; got a law with mean {mean!r}")
    if getattr(value.dist, "name", "") == "expon" and float(value.support()[0]) == 0:
        return ServiceLaw("exponential", mean, 2 * mean * mean)
    return ServiceLaw("scipy", mean, float(value.moment(2)), value)


def _optional_bool(value: Any, name: str) -> bool | None:
    if value is not None and not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True, False or None; got {describe(value)}")
    return None if value is None else bool(value)


@dataclass(frozen=True)
class Balancer:
    """A balancing policy with its options, after the alias's implied values.

    Attributes
    ----------
    policy : str
        A name or alias from :mod:`k8smodel.lb.policies`.
    dispatchers : int
        Independent dispatchers (kube-proxies, nginx workers).
    choices, distinct, shared_state : optional
        Policy options (None takes the alias's or the policy's default).
    draw_weights : sequence of float, optional
        ``power_of_two``: relative draw probabilities.
    """

    policy: str
    dispatchers: int = 1
    choices: int | None = None
    distinct: bool | None = None
    shared_state: bool | None = None
    draw_weights: Any = None
    rule: Policy = field(init=False, repr=False)
    alias: str = field(init=False)

    def __post_init__(self) -> None:
        rule, alias, implied = resolve(self.policy)
        set_ = object.__setattr__
        set_(self, "rule", rule)
        set_(self, "alias", alias)
        set_(
            self,
            "dispatchers",
            check_int(self.dispatchers, "dispatchers", minimum=1, maximum=MAX_PODS),
        )
        given = {
            "choices": self.choices,
            "distinct": _optional_bool(self.distinct, "distinct"),
            "shared_state": _optional_bool(self.shared_state, "shared_state"),
            "draw_weights": self.draw_weights,
        }
        for key, value in given.items():
            if value is not None and not rule.uses(key, value):
                users = option_users(key)
                raise ValueError(
                    f"{key}: the {rule.name} policy does not use it (only {', '.join(users)}); "
                    f"got {key}={describe(value)}"
                )
        merged = {**rule.defaults, **implied, **{k: v for k, v in given.items() if v is not None}}
        if merged.get("choices") is not None:
            merged["choices"] = check_int(merged["choices"], "choices", minimum=1)
        for key in ("choices", "distinct", "shared_state"):
            set_(self, key, merged.get(key))


@dataclass(frozen=True)
class LbSpec:
    """A Service's pods, their load and a balancer: everything :func:`k8smodel.lb.simulate` runs.

    Attributes
    ----------
    balancer : Balancer
        The policy and its options.
    pods : int
        Number of pods.
    utilization, arrival_rate_per_s : float, optional
        Give exactly one: offered load over total capacity, or total requests per second.
    speeds, weights : sequence, optional
        Relative service rates per pod; integer balancer weights.
    service : ServiceLaw
        Service time per request (seconds) on a pod of speed 1.
    concurrency : int
        Threads per pod.
    requests_per_connection : float
        Requests per connection (``math.inf`` keeps connections open for the run).
    connections : int, optional
        The client's pool size (default ``4 * pods``) when connections carry several requests.
    """

    balancer: Balancer
    pods: int
    utilization: float | None = None
    arrival_rate_per_s: float | None = None
    speeds: Any = None
    weights: Any = None
    service: Any = None
    concurrency: int = 1
    requests_per_connection: float = 1
    connections: int | None = None
    #: Relative draw probabilities (``power_of_two``): ``balancer.draw_weights`` or ``weights``.
    draw_weights: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        rule = self.balancer.rule
        n = check_int(self.pods, "pods", minimum=1, maximum=MAX_PODS)
        set_(self, "pods", n)
        set_(
            self,
            "concurrency",
            check_int(self.concurrency, "concurrency", minimum=1, maximum=MAX_CONCURRENCY),
        )
        set_(self, "service", service_law(self.service) if not isinstance(self.service, ServiceLaw)
             else self.service)  # fmt: skip
        set_(self, "speeds", _per_pod(self.speeds, "speeds", n, integer=False))
        if self.weights is not None and not rule.weighted:
            raise ValueError(f"weights must be None for {rule.name}: {rule.why_no_weights}; "
                             f"got weights={describe(self.weights)}")  # fmt: skip
        set_(self, "weights", _per_pod(self.weights, "weights", n, integer=True))
        dw = self.balancer.draw_weights
        set_(self, "draw_weights", self.weights if dw is None else
             _per_pod(dw, "draw_weights", n, integer=False))  # fmt: skip
        if (self.utilization is None) == (self.arrival_rate_per_s is None):
            raise ValueError("give exactly one of utilization and arrival_rate_per_s")
        if self.utilization is not None:
            rho = check_real(self.utilization, "utilization", minimum=0, lower_open=True)
            set_(self, "utilization", rho)
            set_(self, "arrival_rate_per_s", rho * float(self.capacity_per_s.sum()))
        else:
            lam = check_real(self.arrival_rate_per_s, "arrival_rate_per_s", minimum=0,
                             lower_open=True)  # fmt: skip
            set_(self, "arrival_rate_per_s", lam)
            set_(self, "utilization", lam / float(self.capacity_per_s.sum()))
        rule.check_spec(self)
        rpc = self.requests_per_connection
        per_conn = check_real(rpc, "requests_per_connection", minimum=1, allow_inf=True)
        if math.isfinite(per_conn) and per_conn != int(per_conn):
            raise ValueError(
                f"requests_per_connection must be a whole number >= 1 or math.inf; got {rpc!r}"
            )
        set_(self, "requests_per_connection", per_conn)
        if self.connections is not None and per_conn == 1:
            raise ValueError(
                "connections must be None when requests_per_connection is 1 (the client's pool "
                f"only matters when a connection carries several); got {self.connections!r}"
            )
        pool = 4 * n if self.connections is None else self.connections
        set_(self, "connections", check_int(pool, "connections", minimum=1))

    @property
    def capacity_per_s(self) -> np.ndarray:
        """Requests per second each pod completes when busy: ``concurrency * speed / E[S]``."""
        return self.concurrency * np.asarray(self.speeds) / self.service.mean_s

    @property
    def by_connection(self) -> bool:
        """Whether the policy decides once per connection rather than per request."""
        return bool(self.requests_per_connection > 1)


def _per_pod(values: Any, name: str, pods: int, *, integer: bool) -> np.ndarray:
    """Per-pod positive values of length ``pods`` (default all ones)."""
    if values is None:
        return np.ones(pods)
    return check_vector(values, name, size=pods, minimum=0, lower_open=True, integer=integer)


#: Most pods (and dispatchers) one model takes: Kubernetes' tested limit is 150,000 pods in a
#: cluster ("Considerations for large clusters", kubernetes.io/docs/setup/best-practices/
#: cluster-large/); 10**6 leaves room for what-ifs while keeping per-pod arrays small.
MAX_PODS = 1_000_000
#: Most requests one pod serves at once (nginx's default worker_connections is 512).
MAX_CONCURRENCY = 100_000


def check_run(requests: Any, replications: Any, warmup: Any) -> tuple[int, int, float]:
    """Validated run lengths: ``requests >= 2``, ``replications >= 1``, ``warmup`` in [0, 1)."""
    return (
        check_int(requests, "requests", minimum=2),
        check_int(replications, "replications", minimum=1),
        check_probability(warmup, "warmup", open_upper=True),
    )

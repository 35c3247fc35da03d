"""Dispatch policies: names, aliases and the real mechanisms they stand for.

Every policy is a named dispatcher with the semantics of a real mechanism,
read off its source:

``random`` (aliases ``iptables``, ``nftables``)
    Each new connection (or request) goes to a pod chosen uniformly at random.
    kube-proxy's iptables mode writes a chain of rules
    ``-m statistic --mode random --probability 1/(n-i)`` for ``i = 0..n-2``
    followed by an unconditional jump, so every endpoint gets exactly ``1/n``
    (kubernetes/kubernetes ``pkg/proxy/iptables/proxier.go``,
    ``writeServiceToEndpointRules`` and ``computeProbability``, which formats
    ``1/n`` with ten decimals). The nftables mode uses ``numgen random mod n``
    (``pkg/proxy/nftables/proxier.go``).
``round_robin`` (aliases ``ipvs-rr``, ``userspace``)
    One cursor per dispatcher that walks the pods in order, starting at a
    random pod (ingress-nginx ``balancer/round_robin.lua`` keeps one cursor per
    nginx worker; IPVS ``rr`` one per node). With weights the cursor follows
    nginx's smooth weighted round robin (``ngx_http_upstream_round_robin.c``,
    ``ngx_http_upstream_get_peer``: add each weight to a running score, take
    the largest, subtract the total).
``least_connections`` (aliases ``nginx-least-conn``, ``haproxy-leastconn``)
    The pod with the fewest in-flight requests relative to its weight; ties
    broken by smooth weighted round robin among the tied pods, as nginx does
    (``src/http/modules/ngx_http_upstream_least_conn_module.c``,
    ``ngx_http_upstream_get_least_conn_peer``: it compares
    ``conns * best->weight < best->conns * weight`` and, when several peers
    tie, adds ``effective_weight`` to their ``current_weight``, takes the
    largest and subtracts the tied total). Without a ``zone`` directive the
    counters live in each worker's memory: the ``zone`` directive "defines the
    name and size of the shared memory zone that keeps the group's
    configuration and run-time state that are shared between worker processes"
    (nginx ``ngx_http_upstream_module`` documentation), and enabling it "moves
    internal peer state storage to shared memory, such that load balancing
    becomes consistent among worker processes" (S. Kandaurov, nginx mailing
    list, 8 Aug 2022). So each of ``dispatchers`` workers sees only its own
    requests: ``shared_state=False``. HAProxy's ``leastconn`` ("the server with
    the lowest number of connections receives the connection; round-robin is
    performed within groups of servers of the same load", ``doc/configuration.txt``)
    runs in one process whose threads share the counters, so its alias sets
    ``shared_state=True``.
``power_of_two`` (aliases ``envoy-least-request``, ``nginx-random-two``, ``haproxy-random``)
    Draw ``choices`` pods and send to the one with the fewest in-flight
    requests (over weight). Envoy's ``LEAST_REQUEST`` with equal weights draws
    ``choice_count`` (default 2) hosts *with replacement* (``random() % n``)
    and keeps the first drawn on ties (strict ``<``; envoy
    ``source/extensions/load_balancing_policies/least_request/least_request_lb.cc``,
    ``unweightedHostPickNChoices``); its counters are shared by all worker
    threads. nginx ``random two least_conn`` draws two *distinct* peers by
    weight and keeps the second unless it has more connections over weight
    (``ngx_http_upstream_random_module.c``, ``ngx_http_upstream_get_random2_peer``);
    its counters are per worker without a ``zone``. HAProxy ``random(<draws>)``
    uses a random number as the key of its consistent-hash ring and, with
    ``<draws>`` (default 2), draws that many times and keeps "the least loaded
    of these servers" (``doc/configuration.txt``); draws are independent and
    a later draw replaces the best so far unless its ``served * prev->cur_eweight``
    is strictly greater (``src/backend.c``, ``get_server_rnd``). The ring is
    far from uniform with few servers: pass its shares
    (:func:`k8smodel.lab.haproxy_ring_shares`) as ``draw_weights``; without
    them the draws are uniform (or proportional to ``weights``).
``ewma`` (alias ``ingress-nginx-ewma``)
    ingress-nginx ``rootfs/etc/nginx/lua/balancer/ewma.lua``: pick two distinct
    random endpoints (partial Fisher-Yates shuffle, ``PICK_SET_SIZE = 2``)
    and keep the one with the strictly lower score, else the first. The score
    is a decaying average of ``upstream_connect_time + upstream_response_time``
    updated when a response completes:
    ``ewma = ewma * w + rtt * (1 - w)`` with ``w = exp(-td / DECAY_TIME)``,
    ``DECAY_TIME = 10`` s; reading a score decays it towards 0 by the time since
    its last update (``score`` calls the same function with ``rtt = 0``), so an
    endpoint that has not answered for a while looks ever better. In-flight
    requests are not counted. Scores start at 0 (an endpoint added later starts
    at the average, ``sync``). In the current file the tables ``self.ewma`` are
    plain Lua tables of the balancer object, i.e. in each worker's Lua VM, so
    each worker learns only from its own requests (``shared_state=False``;
    both revisions of the file read for this, 02ace1b and 437fbf7, do this).
    Variants of the file that take a ``resty.lock`` around shared state exist;
    ``shared_state=True`` models such a shared table.

Connection-level balancing (``requests_per_connection > 1``) applies the same
policy per new connection; least-connections and power-of-d then count open
connections per pod, as an L4 balancer (IPVS ``lc``, nginx ``stream``) does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["POLICIES", "ALIASES", "Policy", "resolve_policy", "policy_names"]

#: Canonical policy names.
POLICIES: tuple[str, ...] = (
    "random",
    "round_robin",
    "least_connections",
    "power_of_two",
    "ewma",
)


@dataclass(frozen=True)
class Policy:
    """A resolved policy: the canonical name and the options an alias implies.

    Attributes
    ----------
    name : str
        One of :data:`POLICIES`.
    alias : str
        The name the caller used.
    defaults : dict
        Options implied by the alias (``distinct``, ``shared_state``,
        ``choices``); explicit arguments to ``simulate`` win over them.
    """

    name: str
    alias: str
    defaults: dict = field(default_factory=dict)


#: Alias -> (canonical name, implied options).
ALIASES: dict[str, tuple[str, dict]] = {
    "iptables": ("random", {}),
    "nftables": ("random", {}),
    "ipvs-rr": ("round_robin", {}),
    "userspace": ("round_robin", {}),
    "nginx-least-conn": ("least_connections", {"shared_state": False}),
    "haproxy-leastconn": ("least_connections", {"shared_state": True}),
    "envoy-least-request": (
        "power_of_two",
        {"distinct": False, "shared_state": True, "choices": 2},
    ),
    "nginx-random-two": ("power_of_two", {"distinct": True, "shared_state": False, "choices": 2}),
    "haproxy-random": ("power_of_two", {"distinct": False, "shared_state": True}),
    "ingress-nginx-ewma": ("ewma", {}),
}


def policy_names() -> list[str]:
    """All accepted names: the canonical policies, then the aliases."""
    return [*POLICIES, *ALIASES]


def resolve_policy(policy: str) -> Policy:
    """Resolve a policy name or alias.

    Parameters
    ----------
    policy : str
        A name from :data:`POLICIES` or :data:`ALIASES` (case-insensitive;
        ``-`` and ``_`` are interchangeable).

    Returns
    -------
    Policy
        The canonical name and the options the alias implies.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the policies and aliases.
    TypeError
        If ``policy`` is not a string.
    """
    if not isinstance(policy, str):
        raise TypeError(f"policy must be a string; got {type(policy).__name__} {policy!r}")
    key = policy.strip().lower()
    for name in POLICIES:
        if key.replace("-", "_") == name:
            return Policy(name, policy, {})
    for alias, (name, defaults) in ALIASES.items():
        if key.replace("_", "-") == alias:
            return Policy(name, policy, dict(defaults))
    raise ValueError(
        f"policy must be one of {list(POLICIES)} or an alias "
        f"{ {a: n for a, (n, _) in ALIASES.items()} }; got {policy!r}"
    )
